/* labels_match.c - what "load --labels-from TABLE" costs the parent before
 * any worker starts: labels_apply() from src/inputs/labels.c (read the
 * table, match each row to an image, check the whole, number the classes),
 * the very code load runs, timed in-process on N made-up names
 * (train/img0000000.jpg ...), against the listing's own in-memory part
 * (the names made in a scrambled order and sorted naturally, as scan.c
 * sorts what readdir gave). For scripts/bench/bench_labels.sh (section t);
 * prints "rows N seconds S cpu C" (bench_time.py reads the last two).
 *
 *   labels_match N -        the listing alone
 *   labels_match N TABLE    the listing, then (timed) the labels
 *   labels_match N ARCHIVE:MEMBER
 *                           the same, the table a member of ARCHIVE, kept
 *                           while the archive is listed (timed too), as
 *                           load --labels-from ARCHIVE:MEMBER reads it */
#define _GNU_SOURCE
#include "inputs/labels.h"
#include "inputs/arch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct labels_opts o = { .root = "train" };
	struct filelist files = { 0 };
	struct dataset ds = { 0 };
	size_t n, i;
	double c0, t0;
	char name[64];

	if (argc != 3 || (n = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: labels_match N -|TABLE\n");
		return 2;
	}
	c0 = cpu_seconds();
	t0 = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "train/img%07zu.jpg", (i * 7919) % n);
		if (filelist_push(&files, strdup(name)) < 0)
			return 1;
	}
	filelist_sort(&files, ORDER_NATURAL);
	if (strcmp(argv[2], "-") != 0) {
		c0 = cpu_seconds();
		t0 = now();
		char *colon = strchr(argv[2], ':'), *member = NULL;

		o.table = argv[2];
		if (colon) {
			struct filelist none = { 0 };
			char *archive = strndup(argv[2], (size_t)(colon - argv[2]));

			if (!archive || labels_resolve_table(&o, archive, &member) < 0 || !member ||
			    arch_keep_tables(member, 0) < 0 || arch_add(&none, archive) < 0 ||
			    labels_take_kept(archive, &o) < 0 || o.nsrc != 1)
				return 1;
			filelist_free(&none);
			free(archive);
			free(member);
		} else if (labels_add_src(&o, argv[2], "", NULL, 0) < 0) {
			return 1;
		}
		if (labels_apply(&ds, &files, &o) < 0)
			return 1;
	}
	printf("rows %zu classes %zu seconds %.6f cpu %.6f\n", files.n, ds.nclasses, now() - t0,
	       cpu_seconds() - c0);
	filelist_free(&files);
	dataset_free(&ds);
	labels_free(&o);
	arch_free();
	return 0;
}
