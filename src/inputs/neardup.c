/* neardup.c - near-duplicate groups of 64-bit hashes by multi-index
 * hashing (neardup.h): per 16-bit chunk, the hashes counting-sorted by that
 * chunk, and each hash compared with the buckets of the chunk values
 * within T / 4 bits of its own. */
#include "inputs/neardup.h"

#include <stdlib.h>
#include <string.h>

#define CHUNKS 4
#define CHUNK_BITS 16
#define NBUCKETS (1u << CHUNK_BITS)

static uint32_t find(uint32_t *parent, uint32_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];	/* path halving */
		i = parent[i];
	}
	return i;
}

/* One chunk's index: the hashes in order of the chunk's value, with their
 * original indices, and where each value's bucket starts. */
struct chunk_index {
	uint32_t *start;	/* NBUCKETS + 1 */
	uint64_t *val;		/* n: the hashes, bucket by bucket */
	uint32_t *idx;		/* n: their indices */
};

static void index_chunk(struct chunk_index *ci, const uint64_t *hash, uint32_t n, int c)
{
	uint32_t i, b;

	memset(ci->start, 0, (NBUCKETS + 1) * sizeof(uint32_t));
	for (i = 0; i < n; i++)
		ci->start[((hash[i] >> (c * CHUNK_BITS)) & (NBUCKETS - 1)) + 1]++;
	for (b = 0; b < NBUCKETS; b++)
		ci->start[b + 1] += ci->start[b];
	/* Fill by bumping a copy of the starts: start[b] ends as start[b+1]. */
	for (i = 0; i < n; i++) {
		uint32_t k = (uint32_t)(hash[i] >> (c * CHUNK_BITS)) & (NBUCKETS - 1);
		uint32_t at = ci->start[k]++;

		ci->val[at] = hash[i];
		ci->idx[at] = i;
	}
	memmove(ci->start + 1, ci->start, NBUCKETS * sizeof(uint32_t));
	ci->start[0] = 0;
}

/* Function clones for CPUs with a popcount instruction (else a table). */
#if __has_attribute(target_clones)
#define HOT __attribute__((target_clones("popcnt", "default")))
#else
#define HOT
#endif

struct search {
	uint32_t *parent;
	int *nearest;
	int t;
};

static void join(const struct search *s, uint32_t i, uint32_t j, int d)
{
	uint32_t a, b;

	if (s->nearest[i] < 0 || d < s->nearest[i])
		s->nearest[i] = d;
	if (s->nearest[j] < 0 || d < s->nearest[j])
		s->nearest[j] = d;
	a = find(s->parent, i);
	b = find(s->parent, j);
	if (a != b)
		s->parent[a > b ? a : b] = a < b ? a : b;
}

/* Compare every hash of bucket A with every one of bucket B (B > A), or
 * each pair within bucket A once (B == A); join those within T. */
HOT static void join_buckets(const struct search *s, const struct chunk_index *ci, uint32_t a,
			     uint32_t b)
{
	uint32_t p, q, a1 = ci->start[a + 1], b1 = ci->start[b + 1];

	for (p = ci->start[a]; p < a1; p++) {
		uint64_t h = ci->val[p];

		for (q = a == b ? p + 1 : ci->start[b]; q < b1; q++) {
			int d = __builtin_popcountll(h ^ ci->val[q]);

			if (d <= s->t)
				join(s, ci->idx[p], ci->idx[q], d);
		}
	}
}

/* The masks of 1 to R bits in a chunk: MASK gets them, the count is
 * returned (at most 2^16 - 1). */
static uint32_t ball_masks(int r, uint32_t *mask)
{
	uint32_t m, n = 0;

	for (m = 1; m < NBUCKETS; m++)
		if (__builtin_popcount(m) <= r)
			mask[n++] = m;
	return n;
}

/* Number the groups by their first member, in index order. */
static size_t number_groups(uint32_t *parent, uint32_t n, size_t *group, const int *nearest)
{
	size_t ngroups = 0;
	uint32_t i;

	/* A root is its group's lowest index (unions keep the lower), so it
	 * is met first; it carries its number in group[] from then on. */
	for (i = 0; i < n; i++) {
		uint32_t r = find(parent, i);

		if (nearest[i] < 0)
			group[i] = 0;
		else if (r == i)
			group[i] = ++ngroups;
		else
			group[i] = group[r];
	}
	return ngroups;
}

size_t neardup_group(const uint64_t *hash, size_t n, int t, size_t *group, int *nearest)
{
	struct chunk_index ci = { 0 };
	struct search s = { .nearest = nearest, .t = t };
	uint32_t i, k, m, f, nmask, nfull, *parent, *mask, *full;
	size_t ngroups = (size_t)-1;
	int c;

	if (n > UINT32_MAX || t < 0 || t > NEARDUP_MAX_T)
		return (size_t)-1;
	parent = malloc((n + 1) * sizeof(*parent));
	mask = malloc(NBUCKETS * sizeof(*mask));
	full = malloc(NBUCKETS * sizeof(*full));
	ci.start = malloc((NBUCKETS + 1) * sizeof(*ci.start));
	ci.val = malloc((n + 1) * sizeof(*ci.val));
	ci.idx = malloc((n + 1) * sizeof(*ci.idx));
	if (!parent || !mask || !full || !ci.start || !ci.val || !ci.idx)
		goto out;
	s.parent = parent;
	for (i = 0; i < n; i++) {
		parent[i] = i;
		nearest[i] = -1;
	}
	/* Within T of each other, two hashes differ in at most T / 4 bits of
	 * some chunk (else the four chunks would hold 4 (T / 4 + 1) > T):
	 * per chunk, each bucket is joined with itself and with the buckets
	 * above it whose value is that close. */
	nmask = ball_masks(t / CHUNKS, mask);
	for (c = 0; c < CHUNKS; c++) {
		index_chunk(&ci, hash, (uint32_t)n, c);
		for (nfull = 0, k = 0; k < NBUCKETS; k++) {
			if (ci.start[k] == ci.start[k + 1])
				continue;
			full[nfull++] = k;
			join_buckets(&s, &ci, k, k);
		}
		/* Mask by mask, so that both buckets of a pair move forward
		 * through memory together; only buckets that hold hashes. */
		for (m = 0; m < nmask; m++)
			for (f = 0; f < nfull; f++) {
				uint32_t b = full[f] ^ mask[m];

				if (b > full[f] && ci.start[b] != ci.start[b + 1])
					join_buckets(&s, &ci, full[f], b);
			}
	}
	ngroups = number_groups(parent, (uint32_t)n, group, nearest);
out:
	free(parent);
	free(mask);
	free(full);
	free(ci.start);
	free(ci.val);
	free(ci.idx);
	return ngroups;
}
