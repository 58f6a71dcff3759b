/* jpeg_window.c - the margins of a partial JPEG decode (see jpeg_window.h):
 * kept apart from dec_jpeg.c so that their edge cases are unit tested
 * without a file to decode. */
#include "codec/jpeg_window.h"

void jpeg_window_axis(int lo, int hi, int size, int unit, int before, int after, int *from,
		      int *to)
{
	int f = lo - before;

	*from = f <= 0 ? 0 : f / unit * unit;
	*to = hi > size - after ? size : hi + after;
}
