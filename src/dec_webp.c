/* dec_webp.c - WebP (lossy, lossless, with alpha) through libwebp, decoded
 * straight into the caller's buffer where its layout is RGB or RGBA. Pillow
 * reads WebP as unpremultiplied RGBA, or RGB without alpha: the same
 * samples as here. */
#include "decoder.h"

#include <stdio.h>
#include <string.h>

#include <webp/decode.h>

static int webp_sniff(const unsigned char *d, size_t len)
{
	return len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0;
}

static const char *status_reason(VP8StatusCode s)
{
	switch (s) {
	case VP8_STATUS_OUT_OF_MEMORY:
		return "out of memory";
	case VP8_STATUS_NOT_ENOUGH_DATA:
		return "truncated WebP";
	case VP8_STATUS_UNSUPPORTED_FEATURE:
		return "unsupported WebP";
	default:
		return "corrupt WebP";
	}
}

static int webp_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		      size_t whylen)
{
	WebPBitstreamFeatures f;
	VP8StatusCode s = WebPGetFeatures(d, len, &f);

	if (s != VP8_STATUS_OK) {
		snprintf(why, whylen, "%s (bad header)", status_reason(s));
		return -1;
	}
	if (f.has_animation) {
		snprintf(why, whylen, "unsupported WebP (animated)");
		return -1;
	}
	info->w = f.width;
	info->h = f.height;
	info->channels = f.has_alpha ? 4 : 3;
	return 0;
}

static int webp_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		       const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf scratch;
	int n = t->channels == 2 || t->channels == 4 ? 4 : 3;
	int direct = n == t->channels && !t->depth16;
	size_t stride = (size_t)info->w * (size_t)n, size = stride * (size_t)info->h;
	WebPDecoderConfig config;
	VP8StatusCode s;
	unsigned char *pix = direct ? t->pix : dec_scratch(&scratch, size);

	if (!pix || !WebPInitDecoderConfig(&config)) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	config.output.colorspace = n == 4 ? MODE_RGBA : MODE_RGB;
	config.output.is_external_memory = 1;
	config.output.u.RGBA.rgba = pix;
	config.output.u.RGBA.stride = (int)stride;
	config.output.u.RGBA.size = size;
	s = WebPDecode(d, len, &config);
	WebPFreeDecBuffer(&config.output);
	if (s != VP8_STATUS_OK) {
		snprintf(why, whylen, "%s (%s)", status_reason(s),
			 s == VP8_STATUS_NOT_ENOUGH_DATA ? "the file ends in its image data" :
			 "libwebp cannot decode it");
		return -1;
	}
	if (!direct)
		dec_convert(pix, n, 0, t->pix, t, (size_t)info->w * (size_t)info->h);
	return 0;
}

const struct decoder dec_webp = { "WebP", webp_sniff, webp_probe, webp_decode, 0 };
