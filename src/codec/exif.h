/* exif.h - the one EXIF tag load uses, Orientation (0x0112), read from a
 * TIFF-structured EXIF block as Pillow's Image.getexif() reads it. */
#ifndef PARIMG_EXIF_H
#define PARIMG_EXIF_H

#include <stddef.h>

/* The orientation (1-8) in the EXIF block of LEN bytes at DATA, with or
 * without its "Exif\0\0" prefix; 0 when it has none or the block is
 * malformed, -1 when the tag is there with a value out of range (Pillow
 * then looks no further, in XMP). Reads only inside DATA, in bounded time. */
int exif_orientation(const unsigned char *data, size_t len);

/* exif_orientation of the block in a PNG text chunk "Raw profile type
 * exif" (LEN bytes at TEXT): hex digits after three lines, as Pillow reads
 * them; 0 when they are not hex. */
int exif_raw_profile(const unsigned char *text, size_t len);

/* The orientation in XMP (LEN bytes at XMP) as Pillow finds it: the first
 * digit after "tiff:Orientation=\"" or "tiff:Orientation>", 1-8; else 0. */
int exif_xmp(const unsigned char *xmp, size_t len);

#endif
