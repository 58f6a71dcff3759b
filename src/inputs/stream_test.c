/* stream_test.c - unit tests of stream.c's windows: members packed into
 * half-ring slots in archive order, a member larger than half the ring
 * alone in its window and the slot grown to it, and the slot's floor. */
#include "inputs/stream.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdint.h>

Test(stream, windows_pack_in_order)
{
	uint64_t len[] = { 300, 300, 300, 100, 500, 1 }, pos[6], slot;
	unsigned win[6];
	unsigned n = stream_windows(len, 6, 2048 << 10, win, pos, &slot);

	/* Half the ring: 1 MiB, all in one window. */
	cr_assert_eq(n, 1);
	cr_assert_eq(slot, 1024 << 10);
	cr_assert_eq(pos[0], 0);
	cr_assert_eq(pos[3], 900);
	cr_assert_eq(pos[5], 1500);
}

Test(stream, windows_split_and_a_large_member_alone)
{
	/* Ring 256 KiB: slots of 128 KiB. */
	uint64_t k = 1024, len[] = { 100 * k, 28 * k, 1, 200 * k, 10 * k, 118 * k }, pos[6], slot;
	unsigned win[6], want[] = { 0, 0, 1, 2, 3, 3 };
	unsigned n = stream_windows(len, 6, 256 * k, win, pos, &slot), i;

	cr_assert_eq(n, 4);
	for (i = 0; i < 6; i++)
		cr_assert_eq(win[i], want[i], "member %u: window %u, not %u", i, win[i], want[i]);
	cr_assert_eq(pos[1], 100 * k);
	cr_assert_eq(pos[2], 0);
	cr_assert_eq(pos[3], 0);
	cr_assert_eq(pos[5], 10 * k);
	/* The slot grows to the largest member: two slots hold any two
	 * windows. */
	cr_assert_eq(slot, 200 * k);
}

Test(stream, windows_floor_and_empty)
{
	uint64_t len[] = { 10, 70000 }, pos[2], slot;
	unsigned win[2];

	/* A tiny ring still has 64 KiB slots. */
	cr_assert_eq(stream_windows(len, 2, 1000, win, pos, &slot), 2);
	cr_assert_eq(slot, 70000);
	cr_assert_eq(win[1], 1);
	cr_assert_eq(stream_windows(len, 0, 1000, win, pos, &slot), 0);
	cr_assert_eq(slot, 64 << 10);
}
