/* check_leaks.c - "parimg check A B ...": leakage between inputs (train/
 * and val/, say), or with --split between the parts load --split would cut.
 * Each file remembers which INPUT (or part) it came from; a file in an
 * exact, pixel or near-duplicate group with a file of an earlier input is
 * a leak, listed with the kind of its group and that earlier file. */
#include "cmd/check.h"
#include "inputs/arch.h"
#include "inputs/filelist.h"
#include "inputs/scan.h"
#include "common/err.h"
#include "common/rng.h"
#include "common/split.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const kind_names[] = { "exact", "pixel", "near" };

struct owner {
	const char *path;	/* the pointer scan_add made: it survives the sort */
	size_t input;
};

static int cmp_owner(const void *pa, const void *pb)
{
	const struct owner *a = pa, *b = pb;

	return (a->path > b->path) - (a->path < b->path);
}

int check_leaks_collect(struct check *k, char *const *args, int n, const struct scan_opts *o)
{
	struct owner *own = NULL, key;
	size_t i, j, before;
	int a;

	arch_set_member_max(o->member_max);
	for (a = 0; a < n; a++) {
		before = k->files.n;
		if (scan_add(&k->files, args[a], o->recursive) < 0)
			return -1;
		own = realloc(own, (k->files.n + 1) * sizeof(*own));
		if (!own)
			die("out of memory");
		for (j = before; j < k->files.n; j++)
			own[j] = (struct owner){ k->files.paths[j], (size_t)a };
	}
	if (k->files.n == 0) {
		/* scan_collect says why, as for any input without images. */
		free(own);
		return scan_collect(&k->files, &k->ds, args, n, o);
	}
	qsort(own, k->files.n, sizeof(*own), cmp_owner);
	filelist_sort(&k->files, o->order);
	k->origin = malloc(k->files.n * sizeof(*k->origin));
	if (!k->origin)
		die("out of memory");
	for (i = 0; i < k->files.n; i++) {
		struct owner *f;

		key.path = k->files.paths[i];
		f = bsearch(&key, own, k->files.n, sizeof(*own), cmp_owner);
		k->origin[i] = f ? f->input : 0;
	}
	k->inputs = args;
	k->ninputs = (size_t)n;
	free(own);
	return 0;
}

/*
 * --split: each file's part, as load cuts it. load sorts the rows as check
 * does (scan_collect, the same order), shuffles them with dataset_shuffle
 * (row p of the shuffled order is file PERM[p] of rng_permutation's), and
 * gives the parts consecutive ranges of split_sizes' sizes, in the order
 * given. check's own rows stay in sorted order; only the parts follow.
 */
void check_leaks_split(struct check *k)
{
	size_t n = k->files.n, sizes[SPLIT_MAX], *perm = NULL, p, end;
	int part;

	k->origin = malloc((n + 1) * sizeof(*k->origin));
	if (k->shuffle)
		perm = malloc((n + 1) * sizeof(*perm));
	if (!k->origin || (k->shuffle && !perm))
		die("out of memory");
	if (perm)
		rng_permutation(k->seed, perm, n);
	split_sizes(&k->split, n, sizes);
	for (p = 0, part = 0, end = sizes[0]; p < n; p++) {
		while (p >= end)
			end += sizes[++part];
		k->origin[perm ? perm[p] : p] = (size_t)part;
	}
	for (part = 0; part < k->split.n; part++)
		k->part_names[part] = k->split.name[part];
	k->inputs = k->part_names;
	k->ninputs = (size_t)k->split.n;
	free(perm);
}

/* For one kind's groups (GROUP[i], NG of them): each group's earliest
 * input and a file of it (FIRST); then each file of a later input in one
 * is a leak of KIND, unless a stronger kind has it already. */
static void leaks_of(struct check *k, const size_t *group, size_t ng, int kind)
{
	size_t *low = malloc((ng + 1) * sizeof(*low)), *first = malloc((ng + 1) * sizeof(*first));
	size_t i, g;

	if (!low || !first)
		die("out of memory");
	for (g = 0; g <= ng; g++)
		low[g] = SIZE_MAX;
	for (i = 0; i < k->files.n; i++)
		if ((g = group[i]) && k->origin[i] < low[g]) {
			low[g] = k->origin[i];
			first[g] = i;
		}
	for (i = 0; i < k->files.n; i++)
		if ((g = group[i]) && k->origin[i] > low[g] && k->leak_kind[i] < 0) {
			k->leak_kind[i] = kind;
			k->leak_with[i] = first[g];
			k->sum.leaks++;
		}
	free(low);
	free(first);
}

void check_leaks_find(struct check *k)
{
	size_t i;

	if (!k->origin)
		return;
	k->leak_kind = malloc(k->files.n * sizeof(*k->leak_kind));
	k->leak_with = malloc(k->files.n * sizeof(*k->leak_with));
	if (!k->leak_kind || !k->leak_with)
		die("out of memory");
	for (i = 0; i < k->files.n; i++)
		k->leak_kind[i] = -1;
	if (!k->no_dups) {
		leaks_of(k, k->sum.group, k->sum.ngroups, 0);
		leaks_of(k, k->sum.pix_group, k->sum.pix_ngroups, 1);
	}
	if (k->near)
		leaks_of(k, k->sum.near_group, k->sum.near_ngroups, 2);
}

void check_leaks_free(struct check *k)
{
	free(k->origin);
	free(k->leak_kind);
	free(k->leak_with);
}

void check_leaks_table(const struct check *k)
{
	size_t i;

	if (!k->origin)
		return;
	printf("\nleaks between %s: %zu file%s\n", k->split.n ? "split parts" : "inputs",
	       k->sum.leaks, k->sum.leaks == 1 ? "" : "s");
	for (i = 0; i < k->files.n; i++) {
		if (k->leak_kind[i] < 0)
			continue;
		printf("  %s", check_printable(k->files.paths[i]));
		if (k->split.n)
			printf(" [%s]", k->inputs[k->origin[i]]);
		printf("  (%s duplicate of %s", kind_names[k->leak_kind[i]],
		       check_printable(k->files.paths[k->leak_with[i]]));
		if (k->split.n)
			printf(" [%s]", k->inputs[k->origin[k->leak_with[i]]]);
		printf(")\n");
	}
}

/* null with one input; else each leak with its input (with --split its
 * part), kind and the file of the earlier input (or part) it repeats. */
void check_leaks_json(const struct check *k)
{
	const char *in = k->split.n ? "part" : "input";
	size_t i;
	int first = 1;

	if (!k->origin) {
		printf("null");
		return;
	}
	putchar('[');
	for (i = 0; i < k->files.n; i++) {
		if (k->leak_kind[i] < 0)
			continue;
		printf("%s{\"path\":", first ? "" : ",");
		check_json_str(k->files.paths[i]);
		printf(",\"%s\":", in);
		check_json_str(k->inputs[k->origin[i]]);
		printf(",\"kind\":\"%s\",\"of\":", kind_names[k->leak_kind[i]]);
		check_json_str(k->files.paths[k->leak_with[i]]);
		printf(",\"of_%s\":", in);
		check_json_str(k->inputs[k->origin[k->leak_with[i]]]);
		putchar('}');
		first = 0;
	}
	putchar(']');
}
