/* arch_list.h - arch.c's listing of one archive, shared with arch_labels.c
 * (--labels on an archive); not for other modules. */
#ifndef PARIMG_ARCH_LIST_H
#define PARIMG_ARCH_LIST_H

#include "inputs/filelist.h"

#include <stddef.h>
#include <stdint.h>

/* One member met while listing. */
struct member {
	char *path;		/* cleaned, relative to the archive */
	uint64_t off, len;
	uint64_t clen;		/* deflated: at most this many bytes at OFF */
	int deflated;
	int in_memory;		/* IN_FILE, or where in memory (below) */
};

/* Where a member's bytes are: in the archive file, in the memory file of
 * copied members, or in the inflated .tar.gz (inflate_whole). */
enum { IN_FILE, IN_MEMFILE, IN_INFLATED };

/* What listing an archive gives. */
struct listing {
	const char *archive;
	struct member *m;	/* image members */
	size_t n, cap;
	struct filelist dirs;	/* every folder met (entries and members' parents) */
	struct member *cls;	/* webdataset .cls members: path = KEY, off = class */
	size_t ncls, clscap;
	int src, src_mem;	/* the archive's source, its memory file's */
	int src_inflated;	/* the inflated .tar.gz's */
	unsigned char *inflated;	/* it, read-only, until a source owns it */
	size_t inflated_len;	/* its mapping's length */
	uint64_t inflated_size;	/* its bytes */
	int pending;		/* the last member is deflated: its end unknown */
	int mfd;		/* the memory file, -1 until needed */
	uint64_t end;		/* its length */
	uint64_t charged;	/* of it, charged to the memory budget */
	int on_disk;		/* spilled: a file in the spill directory */
	int streamable;		/* a compressed tar: may be streamed (stream.c) */
	int streamed;		/* streamed: nothing kept, offsets of a copy */
	uint64_t disk_left;	/* then, what it may still take there */
	uint64_t csize;		/* the archive's own size (the spill's bomb test) */
	uint64_t entries;	/* entries met, at every level */
};

/* List ARCHIVE into LS (zeroed first), its members' bytes made readable for
 * arch_read. 0, or -1 with a message printed. */
int arch_list(struct listing *ls, const char *archive);
void arch_listing_free(struct listing *ls);
/* Enter member M of LS into the member table under its row name
 * "ARCHIVE:PATH", returned malloc'd; NULL (message printed) for a duplicate
 * name or out of memory. */
char *arch_enter(const struct listing *ls, const struct member *m);

#endif
