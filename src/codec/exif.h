/* exif.h - the one EXIF tag load uses, Orientation (0x0112), read from a
 * TIFF-structured EXIF block as Pillow's Image.getexif() reads it. */
#ifndef PARIMG_EXIF_H
#define PARIMG_EXIF_H

#include <stddef.h>

/* The orientation (1-8) in the EXIF block of LEN bytes at DATA, with or
 * without its "Exif\0\0" prefix; 0 when it has none, or one out of range,
 * or the block is malformed. Reads only inside DATA, in bounded time. */
int exif_orientation(const unsigned char *data, size_t len);

#endif
