/* row.h - one input file's bytes to one row of the output array: checks
 * (format, CRC, pixel cap, size), decode with channel conversion, optional
 * resize, and the sample type. No file I/O: the fuzzer drives it directly. */
#ifndef PARIMG_ROW_H
#define PARIMG_ROW_H

#include "image/resize.h"
#include "image/tensor.h"
#include "codec/codec.h"

#include <stddef.h>
#include <stdint.h>

struct row_spec {
	uint32_t w, h;		/* every row's image size */
	int channels;		/* 1-4, every image converted to it */
	enum tensor_dtype dtype;
	int scale;		/* f4/f8: samples in [0,1] */
	int resize;		/* resize every image to w x h: */
	enum resize_filter filter;	/* with this filter */
	enum resize_fit fit;	/* and geometry */
	unsigned pad;		/* contain's margins */
	int draft;		/* with resize: let JPEGs decode at a reduced scale */
	int exif_transpose;	/* turn each image by its EXIF orientation first */
	uint64_t max_pixels;	/* refuse larger images before decoding */
	const char *size_from;	/* the image that fixed w x h, for messages */
	/* --ragged (ragged.c): each image at its own size, or one of these: */
	int ragged;
	uint32_t short_side;	/* --resize S: the shorter side becomes S */
	uint32_t max_side;	/* --max-side L: a longer side over L becomes L */
	enum tensor_layout layout;	/* NHWC, or NCHW planes */
	struct tensor_norm norm;	/* --normalize (f4/f8, 8-bit samples) */
};

struct chanstats_acc;

/* Buffers a process reuses from row to row; zero-initialise. */
struct row_scratch {
	struct buf pix;		/* a decoded image, where it cannot go to the row */
	struct buf resized;	/* f4/f8: the resized samples */
	struct resize_ctx rz;	/* the resampler's plans and buffers */
	struct chanstats_acc *stats;	/* if set, each row's samples are added to it */
	struct buf turned;	/* --exif-transpose: the turned image */
	struct buf values;	/* float and int samples, as doubles */
	int native;		/* set by row_decode: the last image's channels as
				 * stored (codec_info's), 0 if it did not probe */
	int w, h;		/* and its size, turned by --exif-transpose,
				 * before any draft or resize (a mask's must be) */
};

/* Bytes of one sample of DTYPE. */
size_t row_sample_size(enum tensor_dtype dtype);
/* Bytes of one row. */
size_t row_bytes(const struct row_spec *s);

/* The size of INFO's image in a row of S, before any resize: turned by its
 * EXIF orientation under --exif-transpose. */
void row_image_size(const struct row_spec *s, const struct codec_info *info, int *w, int *h);

/* Decode the LEN bytes at DATA into ROW (row_bytes(S) bytes): straight into
 * it where the row's layout is the decoder's output (u1 or u2, NHWC, no
 * resize). With SCRATCH->stats set, the row's samples are added to it.
 * 0, or -1 with the reason in WHY and ROW zero. */
int row_decode(const struct row_spec *s, const unsigned char *data, size_t len, void *row,
	       struct row_scratch *scratch, char *why, size_t whylen);

#endif
