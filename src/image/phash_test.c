/* phash_test.c - unit tests of imagehash's hashes (phash.h): the bit
 * order, dhash's direction, phash's median and its exact ties, the gray
 * conversion. Parity with imagehash itself is tests/cli_near_test.py's. */
#include "image/phash.h"
#include "image/resize.h"

#include <criterion/criterion.h>
#include <string.h>

Test(phash, dhash_reads_rows_left_to_right_msb_first)
{
	uint8_t px[9 * 8] = { 0 };

	/* Row 0 rises once, between columns 0 and 1: imagehash's first bit. */
	px[1] = 10;
	cr_assert_eq(phash_dhash_bits(px), 1ULL << 63);
	/* A fall is no bit; equal neighbours are no bit. */
	memset(px, 0, sizeof(px));
	px[9 * 7 + 7] = 10;	/* last row: rise into column 7, fall into 8 */
	cr_assert_eq(phash_dhash_bits(px), 1ULL << 1);
}

Test(phash, flat_images_tie_exactly)
{
	uint8_t px[32 * 32];

	/* All AC coefficients are exactly zero, as scipy's are: the median
	 * is 0, and only the DC coefficient (bit 63) is above it. */
	memset(px, 128, sizeof(px));
	cr_assert_eq(phash_dct_bits(px), 1ULL << 63);
	memset(px, 0, sizeof(px));
	cr_assert_eq(phash_dct_bits(px), 0);
}

Test(phash, a_left_right_split_has_only_odd_horizontal_terms)
{
	uint8_t px[32 * 32];
	int y, x;

	/* Dark left half, bright right half: row 0 of the block holds the DC
	 * (positive) and odd horizontal terms (-, +, -, +); all else is zero,
	 * exactly, so the median is 0 and the positive ones are the bits. */
	for (y = 0; y < 32; y++)
		for (x = 0; x < 32; x++)
			px[y * 32 + x] = x < 16 ? 0 : 200;
	cr_assert_eq(phash_dct_bits(px), 0x9100000000000000ULL);
}

Test(phash, gray_is_pillows_luma_and_ignores_alpha)
{
	uint8_t rgba[] = { 255, 0, 0, 7, 0, 255, 0, 7, 0, 0, 255, 7, 10, 20, 30, 0 };
	uint16_t rgb16[] = { 0xff00, 0x00ff, 0x1234 };
	uint8_t la[] = { 5, 255, 6, 0 };
	uint8_t g[4];

	phash_gray(rgba, 4, 4, 0, g);
	cr_assert(g[0] == 76 && g[1] == 150 && g[2] == 29, "%d %d %d", g[0], g[1], g[2]);
	cr_assert_eq(g[3], (10 * 19595 + 20 * 38470 + 30 * 7471 + 0x8000) >> 16);
	phash_gray(la, 2, 2, 0, g);
	cr_assert(g[0] == 5 && g[1] == 6);
	/* 16-bit samples by their high byte, then luma. */
	phash_gray(rgb16, 1, 3, 1, g);
	cr_assert_eq(g[0], (0xff * 19595 + 0 * 38470 + 0x12 * 7471 + 0x8000) >> 16);
}

Test(phash, image_hashes_are_stable_under_a_same_size_copy)
{
	struct resize_ctx rz = { 0 };
	uint8_t img[40 * 30], img2[40 * 30];
	uint64_t d1, p1, d2, p2;
	int i;

	for (i = 0; i < 40 * 30; i++)
		img[i] = (uint8_t)(i * 37 % 251);
	memcpy(img2, img, sizeof(img));
	cr_assert_eq(phash_image(&rz, img, 40, 30, &d1, &p1), 0);
	cr_assert_eq(phash_image(&rz, img2, 40, 30, &d2, &p2), 0);
	cr_assert(d1 == d2 && p1 == p2);
	cr_assert_eq(phash_distance(p1, p1 ^ 0x8001), 2);
	/* A different image hashes differently. */
	img2[0] ^= 0xff;
	img2[40 * 15 + 20] ^= 0xff;
	for (i = 0; i < 40 * 30; i += 2)
		img2[i] = 255 - img2[i];
	cr_assert_eq(phash_image(&rz, img2, 40, 30, &d2, &p2), 0);
	cr_assert(d1 != d2 || p1 != p2);
	resize_ctx_free(&rz);
}
