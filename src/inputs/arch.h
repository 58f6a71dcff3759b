/* arch.h - tar and zip archives as inputs: their image members become rows
 * named ARCHIVE:MEMBER, listed with libarchive in the parent and read by the
 * workers with one pread each (see arch.c for where the bytes live). */
#ifndef PARIMG_ARCH_H
#define PARIMG_ARCH_H

#include "inputs/dataset.h"
#include "inputs/filelist.h"

#include <stddef.h>
#include <stdint.h>

struct archive;		/* <archive.h> */
struct buf;		/* common/buf.h */

/* 1 when PATH is a regular file whose first bytes are a tar, zip, gzip,
 * bzip2, xz or zstd stream's; 0 when not (or it cannot be read: the
 * caller's own open reports that). */
int arch_sniff(const char *path);

/* As arch_sniff, on a file's first N bytes. */
int arch_sniff_bytes(const unsigned char *head, size_t n);

/* --recurse-archives: a member whose bytes are an archive's is listed too,
 * as the folder its name names less the archive extension ("a/b.tar"
 * holding "c.jpg" gives "a/b/c.jpg"), at most 4 archives deep. */
void arch_set_recurse(int on);

/* Refuse members larger than BYTES (a decoder would refuse them anyway):
 * what --max-pixels allows, set before listing. Inner archives copied into
 * memory are held to it too. Everything decompressed into memory files in
 * one run (compressed tars' members, a .tar.gz inflated whole, copied inner
 * archives) is charged to one budget, PARIMG_ARCHIVE_MEMORY bytes or half
 * the memory (the cgroup's where less); the archive that would pass it is
 * refused, as is one of more than 2^24 entries and a zip whose entries
 * overlap or declare more than deflate gives from its size. */
void arch_set_member_max(uint64_t bytes);

/* A compressed tar whose members pass what the memory budget has left is
 * not refused when it does not look like a bomb (its members at most 32
 * times its size): streamed where arch_set_stream allows, else its copy
 * goes on in an unnamed file on disk
 * instead (O_TMPFILE, nothing left behind), in the directory of OUT
 * (load's output), else $TMPDIR or /var/tmp, up to half that file
 * system's free space. Memory then stays bounded whatever the archive's
 * size. Set before listing. */
void arch_set_spill_dir(const char *out);

/* load: a compressed tar whose members pass the memory budget is streamed
 * rather than spilled (without --recurse-archives): listing decompresses
 * and discards it, keeping each member's offset in a copy never made, and
 * stream.c decompresses it again while decoding, into a bounded ring. One
 * larger itself than what the budget has left streams from its first
 * byte: the listing keeps none of it. Set before listing. Returns what it
 * was. */
int arch_set_stream(int on);
/* The memory budget (PARIMG_ARCHIVE_MEMORY, or half the memory); 0 after
 * an error (printed). */
uint64_t arch_memory_budget(void);
/* 1 when some archive listed is streamed. */
int arch_any_streamed(void);
/* 1 when NAME is a member of a streamed archive, with its source, its
 * offset in the streamed copy and its length; 0 when not. */
int arch_stream_member(const char *name, int *src, uint64_t *off, uint64_t *len);

/* A libarchive reader of tars under the filters parimg reads (gzip, bzip2,
 * xz, zstd, by name: never an external program), and zip when WITH_ZIP;
 * NULL when out of memory. The listing's and the stream's (stream.c). */
struct archive *arch_reader(int with_zip);
/* The path of source SRC (an archive); a streamed one's descriptor of the
 * archive listed, which the stream reads again (whatever is at the path
 * now). */
const char *arch_source_path(int src);
int arch_source_file(int src);
/* Bind streamed source SRC's window for the next pool's workers (they
 * inherit it): its members at copy offsets OFF[k] (ascending) are at
 * POS[k] of FD (the ring, owned by the caller); N 0 and FD -1 unbind.
 * A member outside the window reads as an error. */
void arch_stream_bind(int src, int fd, const uint64_t *off, const uint64_t *pos, size_t n);

/* Add ARCHIVE's image members to FL as "ARCHIVE:MEMBER", in archive order.
 * 0, or -1 with a message printed (a bad archive, a hostile name). */
int arch_add(struct filelist *fl, const char *archive);

/* --labels on an archive: its class folders (the top-level folders, or
 * those under its one common top folder) as dataset_scan takes a
 * directory's, in the same order; or, for a webdataset shard (any KEY.cls
 * member), each image's label from its KEY.cls, the classes the numbers
 * found. 0, or -1 with a message printed. */
int arch_scan(struct dataset *ds, struct filelist *files, const char *archive,
	      enum filelist_order order);

/* A table kept while listing, for labels.h: a member read whole. */
struct arch_table {
	char *member;		/* its clean path in the archive */
	char *text;		/* its LEN bytes, NUL-ended */
	size_t len;
};

#define ARCH_TABLE_MAX (1ULL << 30)	/* a kept table's bytes, at most */

/* While listing, keep the bytes of the member MEMBER (a clean path, or
 * NULL) and, with META, of every metadata.csv and metadata.jsonl at the
 * archive's root or one folder down (Hugging Face's imagefolder), instead
 * of listing them as rows: regular members, whole, each at most
 * ARCH_TABLE_MAX bytes (a larger one, or one named twice, fails the
 * listing). With META, arch_scan lists an archive holding a metadata file
 * as arch_add does, without class folders: the metadata labels it. Set
 * before listing; arch_free forgets it. 0, or -1 (out of memory). */
int arch_keep_tables(const char *member, int meta);
/* The tables kept so far, in archive order: *N of them. Their TEXT may be
 * taken (set to NULL, then the taker's to free). */
struct arch_table *arch_kept(size_t *n);

/* 1 when NAME is a member listed by arch_add or arch_scan. */
int arch_is_member(const char *name);
/* In the parent: a descriptor to hand a worker for member NAME (the archive,
 * or the memory file holding its members), or -1 with errno; -2 when NAME
 * is no member. */
int arch_open(const char *name);
/* The descriptors a confined worker may keep (pool_task's keep), so that
 * members are read from them with no descriptor handed over: the first
 * SANDBOX_KEEP_MAX archives and memory files listed, not streamed. *N of
 * them, in an array of arch.c's own, which each worker's sandbox rewrites
 * with its own numbers (arch_read then reads those); NULL when no member
 * is read without a handover (arch_member_kept is 0 for every one). */
int *arch_keep_fds(size_t *n);
/* 1 when member NAME is read from a kept descriptor or from the inflated
 * memory the workers inherit (arch_keep_fds first): no handover. */
int arch_member_kept(const char *name);

/* Member NAME's length in bytes into *LEN: 1, or 0 if NAME is no member. */
int arch_member_len(const char *name, uint64_t *len);
/* Read member NAME into B from FD (what arch_open gave, closed here; -1:
 * the open failed with errno; -2: from this process's own descriptor).
 * 0, or -1 with the reason in WHY. */
int arch_read(const char *name, int fd, struct buf *b, char *why, size_t whylen);

/* Forget every archive listed: close their descriptors (the memory files
 * with them: the memory budget is whole again), free the table. */
void arch_free(void);

/* --- pure parts, for the unit tests --- */

/* Normalize member path P in place: "./" and empty components dropped.
 * 0; -1 for an absolute path or a ".." component (refused: it names no
 * place in the tree); -2 for an empty name or one with a line break (see
 * filelist_line_break). */
int arch_clean_name(char *p);
/* A size: decimal bytes, or with a binary suffix K, M, G or T (then
 * optionally "B" or "iB"). 0 with *V set, or -1. */
int arch_parse_size(const char *s, uint64_t *v);
/* 1 when some component of member path P starts with '.'. */
int arch_is_hidden(const char *p);
/* webdataset's key of member path P: its length, up to the first dot of
 * the last component; 0 when the last component has no dot (no field). */
size_t arch_wds_key(const char *p);
/* A .cls member's text: a decimal class number, blanks around it allowed.
 * 0 with *V set, or -1. */
int arch_parse_cls(const unsigned char *s, size_t len, int64_t *v);

#endif
