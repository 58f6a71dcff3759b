/* codec.h - image encoding and decoding: the one place that compiles stb's
 * implementations (stb_image, stb_image_write, stb_image_resize) and sets
 * their macros, with libdeflate under the PNG writer. */
#ifndef PARIMG_CODEC_H
#define PARIMG_CODEC_H

#include <stddef.h>
#include <stdint.h>

enum codec_format { CODEC_PNG, CODEC_BMP, CODEC_TGA, CODEC_JPG };

/* A growable byte buffer; owned by its user, reused across images. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

/* File name extensions of the formats, indexed by enum codec_format. */
extern const char *const codec_format_names[];

/* Encode W x H pixels of C 8-bit channels into OUT (replacing its content).
 * LEVEL is the deflate level for PNG (0-12), QUALITY the JPEG quality.
 * 0, or -1 when out of memory. */
int codec_encode(enum codec_format fmt, int level, int quality,
		 const unsigned char *pix, int w, int h, int c, struct buf *out);

/* What a file's header says. */
struct codec_info {
	int w, h;		/* dimensions */
	int channels;		/* samples per pixel as stored (palette: 3 or 4) */
	int is16;		/* 16-bit samples */
};

/* Check an encoded image before decoding it: a format we read, PNG chunk
 * CRCs (stb_image skips them), and dimensions within MAX_PIXELS.
 * 0 with INFO filled, or -1 with the reason in WHY. */
int codec_probe(const unsigned char *data, size_t len, uint64_t max_pixels,
		struct codec_info *info, char *why, size_t whylen);

/* Decode DATA to CHANNELS channels of 8-bit samples, or 16-bit when DEPTH16
 * (8-bit sources scaled by 257). Colour reduced to gray uses the ITU-R 601-2
 * luma weights, rounded as Pillow does; gray is replicated to RGB; missing
 * alpha is opaque; palettes and tRNS are applied. The result is malloc'd;
 * NULL with the reason in WHY on failure. */
void *codec_decode(const unsigned char *data, size_t len, int channels,
		   int depth16, int *w, int *h, char *why, size_t whylen);

/* Resize W x H pixels of C channels (8- or 16-bit) to NW x NH into OUT,
 * which holds NW*NH*C samples. 0, or -1 when out of memory. */
int codec_resize(const void *in, int w, int h, int c, int depth16, void *out,
		 int nw, int nh);

#endif
