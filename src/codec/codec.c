/* codec.c - the table of decoders "parimg load" reads, chosen by each
 * file's first bytes and never its name; the colour conversions Pillow makes,
 * shared by every decoder. Resizing is resize.c's. */
#include "codec/codec.h"
#include "codec/decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Asked in this order; the first whose sniff accepts the file decodes it.
 * Every format but DIB and TGA opens with a magic number, so their order
 * does not matter, but for ICO's: its 00 00 01 00 could open an ISO box
 * of 256 bytes, so it comes after HEIF's and AVIF's ftyp (a directory of
 * one entry in 0x7466 whose first reads "yp" is no icon). DIB (a BMP without its file header: the first 4 bytes a
 * header size Pillow knows) and TGA have none and come last, DIB before
 * TGA as in Pillow, so that they only see files no other format claims.
 */
static const struct decoder *const decoders[] = {
	&dec_png,	/* \x89PNG\r\n\x1a\n: own unfilter over libdeflate */
	&dec_jpeg,	/* \xff\xd8\xff: libjpeg-turbo */
	&dec_webp,	/* RIFF....WEBP: libwebp */
	&dec_gif,	/* GIF87a, GIF89a: own LZW decoder, first frame */
	&dec_bmp,	/* BM: our own reader */
	&dec_pnm,	/* P1 to P6: our own reader */
	&dec_tiff,	/* II*\0, MM\0* (and BigTIFF's +): libtiff */
	&dec_jp2,	/* the JP2 signature box, J2K's SOC and SIZ: OpenJPEG */
	&dec_heif,	/* ftyp with a HEVC brand (heic, ...; mif1 not AVIF's): libheif */
	&dec_avif,	/* ftyp with avif or avis (major, or beside mif1): libavif */
	&dec_jxl,	/* \xff\x0a, or the JXL signature box: libjxl */
	&dec_sgi,	/* 474, big-endian: our own reader */
	&dec_ico,	/* 00 00 01 00 and an entry: frames by dec_png, dec_dib */
	&dec_dib,	/* a BMP header's size, 12, 40, ... 124: dec_bmp.c's reader */
	&dec_tga,	/* no magic number: our own reader */
	NULL
};

/* No side longer than this (stb_image's limit, which was load's before). */
#define MAX_SIDE (1 << 24)

const char *codec_name(const struct codec_info *info)
{
	return info->dec->name;
}

size_t dec_row_bytes(const struct dec_target *t, int w)
{
	return (size_t)w * (size_t)t->channels * (t->depth16 ? 2 : 1);
}

int codec_sniff(const unsigned char *head, size_t len)
{
	const struct decoder *const *d;

	for (d = decoders; *d; d++)
		if ((*d)->sniff(head, len))
			return 1;
	return 0;
}

int codec_probe(const unsigned char *data, size_t len, uint64_t max_pixels,
		struct codec_info *info, char *why, size_t whylen)
{
	const struct decoder *const *d;

	if (len == 0) {
		snprintf(why, whylen, "empty file");
		return -1;
	}
	if (len > INT32_MAX) {
		snprintf(why, whylen, "file too large to decode (%zu bytes)", len);
		return -1;
	}
	for (d = decoders; *d && !(*d)->sniff(data, len); d++)
		;
	if (!*d) {
		snprintf(why, whylen, "not a supported image (unknown format)");
		return -1;
	}
	memset(info, 0, sizeof(*info));
	info->dec = *d;
	info->scale = 8;
	if ((*d)->probe(data, len, info, why, whylen) < 0)
		return -1;
	if (info->w <= 0 || info->h <= 0) {
		snprintf(why, whylen, "image of %dx%d pixels", info->w, info->h);
		return -1;
	}
	if (info->w > MAX_SIDE || info->h > MAX_SIDE) {
		snprintf(why, whylen, "image is %dx%d, more than %d pixels a side",
			 info->w, info->h, MAX_SIDE);
		return -1;
	}
	if ((uint64_t)info->w * (uint64_t)info->h > max_pixels) {
		snprintf(why, whylen, "image is %dx%d, more than --max-pixels %llu",
			 info->w, info->h, (unsigned long long)max_pixels);
		return -1;
	}
	info->full_w = info->w;
	info->full_h = info->h;
	return 0;
}

/*
 * The scales tried, smallest first: those of Pillow's draft(), so that
 * --draft decodes what Pillow's draft() decodes. libjpeg-turbo also has
 * 3/8, 5/8, ...; docs/performance.md says why they are left out.
 */
static const int draft_scales[] = { 1, 2, 4 };

void codec_draft(struct codec_info *info, int w, int h)
{
	uint64_t fw = (uint64_t)info->full_w, fh = (uint64_t)info->full_h;
	size_t i;

	if (!info->dec->draft || (uint64_t)w * 2 > fw || (uint64_t)h * 2 > fh)
		return;
	/* The scaled size before rounding up covers W x H, Pillow's rule. */
	for (i = 0; i < sizeof(draft_scales) / sizeof(draft_scales[0]); i++) {
		uint64_t m = (uint64_t)draft_scales[i];

		if (fw * m >= (uint64_t)w * 8 && fh * m >= (uint64_t)h * 8) {
			info->scale = (int)m;
			info->w = (int)((fw * m + 7) / 8);
			info->h = (int)((fh * m + 7) / 8);
			return;
		}
	}
}

int codec_decode(const unsigned char *data, size_t len, const struct codec_info *info,
		 int channels, int depth16, void *pix, char *why, size_t whylen)
{
	struct dec_target t = { .pix = pix, .channels = channels, .depth16 = depth16 };

	if (info->values) {
		snprintf(why, whylen, "internal error: a decode of sample values to pixels");
		return -1;
	}
	return info->dec->decode(data, len, info, &t, why, whylen);
}

int codec_decode_values(const unsigned char *data, size_t len, const struct codec_info *info,
			double *pix, char *why, size_t whylen)
{
	struct dec_target t = { .pix = (unsigned char *)pix, .channels = 1, .values = 1 };

	return info->dec->decode(data, len, info, &t, why, whylen);
}

int codec_decode_indices(const unsigned char *data, size_t len, const struct codec_info *info,
			 unsigned char *pix, char *why, size_t whylen)
{
	struct dec_target t = { .pix = pix, .channels = 1, .indices = 1 };
	const char *name = info->dec->name;

	if (info->values || info->is16) {
		snprintf(why, whylen, "a %s mask of %s samples, not 8-bit class indices", name,
			 info->values ? "float or 32-bit int" : "16-bit");
		return -1;
	}
	if (info->palette && info->dec != &dec_png) {
		snprintf(why, whylen, "a %s palette mask: only a PNG palette's indices are read "
			 "(save the masks as palette or gray PNGs)", name);
		return -1;
	}
	if (!info->palette && info->channels != 1) {
		snprintf(why, whylen, "a %s mask of %d channels (%s): one class index a pixel is "
			 "read from palette or gray images only", name, info->channels,
			 info->channels == 2 ? "gray and alpha" : "colour, as Pillow's mode RGB");
		return -1;
	}
	/* PBM: Pillow's mode 1, whose 0 and 1 the decoder scales to 0 and 255. */
	if (info->dec == &dec_pnm && len >= 2 && data[0] == 'P' && (data[1] == '1' || data[1] == '4')) {
		snprintf(why, whylen, "a 1-bit PBM mask: save the masks as palette or gray PNGs");
		return -1;
	}
	return info->dec->decode(data, len, info, &t, why, whylen);
}

int codec_decode_window(const unsigned char *data, size_t len, const struct codec_info *info,
			int channels, int depth16, void *pix, const struct codec_window *want,
			struct codec_window *got, char *why, size_t whylen)
{
	struct dec_target t = { .pix = pix, .channels = channels, .depth16 = depth16,
				.want = want, .got = got };

	*got = (struct codec_window){ 0, info->w, 0, info->h };
	return info->dec->decode(data, len, info, &t, why, whylen);
}

/* ITU-R 601-2 luma in 16.16 fixed point, rounded: Pillow's RGB to L. */
static inline uint32_t luma(uint32_t r, uint32_t g, uint32_t b)
{
	return (r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16;
}

/* Convert COUNT pixels of N channels of STYPE at S into C channels of DTYPE
 * at D, each sample passed through DEPTH first: gray replicated, colour to
 * gray by luma, missing alpha opaque (MAXVAL). */
#define CONVERT(stype, dtype, depth, maxval, s, d, n, c, count)              \
	do {                                                                   \
		const stype *s_ = (const stype *)(s);                          \
		dtype *d_ = (dtype *)(d);                                      \
		size_t k_;                                                     \
		for (k_ = 0; k_ < (count); k_++, s_ += (n)) {                  \
			uint32_t r_ = depth(s_[0]);                            \
			uint32_t g_ = (n) >= 3 ? depth(s_[1]) : r_;            \
			uint32_t b_ = (n) >= 3 ? depth(s_[2]) : r_;            \
			uint32_t a_ = (n) == 2 ? depth(s_[1]) :                \
				      (n) == 4 ? depth(s_[3]) : (maxval);      \
			if ((c) <= 2) {                                        \
				*d_++ = (dtype)luma(r_, g_, b_);               \
			} else {                                               \
				*d_++ = (dtype)r_;                             \
				*d_++ = (dtype)g_;                             \
				*d_++ = (dtype)b_;                             \
			}                                                      \
			if ((c) == 2 || (c) == 4)                              \
				*d_++ = (dtype)a_;                             \
		}                                                              \
	} while (0)

#define SAME(v) ((uint32_t)(v))
#define TO16(v) ((uint32_t)(v) * 257u)
#define TO8(v) ((uint32_t)(v) >> 8)

void dec_convert(const void *src, int n, int src16, void *dst, const struct dec_target *t,
		 size_t count)
{
	int c = t->channels;

	if (n == c && src16 == t->depth16) {
		memcpy(dst, src, count * (size_t)c * (src16 ? 2 : 1));
	} else if (!src16 && !t->depth16) {
		/* The common cases spelt out, so the compiler unrolls them. */
		if (n == 3 && c == 1)
			CONVERT(uint8_t, uint8_t, SAME, 255, src, dst, 3, 1, count);
		else if (n == 1 && c == 3)
			CONVERT(uint8_t, uint8_t, SAME, 255, src, dst, 1, 3, count);
		else
			CONVERT(uint8_t, uint8_t, SAME, 255, src, dst, n, c, count);
	} else if (!src16) {
		CONVERT(uint8_t, uint16_t, TO16, 65535, src, dst, n, c, count);
	} else if (t->depth16) {
		CONVERT(uint16_t, uint16_t, SAME, 65535, src, dst, n, c, count);
	} else {
		CONVERT(uint16_t, uint8_t, TO8, 255, src, dst, n, c, count);
	}
}
