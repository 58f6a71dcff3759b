/* rng.c - xoshiro256** (Blackman & Vigna) keyed by splitmix64 of (seed, index).
 * Same seed and index give the same bytes on every machine and every run. */
#include "common/rng.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/*
 * The index is mixed through splitmix64 before it meets the seed, so nearby
 * (seed, index) pairs such as (0, 1) and (1, 0) give unrelated streams.
 */
void rng_init(struct rng *r, uint64_t seed, uint64_t index)
{
	uint64_t x = index;
	uint64_t key = seed ^ splitmix64(&x);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&key);
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/*
 * The state is kept in locals and each word stored with memcpy: storing it
 * byte by byte through a char pointer made the compiler reload the state
 * from memory for every word, and cost five times as much.
 */
void rng_fill(struct rng *r, void *buf, size_t len)
{
	unsigned char *p = buf;
	struct rng x = *r;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v = rng_next(&x);

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		v = __builtin_bswap64(v);	/* little-endian bytes everywhere */
#endif
		memcpy(p, &v, 8);
	}
	if (len > 0) {
		uint64_t v = rng_next(&x);
		size_t k;

		for (k = 0; k < len; k++)
			p[k] = (unsigned char)(v >> (8 * k));
	}
	*r = x;
}

/*
 * Lemire, "Fast Random Integer Generation in an Interval" (2019): the high
 * word of a 64x64-bit product is the draw; products whose low word falls
 * below 2^64 mod BOUND are redrawn, which makes every value equally likely.
 */
uint64_t rng_below(struct rng *r, uint64_t bound)
{
	unsigned __int128 m = (unsigned __int128)rng_next(r) * bound;
	uint64_t low = (uint64_t)m;

	if (low < bound) {
		uint64_t thresh = -bound % bound;	/* 2^64 mod bound */

		while (low < thresh) {
			m = (unsigned __int128)rng_next(r) * bound;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

void rng_permutation(uint64_t seed, size_t *perm, size_t n)
{
	struct rng r;
	size_t i;

	for (i = 0; i < n; i++)
		perm[i] = i;
	rng_init(&r, seed, RNG_SHUFFLE_INDEX);
	for (i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(&r, i), t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}
