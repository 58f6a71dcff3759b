/* stats.c - medians of timings, and per-file (per-row) digests to prove that
 * every benchmark run wrote the same bytes. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
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

double stats_median_int(int *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_int);
	return n % 2 ? v[n / 2] : ((double)v[n / 2 - 1] + v[n / 2]) / 2;
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
