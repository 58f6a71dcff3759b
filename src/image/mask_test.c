/* mask_test.c - unit tests of mask.c: a mask's indices through stretch,
 * cover and contain with NEAREST (worked out by hand from Pillow's rule,
 * source x = floor((x + 0.5) * in / out)), whatever the image's filter,
 * dtype and layout; and the size check against its image. */
#include "image/mask.h"
#include "codec/codec.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* A 6x4 gray PNG whose pixel (x, y) is x + 10 y: its own index map. */
static struct buf map_png(void)
{
	unsigned char pix[24];
	struct buf b = { 0 };
	int x, y;

	for (y = 0; y < 4; y++)
		for (x = 0; x < 6; x++)
			pix[y * 6 + x] = (unsigned char)(x + 10 * y);
	cr_assert_eq(codec_encode(CODEC_PNG, 6, 90, pix, 6, 4, 1, &b), 0);
	return b;
}

/* The image's spec: bilinear, f4, NCHW, normalised; none of it the mask's. */
static struct row_spec spec(int w, int h, enum resize_fit fit)
{
	struct row_spec s = { .w = (uint32_t)w, .h = (uint32_t)h, .channels = 3,
			      .dtype = TENSOR_F4, .resize = 1, .filter = RESIZE_BILINEAR,
			      .fit = fit, .layout = TENSOR_NCHW, .max_pixels = 1 << 20 };

	s.norm.on = 1;
	return s;
}

static void check(const unsigned char *got, const unsigned char *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "pixel %zu: %u, not %u", i, got[i], want[i]);
}

Test(mask, stretch_is_nearest_whatever_the_filter)
{
	struct buf b = map_png();
	struct row_spec s = spec(3, 2, RESIZE_STRETCH);
	struct mask_scratch ms = { 0 };
	/* x from 1, 3, 5; y from 1, 3. */
	static const unsigned char want[] = { 11, 13, 15, 31, 33, 35 };
	unsigned char row[6];
	char why[256] = "";

	cr_assert_eq(mask_decode(&s, 0, b.p, b.len, 6, 4, row, &ms, why, sizeof(why)), 0, "%s", why);
	check(row, want, sizeof(want));
	free(b.p);
}

Test(mask, cover_crops_the_centre)
{
	struct buf b = map_png();
	struct row_spec s = spec(2, 2, RESIZE_COVER);
	struct mask_scratch ms = { 0 };
	/* 6x4 covers 2x2 at 3x2 (x from 1, 3, 5), cropped from x = round(0.5) = 0. */
	static const unsigned char want[] = { 11, 13, 31, 33 };
	unsigned char row[4];
	char why[256] = "";

	cr_assert_eq(mask_decode(&s, 0, b.p, b.len, 6, 4, row, &ms, why, sizeof(why)), 0, "%s", why);
	check(row, want, sizeof(want));
	free(b.p);
}

Test(mask, contain_pads_with_its_own_value)
{
	struct buf b = map_png();
	struct row_spec s = spec(4, 4, RESIZE_CONTAIN);
	struct mask_scratch ms = { 0 };
	/* 6x4 into 4x4: 4x2 (x from 0, 2, 3, 5; y from 1, 3) at row 1. */
	static const unsigned char want[] = { 255, 255, 255, 255, 10, 12, 13, 15,
					      30, 32, 33, 35, 255, 255, 255, 255 };
	unsigned char row[16];
	char why[256] = "";

	s.pad = 7;	/* the image's margins: not the mask's */
	cr_assert_eq(mask_decode(&s, 255, b.p, b.len, 6, 4, row, &ms, why, sizeof(why)), 0,
		     "%s", why);
	check(row, want, sizeof(want));
	free(b.p);
}

Test(mask, without_resize_the_indices_as_they_are)
{
	struct buf b = map_png();
	struct row_spec s = spec(6, 4, RESIZE_STRETCH);
	struct mask_scratch ms = { 0 };
	unsigned char row[24];
	char why[256] = "";
	int k;

	s.resize = 0;
	cr_assert_eq(mask_decode(&s, 0, b.p, b.len, 6, 4, row, &ms, why, sizeof(why)), 0, "%s", why);
	for (k = 0; k < 24; k++)
		cr_assert_eq(row[k], k % 6 + 10 * (k / 6));
	free(b.p);
}

Test(mask, a_size_not_its_images_is_refused_and_the_row_left_zero)
{
	struct buf b = map_png();
	struct row_spec s = spec(3, 2, RESIZE_STRETCH);
	struct mask_scratch ms = { 0 };
	unsigned char row[6];
	char why[256] = "";

	memset(row, 0xaa, sizeof(row));
	cr_assert_eq(mask_decode(&s, 0, b.p, b.len, 4, 6, row, &ms, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "6x4, its image 4x6");
	for (size_t i = 0; i < sizeof(row); i++)
		cr_assert_eq(row[i], 0);
	/* A file that is no image at all: the codec's reason. */
	cr_assert_eq(mask_decode(&s, 0, (const unsigned char *)"not a png", 9, 6, 4, row, &ms, why,
				 sizeof(why)), -1);
	cr_assert(strstr(why, "unknown format"), "%s", why);
	free(b.p);
}
