/* dec_jpeg.c - JPEG through libjpeg-turbo's libjpeg API, with the settings
 * Pillow uses (islow IDCT, fancy upsampling, CMYK read as Adobe's inverted
 * CMYK), so that load gives the array Pillow and OpenCV give. */
#include "codec/decoder.h"
#include "codec/exif.h"
#include "codec/jpeg_window.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

/* More scans than any encoder writes (cjpeg -progressive writes 10): a
 * crafted progressive file can otherwise make each one cost a whole
 * image's work, thousands of times. */
#define MAX_SCANS 500

/* libjpeg's error manager, extended with where to go on an error. */
struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX + 64];
};

/* An error: keep libjpeg's message and leave the decode. libjpeg itself
 * would print it and exit(). */
static void on_error(j_common_ptr ci)
{
	struct jerr *e = (struct jerr *)ci->err;
	char m[JMSG_LENGTH_MAX];

	ci->err->format_message(ci, m);
	if (m[0] >= 'A' && m[0] <= 'Z' && m[1] >= 'a' && m[1] <= 'z')
		m[0] = (char)(m[0] - 'A' + 'a');
	snprintf(e->msg, sizeof(e->msg), "corrupt JPEG (%s)", m);
	longjmp(e->jump, 1);
}

/*
 * Warnings are not printed. Pillow ignores them too (corrupt entropy data
 * decodes to what libjpeg makes of it) except the end of the file coming
 * first: libjpeg then pads with an end marker, Pillow refuses the file as
 * truncated, and so do we.
 */
static void on_message(j_common_ptr ci, int level)
{
	struct jerr *e = (struct jerr *)ci->err;

	if (level >= 0)
		return;
	ci->err->num_warnings++;
	if (ci->err->msg_code == JWRN_JPEG_EOF) {
		snprintf(e->msg, sizeof(e->msg), "truncated JPEG (the file ends in its image data)");
		longjmp(e->jump, 1);
	}
}

static void on_progress(j_common_ptr ci)
{
	struct jerr *e = (struct jerr *)ci->err;

	if (((j_decompress_ptr)ci)->input_scan_number > MAX_SCANS) {
		snprintf(e->msg, sizeof(e->msg), "corrupt JPEG (more than %d scans)", MAX_SCANS);
		longjmp(e->jump, 1);
	}
}

static int jpeg_sniff(const unsigned char *d, size_t len)
{
	return len >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff;
}

/*
 * The frame header, found by walking the markers (no tables built, nothing
 * allocated): SOF0-3, 5-7, 9-11, 13-15. Like Pillow, only 8-bit samples and
 * 1, 3 or 4 components (gray, YCbCr or RGB, CMYK or YCCK). The walk goes on
 * to the scan for the orientation of the first APP1 that starts "Exif\0",
 * the one Pillow reads.
 */
static int jpeg_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		      size_t whylen)
{
	size_t off = 2;
	int sof = 0, app1 = 0;

	for (;;) {
		unsigned m, seglen;

		while (off < len && d[off] != 0xff)
			off++;		/* libjpeg skips junk before a marker */
		while (off < len && d[off] == 0xff)
			off++;
		if (off + 3 > len)
			break;
		m = d[off++];
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd8))
			continue;	/* markers without a segment */
		if (m == 0xd9 || m == 0xda) {
			if (sof)
				return 0;
			snprintf(why, whylen, "corrupt JPEG (no frame header before the %s)",
				 m == 0xd9 ? "end of the image" : "image data");
			return -1;
		}
		seglen = (unsigned)d[off] << 8 | d[off + 1];
		if (m == 0xe1 && !app1 && seglen >= 7 && off + 7 <= len &&
		    memcmp(d + off + 2, "Exif\0", 5) == 0) {
			size_t n = seglen - 2 < len - off - 2 ? seglen - 2 : len - off - 2;

			app1 = 1;
			info->orientation = exif_orientation(d + off + 2, n);
			info->orientation = info->orientation > 0 ? info->orientation : 0;
		} else if (!sof && m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			int ncomp;

			if (seglen < 8 || off + 8 > len)
				break;
			info->h = d[off + 3] << 8 | d[off + 4];
			info->w = d[off + 5] << 8 | d[off + 6];
			ncomp = d[off + 7];
			if (d[off + 2] != 8) {
				snprintf(why, whylen, "unsupported JPEG (%d-bit samples)", d[off + 2]);
				return -1;
			}
			if (ncomp != 1 && ncomp != 3 && ncomp != 4) {
				snprintf(why, whylen, "unsupported JPEG (%d components)", ncomp);
				return -1;
			}
			info->channels = ncomp == 1 ? 1 : 3;
			info->cmyk = ncomp == 4;	/* CMYK or YCCK */
			if (info->w > JPEG_MAX_DIMENSION || info->h > JPEG_MAX_DIMENSION) {
				snprintf(why, whylen, "unsupported JPEG (more than %ld pixels a side)",
					 (long)JPEG_MAX_DIMENSION);
				return -1;
			}
			sof = 1;
		}
		off += seglen;
	}
	if (sof)
		return 0;
	snprintf(why, whylen, "truncated JPEG (the file ends before the frame header)");
	return -1;
}

/* Pillow's CMYK to RGB, on libjpeg's CMYK read as inverted (Adobe's
 * convention, which Pillow assumes for every 4-component JPEG). */
static void cmyk_to_rgb(const unsigned char *in, unsigned char *out, size_t count)
{
	size_t k;

	for (k = 0; k < count; k++, in += 4, out += 3) {
		unsigned nk = in[3], i;

		for (i = 0; i < 3; i++) {
			unsigned c = 255u - in[i], t = c * nk + 128;
			int v = (int)nk - (int)(((t >> 8) + t) >> 8);

			out[i] = (unsigned char)(v < 0 ? 0 : v);
		}
	}
}

/* One libjpeg decompressor per process, reused image to image, and a
 * buffer of rows for the images that need converting. */
static struct jpeg_decompress_struct ci;
static struct jpeg_progress_mgr progress = { on_progress, 0, 0, 0, 0 };
static int ci_ready;
static struct buf rowbuf, rgbbuf;

/* libjpeg's output colour space for the file, and its samples per pixel. */
static int out_space(const struct dec_target *t, int *n)
{
	switch (ci.jpeg_color_space) {
	case JCS_GRAYSCALE:
		ci.out_color_space = JCS_GRAYSCALE;
		return *n = 1;
	case JCS_YCbCr:
	case JCS_RGB:
		/* libjpeg-turbo fills the alpha of RGBA itself. */
		ci.out_color_space = t->channels == 4 && !t->depth16 ? JCS_EXT_RGBA : JCS_RGB;
		return *n = ci.out_color_space == JCS_EXT_RGBA ? 4 : 3;
	case JCS_CMYK:
	case JCS_YCCK:
		ci.out_color_space = JCS_CMYK;
		return *n = 4;
	default:
		return *n = 0;
	}
}

/* Read scanlines [Y0, Y1) (Y0 where libjpeg is): straight into T when
 * libjpeg's output is T's layout, else through the row buffer and a
 * conversion. */
static int read_rows(const struct dec_target *t, int n, JDIMENSION y0, JDIMENSION y1, char *why,
		     size_t whylen)
{
	size_t w = ci.output_width, tstride = dec_row_bytes(t, (int)w);
	int cmyk = ci.out_color_space == JCS_CMYK;
	/* CMYK is never T's layout, even at four channels: it becomes RGB. */
	int direct = n == t->channels && !t->depth16 && !cmyk;
	JSAMPROW rows[16];
	unsigned char *buf = NULL, *rgb = NULL;
	int k, got;

	if (!direct && (!(buf = buf_grow(&rowbuf, w * (size_t)n * 16)) ||
			(cmyk && !(rgb = buf_grow(&rgbbuf, w * 3))))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	while (ci.output_scanline < y1) {
		unsigned char *out = t->pix + (size_t)(ci.output_scanline - y0) * tstride;
		int want = (int)(y1 - ci.output_scanline);

		want = want < 16 ? want : 16;
		for (k = 0; k < want; k++)
			rows[k] = direct ? out + (size_t)k * tstride : buf + (size_t)k * w * (size_t)n;
		got = (int)jpeg_read_scanlines(&ci, rows, (JDIMENSION)want);
		for (k = 0; !direct && k < got; k++) {
			unsigned char *src = rows[k];

			if (cmyk) {
				cmyk_to_rgb(src, rgb, w);
				src = rgb;
			}
			dec_convert(src, cmyk ? 3 : n, 0, out + (size_t)k * tstride, t, w);
		}
	}
	return 0;
}

/* ------------------------------------------------------ partial decode */

/*
 * Whether decoding only a window of this file gives the whole decode's
 * pixels there, as the tests show for these cases: one Huffman-coded scan
 * (progressive and arithmetic-coded files are decoded whole); gray at 1x1,
 * or three components with luma at 1 or 2 either way and chroma at 1x1
 * (4:4:4, 4:2:2, 4:2:0, 4:4:0; 4:1:1 and 4x2 or 2x4 luma, where
 * libjpeg-turbo 2.1.5's crop and skip have known bugs under scaling, are
 * decoded whole, and so are CMYK and YCCK); and the file ending in its end
 * marker, as a decode stopped early would not see it cut short, which the
 * whole decode refuses.
 */
static int window_safe(const unsigned char *d, size_t len)
{
	const jpeg_component_info *c = ci.comp_info;
	int i;

	if (ci.progressive_mode || ci.arith_code || len < 4 || d[len - 2] != 0xff ||
	    d[len - 1] != 0xd9)
		return 0;
	if (ci.num_components == 1)
		return c[0].h_samp_factor == 1 && c[0].v_samp_factor == 1;
	if (ci.num_components != 3 || c[0].h_samp_factor > 2 || c[0].v_samp_factor > 2)
		return 0;
	for (i = 1; i < 3; i++)
		if (c[i].h_samp_factor != 1 || c[i].v_samp_factor != 1)
			return 0;
	return 1;
}

/*
 * Set libjpeg up to decode T's window and say so in T: the columns cropped
 * (jpeg_crop_scanline, which keeps whole iMCU columns), the rows above
 * skipped by whole iMCU rows from the top (a skip from a row group's start,
 * clear of 2.1.5's bug), *Y0 and *Y1 the rows to read. The margins: one
 * chroma sample's extent in output pixels (the sampling factor: at a
 * reduced DCT scale a chroma sample spans no more) before and after the
 * columns, as the crop's edges are upsampled as if they were the image's;
 * one before the rows, as vertical fancy upsampling reads a chroma row
 * either side (the rows read after the skip are the whole decode's, and
 * so are the last, which libjpeg upsamples with the row below before
 * returning them: no margin after).
 */
static void window_start(const struct dec_target *t, JDIMENSION *y0, JDIMENSION *y1)
{
	int xunit = ci.min_DCT_scaled_size * (ci.num_components == 1 ? 1 : ci.max_h_samp_factor);
	int yunit = ci.min_DCT_scaled_size * ci.max_v_samp_factor;
	int w = (int)ci.output_width, h = (int)ci.output_height, x0, x1, r0, r1;
	JDIMENSION xoff, width;

	jpeg_window_axis(t->want->x0, t->want->x1, w, xunit, ci.max_h_samp_factor,
			 ci.max_h_samp_factor, &x0, &x1);
	jpeg_window_axis(t->want->y0, t->want->y1, h, yunit, ci.max_v_samp_factor, 0, &r0, &r1);
	if (x0 > 0 || x1 < w) {
		xoff = (JDIMENSION)x0;
		width = (JDIMENSION)(x1 - x0);
		jpeg_crop_scanline(&ci, &xoff, &width);
		x0 = (int)xoff;
		x1 = (int)(xoff + width);
	}
	if (r0 > 0 && jpeg_skip_scanlines(&ci, (JDIMENSION)r0) != (JDIMENSION)r0)
		r0 = (int)ci.output_scanline;	/* not seen: the skip stops only at the end */
	*y0 = (JDIMENSION)r0;
	*y1 = (JDIMENSION)r1;
	*t->got = (struct codec_window){ x0, x1, r0, r1 };
}

/* Read T's window (the whole image without one) and end the decode. */
static int read_image(const unsigned char *d, size_t len, const struct dec_target *t, int n,
		      char *why, size_t whylen)
{
	JDIMENSION y0 = 0, y1 = ci.output_height;

	if (t->want && window_safe(d, len))
		window_start(t, &y0, &y1);
	if (read_rows(t, n, y0, y1, why, whylen) < 0) {
		jpeg_abort_decompress(&ci);
		return -1;
	}
	/* A window ending above the last row ends the decode there (the
	 * entropy decoding below it is skipped too). Otherwise it reads on to
	 * the end marker: a file cut short after its last row is refused, as
	 * Pillow refuses it. */
	if (y1 < ci.output_height)
		jpeg_abort_decompress(&ci);
	else
		jpeg_finish_decompress(&ci);
	return 0;
}

static int jpeg_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		       const struct dec_target *t, char *why, size_t whylen)
{
	struct jerr e;
	int n;

	ci.err = jpeg_std_error(&e.pub);
	e.pub.error_exit = on_error;
	e.pub.emit_message = on_message;
	e.msg[0] = '\0';
	if (setjmp(e.jump)) {
		snprintf(why, whylen, "%s", e.msg);
		if (ci_ready)
			jpeg_abort_decompress(&ci);
		return -1;
	}
	if (!ci_ready) {
		jpeg_create_decompress(&ci);
		ci_ready = 1;
	}
	ci.progress = &progress;
	jpeg_mem_src(&ci, d, (unsigned long)len);
	jpeg_read_header(&ci, TRUE);
	if (!out_space(t, &n)) {
		snprintf(why, whylen, "unsupported JPEG (%d components)", ci.num_components);
		jpeg_abort_decompress(&ci);
		return -1;
	}
	ci.dct_method = JDCT_ISLOW;
	ci.do_fancy_upsampling = TRUE;
	ci.scale_num = (unsigned)info->scale;
	ci.scale_denom = 8;
	jpeg_start_decompress(&ci);
	if ((int)ci.output_width != info->w || (int)ci.output_height != info->h) {
		snprintf(why, whylen, "corrupt JPEG (decodes to %ux%u, its header says %dx%d)",
			 ci.output_width, ci.output_height, info->w, info->h);
		jpeg_abort_decompress(&ci);
		return -1;
	}
	return read_image(d, len, t, n, why, whylen);
}

const struct decoder dec_jpeg = { "JPEG", jpeg_sniff, jpeg_probe, jpeg_decode, 1 };
