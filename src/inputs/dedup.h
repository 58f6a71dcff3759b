/* dedup.h - exact duplicates among files: group those whose 128-bit hash
 * and size agree, then confirm each group byte by byte, since a hash that
 * is not cryptographic can be made to collide by whoever writes the files. */
#ifndef PARIMG_DEDUP_H
#define PARIMG_DEDUP_H

#include <stddef.h>
#include <stdint.h>

struct dedup_key {
	uint64_t hash[2];	/* XXH3-128 of the file's bytes */
	uint64_t size;		/* its length */
	size_t index;		/* which file */
};

/* Whether files A and B (indices) hold the same bytes: 1 yes, 0 no. */
typedef int (*dedup_same_fn)(void *ctx, size_t a, size_t b);

/*
 * Group the N files of KEYS (reordered) whose hash and size agree and
 * whose bytes SAME confirms equal. GROUP (indexed by file index, NFILES
 * entries) gets 0 for a file with no duplicate, else its group's number,
 * 1, 2, ... in order of each group's first file. SAME(a, b) is asked with
 * A the lowest index of a group being formed and B a later one. Returns
 * the number of groups.
 */
size_t dedup_group(struct dedup_key *keys, size_t n, dedup_same_fn same, void *ctx, size_t *group,
		   size_t nfiles);

#endif
