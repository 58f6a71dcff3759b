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

#endif
