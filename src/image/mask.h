/* mask.h - a segmentation mask's bytes to its row of "load --masks"'s
 * output: its class indices (codec_decode_indices), put through its image's
 * geometry, nearest-neighbour. No file I/O: the unit tests drive it. */
#ifndef PARIMG_MASK_H
#define PARIMG_MASK_H

#include "image/row.h"
#include "common/buf.h"

#include <stddef.h>

/* Buffers a worker reuses from mask to mask; zero-initialise. */
struct mask_scratch {
	struct buf idx;		/* the decoded indices */
	struct buf turned;	/* --exif-transpose: turned */
	struct resize_ctx rz;
};

/* Decode the mask at DATA (LEN bytes) into ROW, S->w x S->h bytes, as its
 * image of IMG_W x IMG_H (stored, turned by S's --exif-transpose) went into
 * its row: the mask's own EXIF orientation applied under
 * S->exif_transpose, its size then required to be IMG_W x IMG_H, and with
 * S->resize the same --fit to S->w x S->h with NEAREST whatever S->filter,
 * contain's margins PAD. Never S's dtype, layout or normalisation: the
 * indices as they are. 0, or -1 with the reason in WHY and ROW zero. */
int mask_decode(const struct row_spec *s, unsigned pad, const unsigned char *data, size_t len,
		int img_w, int img_h, unsigned char *row, struct mask_scratch *ms, char *why,
		size_t whylen);

#endif
