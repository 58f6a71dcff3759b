/* dedup_test.c - unit tests of dedup_group: equal hashes and sizes make a
 * candidate group, the byte compare has the last word, and groups are
 * numbered in the order of their first files. */
#include "inputs/dedup.h"

#include <criterion/criterion.h>
#include <string.h>

/* Files as strings: the same bytes when the strings are equal. */
static const char *const *contents;

static int same(void *ctx, size_t a, size_t b)
{
	(void)ctx;
	return strcmp(contents[a], contents[b]) == 0;
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
