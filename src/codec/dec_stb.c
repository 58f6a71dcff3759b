/* dec_stb.c - BMP and TGA through stb_image 2.27, compiled here and only here
 * with only those two formats, a dimension cap and an allocation cap. */
#include "decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Only what parimg sends here: less decoder code facing hostile files. */
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 24)
/* stb's allocations go through a cap (see decode_cap below). */
static void *capped_malloc(size_t size);
#define STBI_MALLOC(size) capped_malloc(size)
#define STBI_REALLOC(p, size) realloc((p), (size))	/* unused by BMP and TGA */
#define STBI_FREE(p) free(p)
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_IMPLEMENTATION

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
#pragma GCC diagnostic pop

/*
 * While an image is decoded, no single allocation of stb's may exceed what
 * an image of its header's size can need: a file whose header is honest but
 * whose data would make stb allocate far more then fails at once instead of
 * taking the memory. Zero means no cap.
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

static const char *stb_reason(void)
{
	const char *r = stbi_failure_reason();

	return r ? r : "cannot decode";
}

static int bmp_sniff(const unsigned char *d, size_t len)
{
	return len >= 2 && d[0] == 'B' && d[1] == 'M';
}

/* TGA has no magic number: stb's test of the header's fields decides. */
static int tga_sniff(const unsigned char *d, size_t len)
{
	stbi__context s;

	stbi__start_mem(&s, d, (int)len);
	return stbi__tga_test(&s);
}

static int stb_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	if (!stbi_info_from_memory(d, (int)len, &info->w, &info->h, &info->channels)) {
		snprintf(why, whylen, "corrupt %s (%s)", info->dec->name, stb_reason());
		return -1;
	}
	info->is16 = stbi_is_16_bit_from_memory(d, (int)len);
	/* stb_image's own limit, checked before anything is allocated. */
	if ((uint64_t)info->w * (uint64_t)info->h * 4 > INT32_MAX) {
		snprintf(why, whylen, "unsupported %s (image of %dx%d, too large for stb_image)",
			 info->dec->name, info->w, info->h);
		return -1;
	}
	return 0;
}

/* Decode with stb to the stored channels (RGBA when colour goes to gray:
 * stb's gray weights differ from Pillow's) and convert into T. */
static int stb_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	int w, h, stored, req = info->channels >= 3 && t->channels <= 2 ? 4 : t->channels;
	void *pix;

	/* 8 bytes a pixel (16-bit RGBA) and the file itself. */
	decode_cap = (size_t)info->w * (size_t)info->h * 8 + ((size_t)info->h + 8) * 8 + len + 65536;
	cap_hit = 0;
	if (t->depth16)
		pix = stbi_load_16_from_memory(d, (int)len, &w, &h, &stored, req);
	else
		pix = stbi_load_from_memory(d, (int)len, &w, &h, &stored, req);
	decode_cap = 0;
	if (!pix && cap_hit) {
		snprintf(why, whylen, "corrupt %s (its data needs more memory than %dx%d "
			 "pixels can)", info->dec->name, info->w, info->h);
		return -1;
	}
	if (!pix) {
		snprintf(why, whylen, "corrupt %s (%s)", info->dec->name, stb_reason());
		return -1;
	}
	if (w != info->w || h != info->h) {
		free(pix);
		snprintf(why, whylen, "corrupt %s (decoded %dx%d, header says %dx%d)",
			 info->dec->name, w, h, info->w, info->h);
		return -1;
	}
	dec_convert(pix, req, t->depth16, t->pix, t, (size_t)w * (size_t)h);
	free(pix);
	return 0;
}

const struct decoder dec_bmp = { "BMP", bmp_sniff, stb_probe, stb_decode, 0 };
const struct decoder dec_tga = { "TGA", tga_sniff, stb_probe, stb_decode, 0 };
