/* dedup.c - duplicate groups from per-file hashes (computed by check's
 * workers) and a byte compare of the candidates (by the caller's CMP). */
#include "inputs/dedup.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

static int cmp_key(const void *x, const void *y)
{
	const struct dedup_key *a = x, *b = y;

	if (a->hash[1] != b->hash[1])
		return a->hash[1] < b->hash[1] ? -1 : 1;
	if (a->hash[0] != b->hash[0])
		return a->hash[0] < b->hash[0] ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

static int same_key(const struct dedup_key *a, const struct dedup_key *b)
{
	return a->hash[0] == b->hash[0] && a->hash[1] == b->hash[1] && a->size == b->size;
}

/* Merge sort IDX[0..N) (file indices) by their bytes, bottom up, through
 * TMP (N entries): n log2 n compares at most, and whatever CMP answers,
 * every index stays (no qsort: glibc's may misbehave on an inconsistent
 * order, and its worst case is not promised). */
static void sort_files(size_t *idx, size_t *tmp, size_t n, dedup_cmp_fn cmp, void *ctx)
{
	size_t w, i;

	for (w = 1; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			size_t mid = i + w < n ? i + w : n, hi = n - i > 2 * w ? i + 2 * w : n;
			size_t a = i, b = mid, k = i;

			while (a < mid && b < hi)
				tmp[k++] = cmp(ctx, idx[a], idx[b]) <= 0 ? idx[a++] : idx[b++];
			while (a < mid)
				tmp[k++] = idx[a++];
			while (b < hi)
				tmp[k++] = idx[b++];
		}
		memcpy(idx, tmp, n * sizeof(*idx));
	}
}

/* Give files IDX[0..N) group *NEXT when there are two or more. */
static void mark(const size_t *idx, size_t n, size_t *group, size_t *next)
{
	size_t i;

	if (n < 2)
		return;
	for (i = 0; i < n; i++)
		group[idx[i]] = *next;
	(*next)++;
}

/*
 * Split the run KEYS[0..N) of equal hashes into groups of equal bytes. Its
 * first file (the lowest index) is compared with every other: a run of
 * true duplicates, the usual case, is one group after N - 1 compares. The
 * files that differ from it (a hash collision, or hashes forged) are sorted
 * by content and grouped by equal neighbours: O(m log m), where asking each
 * of them against each other would be m(m - 1)/2 whole-file compares. Group
 * numbers from *NEXT on, provisional.
 */
static void split_run(const struct dedup_key *keys, size_t n, dedup_cmp_fn cmp, void *ctx,
		      size_t *group, size_t *next)
{
	size_t *same = malloc(n * sizeof(*same)), *rest = malloc(n * sizeof(*rest));
	size_t *tmp = NULL, i, j, ns = 0, nr = 0;

	if (!same || !rest)
		die("out of memory");
	same[ns++] = keys[0].index;
	for (i = 1; i < n; i++) {
		if (cmp(ctx, keys[0].index, keys[i].index) == 0)
			same[ns++] = keys[i].index;
		else
			rest[nr++] = keys[i].index;
	}
	mark(same, ns, group, next);
	if (nr > 1) {
		if (!(tmp = malloc(nr * sizeof(*tmp))))
			die("out of memory");
		sort_files(rest, tmp, nr, cmp, ctx);
		for (i = 0; i < nr; i = j) {
			for (j = i + 1; j < nr && cmp(ctx, rest[i], rest[j]) == 0; j++)
				;
			mark(rest + i, j - i, group, next);
		}
	}
	free(same);
	free(rest);
	free(tmp);
}

/*
 * Move to the front of KEYS the ones whose hash and size another key shares
 * (the candidates), in one pass over an open-addressing table on the hash's
 * low half, which is already uniform: the sort that follows then sees only
 * them, not every file. Returns how many.
 */
static size_t candidates(struct dedup_key *keys, size_t n)
{
	size_t cap = 16, mask, i, m = 0;
	size_t *slot;
	unsigned char *twin;

	while (cap < 2 * n)
		cap *= 2;
	mask = cap - 1;
	slot = malloc(cap * sizeof(*slot));
	twin = calloc(n + 1, 1);
	if (!slot || !twin)
		die("out of memory");
	memset(slot, 0xff, cap * sizeof(*slot));	/* SIZE_MAX: empty */
	for (i = 0; i < n; i++) {
		size_t h = (size_t)keys[i].hash[0] & mask;

		while (slot[h] != SIZE_MAX && !same_key(&keys[slot[h]], &keys[i]))
			h = (h + 1) & mask;
		if (slot[h] == SIZE_MAX)
			slot[h] = i;
		else
			twin[slot[h]] = twin[i] = 1;
	}
	for (i = 0; i < n; i++) {
		if (twin[i]) {
			struct dedup_key t = keys[m];

			keys[m++] = keys[i];
			keys[i] = t;
		}
	}
	free(slot);
	free(twin);
	return m;
}

size_t dedup_group(struct dedup_key *keys, size_t n, dedup_cmp_fn cmp, void *ctx, size_t *group,
		   size_t nfiles)
{
	size_t i, j, next = 1, count = 0, *renum;

	memset(group, 0, nfiles * sizeof(*group));
	n = candidates(keys, n);
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_key(&keys[i], &keys[j]); j++)
			;
		if (j - i > 1)
			split_run(keys + i, j - i, cmp, ctx, group, &next);
	}
	/* Number the groups in the order of their first files. */
	renum = calloc(next, sizeof(*renum));
	if (!renum)
		die("out of memory");
	for (i = 0; i < nfiles; i++) {
		if (!group[i])
			continue;
		if (!renum[group[i]])
			renum[group[i]] = ++count;
		group[i] = renum[group[i]];
	}
	free(renum);
	return count;
}
