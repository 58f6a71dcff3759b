/* neardup_test.c - unit tests of the near-duplicate groups (neardup.h):
 * against all pairs compared by brute force, for every T a chunk radius
 * changes at, on random hashes with planted near ones and chains. */
#include "inputs/neardup.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static uint64_t next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t flip(uint64_t h, int bits, uint64_t *s)
{
	while (bits-- > 0)
		h ^= 1ULL << (next(s) % 64);	/* may flip one twice: at most BITS */
	return h;
}

/* Brute force: union-find over all pairs, groups numbered as neardup's. */
static size_t brute(const uint64_t *h, size_t n, int t, size_t *group, int *nearest)
{
	size_t *root = malloc(n * sizeof(*root)), i, j, ng = 0;

	for (i = 0; i < n; i++) {
		root[i] = i;
		nearest[i] = -1;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			int d = __builtin_popcountll(h[i] ^ h[j]);
			size_t a = i, b = j, k;

			if (d > t)
				continue;
			nearest[i] = nearest[i] < 0 || d < nearest[i] ? d : nearest[i];
			nearest[j] = nearest[j] < 0 || d < nearest[j] ? d : nearest[j];
			while (root[a] != a)
				a = root[a];
			while (root[b] != b)
				b = root[b];
			k = a < b ? a : b;
			root[a] = root[b] = k;
		}
	for (i = 0; i < n; i++) {
		size_t r = i;

		while (root[r] != r)
			r = root[r];
		group[i] = nearest[i] < 0 ? 0 : r == i ? ++ng : group[r];
	}
	free(root);
	return ng;
}

Test(neardup, equals_all_pairs_for_every_threshold)
{
	enum { N = 3000 };
	uint64_t *h = malloc(N * sizeof(*h)), s = 42;
	size_t *g1 = malloc(N * sizeof(size_t)), *g2 = malloc(N * sizeof(size_t));
	int *n1 = malloc(N * sizeof(int)), *n2 = malloc(N * sizeof(int)), t;
	size_t i, ng, total = 0;

	for (t = 0; t <= 13; t++) {
		for (i = 0; i < N; i++) {
			/* A third planted near an earlier hash, some of them
			 * chains (near a planted one), the rest uniform. */
			if (i > 10 && i % 3 == 0)
				h[i] = flip(h[next(&s) % i], (int)(next(&s) % (t + 3)), &s);
			else
				h[i] = next(&s);
		}
		ng = neardup_group(h, N, t, g1, n1);
		cr_assert_eq(ng, brute(h, N, t, g2, n2), "t %d", t);
		for (i = 0; i < N; i++)
			cr_assert(g1[i] == g2[i] && n1[i] == n2[i], "t %d, hash %zu", t, i);
		total += ng;
	}
	cr_assert(total > 1000);	/* the planted ones were found */
	free(h);
	free(g1);
	free(g2);
	free(n1);
	free(n2);
}

Test(neardup, numbers_groups_by_first_member_and_refuses_bad_t)
{
	uint64_t h[] = { 0xff, 0x1, 0xfe, 0x3, 0xffff0000ffff0000ULL };
	size_t g[5];
	int near[5];

	/* 0xff and 0xfe (1 apart); 0x1 and 0x3 (1 apart); 0xfe and 0x3 are 6. */
	cr_assert_eq(neardup_group(h, 5, 1, g, near), 2);
	cr_assert(g[0] == 1 && g[2] == 1 && g[1] == 2 && g[3] == 2 && g[4] == 0);
	cr_assert(near[0] == 1 && near[4] == -1);
	/* At 6 they chain into one. */
	cr_assert_eq(neardup_group(h, 5, 6, g, near), 1);
	cr_assert(g[0] == 1 && g[1] == 1 && g[2] == 1 && g[3] == 1 && g[4] == 0);
	cr_assert_eq(neardup_group(h, 5, -1, g, near), (size_t)-1);
	cr_assert_eq(neardup_group(h, 5, NEARDUP_MAX_T + 1, g, near), (size_t)-1);
	cr_assert_eq(neardup_group(h, 0, 4, g, near), 0);
}
