/* tiff_lzw.h - TIFF's LZW (MSB-first codes, "early change"), decoded by
 * copying each code's string from where it was output before: the fast path
 * of dec_tiff.c for LZW strips and tiles, with libtiff's results. */
#ifndef PARIMG_TIFF_LZW_H
#define PARIMG_TIFF_LZW_H

#include <stddef.h>

/* Whether IN (LEN bytes) starts as this decoder needs: a clear code in the
 * new (MSB-first) bit order, not libtiff's old-style LSB-first LZW. */
int tiff_lzw_starts(const unsigned char *in, size_t len);

/* Decode the LZW data IN (LEN bytes) into exactly N bytes at OUT; data past
 * them is ignored, as libtiff ignores it. 0, or -1 for a code the table does
 * not have, or the data or an end code coming before N bytes are out. Reads
 * only inside IN, writes only inside OUT. */
int tiff_lzw_decode(const unsigned char *in, size_t len, unsigned char *out, size_t n);

#endif
