/* dec_webp.c - WebP (lossy, lossless, with alpha) through libwebp, decoded
 * straight into the caller's buffer where its layout is RGB or RGBA; an
 * animation's first frame through libwebpdemux's animation decoder. Pillow
 * reads WebP as unpremultiplied RGBA, or RGB without alpha: the same
 * samples as here. */
#include "codec/decoder.h"
#include "codec/exif.h"

#include <stdio.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

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

/* The frames of an animated WebP, as its ANIM chunks count them (an
 * animation of one frame is a still image to Pillow); 0 if unreadable. */
static unsigned frame_count(const unsigned char *d, size_t len)
{
	WebPData data = { d, len };
	WebPDemuxer *demux = WebPDemux(&data);
	unsigned n;

	if (!demux)
		return 0;
	n = WebPDemuxGetI(demux, WEBP_FF_FRAME_COUNT);
	WebPDemuxDelete(demux);
	return n;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The orientation in the first EXIF chunk, the one libwebpdemux hands
 * Pillow. Only the extended format (a VP8X chunk first) has one; the walk
 * over the RIFF chunks moves at least 8 bytes a step and stops at the end.
 */
static int webp_orientation(const unsigned char *d, size_t len)
{
	size_t off = 12;

	if (len < 20 || memcmp(d + 12, "VP8X", 4) != 0)
		return 0;
	while (len - off >= 8) {
		uint32_t n = le32(d + off + 4);
		size_t body = off + 8;

		if (n > len - body)
			return 0;
		if (memcmp(d + off, "EXIF", 4) == 0) {
			int o = exif_orientation(d + body, n);

			return o > 0 ? o : 0;
		}
		off = body + n + (n & 1);
		if (off > len)
			return 0;
	}
	return 0;
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
	info->w = f.width;
	info->h = f.height;
	info->channels = f.has_alpha ? 4 : 3;
	info->animated = f.has_animation && frame_count(d, len) > 1;
	info->orientation = webp_orientation(d, len);
	return 0;
}

/*
 * An animation: its first frame as libwebp's animation decoder composes it
 * on the canvas (transparent where the frame does not reach), which is what
 * Pillow loads. Without alpha in the file the canvas counts as RGB.
 */
static int webp_first_frame(const unsigned char *d, size_t len, const struct codec_info *info,
			    const struct dec_target *t, int has_alpha, char *why, size_t whylen)
{
	WebPData data = { d, len };
	WebPAnimDecoderOptions opt;
	WebPAnimDecoder *dec;
	uint8_t *canvas;
	size_t k, n = (size_t)info->w * (size_t)info->h;
	int ts;

	if (!WebPAnimDecoderOptionsInit(&opt)) {
		snprintf(why, whylen, "unsupported WebP (libwebpdemux version)");
		return -1;
	}
	opt.color_mode = MODE_RGBA;
	opt.use_threads = 0;
	if (!(dec = WebPAnimDecoderNew(&data, &opt))) {
		snprintf(why, whylen, "corrupt WebP (libwebp cannot read its animation)");
		return -1;
	}
	if (!WebPAnimDecoderGetNext(dec, &canvas, &ts)) {
		WebPAnimDecoderDelete(dec);
		snprintf(why, whylen, "corrupt WebP (libwebp cannot decode its first frame)");
		return -1;
	}
	for (k = 0; !has_alpha && k < n; k++)
		canvas[4 * k + 3] = 255;
	dec_convert(canvas, 4, 0, t->pix, t, n);
	WebPAnimDecoderDelete(dec);
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
	unsigned char *pix;

	if (WebPGetFeatures(d, len, &config.input) != VP8_STATUS_OK) {
		snprintf(why, whylen, "corrupt WebP (bad header)");
		return -1;
	}
	if (config.input.has_animation)
		return webp_first_frame(d, len, info, t, config.input.has_alpha, why, whylen);
	pix = direct ? t->pix : buf_grow(&scratch, size);
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
