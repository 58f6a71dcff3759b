/* codec.h - image encoding (gen's formats, encode.c) and decoding (load's):
 * a table in codec.c of one decoder per library, chosen by the file's first
 * bytes, behind codec_probe and codec_decode. */
#ifndef PARIMG_CODEC_H
#define PARIMG_CODEC_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

enum codec_format { CODEC_PNG, CODEC_BMP, CODEC_TGA, CODEC_JPG };

/* File name extensions of the formats, indexed by enum codec_format. */
extern const char *const codec_format_names[];

/* Encode W x H pixels of C 8-bit channels into OUT (replacing its content).
 * LEVEL is the deflate level for PNG (0-12), QUALITY the JPEG quality.
 * 0, or -1 when out of memory. */
int codec_encode(enum codec_format fmt, int level, int quality,
		 const unsigned char *pix, int w, int h, int c, struct buf *out);

struct decoder;

/* What a file's header says, and how it will be decoded. */
struct codec_info {
	int w, h;		/* dimensions of the decoded image */
	int channels;		/* samples per pixel as stored (palette: 3 or 4,
				 * CMYK: 3) */
	int is16;		/* 16-bit samples */
	int scale;		/* JPEG: decode at scale/8 of full size */
	int full_w, full_h;	/* the image's own dimensions */
	const struct decoder *dec;	/* chosen by the file's first bytes */
	/* What the file is, beyond the decoded shape (for "parimg check"): */
	int palette;		/* colours from a palette (PNG, GIF, BMP, TGA, TIFF) */
	int cmyk;		/* stored as CMYK or YCCK, decoded as colour */
	int animated;		/* more than one frame; load reads the first */
	int orientation;	/* EXIF orientation 1-8, 0 when the file has none */
	int oriented;		/* the decode applies it itself (TIFF: Pillow's
				 * TIFF loader does), w and h are turned */
	int values;		/* one sample of 32-bit float or int, or 16-bit
				 * signed int (Pillow's modes F and I): decoded
				 * by codec_decode_values only */
};

/* The bytes codec_sniff needs of a file's start: every decoder's sniff
 * reads no further, so the first CODEC_SNIFF_BYTES bytes (or the whole of
 * a shorter file) say what the whole file would. */
#define CODEC_SNIFF_BYTES 32
/* 1 when the first LEN bytes of a file (LEN = min(its size,
 * CODEC_SNIFF_BYTES)) are some decoder's format, 0 when they are none:
 * the magic numbers alone, nothing parsed, for the parent to check a file
 * before a worker gets it. */
int codec_sniff(const unsigned char *head, size_t len);

/* The name of the decoder INFO->dec ("png", "jpeg", ...: the names check
 * reports formats by). */
const char *codec_name(const struct codec_info *info);

/* Find the decoder for an encoded image by its first bytes and check its
 * header: dimensions within MAX_PIXELS, PNG chunk CRCs. 0 with INFO filled,
 * or -1 with the reason in WHY. */
int codec_probe(const unsigned char *data, size_t len, uint64_t max_pixels,
		struct codec_info *info, char *why, size_t whylen);

/* Let the decoder shrink the image while decoding where that is cheap (a
 * JPEG's reduced DCT scales, as Pillow's draft()): when W x H is at most
 * half INFO's size in both dimensions, INFO's size becomes the smallest the
 * decoder can make that still covers W x H. Changes pixels. */
void codec_draft(struct codec_info *info, int w, int h);

/* Decode DATA, probed into INFO, to PIX: INFO's w*h pixels of CHANNELS
 * samples, 8-bit, or 16-bit when DEPTH16 (8-bit sources scaled by 257).
 * Colour reduced to gray uses the ITU-R 601-2 luma weights, rounded as
 * Pillow does; gray is replicated to RGB; missing alpha is opaque; palettes
 * and tRNS are applied; CMYK is converted as Pillow converts it. 0, or -1
 * with the reason in WHY and PIX possibly partly written. */
int codec_decode(const unsigned char *data, size_t len, const struct codec_info *info,
		 int channels, int depth16, void *pix, char *why, size_t whylen);

/* Decode DATA, probed into INFO with INFO->values set, to PIX: INFO's w*h
 * samples as their own values. 0, or -1 with the reason in WHY. */
int codec_decode_values(const unsigned char *data, size_t len, const struct codec_info *info,
			double *pix, char *why, size_t whylen);
/* Decode DATA, probed into INFO, to PIX as a segmentation mask: INFO's w*h
 * bytes of what NumPy's np.asarray(Image.open(m)) gives for Pillow's modes
 * P, L and 1: a PNG palette's indices (never its colours), 8-bit gray
 * samples as they are, a 1-bit PNG's 0 and 1. Anything else (colour, alpha,
 * 16-bit, float, a palette of another format, a 1-bit PBM) is refused,
 * with the reason in WHY. 0, or -1. */
int codec_decode_indices(const unsigned char *data, size_t len, const struct codec_info *info,
			 unsigned char *pix, char *why, size_t whylen);

/* A rectangle of a decoded image: columns [X0, X1), rows [Y0, Y1). */
struct codec_window {
	int x0, x1, y0, y1;
};

/* codec_decode of part of the image: the decoder may decode only a
 * rectangle holding WANT (a JPEG's iMCUs, with the margins its upsampler
 * needs), with exactly the pixels the whole decode has there. *GOT is set
 * to what was decoded (the whole image where the decoder cannot do less),
 * its rows packed at PIX from its first pixel. */
int codec_decode_window(const unsigned char *data, size_t len, const struct codec_info *info,
			int channels, int depth16, void *pix, const struct codec_window *want,
			struct codec_window *got, char *why, size_t whylen);

#endif
