/* stats.h - what bench reports about repeated timings, and the check that
 * repeated runs produced the same output, kept apart from bench's process
 * handling so that both can be unit-tested. */
#ifndef PARIMG_STATS_H
#define PARIMG_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats {
	double median, min, max;	/* seconds */
};

/* Median (mean of the middle two for an even count), min and max of the N
 * times in T (N >= 1). T is sorted in place. */
void stats_compute(double *t, size_t n, struct stats *s);

/* Median of the N >= 1 integers V (the mean of the middle two for an even
 * count, as Python's statistics.median), in linear time on average; V is
 * reordered. */
double stats_median_int(int *v, size_t n);

/* A digest of LEN bytes: their CRC-32 and length. Different content gives
 * a different digest but for a 2^-32 chance. */
uint64_t stats_digest(const void *buf, size_t len);

/* Digest of the file at PATH into *OUT. 0, or -1 with errno set. */
int stats_digest_file(const char *path, uint64_t *out);

/* The first index where the N digests of A and B differ, or -1. */
long long stats_first_diff(const uint64_t *a, const uint64_t *b, size_t n);

#endif
