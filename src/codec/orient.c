/* orient.c - the eight EXIF orientations as one walk over the source: each
 * is a start pixel and two steps (along an output row, and to the next
 * one), the transposes of Pillow's ImageOps.exif_transpose(). */
#include "codec/orient.h"

#include <stdint.h>
#include <string.h>

void orient_size(int orientation, int w, int h, int *ow, int *oh)
{
	int swap = orientation >= 5 && orientation <= 8;

	*ow = swap ? h : w;
	*oh = swap ? w : h;
}

/* One output row of N pixels of type T, from S stepping DX elements. */
#define WALK(T, n, s, dx, d)                                                  \
	do {                                                                    \
		const T *s_ = (const T *)(s);                                   \
		T *d_ = (T *)(d);                                               \
		for (int k_ = 0; k_ < (n); k_++, s_ += (dx))                    \
			d_[k_] = *s_;                                           \
	} while (0)

/*
 * Pillow's method for each orientation: 2 FLIP_LEFT_RIGHT, 3 ROTATE_180,
 * 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90.
 * Output pixel (X, Y) comes from source (x0 + X*ax + Y*bx, y0 + X*ay +
 * Y*by); the table holds which corner is (x0, y0) and the unit steps.
 */
void orient_apply(int orientation, const void *src, int w, int h, size_t px, void *dst)
{
	static const signed char steps[9][6] = {
		/* right?, bottom?, ax, ay, bx, by */
		{ 0, 0, 1, 0, 0, 1 }, { 0, 0, 1, 0, 0, 1 },
		{ 1, 0, -1, 0, 0, 1 }, { 1, 1, -1, 0, 0, -1 }, { 0, 1, 1, 0, 0, -1 },
		{ 0, 0, 0, 1, 1, 0 }, { 0, 1, 0, -1, 1, 0 }, { 1, 1, 0, -1, -1, 0 },
		{ 1, 0, 0, 1, -1, 0 },
	};
	const signed char *st = steps[orientation >= 1 && orientation <= 8 ? orientation : 0];
	const unsigned char *s = src;
	unsigned char *d = dst;
	ptrdiff_t row = (ptrdiff_t)w;
	ptrdiff_t a = st[2] + st[3] * row, b = st[4] + st[5] * row;	/* in pixels */
	ptrdiff_t start = (st[0] ? w - 1 : 0) + (st[1] ? (ptrdiff_t)(h - 1) * row : 0);
	int ow, oh, y;

	orient_size(orientation, w, h, &ow, &oh);
	for (y = 0; y < oh; y++) {
		const unsigned char *sp = s + (size_t)(start + (ptrdiff_t)y * b) * px;
		unsigned char *dp = d + (size_t)y * (size_t)ow * px;

		switch (px) {
		case 1:
			WALK(uint8_t, ow, sp, a, dp);
			break;
		case 2:
			WALK(uint16_t, ow, sp, a, dp);
			break;
		case 4:
			WALK(uint32_t, ow, sp, a, dp);
			break;
		case 8:
			WALK(uint64_t, ow, sp, a, dp);
			break;
		default:
			for (int x = 0; x < ow; x++)
				memcpy(dp + (size_t)x * px, sp + (ptrdiff_t)x * a * (ptrdiff_t)px, px);
		}
	}
}
