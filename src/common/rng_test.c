/* rng_test.c - unit tests of the keyed random streams (rng.h): determinism,
 * independent streams per (seed, index), rng_fill's bytes, pinned values. */
#include "common/rng.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define STREAM 64		/* bytes compared per stream */

static int cmp_stream(const void *a, const void *b)
{
	return memcmp(a, b, STREAM);
}

/* N streams of STREAM bytes in BUF are pairwise different. */
static void assert_all_distinct(unsigned char *buf, size_t n, const char *what)
{
	size_t i;

	qsort(buf, n, STREAM, cmp_stream);
	for (i = 1; i < n; i++)
		cr_assert_neq(memcmp(buf + (i - 1) * STREAM, buf + i * STREAM, STREAM), 0,
			      "%s: two streams are equal", what);
}

static void stream(uint64_t seed, uint64_t index, unsigned char *out, size_t len)
{
	struct rng r;

	rng_init(&r, seed, index);
	rng_fill(&r, out, len);
}

Test(rng, same_key_same_bytes)
{
	unsigned char a[1000], b[1000];
	uint64_t seeds[] = { 0, 1, 42, UINT64_MAX };
	size_t k;

	for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
		stream(seeds[k], 12345, a, sizeof(a));
		stream(seeds[k], 12345, b, sizeof(b));
		cr_assert_eq(memcmp(a, b, sizeof(a)), 0, "seed %llu",
			     (unsigned long long)seeds[k]);
	}
}

/* Item i's bytes must depend on i: a pool whose workers shared one random
 * state, or ignored the index, would give equal images. */
Test(rng, different_indices_differ)
{
	static unsigned char buf[1000 * STREAM];
	size_t i;

	for (i = 0; i < 1000; i++)
		stream(7, i, buf + i * STREAM, STREAM);
	assert_all_distinct(buf, 1000, "indices 0..999");
	for (i = 0; i < 1000; i++)
		stream(7, UINT64_MAX - i, buf + i * STREAM, STREAM);
	assert_all_distinct(buf, 1000, "indices near 2^64");
}

Test(rng, different_seeds_differ)
{
	static unsigned char buf[2000 * STREAM];
	size_t i;

	for (i = 0; i < 1000; i++)
		stream(i, 0, buf + i * STREAM, STREAM);
	assert_all_distinct(buf, 1000, "seeds 0..999");
	/* Swapping seed and index must not give the same stream. */
	for (i = 0; i < 1000; i++) {
		stream(i, i + 1, buf + 2 * i * STREAM, STREAM);
		stream(i + 1, i, buf + (2 * i + 1) * STREAM, STREAM);
	}
	assert_all_distinct(buf, 2000, "(s, s+1) and (s+1, s)");
}

/* Shorter fills are prefixes of longer ones, and write nothing past LEN. */
Test(rng, fill_prefix)
{
	unsigned char full[80], part[80 + 16];
	size_t len, k;

	stream(3, 5, full, sizeof(full));
	for (len = 0; len <= sizeof(full); len++) {
		memset(part, 0xa5, sizeof(part));
		stream(3, 5, part, len);
		cr_assert_eq(memcmp(part, full, len), 0, "length %zu", len);
		for (k = len; k < sizeof(part); k++)
			cr_assert_eq(part[k], 0xa5, "length %zu wrote byte %zu", len, k);
	}
}

/* The bytes are rng_next's words, little-endian. */
Test(rng, fill_is_little_endian_words)
{
	struct rng r;
	unsigned char b[24];
	uint64_t w[3];
	size_t i;

	rng_init(&r, 11, 22);
	for (i = 0; i < 3; i++)
		w[i] = rng_next(&r);
	stream(11, 22, b, sizeof(b));
	for (i = 0; i < sizeof(b); i++)
		cr_assert_eq(b[i], (unsigned char)(w[i / 8] >> (8 * (i % 8))), "byte %zu", i);
}

/* xoshiro256** from the state {1, 2, 3, 4}: the sequence of the reference
 * implementation (Blackman & Vigna), independent of our seeding. */
Test(rng, xoshiro256starstar_reference)
{
	struct rng r = { { 1, 2, 3, 4 } };

	cr_assert_eq(rng_next(&r), 11520ULL);
	cr_assert_eq(rng_next(&r), 0ULL);
	cr_assert_eq(rng_next(&r), 1509978240ULL);
	cr_assert_eq(rng_next(&r), 1215971899390074240ULL);
}

/* Pinned outputs, computed once from this implementation (rng.c as of the
 * first release): datasets made with a seed must stay the same, so any
 * change of the generator or its seeding has to be deliberate. */
Test(rng, pinned_values)
{
	static const unsigned char fill13[13] = {
		0x8c, 0x35, 0x75, 0x9f, 0xda, 0xf1, 0x91, 0x67, 0xdc, 0x75, 0x31, 0xc5, 0x2c,
	};
	unsigned char b[13];
	struct rng r;

	rng_init(&r, 0, 0);
	cr_assert_eq(rng_next(&r), 0xfb5405f7bd79c540ULL);
	cr_assert_eq(rng_next(&r), 0x780c98e26cea5883ULL);
	rng_init(&r, 42, 7);
	cr_assert_eq(rng_next(&r), 0x24bfb39aeb008c15ULL);
	cr_assert_eq(rng_next(&r), 0xd858489e7fc02496ULL);
	stream(2024, 1000000, b, sizeof(b));
	cr_assert_eq(memcmp(b, fill13, sizeof(b)), 0);
}

/* A coarse sanity check of the bits: a 1 MiB stream is about half ones and
 * every byte value occurs. Deterministic, so it never flakes. */
Test(rng, bits_look_balanced)
{
	enum { LEN = 1 << 20 };
	unsigned char *buf = malloc(LEN);
	size_t i, ones = 0, hist[256] = { 0 };

	cr_assert_not_null(buf);
	stream(5, 5, buf, LEN);
	for (i = 0; i < LEN; i++) {
		ones += (size_t)__builtin_popcount(buf[i]);
		hist[buf[i]]++;
	}
	cr_assert(ones > LEN * 8 * 0.499 && ones < LEN * 8 * 0.501, "%zu ones", ones);
	for (i = 0; i < 256; i++)
		cr_assert(hist[i] > LEN / 256 / 2 && hist[i] < LEN / 256 * 2,
			  "byte %zu occurs %zu times", i, hist[i]);
	free(buf);
}

Test(rng, state_never_all_zero)
{
	uint64_t k;

	for (k = 0; k < 10000; k++) {
		struct rng r;

		rng_init(&r, k, k * 0x9e3779b97f4a7c15ULL);
		cr_assert(r.s[0] | r.s[1] | r.s[2] | r.s[3], "key %llu",
			  (unsigned long long)k);
	}
}

Test(rng_below, in_range_and_every_value_drawn)
{
	uint64_t bounds[] = { 1, 2, 3, 7, 10, 1000, (1ULL << 63) + 1, UINT64_MAX };
	size_t k, i;

	for (k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
		struct rng r;
		unsigned seen[10] = { 0 };

		rng_init(&r, 3, k);
		for (i = 0; i < 20000; i++) {
			uint64_t v = rng_below(&r, bounds[k]);

			cr_assert_lt(v, bounds[k], "bound %llu gave %llu",
				     (unsigned long long)bounds[k], (unsigned long long)v);
			if (bounds[k] <= 10)
				seen[v]++;
		}
		for (i = 0; bounds[k] <= 10 && i < bounds[k]; i++)
			cr_assert(seen[i] > 20000 / bounds[k] * 9 / 10 &&
				  seen[i] < 20000 / bounds[k] * 11 / 10,
				  "bound %llu: %zu drawn %u times", (unsigned long long)bounds[k], i,
				  seen[i]);
	}
}

/* PERM holds each of 0..N-1 once. */
static void assert_permutation(const size_t *perm, size_t n)
{
	char *seen = calloc(n + 1, 1);
	size_t i;

	cr_assert(seen);
	for (i = 0; i < n; i++) {
		cr_assert_lt(perm[i], n, "perm[%zu] = %zu", i, perm[i]);
		cr_assert_eq(seen[perm[i]], 0, "%zu twice", perm[i]);
		seen[perm[i]] = 1;
	}
	free(seen);
}

Test(rng_permutation, a_permutation_fixed_by_seed_and_n)
{
	size_t sizes[] = { 0, 1, 2, 3, 100, 100000 };
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		size_t *a = malloc((n + 1) * sizeof(*a)), *b = malloc((n + 1) * sizeof(*b));

		cr_assert(a && b);
		rng_permutation(42, a, n);
		rng_permutation(42, b, n);
		assert_permutation(a, n);
		cr_assert_eq(memcmp(a, b, n * sizeof(*a)), 0, "n %zu: not reproducible", n);
		rng_permutation(43, b, n);
		if (n >= 100)
			cr_assert_neq(memcmp(a, b, n * sizeof(*a)), 0, "n %zu: seeds 42, 43 agree", n);
		free(a);
		free(b);
	}
}

/* Each of the 6 orders of 3 items comes out about as often as the others,
 * over seeds 0..5999: no order favoured. */
Test(rng_permutation, orders_equally_likely)
{
	unsigned count[3][3][3] = { { { 0 } } };
	size_t perm[3];
	uint64_t s;
	int a, b;

	for (s = 0; s < 6000; s++) {
		rng_permutation(s, perm, 3);
		count[perm[0]][perm[1]][perm[2]]++;
	}
	for (a = 0; a < 3; a++)
		for (b = 0; b < 3; b++)
			if (a != b)
				cr_assert(count[a][b][3 - a - b] > 850 && count[a][b][3 - a - b] < 1150,
					  "order %d%d%d: %u of 6000", a, b, 3 - a - b,
					  count[a][b][3 - a - b]);
}

/* Pinned: the permutation is part of load --shuffle's promise (the same
 * seed gives the same rows in every release). */
Test(rng_permutation, pinned_values)
{
	size_t perm[10], want[10] = { 7, 6, 2, 9, 1, 5, 3, 4, 0, 8 };

	rng_permutation(7, perm, 10);
	cr_assert_eq(memcmp(perm, want, sizeof(perm)), 0,
		     "got %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu", perm[0], perm[1], perm[2],
		     perm[3], perm[4], perm[5], perm[6], perm[7], perm[8], perm[9]);
}
