/* orient_test.c - unit tests of the EXIF orientation transforms (orient.h):
 * each against Pillow's Image.transpose() of a 3x2 image (its output
 * written down from Pillow 9.4), at every pixel size load uses (1-4
 * channels of 8 or 16 bits, doubles), and the group laws they obey. */
#include "codec/orient.h"
#include "common/rng.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Pillow's transposes of [[1 2 3] [4 5 6]] for orientations 1-8. */
static const unsigned char pillow[9][6] = {
	{ 0 }, { 1, 2, 3, 4, 5, 6 },
	{ 3, 2, 1, 6, 5, 4 }, { 6, 5, 4, 3, 2, 1 }, { 4, 5, 6, 1, 2, 3 },
	{ 1, 4, 2, 5, 3, 6 }, { 4, 1, 5, 2, 6, 3 }, { 6, 3, 5, 2, 4, 1 },
	{ 3, 6, 2, 5, 1, 4 },
};

Test(orient, size)
{
	int o, w, h;

	for (o = 0; o <= 9; o++) {
		orient_size(o, 3, 2, &w, &h);
		cr_assert_eq(w, o >= 5 && o <= 8 ? 2 : 3, "orientation %d", o);
		cr_assert_eq(h, o >= 5 && o <= 8 ? 3 : 2, "orientation %d", o);
	}
}

/* The 3x2 image with each pixel PX bytes, all of them its number (1-6)
 * plus the byte's position, so a byte moved alone would show. */
static void pixels(unsigned char *b, const unsigned char *order, size_t px)
{
	size_t k, j;

	for (k = 0; k < 6; k++)
		for (j = 0; j < px; j++)
			b[k * px + j] = (unsigned char)(order[k] * 16 + j);
}

Test(orient, pillow_at_every_pixel_size)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 6, 8 };	/* 1-4 x u1, 1, 3 x u2, f8 */
	unsigned char src[49], dst[49], want[49];
	size_t i;
	int o;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t px = sizes[i];

		pixels(src, pillow[1], px);
		for (o = 1; o <= 8; o++) {
			memset(dst, 0xee, sizeof(dst));
			orient_apply(o, src, 3, 2, px, dst);
			pixels(want, pillow[o], px);
			cr_assert(memcmp(dst, want, 6 * px) == 0, "orientation %d, %zu-byte pixels", o, px);
			cr_assert_eq(dst[6 * px], 0xee, "wrote past the image");
		}
	}
	/* Out of range copies. */
	orient_apply(0, src, 3, 2, 8, dst);
	cr_assert(memcmp(src, dst, 48) == 0);
	orient_apply(9, src, 3, 2, 8, dst);
	cr_assert(memcmp(src, dst, 48) == 0);
}

/* A random W x H image of PX-byte pixels, turned by A then B, compared
 * with turned by C (the laws the eight obey as Pillow defines them). */
static void law(int a, int b, int c, int w, int h, size_t px)
{
	size_t n = (size_t)w * h * px;
	unsigned char *s = malloc(n), *t = malloc(n), *u = malloc(n), *v = malloc(n);
	struct rng r;
	int tw, th;

	cr_assert(s && t && u && v);
	rng_init(&r, 7, (uint64_t)w * 131 + (uint64_t)h);
	rng_fill(&r, s, n);
	orient_apply(a, s, w, h, px, t);
	orient_size(a, w, h, &tw, &th);
	orient_apply(b, t, tw, th, px, u);
	orient_apply(c, s, w, h, px, v);
	cr_assert(memcmp(u, v, n) == 0, "%d then %d is not %d at %dx%d, %zu bytes", a, b, c, w, h, px);
	free(s), free(t), free(u), free(v);
}

Test(orient, group_laws)
{
	static const int sz[][2] = { { 1, 1 }, { 1, 7 }, { 7, 1 }, { 5, 3 }, { 16, 16 }, { 33, 17 } };
	static const size_t px[] = { 1, 2, 3, 4, 6, 8 };
	size_t i, k;
	int o;

	for (i = 0; i < sizeof(sz) / sizeof(sz[0]); i++)
		for (k = 0; k < sizeof(px) / sizeof(px[0]); k++) {
			int w = sz[i][0], h = sz[i][1];

			for (o = 2; o <= 5; o++)	/* flips and 180: their own inverses */
				law(o, o, 1, w, h, px[k]);
			law(7, 7, 1, w, h, px[k]);
			law(6, 8, 1, w, h, px[k]);	/* a quarter turn and back */
			law(8, 6, 1, w, h, px[k]);
			law(6, 6, 3, w, h, px[k]);	/* two quarter turns: 180 */
			law(2, 4, 3, w, h, px[k]);	/* both flips: 180 */
			law(5, 2, 6, w, h, px[k]);	/* transpose, then mirror: 270 */
			law(5, 3, 7, w, h, px[k]);	/* transpose, then 180: transverse */
		}
}
