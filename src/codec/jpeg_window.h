/* jpeg_window.h - the arithmetic of a partial JPEG decode (dec_jpeg.c):
 * from the source pixels a resize reads to the columns and rows libjpeg
 * must decode for them to come out as in the whole image's decode. */
#ifndef PARIMG_JPEG_WINDOW_H
#define PARIMG_JPEG_WINDOW_H

/* One axis: [LO, HI) of SIZE output pixels is needed; UNIT is the iMCU's
 * extent on it in output pixels (a sampling factor times the DCT's scaled
 * size). Sets [*FROM, *TO), what to decode: FROM a whole iMCU before LO's
 * iMCU (the fancy upsampler's and the skip's edge rows are inexact, the
 * iMCU after them is not), aligned to UNIT; TO AFTER pixels past HI (the
 * crop's right edge is upsampled as an image edge: a unit there; rows need
 * none, as the ones read are the whole decode's), within SIZE. */
void jpeg_window_axis(int lo, int hi, int size, int unit, int after, int *from, int *to);

#endif
