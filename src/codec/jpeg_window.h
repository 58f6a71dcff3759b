/* jpeg_window.h - the arithmetic of a partial JPEG decode (dec_jpeg.c):
 * from the source pixels a resize reads to the columns and rows libjpeg
 * must decode for them to come out as in the whole image's decode. */
#ifndef PARIMG_JPEG_WINDOW_H
#define PARIMG_JPEG_WINDOW_H

/* One axis: [LO, HI) of SIZE output pixels is needed; UNIT is the iMCU's
 * extent on it in output pixels (a sampling factor times the DCT's scaled
 * size). Sets [*FROM, *TO), what to decode: BEFORE pixels more before LO,
 * that start aligned down to UNIT (libjpeg crops and skips whole iMCUs),
 * and AFTER pixels more past HI, both within [0, SIZE). dec_jpeg.c says
 * which margins each axis needs, and why. */
void jpeg_window_axis(int lo, int hi, int size, int unit, int before, int after, int *from,
		      int *to);

#endif
