/* check_near.c - "parimg check --near": the near-duplicate groups of the
 * images the workers hashed (imagehash's phash, image/phash.c), found by
 * inputs/neardup.c without comparing every pair, and their parts of the
 * report: a table section, a JSON key, CSV columns. */
#include "cmd/check.h"
#include "inputs/neardup.h"
#include "image/phash.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>

/* Group the hashed images; K->sum.near_order lists the grouped files by
 * group, each group's in row order (a counting sort: no scan per group). */
void check_near_find(struct check *k)
{
	struct check_summary *s = &k->sum;
	size_t n = k->files.n, m = 0, i, g, *at, *row;
	uint64_t *hash;
	size_t *group;
	int *nearest;

	s->near_group = calloc(n + 1, sizeof(*s->near_group));
	s->near_nearest = malloc((n + 1) * sizeof(*s->near_nearest));
	hash = calloc(n + 1, sizeof(*hash));
	row = malloc((n + 1) * sizeof(*row));
	group = malloc((n + 1) * sizeof(*group));
	nearest = malloc((n + 1) * sizeof(*nearest));
	if (!s->near_group || !s->near_nearest || !hash || !row || !group || !nearest)
		die("out of memory");
	for (i = 0; i < n; i++) {
		s->near_nearest[i] = -1;
		/* A broken file's flags keep F_HASHED alone (validate). */
		if (k->reasons[i] || !(k->recs[i].flags & F_PHASHED))
			continue;
		hash[m] = k->recs[i].phash;
		row[m++] = i;
	}
	s->near_ngroups = neardup_group(hash, m, k->near_t, group, nearest);
	if (s->near_ngroups == (size_t)-1)
		die("out of memory");
	for (i = 0; i < m; i++) {
		s->near_group[row[i]] = group[i];
		s->near_nearest[row[i]] = nearest[i];
	}
	at = calloc(s->near_ngroups + 2, sizeof(*at));
	if (!at)
		die("out of memory");
	for (i = 0; i < n; i++)
		at[s->near_group[i] + 1] += s->near_group[i] != 0;
	for (g = 1; g <= s->near_ngroups; g++)
		at[g + 1] += at[g];
	s->near_members = at[s->near_ngroups + 1];
	s->near_order = malloc((s->near_members + 1) * sizeof(*s->near_order));
	if (!s->near_order)
		die("out of memory");
	for (i = 0; i < n; i++)
		if (s->near_group[i])
			s->near_order[at[s->near_group[i]]++] = i;
	free(at);
	free(hash);
	free(row);
	free(group);
	free(nearest);
}

void check_near_free(struct check *k)
{
	free(k->sum.near_group);
	free(k->sum.near_nearest);
	free(k->sum.near_order);
}

/* Group G's members: near_order[*FIRST, *END). Groups are numbered in order
 * of their first member, as near_order is sorted. */
static void members(const struct check *k, size_t *pos, size_t *end)
{
	const struct check_summary *s = &k->sum;
	size_t g = s->near_group[s->near_order[*pos]];

	for (*end = *pos; *end < s->near_members && s->near_group[s->near_order[*end]] == g;)
		(*end)++;
}

static int span_cross_class(const struct check *k, size_t from, size_t end)
{
	size_t p;

	if (!k->labels)
		return 0;
	for (p = from + 1; p < end; p++)
		if (k->ds.labels[k->sum.near_order[p]] != k->ds.labels[k->sum.near_order[from]])
			return 1;
	return 0;
}

/* The phash distance of file I from its group's first member F. */
static int dist(const struct check *k, size_t f, size_t i)
{
	return phash_distance(k->recs[f].phash, k->recs[i].phash);
}

void check_near_table(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	size_t pos, end, p;

	printf("\nnear duplicates (phash within %d bits): %zu group%s\n", k->near_t,
	       s->near_ngroups, s->near_ngroups == 1 ? "" : "s");
	for (pos = 0; pos < s->near_members; pos = end) {
		size_t f = s->near_order[pos];

		members(k, &pos, &end);
		printf("near group %zu%s:\n", s->near_group[f],
		       span_cross_class(k, pos, end) ? " (across classes)" : "");
		for (p = pos; p < end; p++) {
			size_t i = s->near_order[p];

			printf("  %s  (%d from the first, nearest %d)\n",
			       check_printable(k->files.paths[i]), dist(k, f, i), s->near_nearest[i]);
		}
	}
}

/* null without --near; else the threshold and the groups, each member
 * with its distances and hashes (imagehash's hex strings). */
void check_near_json(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	size_t pos, end, p;

	if (!k->near) {
		printf("null");
		return;
	}
	printf("{\"hash\":\"phash\",\"distance\":%d,\"groups\":[", k->near_t);
	for (pos = 0; pos < s->near_members; pos = end) {
		size_t f = s->near_order[pos];

		members(k, &pos, &end);
		printf("%s{\"cross_class\":%s,\"members\":[", pos ? "," : "",
		       span_cross_class(k, pos, end) ? "true" : "false");
		for (p = pos; p < end; p++) {
			size_t i = s->near_order[p];

			printf("%s{\"path\":", p > pos ? "," : "");
			check_json_str(k->files.paths[i]);
			printf(",\"distance\":%d,\"nearest\":%d,\"phash\":\"%016llx\","
			       "\"dhash\":\"%016llx\"}", dist(k, f, i), s->near_nearest[i],
			       (unsigned long long)k->recs[i].phash,
			       (unsigned long long)k->recs[i].dhash);
		}
		printf("]}");
	}
	printf("]}");
}

/* File I's near_group, dhash and phash columns (empty without --near or
 * for a broken file). */
void check_near_csv(const struct check *k, size_t i)
{
	const struct check_rec *r = &k->recs[i];

	putchar(',');
	if (k->near && k->sum.near_group[i])
		printf("%zu", k->sum.near_group[i]);
	if (k->near && !k->reasons[i] && (r->flags & F_PHASHED))
		printf(",%016llx,%016llx", (unsigned long long)r->dhash,
		       (unsigned long long)r->phash);
	else
		printf(",,");
}
