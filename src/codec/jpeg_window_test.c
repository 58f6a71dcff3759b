/* jpeg_window_test.c - unit tests of a partial JPEG decode's margins
 * (jpeg_window.h), at their edges: the image's ends, one pixel either side
 * of an iMCU boundary, and every small case against the rule's promises. */
#include "jpeg_window.h"

#include <criterion/criterion.h>

static void axis(int lo, int hi, int size, int unit, int after, int from, int to)
{
	int f, t;

	jpeg_window_axis(lo, hi, size, unit, after, &f, &t);
	cr_expect(f == from && t == to, "[%d, %d) of %d, unit %d, after %d: [%d, %d), not [%d, %d)",
		  lo, hi, size, unit, after, f, t, from, to);
}

Test(jpeg_window, edges_by_hand)
{
	axis(0, 10, 100, 16, 16, 0, 26);	/* from the left edge */
	axis(15, 20, 100, 16, 16, 0, 36);	/* within the first unit */
	axis(16, 20, 100, 16, 16, 0, 36);	/* at the second: one unit back */
	axis(31, 40, 100, 16, 16, 0, 56);	/* one short of a whole unit back */
	axis(32, 40, 100, 16, 16, 16, 56);	/* a whole unit back, aligned */
	axis(33, 40, 100, 16, 16, 16, 56);
	axis(47, 60, 100, 16, 16, 16, 76);
	axis(48, 60, 100, 16, 16, 32, 76);
	axis(50, 84, 100, 16, 16, 32, 100);	/* HI + AFTER at the end */
	axis(50, 85, 100, 16, 16, 32, 100);	/* past it: the end */
	axis(50, 83, 100, 16, 16, 32, 99);
	axis(50, 100, 100, 16, 16, 32, 100);
	axis(50, 60, 100, 16, 0, 32, 60);	/* rows: nothing after */
	axis(50, 100, 100, 16, 0, 32, 100);
	axis(0, 1, 1, 8, 8, 0, 1);		/* one pixel */
	axis(9, 10, 10, 8, 0, 0, 10);
	axis(4, 5, 40, 2, 2, 2, 7);		/* 1/8 scale, 4:2:0: units of 2 */
	axis(3, 5, 40, 1, 1, 2, 6);		/* 1/8 scale, 4:4:4: units of 1 */
}

Test(jpeg_window, promises_for_every_small_case)
{
	int size, unit, after, lo, hi, f, t;

	for (size = 1; size <= 70; size++)
		for (unit = 1; unit <= 32; unit *= 2)
			for (after = 0; after <= unit; after += unit)
				for (lo = 0; lo < size; lo++)
					for (hi = lo + 1; hi <= size; hi++) {
						jpeg_window_axis(lo, hi, size, unit, after, &f, &t);
						/* Aligned, within the image, holding [LO, HI). */
						cr_assert(f % unit == 0 && f >= 0 && t <= size);
						cr_assert(f <= lo && t >= hi);
						/* A whole unit before LO unless at the start,
						 * AFTER past HI unless at the end. */
						cr_assert(f == 0 || lo - f >= unit);
						cr_assert(t == size || t - hi == after);
						/* And no more than needed for that. */
						cr_assert(lo - f < 2 * unit);
					}
}
