/* stats_test.c - unit tests of what bench computes from its runs (stats.h):
 * median, min and max, and the per-file digests that catch a run whose output
 * differs from the first. */
#include "common/stats.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(stats, median_of_odd_count)
{
	double t[] = { 0.5, 0.1, 0.3, 0.9, 0.2 };
	struct stats s;

	stats_compute(t, 5, &s);
	cr_assert_float_eq(s.median, 0.3, 1e-12);
	cr_assert_float_eq(s.min, 0.1, 1e-12);
	cr_assert_float_eq(s.max, 0.9, 1e-12);
}

Test(stats, median_of_even_count_is_the_mean_of_the_middle_two)
{
	double t[] = { 4.0, 1.0, 3.0, 2.0 };
	struct stats s;

	stats_compute(t, 4, &s);
	cr_assert_float_eq(s.median, 2.5, 1e-12);
	cr_assert_float_eq(s.min, 1.0, 1e-12);
	cr_assert_float_eq(s.max, 4.0, 1e-12);
}

Test(stats, single_run)
{
	double t[] = { 0.042 };
	struct stats s;

	stats_compute(t, 1, &s);
	cr_assert_float_eq(s.median, 0.042, 1e-12);
	cr_assert_float_eq(s.min, 0.042, 1e-12);
	cr_assert_float_eq(s.max, 0.042, 1e-12);
}

Test(stats, digest_sees_content_and_length)
{
	unsigned char a[100], b[100];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	cr_assert_eq(stats_digest(a, 100), stats_digest(b, 100));
	b[99] ^= 1;
	cr_assert_neq(stats_digest(a, 100), stats_digest(b, 100), "one flipped bit");
	cr_assert_neq(stats_digest(a, 100), stats_digest(a, 99), "one byte fewer");
	cr_assert_neq(stats_digest(a, 0), stats_digest(a, 1));
}

Test(stats, digest_file_equals_digest_of_its_bytes)
{
	char path[] = "/tmp/parimg-stats-XXXXXX";
	unsigned char buf[200000];
	uint64_t d;
	size_t i;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	cr_assert_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	cr_assert_eq(stats_digest_file(path, &d), 0);
	cr_assert_eq(d, stats_digest(buf, sizeof(buf)), "read in 64 KiB pieces, same CRC");
	unlink(path);
	cr_assert_eq(stats_digest_file(path, &d), -1, "a missing file is an error");
}

Test(stats, first_diff_finds_the_first_mismatch)
{
	uint64_t a[6] = { 1, 2, 3, 4, 5, 6 }, b[6];

	memcpy(b, a, sizeof(b));
	cr_assert_eq(stats_first_diff(a, b, 6), -1, "equal runs");
	cr_assert_eq(stats_first_diff(a, b, 0), -1, "nothing to compare");
	b[4] = 50;
	cr_assert_eq(stats_first_diff(a, b, 6), 4);
	b[1] = 20;
	cr_assert_eq(stats_first_diff(a, b, 6), 1, "the first, not the last");
	b[0] = 0;
	cr_assert_eq(stats_first_diff(a, b, 6), 0);
}

static int cmp_ints(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

Test(stats, median_of_integers)
{
	int odd[] = { 640, 1, 48, 48, 7 }, even[] = { 3, 1, 4, 2 }, one[] = { 9 };
	int big[] = { 2147483647, 2147483646 };

	cr_assert_float_eq(stats_median_int(odd, 5), 48.0, 1e-12);
	cr_assert_float_eq(stats_median_int(even, 4), 2.5, 1e-12);
	cr_assert_float_eq(stats_median_int(one, 1), 9.0, 1e-12);
	/* The middle two added without overflowing an int. */
	cr_assert_float_eq(stats_median_int(big, 2), 2147483646.5, 1e-3);
}

/* Against a sort, on random values, many duplicates, sorted and reversed
 * runs (the inputs a selection's pivot can stumble on), odd and even N. */
Test(stats, median_of_integers_equals_sorting)
{
	static int v[1001], w[1001];
	unsigned seed = 12345;
	int kind;
	size_t n, i;

	for (kind = 0; kind < 5; kind++) {
		for (n = 1; n <= 1001; n += 37 + (n & 1)) {
			double want;

			for (i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				v[i] = kind == 0 ? (int)(seed >> 8) : kind == 1 ? (int)(seed >> 28)
				       : kind == 2 ? (int)i : kind == 3 ? (int)(n - i) : 7;
				w[i] = v[i];
			}
			qsort(w, n, sizeof(int), cmp_ints);
			want = n % 2 ? w[n / 2] : ((double)w[n / 2 - 1] + w[n / 2]) / 2;
			cr_assert_float_eq(stats_median_int(v, n), want, 1e-9, "kind %d n %zu", kind,
					   n);
		}
	}
}
