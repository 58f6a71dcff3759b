/* resize_bench.c - time parimg's resampler alone on one decoded image, the
 * counterpart of timing Pillow's Image.resize() on the same pixels (see the
 * resize section of bench.sh). Built against build/resize.o.
 *
 *   resize_bench RAW W H C TW TH FILTER [FIT [REPS]]
 *
 * RAW holds W x H pixels of C 8-bit channels. Prints the median, min and
 * max milliseconds of one call over REPS rounds (default 15) of enough calls
 * to last about 50 ms each, and the CPU milliseconds per call. */
#include "image/resize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int lookup(const char *s, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	fprintf(stderr, "resize_bench: unknown name '%s'\n", s);
	exit(2);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct resize_opts o = { 0 };
	struct resize_ctx ctx = { 0 };
	int w, h, c, reps, calls = 1, i, r;
	double t[101], cpu0, cpu = 0;
	unsigned char *src, *dst;
	size_t n;
	FILE *f;

	if (argc < 8) {
		fprintf(stderr, "usage: resize_bench RAW W H C TW TH FILTER [FIT [REPS]]\n");
		return 2;
	}
	w = atoi(argv[2]);
	h = atoi(argv[3]);
	c = atoi(argv[4]);
	o.w = atoi(argv[5]);
	o.h = atoi(argv[6]);
	o.filter = (enum resize_filter)lookup(argv[7], resize_filter_names);
	o.fit = argc > 8 ? (enum resize_fit)lookup(argv[8], resize_fit_names) : RESIZE_STRETCH;
	reps = argc > 9 ? atoi(argv[9]) : 15;
	if (reps < 1 || reps > 101 || w < 1 || h < 1 || c < 1 || c > 4 || o.w < 1 || o.h < 1)
		return 2;
	n = (size_t)w * h * c;
	src = malloc(n);
	dst = malloc((size_t)o.w * o.h * c);
	if (!src || !dst || !(f = fopen(argv[1], "rb")) || fread(src, 1, n, f) != n) {
		perror(argv[1]);
		return 1;
	}
	fclose(f);
	/* Calibrate: enough calls for about 50 ms (the plan is made here). */
	for (;;) {
		double t0 = now(CLOCK_MONOTONIC);

		for (i = 0; i < calls; i++)
			resize_image(&ctx, &o, src, w, h, (size_t)w * c, c, 0, dst, (size_t)o.w * c);
		if (now(CLOCK_MONOTONIC) - t0 > 0.05 || calls > 1 << 20)
			break;
		calls *= 2;
	}
	for (r = 0; r < reps; r++) {
		double t0 = now(CLOCK_MONOTONIC);

		cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
		for (i = 0; i < calls; i++)
			if (resize_image(&ctx, &o, src, w, h, (size_t)w * c, c, 0, dst,
					 (size_t)o.w * c) < 0)
				return 1;
		t[r] = (now(CLOCK_MONOTONIC) - t0) / calls * 1e3;
		cpu += (now(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / calls * 1e3;
	}
	qsort(t, (size_t)reps, sizeof(t[0]), cmp);
	printf("%.4f %.4f %.4f %.4f\n", t[reps / 2], t[0], t[reps - 1], cpu / reps);
	resize_ctx_free(&ctx);
	free(src);
	free(dst);
	return 0;
}
