/* stats.c - medians of timings, and per-file (per-row) digests to prove that
 * every benchmark run wrote the same bytes. */
#include "common/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

void stats_compute(double *t, size_t n, struct stats *s)
{
	qsort(t, n, sizeof(*t), cmp_double);
	s->min = t[0];
	s->max = t[n - 1];
	s->median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

static void swap_int(int *a, int *b)
{
	int t = *a;

	*a = *b;
	*b = t;
}

/*
 * Reorder the N ints at V so that V[K] is the one a sort would put there,
 * with none greater before it and none smaller after it: Hoare's selection
 * with a median-of-three pivot, linear on average. Inputs that defeat the
 * pivot (past 64 rounds) are sorted instead, so the worst case stays
 * n log n.
 */
static void select_kth(int *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	int rounds = 0;

	while (lo < hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		int pivot;

		if (++rounds > 64) {
			qsort(v + lo, (size_t)(hi - lo + 1), sizeof(*v), cmp_int);
			return;
		}
		if (v[mid] < v[lo])
			swap_int(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap_int(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap_int(&v[hi], &v[mid]);
		pivot = v[mid];
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
				swap_int(&v[i++], &v[j--]);
		}
		/* Now v[lo..j] <= pivot <= v[i..hi], and between them == pivot. */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return;
	}
}

double stats_median_int(int *v, size_t n)
{
	size_t k = n / 2, i;
	int below;

	select_kth(v, n, k);
	if (n % 2)
		return v[k];
	/* Even: the other middle one is the largest of those before V[K]. */
	for (below = v[0], i = 1; i < k; i++)
		if (v[i] > below)
			below = v[i];
	return ((double)below + v[k]) / 2;
}

uint64_t stats_digest(const void *buf, size_t len)
{
	return (uint64_t)len << 32 | libdeflate_crc32(0, buf, len);
}

int stats_digest_file(const char *path, uint64_t *out)
{
	unsigned char buf[65536];
	uint32_t crc = 0;
	uint64_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			errno = e;
			return -1;
		}
		crc = libdeflate_crc32(crc, buf, (size_t)n);
		len += (uint64_t)n;
	}
	close(fd);
	*out = len << 32 | crc;
	return 0;
}

long long stats_first_diff(const uint64_t *a, const uint64_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (long long)i;
	return -1;
}
