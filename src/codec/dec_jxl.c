/* dec_jxl.c - JPEG XL through libjxl, the bare codestream and the ISO-BMFF
 * container, with no parallel runner (libjxl then decodes in the calling
 * thread): the pixels djxl writes. Its defaults are kept: the orientation
 * in the codestream's header is applied (libjxl's keep_orientation off),
 * an animation is its first frame as coalesced onto the canvas, alpha is
 * not premultiplied, lossy (XYB) images come as sRGB; no colour profile is
 * applied beyond that. */
#include "codec/decoder.h"

#include <stdio.h>
#include <string.h>

#include <jxl/decode.h>

static const unsigned char jxl_container[12] = {
	0, 0, 0, 12, 'J', 'X', 'L', ' ', '\r', '\n', 0x87, '\n'
};

/* The codestream's FF 0A, or the container's signature box. */
static int jxl_sniff(const unsigned char *d, size_t len)
{
	return (len >= 2 && d[0] == 0xff && d[1] == 0x0a) ||
	       (len >= 12 && memcmp(d, jxl_container, 12) == 0);
}

/*
 * Run libjxl over D until EVENTS' last one: basic information (into *BI),
 * or also the first full frame, into the buffer of FORMAT at OUT (SIZE
 * bytes) asked for when it needs one. 0, or -1 with WHY.
 */
static int jxl_run(const unsigned char *d, size_t len, int full, JxlBasicInfo *bi,
		   const JxlPixelFormat *format, void *out, size_t size, char *why, size_t whylen)
{
	JxlDecoder *dec = JxlDecoderCreate(NULL);
	int r = -1;

	if (!dec) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	/* The input is not closed: libjxl 0.7 prints "missing input" on
	 * stderr for a closed input that ends early (a write the workers'
	 * filter stops), and asks for more input on an open one. */
	if (JxlDecoderSubscribeEvents(dec, JXL_DEC_BASIC_INFO | (full ? JXL_DEC_FULL_IMAGE : 0)) !=
	    JXL_DEC_SUCCESS || JxlDecoderSetInput(dec, d, len) != JXL_DEC_SUCCESS) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (;;) {
		JxlDecoderStatus s = JxlDecoderProcessInput(dec);
		size_t need;

		if (s == JXL_DEC_BASIC_INFO) {
			if (JxlDecoderGetBasicInfo(dec, bi) != JXL_DEC_SUCCESS)
				break;
			if (!full) {
				r = 0;
				goto out;
			}
		} else if (s == JXL_DEC_NEED_IMAGE_OUT_BUFFER) {
			if (JxlDecoderImageOutBufferSize(dec, format, &need) != JXL_DEC_SUCCESS ||
			    need != size) {
				snprintf(why, whylen, "corrupt JPEG XL (an image of another size than "
					 "its header says)");
				goto out;
			}
			if (JxlDecoderSetImageOutBuffer(dec, format, out, size) != JXL_DEC_SUCCESS)
				break;
		} else if (s == JXL_DEC_FULL_IMAGE) {
			r = 0;		/* the first frame: enough */
			goto out;
		} else if (s == JXL_DEC_NEED_MORE_INPUT) {
			snprintf(why, whylen, "truncated JPEG XL (the file ends in its %s)",
				 full ? "image data" : "header");
			goto out;
		} else if (s == JXL_DEC_SUCCESS) {
			snprintf(why, whylen, "corrupt JPEG XL (no image)");
			goto out;
		} else {
			break;
		}
	}
	snprintf(why, whylen, "corrupt JPEG XL (libjxl cannot decode it)");
out:
	JxlDecoderDestroy(dec);
	return r;
}

/* The size after the header's orientation (5 to 8 swap the sides), as
 * libjxl decodes it by default. */
static int jxl_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	JxlBasicInfo bi;
	int swap;

	if (jxl_run(d, len, 0, &bi, NULL, NULL, 0, why, whylen) < 0)
		return -1;
	if (bi.xsize > INT32_MAX || bi.ysize > INT32_MAX) {
		snprintf(why, whylen, "image is %ux%u, too large", bi.xsize, bi.ysize);
		return -1;
	}
	swap = bi.orientation >= JXL_ORIENT_TRANSPOSE;
	info->w = (int)(swap ? bi.ysize : bi.xsize);
	info->h = (int)(swap ? bi.xsize : bi.ysize);
	info->channels = (bi.num_color_channels == 1 ? 1 : 3) + (bi.alpha_bits ? 1 : 0);
	info->is16 = bi.bits_per_sample > 8;
	info->animated = bi.have_animation;
	return 0;
}

/*
 * The first frame as gray, gray+alpha, RGB or RGBA samples (the image's own
 * channels), 8-bit, or 16-bit with -t u2 when the image is deeper (libjxl's
 * scaling: v * 65535 / (2^b - 1), rounded); then to T's channels. Straight
 * into T's pixels where the layouts agree.
 */
static int jxl_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf scratch;
	int deep = t->depth16 && info->is16, n = info->channels;
	JxlPixelFormat f = { (uint32_t)n, deep ? JXL_TYPE_UINT16 : JXL_TYPE_UINT8,
			     JXL_NATIVE_ENDIAN, 0 };
	size_t count = (size_t)info->w * (size_t)info->h, size = count * (size_t)n * (deep ? 2 : 1);
	int direct = n == t->channels && deep == t->depth16;
	unsigned char *pix = direct ? t->pix : buf_grow(&scratch, size);
	JxlBasicInfo bi;

	if (!pix) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (jxl_run(d, len, 1, &bi, &f, pix, size, why, whylen) < 0)
		return -1;
	if (!direct)
		dec_convert(pix, n, deep, t->pix, t, count);
	return 0;
}

const struct decoder dec_jxl = { "JXL", jxl_sniff, jxl_probe, jxl_decode, 0 };
