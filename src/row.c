/* row.c - the per-file path of "parimg load", from encoded bytes to a row of
 * samples in the output's dtype: probe, size check, decode, resize, store. */
#include "row.h"
#include "chanstats.h"
#include "codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const row_dtype_names[] = { "u1", "u2", "f4", "f8", NULL };
static const size_t sample_size[] = { 1, 2, 4, 8 };

size_t row_sample_size(enum row_dtype dtype)
{
	return sample_size[dtype];
}

size_t row_bytes(const struct row_spec *s)
{
	return (size_t)s->w * s->h * (size_t)s->channels * sample_size[s->dtype];
}

/* Resize the W x H decoded pixels PIX (the window GOT of them) to S's
 * size: straight into ROW when the dtype has the decode's sample size and
 * the layout is NHWC, else into the scratch buffer;
 * *SRC is where the result is. 0, or -1 with the reason in WHY. */
static int resize_into_row(const struct row_spec *s, const struct resize_opts *o,
			   struct row_scratch *scratch, const void *pix, int w, int h,
			   const struct codec_window *got, int depth16, void *row, void **src,
			   char *why, size_t whylen)
{
	size_t bps = depth16 ? 2 : 1, n = (size_t)s->w * s->h * (size_t)s->channels * bps;
	size_t px = (size_t)s->channels * bps;
	void *dst = row;

	if ((sample_size[s->dtype] != bps || s->layout != TENSOR_NHWC) &&
	    !(dst = buf_grow(&scratch->resized, n))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (resize_image_window(&scratch->rz, o, pix, w, h, got->x0, got->y0,
				(size_t)(got->x1 - got->x0) * px, s->channels, depth16, dst,
				(size_t)s->w * px) < 0) {
		snprintf(why, whylen, "cannot resize: %s", errno == EOVERFLOW ?
			 "scaled size out of range" : "out of memory");
		return -1;
	}
	*src = dst;
	return 0;
}

/*
 * What of the source the resize reads, for the decoder to decode only
 * that: cover's crop, set into WANT when it leaves some of the source
 * unread. The whole decode still happens when PARIMG_FULL_DECODE is set
 * (for the tests, which compare the two). Returns WANT or NULL.
 */
static const struct codec_window *cover_window(const struct row_spec *s,
						const struct resize_opts *o,
						struct row_scratch *scratch,
						const struct codec_info *info, int depth16,
						struct codec_window *want)
{
	static int full = -1;
	struct resize_window win;

	if (full < 0)
		full = getenv("PARIMG_FULL_DECODE") != NULL;
	/* An image turned by its EXIF orientation before the resize reads
	 * another window of the file: decoded whole. */
	if (full || s->fit != RESIZE_COVER || info->orientation > 1 ||
	    resize_source_window(&scratch->rz, o, info->w, info->h, s->channels, depth16,
				 &win) < 0)
		return NULL;
	if (win.x0 == 0 && win.y0 == 0 && win.x1 == info->w && win.y1 == info->h)
		return NULL;
	*want = (struct codec_window){ win.x0, win.x1, win.y0, win.y1 };
	return want;
}

/* Decode as row_decode does, leaving ROW as it is on failure. */
static int decode(const struct row_spec *s, const unsigned char *data, size_t len, void *row,
		  struct row_scratch *scratch, char *why, size_t whylen)
{
	struct resize_opts o = { .w = (int)s->w, .h = (int)s->h, .filter = s->filter,
				 .fit = s->fit, .pad = s->pad };
	struct codec_info info;
	struct codec_window want, got;
	const struct codec_window *window = NULL;
	int depth16, direct, resize;
	void *pix;

	if (codec_probe(data, len, s->max_pixels, &info, why, whylen) < 0)
		return -1;
	if (!s->resize && ((uint32_t)info.w != s->w || (uint32_t)info.h != s->h)) {
		snprintf(why, whylen, "size %dx%d differs from %ux%u of %s (use --resize)",
			 info.w, info.h, s->w, s->h, s->size_from);
		return -1;
	}
	/* 16-bit decodes where 16-bit values are kept: u2, and scaled floats
	 * from 16-bit sources. */
	depth16 = s->dtype == ROW_U2 || (s->scale && info.is16);
	if (s->resize && s->draft) {
		/* The reduced scale must still cover the whole image's scaled
		 * size (cover's before its crop, contain's inside the margins). */
		struct resize_geom g;

		if (resize_geometry(&o, info.w, info.h, &g) == 0)
			codec_draft(&info, g.sw, g.sh);
	}
	/* Resizing to the decoded size is a copy, as in Pillow. */
	resize = s->resize && ((uint32_t)info.w != s->w || (uint32_t)info.h != s->h);
	/* u1 and u2 NHWC rows without resizing are the decoder's own output. */
	direct = !resize && (s->dtype == ROW_U1 || s->dtype == ROW_U2) &&
		 s->layout == TENSOR_NHWC;
	pix = direct ? row : buf_grow(&scratch->pix, (size_t)info.w *
					(size_t)info.h * (size_t)s->channels * (depth16 ? 2 : 1));
	if (!pix) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (resize)
		window = cover_window(s, &o, scratch, &info, depth16, &want);
	if (codec_decode_window(data, len, &info, s->channels, depth16, pix, window, &got, why,
				whylen) < 0)
		return -1;
	if (resize && resize_into_row(s, &o, scratch, pix, info.w, info.h, &got, depth16, row,
				      &pix, why, whylen) < 0)
		return -1;
	/* PIX holds the row's samples now, in the row or beside it. */
	if (scratch->stats)
		chanstats_add(scratch->stats, pix, (size_t)s->w * s->h, s->channels, depth16);
	if (pix != row)
		tensor_store(s, row, pix, s->w, s->h, depth16);
	return 0;
}

int row_decode(const struct row_spec *s, const unsigned char *data, size_t len, void *row,
	       struct row_scratch *scratch, char *why, size_t whylen)
{
	if (decode(s, data, len, row, scratch, why, whylen) == 0)
		return 0;
	/* A decoder writing into the row may have got part way. */
	memset(row, 0, row_bytes(s));
	return -1;
}
