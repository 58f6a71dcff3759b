/* codec_test.c - unit tests of image encoding and decoding (codec.h): round
 * trips, probe's checks (CRC, truncation, --max-pixels), colour conversions. */
#include "codec/codec.h"
#include "common/rng.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOLIMIT UINT64_MAX

/* 16-bit gray, 3x2: 0 1 257 / 65535 32768 4660 (written with Python's zlib). */
static const unsigned char png_gray16[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02,
	0x10, 0x00, 0x00, 0x00, 0x00, 0xe8, 0x8f, 0xe5, 0x85, 0x00, 0x00, 0x00,
	0x16, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0x60,
	0x64, 0x64, 0x64, 0xf8, 0xff, 0xbf, 0x81, 0x41, 0xc8, 0x04, 0x00, 0x0d,
	0x76, 0x02, 0xc8, 0x21, 0x23, 0xa2, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49,
	0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

/* 16-bit RGB, 2x1: (65535, 0, 1000) (256, 512, 40000). */
static const unsigned char png_rgb16[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
	0x10, 0x02, 0x00, 0x00, 0x00, 0x2b, 0xd0, 0x34, 0x9e, 0x00, 0x00, 0x00,
	0x15, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xff, 0x9f, 0x81,
	0x81, 0xf9, 0x05, 0x23, 0x03, 0x13, 0xc3, 0x1c, 0x07, 0x00, 0x1e, 0xec,
	0x03, 0xc9, 0xe9, 0x70, 0x97, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
	0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

/* Palette, 3x1: indices 0 1 2 of (255,0,0) (0,0,255) (10,20,30), tRNS making
 * index 1 transparent. Pillow reads it as RGBA (255,0,0,255) (0,0,255,0)
 * (10,20,30,255). */
static const unsigned char png_palette[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x03, 0x00, 0x00, 0x00, 0x2c, 0x3e, 0xe4, 0x86, 0x00, 0x00, 0x00,
	0x09, 0x50, 0x4c, 0x54, 0x45, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0x0a,
	0x14, 0x1e, 0xcd, 0x1f, 0x8c, 0x9a, 0x00, 0x00, 0x00, 0x02, 0x74, 0x52,
	0x4e, 0x53, 0xff, 0x00, 0xe5, 0xb7, 0x30, 0x4a, 0x00, 0x00, 0x00, 0x0c,
	0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x64, 0x02, 0x00,
	0x00, 0x08, 0x00, 0x04, 0x36, 0xe0, 0xb0, 0xa6, 0x00, 0x00, 0x00, 0x00,
	0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

/* W x H x C random pixels, malloc'd. */
static unsigned char *random_pixels(int w, int h, int c, uint64_t seed)
{
	size_t n = (size_t)w * (size_t)h * (size_t)c;
	unsigned char *p = malloc(n);
	struct rng r;

	cr_assert_not_null(p);
	rng_init(&r, seed, 0);
	rng_fill(&r, p, n);
	return p;
}

static void encode(enum codec_format fmt, const unsigned char *pix, int w, int h, int c,
		   struct buf *out)
{
	cr_assert_eq(codec_encode(fmt, 6, 90, pix, w, h, c, out), 0, "encode %s c=%d",
		     codec_format_names[fmt], c);
	cr_assert_gt(out->len, 0);
}

/* Probe and decode with the given channels and depth into a new buffer;
 * NULL with WHY on failure. */
static void *try_decode(const unsigned char *data, size_t len, int channels, int depth16,
			int *w, int *h, char *why, size_t whylen)
{
	struct codec_info info;
	void *pix;

	if (codec_probe(data, len, NOLIMIT, &info, why, whylen) < 0)
		return NULL;
	*w = info.w;
	*h = info.h;
	pix = malloc((size_t)info.w * (size_t)info.h * (size_t)channels * (depth16 ? 2 : 1));
	cr_assert_not_null(pix);
	if (codec_decode(data, len, &info, channels, depth16, pix, why, whylen) < 0) {
		free(pix);
		return NULL;
	}
	return pix;
}

/* Decode with the given channels and depth; dimensions must be W x H. */
static void *decode(const struct buf *b, int channels, int depth16, int w, int h)
{
	char why[256] = "";
	int dw = -1, dh = -1;
	void *pix = try_decode(b->p, b->len, channels, depth16, &dw, &dh, why, sizeof(why));

	cr_assert_not_null(pix, "decode to %d channels: %s", channels, why);
	cr_assert_eq(dw, w);
	cr_assert_eq(dh, h);
	return pix;
}

static uint32_t luma(uint32_t r, uint32_t g, uint32_t b)
{
	return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/* Every format we write decodes back to the same pixels (JPEG aside). */
static void round_trip(enum codec_format fmt, int c, int level)
{
	enum { W = 37, H = 23 };
	unsigned char *pix = random_pixels(W, H, c, (uint64_t)(fmt * 10 + c));
	struct buf b = { 0 };
	struct codec_info info;
	char why[256] = "";
	unsigned char *back;
	size_t i;

	cr_assert_eq(codec_encode(fmt, level, 90, pix, W, H, c, &b), 0);
	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0,
		     "%s c=%d: %s", codec_format_names[fmt], c, why);
	cr_assert_eq(info.w, W);
	cr_assert_eq(info.h, H);
	cr_assert_eq(info.is16, 0);
	back = decode(&b, c, 0, W, H);
	for (i = 0; i < (size_t)W * H * c; i++)
		cr_assert_eq(back[i], pix[i], "%s c=%d level %d: sample %zu is %u, not %u",
			     codec_format_names[fmt], c, level, i, back[i], pix[i]);
	free(back);
	free(pix);
	free(b.p);
}

Test(codec, png_round_trip)
{
	int c, level;

	for (c = 1; c <= 4; c++)
		for (level = 0; level <= 12; level += 6)
			round_trip(CODEC_PNG, c, level);
}

Test(codec, png_probe_channels)
{
	int c;

	for (c = 1; c <= 4; c++) {
		unsigned char *pix = random_pixels(5, 4, c, 1);
		struct buf b = { 0 };
		struct codec_info info;
		char why[256];

		encode(CODEC_PNG, pix, 5, 4, c, &b);
		cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0);
		cr_assert_eq(info.channels, c);
		free(pix);
		free(b.p);
	}
}

Test(codec, bmp_round_trip)
{
	round_trip(CODEC_BMP, 3, 0);
	round_trip(CODEC_BMP, 4, 0);
	/* Gray is stored as RGB; back to gray it is the same values. */
	round_trip(CODEC_BMP, 1, 0);
}

Test(codec, tga_round_trip)
{
	int c;

	for (c = 1; c <= 4; c++)
		round_trip(CODEC_TGA, c, 0);
}

/* JPEG is lossy: the size, and a smooth image stays close. */
Test(codec, jpg_size_and_closeness)
{
	enum { W = 64, H = 48 };
	static unsigned char pix[W * H * 3];
	struct buf b = { 0 };
	struct codec_info info;
	char why[256];
	unsigned char *back;
	long err = 0;
	size_t i;
	int x, y;

	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			pix[(y * W + x) * 3] = (unsigned char)(x * 4);
			pix[(y * W + x) * 3 + 1] = (unsigned char)(y * 5);
			pix[(y * W + x) * 3 + 2] = 128;
		}
	encode(CODEC_JPG, pix, W, H, 3, &b);
	cr_assert_eq(b.p[0], 0xff);
	cr_assert_eq(b.p[1], 0xd8);
	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.w, W);
	cr_assert_eq(info.h, H);
	back = decode(&b, 3, 0, W, H);
	for (i = 0; i < sizeof(pix); i++)
		err += labs((long)back[i] - (long)pix[i]);
	cr_assert_lt((double)err / sizeof(pix), 4.0, "mean error %.2f",
		     (double)err / sizeof(pix));
	free(back);
	free(b.p);
}

/* Same pixels, same bytes; a reused buffer is replaced, not appended to. */
Test(codec, encode_is_deterministic)
{
	enum codec_format f;

	for (f = CODEC_PNG; f <= CODEC_JPG; f++) {
		unsigned char *pix = random_pixels(20, 10, 3, 5), *other;
		struct buf a = { 0 }, b = { 0 };

		encode(f, pix, 20, 10, 3, &a);
		other = random_pixels(40, 30, 3, 6);
		encode(f, other, 40, 30, 3, &b);
		encode(f, pix, 20, 10, 3, &b);
		cr_assert_eq(a.len, b.len, "%s", codec_format_names[f]);
		cr_assert_eq(memcmp(a.p, b.p, a.len), 0, "%s", codec_format_names[f]);
		free(pix);
		free(other);
		free(a.p);
		free(b.p);
	}
}

/* Offset of the data of the first chunk of TYPE in a PNG, and its length. */
static size_t find_chunk(const struct buf *b, const char *type, size_t *len)
{
	size_t off = 8;

	while (off + 12 <= b->len) {
		size_t n = (size_t)b->p[off] << 24 | (size_t)b->p[off + 1] << 16 |
			   (size_t)b->p[off + 2] << 8 | b->p[off + 3];

		if (memcmp(b->p + off + 4, type, 4) == 0) {
			*len = n;
			return off + 8;
		}
		off += n + 12;
	}
	cr_assert_fail("no %s chunk", type);
	return 0;
}

static void probe_bad(const unsigned char *data, size_t len, uint64_t max, const char *want)
{
	struct codec_info info;
	char why[256] = "";
	struct ut_guard g;

	ut_guard_copy(&g, data, len);
	cr_assert_eq(codec_probe(g.p, len, max, &info, why, sizeof(why)), -1,
		     "accepted (%zu bytes)", len);
	cr_assert_neq(why[0], '\0', "no reason given");
	if (want)
		cr_assert_not_null(strstr(why, want), "reason '%s' lacks '%s'", why, want);
	ut_guard_free(&g);
}

Test(codec, probe_rejects_bad_crc)
{
	unsigned char *pix = random_pixels(16, 16, 3, 9);
	struct buf b = { 0 };
	size_t off, n;

	encode(CODEC_PNG, pix, 16, 16, 3, &b);
	off = find_chunk(&b, "IDAT", &n);
	cr_assert_gt(n, 10);
	b.p[off + n / 2] ^= 0x01;
	probe_bad(b.p, b.len, NOLIMIT, "CRC");
	probe_bad(b.p, b.len, NOLIMIT, "IDAT");
	b.p[off + n / 2] ^= 0x01;
	/* The CRC itself damaged. */
	b.p[off + n] ^= 0x80;
	probe_bad(b.p, b.len, NOLIMIT, "CRC");
	b.p[off + n] ^= 0x80;
	off = find_chunk(&b, "IHDR", &n);
	b.p[off + 3] ^= 0x02;	/* width */
	probe_bad(b.p, b.len, NOLIMIT, "IHDR");
	free(pix);
	free(b.p);
}

Test(codec, probe_rejects_truncated_png)
{
	unsigned char *pix = random_pixels(16, 16, 3, 9);
	struct buf b = { 0 };
	size_t len;

	encode(CODEC_PNG, pix, 16, 16, 3, &b);
	for (len = 1; len < b.len; len++)
		probe_bad(b.p, len, NOLIMIT, NULL);
	probe_bad(b.p, b.len - 12, NOLIMIT, "truncated");
	probe_bad(b.p, b.len / 2, NOLIMIT, "truncated");
	free(pix);
	free(b.p);
}

/* Every format, cut short: refused, or decoded without reading past the
 * end. */
Test(codec, truncated_files_never_overread)
{
	enum codec_format f;

	for (f = CODEC_PNG; f <= CODEC_JPG; f++) {
		unsigned char *pix = random_pixels(9, 7, 3, 2);
		struct buf b = { 0 };
		size_t len;

		encode(f, pix, 9, 7, 3, &b);
		for (len = 0; len < b.len; len++) {
			struct codec_info info;
			char why[256];
			struct ut_guard g;
			int w, h;

			ut_guard_copy(&g, b.p, len);
			if (codec_probe(g.p, len, NOLIMIT, &info, why, sizeof(why)) == 0)
				free(try_decode(g.p, len, 3, 0, &w, &h, why, sizeof(why)));
			ut_guard_free(&g);
		}
		free(pix);
		free(b.p);
	}
}

Test(codec, probe_rejects_empty_and_text)
{
	static const char text[] = "this is not an image, just some text\n";

	probe_bad((const unsigned char *)"", 0, NOLIMIT, "empty");
	probe_bad((const unsigned char *)text, sizeof(text) - 1, NOLIMIT,
		  "not a supported image");
}

Test(codec, probe_max_pixels)
{
	unsigned char *pix = random_pixels(30, 20, 1, 3);
	struct buf b = { 0 };
	struct codec_info info;
	char why[256];

	encode(CODEC_PNG, pix, 30, 20, 1, &b);
	probe_bad(b.p, b.len, 599, "--max-pixels");
	probe_bad(b.p, b.len, 599, "30x20");
	probe_bad(b.p, b.len, 1, "--max-pixels");
	cr_assert_eq(codec_probe(b.p, b.len, 600, &info, why, sizeof(why)), 0, "%s", why);
	free(pix);
	free(b.p);
}

/* Colour to gray: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, as Pillow. */
Test(codec, rgb_to_gray_luma)
{
	enum { W = 41, H = 13 };
	unsigned char *pix = random_pixels(W, H, 3, 4), *g;
	struct buf b = { 0 };
	size_t i;

	encode(CODEC_PNG, pix, W, H, 3, &b);
	g = decode(&b, 1, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++)
		cr_assert_eq(g[i], luma(pix[3 * i], pix[3 * i + 1], pix[3 * i + 2]),
			     "pixel %zu (%u,%u,%u): %u", i, pix[3 * i], pix[3 * i + 1],
			     pix[3 * i + 2], g[i]);
	free(g);
	/* Gray + alpha from RGB: alpha opaque. */
	g = decode(&b, 2, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++) {
		cr_assert_eq(g[2 * i], luma(pix[3 * i], pix[3 * i + 1], pix[3 * i + 2]));
		cr_assert_eq(g[2 * i + 1], 255);
	}
	free(g);
	free(pix);
	free(b.p);
}

/* Known values, from Pillow's Image.convert("L") of these pixels, in case
 * the test's luma() and the codec's agree on a wrong formula. */
Test(codec, luma_known_values)
{
	static const unsigned char pix[] = {
		255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 10, 200, 30,
	};
	static const unsigned char want[] = { 76, 150, 29, 255, 0, 124 };
	struct buf b = { 0 };
	unsigned char *g;
	size_t i;

	encode(CODEC_PNG, pix, 6, 1, 3, &b);
	g = decode(&b, 1, 0, 6, 1);
	for (i = 0; i < 6; i++)
		cr_assert_eq(g[i], want[i], "pixel %zu: %u, not %u", i, g[i], want[i]);
	free(g);
	free(b.p);
}

Test(codec, rgba_to_gray_alpha)
{
	enum { W = 17, H = 9 };
	unsigned char *pix = random_pixels(W, H, 4, 8), *g;
	struct buf b = { 0 };
	size_t i;

	encode(CODEC_PNG, pix, W, H, 4, &b);
	g = decode(&b, 2, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++) {
		cr_assert_eq(g[2 * i], luma(pix[4 * i], pix[4 * i + 1], pix[4 * i + 2]));
		cr_assert_eq(g[2 * i + 1], pix[4 * i + 3], "alpha of pixel %zu", i);
	}
	free(g);
	g = decode(&b, 3, 0, W, H);
	for (i = 0; i < (size_t)W * H * 3; i++)
		cr_assert_eq(g[i], pix[i / 3 * 4 + i % 3], "RGBA to RGB drops alpha");
	free(g);
	free(pix);
	free(b.p);
}

/* Gray replicated to RGB; missing alpha opaque. */
Test(codec, gray_to_colour)
{
	enum { W = 19, H = 7 };
	unsigned char *pix = random_pixels(W, H, 1, 2), *g;
	unsigned char *ga = random_pixels(W, H, 2, 3);
	struct buf b = { 0 };
	size_t i;

	encode(CODEC_PNG, pix, W, H, 1, &b);
	g = decode(&b, 3, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++) {
		cr_assert_eq(g[3 * i], pix[i], "pixel %zu", i);
		cr_assert_eq(g[3 * i + 1], pix[i]);
		cr_assert_eq(g[3 * i + 2], pix[i]);
	}
	free(g);
	g = decode(&b, 4, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++) {
		cr_assert_eq(g[4 * i], pix[i]);
		cr_assert_eq(g[4 * i + 1], pix[i]);
		cr_assert_eq(g[4 * i + 2], pix[i]);
		cr_assert_eq(g[4 * i + 3], 255);
	}
	free(g);
	g = decode(&b, 2, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++) {
		cr_assert_eq(g[2 * i], pix[i]);
		cr_assert_eq(g[2 * i + 1], 255);
	}
	free(g);
	/* Gray + alpha to RGBA and to gray. */
	encode(CODEC_PNG, ga, W, H, 2, &b);
	g = decode(&b, 4, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++) {
		cr_assert_eq(g[4 * i], ga[2 * i]);
		cr_assert_eq(g[4 * i + 2], ga[2 * i]);
		cr_assert_eq(g[4 * i + 3], ga[2 * i + 1]);
	}
	free(g);
	g = decode(&b, 1, 0, W, H);
	for (i = 0; i < (size_t)W * H; i++)
		cr_assert_eq(g[i], ga[2 * i]);
	free(g);
	free(ga);
	free(pix);
	free(b.p);
}

/* 8-bit sources at depth 16: each sample times 257. */
Test(codec, depth16_scales_8bit_by_257)
{
	int c;

	for (c = 1; c <= 4; c++) {
		enum { W = 13, H = 11 };
		unsigned char *pix = random_pixels(W, H, c, 20 + (uint64_t)c);
		struct buf b = { 0 };
		uint16_t *d;
		size_t i;

		encode(CODEC_PNG, pix, W, H, c, &b);
		d = decode(&b, c, 1, W, H);
		for (i = 0; i < (size_t)W * H * c; i++)
			cr_assert_eq(d[i], pix[i] * 257u, "c=%d sample %zu: %u, not %u", c, i,
				     d[i], pix[i] * 257u);
		free(d);
		free(pix);
		free(b.p);
	}
}

Test(codec, depth16_gray_from_rgb)
{
	enum { W = 13, H = 5 };
	unsigned char *pix = random_pixels(W, H, 3, 30);
	struct buf b = { 0 };
	uint16_t *d;
	size_t i;

	encode(CODEC_TGA, pix, W, H, 3, &b);
	d = decode(&b, 1, 1, W, H);
	for (i = 0; i < (size_t)W * H; i++)
		cr_assert_eq(d[i], luma(pix[3 * i] * 257u, pix[3 * i + 1] * 257u,
					pix[3 * i + 2] * 257u), "pixel %zu", i);
	free(d);
	free(pix);
	free(b.p);
}

Test(codec, png16_gray)
{
	static const uint16_t want[] = { 0, 1, 257, 65535, 32768, 4660 };
	struct buf b = { (unsigned char *)png_gray16, sizeof(png_gray16), 0 };
	struct codec_info info;
	char why[256];
	uint16_t *d;
	size_t i;

	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.w, 3);
	cr_assert_eq(info.h, 2);
	cr_assert_eq(info.channels, 1);
	cr_assert_eq(info.is16, 1);
	d = decode(&b, 1, 1, 3, 2);
	for (i = 0; i < 6; i++)
		cr_assert_eq(d[i], want[i], "sample %zu: %u", i, d[i]);
	free(d);
	d = decode(&b, 3, 1, 3, 2);
	for (i = 0; i < 18; i++)
		cr_assert_eq(d[i], want[i / 3], "sample %zu: %u", i, d[i]);
	free(d);
}

Test(codec, png16_rgb_to_gray)
{
	static const uint32_t px[2][3] = { { 65535, 0, 1000 }, { 256, 512, 40000 } };
	struct buf b = { (unsigned char *)png_rgb16, sizeof(png_rgb16), 0 };
	struct codec_info info;
	char why[256];
	uint16_t *d;
	size_t i;

	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.channels, 3);
	cr_assert_eq(info.is16, 1);
	d = decode(&b, 3, 1, 2, 1);
	for (i = 0; i < 6; i++)
		cr_assert_eq(d[i], px[i / 3][i % 3], "sample %zu: %u", i, d[i]);
	free(d);
	d = decode(&b, 1, 1, 2, 1);
	for (i = 0; i < 2; i++)
		cr_assert_eq(d[i], luma(px[i][0], px[i][1], px[i][2]), "pixel %zu: %u", i, d[i]);
	free(d);
}

Test(codec, palette_and_trns)
{
	static const unsigned char rgba[] = { 255, 0, 0, 255, 0, 0, 255, 0, 10, 20, 30, 255 };
	struct buf b = { (unsigned char *)png_palette, sizeof(png_palette), 0 };
	struct codec_info info;
	unsigned char *d;
	char why[256];
	size_t i;

	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.w, 3);
	cr_assert_geq(info.channels, 3);
	d = decode(&b, 4, 0, 3, 1);
	for (i = 0; i < sizeof(rgba); i++)
		cr_assert_eq(d[i], rgba[i], "sample %zu: %u, not %u", i, d[i], rgba[i]);
	free(d);
	d = decode(&b, 3, 0, 3, 1);
	for (i = 0; i < 9; i++)
		cr_assert_eq(d[i], rgba[i / 3 * 4 + i % 3], "sample %zu", i);
	free(d);
	d = decode(&b, 1, 0, 3, 1);
	for (i = 0; i < 3; i++)
		cr_assert_eq(d[i], luma(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]));
	free(d);
}

Test(codec, pnm)
{
	static const unsigned char p5[] = "P5\n# comment\n3 2\n255\n\x01\x02\x03\xfd\xfe\xff";
	static const unsigned char p6[] = "P6 2 1 255 \x0a\x0b\x0c\x0d\x0e\x0f";
	struct buf b;
	struct codec_info info;
	char why[256];
	unsigned char *d;
	uint16_t *d16;
	size_t i;

	b = (struct buf){ (unsigned char *)p5, sizeof(p5) - 1, 0 };
	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.channels, 1);
	cr_assert_eq(info.w, 3);
	cr_assert_eq(info.h, 2);
	cr_assert_eq(info.is16, 0);
	d = decode(&b, 1, 0, 3, 2);
	for (i = 0; i < 6; i++)
		cr_assert_eq(d[i], p5[sizeof(p5) - 7 + i], "sample %zu", i);
	free(d);
	/* 8-bit PNM at depth 16: times 257, as the other formats. */
	d16 = decode(&b, 1, 1, 3, 2);
	for (i = 0; i < 6; i++)
		cr_assert_eq(d16[i], p5[sizeof(p5) - 7 + i] * 257u, "sample %zu", i);
	free(d16);
	b = (struct buf){ (unsigned char *)p6, sizeof(p6) - 1, 0 };
	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.channels, 3);
	d = decode(&b, 3, 0, 2, 1);
	for (i = 0; i < 6; i++)
		cr_assert_eq(d[i], 0x0a + i, "sample %zu", i);
	free(d);
}

/* 16-bit PNM samples are big-endian (netpbm; Pillow reads this file as
 * 4660 65534). */
Test(codec, pnm16_big_endian)
{
	static const unsigned char p5[] = "P5 2 1 65535\n\x12\x34\xff\xfe";
	static const unsigned char p6[] = "P6 1 1 65535\n\x01\x02\x03\x04\x05\x06";
	struct buf b = { (unsigned char *)p5, sizeof(p5) - 1, 0 };
	struct codec_info info;
	char why[256];
	uint16_t *d;

	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.is16, 1);
	d = decode(&b, 1, 1, 2, 1);
	cr_assert_eq(d[0], 0x1234, "sample 0: 0x%04x, not 0x1234", d[0]);
	cr_assert_eq(d[1], 0xfffe, "sample 1: 0x%04x, not 0xfffe", d[1]);
	free(d);
	b = (struct buf){ (unsigned char *)p6, sizeof(p6) - 1, 0 };
	d = decode(&b, 3, 1, 1, 1);
	cr_assert_eq(d[0], 0x0102, "R: 0x%04x, not 0x0102", d[0]);
	cr_assert_eq(d[1], 0x0304, "G: 0x%04x, not 0x0304", d[1]);
	cr_assert_eq(d[2], 0x0506, "B: 0x%04x, not 0x0506", d[2]);
	free(d);
}

/* A maxval other than 255 is scaled to the full range: 0 -> 0, maxval ->
 * 255 (65535 at depth 16). */
Test(codec, pnm_maxval_scaled)
{
	static const unsigned char p5[] = "P5 3 1 15\n\x00\x0f\x10";
	struct buf b = { (unsigned char *)p5, sizeof(p5) - 1, 0 };
	struct codec_info info;
	char why[256];
	unsigned char *d;
	uint16_t *d16;

	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	d = decode(&b, 1, 0, 3, 1);
	cr_assert_eq(d[0], 0);
	cr_assert_eq(d[1], 255, "maxval gave %u", d[1]);
	cr_assert_eq(d[2], 255, "a sample above maxval gave %u", d[2]);
	free(d);
	d16 = decode(&b, 1, 1, 3, 1);
	cr_assert_eq(d16[0], 0);
	cr_assert_eq(d16[1], 65535, "maxval gave %u", d16[1]);
	free(d16);
}

Test(codec, pnm_truncated)
{
	static const unsigned char p5[] = "P5\n3 2\n255\n\x01\x02\x03\xfd\xfe\xff";
	static const unsigned char p6_16[] = "P6 2 2 65535\n\x01\x02\x03\x04\x05\x06";
	size_t len;

	probe_bad(p5, sizeof(p5) - 2, NOLIMIT, "truncated PNM");
	probe_bad(p6_16, sizeof(p6_16) - 1, NOLIMIT, "truncated PNM");
	for (len = 1; len < sizeof(p5) - 1; len++)
		probe_bad(p5, len, NOLIMIT, NULL);
}

Test(codec, decode_rejects_garbage)
{
	static const unsigned char junk[] = "\x00\x01\x02 definitely not an image";
	char why[256] = "";
	int w, h;

	cr_assert_null(try_decode(junk, sizeof(junk) - 1, 3, 0, &w, &h, why, sizeof(why)));
	cr_assert_not_null(strstr(why, "not a supported image"), "%s", why);
}

/* Palette GIF, 3x2: indices 0 1 2 / 2 1 3 of (255,0,0) (0,0,255) (10,20,30)
 * (200,100,50), index 1 transparent (written by Pillow, whose RGBA is
 * below). */
static const unsigned char gif_palette[] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x03, 0x00, 0x02, 0x00, 0x81, 0x00,
	0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0x0a, 0x14, 0x1e, 0xc8, 0x64,
	0x32, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x01, 0x00, 0x2c, 0x00, 0x00,
	0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x08, 0x09, 0x00, 0x01, 0x04,
	0x10, 0x20, 0x20, 0xc0, 0x80, 0x80, 0x00, 0x3b,
};

Test(codec, gif_palette_and_transparency)
{
	static const unsigned char want[] = {
		255, 0, 0, 255, 0, 0, 255, 0, 10, 20, 30, 255,
		10, 20, 30, 255, 0, 0, 255, 0, 200, 100, 50, 255,
	};
	struct buf b = { (unsigned char *)gif_palette, sizeof(gif_palette), 0 };
	struct codec_info info;
	char why[256] = "";
	unsigned char *pix;
	size_t len;

	cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.channels, 4);
	pix = decode(&b, 4, 0, 3, 2);
	cr_assert_arr_eq(pix, want, sizeof(want));
	free(pix);
	/* Cut anywhere before the trailer's last data byte: refused. */
	for (len = 1; len < sizeof(gif_palette) - 2; len++)
		probe_bad(gif_palette, len, NOLIMIT, NULL);
}

/* A GIF89a of one W x 1 frame, no colour table (read as gray), whose LZW
 * data at code size MCS is CODES, each written at the width a decoder reads
 * it at (one bit more than MCS, growing as the table fills, up to 12), into
 * OUT (room for 128 + 2 * N bytes). Its length. */
static size_t gif_of_codes(unsigned char *out, int w, int mcs, const int *codes, int n)
{
	int clear = 1 << mcs, size = mcs + 1, next = clear + 2, fresh = 1, k, bits = 0;
	size_t len = 0, blk;
	uint32_t acc = 0;

	len += (size_t)sprintf((char *)out, "GIF89a");
	out[len++] = (unsigned char)w, out[len++] = (unsigned char)(w >> 8);
	out[len++] = 1, out[len++] = 0, out[len++] = 0, out[len++] = 0, out[len++] = 0;
	memcpy(out + len, ",\0\0\0\0", 5), len += 5;
	out[len++] = (unsigned char)w, out[len++] = (unsigned char)(w >> 8);
	out[len++] = 1, out[len++] = 0, out[len++] = 0, out[len++] = (unsigned char)mcs;
	blk = len++;
	for (k = 0; k < n; k++) {
		acc |= (uint32_t)codes[k] << bits;
		for (bits += size; bits >= 8; bits -= 8, acc >>= 8)
			out[len++] = (unsigned char)acc;
		if (codes[k] == clear)
			size = mcs + 1, next = clear + 2, fresh = 1;
		else if (fresh)
			fresh = 0;
		else if (next < 4096 && ++next == 1 << size && size < 12)
			size++;
	}
	if (bits)
		out[len++] = (unsigned char)acc;
	cr_assert_leq(len - blk - 1, 255);
	out[blk] = (unsigned char)(len - blk - 1);
	out[len++] = 0;
	out[len++] = ';';
	return len;
}

/* Decode GIF bytes from a guarded copy (a read past them faults) to gray;
 * NULL with WHY when refused. */
static unsigned char *gif_gray(const unsigned char *gif, size_t len, char *why, size_t whylen)
{
	struct ut_guard g;
	unsigned char *pix;
	int w, h;

	ut_guard_copy(&g, gif, len);
	pix = try_decode(g.p, len, 1, 0, &w, &h, why, whylen);
	ut_guard_free(&g);
	return pix;
}

/* Issue 32: at code size 12 the clear code is 4096 and the first free code
 * 4098, so the table never grows; the old decoder took 4098 after 4098 and
 * read and wrote past its static table. Refused now (Pillow: "broken data
 * stream"), after a file of index 16 as before it, and nothing of either
 * changes the next file's pixels. The one Pillow reads (4098 once, after a
 * literal; literals past 255 as their low byte) gives Pillow's pixels. */
Test(codec, gif_lzw_code_size_12)
{
	static const int reads[] = { 4096, 5, 4098, 300, 4098, 4096, 7, 259, 4098, 4097 };
	static const unsigned char want[] = { 5, 5, 5, 44, 44, 44, 7, 3 };
	int hostile[42], plain[66], k;
	unsigned char a[256], b[256], c[256], *pix;
	size_t alen, blen, clen;
	char why[256] = "";

	hostile[0] = 5;
	for (k = 1; k <= 40; k++)
		hostile[k] = 4098;
	hostile[41] = 4097;
	plain[0] = 256;
	for (k = 1; k <= 64; k++)
		plain[k] = 16;		/* literals only: the table grows, unused */
	plain[65] = 257;
	alen = gif_of_codes(a, 64, 8, plain, 66);
	blen = gif_of_codes(b, 64, 12, hostile, 42);
	cr_assert_eq(blen, 96);
	clen = gif_of_codes(c, 8, 12, reads, 10);
	for (k = 0; k < 2; k++) {
		pix = gif_gray(a, alen, why, sizeof(why));
		cr_assert_not_null(pix, "%s", why);
		cr_assert_eq(pix[0], 16);
		cr_assert_eq(pix[63], 16);
		free(pix);
		cr_assert_null(gif_gray(b, blen, why, sizeof(why)));
		cr_assert_str_eq(why, "corrupt GIF (bad LZW code)");
		pix = gif_gray(c, clen, why, sizeof(why));
		cr_assert_not_null(pix, "%s", why);
		cr_assert_arr_eq(pix, want, sizeof(want));
		free(pix);
	}
}

/* Every code size Pillow reads, 0 to 12, literals only (at 0 and 1 the
 * width never grows, at 12 the table starts full): the pixels are the
 * literals' low bytes. An end code before the frame is whole is truncation
 * (Pillow's "image file is truncated"); 13 is refused at probe. */
Test(codec, gif_lzw_code_sizes)
{
	int mcs, k, codes[10];
	unsigned char gif[256], *pix;
	char why[256] = "";
	size_t len;

	for (mcs = 0; mcs <= 13; mcs++) {
		int clear = 1 << mcs;

		codes[0] = clear;
		for (k = 1; k <= 8; k++)
			codes[k] = mcs ? (k * 37 + 3) & (clear - 1) : 0;
		codes[9] = clear + 1;
		len = gif_of_codes(gif, 8, mcs, codes, 10);
		pix = gif_gray(gif, len, why, sizeof(why));
		if (mcs == 13) {
			cr_assert_null(pix);
			cr_assert_str_eq(why, "corrupt GIF (LZW code size 13)");
			continue;
		}
		cr_assert_not_null(pix, "code size %d: %s", mcs, why);
		for (k = 0; k < 8; k++)
			cr_assert_eq(pix[k], (unsigned char)codes[k + 1], "code size %d pixel %d", mcs, k);
		free(pix);
		codes[5] = clear + 1;	/* end after 4 of 8 */
		len = gif_of_codes(gif, 8, mcs, codes, 6);
		cr_assert_null(gif_gray(gif, len, why, sizeof(why)), "code size %d", mcs);
		cr_assert_not_null(strstr(why, "truncated GIF"), "%s", why);
	}
}

/* --draft's scales: Pillow's rule, the largest of 1/2, 1/4, 1/8 whose
 * unrounded size covers the target, and only at half size or less. */
Test(codec, draft_scales)
{
	static const struct {
		int tw, th, w, h;	/* target; decoded size (0: full) */
	} cases[] = {
		{ 160, 120, 160, 120 }, { 80, 60, 80, 60 }, { 40, 30, 40, 30 },
		{ 10, 10, 40, 30 }, { 100, 75, 160, 120 }, { 161, 120, 0, 0 },
		{ 160, 121, 0, 0 }, { 200, 10, 0, 0 }, { 41, 30, 80, 60 },
	};
	unsigned char *pix = random_pixels(320, 240, 3, 9), *out;
	struct buf b = { 0 };
	size_t i;

	encode(CODEC_JPG, pix, 320, 240, 3, &b);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct codec_info info;
		char why[256];

		cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
		codec_draft(&info, cases[i].tw, cases[i].th);
		cr_assert_eq(info.w, cases[i].w ? cases[i].w : 320, "%dx%d", cases[i].tw, cases[i].th);
		cr_assert_eq(info.h, cases[i].h ? cases[i].h : 240, "%dx%d", cases[i].tw, cases[i].th);
		out = malloc((size_t)info.w * (size_t)info.h * 3);
		cr_assert_eq(codec_decode(b.p, b.len, &info, 3, 0, out, why, sizeof(why)), 0, "%s", why);
		free(out);
	}
	free(pix);
	free(b.p);
}

/* The file's bytes choose: a PNG is a PNG whatever it would be taken for,
 * and text is nothing. */
Test(codec, format_from_bytes)
{
	unsigned char *pix = random_pixels(5, 4, 3, 3);
	enum codec_format f;

	for (f = CODEC_PNG; f <= CODEC_JPG; f++) {
		static const char *const name[] = { "PNG", "BMP", "TGA", "JPEG" };
		struct buf b = { 0 };
		struct codec_info info;
		char why[256];

		encode(f, pix, 5, 4, 3, &b);
		cr_assert_eq(codec_probe(b.p, b.len, NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
		cr_assert_not_null(info.dec);
		/* A decoder's errors name its format: cut the file short. */
		if (f != CODEC_TGA && f != CODEC_BMP) {
			cr_assert_eq(codec_probe(b.p, b.len / 2, NOLIMIT, &info, why, sizeof(why)) == 0 ?
				     codec_decode(b.p, b.len / 2, &info, 3, 0, pix, why, sizeof(why)) : -1,
				     -1);
			cr_assert_not_null(strstr(why, name[f]), "%s: %s", name[f], why);
		}
		free(b.p);
	}
	free(pix);
}

/* codec_info's palette flag (for "parimg check"): set for BMP and TGA files
 * whose colours come from a palette, not for direct colour or a BMP whose
 * palette is all gray (Pillow's mode L). */
Test(codec, bmp_tga_palette_flag)
{
	/* 2x1 8-bit BMP, 2 colours: red and blue, then a gray ramp. */
	static unsigned char bmp[14 + 40 + 8 + 4] = "BM";
	static const unsigned char tga_p[18 + 6 + 2] = {
		0, 1, 1, 0, 0, 2, 0, 24, 0, 0, 0, 0, 2, 0, 1, 0, 8, 0,
		0, 0, 255, 255, 0, 0, 0, 1 };
	static const unsigned char tga_rgb[18 + 6] = {
		0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 24, 0 };
	struct codec_info info;
	char why[256];

	bmp[10] = 14 + 40 + 8;
	bmp[14] = 40;
	bmp[18] = 2;
	bmp[22] = 1;
	bmp[26] = 1;
	bmp[28] = 8;
	bmp[46] = 2;
	bmp[14 + 40 + 2] = 255;	/* entry 0 red (BGRX) */
	bmp[14 + 40 + 4] = 255;	/* entry 1 blue */
	cr_assert_eq(codec_probe(bmp, sizeof(bmp), NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.palette, 1);
	cr_assert_eq(info.channels, 3);
	bmp[14 + 40 + 2] = 0;		/* black and white: mode 1 */
	bmp[14 + 40 + 4] = bmp[14 + 40 + 5] = bmp[14 + 40 + 6] = 255;
	cr_assert_eq(codec_probe(bmp, sizeof(bmp), NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.palette, 0);
	cr_assert_eq(info.channels, 1);
	cr_assert_eq(codec_probe(tga_p, sizeof(tga_p), NOLIMIT, &info, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(info.palette, 1);
	cr_assert_eq(codec_probe(tga_rgb, sizeof(tga_rgb), NOLIMIT, &info, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(info.palette, 0);
}

/* An SGI file of 3 x 2 gray pixels, RLE, top row 1 2 3 over a run of 7;
 * stored bottom-up: the run first. Its tables: starts 528 and 531,
 * lengths 3 and 5. */
static unsigned char *sgi_rle_file(size_t *len)
{
	static const unsigned char body[] = { 0, 0, 2, 16, 0, 0, 2, 19, 0, 0, 0, 3, 0, 0, 0, 5,
					      3, 7, 0, 0x83, 1, 2, 3, 0 };
	unsigned char *f = calloc(1, 512 + sizeof(body));

	cr_assert_not_null(f);
	memcpy(f, "\x01\xda\x01\x01\x00\x02\x00\x03\x00\x02\x00\x01", 12);
	memcpy(f + 512, body, sizeof(body));
	*len = 512 + sizeof(body);
	return f;
}

/* An icon of one 2 x 2 24-bit BMP frame (its header's height 4): the
 * bottom row red and green, the top blue and white; the AND mask makes the
 * top left pixel transparent. */
static size_t ico_bmp_file(unsigned char *f)
{
	static const unsigned char rows[] = { 0, 0, 255, 0, 255, 0, 0, 0,
					      255, 0, 0, 255, 255, 255, 0, 0 };
	static const unsigned char mask[] = { 0, 0, 0, 0, 0x80, 0, 0, 0 };
	size_t n = 0, frame = 40 + sizeof(rows) + sizeof(mask);

	memcpy(f, "\0\0\1\0\1\0\2\2\0\0\1\0\x18\0", 14);
	f[14] = (unsigned char)frame;
	memcpy(f + 15, "\0\0\0\x16\0\0\0", 7);
	n = 22;
	memset(f + n, 0, 40);
	f[n] = 40;
	f[n + 4] = 2;
	f[n + 8] = 4;
	f[n + 12] = 1;
	f[n + 14] = 24;
	n += 40;
	memcpy(f + n, rows, sizeof(rows));
	n += sizeof(rows);
	memcpy(f + n, mask, sizeof(mask));
	return n + sizeof(mask);
}

Test(codec, sgi_rle_and_ico_bmp_frame)
{
	static const unsigned char sgi_want[] = { 1, 2, 3, 7, 7, 7 };
	static const unsigned char ico_want[] = { 0, 0, 255, 0, 255, 255, 255, 255,
						  255, 0, 0, 255, 0, 255, 0, 255 };
	unsigned char ico[128], *sgi, *pix;
	struct buf b;
	size_t len;

	sgi = sgi_rle_file(&len);
	b = (struct buf){ .p = sgi, .len = len };
	pix = decode(&b, 1, 0, 3, 2);
	cr_assert_arr_eq(pix, sgi_want, sizeof(sgi_want));
	free(pix);
	free(sgi);
	b = (struct buf){ .p = ico, .len = ico_bmp_file(ico) };
	pix = decode(&b, 4, 0, 2, 2);
	cr_assert_arr_eq(pix, ico_want, sizeof(ico_want));
	free(pix);
}

/* Pillow's _accept for ICO, and no more: a cursor is not an icon, nor an
 * icon of no entries (Pillow goes on to other formats); SGI's 474. */
Test(codec, ico_and_sgi_sniff)
{
	cr_assert(codec_sniff((const unsigned char *)"\0\0\1\0\1\0", 6));
	cr_assert_not(codec_sniff((const unsigned char *)"\0\0\2\0\1\0", 6));
	cr_assert_not(codec_sniff((const unsigned char *)"\0\0\1\0\0\0", 6));
	cr_assert_not(codec_sniff((const unsigned char *)"\0\0\1\0", 4));
	cr_assert(codec_sniff((const unsigned char *)"\x01\xda", 2));
	cr_assert_not(codec_sniff((const unsigned char *)"\xda\x01", 2));
}

/* SGI and ICO cut at every length: refused, or decoded without reading
 * past the end (the guard page after the bytes). */
Test(codec, sgi_ico_truncated_never_overread)
{
	unsigned char ico[128], *sgi;
	size_t sgilen, icolen = ico_bmp_file(ico);

	sgi = sgi_rle_file(&sgilen);
	for (int k = 0; k < 2; k++) {
		const unsigned char *f = k ? ico : sgi;
		size_t n = k ? icolen : sgilen;

		for (size_t len = 0; len < n; len++) {
			struct ut_guard g;
			char why[256];
			int w, h;

			ut_guard_copy(&g, f, len);
			free(try_decode(g.p, len, 4, 1, &w, &h, why, sizeof(why)));
			ut_guard_free(&g);
		}
	}
	free(sgi);
}

/* codec_decode_indices: a palette PNG gives its indices (Pillow's mode P
 * through np.asarray), never its colours, tRNS or not; gray PNGs their
 * values; colour, 16-bit and gray with alpha are refused, saying why. */
static int indices_of(const unsigned char *data, size_t len, unsigned char *out, char *why,
		      size_t whylen)
{
	struct codec_info info;

	cr_assert_eq(codec_probe(data, len, NOLIMIT, &info, why, whylen), 0, "%s", why);
	return codec_decode_indices(data, len, &info, out, why, whylen);
}

Test(codec, decode_indices_of_a_palette_png)
{
	unsigned char got[3] = { 9, 9, 9 };
	char why[256] = "";

	cr_assert_eq(indices_of(png_palette, sizeof(png_palette), got, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert(got[0] == 0 && got[1] == 1 && got[2] == 2, "%u %u %u", got[0], got[1], got[2]);
}

Test(codec, decode_indices_of_gray_and_refusals)
{
	enum { W = 13, H = 7 };
	unsigned char *pix = random_pixels(W, H, 3, 5), got[W * H * 2];
	struct buf b = { 0 };
	char why[256] = "";
	size_t i;

	/* Gray: the values as they are (gray JPEGs: tests/cli_masks_test.py). */
	encode(CODEC_PNG, pix, W, H, 1, &b);
	cr_assert_eq(indices_of(b.p, b.len, got, why, sizeof(why)), 0, "%s", why);
	for (i = 0; i < W * H; i++)
		cr_assert_eq(got[i], pix[i], "pixel %zu", i);
	/* Colour and gray with alpha: one index a pixel they have not. */
	encode(CODEC_PNG, pix, W, H, 3, &b);
	cr_assert_eq(indices_of(b.p, b.len, got, why, sizeof(why)), -1);
	cr_assert(strstr(why, "3 channels (colour"), "%s", why);
	encode(CODEC_PNG, pix, W, H, 2, &b);
	cr_assert_eq(indices_of(b.p, b.len, got, why, sizeof(why)), -1);
	cr_assert(strstr(why, "gray and alpha"), "%s", why);
	/* 16-bit: not 8-bit indices. */
	cr_assert_eq(indices_of(png_gray16, sizeof(png_gray16), got, why, sizeof(why)), -1);
	cr_assert(strstr(why, "16-bit"), "%s", why);
	/* A GIF's palette: refused, not read as colours. */
	cr_assert_eq(indices_of(gif_palette, sizeof(gif_palette), got, why, sizeof(why)), -1);
	cr_assert(strstr(why, "palette mask"), "%s", why);
	free(b.p);
	free(pix);
}
