/* neardup.h - near duplicates among 64-bit perceptual hashes: every pair
 * within a Hamming distance T, found without comparing every pair
 * (multi-index hashing: the 64 bits in four 16-bit chunks; two hashes
 * within T agree to within T / 4 bits on at least one chunk, so each hash
 * need only be compared with those whose chunk is that close to its own),
 * grouped transitively (union-find). */
#ifndef PARIMG_NEARDUP_H
#define PARIMG_NEARDUP_H

#include <stddef.h>
#include <stdint.h>

#define NEARDUP_MAX_T 32	/* beyond it, most pairs of unrelated images are "near" */

/*
 * Group the N hashes at HASH (0 <= T <= NEARDUP_MAX_T): GROUP[i] gets 0 for
 * a hash within T of no other, else its group's number, 1, 2, ... in order
 * of each group's first (lowest-index) member; NEAREST[i] the distance to
 * its closest other member (-1 alone). The work is about
 * n x 4 x (keys within T/4 bits of a 16-bit chunk) x (n / 65536) compares:
 * for T < 8 and a million uniform hashes, about 70 million. Returns the
 * number of groups, or (size_t)-1 when out of memory.
 */
size_t neardup_group(const uint64_t *hash, size_t n, int t, size_t *group, int *nearest);

#endif
