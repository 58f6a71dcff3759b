/* dec_heif.c - HEIC/HEIF through libheif, its HEVC data decoded by libde265
 * in the worker's own thread: libheif's own libde265 plugin starts a
 * decoding thread, which a confined worker may not, so parimg registers a
 * plugin of its own (the same calls, no worker threads) above it. The
 * primary image, with its grid tiles put together and its irot, imir and
 * clap boxes applied as libheif (and pillow-heif, heif-convert) apply them
 * by default; RGB and alpha as libheif converts them, which heif-convert
 * writes. An EXIF Orientation is never applied on top (HEIF writers keep it
 * for readers that do not know irot). AVIF is dec_avif.c's. */
#include "codec/decoder.h"

#include <stdio.h>
#include <string.h>

#include <libde265/de265.h>
#include <libheif/heif.h>
#include <libheif/heif_plugin.h>

/* The ftyp brands of HEIF with HEVC (and the structural ones, mif1 and
 * msf1, when no AVIF brand is among the compatible ones). */
static const char *const heic_brands[] = {
	"heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", NULL
};

static int brand_in(const unsigned char *b, const char *const *list)
{
	for (; *list; list++)
		if (memcmp(b, *list, 4) == 0)
			return 1;
	return 0;
}

/* An ftyp box first; its major brand (or mif1/msf1 with no avif or avis in
 * the compatible brands within the first CODEC_SNIFF_BYTES). */
static int heif_sniff(const unsigned char *d, size_t len)
{
	static const char *const structural[] = { "mif1", "msf1", NULL };
	static const char *const av1[] = { "avif", "avis", NULL };
	size_t box, k;

	if (len < 12 || memcmp(d + 4, "ftyp", 4) != 0)
		return 0;
	if (brand_in(d + 8, heic_brands))
		return 1;
	if (!brand_in(d + 8, structural))
		return 0;
	box = (size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3];
	for (k = 16; k + 4 <= len && k + 4 <= box && k + 4 <= CODEC_SNIFF_BYTES; k += 4)
		if (brand_in(d + k, av1))
			return 0;
	return 1;
}

/* ---------------------------------------------------------------- the HEVC plugin */

/* One libde265 decoder, with no worker threads: de265_decode decodes in
 * the calling thread. */
static const char *hevc_name(void)
{
	return "parimg: libde265 in one thread";
}

static void hevc_init(void)
{
	de265_init();
}

static void hevc_deinit(void)
{
	de265_free();
}

static int hevc_supports(enum heif_compression_format f)
{
	return f == heif_compression_HEVC ? 200 : 0;	/* above libheif's own, 100 */
}

static struct heif_error plugin_error(const char *msg)
{
	return (struct heif_error){ heif_error_Decoder_plugin_error, heif_suberror_Unspecified,
				    msg };
}

static const struct heif_error heif_ok = { heif_error_Ok, heif_suberror_Unspecified, "Success" };

static struct heif_error hevc_new(void **dec)
{
	de265_decoder_context *ctx = de265_new_decoder();

	if (!ctx)
		return plugin_error("out of memory");
	*dec = ctx;
	return heif_ok;
}

static void hevc_free(void *dec)
{
	de265_free_decoder(dec);
}

static void hevc_strict(void *dec, int flag)
{
	(void)dec;
	(void)flag;
}

/* The NAL units libheif hands over, each after its 4-byte length. */
static struct heif_error hevc_push(void *dec, const void *data, size_t size)
{
	const unsigned char *p = data;
	size_t at = 0;

	while (at < size) {
		uint32_t n;

		if (size - at < 4)
			return (struct heif_error){ heif_error_Decoder_plugin_error,
						    heif_suberror_End_of_data, "truncated NAL unit" };
		n = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 | (uint32_t)p[at + 2] << 8 |
		    p[at + 3];
		at += 4;
		if (n > size - at || n > INT32_MAX)
			return (struct heif_error){ heif_error_Decoder_plugin_error,
						    heif_suberror_End_of_data, "truncated NAL unit" };
		if (de265_push_NAL(dec, p + at, (int)n, 0, NULL) != DE265_OK)
			return plugin_error("libde265 cannot take a NAL unit");
		at += n;
	}
	return heif_ok;
}

/* A libde265 picture as a heif_image of its planes and colour description,
 * as libheif's own plugin makes it. */
static struct heif_error hevc_image(const struct de265_image *pic, struct heif_image **out)
{
	static const enum heif_channel planes[3] = {
		heif_channel_Y, heif_channel_Cb, heif_channel_Cr
	};
	enum de265_chroma cf = de265_get_chroma_format(pic);
	int mono = cf == de265_chroma_mono, bpp = de265_get_bits_per_pixel(pic, 0), c;
	struct heif_color_profile_nclx *nclx;
	struct heif_error e;

	e = heif_image_create(de265_get_image_width(pic, 0), de265_get_image_height(pic, 0),
			      mono ? heif_colorspace_monochrome : heif_colorspace_YCbCr,
			      (enum heif_chroma)cf, out);
	if (e.code)
		return e;
	for (c = 0; c < (mono ? 1 : 3); c++) {
		int w = de265_get_image_width(pic, c), h = de265_get_image_height(pic, c);
		int stride, dstride, y;
		const uint8_t *src = de265_get_image_plane(pic, c, &stride);
		uint8_t *dst;

		if (de265_get_bits_per_pixel(pic, c) != bpp || w <= 0 || h <= 0 || !src) {
			heif_image_release(*out);
			return plugin_error("planes of different depths or no size");
		}
		e = heif_image_add_plane(*out, planes[c], w, h, bpp);
		if (e.code) {
			heif_image_release(*out);
			return e;
		}
		dst = heif_image_get_plane(*out, planes[c], &dstride);
		for (y = 0; y < h; y++)
			memcpy(dst + (size_t)y * (size_t)dstride, src + (size_t)y * (size_t)stride,
			       (size_t)w * (size_t)((bpp + 7) / 8));
	}
	if ((nclx = heif_nclx_color_profile_alloc())) {
		heif_nclx_color_profile_set_color_primaries(
			nclx, (uint16_t)de265_get_image_colour_primaries(pic));
		heif_nclx_color_profile_set_transfer_characteristics(
			nclx, (uint16_t)de265_get_image_transfer_characteristics(pic));
		heif_nclx_color_profile_set_matrix_coefficients(
			nclx, (uint16_t)de265_get_image_matrix_coefficients(pic));
		nclx->full_range_flag = (uint8_t)de265_get_image_full_range_flag(pic);
		heif_image_set_nclx_color_profile(*out, nclx);
		heif_nclx_color_profile_free(nclx);
	}
	return heif_ok;
}

/* Decode what was pushed; the last picture is the image (one, in HEIF). */
static struct heif_error hevc_decode(void *dec, struct heif_image **out)
{
	struct heif_error e = plugin_error("libde265 decoded no picture");
	int more;

	*out = NULL;
	de265_flush_data(dec);
	do {
		const struct de265_image *pic;

		more = 0;
		if (de265_decode(dec, &more) != DE265_OK)
			break;
		if ((pic = de265_get_next_picture(dec))) {
			if (*out)
				heif_image_release(*out);
			*out = NULL;
			e = hevc_image(pic, out);
			de265_release_next_picture(dec);
			if (e.code)
				return e;
		}
	} while (more);
	return e;
}

static const struct heif_decoder_plugin hevc_plugin = {
	.plugin_api_version = 3,
	.get_plugin_name = hevc_name,
	.init_plugin = hevc_init,
	.deinit_plugin = hevc_deinit,
	.does_support_format = hevc_supports,
	.new_decoder = hevc_new,
	.free_decoder = hevc_free,
	.push_data = hevc_push,
	.decode_image = hevc_decode,
	.set_strict_decoding = hevc_strict,
	.id_name = "parimg-libde265",
};

/* ---------------------------------------------------------------- the decoder */

/* WHY from libheif's error E: its message without its trailing newline. */
static int heif_fail(struct heif_error e, char *why, size_t whylen)
{
	char msg[200];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", e.message && e.message[0] ? e.message : "cannot read it");
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
		msg[--n] = 0;
	snprintf(why, whylen, "%s HEIF (libheif: %s)",
		 e.subcode == heif_suberror_End_of_data ? "truncated" :
		 e.code == heif_error_Unsupported_feature || e.code == heif_error_Unsupported_filetype ?
		 "unsupported" : "corrupt", msg);
	return -1;
}

/*
 * A context over D with its primary image's handle, decoding in one
 * thread (no threads for grid tiles, parimg's HEVC plugin registered once).
 * SIDE > 0: libheif refuses any image (a grid's canvas, a tile, the alpha)
 * with a side longer, so that a grid box bigger than the header's size
 * (ispe, which --max-pixels checked) is refused before it is allocated;
 * the margin lets a grid's padded tiles through.
 * libheif only parses the boxes here; nothing the size of the image is
 * allocated before heif_decode_image.
 * 0, or -1 with WHY and nothing to free.
 */
static int heif_open(const unsigned char *d, size_t len, int side, struct heif_context **ctx,
		     struct heif_image_handle **h, char *why, size_t whylen)
{
	static int registered;
	struct heif_error e;

	if (!registered) {
		e = heif_register_decoder_plugin(&hevc_plugin);
		if (e.code)
			return heif_fail(e, why, whylen);
		registered = 1;
	}
	if (!(*ctx = heif_context_alloc())) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	heif_context_set_max_decoding_threads(*ctx, 0);
	if (side > 0)
		heif_context_set_maximum_image_size_limit(*ctx, side);
	e = heif_context_read_from_memory_without_copy(*ctx, d, len, NULL);
	if (!e.code)
		e = heif_context_get_primary_image_handle(*ctx, h);
	if (e.code) {
		heif_fail(e, why, whylen);	/* its message is the context's */
		heif_context_free(*ctx);
		return -1;
	}
	return 0;
}

/* The size libheif reports is the primary image's after its transforms
 * (ispe turned by irot, cut by clap): what the decode gives. Nothing is
 * decoded here. */
static int heif_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		      size_t whylen)
{
	struct heif_context *ctx;
	struct heif_image_handle *h;

	if (heif_open(d, len, 0, &ctx, &h, why, whylen) < 0)
		return -1;
	info->w = heif_image_handle_get_width(h);
	info->h = heif_image_handle_get_height(h);
	/* libheif 1.15 does not say whether an image is monochrome before it
	 * is decoded: RGB (a gray one's R = G = B), as heif-convert writes. */
	info->channels = 3 + heif_image_handle_has_alpha_channel(h);
	info->is16 = heif_image_handle_get_luma_bits_per_pixel(h) > 8;
	heif_image_handle_release(h);
	heif_context_free(ctx);
	return 0;
}

/*
 * Decode to interleaved RGB (or RGBA) in libheif's conversion; gray images
 * too (Y replicated, which luma gives back exactly). Deeper than 8 bits:
 * with -t u2 its RRGGBB samples scaled to 16 bits, v * 65535 / (2^b - 1)
 * rounded; at u1 libheif's own 8-bit conversion, heif-convert's pixels.
 */
static int heif_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		       const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf scratch;
	struct heif_context *ctx;
	struct heif_image_handle *h;
	struct heif_image *img = NULL;
	struct heif_error e;
	int alpha, bits, deep, n, stride, y, r = -1;
	const uint8_t *plane;

	if (heif_open(d, len, (info->w > info->h ? info->w : info->h) + 512, &ctx, &h, why,
		      whylen) < 0)
		return -1;
	alpha = heif_image_handle_has_alpha_channel(h);
	bits = heif_image_handle_get_luma_bits_per_pixel(h);
	deep = t->depth16 && bits > 8 && bits <= 16;
	n = alpha ? 4 : 3;
	e = heif_decode_image(h, &img, heif_colorspace_RGB,
			      deep ? (alpha ? heif_chroma_interleaved_RRGGBBAA_LE :
				      heif_chroma_interleaved_RRGGBB_LE) :
			      (alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB),
			      NULL);
	if (e.code) {
		heif_fail(e, why, whylen);
		goto out;
	}
	plane = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
	if (!plane || heif_image_get_width(img, heif_channel_interleaved) != info->w ||
	    heif_image_get_height(img, heif_channel_interleaved) != info->h) {
		snprintf(why, whylen, "corrupt HEIF (the image is not of its header's size)");
		goto out;
	}
	if (deep && !buf_grow(&scratch, (size_t)info->w * (size_t)n * 2)) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (y = 0; y < info->h; y++) {
		const uint8_t *row = plane + (size_t)y * (size_t)stride;
		unsigned char *dst = t->pix + (size_t)y * dec_row_bytes(t, info->w);

		if (deep) {
			uint16_t *s = (uint16_t *)scratch.p;
			uint32_t max = (1u << bits) - 1;
			size_t k;

			for (k = 0; k < (size_t)info->w * (size_t)n; k++) {
				uint32_t v = (uint32_t)row[2 * k] | (uint32_t)row[2 * k + 1] << 8;

				s[k] = (uint16_t)(((v > max ? max : v) * 65535u + max / 2) / max);
			}
			row = scratch.p;
		}
		dec_convert(row, n, deep, dst, t, (size_t)info->w);
	}
	r = 0;
out:
	if (img)
		heif_image_release(img);
	heif_image_handle_release(h);
	heif_context_free(ctx);
	return r;
}

const struct decoder dec_heif = { "HEIF", heif_sniff, heif_probe, heif_decode, 0 };
