/* codec.c - stb_image, stb_image_write and stb_image_resize compiled here, and
 * only here, with our settings: the formats parimg reads, libdeflate for the
 * PNG writer's deflate and CRC-32, and a dimension cap. Also the checks stb
 * does not make (PNG CRCs) and the colour conversions Pillow makes. */
#include "codec.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Only what "parimg load" accepts: less decoder code facing hostile files. */
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 24)
/* stb's allocations go through a cap (see decode_cap below). */
static void *capped_malloc(size_t size);
static void *capped_realloc(void *p, size_t size);
#define STBI_MALLOC(size) capped_malloc(size)
#define STBI_REALLOC(p, size) capped_realloc((p), (size))
#define STBI_FREE(p) free(p)
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_IMPLEMENTATION

static unsigned char *deflate_zlib(unsigned char *data, int len, int *outlen, int level);
#define STBIW_ZLIB_COMPRESS deflate_zlib
#define STBIW_CRC32(buf, len) libdeflate_crc32(0, (buf), (size_t)(len))
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION

#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION

/* Third-party code: its warnings are not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <stb/stb_image_resize.h>
#pragma GCC diagnostic pop

const char *const codec_format_names[] = { "png", "bmp", "tga", "jpg", NULL };

/*
 * While an image is decoded, no single allocation of stb's may exceed what
 * an image of its header's size can need. stb_image 2.27 inflates a PNG's
 * data into a buffer that it grows without bound, so a small file whose
 * header is honest but whose zlib stream expands to gigabytes (a
 * decompression bomb) would take that memory; with the cap it fails as soon
 * as the stream outgrows the image. Zero means no cap (encoding).
 */
static size_t decode_cap;
static int cap_hit;		/* the cap refused an allocation */

static void *capped_malloc(size_t size)
{
	if (decode_cap && size > decode_cap) {
		cap_hit = 1;
		return NULL;
	}
	return malloc(size);
}

static void *capped_realloc(void *p, size_t size)
{
	if (decode_cap && size > decode_cap) {
		cap_hit = 1;
		return NULL;
	}
	return realloc(p, size);
}

/*
 * stb_image_write's zlib hook. One compressor per process and level, kept
 * for the process's life: allocating one costs more than compressing a small
 * image. Returns a malloc'd zlib stream, as stb frees it with free().
 */
static unsigned char *deflate_zlib(unsigned char *data, int len, int *outlen, int level)
{
	static struct libdeflate_compressor *comp;
	static int comp_level = -1;
	size_t bound, n;
	unsigned char *out;

	if (!comp || comp_level != level) {
		libdeflate_free_compressor(comp);
		comp = libdeflate_alloc_compressor(level);
		comp_level = level;
		if (!comp)
			return NULL;
	}
	bound = libdeflate_zlib_compress_bound(comp, (size_t)len);
	out = malloc(bound);
	if (!out)
		return NULL;
	n = libdeflate_zlib_compress(comp, data, (size_t)len, out, bound);
	if (n == 0) {
		free(out);
		return NULL;
	}
	*outlen = (int)n;
	return out;
}

static int buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	unsigned char *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

struct sink {
	struct buf *buf;
	int failed;		/* out of memory while appending */
};

static void sink_write(void *ctx, void *data, int size)
{
	struct sink *s = ctx;

	if (s->failed || buf_reserve(s->buf, (size_t)size) < 0) {
		s->failed = 1;
		return;
	}
	memcpy(s->buf->p + s->buf->len, data, (size_t)size);
	s->buf->len += (size_t)size;
}

/*
 * Encode to memory, never to a FILE: stb's stdio writer ignores write
 * errors, and the caller must see a full disk. For PNG the filter is fixed
 * to "none" at level 0: stb would otherwise try all five filters per row,
 * work that only pays when deflate looks for matches.
 */
int codec_encode(enum codec_format fmt, int level, int quality,
		 const unsigned char *pix, int w, int h, int c, struct buf *out)
{
	struct sink s = { out, 0 };
	int ok = 0;

	out->len = 0;
	switch (fmt) {
	case CODEC_PNG: {
		/* The PNG writer builds the file in memory anyway: take its
		 * buffer rather than copying it out through a callback. */
		unsigned char *png;
		int len;

		stbi_write_png_compression_level = level;
		stbi_write_force_png_filter = level == 0 ? 0 : -1;
		png = stbi_write_png_to_mem(pix, w * c, w, h, c, &len);
		if ((ok = png != NULL)) {
			free(out->p);
			out->p = png;
			out->len = out->cap = (size_t)len;
		}
		break;
	}
	case CODEC_BMP:
		ok = stbi_write_bmp_to_func(sink_write, &s, w, h, c, pix);
		break;
	case CODEC_TGA:
		stbi_write_tga_with_rle = 0;
		ok = stbi_write_tga_to_func(sink_write, &s, w, h, c, pix);
		break;
	case CODEC_JPG:
		ok = stbi_write_jpg_to_func(sink_write, &s, w, h, c, pix, quality);
		break;
	}
	if (!ok || s.failed) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Walk a PNG's chunks up to IEND and check each CRC-32, as libpng and
 * Pillow do. A chunk running past the end of the file is truncation.
 */
static int png_check_crcs(const unsigned char *d, size_t len, char *why, size_t whylen)
{
	size_t off = 8;

	for (;;) {
		uint32_t n, crc;

		if (len - off < 12) {
			snprintf(why, whylen, "truncated PNG (no IEND chunk)");
			return -1;
		}
		n = be32(d + off);
		if (n > 0x7fffffffu || n > len - off - 12) {
			snprintf(why, whylen, "truncated PNG (chunk at byte %zu runs past the end)", off);
			return -1;
		}
		crc = (uint32_t)libdeflate_crc32(0, d + off + 4, (size_t)n + 4);
		if (crc != be32(d + off + 8 + n)) {
			snprintf(why, whylen, "corrupt PNG (bad CRC in %.4s chunk)",
				 (const char *)d + off + 4);
			return -1;
		}
		if (memcmp(d + off + 4, "IEND", 4) == 0)
			return 0;
		off += (size_t)n + 12;
	}
}

/*
 * stb_image 2.27 writes past its Huffman size table when a JPEG's DHT
 * segment counts more than 256 codes (fixed upstream in 2.28). Walk the
 * markers, through entropy-coded data too (progressive files put tables
 * between scans), and refuse such tables before stb sees them.
 */
static int jpeg_check_tables(const unsigned char *d, size_t len, char *why, size_t whylen)
{
	size_t off = 0;

	/* stb takes any run of 0xff fill bytes before the SOI marker. */
	while (off < len && d[off] == 0xff)
		off++;
	if (off == 0 || off >= len || d[off] != 0xd8)
		return 0;	/* not a JPEG to stb either */
	off++;

	while (off + 4 <= len) {
		unsigned marker, seglen;

		if (d[off] != 0xff) {
			off++;		/* entropy-coded data */
			continue;
		}
		marker = d[off + 1];
		if (marker == 0x00 || marker == 0xff || (marker >= 0xd0 && marker <= 0xd7)) {
			off += marker == 0xff ? 1 : 2;	/* stuffing, fill, restart */
			continue;
		}
		if (marker == 0xd9)
			return 0;	/* EOI */
		seglen = (unsigned)d[off + 2] << 8 | d[off + 3];
		if (seglen < 2)
			return 0;	/* stb refuses it */
		if (marker == 0xc4) {
			/* A table cut short by the end of the file counts too:
			 * stb reads zeros past the end and builds it anyway. */
			size_t p = off + 4, end = off + 2 + seglen < len ? off + 2 + seglen : len;

			while (p < end) {
				unsigned k, total = 0;

				for (k = 1; k <= 16 && p + k < len; k++)
					total += d[p + k];
				if (total > 256) {
					snprintf(why, whylen, "corrupt JPEG (Huffman table of %u codes)", total);
					return -1;
				}
				p += 17 + total;
			}
		}
		if (off + 2 + seglen > len)
			return 0;	/* truncated: stb reports it */
		off += 2 + seglen;
	}
	return 0;
}

/* A PNM header number of at most 9 digits, after whitespace and comments. */
static int pnm_number(const unsigned char *d, size_t len, size_t *off, uint64_t *v)
{
	int digits = 0;

	for (;;) {
		while (*off < len && strchr(" \t\r\n\v\f", d[*off]))
			(*off)++;
		if (*off < len && d[*off] == '#') {
			while (*off < len && d[*off] != '\n' && d[*off] != '\r')
				(*off)++;
			continue;
		}
		break;
	}
	for (*v = 0; *off < len && d[*off] >= '0' && d[*off] <= '9'; digits++)
		*v = *v * 10 + (uint64_t)(d[(*off)++] - '0');
	/* stb adds up digits in an int: more than 9 overflow it. */
	return digits > 0 && digits <= 9 ? 0 : -1;
}

/* A binary PNM (P5 gray, P6 RGB) header. */
struct pnm {
	uint64_t w, h, maxval;
	int channels;
	size_t data;		/* offset of the first sample */
};

static int is_pnm(const unsigned char *d, size_t len)
{
	return len >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6');
}

/*
 * Parse a PNM header and check that the samples it promises are there.
 * PNM is decoded here, not by stb_image 2.27, which copies the samples raw:
 * 16-bit ones come out byte-swapped, a maxval other than 255 or 65535 is
 * not scaled, and short files are read past their end.
 */
static int pnm_header(const unsigned char *d, size_t len, struct pnm *p, char *why, size_t whylen)
{
	size_t off = 2;
	uint64_t need;

	p->channels = d[1] == '6' ? 3 : 1;
	if (pnm_number(d, len, &off, &p->w) < 0 || pnm_number(d, len, &off, &p->h) < 0 ||
	    pnm_number(d, len, &off, &p->maxval) < 0 || off >= len ||
	    !strchr(" \t\r\n\v\f", d[off]) || p->maxval == 0 || p->maxval > 65535) {
		snprintf(why, whylen, "corrupt PNM header");
		return -1;
	}
	p->data = off + 1;	/* one whitespace ends the header */
	need = p->w * p->h * (uint64_t)p->channels * (p->maxval > 255 ? 2 : 1);
	if (need > len - p->data) {
		snprintf(why, whylen, "truncated PNM (%llu bytes of pixels expected, %zu present)",
			 (unsigned long long)need, len - p->data);
		return -1;
	}
	return 0;
}

/* Samples of a checked PNM, scaled from 0..maxval to 0..255 or, DEPTH16,
 * 0..65535, rounding to nearest; a malloc'd buffer of w*h*channels. */
static void *pnm_samples(const unsigned char *d, const struct pnm *p, int depth16)
{
	size_t n = (size_t)(p->w * p->h * (uint64_t)p->channels), k;
	uint32_t top = depth16 ? 65535 : 255;
	const unsigned char *s = d + p->data;
	void *out = malloc(n * (depth16 ? 2 : 1));

	for (k = 0; out && k < n; k++) {
		uint32_t v = p->maxval > 255 ? (uint32_t)s[2 * k] << 8 | s[2 * k + 1] : s[k];
		uint32_t x = (uint32_t)(((uint64_t)(v > p->maxval ? p->maxval : v) * top +
					 p->maxval / 2) / p->maxval);

		if (depth16)
			((uint16_t *)out)[k] = (uint16_t)x;
		else
			((uint8_t *)out)[k] = (uint8_t)x;
	}
	return out;
}

static const char *stb_reason(void)
{
	const char *r = stbi_failure_reason();

	return r ? r : "cannot decode";
}

int codec_probe(const unsigned char *data, size_t len, uint64_t max_pixels,
		struct codec_info *info, char *why, size_t whylen)
{
	static const unsigned char png_sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };

	if (len == 0) {
		snprintf(why, whylen, "empty file");
		return -1;
	}
	if (len > INT32_MAX) {
		snprintf(why, whylen, "file too large to decode (%zu bytes)", len);
		return -1;
	}
	if (len >= 8 && memcmp(data, png_sig, 8) == 0 &&
	    png_check_crcs(data, len, why, whylen) < 0)
		return -1;
	if (jpeg_check_tables(data, len, why, whylen) < 0)
		return -1;
	if (is_pnm(data, len)) {
		struct pnm p;

		if (pnm_header(data, len, &p, why, whylen) < 0)
			return -1;
		if (p.w > INT32_MAX || p.h > INT32_MAX) {
			snprintf(why, whylen, "image is %llux%llu, too large", (unsigned long long)p.w,
				 (unsigned long long)p.h);
			return -1;
		}
		info->w = (int)p.w;
		info->h = (int)p.h;
		info->channels = p.channels;
		info->is16 = p.maxval > 255;
	} else if (stbi_info_from_memory(data, (int)len, &info->w, &info->h, &info->channels)) {
		info->is16 = stbi_is_16_bit_from_memory(data, (int)len);
	} else {
		snprintf(why, whylen, "not a supported image (%s)", stb_reason());
		return -1;
	}
	if (info->w <= 0 || info->h <= 0) {
		snprintf(why, whylen, "image of %dx%d pixels", info->w, info->h);
		return -1;
	}
	if ((uint64_t)info->w * (uint64_t)info->h > max_pixels) {
		snprintf(why, whylen, "image is %dx%d, more than --max-pixels %llu",
			 info->w, info->h, (unsigned long long)max_pixels);
		return -1;
	}
	return 0;
}

/* ITU-R 601-2 luma in 16.16 fixed point, rounded: Pillow's RGB to L. */
static uint32_t luma(uint32_t r, uint32_t g, uint32_t b)
{
	return (uint32_t)(((uint64_t)r * 19595 + (uint64_t)g * 38470 +
			   (uint64_t)b * 7471 + 0x8000) >> 16);
}

/* Convert COUNT pixels of N channels at S into C channels at D, as Pillow
 * does: gray replicated, colour to gray by luma, missing alpha opaque. */
#define CONVERT(type, maxval, s, d, n, c, count)                              \
	do {                                                                   \
		const type *s_ = (const type *)(s);                            \
		type *d_ = (type *)(d);                                        \
		size_t k_;                                                     \
		for (k_ = 0; k_ < (count); k_++, s_ += (n)) {                  \
			uint32_t r_ = s_[0], g_ = (n) >= 3 ? s_[1] : r_;       \
			uint32_t b_ = (n) >= 3 ? s_[2] : r_;                   \
			uint32_t a_ = (n) == 2 ? s_[1] : (n) == 4 ? s_[3] : (maxval); \
			if ((c) <= 2) {                                        \
				*d_++ = (type)luma(r_, g_, b_);                \
			} else {                                               \
				*d_++ = (type)r_;                              \
				*d_++ = (type)g_;                              \
				*d_++ = (type)b_;                              \
			}                                                      \
			if ((c) == 2 || (c) == 4)                              \
				*d_++ = (type)a_;                              \
		}                                                              \
	} while (0)

/* PIX (N channels, malloc'd) converted to C channels in a new buffer; PIX
 * is freed either way. NULL when out of memory. */
static void *convert_channels(void *pix, int n, int c, size_t count, int depth16)
{
	void *out = malloc(count * (size_t)c * (depth16 ? 2 : 1));

	if (out && depth16)
		CONVERT(uint16_t, 65535, pix, out, n, c, count);
	else if (out)
		CONVERT(uint8_t, 255, pix, out, n, c, count);
	free(pix);
	return out;
}

void *codec_decode(const unsigned char *data, size_t len, int channels,
		   int depth16, int *w, int *h, char *why, size_t whylen)
{
	void *pix;
	int n;

	if (is_pnm(data, len)) {
		struct pnm p;

		if (pnm_header(data, len, &p, why, whylen) < 0)
			return NULL;
		*w = (int)p.w;
		*h = (int)p.h;
		n = p.channels;
		pix = pnm_samples(data, &p, depth16);
	} else {
		int stored, req;

		if (!stbi_info_from_memory(data, (int)len, w, h, &stored)) {
			snprintf(why, whylen, "not a supported image (%s)", stb_reason());
			return NULL;
		}
		/* stb's colour-to-gray weights differ from Pillow's and
		 * OpenCV's: colour going to gray is asked as RGBA and
		 * converted below. */
		req = stored >= 3 && channels <= 2 ? 4 : channels;
		/* 8 bytes a pixel (16-bit RGBA) plus each row's filter
		 * bytes and Adam7's extra rows, and the file itself. */
		decode_cap = (size_t)*w * (size_t)*h * 8 + ((size_t)*h + 8) * 8 + len + 65536;
		cap_hit = 0;
		if (depth16)
			pix = stbi_load_16_from_memory(data, (int)len, w, h, &stored, req);
		else
			pix = stbi_load_from_memory(data, (int)len, w, h, &stored, req);
		decode_cap = 0;
		if (!pix && cap_hit) {
			snprintf(why, whylen, "corrupt image (its data inflates past the %dx%d "
				 "the header gives: a decompression bomb?)", *w, *h);
			return NULL;
		}
		if (!pix) {
			snprintf(why, whylen, "corrupt image (%s)", stb_reason());
			return NULL;
		}
		n = req;
	}
	if (pix && n != channels)
		pix = convert_channels(pix, n, channels, (size_t)*w * (size_t)*h, depth16);
	if (!pix)
		snprintf(why, whylen, "out of memory");
	return pix;
}

int codec_resize(const void *in, int w, int h, int c, int depth16, void *out,
		 int nw, int nh)
{
	int alpha = c == 2 ? 1 : c == 4 ? 3 : STBIR_ALPHA_CHANNEL_NONE;

	if (depth16)
		return stbir_resize_uint16_generic(in, w, h, 0, out, nw, nh, 0, c, alpha,
						   0, STBIR_EDGE_CLAMP, STBIR_FILTER_DEFAULT,
						   STBIR_COLORSPACE_LINEAR, NULL) ? 0 : -1;
	return stbir_resize_uint8_generic(in, w, h, 0, out, nw, nh, 0, c, alpha, 0,
					  STBIR_EDGE_CLAMP, STBIR_FILTER_DEFAULT,
					  STBIR_COLORSPACE_LINEAR, NULL) ? 0 : -1;
}
