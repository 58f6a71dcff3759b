/* save.c - "parimg convert"'s writers: JPEG through libjpeg-turbo as
 * Pillow's JpegEncode.c drives it, PNG through stb_image_write and
 * libdeflate (encode.c's codec_encode), WebP through libwebp as Pillow's
 * _webp.c drives it. */
#include "codec/save.h"
#include "codec/codec.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <webp/encode.h>

const char *const save_ext[] = { "jpg", "png", "webp", NULL };

int save_channels(enum save_format f, int c)
{
	if (f == SAVE_JPEG)
		return c >= 3 ? 3 : 1;
	if (f == SAVE_WEBP)
		return c == 2 || c == 4 ? 4 : 3;
	return c;
}

size_t save_bound(int w, int h, int c)
{
	size_t raw = (size_t)w * (size_t)h * (size_t)c;

	/* A JPEG of noise at quality 100 and a WebP are under 1.5x the
	 * samples; deflate's stored blocks and PNG's filter bytes far less. */
	return raw * 2 + (size_t)h * 8 + 65536;
}

struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
};

static void jerr_exit(j_common_ptr cinfo)
{
	longjmp(((struct jerr *)cinfo->err)->jump, 1);
}

/* libjpeg's messages are reported by the caller, never printed. */
static void jerr_quiet(j_common_ptr cinfo)
{
	(void)cinfo;
}

/*
 * As Pillow 9's JpegEncode.c with save()'s defaults (quality given,
 * subsampling -1, no optimize, no progressive, no smoothing, no dpi, no
 * restart markers, no extra markers): jpeg_set_defaults, which writes the
 * JFIF APP0 (version 1.01, density 1:1, unit 0) and picks 2x2 luma
 * sampling for YCbCr; jpeg_set_quality(Q, TRUE); the scanlines as given.
 */
static int save_jpeg(const struct save_opts *o, const unsigned char *pix, int w, int h, int c,
		     struct buf *out, char *why, size_t whylen)
{
	struct jpeg_compress_struct ci;
	struct jerr je;
	unsigned char *volatile mem = NULL;
	unsigned long memlen = 0;
	JSAMPROW row;

	ci.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jerr_exit;
	je.mgr.output_message = jerr_quiet;
	if (setjmp(je.jump)) {
		char msg[JMSG_LENGTH_MAX];

		je.mgr.format_message((j_common_ptr)&ci, msg);
		snprintf(why, whylen, "cannot encode JPEG: %s", msg);
		jpeg_destroy_compress(&ci);
		free(mem);
		return -1;
	}
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, (unsigned char **)&mem, &memlen);
	ci.image_width = (JDIMENSION)w;
	ci.image_height = (JDIMENSION)h;
	ci.input_components = c;
	ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, o->quality, TRUE);
	ci.smoothing_factor = 0;
	ci.optimize_coding = FALSE;
	ci.restart_interval = 0;
	ci.restart_in_rows = 0;
	jpeg_start_compress(&ci, FALSE);
	if (o->comment)
		jpeg_write_marker(&ci, JPEG_COM, o->comment, (unsigned)o->comment_len);
	while (ci.next_scanline < ci.image_height) {
		row = (JSAMPROW)(pix + (size_t)ci.next_scanline * (size_t)w * (size_t)c);
		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	free(out->p);
	out->p = mem;
	out->len = out->cap = memlen;
	return 0;
}

int save_jpeg_comment(const unsigned char *data, size_t len, const unsigned char **com,
		      size_t *comlen)
{
	size_t i = 2, n;
	int found = 0;

	if (len < 4 || data[0] != 0xFF || data[1] != 0xD8)
		return 0;
	while (i + 4 <= len) {
		if (data[i] != 0xFF)
			return found;
		if (data[i + 1] == 0xFF) {	/* fill bytes */
			i++;
			continue;
		}
		if (data[i + 1] == 0xDA || data[i + 1] == 0xD9)	/* SOS, EOI */
			return found;
		n = (size_t)data[i + 2] << 8 | data[i + 3];
		if (n < 2 || n > len - i - 2)
			return found;
		if (data[i + 1] == 0xFE) {
			*com = data + i + 4;
			*comlen = n - 2;
			found = 1;
		}
		i += 2 + n;
	}
	return found;
}

static int webp_write(const uint8_t *data, size_t size, const WebPPicture *pic)
{
	struct buf *b = pic->custom_ptr;

	if (buf_reserve(b, size) < 0)
		return 0;
	memcpy(b->p + b->len, data, size);
	b->len += size;
	return 1;
}

/* As Pillow 9's _webp.c WebPEncode: WebPConfigPreset(DEFAULT, Q), then
 * lossless, quality and method 4 set, a picture in ARGB imported from RGB
 * or RGBA, no metadata chunks (so no mux). */
static int save_webp(int quality, int lossless, const unsigned char *pix, int w, int h, int c,
		     struct buf *out, char *why, size_t whylen)
{
	WebPConfig cfg;
	WebPPicture pic;
	int ok;

	if (!WebPConfigPreset(&cfg, WEBP_PRESET_DEFAULT, (float)quality) || !WebPPictureInit(&pic))
		return snprintf(why, whylen, "cannot encode WebP: libwebp version mismatch"), -1;
	cfg.lossless = lossless;
	cfg.quality = (float)quality;
	cfg.method = 4;
	if (!WebPValidateConfig(&cfg))
		return snprintf(why, whylen, "cannot encode WebP: invalid settings"), -1;
	if (w > WEBP_MAX_DIMENSION || h > WEBP_MAX_DIMENSION)
		return snprintf(why, whylen, "cannot encode WebP: %dx%d is over its %d pixel "
				"sides", w, h, WEBP_MAX_DIMENSION), -1;
	pic.width = w;
	pic.height = h;
	pic.use_argb = 1;
	ok = c == 4 ? WebPPictureImportRGBA(&pic, pix, w * 4) : WebPPictureImportRGB(&pic, pix, w * 3);
	if (!ok) {
		WebPPictureFree(&pic);
		return snprintf(why, whylen, "cannot encode WebP: out of memory"), -1;
	}
	out->len = 0;
	pic.writer = webp_write;
	pic.custom_ptr = out;
	ok = WebPEncode(&cfg, &pic);
	if (!ok)
		snprintf(why, whylen, "cannot encode WebP: error %d", (int)pic.error_code);
	WebPPictureFree(&pic);
	return ok ? 0 : -1;
}

int save_encode(const struct save_opts *o, const unsigned char *pix, int w, int h, int c,
		struct buf *out, char *why, size_t whylen)
{
	if (c != save_channels(o->format, c))
		return snprintf(why, whylen, "%d channels cannot be saved as %s", c,
				save_ext[o->format]), -1;
	switch (o->format) {
	case SAVE_JPEG:
		return save_jpeg(o, pix, w, h, c, out, why, whylen);
	case SAVE_WEBP:
		return save_webp(o->quality, o->lossless, pix, w, h, c, out, why, whylen);
	case SAVE_PNG:
		break;
	}
	/* Pillow's default compress_level is 6, zlib's; libdeflate's 6 gives
	 * other bytes but the same pixels. */
	if (codec_encode(CODEC_PNG, 6, 0, pix, w, h, c, out) < 0)
		return snprintf(why, whylen, "cannot encode PNG: out of memory"), -1;
	return 0;
}
