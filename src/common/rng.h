/* rng.h - deterministic random bytes: xoshiro256** seeded by splitmix64.
 * A stream is keyed by (seed, index), so item i's bytes never depend on which
 * process makes them or in what order: forked workers share no state. */
#ifndef PARIMG_RNG_H
#define PARIMG_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];		/* xoshiro256** state, never all zero */
};

/* Seed R with the stream for item INDEX of the sequence SEED. */
void rng_init(struct rng *r, uint64_t seed, uint64_t index);
/* Next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* Fill BUF with LEN random bytes (little-endian words, so the bytes are the
 * same on every host). */
void rng_fill(struct rng *r, void *buf, size_t len);
/* A uniform integer in [0, BOUND), BOUND >= 1, without modulo bias
 * (Lemire's multiply-and-reject). */
uint64_t rng_below(struct rng *r, uint64_t bound);

/* The stream rng_permutation() draws from: (seed, RNG_SHUFFLE_INDEX), apart
 * from every image stream gen uses. */
#define RNG_SHUFFLE_INDEX UINT64_MAX
/* Fill PERM with a permutation of 0..N-1 that depends on SEED and N alone:
 * Fisher-Yates from the top, for i = N-1 down to 1 swapping PERM[i] with
 * PERM[rng_below(i + 1)], starting from the identity. */
void rng_permutation(uint64_t seed, size_t *perm, size_t n);

#endif
