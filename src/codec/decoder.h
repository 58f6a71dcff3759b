/* decoder.h - the decoders behind codec.c's table. Each lives in a file of
 * its own (dec_*.c), the only one that includes its library's headers, and
 * fills the caller's buffer row by row; the conversions Pillow makes between
 * channel counts and depths are shared here. */
#ifndef PARIMG_DECODER_H
#define PARIMG_DECODER_H

#include "codec/codec.h"

#include <stddef.h>
#include <stdint.h>

/* Where a decoder puts its pixels. */
struct dec_target {
	unsigned char *pix;	/* w*h pixels of channels samples, rows packed */
	int channels;		/* 1-4 */
	int depth16;		/* uint16_t samples, else uint8_t */
	int values;		/* info->values images: one double a pixel */
	int indices;		/* codec_decode_indices: a palette's indices, a
				 * 1-bit gray image's 0 and 1 (Pillow's P and 1),
				 * one byte a pixel (channels 1) */
	/* NULL, or the part of the image wanted: a decoder that can may
	 * decode less (a rectangle holding it, into pix from its first
	 * pixel) and say what in *got, which starts as the whole image. */
	const struct codec_window *want;
	struct codec_window *got;
};

struct decoder {
	const char *name;
	/* Whether DATA's first bytes are this decoder's format. */
	int (*sniff)(const unsigned char *data, size_t len);
	/* Read the header into INFO (w, h, channels, is16). 0, or -1 with WHY. */
	int (*probe)(const unsigned char *data, size_t len, struct codec_info *info,
		     char *why, size_t whylen);
	/* Decode at INFO's size (and scale) into T. 0, or -1 with WHY. */
	int (*decode)(const unsigned char *data, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen);
	int draft;		/* decodes at M/8 scales (info->scale) */
};

extern const struct decoder dec_png, dec_jpeg, dec_webp, dec_pnm, dec_gif, dec_bmp, dec_tga,
	dec_tiff, dec_jp2, dec_heif, dec_avif, dec_jxl, dec_sgi, dec_ico, dec_dib;

/* Convert COUNT pixels of N channels at SRC (16-bit when SRC16) into T's
 * channels and depth at DST: depth first (16 to 8 by the high byte, 8 to 16
 * by 257), then gray replicated, colour to gray by Pillow's luma, alpha
 * dropped or opaque. */
void dec_convert(const void *src, int n, int src16, void *dst, const struct dec_target *t,
		 size_t count);

/* Where the pixels of the DIB at DATA start: past its header, bitfield
 * masks and palette, as Pillow's DibImageFile reads them (dec_bmp.c; an
 * ICO's 32-bit alpha is read from there). 0, or -1 with WHY. */
int dec_dib_pixels(const unsigned char *data, size_t len, size_t *off, char *why, size_t whylen);

/* Bytes of one row of W pixels of T. */
size_t dec_row_bytes(const struct dec_target *t, int w);

#endif
