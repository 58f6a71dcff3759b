/* orient.h - an image turned by its EXIF orientation (1-8), as Pillow's
 * ImageOps.exif_transpose() turns it: the transform of each orientation,
 * for any pixel size. */
#ifndef PARIMG_ORIENT_H
#define PARIMG_ORIENT_H

#include <stddef.h>

/* The size of a W x H image after ORIENTATION: 5 to 8 swap the sides. */
void orient_size(int orientation, int w, int h, int *ow, int *oh);

/* Write the W x H pixels of PX bytes each at SRC (rows packed), turned by
 * ORIENTATION, to DST (orient_size's size, rows packed; not SRC). 1, 0 and
 * values past 8 copy. */
void orient_apply(int orientation, const void *src, int w, int h, size_t px, void *dst);

#endif
