/* save.h - "parimg convert"'s writers: an 8-bit image to the bytes Pillow's
 * Image.save() writes for it (JPEG: the same bytes; PNG and WebP: the same
 * pixels), through libjpeg-turbo, libdeflate and libwebp. */
#ifndef PARIMG_SAVE_H
#define PARIMG_SAVE_H

#include "common/buf.h"

#include <stddef.h>

enum save_format { SAVE_JPEG, SAVE_PNG, SAVE_WEBP };

/* File name extensions by enum save_format: "jpg", "png", "webp". */
extern const char *const save_ext[];

struct save_opts {
	enum save_format format;
	int quality;		/* JPEG 1-100 (Pillow's default 75), WebP 0-100 (80) */
	int lossless;		/* WebP: lossless (Pillow's lossless=True) */
};

/* The channels format F stores for an image of C (1-4): JPEG drops alpha
 * (gray+alpha to gray, RGBA to RGB, as Pillow refuses them), WebP stores
 * gray as RGB and gray+alpha as RGBA (as Pillow converts them), PNG keeps
 * all four. */
int save_channels(enum save_format f, int c);

/*
 * Encode the W x H pixels PIX of C 8-bit channels (c = save_channels(...,
 * c), rows packed) into OUT, replacing its content:
 *  - JPEG as Pillow's im.save(f, "JPEG", quality=Q): jpeg_set_defaults,
 *    jpeg_set_quality(Q, force_baseline), 4:2:0 for colour, Huffman tables
 *    not optimised, not progressive, the JFIF APP0 with density 1:1 unit 0;
 *  - PNG with libdeflate at level 6 and a filter per row (stb's choice);
 *  - WebP as Pillow's save(): WebPConfigPreset(DEFAULT, Q), method 4.
 * 0, or -1 with the reason in WHY.
 */
int save_encode(const struct save_opts *o, const unsigned char *pix, int w, int h, int c,
		struct buf *out, char *why, size_t whylen);

/* An upper bound of save_encode's output for W x H x C pixels, for a
 * buffer sized before the encode (every format stays well under it). */
size_t save_bound(int w, int h, int c);

#endif
