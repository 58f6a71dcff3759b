/* resize_test.c - unit tests of the resampler (resize.h): the windows and
 * fixed-point weights of each axis, the cover and contain geometry, and
 * whole resizes whose result is known without Pillow (flat images, the
 * premultiplication round trip, the plan cache). The comparison with
 * Pillow itself is tests/cli_resize_test.py. */
#include "image/resize.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const enum resize_filter convolutions[] = {
	RESIZE_BOX, RESIZE_BILINEAR, RESIZE_HAMMING, RESIZE_BICUBIC, RESIZE_LANCZOS
};

/* Every window lies in the source, the windows move forward, and each
 * output's weights sum to 1.0 in 22-bit fixed point, give or take the
 * rounding of each weight. */
Test(resize, axis_windows_and_weights)
{
	static const int sizes[][2] = { { 500, 224 }, { 224, 500 }, { 7, 3 }, { 3, 7 }, { 1, 9 },
					{ 9, 1 }, { 100, 100 }, { 4000, 3 }, { 13, 13 } };
	size_t f, s;
	int i, j;

	for (f = 0; f < sizeof(convolutions) / sizeof(convolutions[0]); f++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			int in = sizes[s][0], out = sizes[s][1];
			struct resize_axis a;

			cr_assert_eq(resize_axis_init(&a, convolutions[f], in, out, 0, out), 0);
			cr_assert_eq(a.n, out);
			cr_assert(a.taps >= 1 && a.taps <= in);
			cr_assert_eq(a.lo, a.start[0]);
			cr_assert_eq(a.hi, a.start[out - 1] + a.taps);
			for (i = 0; i < out; i++) {
				int64_t sum = 0;

				cr_assert(a.start[i] >= 0 && a.start[i] + a.taps <= in);
				cr_assert(i == 0 || a.start[i] >= a.start[i - 1]);
				for (j = 0; j < a.taps; j++)
					sum += a.k[i * a.taps + j];
				cr_assert(llabs(sum - (1 << 22)) <= a.taps,
					  "filter %zu, %d -> %d, output %d: weights sum to %lld", f,
					  in, out, i, (long long)sum);
			}
			resize_axis_free(&a);
		}
	}
}

/* Bilinear, 4 -> 2: output 0 is centred on source 1.0 with support 2, so
 * reads sources 0, 1, 2 at distances 0.25, 0.25, 0.75 (halved): weights
 * 3/7, 3/7, 1/7, rounded to 22 bits. */
Test(resize, bilinear_weights_by_hand)
{
	struct resize_axis a;

	cr_assert_eq(resize_axis_init(&a, RESIZE_BILINEAR, 4, 2, 0, 2), 0);
	cr_assert_eq(a.taps, 3);
	cr_assert_eq(a.start[0], 0);
	cr_assert_eq(a.k[0], 1797559);
	cr_assert_eq(a.k[1], 1797559);
	cr_assert_eq(a.k[2], 599186);
	/* Output 1, centred on 3.0, reads 1..3 (its window is cut at the
	 * edge): 1/7, 3/7, 3/7. */
	cr_assert_eq(a.start[1], 1);
	cr_assert_eq(a.k[3], 599186);
	cr_assert_eq(a.k[4], 1797559);
	cr_assert_float_eq(a.kd[5], 3.0 / 7, 1e-15);
	resize_axis_free(&a);
	/* Enlarging 2 -> 5 windows are short; the edges' get shifted in, a
	 * zero weight first or last. */
	cr_assert_eq(resize_axis_init(&a, RESIZE_BICUBIC, 2, 5, 0, 5), 0);
	cr_assert_eq(a.taps, 2);
	cr_assert(a.start[0] == 0 && a.start[4] == 0);
	resize_axis_free(&a);
}

/* The same size: every output reads its own source, weight 1.0. */
Test(resize, identity_axis)
{
	size_t f;
	int i, j;

	for (f = 0; f < sizeof(convolutions) / sizeof(convolutions[0]); f++) {
		struct resize_axis a;

		cr_assert_eq(resize_axis_init(&a, convolutions[f], 9, 9, 0, 9), 0);
		for (i = 0; i < 9; i++)
			for (j = 0; j < a.taps; j++)
				cr_assert_eq(a.k[i * a.taps + j],
					     a.start[i] + j == i ? 1 << 22 : 0, "filter %zu", f);
		resize_axis_free(&a);
	}
}

/* A part of the outputs: the same windows as the whole. */
Test(resize, axis_part_is_a_slice_of_the_whole)
{
	struct resize_axis all, part;
	int i, j;

	cr_assert_eq(resize_axis_init(&all, RESIZE_LANCZOS, 375, 298, 0, 298), 0);
	cr_assert_eq(resize_axis_init(&part, RESIZE_LANCZOS, 375, 298, 37, 224), 0);
	for (i = 0; i < 224; i++) {
		int64_t a = 0, b = 0;

		for (j = 0; j < all.taps; j++)
			a += (int64_t)all.k[(i + 37) * all.taps + j] * (all.start[i + 37] + j);
		for (j = 0; j < part.taps; j++)
			b += (int64_t)part.k[i * part.taps + j] * (part.start[i] + j);
		cr_assert_eq(a, b, "output %d", i + 37);
	}
	resize_axis_free(&all);
	resize_axis_free(&part);
}

static struct resize_geom geom(enum resize_fit fit, int w, int h, int tw, int th)
{
	struct resize_opts o = { .w = tw, .h = th, .fit = fit };
	struct resize_geom g;

	resize_geometry(&o, w, h, &g);
	return g;
}

Test(resize, cover_geometry)
{
	struct resize_geom g = geom(RESIZE_COVER, 500, 375, 224, 224);

	/* torchvision: int(224 * 500 / 375) = 298, crop left round(74 / 2). */
	cr_assert(g.sw == 298 && g.sh == 224 && g.cx == 37 && g.cy == 0);
	cr_assert(g.cw == 224 && g.ch == 224 && g.ox == 0 && g.oy == 0);
	g = geom(RESIZE_COVER, 375, 500, 224, 224);
	cr_assert(g.sw == 224 && g.sh == 298 && g.cx == 0 && g.cy == 37);
	/* Odd margins: round(38.5) = 38, round(37.5) = 38, round(0.5) = 0. */
	cr_assert_eq(geom(RESIZE_COVER, 301, 224, 224, 224).cx, 38);
	cr_assert_eq(geom(RESIZE_COVER, 299, 224, 224, 224).cx, 38);
	cr_assert_eq(geom(RESIZE_COVER, 225, 224, 224, 224).cx, 0);
	cr_assert_eq(geom(RESIZE_COVER, 227, 224, 224, 224).cx, 2);
	/* A wide target: the width binds. */
	g = geom(RESIZE_COVER, 100, 100, 40, 10);
	cr_assert(g.sw == 40 && g.sh == 40 && g.cx == 0 && g.cy == 15);
}

/* Scaled sides beyond 2^30 are refused, not wrapped. */
Test(resize, cover_out_of_range)
{
	struct resize_opts o = { .w = 2048, .h = 2048, .fit = RESIZE_COVER };
	struct resize_ctx ctx = { 0 };
	struct resize_geom g;
	uint8_t px = 0, out[4];

	cr_assert_eq(resize_geometry(&o, 1 << 20, 1, &g), -1);
	cr_assert_eq(resize_geometry(&o, 1 << 19, 1, &g), 0);
	cr_assert_eq(g.sw, 1 << 30);
	o.w = o.h = 2;
	o.filter = RESIZE_BILINEAR;
	cr_assert_eq(resize_geometry(&o, 1, 1 << 30, &g), -1);
	cr_assert_eq(resize_image(&ctx, &o, &px, 1, 1 << 30, 1, 1, 0, out, 2), -1);
	cr_assert_eq(errno, EOVERFLOW);
	resize_ctx_free(&ctx);
}

Test(resize, contain_geometry)
{
	struct resize_geom g = geom(RESIZE_CONTAIN, 500, 375, 224, 224);

	cr_assert(g.sw == 224 && g.sh == 168 && g.cw == 224 && g.ch == 168);
	cr_assert(g.ox == 0 && g.oy == 28 && g.cx == 0 && g.cy == 0);
	/* 10x3 in 7x4: 7x2, the odd row of margin at the bottom. */
	g = geom(RESIZE_CONTAIN, 10, 3, 7, 4);
	cr_assert(g.sw == 7 && g.sh == 2 && g.oy == 1);
	/* Never less than a pixel. */
	g = geom(RESIZE_CONTAIN, 1, 1000, 64, 64);
	cr_assert(g.sw == 1 && g.sh == 64 && g.ox == 31);
	g = geom(RESIZE_STRETCH, 1, 1000, 64, 32);
	cr_assert(g.sw == 64 && g.sh == 32 && g.cw == 64 && g.ch == 32 && g.ox == 0);
}

/* A flat, opaque image stays flat through every filter, channel count and
 * depth; contain's margins hold the pad value (times 257 at 16 bits). */
Test(resize, flat_stays_flat)
{
	static const int sizes[][4] = { { 50, 37, 16, 12 }, { 7, 9, 30, 31 }, { 1, 1, 5, 3 },
					{ 64, 1, 1, 1 }, { 3, 80, 3, 7 } };
	struct resize_ctx ctx = { 0 };
	size_t s;
	int f, c, d, fit;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (f = RESIZE_NEAREST; f <= RESIZE_LANCZOS; f++)
			for (c = 1; c <= 4; c++)
				for (d = 0; d < 2; d++)
					for (fit = RESIZE_STRETCH; fit <= RESIZE_CONTAIN; fit++) {
		int w = sizes[s][0], h = sizes[s][1], tw = sizes[s][2], th = sizes[s][3];
		struct resize_opts o = { .w = tw, .h = th, .filter = (enum resize_filter)f,
					 .fit = (enum resize_fit)fit, .pad = 9 };
		size_t n = (size_t)w * h * c, m = (size_t)tw * th * c, i, bps = d ? 2 : 1;
		unsigned char *src = malloc(n * bps), *dst = malloc(m * bps);
		struct resize_geom g;

		resize_geometry(&o, w, h, &g);
		for (i = 0; i < n; i++) {
			int alpha = (c == 2 || c == 4) && i % (size_t)c == (size_t)c - 1;

			if (d)
				((uint16_t *)(void *)src)[i] = alpha ? 65535 : 51111;
			else
				src[i] = alpha ? 255 : 201;
		}
		cr_assert_eq(resize_image(&ctx, &o, src, w, h, (size_t)w * c * bps, c, d, dst,
					  (size_t)tw * c * bps), 0);
		for (i = 0; i < m; i++) {
			size_t px = i / (size_t)c, x = px % (size_t)tw, y = px / (size_t)tw;
			int inside = (int)x >= g.ox && (int)x < g.ox + g.cw && (int)y >= g.oy &&
				     (int)y < g.oy + g.ch;
			unsigned v = d ? ((uint16_t *)(void *)dst)[i] : dst[i];
			int alpha = (c == 2 || c == 4) && i % (size_t)c == (size_t)c - 1;
			unsigned want = !inside ? (d ? 9 * 257 : 9)
					: alpha ? (d ? 65535 : 255) : (d ? 51111 : 201);

			cr_assert_eq(v, want, "%dx%d -> %dx%d, filter %d, c %d, 16-bit %d, fit %d, "
				     "sample %zu", w, h, tw, th, f, c, d, fit, i);
		}
		free(src);
		free(dst);
	}
	resize_ctx_free(&ctx);
}

/* Two equal RGBA pixels boxed into one come back as Pillow's round trip
 * gives them: premultiplied (c * a / 255 rounded), then 255 * p / a
 * truncated, for every colour and alpha. */
Test(resize, premultiply_round_trip)
{
	struct resize_opts o = { .w = 1, .h = 1, .filter = RESIZE_BOX };
	struct resize_ctx ctx = { 0 };
	unsigned c, a;

	for (a = 0; a < 256; a++) {
		for (c = 0; c < 256; c++) {
			uint8_t src[8] = { (uint8_t)c, (uint8_t)(255 - c), 0, (uint8_t)a,
					   (uint8_t)c, (uint8_t)(255 - c), 0, (uint8_t)a };
			uint8_t dst[4];
			unsigned p = (c * a + 128 + ((c * a + 128) >> 8)) >> 8, want;

			cr_assert_eq(resize_image(&ctx, &o, src, 2, 1, 8, 4, 0, dst, 4), 0);
			want = a == 0 || a == 255 ? p : 255 * p / a > 255 ? 255 : 255 * p / a;
			cr_assert_eq(dst[0], want, "colour %u alpha %u: %u, not %u", c, a, dst[0],
				     want);
			cr_assert_eq(dst[3], a);
		}
	}
	resize_ctx_free(&ctx);
}

/* More source sizes than the cache holds, cycled: each result is the one
 * a fresh resampler gives. */
Test(resize, plan_cache_evicts_cleanly)
{
	struct resize_opts o = { .w = 13, .h = 11, .filter = RESIZE_BICUBIC };
	struct resize_ctx warm = { 0 };
	static uint8_t src[40 * 40 * 3], a[13 * 11 * 3], b[13 * 11 * 3];
	size_t i;
	int k;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7919 >> 3);
	for (k = 0; k < 60; k++) {
		int w = 20 + (k * 7) % 20, h = 20 + (k * 3) % 19;
		struct resize_ctx fresh = { 0 };

		cr_assert_eq(resize_image(&warm, &o, src, w, h, (size_t)w * 3, 3, 0, a, 13 * 3), 0);
		cr_assert_eq(resize_image(&fresh, &o, src, w, h, (size_t)w * 3, 3, 0, b, 13 * 3), 0);
		cr_assert(memcmp(a, b, sizeof(a)) == 0, "source %dx%d", w, h);
		resize_ctx_free(&fresh);
	}
	resize_ctx_free(&warm);
}

/* Nearest reads floor((x + 0.5) * in / out): 4 -> 3 reads 0, 2, 3. */
Test(resize, nearest_picks)
{
	struct resize_opts o = { .w = 3, .h = 1, .filter = RESIZE_NEAREST };
	struct resize_ctx ctx = { 0 };
	uint8_t src[4] = { 10, 20, 30, 40 }, dst[3];

	cr_assert_eq(resize_image(&ctx, &o, src, 4, 1, 4, 1, 0, dst, 3), 0);
	cr_assert(dst[0] == 10 && dst[1] == 30 && dst[2] == 40);
	resize_ctx_free(&ctx);
}

/* Rows of the source and the target may be padded: strides are honoured
 * and bytes beyond a row's pixels are left alone. */
Test(resize, strides)
{
	struct resize_opts o = { .w = 5, .h = 4, .filter = RESIZE_LANCZOS };
	struct resize_ctx ctx = { 0 };
	uint8_t src[9 * 16], packed[9 * 6 * 2], dst[4 * 20], want[5 * 4 * 2];
	int x, y;

	for (y = 0; y < 9; y++)
		for (x = 0; x < 16; x++)
			src[y * 16 + x] = x < 12 ? (uint8_t)(y * 31 + x * 17) : 0xee;
	for (y = 0; y < 9; y++)
		memcpy(packed + y * 12, src + y * 16, 12);
	memset(dst, 0x5a, sizeof(dst));
	cr_assert_eq(resize_image(&ctx, &o, packed, 6, 9, 12, 2, 0, want, 10), 0);
	cr_assert_eq(resize_image(&ctx, &o, src, 6, 9, 16, 2, 0, dst, 20), 0);
	for (y = 0; y < 4; y++) {
		cr_assert(memcmp(dst + y * 20, want + y * 10, 10) == 0, "row %d", y);
		for (x = 10; x < 20; x++)
			cr_assert_eq(dst[y * 20 + x], 0x5a);
	}
	resize_ctx_free(&ctx);
}

/* Resizing only the window resize_source_window names, copied out of the
 * image (what a partial decode gives), is resizing the whole image: every
 * filter, fit, channel count and depth, sources wider, taller, smaller and
 * of the target's size; and cover's window leaves out what it crops. */
Test(resize, source_window_is_all_that_is_read)
{
	static const int sizes[][2] = { { 61, 37 }, { 37, 61 }, { 20, 20 }, { 7, 3 }, { 200, 90 } };
	static const int targets[][2] = { { 20, 20 }, { 13, 5 }, { 5, 13 }, { 1, 1 }, { 40, 30 } };
	struct resize_ctx ctx = { 0 };
	size_t si, ti;
	int f, fit, c, d16;

	srand(22);
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
	for (ti = 0; ti < sizeof(targets) / sizeof(targets[0]); ti++)
	for (f = RESIZE_NEAREST; f <= RESIZE_LANCZOS; f++)
	for (fit = RESIZE_STRETCH; fit <= RESIZE_CONTAIN; fit++)
	for (c = 1; c <= 4; c++)
	for (d16 = 0; d16 <= 1; d16++) {
		int w = sizes[si][0], h = sizes[si][1];
		struct resize_opts o = { targets[ti][0], targets[ti][1], f, fit, 7 };
		size_t px = (size_t)c * (d16 ? 2 : 1), n = (size_t)w * h * px, y, i;
		size_t out = (size_t)o.w * o.h * px, ww;
		unsigned char *src = malloc(n), *win = malloc(n), *a = malloc(out), *b = malloc(out);
		struct resize_window rw;

		cr_assert(src && win && a && b);
		for (i = 0; i < n; i++)
			src[i] = (unsigned char)rand();
		cr_assert(resize_source_window(&ctx, &o, w, h, c, d16, &rw) == 0);
		cr_assert(rw.x0 >= 0 && rw.x0 < rw.x1 && rw.x1 <= w && rw.y0 >= 0 && rw.y0 < rw.y1 &&
			  rw.y1 <= h, "window %d..%d x %d..%d of %dx%d", rw.x0, rw.x1, rw.y0, rw.y1, w, h);
		ww = (size_t)(rw.x1 - rw.x0) * px;
		for (y = (size_t)rw.y0; y < (size_t)rw.y1; y++)
			memcpy(win + (y - (size_t)rw.y0) * ww, src + y * (size_t)w * px +
			       (size_t)rw.x0 * px, ww);
		cr_assert(resize_image(&ctx, &o, src, w, h, (size_t)w * px, c, d16, a,
				       (size_t)o.w * px) == 0);
		cr_assert(resize_image_window(&ctx, &o, win, w, h, rw.x0, rw.y0, ww, c, d16, b,
					      (size_t)o.w * px) == 0);
		cr_assert(memcmp(a, b, out) == 0, "%dx%d to %dx%d, filter %d, fit %d, c %d, 16-bit %d",
			  w, h, o.w, o.h, f, fit, c, d16);
		/* 200x90 under cover to 20x20 keeps 20 of 44 scaled columns. */
		if (fit == RESIZE_COVER && w == 200 && o.w == 20 && o.h == 20)
			cr_assert(rw.x0 > 40 && rw.x1 < 160,
				  "filter %d: columns %d..%d", f, rw.x0, rw.x1);
		free(src);
		free(win);
		free(a);
		free(b);
	}
	resize_ctx_free(&ctx);
}
