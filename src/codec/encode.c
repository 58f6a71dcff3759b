/* encode.c - the formats "parimg gen" writes: stb_image_write, compiled
 * here and only here, with libdeflate for the PNG writer's deflate and
 * CRC-32. */
#include "codec/codec.h"

#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *deflate_zlib(unsigned char *data, int len, int *outlen, int level);
#define STBIW_ZLIB_COMPRESS deflate_zlib
#define STBIW_CRC32(buf, len) libdeflate_crc32(0, (buf), (size_t)(len))
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION

/* Third-party code: its warnings are not ours to fix. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

const char *const codec_format_names[] = { "png", "bmp", "tga", "jpg", NULL };

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
