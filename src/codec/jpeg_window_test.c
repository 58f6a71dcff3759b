/* jpeg_window_test.c - unit tests of a partial JPEG decode's margins
 * (jpeg_window.h), at their edges: the image's ends, one pixel either side
 * of an iMCU boundary, and every small case against the rule's promises. */
#include "codec/jpeg_window.h"

#include <criterion/criterion.h>

static void axis(int lo, int hi, int size, int unit, int before, int after, int from, int to)
{
	int f, t;

	jpeg_window_axis(lo, hi, size, unit, before, after, &f, &t);
	cr_expect(f == from && t == to,
		  "[%d, %d) of %d, unit %d, margins %d %d: [%d, %d), not [%d, %d)", lo, hi, size,
		  unit, before, after, f, t, from, to);
}

Test(jpeg_window, edges_by_hand)
{
	/* 4:2:0 at full scale: iMCUs of 16, margins of one chroma sample. */
	axis(0, 10, 100, 16, 2, 2, 0, 12);	/* from the left edge */
	axis(1, 10, 100, 16, 2, 2, 0, 12);
	axis(17, 20, 100, 16, 2, 2, 0, 22);	/* one short of a unit's margin */
	axis(18, 20, 100, 16, 2, 2, 16, 22);	/* the margin within the unit */
	axis(16, 20, 100, 16, 2, 2, 0, 22);	/* at a boundary: the unit before */
	axis(32, 40, 100, 16, 2, 2, 16, 42);
	axis(34, 40, 100, 16, 2, 2, 32, 42);
	axis(50, 97, 100, 16, 2, 2, 48, 99);	/* the margin just fits */
	axis(50, 98, 100, 16, 2, 2, 48, 100);	/* up to the end */
	axis(50, 99, 100, 16, 2, 2, 48, 100);	/* past it: the end */
	axis(50, 100, 100, 16, 2, 2, 48, 100);
	axis(50, 60, 100, 16, 2, 0, 48, 60);	/* rows: nothing after */
	axis(50, 100, 100, 16, 2, 0, 48, 100);
	axis(0, 1, 1, 8, 1, 1, 0, 1);		/* one pixel */
	axis(9, 10, 10, 8, 1, 0, 8, 10);
	axis(8, 10, 10, 8, 1, 0, 0, 10);
	axis(4, 5, 40, 2, 2, 2, 2, 7);		/* 1/8 scale, 4:2:0: units of 2 */
	axis(3, 5, 40, 1, 1, 1, 2, 6);		/* 1/8 scale, 4:4:4: units of 1 */
}

Test(jpeg_window, promises_for_every_small_case)
{
	int size, unit, m, after, lo, hi, f, t;

	for (size = 1; size <= 70; size++)
		for (unit = 1; unit <= 32; unit *= 2)
			for (m = 0; m <= 2; m++)
				for (after = 0; after <= 2; after++)
					for (lo = 0; lo < size; lo++)
						for (hi = lo + 1; hi <= size; hi++) {
							jpeg_window_axis(lo, hi, size, unit, m, after, &f, &t);
							/* Aligned, within the image, holding [LO, HI). */
							cr_assert(f % unit == 0 && f >= 0 && t <= size);
							cr_assert(f <= lo && t >= hi);
							/* The margins, unless at an end. */
							cr_assert(f == 0 || lo - f >= m);
							cr_assert(t == size || t - hi == after);
							/* And no more than needed for them. */
							cr_assert(lo - f < m + unit);
						}
}
