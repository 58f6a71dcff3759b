/* tiff_lzw_test.c - unit tests of the TIFF LZW decoder (tiff_lzw.h): data
 * from a reference encoder written here (MSB-first codes, early change, a
 * clear code when the table fills), random, repetitive (every KwKwK case)
 * and constant, at table-filling lengths; cut and corrupted streams refused,
 * with reads and writes checked at guarded page ends. */
#include "codec/tiff_lzw.h"
#include "common/rng.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct bits {
	unsigned char *p;
	size_t n;
	uint64_t acc;
	int have;
};

static void put(struct bits *b, unsigned code, int nbits)
{
	b->acc = b->acc << nbits | code;
	b->have += nbits;
	while (b->have >= 8) {
		b->p[b->n++] = (unsigned char)(b->acc >> (b->have - 8));
		b->have -= 8;
	}
}

/* LZW of the N bytes at IN into OUT (room for 2 N + 16 bytes), as
 * libtiff's encoder writes it; its length. A dictionary by linear search:
 * slow, obviously right. */
static size_t encode(const unsigned char *in, size_t n, unsigned char *out)
{
	static uint32_t key[4096];	/* prefix << 8 | byte, of codes 258.. */
	struct bits b = { out, 0, 0, 0 };
	unsigned next = 258, nbits = 9, w;
	size_t i;

	put(&b, 256, 9);
	if (n == 0) {
		put(&b, 257, 9);
		goto flush;
	}
	w = in[0];
	for (i = 1; i < n; i++) {
		uint32_t k = w << 8 | in[i];
		unsigned c, found = 0;

		for (c = 258; c < next; c++)
			if (key[c] == k) {
				found = c;
				break;
			}
		if (found) {
			w = found;
			continue;
		}
		put(&b, w, (int)nbits);
		key[next++] = k;
		if (next == 4093) {
			/* The encoder clears before the decoder's table is full. */
			put(&b, 256, 12);
			next = 258;
			nbits = 9;
		} else if (next > (1u << nbits) - 1 && nbits < 12) {
			nbits++;
		}
		w = in[i];
	}
	put(&b, w, (int)nbits);
	next++;
	if (next > (1u << nbits) - 1 && nbits < 12)
		nbits++;
	put(&b, 257, (int)nbits);
flush:
	if (b.have)
		put(&b, 0, 8 - b.have);
	return b.n;
}

/* A guarded output buffer of N bytes (ut_guard_copy wants a source). */
static void out_buf(struct ut_guard *g, size_t n)
{
	static unsigned char zeros[1 << 17];

	cr_assert(n <= sizeof(zeros));
	ut_guard_copy(g, zeros, n);
}

static void round_trip(const unsigned char *src, size_t n, const char *what)
{
	unsigned char *z = malloc(2 * n + 16);
	struct ut_guard gi, go;
	size_t zn;

	cr_assert(z);
	zn = encode(src, n, z);
	cr_assert(tiff_lzw_starts(z, zn), "%s", what);
	ut_guard_copy(&gi, z, zn);
	out_buf(&go, n);
	cr_assert_eq(tiff_lzw_decode(gi.p, zn, go.p, n), 0, "%s (%zu bytes)", what, n);
	cr_assert(memcmp(go.p, src, n) == 0, "%s (%zu bytes) decodes differently", what, n);
	/* Asking for fewer bytes: the first ones, the rest ignored. */
	if (n > 1) {
		cr_assert_eq(tiff_lzw_decode(gi.p, zn, go.p, n / 2), 0);
		cr_assert(memcmp(go.p, src, n / 2) == 0);
	}
	/* Asking for more: the end code comes first. */
	ut_guard_free(&go);
	out_buf(&go, n + 1);
	cr_assert_eq(tiff_lzw_decode(gi.p, zn, go.p, n + 1), -1, "%s", what);
	ut_guard_free(&go);
	ut_guard_free(&gi);
	free(z);
}

Test(tiff_lzw, round_trips)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 255, 256, 1000, 5000, 20000, 70000 };
	struct rng r;
	size_t i, k;

	rng_init(&r, 18, 1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		unsigned char *s = malloc(n);

		cr_assert(s);
		rng_fill(&r, s, n);
		round_trip(s, n, "random");
		memset(s, 'z', n);
		round_trip(s, n, "constant");	/* KwKwK on every code */
		for (k = 0; k < n; k++)
			s[k] = (unsigned char)(k % 3 == 0 ? 'a' : rng_below(&r, 3) + 'a');
		round_trip(s, n, "three letters");
		for (k = 0; k < n; k++)
			s[k] = (unsigned char)(k / 97 % 5 * 40 + (k % 7 == 0));
		round_trip(s, n, "runs");
		free(s);
	}
}

Test(tiff_lzw, corrupt_and_cut_streams_refused_safely)
{
	unsigned char src[3000], z[7000], out[3000];
	struct rng r;
	size_t zn, k;
	int i;

	rng_init(&r, 18, 2);
	for (k = 0; k < sizeof(src); k++)
		src[k] = (unsigned char)(k / 13 % 4 + 'a');
	zn = encode(src, sizeof(src), z);
	/* Every cut: refused, never read past it, unless all it loses is the
	 * end code (libtiff too decodes that strip). */
	for (k = 0; k < zn; k++) {
		struct ut_guard g;
		int got;

		ut_guard_copy(&g, z, k);
		got = tiff_lzw_decode(g.p, k, out, sizeof(out));
		cr_assert(got == -1 || (k >= zn - 2 && memcmp(out, src, sizeof(src)) == 0),
			  "cut at %zu of %zu", k, zn);
		ut_guard_free(&g);
	}
	/* Random damage: any result, inside the buffers. */
	for (i = 0; i < 3000; i++) {
		unsigned char bad[7000];
		struct ut_guard g, o;
		size_t n = 1 + rng_below(&r, sizeof(src));

		memcpy(bad, z, zn);
		for (k = 0; k < 1 + rng_below(&r, 8); k++)
			bad[rng_below(&r, zn)] ^= (unsigned char)(1 + rng_below(&r, 255));
		ut_guard_copy(&g, bad, zn);
		out_buf(&o, n);
		tiff_lzw_decode(g.p, zn, o.p, n);
		ut_guard_free(&o);
		ut_guard_free(&g);
	}
	/* A string code right after the clear, a code past the table. */
	{
		struct bits b = { z, 0, 0, 0 };

		put(&b, 256, 9);
		put(&b, 300, 9);
		put(&b, 0, 7);
		cr_assert_eq(tiff_lzw_decode(z, b.n, out, 4), -1);
		b.n = 0;
		put(&b, 256, 9);
		put(&b, 'a', 9);
		put(&b, 260, 9);
		put(&b, 0, 5);
		cr_assert_eq(tiff_lzw_decode(z, b.n, out, 4), -1);
	}
	cr_assert(!tiff_lzw_starts((const unsigned char *)"\0\1", 2));	/* old-style */
	cr_assert(!tiff_lzw_starts(z, 1));
}
