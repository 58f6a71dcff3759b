/* ragged_test.c - unit tests of load --ragged's planning (ragged.h): the
 * sizes of --resize S against torchvision's arithmetic and of --max-side,
 * the offsets and their overflow, and the checks of an index read back. */
#include "cmd/ragged.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct row_spec spec(uint32_t short_side, uint32_t max_side)
{
	struct row_spec s = { .dtype = TENSOR_U1, .max_pixels = UINT64_MAX, .ragged = 1,
			      .short_side = short_side, .max_side = max_side };
	return s;
}

/* torchvision 0.14's _compute_resized_output_size, in Python's floats. */
static void tv_size(uint32_t s, uint32_t w, uint32_t h, uint32_t *ow, uint32_t *oh)
{
	uint32_t shrt = w <= h ? w : h, lng = w <= h ? h : w;
	uint64_t nl = (uint64_t)((double)s * lng / shrt);

	*ow = w <= h ? s : nl > UINT32_MAX ? UINT32_MAX : (uint32_t)nl;
	*oh = w <= h ? (nl > UINT32_MAX ? UINT32_MAX : (uint32_t)nl) : s;
}

Test(ragged_geometry, short_side_is_torchvision)
{
	static const uint32_t sizes[][2] = {
		{ 500, 375 }, { 375, 500 }, { 640, 480 }, { 1, 1 }, { 333, 333 }, { 7, 1000 },
		{ 1000, 7 }, { 299, 300 }, { 4032, 3024 }, { 1, 16777216 }, { 2, 3 },
	};
	static const uint32_t ss[] = { 1, 224, 256, 255, 37, 1000 };
	struct row_spec s;
	uint32_t ow, oh, tw, th;
	size_t i, k;

	for (k = 0; k < sizeof(ss) / sizeof(ss[0]); k++) {
		s = spec(ss[k], 0);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			tv_size(ss[k], sizes[i][0], sizes[i][1], &tw, &th);
			if (tw > (1u << 24) || th > (1u << 24)) {
				cr_assert_eq(ragged_geometry(&s, sizes[i][0], sizes[i][1], &ow, &oh), -1);
				continue;
			}
			cr_assert_eq(ragged_geometry(&s, sizes[i][0], sizes[i][1], &ow, &oh), 0);
			cr_assert_eq(ow, tw, "S %u, %ux%u: w %u, want %u", ss[k], sizes[i][0],
				     sizes[i][1], ow, tw);
			cr_assert_eq(oh, th);
		}
	}
	/* Worked: 500x375 to Resize(256) is 341x256 (int(256 * 500 / 375)). */
	s = spec(256, 0);
	cr_assert_eq(ragged_geometry(&s, 500, 375, &ow, &oh), 0);
	cr_assert(ow == 341 && oh == 256);
}

Test(ragged_geometry, max_side)
{
	struct row_spec s = spec(0, 100);
	uint32_t ow, oh;

	cr_assert_eq(ragged_geometry(&s, 80, 100, &ow, &oh), 0);
	cr_assert(ow == 80 && oh == 100);		/* not over: untouched */
	cr_assert_eq(ragged_geometry(&s, 300, 199, &ow, &oh), 0);
	cr_assert(ow == 100 && oh == 66);		/* 199 * 100 / 300 = 66.3 */
	cr_assert_eq(ragged_geometry(&s, 199, 300, &ow, &oh), 0);
	cr_assert(ow == 66 && oh == 100);
	cr_assert_eq(ragged_geometry(&s, 16777216, 1, &ow, &oh), 0);
	cr_assert(ow == 100 && oh == 1);		/* at least 1 */
	cr_assert_eq(ragged_geometry(&s, 101, 101, &ow, &oh), 0);
	cr_assert(ow == 100 && oh == 100);
	s = spec(0, 0);
	cr_assert_eq(ragged_geometry(&s, 300, 199, &ow, &oh), 0);
	cr_assert(ow == 300 && oh == 199);		/* neither: its own size */
}

Test(ragged_geometry, out_of_range)
{
	struct row_spec s = spec(16777216, 0);
	uint32_t ow, oh;

	/* The long side would be 2^25, and the image 2^49 pixels. */
	cr_assert_eq(ragged_geometry(&s, 1, 2, &ow, &oh), -1);
	s = spec(4096, 0);
	s.max_pixels = 4096ULL * 4096 - 1;
	cr_assert_eq(ragged_geometry(&s, 10, 10, &ow, &oh), -1);
	s.max_pixels = 4096ULL * 4096;
	cr_assert_eq(ragged_geometry(&s, 10, 10, &ow, &oh), 0);
	cr_assert_eq(ragged_geometry(&s, 0, 10, &ow, &oh), -1);
}

Test(ragged_plan, offsets_and_skips)
{
	struct ragged_dims d[] = { { 4, 3, 3 }, { 0, 0, 0 }, { 2, 5, 1 }, { 1, 1, 4 } };
	struct row_spec s = spec(0, 0);
	int64_t idx[4 * RAGGED_COLS];
	uint64_t total;
	size_t bad;
	char why[256];

	cr_assert_eq(ragged_plan(&s, d, 4, idx, &total, &bad, why, sizeof(why)), 0);
	cr_assert_eq(total, 4 * 3 * 3 + 2 * 5 + 4);
	cr_assert(idx[0] == 0 && idx[1] == 3 && idx[2] == 4 && idx[3] == 3);
	cr_assert(idx[4] == 36 && idx[5] == 0 && idx[6] == 0 && idx[7] == 0);	/* skipped */
	cr_assert(idx[8] == 36 && idx[9] == 5 && idx[10] == 2 && idx[11] == 1);
	cr_assert(idx[12] == 46 && idx[15] == 4);
	cr_assert_eq(ragged_check_index(idx, 4, total, why, sizeof(why)), 0);
	s.channels = 3;
	cr_assert_eq(ragged_plan(&s, d, 4, idx, &total, &bad, why, sizeof(why)), 0);
	cr_assert_eq(total, 36 + 30 + 3);
	cr_assert_eq(idx[7], 3);		/* a skipped row: -c's C */
}

Test(ragged_plan, refuses_bad_values_and_overflow)
{
	struct ragged_dims bad_c[] = { { 4, 3, 3 }, { 4, 3, 5 } };
	struct ragged_dims neg[] = { { -4, 3, 3 } };
	static struct ragged_dims big[2048];
	static int64_t idx[2048 * RAGGED_COLS];
	struct row_spec s = spec(0, 0);
	uint64_t total;
	size_t bad = 99;
	char why[256];

	cr_assert_eq(ragged_plan(&s, bad_c, 2, idx, &total, &bad, why, sizeof(why)), -1);
	cr_assert_eq(bad, 1);
	cr_assert_eq(ragged_plan(&s, neg, 1, idx, &total, &bad, why, sizeof(why)), -1);
	cr_assert_eq(bad, 0);
	s.max_pixels = 100;
	cr_assert_eq(ragged_plan(&s, bad_c, 1, idx, &total, &bad, why, sizeof(why)), 0);
	big[0] = (struct ragged_dims){ 1 << 24, 1 << 24, 4 };
	cr_assert_eq(ragged_plan(&s, big, 1, idx, &total, &bad, why, sizeof(why)), -1);
	s.max_pixels = UINT64_MAX;
	/* 2^50 samples each: as f8, bytes pass 2^63 at the 1024th. */
	for (bad = 0; bad < 2048; bad++)
		big[bad] = (struct ragged_dims){ 1 << 24, 1 << 24, 4 };
	s.dtype = TENSOR_F8;
	cr_assert_eq(ragged_plan(&s, big, 1023, idx, &total, &bad, why, sizeof(why)), 0);
	cr_assert_eq(total, 1023ULL << 50);
	cr_assert_eq(ragged_plan(&s, big, 2048, idx, &total, &bad, why, sizeof(why)), -1);
	cr_assert_eq(bad, 1023);
	s.dtype = TENSOR_U1;
	cr_assert_eq(ragged_plan(&s, big, 2048, idx, &total, &bad, why, sizeof(why)), 0);
}

Test(ragged_check_index, refusals)
{
	int64_t ok[] = { 0, 2, 2, 1, 4, 0, 0, 3, 4, 1, 1, 1 };
	int64_t idx[12];
	char why[256];

	cr_assert_eq(ragged_check_index(ok, 3, 5, why, sizeof(why)), 0);
	cr_assert_eq(ragged_check_index(ok, 3, 4, why, sizeof(why)), -1);	/* past the end */
	memcpy(idx, ok, sizeof(ok));
	idx[8] = 3;							/* overlaps row 0 */
	cr_assert_eq(ragged_check_index(idx, 3, 5, why, sizeof(why)), -1);
	memcpy(idx, ok, sizeof(ok));
	idx[0] = -1;
	cr_assert_eq(ragged_check_index(idx, 3, 5, why, sizeof(why)), -1);
	memcpy(idx, ok, sizeof(ok));
	idx[5] = 1;							/* H without W */
	cr_assert_eq(ragged_check_index(idx, 3, 5, why, sizeof(why)), -1);
	memcpy(idx, ok, sizeof(ok));
	idx[3] = 5;
	cr_assert_eq(ragged_check_index(idx, 3, 50, why, sizeof(why)), -1);
	memcpy(idx, ok, sizeof(ok));
	idx[9] = INT64_MAX;						/* size overflows */
	idx[10] = INT64_MAX;
	cr_assert_eq(ragged_check_index(idx, 3, UINT64_MAX, why, sizeof(why)), -1);
}

#include "cmd/opt.h"

#include <criterion/redirect.h>

/* --resize takes S (with --ragged) or WxH; the checks of opt_row_check. */
Test(ragged_opts, parse_and_check, .init = cr_redirect_stderr)
{
	struct row_spec s = { .dtype = TENSOR_U1 };
	struct opt_row given = { 0 };

	cr_assert_eq(opt_row_parse(&s, &given, OPT_RESIZE, "256", "load"), 1);
	cr_assert(s.short_side == 256 && !s.resize);
	cr_assert_eq(opt_row_check(&s, &given, "load"), -1);	/* needs --ragged */
	cr_assert_eq(opt_row_parse(&s, &given, OPT_RAGGED, NULL, "load"), 1);
	cr_assert_eq(opt_row_check(&s, &given, "load"), 0);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_MAX_SIDE, "64", "load"), 1);
	cr_assert_eq(opt_row_check(&s, &given, "load"), -1);	/* not both */
	s.max_side = 0;
	cr_assert_eq(opt_row_parse(&s, &given, OPT_RESIZE, "8x9", "load"), 1);
	cr_assert(s.resize && s.w == 8 && s.h == 9 && s.short_side == 0);
	cr_assert_eq(opt_row_check(&s, &given, "load"), -1);	/* WxH with --ragged */
	cr_assert_eq(opt_row_parse(&s, &given, OPT_RESIZE, "0", "load"), -1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_MAX_SIDE, "16777217", "load"), -1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_RESIZE, "16777217", "load"), -1);
	s = (struct row_spec){ .dtype = TENSOR_U1, .ragged = 1, .max_side = 5 };
	given = (struct opt_row){ .filter = 1 };
	cr_assert_eq(opt_row_check(&s, &given, "load"), 0);	/* --filter with --max-side */
	given = (struct opt_row){ .fit = 1 };
	cr_assert_eq(opt_row_check(&s, &given, "load"), -1);
}

/* A file that probes otherwise than in the header pass is refused, its
 * slot untouched; one that matches decodes into exactly its slot. */
Test(ragged_decode, changed_file_and_slot)
{
	unsigned char pix[6 * 4 * 3], slot[6 * 4 * 3 + 8];
	struct row_scratch scratch = { 0 };
	struct row_spec s = spec(0, 0);
	struct ragged_dims d = { 6, 4, 3 }, other = { 4, 6, 3 };
	int64_t idx[RAGGED_COLS] = { 0, 4, 6, 3 }, small[RAGGED_COLS] = { 0, 2, 3, 3 };
	struct buf png = { 0 };
	char why[256];
	size_t i;

	s.max_pixels = 1000;
	for (i = 0; i < sizeof(pix); i++)
		pix[i] = (unsigned char)(i * 7);
	cr_assert_eq(codec_encode(CODEC_PNG, 0, 0, pix, 6, 4, 3, &png), 0);
	memset(slot, 0xAB, sizeof(slot));
	cr_assert_eq(ragged_decode(&s, &other, idx, png.p, png.len, slot, &scratch, why,
				   sizeof(why)), -1);
	cr_assert(strstr(why, "changed while loading"), "%s", why);
	for (i = 0; i < sizeof(slot); i++)
		cr_assert_eq(slot[i], 0xAB);
	cr_assert_eq(ragged_decode(&s, &d, idx, png.p, png.len, slot, &scratch, why,
				   sizeof(why)), 0, "%s", why);
	cr_assert_eq(memcmp(slot, pix, sizeof(pix)), 0);
	cr_assert_eq(slot[sizeof(pix)], 0xAB);
	/* Planned at 3x2: resized into its 18 samples, not one more. */
	memset(slot, 0xAB, sizeof(slot));
	cr_assert_eq(ragged_decode(&s, &d, small, png.p, png.len, slot, &scratch, why,
				   sizeof(why)), 0, "%s", why);
	cr_assert_eq(slot[18], 0xAB);
	free(png.p);
	free(scratch.pix.p);
	free(scratch.resized.p);
	resize_ctx_free(&scratch.rz);
}
