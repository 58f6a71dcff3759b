/* dedup.c - duplicate groups from per-file hashes (computed by check's
 * workers) and a byte compare of the candidates (by the caller's SAME). */
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

/* Split the run KEYS[0..N) of equal hashes into groups of equal bytes:
 * each file not yet placed leads a group of the later ones SAME matches
 * (almost always one group: a second only on a hash collision). Group
 * numbers from *NEXT on, provisional; a leader left alone gets none. */
static void split_run(const struct dedup_key *keys, size_t n, dedup_same_fn same, void *ctx,
		      size_t *group, size_t *next)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t lead = keys[i].index, members = 0;

		if (group[lead])
			continue;
		for (j = i + 1; j < n; j++)
			if (!group[keys[j].index] && same(ctx, lead, keys[j].index) == 1) {
				group[keys[j].index] = *next;
				members++;
			}
		if (members)
			group[lead] = (*next)++;
	}
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

size_t dedup_group(struct dedup_key *keys, size_t n, dedup_same_fn same, void *ctx, size_t *group,
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
			split_run(keys + i, j - i, same, ctx, group, &next);
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
