/* near_bench.c - check's near-duplicate grouping alone, on one core:
 * N synthetic 64-bit hashes (uniform, a tenth of them planted within T of
 * an earlier one) grouped by src/inputs/neardup.c, against all pairs
 * compared on the first M hashes and projected to N (pairs grow as N^2).
 *
 *     near_bench [N [T [M]]]       (default 1000000 6 20000)
 *
 * Prints the grouping's CPU seconds, the all-pairs projection, and how
 * many planted pairs landed in one group (all must). Deterministic data. */
#include "inputs/neardup.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* All pairs of the first M, as a program without an index would, with the
 * popcount instruction where the CPU has one (as the grouping has). */
#if __has_attribute(target_clones)
__attribute__((target_clones("popcnt", "default")))
#endif
static uint64_t all_pairs(const uint64_t *h, size_t m, int t)
{
	uint64_t near = 0;
	size_t i, j;

	for (i = 0; i < m; i++)
		for (j = i + 1; j < m; j++)
			near += __builtin_popcountll(h[i] ^ h[j]) <= t;
	return near;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int t = argc > 2 ? atoi(argv[2]) : 6;
	size_t m = argc > 3 ? strtoull(argv[3], NULL, 10) : 20000;
	uint64_t *h = malloc(n * sizeof(*h)), s = 1, near = 0;
	size_t *group = malloc(n * sizeof(*group)), *from = malloc(n * sizeof(*from));
	int *nearest = malloc(n * sizeof(*nearest));
	size_t i, ng, planted = 0, found = 0;
	double t0, t1, t2;

	if (!h || !group || !from || !nearest || n < 2 || m > n || t < 0 || t > NEARDUP_MAX_T) {
		fprintf(stderr, "usage: near_bench [N [T [M]]] (M <= N)\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		from[i] = SIZE_MAX;
		h[i] = next(&s);
		if (i > 0 && i % 10 == 0) {
			int k, bits = 1 + (int)(next(&s) % (unsigned)(t ? t : 1));

			from[i] = next(&s) % i;
			h[i] = h[from[i]];
			for (k = 0; k < bits && t; k++)	/* at most T bits apart */
				h[i] ^= 1ULL << (next(&s) % 64);
			planted++;
		}
	}
	t0 = cpu_now();
	ng = neardup_group(h, n, t, group, nearest);
	t1 = cpu_now();
	if (ng == (size_t)-1) {
		fprintf(stderr, "near_bench: out of memory\n");
		return 1;
	}
	for (i = 0; i < n; i++)
		found += from[i] != SIZE_MAX && group[i] && group[i] == group[from[i]];
	near = all_pairs(h, m, t);
	t2 = cpu_now();
	printf("hashes %zu t %d groups %zu planted %zu found %zu grouping_s %.3f "
	       "allpairs_m %zu allpairs_s %.3f projected_s %.0f near_in_m %llu\n", n, t, ng,
	       planted, found, t1 - t0, m, t2 - t1,
	       (t2 - t1) * ((double)n * (double)(n - 1)) / ((double)m * (double)(m - 1)),
	       (unsigned long long)near);
	return found == planted ? 0 : 1;
}
