/* mask.c - "load --masks": one mask's bytes to its row, through the same
 * geometry as its image (row.c) but nearest-neighbour and with its own
 * margin value, as Pillow's resize(..., NEAREST) of np.asarray's indices. */
#include "image/mask.h"
#include "image/resize.h"
#include "codec/codec.h"
#include "codec/orient.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int decode(const struct row_spec *s, unsigned pad, const unsigned char *data, size_t len,
		  int img_w, int img_h, unsigned char *row, struct mask_scratch *ms, char *why,
		  size_t whylen)
{
	struct resize_opts o = { .w = (int)s->w, .h = (int)s->h, .filter = RESIZE_NEAREST,
				 .fit = s->fit, .pad = pad };
	struct codec_info info;
	unsigned char *pix;
	size_t n;
	int w, h, turn;

	if (codec_probe(data, len, s->max_pixels, &info, why, whylen) < 0)
		return -1;
	/* Its own orientation, as ImageOps.exif_transpose(mask) reads it. */
	turn = s->exif_transpose && !info.oriented && info.orientation > 1;
	orient_size(turn ? info.orientation : 1, info.w, info.h, &w, &h);
	if (w != img_w || h != img_h) {
		snprintf(why, whylen, "%dx%d, its image %dx%d", w, h, img_w, img_h);
		return -1;
	}
	if (!s->resize && ((uint32_t)w != s->w || (uint32_t)h != s->h)) {
		snprintf(why, whylen, "%dx%d, not the rows' %ux%u", w, h, s->w, s->h);
		return -1;
	}
	n = (size_t)info.w * (size_t)info.h;
	/* Straight into the row when nothing follows. */
	pix = !s->resize && !turn ? row : buf_grow(&ms->idx, n);
	if (!pix) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (codec_decode_indices(data, len, &info, pix, why, whylen) < 0)
		return -1;
	if (turn) {
		unsigned char *dst = !s->resize ? row : buf_grow(&ms->turned, n);

		if (!dst) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		orient_apply(info.orientation, pix, info.w, info.h, 1, dst);
		pix = dst;
	}
	if (s->resize && resize_image(&ms->rz, &o, pix, w, h, (size_t)w, 1, 0, row, s->w) < 0) {
		snprintf(why, whylen, "cannot resize: %s", errno == EOVERFLOW ?
			 "scaled size out of range" : "out of memory");
		return -1;
	}
	return 0;
}

int mask_decode(const struct row_spec *s, unsigned pad, const unsigned char *data, size_t len,
		int img_w, int img_h, unsigned char *row, struct mask_scratch *ms, char *why,
		size_t whylen)
{
	if (decode(s, pad, data, len, img_w, img_h, row, ms, why, whylen) == 0)
		return 0;
	memset(row, 0, (size_t)s->w * s->h);
	return -1;
}
