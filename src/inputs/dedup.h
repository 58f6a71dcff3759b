/* dedup.h - exact duplicates among files: group those whose 128-bit hash
 * and size agree, then confirm each group byte by byte, since a hash that
 * is not cryptographic can be made to collide by whoever writes the files
 * (or forged by a worker taken over): O(n log n) compares however many
 * collide, never one per pair. */
#ifndef PARIMG_DEDUP_H
#define PARIMG_DEDUP_H

#include <stddef.h>
#include <stdint.h>

struct dedup_key {
	uint64_t hash[2];	/* XXH3-128 of the file's bytes */
	uint64_t size;		/* its length */
	size_t index;		/* which file */
};

/* How files A and B (indices) compare: <0, 0 (the same bytes) or >0, as
 * memcmp orders their bytes. A file that cannot be read is to compare
 * unequal to any other (its order then need not be consistent: the sort
 * stays within its bounds whatever CMP answers). */
typedef int (*dedup_cmp_fn)(void *ctx, size_t a, size_t b);

/*
 * Group the N files of KEYS (reordered) whose hash and size agree and
 * whose bytes CMP finds equal. GROUP (indexed by file index, NFILES
 * entries) gets 0 for a file with no duplicate, else its group's number,
 * 1, 2, ... in order of each group's first file. Each run of equal keys is
 * compared against its first file (one compare a file: the usual case, a
 * run of true duplicates, ends there); the files that differ from it are
 * merge-sorted by content and grouped by equal neighbours. At most about
 * n log2 n + 2n compares for a run of n. CMP(a, b) is asked mostly with A
 * the same file as the ask before: keep its bytes. Returns the number of
 * groups.
 */
size_t dedup_group(struct dedup_key *keys, size_t n, dedup_cmp_fn cmp, void *ctx, size_t *group,
		   size_t nfiles);

#endif
