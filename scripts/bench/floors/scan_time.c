/* scan_time.c - how long "load --labels" takes to list and sort a tree of
 * class folders, alone: dataset_scan() from src/dataset.c, the very code
 * load runs, timed in-process. For scripts/bench/bench.sh (section j); prints
 * "rows N seconds S cpu C" (bench_time.py reads the last two).
 *
 *   scan_time [-r name|natural] DIR */
#define _GNU_SOURCE
#include "inputs/dataset.h"

#include <stdio.h>
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

int main(int argc, char **argv)
{
	enum filelist_order order = ORDER_NATURAL;
	struct filelist files = { 0 };
	struct dataset ds = { 0 };
	struct timespec t0, t1;
	double c0;

	if (argc == 4 && strcmp(argv[1], "-r") == 0) {
		order = strcmp(argv[2], "name") == 0 ? ORDER_NAME : ORDER_NATURAL;
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: scan_time [-r name|natural] DIR\n");
		return 2;
	}
	c0 = cpu_seconds();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (dataset_scan(&ds, &files, argv[1], order) < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("rows %zu classes %zu seconds %.6f cpu %.6f\n", files.n, ds.nclasses,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       cpu_seconds() - c0);
	filelist_free(&files);
	dataset_free(&ds);
	return 0;
}
