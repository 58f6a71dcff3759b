/* rng.c - xoshiro256** (Blackman & Vigna) keyed by splitmix64 of (seed, index).
 * Same seed and index give the same bytes on every machine and every run. */
#include "rng.h"

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

void rng_fill(struct rng *r, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		uint64_t v = rng_next(r);
		unsigned char b[8];
		size_t k, n = len < 8 ? len : 8;

		for (k = 0; k < 8; k++)
			b[k] = (unsigned char)(v >> (8 * k));
		memcpy(p, b, n);
		p += n;
		len -= n;
	}
}
