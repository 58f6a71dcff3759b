/* exif_test.c - unit tests of the EXIF orientation parser (exif.h): both
 * byte orders, the value types Pillow reads, its skips, and hostile blocks
 * (truncated everywhere, offsets past the end, huge counts), each read at
 * the end of a guarded page so that a read past the block crashes. */
#include "codec/exif.h"
#include "common/rng.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* EXIF of LEN bytes at D, read where a byte past the end is unmapped. */
static int guarded(const unsigned char *d, size_t len)
{
	struct ut_guard g;
	int o;

	ut_guard_copy(&g, d, len);
	o = exif_orientation(g.p, len);
	ut_guard_free(&g);
	return o;
}

static void put16(unsigned char *p, unsigned v, int be)
{
	p[be ? 0 : 1] = (unsigned char)(v >> 8);
	p[be ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v, int be)
{
	int k;

	for (k = 0; k < 4; k++)
		p[be ? k : 3 - k] = (unsigned char)(v >> (8 * (3 - k)));
}

/* A block of "Exif\0\0" (when PREFIX), a TIFF header and one IFD of one
 * entry (TAG, TYPE, COUNT, VALUE as the 4 value bytes, written as a number
 * of the type's size), into B; its length. */
static size_t block(unsigned char *b, int prefix, int be, unsigned tag, unsigned type,
		    uint32_t count, uint32_t value)
{
	unsigned char *t = b + (prefix ? 6 : 0);

	if (prefix)
		memcpy(b, "Exif\0\0", 6);
	memcpy(t, be ? "MM" : "II", 2);
	put16(t + 2, 42, be);
	put32(t + 4, 8, be);
	put16(t + 8, 1, be);
	put16(t + 10, tag, be);
	put16(t + 12, type, be);
	put32(t + 14, count, be);
	memset(t + 18, 0, 4);
	if (type == 3 || type == 8)
		put16(t + 18, value, be);
	else if (type == 1 || type == 6)
		t[18] = (unsigned char)value;
	else
		put32(t + 18, value, be);
	put32(t + 22, 0, be);
	return (size_t)(t + 26 - b);
}

Test(exif_orientation, every_value_both_orders_with_and_without_prefix)
{
	unsigned char b[64];
	int be, prefix;
	unsigned v;

	for (be = 0; be < 2; be++)
		for (prefix = 0; prefix < 2; prefix++)
			for (v = 0; v <= 10; v++) {
				size_t n = block(b, prefix, be, 0x0112, 3, 1, v);
				int want = v >= 1 && v <= 8 ? (int)v : -1;

				cr_assert_eq(guarded(b, n), want, "be %d prefix %d value %u", be, prefix, v);
			}
}

Test(exif_orientation, integer_types_as_pillow)
{
	unsigned char b[64];
	/* BYTE, SHORT, LONG, SBYTE, SSHORT, SLONG: Pillow gets an int. */
	static const unsigned types[] = { 1, 3, 4, 6, 8, 9 };
	size_t k;

	for (k = 0; k < sizeof(types) / sizeof(types[0]); k++)
		cr_assert_eq(guarded(b, block(b, 1, 1, 0x0112, types[k], 1, 6)), 6,
			     "type %u", types[k]);
	/* ASCII, RATIONAL, UNDEFINED and unknown types: no int, no turn. */
	cr_assert_eq(guarded(b, block(b, 1, 1, 0x0112, 2, 1, 6)), 0);
	cr_assert_eq(guarded(b, block(b, 1, 1, 0x0112, 5, 1, 6)), 0);
	cr_assert_eq(guarded(b, block(b, 1, 1, 0x0112, 7, 1, 6)), 0);
	cr_assert_eq(guarded(b, block(b, 1, 1, 0x0112, 99, 1, 6)), 0);
	/* Negative signed values are out of range. */
	cr_assert_eq(guarded(b, block(b, 0, 0, 0x0112, 8, 1, 0xfffa)), -1);
}

Test(exif_orientation, counts)
{
	unsigned char b[64];
	size_t n;

	/* No values: Pillow has nothing. */
	cr_assert_eq(guarded(b, block(b, 0, 1, 0x0112, 3, 0, 6)), 0);
	/* Two SHORTs fit in the entry: the first is taken. */
	n = block(b, 0, 1, 0x0112, 3, 2, 0);
	put32(b + 18, 6u << 16 | 3, 1);
	cr_assert_eq(guarded(b, n), 6);
	/* Three SHORTs are stored at an offset: here past the end, skipped. */
	cr_assert_eq(guarded(b, block(b, 0, 1, 0x0112, 3, 3, 24)), 0);
	/* A huge count never reads far: skipped. */
	cr_assert_eq(guarded(b, block(b, 0, 1, 0x0112, 4, 0xffffffffu, 0)), 0);
	cr_assert_eq(guarded(b, block(b, 0, 0, 0x0112, 3, 0x80000000u, 0xffffffffu)), 0);
}

Test(exif_orientation, values_at_an_offset)
{
	unsigned char b[64];
	size_t n = block(b, 0, 0, 0x0112, 3, 3, 26);

	/* Three SHORTs at offset 26, the end of the block made longer. */
	put16(b + 26, 8, 0);
	put16(b + 28, 1, 0);
	put16(b + 30, 1, 0);
	cr_assert_eq(n, 26);
	cr_assert_eq(guarded(b, 32), 8);
	/* One byte short of the three values: skipped. */
	cr_assert_eq(guarded(b, 31), 0);
}

Test(exif_orientation, last_entry_wins_other_tags_ignored)
{
	unsigned char b[64];
	size_t n = block(b, 0, 1, 0x0112, 3, 1, 3);

	/* A second entry, 0x0112 again with 5: Pillow's dict keeps the last. */
	put16(b + 8, 2, 1);
	memcpy(b + 22, b + 10, 12);
	put16(b + 22 + 8, 5, 1);
	put32(b + 34, 0, 1);
	cr_assert_eq(guarded(b, 38), 5);
	/* The first entry another tag: only the second counts. */
	put16(b + 10, 0x0110, 1);
	cr_assert_eq(guarded(b, 38), 5);
	/* Cut inside the second entry: the first (another tag) is all. */
	cr_assert_eq(guarded(b, 30), 0);
	(void)n;
}

Test(exif_orientation, malformed_headers)
{
	unsigned char b[64];
	size_t n = block(b, 1, 0, 0x0112, 3, 1, 6);

	cr_assert_eq(guarded(b, n), 6);
	/* Pillow's wrong-magic prefixes are taken too. */
	b[8] = 0;
	b[9] = 42;
	cr_assert_eq(guarded(b, n), 6);
	b[9] = 43;		/* BigTIFF: not read */
	cr_assert_eq(guarded(b, n), 0);
	b[8] = 42;
	b[9] = 0;
	memcpy(b + 6, "IM", 2);
	cr_assert_eq(guarded(b, n), 0);
	memcpy(b + 6, "II", 2);
	/* "Exif\0" with another sixth byte is no prefix: not a header. */
	b[5] = 'x';
	cr_assert_eq(guarded(b, n), 0);
	b[5] = 0;
	/* The IFD's offset past the end, at it, one byte before it. */
	put32(b + 10, 0xfffffff0u, 0);
	cr_assert_eq(guarded(b, n), 0);
	put32(b + 10, (uint32_t)(n - 6), 0);
	cr_assert_eq(guarded(b, n), 0);
	put32(b + 10, (uint32_t)(n - 7), 0);
	cr_assert_eq(guarded(b, n), 0);
	/* An entry count far beyond the block: the entries there are read. */
	put32(b + 10, 8, 0);
	put16(b + 14, 65535, 0);
	cr_assert_eq(guarded(b, n), 6);
}

Test(exif_orientation, every_truncation)
{
	unsigned char b[64];
	size_t n = block(b, 1, 1, 0x0112, 3, 1, 7), k;

	/* Up to the end of the entry nothing is found, then the value is. */
	for (k = 0; k < n; k++)
		cr_assert_eq(guarded(b, k), k >= 6 + 22 ? 7 : 0, "cut at %zu", k);
	cr_assert_eq(exif_orientation(NULL, 0), 0);
}

Test(exif_orientation, random_blocks_stay_inside)
{
	struct rng r;
	unsigned char b[512];
	int i;
	size_t k;

	rng_init(&r, 18, 0);
	for (i = 0; i < 4000; i++) {
		size_t n = 6 + rng_below(&r, sizeof(b) - 6);
		int o;

		for (k = 0; k < n; k++)
			b[k] = (unsigned char)rng_below(&r, 256);
		/* A plausible header, so the directory walk is reached. */
		block(b, 1, i & 1, 0x0112, 3, 1, 6);
		if (i & 2)
			for (k = 14; k < 40 && k < n; k++)
				b[k] = (unsigned char)rng_below(&r, 256);
		o = guarded(b, n);
		cr_assert(o >= -1 && o <= 8);
	}
}

Test(exif_raw_profile, hex_after_three_lines)
{
	unsigned char b[64];
	char text[512];
	size_t n = block(b, 1, 0, 0x0112, 3, 1, 6), k;
	int len = snprintf(text, sizeof(text), "\nexif\n   %zu\n", n);

	for (k = 0; k < n; k++) {
		len += snprintf(text + len, sizeof(text) - (size_t)len, "%02x", b[k]);
		if (k % 16 == 15)
			text[len++] = '\n';
	}
	cr_assert_eq(exif_raw_profile((unsigned char *)text, (size_t)len), 6);
	/* Only two lines before the hex: nothing (Pillow drops three). */
	cr_assert_eq(exif_raw_profile((unsigned char *)text + 1, (size_t)len - 1), 0);
	/* Not hex: fromhex's error, no EXIF. */
	text[20] = 'g';
	cr_assert_eq(exif_raw_profile((unsigned char *)text, (size_t)len), 0);
	/* Every truncation stays inside. */
	for (k = 0; k < (size_t)len; k++) {
		struct ut_guard g;

		ut_guard_copy(&g, text, k);
		exif_raw_profile(g.p, k);
		ut_guard_free(&g);
	}
}

Test(exif_xmp, pillow_pattern)
{
	static const struct {
		const char *xmp;
		int want;
	} cases[] = {
		{ "<x:xmpmeta><rdf:Description tiff:Orientation=\"6\"/>", 6 },
		{ "<tiff:Orientation>8</tiff:Orientation>", 8 },
		{ "tiff:Orientation=\"9\"", 0 },
		{ "tiff:Orientation=\"0\"", 0 },
		{ "tiff:Orientation = \"6\"", 0 },
		{ "tiff:Orientation=6 tiff:Orientation>3", 3 },
		{ "tiff:Orientation", 0 },
		{ "tiff:Orientation=\"", 0 },
		{ "", 0 },
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct ut_guard g;
		size_t n = strlen(cases[k].xmp);

		ut_guard_copy(&g, cases[k].xmp, n);
		cr_assert_eq(exif_xmp(g.p, n), cases[k].want, "%s", cases[k].xmp);
		ut_guard_free(&g);
	}
}
