/* dedup_test.c - unit tests of dedup_group: equal hashes and sizes make a
 * candidate group, the byte compare has the last word, groups are numbered
 * in the order of their first files, and colliding (or forged) hashes cost
 * O(n log n) compares, not one per pair. */
#include "inputs/dedup.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files as strings: the same bytes when the strings are equal. */
static const char *const *contents;
static size_t compares;

static int same(void *ctx, size_t a, size_t b)
{
	(void)ctx;
	compares++;
	return strcmp(contents[a], contents[b]);
}

static struct dedup_key key(uint64_t h, uint64_t size, size_t index)
{
	struct dedup_key k = { { h, ~h }, size, index };

	return k;
}

Test(dedup, groups_in_order_of_first_file)
{
	static const char *const c[] = { "x", "a", "b", "a", "x", "c", "a" };
	struct dedup_key k[] = { key(9, 1, 0), key(5, 1, 1), key(7, 1, 2), key(5, 1, 3),
				 key(9, 1, 4), key(8, 1, 5), key(5, 1, 6) };
	size_t g[7];

	contents = c;
	cr_assert_eq(dedup_group(k, 7, same, NULL, g, 7), 2);
	cr_assert_eq(g[0], 1);
	cr_assert_eq(g[4], 1);
	cr_assert_eq(g[1], 2);
	cr_assert_eq(g[3], 2);
	cr_assert_eq(g[6], 2);
	cr_assert_eq(g[2], 0);
	cr_assert_eq(g[5], 0);
}

Test(dedup, a_hash_collision_is_split_by_the_byte_compare)
{
	/* Four files, one hash: two pairs of equal bytes. */
	static const char *const c[] = { "p", "q", "q", "p" };
	struct dedup_key k[] = { key(1, 1, 0), key(1, 1, 1), key(1, 1, 2), key(1, 1, 3) };
	size_t g[4];

	contents = c;
	cr_assert_eq(dedup_group(k, 4, same, NULL, g, 4), 2);
	cr_assert_eq(g[0], 1);
	cr_assert_eq(g[3], 1);
	cr_assert_eq(g[1], 2);
	cr_assert_eq(g[2], 2);
}

Test(dedup, a_collision_with_no_twin_is_no_group)
{
	static const char *const c[] = { "p", "q" };
	struct dedup_key k[] = { key(1, 1, 0), key(1, 1, 1) };
	size_t g[2];

	contents = c;
	cr_assert_eq(dedup_group(k, 2, same, NULL, g, 2), 0);
	cr_assert_eq(g[0], 0);
	cr_assert_eq(g[1], 0);
}

Test(dedup, size_and_both_hash_halves_must_agree)
{
	static const char *const c[] = { "a", "a", "a", "a" };
	struct dedup_key k[] = { key(1, 1, 0), key(1, 2, 1), key(2, 1, 2), key(1, 1, 3) };
	size_t g[5];

	k[3].hash[1] = 0;	/* low half equal to file 0's, high half not */
	contents = c;
	cr_assert_eq(dedup_group(k, 4, same, NULL, g, 5), 0);
}

Test(dedup, files_without_a_key_stay_zero)
{
	static const char *const c[] = { "a", "", "a" };
	struct dedup_key k[] = { key(3, 1, 0), key(3, 1, 2) };
	size_t g[3] = { 7, 7, 7 };

	contents = c;
	cr_assert_eq(dedup_group(k, 2, same, NULL, g, 3), 1);
	cr_assert_eq(g[0], 1);
	cr_assert_eq(g[1], 0);
	cr_assert_eq(g[2], 1);
}

/* Hashes forged (or made to collide) for N files of M different contents,
 * each content's copies spread through the list: the groups are the M
 * contents, found with at most n log2 n + 2n compares (asking every pair
 * would be n(n - 1)/2: 50 million here). */
static void colliding(size_t n, size_t m)
{
	struct dedup_key *k = malloc(n * sizeof(*k));
	char **c = malloc(n * sizeof(*c)), buf[32];
	size_t *g = malloc(n * sizeof(*g)), *first = calloc(m, sizeof(*first)), i, seen = 0;
	double bound = (double)n * log2((double)n) + 2.0 * (double)n;

	cr_assert(k && c && g && first);
	for (i = 0; i < n; i++) {
		size_t v = (i * 7919) % m;	/* copies far apart */

		snprintf(buf, sizeof(buf), "%zu", v * 2654435761u % 1000003);
		c[i] = strdup(buf);
		k[i] = key(42, 1, i);	/* one hash, one size, for all */
	}
	contents = (const char *const *)c;
	compares = 0;
	cr_assert_eq(dedup_group(k, n, same, NULL, g, n), m < n ? m : 0);
	cr_assert(compares <= bound, "%zu compares for %zu files (bound %.0f)", compares, n, bound);
	/* Same content, same group; a new content, the next group number. */
	for (i = 0; m < n && i < n; i++) {
		size_t v = (i * 7919) % m;

		if (!first[v]) {
			first[v] = i + 1;
			cr_assert_eq(g[i], ++seen, "file %zu", i);
		}
		cr_assert_eq(g[i], g[first[v] - 1], "file %zu", i);
	}
	for (i = 0; i < n; i++)
		free(c[i]);
	free(c);
	free(k);
	free(g);
	free(first);
}

Test(dedup, forged_hashes_cost_n_log_n_compares)
{
	colliding(10000, 3000);	/* 3000 groups of 3 or 4 */
	colliding(10000, 10000 / 2);	/* pairs */
	colliding(4096, 1);	/* one group: n - 1 compares */
}

Test(dedup, forged_hashes_on_distinct_files_make_no_group)
{
	static const char *const c[] = { "e", "d", "c", "b", "a", "f", "g" };
	struct dedup_key k[7];
	size_t g[7], i;

	for (i = 0; i < 7; i++)
		k[i] = key(5, 1, i);
	contents = c;
	cr_assert_eq(dedup_group(k, 7, same, NULL, g, 7), 0);
	for (i = 0; i < 7; i++)
		cr_assert_eq(g[i], 0);
}
