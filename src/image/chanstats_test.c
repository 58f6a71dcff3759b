/* chanstats_test.c - unit tests of --stats's sums (chanstats.h): exact
 * integer sums on the 16-bit scale, merging in any order, the checks on
 * what a worker or a file says, the figures, and the JSON round trip. */
#include "image/chanstats.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(chanstats, sums_on_the_16_bit_scale)
{
	uint8_t p8[] = { 0, 10, 255, 1, 20, 255 };	/* 2 pixels of 3 */
	uint16_t p16[] = { 257, 2570, 65535 };
	struct chanstats_acc a = { 0 }, b = { 0 };

	chanstats_add(&a, p8, 2, 3, 0);
	cr_assert_eq(a.pixels, 2);
	cr_assert(a.sum[0] == 257 && a.sum[1] == 30 * 257 && a.sum[2] == 2 * 65535);
	cr_assert(a.sq[1] == (unsigned __int128)(100 + 400) * 257 * 257);
	cr_assert(a.min[0] == 0 && a.max[0] == 257 && a.min[2] == 65535);
	/* An 8-bit sample v and a 16-bit 257 v are the same [0,1] value. */
	chanstats_add(&b, p8, 1, 3, 0);
	chanstats_add(&b, p16, 1, 3, 1);
	cr_assert(b.sum[0] == 257 && b.sum[1] == 2570 + 2570 && b.sum[2] == 2 * 65535);
}

Test(chanstats, large_rows_are_summed_in_chunks)
{
	size_t n = ((size_t)48 << 16) + 3, i;	/* past one chunk of 32-bit lanes */
	uint8_t *p = malloc(n);
	struct chanstats_acc a = { 0 };

	cr_assert(p);
	for (i = 0; i < n; i++)
		p[i] = 255;
	chanstats_add(&a, p, n, 1, 0);
	cr_assert(a.pixels == n && a.sum[0] == (unsigned __int128)n * 65535);
	cr_assert(a.sq[0] == (unsigned __int128)n * 65535 * 65535);
	/* As 3 channels: n / 3 pixels, the last channel's min from the zeros. */
	p[2] = 0;
	memset(&a, 0, sizeof(a));
	chanstats_add(&a, p, n / 3, 3, 0);
	cr_assert(a.pixels == n / 3 && a.sum[1] == (unsigned __int128)(n / 3) * 65535);
	cr_assert(a.sum[2] == (unsigned __int128)(n / 3 - 1) * 65535);
	cr_assert(a.min[2] == 0 && a.min[1] == 65535 && a.max[2] == 65535);
	free(p);
}

Test(chanstats, merge_in_any_order_is_the_same)
{
	uint8_t img[4][6] = { { 1, 2, 3, 4, 5, 6 }, { 200, 0, 9, 9, 9, 9 },
			      { 7, 7, 7, 7, 7, 7 }, { 0, 255, 128, 64, 32, 16 } };
	struct chanstats_acc one = { 0 }, w[2] = { { 0 } }, x = { 0 }, y = { 0 };
	int i;

	for (i = 0; i < 4; i++) {
		chanstats_add(&one, img[i], 3, 2, 0);
		chanstats_add(&w[i % 2], img[i], 3, 2, 0);
	}
	cr_assert_eq(chanstats_merge(&x, &w[0], 2), 0);
	cr_assert_eq(chanstats_merge(&x, &w[1], 2), 0);
	cr_assert_eq(chanstats_merge(&y, &w[1], 2), 0);
	cr_assert_eq(chanstats_merge(&y, &w[0], 2), 0);
	cr_assert_arr_eq(&x, &one, sizeof(one));
	cr_assert_arr_eq(&y, &one, sizeof(one));
}

Test(chanstats, merge_refuses_impossible_sums)
{
	uint8_t p[] = { 10, 20 };
	struct chanstats_acc a = { 0 }, b = { 0 }, bad;

	chanstats_add(&b, p, 2, 1, 0);
	bad = b;
	bad.sum[0] = (unsigned __int128)3 * 65535;	/* more than 2 samples can hold */
	cr_assert_eq(chanstats_merge(&a, &bad, 1), -1);
	bad = b;
	bad.max[0] = 65536;
	cr_assert_eq(chanstats_merge(&a, &bad, 1), -1);
	bad = b;
	bad.min[0] = bad.max[0] + 1;
	cr_assert_eq(chanstats_merge(&a, &bad, 1), -1);
	bad = b;
	bad.sum[0] = (unsigned __int128)b.max[0] * 2 + 1;	/* above max x count */
	cr_assert_eq(chanstats_merge(&a, &bad, 1), -1);
	cr_assert_eq(a.pixels, 0);
	cr_assert_eq(chanstats_merge(&a, &b, 1), 0);
}

Test(chanstats, figures_are_mean_and_population_std)
{
	uint8_t p[] = { 0, 51, 102, 255 };
	struct chanstats s = { .channels = 1, .rows = 1 };
	double v[] = { 0, 0.2, 0.4, 1 }, m = 0.4, var = 0;
	int k;

	chanstats_add(&s.acc, p, 4, 1, 0);
	chanstats_finish(&s);
	for (k = 0; k < 4; k++)
		var += (v[k] - m) * (v[k] - m) / 4;
	cr_assert_float_eq(s.mean[0], m, 1e-15);
	cr_assert_float_eq(s.std[0], sqrt(var), 1e-15);
	cr_assert(s.min[0] == 0 && s.max[0] == 1);
	/* Skipped rows are zeros in the array, and count. */
	chanstats_add_zeros(&s.acc, 4);
	chanstats_finish(&s);
	cr_assert_float_eq(s.mean[0], 0.2, 1e-15);
}

Test(chanstats, json_round_trip)
{
	uint8_t p[] = { 3, 250, 17, 99, 0, 1 };
	struct chanstats s = { .channels = 3, .rows = 2 }, t;
	char buf[4096], why[256];
	size_t len;

	chanstats_add(&s.acc, p, 2, 3, 0);
	chanstats_add_zeros(&s.acc, 1ull << 40);
	s.acc.sq[0] += (unsigned __int128)1 << 70;	/* sums beyond 64 bits */
	chanstats_finish(&s);
	len = chanstats_format(&s, buf, sizeof(buf));
	cr_assert(len > 0 && strlen(buf) == len);
	cr_assert_eq(chanstats_parse(buf, len, &t, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(t.channels, 3);
	cr_assert_eq(t.rows, 2);
	cr_assert_arr_eq(&t.acc, &s.acc, sizeof(s.acc));
	cr_assert_arr_eq(t.mean, s.mean, sizeof(s.mean));
	cr_assert_arr_eq(t.std, s.std, sizeof(s.std));
}

Test(chanstats, parse_refuses_what_it_did_not_write)
{
	static const char *const bad[] = {
		"", "{}", "[]", "{\"format\": \"parimg-stats 2\"}",
		"{\"format\": \"parimg-stats 1\", \"channels\": 3}",
		"{\"format\": \"parimg-stats 1\", \"channels\": 1, \"rows\": 1, \"samples\": 1, "
		"\"scale\": 65535, \"sum\": [70000], \"sum_squares\": [1], \"sample_min\": [0], "
		"\"sample_max\": [65535]}",
		"{\"format\": \"parimg-stats 1\", \"channels\": 1, \"rows\": 1, \"samples\": 1, "
		"\"scale\": 255, \"sum\": [1], \"sum_squares\": [1], \"sample_min\": [1], "
		"\"sample_max\": [1]}",
		"{\"format\": \"parimg-stats 1\", \"channels\": 2, \"rows\": 1, \"samples\": 1, "
		"\"scale\": 65535, \"sum\": [1], \"sum_squares\": [1], \"sample_min\": [1], "
		"\"sample_max\": [1]}",
		"{\"format\": \"parimg-stats 1\", \"channels\": 1, \"rows\": -1, \"samples\": 1, "
		"\"scale\": 65535, \"sum\": [1], \"sum_squares\": [1], \"sample_min\": [1], "
		"\"sample_max\": [1]}",
		"{\"format\": \"parimg-stats 1\", \"channels\": 1, \"rows\": 1, \"samples\": 1, "
		"\"scale\": 65535, \"sum\": [1], \"sum_squares\": [1], \"sample_min\": [1], "
		"\"sample_max\": [1]} x",
		NULL,
	};
	struct chanstats s;
	char why[256];
	int i;

	for (i = 0; bad[i]; i++)
		cr_expect_eq(chanstats_parse(bad[i], strlen(bad[i]), &s, why, sizeof(why)), -1,
			     "%s", bad[i]);
	cr_assert_eq(chanstats_parse(bad[9], strlen(bad[9]) - 2, &s, why, sizeof(why)), 0,
		     "%s", why);
}
