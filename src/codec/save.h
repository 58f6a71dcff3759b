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
	/* JPEG: a COM segment's bytes to write after the JFIF header, as
	 * Pillow 9.4's save() writes im.info["comment"]; NULL for none. */
	const unsigned char *comment;
	size_t comment_len;
};

/* The comment Pillow's JPEG reader keeps of the JPEG file DATA: the last
 * COM segment before the first SOS (its bytes into *COM and *LEN), as
 * Image.open() sets info["comment"] and resize() carries it. 1 when there
 * is one, 0 when not (or DATA is no JPEG's start). */
int save_jpeg_comment(const unsigned char *data, size_t len, const unsigned char **com,
		      size_t *comlen);

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
 *    not optimised, not progressive, the JFIF APP0 with density 1:1 unit 0,
 *    then O's comment if any;
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
