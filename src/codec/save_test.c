/* save_test.c - unit tests of convert's writers (save.h): the JPEG's
 * headers as Pillow's save() writes them (JFIF 1.01 with density 1:1 and
 * unit 0, baseline, 4:2:0 for colour, libjpeg's tables scaled by the
 * quality), and every format decoded back by the codec table: PNG and
 * lossless WebP exactly, JPEG close. */
#include "codec/codec.h"
#include "codec/save.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* A W x H image of C channels: a smooth ramp plus a little pattern. */
static unsigned char *image(int w, int h, int c)
{
	unsigned char *p = malloc((size_t)w * h * c);
	int x, y, k;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			for (k = 0; k < c; k++)
				p[((size_t)y * w + x) * c + k] =
					(unsigned char)(x * 3 + y * 2 + k * 40 + ((x ^ y) & 7));
	return p;
}

/* The offset of JPEG marker 0xFF CODE in B, or -1. */
static long marker(const struct buf *b, unsigned char code)
{
	size_t i;

	for (i = 2; i + 1 < b->len; ) {
		if (b->p[i] != 0xFF)
			return -1;
		if (b->p[i + 1] == code)
			return (long)i;
		i += 2 + (size_t)(b->p[i + 2] << 8 | b->p[i + 3]);
	}
	return -1;
}

Test(save, jpeg_headers_as_pillow)
{
	static const unsigned char jfif[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0,
					      1, 1, 0, 0, 1, 0, 1, 0, 0 };
	struct save_opts o = { .format = SAVE_JPEG, .quality = 90 };
	struct buf b = { 0 };
	unsigned char *pix = image(33, 17, 3);
	char why[256];
	long sof, dqt;

	cr_assert_eq(save_encode(&o, pix, 33, 17, 3, &b, why, sizeof(why)), 0, "%s", why);
	cr_assert(b.len > sizeof(jfif));
	cr_assert_eq(memcmp(b.p, jfif, sizeof(jfif)), 0, "the JFIF APP0 differs");
	cr_assert_eq(marker(&b, 0xC2), -1, "progressive");
	sof = marker(&b, 0xC0);
	cr_assert(sof > 0, "no baseline SOF0");
	cr_assert_eq(b.p[sof + 9], 3);			/* components */
	cr_assert_eq(b.p[sof + 11], 0x22);		/* Y 2x2: 4:2:0 */
	cr_assert_eq(b.p[sof + 14], 0x11);
	/* Quality 90: libjpeg's luminance table scaled by 20%, the first
	 * entry (16 * 20 + 50) / 100 = 3. */
	dqt = marker(&b, 0xDB);
	cr_assert(dqt > 0);
	cr_assert_eq(b.p[dqt + 4], 0);
	cr_assert_eq(b.p[dqt + 5], 3);
	free(pix);
	free(b.p);
}

Test(save, jpeg_gray_is_one_component)
{
	struct save_opts o = { .format = SAVE_JPEG, .quality = 75 };
	struct buf b = { 0 };
	unsigned char *pix = image(20, 20, 1);
	char why[256];
	long sof;

	cr_assert_eq(save_encode(&o, pix, 20, 20, 1, &b, why, sizeof(why)), 0, "%s", why);
	sof = marker(&b, 0xC0);
	cr_assert(sof > 0);
	cr_assert_eq(b.p[sof + 9], 1);
	cr_assert_eq(b.p[sof + 11], 0x11);
	free(pix);
	free(b.p);
}

/* Encode W x H x C as O says, decode it back with the codec table into
 * OUT (C channels). */
static void round_trip(const struct save_opts *o, const unsigned char *pix, int w, int h, int c,
		       unsigned char *out)
{
	struct codec_info info;
	struct buf b = { 0 };
	char why[256];

	cr_assert_eq(save_encode(o, pix, w, h, c, &b, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(codec_probe(b.p, b.len, 1 << 20, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.w, w);
	cr_assert_eq(info.h, h);
	cr_assert_eq(codec_decode(b.p, b.len, &info, c, 0, out, why, sizeof(why)), 0, "%s", why);
	free(b.p);
}

Test(save, png_and_lossless_webp_exact)
{
	int c;

	for (c = 1; c <= 4; c++) {
		unsigned char *pix = image(31, 9, c), *out = malloc(31 * 9 * 4);
		struct save_opts png = { .format = SAVE_PNG, .quality = -1 },
				 webp = { .format = SAVE_WEBP, .quality = 80, .lossless = 1 };

		round_trip(&png, pix, 31, 9, c, out);
		cr_assert_eq(memcmp(pix, out, (size_t)31 * 9 * c), 0, "PNG, %d channels", c);
		if (save_channels(SAVE_WEBP, c) == c) {
			round_trip(&webp, pix, 31, 9, c, out);
			cr_assert_eq(memcmp(pix, out, (size_t)31 * 9 * c), 0, "WebP, %d channels", c);
		}
		free(pix);
		free(out);
	}
}

Test(save, jpeg_decodes_close)
{
	struct save_opts o = { .format = SAVE_JPEG, .quality = 95 };
	unsigned char *pix = image(40, 24, 3), *out = malloc(40 * 24 * 3);
	size_t i;
	int worst = 0;

	round_trip(&o, pix, 40, 24, 3, out);
	for (i = 0; i < 40 * 24 * 3; i++)
		if (abs(pix[i] - out[i]) > worst)
			worst = abs(pix[i] - out[i]);
	cr_assert(worst < 40, "worst sample error %d", worst);
	free(pix);
	free(out);
}

Test(save, channels_by_format)
{
	static const int want[3][5] = { { 0, 1, 1, 3, 3 }, { 0, 1, 2, 3, 4 }, { 0, 3, 4, 3, 4 } };
	int f, c;

	for (f = 0; f < 3; f++)
		for (c = 1; c <= 4; c++)
			cr_assert_eq(save_channels((enum save_format)f, c), want[f][c], "%d %d", f, c);
}

Test(save, refuses_channels_the_format_lacks)
{
	struct save_opts o = { .format = SAVE_JPEG, .quality = 75 };
	struct buf b = { 0 };
	unsigned char pix[16] = { 0 };
	char why[256];

	cr_assert_eq(save_encode(&o, pix, 2, 2, 4, &b, why, sizeof(why)), -1);
	cr_assert(strstr(why, "4 channels"), "%s", why);
	o.format = SAVE_WEBP;
	cr_assert_eq(save_encode(&o, pix, 2, 2, 1, &b, why, sizeof(why)), -1);
	free(b.p);
}

Test(save, jpeg_comment_as_pillow_reads_it)
{
	/* SOI, APP0 (4 bytes), COM "ab", COM "xyz", SOS: the last before SOS. */
	static const unsigned char jpg[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 1, 2,
					     0xFF, 0xFE, 0, 4, 'a', 'b', 0xFF, 0xFE, 0, 5, 'x', 'y', 'z',
					     0xFF, 0xDA, 0, 2, 0xFF, 0xFE, 0, 3, 'q' };
	struct save_opts o = { SAVE_JPEG, 75, 0, NULL, 0 };
	const unsigned char *com = NULL;
	size_t n = 0;
	struct buf b = { 0 };
	unsigned char *pix = image(8, 8, 1);
	char why[256];
	long at;

	cr_assert_eq(save_jpeg_comment(jpg, sizeof(jpg), &com, &n), 1);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(com, "xyz", 3), 0);
	cr_assert_eq(save_jpeg_comment(jpg, 19, &com, &n), 1);	/* cut in the second */
	cr_assert_eq(n, 2);
	cr_assert_eq(save_jpeg_comment(jpg + 2, sizeof(jpg) - 2, &com, &n), 0);	/* no SOI */
	/* Written right after the JFIF header, as Pillow writes it. */
	o.comment = (const unsigned char *)"hello";
	o.comment_len = 5;
	cr_assert_eq(save_encode(&o, pix, 8, 8, 1, &b, why, sizeof(why)), 0, "%s", why);
	at = marker(&b, 0xFE);
	cr_assert_eq(at, 20);
	cr_assert_eq(memcmp(b.p + at + 4, "hello", 5), 0);
	free(pix);
	free(b.p);
}
