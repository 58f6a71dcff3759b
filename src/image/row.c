/* row.c - the per-file path of "parimg load", from encoded bytes to a row of
 * samples in the output's dtype: probe, size check, decode, resize, store. */
#include "image/row.h"
#include "image/chanstats.h"
#include "codec/codec.h"
#include "codec/orient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t sample_size[] = { 1, 2, 4, 8 };

size_t row_sample_size(enum tensor_dtype dtype)
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

void row_image_size(const struct row_spec *s, const struct codec_info *info, int *w, int *h)
{
	orient_size(s->exif_transpose && !info->oriented ? info->orientation : 1, info->w, info->h,
		    w, h);
}

/*
 * An image of float or int samples (a TIFF of Pillow's mode F or I): its
 * values, one channel, into an f4 or f8 row. 8-bit dtypes would have to
 * clip or scale them, which Pillow's convert() does by no rule a user
 * would guess, so they are refused, as are --scale (no range to scale by)
 * and --resize (the resampler takes 8- and 16-bit samples).
 */
static int decode_values(const struct row_spec *s, const unsigned char *data, size_t len,
			 const struct codec_info *info, void *row, struct row_scratch *scratch,
			 char *why, size_t whylen)
{
	size_t n = (size_t)info->w * (size_t)info->h, k;
	int turn = s->exif_transpose && !info->oriented && info->orientation > 1, ow, oh;
	double *v, *t;

	if (s->dtype != TENSOR_F4 && s->dtype != TENSOR_F8)
		return snprintf(why, whylen, "float or 32-bit int samples need --dtype f4 or f8"), -1;
	if (s->channels != 1)
		return snprintf(why, whylen, "float or 32-bit int samples load as one channel, "
				"not %d", s->channels), -1;
	if (s->scale)
		return snprintf(why, whylen, "float or 32-bit int samples have no range for "
				"--scale"), -1;
	if (s->norm.on || scratch->stats)
		return snprintf(why, whylen, "float or 32-bit int samples have no range for "
				"%s", s->norm.on ? "--normalize" : "--stats"), -1;
	row_image_size(s, info, &ow, &oh);
	if (s->resize && ((uint32_t)ow != s->w || (uint32_t)oh != s->h))
		return snprintf(why, whylen, "cannot --resize float or 32-bit int samples"), -1;
	if (!(v = buf_grow(&scratch->values, n * sizeof(double) * (turn ? 2 : 1))))
		return snprintf(why, whylen, "out of memory"), -1;
	if (codec_decode_values(data, len, info, v, why, whylen) < 0)
		return -1;
	if (turn) {
		orient_apply(info->orientation, v, info->w, info->h, sizeof(double), v + n);
		v += n;
	}
	t = v;
	if (s->dtype == TENSOR_F8)
		memcpy(row, t, n * sizeof(double));
	else
		for (k = 0; k < n; k++)
			((float *)row)[k] = (float)t[k];
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
	if (full || s->fit != RESIZE_COVER ||
	    (s->exif_transpose && !info->oriented && info->orientation > 1) ||
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
	int depth16, direct, resize, turn, w, h, asis;
	size_t px;
	struct codec_window want, got;
	const struct codec_window *window = NULL;
	void *pix;

	scratch->native = 0;
	if (codec_probe(data, len, s->max_pixels, &info, why, whylen) < 0)
		return -1;
	scratch->native = info.channels;
	row_image_size(s, &info, &w, &h);
	scratch->w = w;
	scratch->h = h;
	if (!s->resize && ((uint32_t)w != s->w || (uint32_t)h != s->h)) {
		snprintf(why, whylen, "size %dx%d differs from %ux%u of %s (use --resize %ux%u "
			 "to resize every image, or --ragged to keep each one's size)",
			 w, h, s->w, s->h, s->size_from, s->w, s->h);
		return -1;
	}
	if (info.values)
		return decode_values(s, data, len, &info, row, scratch, why, whylen);
	/* 16-bit decodes where 16-bit values are kept: u2, and scaled floats
	 * from 16-bit sources. */
	depth16 = s->dtype == TENSOR_U2 || (s->scale && info.is16);
	turn = s->exif_transpose && !info.oriented && info.orientation > 1;
	if (s->resize && s->draft) {
		/* The reduced scale must still cover the whole image's scaled
		 * size (cover's before its crop, contain's inside the margins),
		 * turned back to the stored image's axes. */
		struct resize_geom g;

		if (resize_geometry(&o, w, h, &g) == 0) {
			if (turn && info.orientation >= 5)
				codec_draft(&info, g.sh, g.sw);
			else
				codec_draft(&info, g.sw, g.sh);
			row_image_size(s, &info, &w, &h);
		}
	}
	/* Resizing to the decoded size is a copy, as in Pillow. */
	resize = s->resize && ((uint32_t)w != s->w || (uint32_t)h != s->h);
	/* u1 and u2 NHWC rows hold the samples as decoded... */
	asis = (s->dtype == TENSOR_U1 || s->dtype == TENSOR_U2) && s->layout == TENSOR_NHWC;
	/* ...so without resizing or turning they are the decoder's own output. */
	direct = !resize && !turn && asis;
	px = (size_t)s->channels * (depth16 ? 2 : 1);
	pix = direct ? row : buf_grow(&scratch->pix, (size_t)info.w * (size_t)info.h * px);
	if (!pix) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (resize)
		window = cover_window(s, &o, scratch, &info, depth16, &want);
	if (codec_decode_window(data, len, &info, s->channels, depth16, pix, window, &got, why,
				whylen) < 0)
		return -1;
	if (turn) {
		/* Straight into the row when nothing follows but the copy. */
		void *dst = !resize && asis ? row :
			    buf_grow(&scratch->turned, (size_t)info.w * (size_t)info.h * px);

		if (!dst) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		orient_apply(info.orientation, pix, info.w, info.h, px, dst);
		pix = dst;
		got = (struct codec_window){ 0, w, 0, h };	/* never a window */
	}
	if (resize && resize_into_row(s, &o, scratch, pix, w, h, &got, depth16, row, &pix, why,
				      whylen) < 0)
		return -1;
	/* PIX holds the row's samples now, in the row or beside it. */
	if (scratch->stats)
		chanstats_add(scratch->stats, pix, (size_t)s->w * s->h, s->channels, depth16);
	if (pix != row)
		tensor_store(&(struct tensor_fmt){ s->channels, s->dtype, s->scale, s->layout, &s->norm },
			     row, pix, s->w, s->h, depth16);
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
