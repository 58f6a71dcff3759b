/* exif.c - Orientation from an EXIF block: the TIFF header, the first IFD's
 * entries (at most 65535, each bounds-checked), nothing else followed. What
 * Pillow cannot read it skips, and so does this. */
#include "codec/exif.h"

#include <stdint.h>
#include <string.h>

#define TAG_ORIENTATION 0x0112

static unsigned u16(const unsigned char *p, int be)
{
	return be ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t u32(const unsigned char *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Bytes of one value of an integer TIFF type (BYTE, SHORT, LONG and their
 * signed forms, the types Pillow turns into an int); 0 for the others. */
static size_t int_size(unsigned type)
{
	switch (type) {
	case 1: case 6:	/* BYTE, SBYTE */
		return 1;
	case 3: case 8:	/* SHORT, SSHORT */
		return 2;
	case 4: case 9:	/* LONG, SLONG */
		return 4;
	default:
		return 0;
	}
}

/* The first value of entry E (12 bytes) of D into *OUT: 0, or -1 when the
 * entry is one Pillow skips (no values, data past the block's end). */
static int first_value(const unsigned char *d, size_t len, const unsigned char *e, int be,
		       long *out)
{
	unsigned type = u16(e + 2, be);
	uint32_t count = u32(e + 4, be);
	size_t size = int_size(type);
	const unsigned char *v = e + 8;

	if (size == 0 || count == 0)
		return -1;
	if ((uint64_t)size * count > 4) {
		/* Stored elsewhere: Pillow reads all COUNT values or none. */
		uint32_t off = u32(e + 8, be);

		if (off > len || (uint64_t)size * count > len - off)
			return -1;
		v = d + off;
	}
	switch (type) {
	case 1:
		*out = v[0];
		break;
	case 6:
		*out = (signed char)v[0];
		break;
	case 3:
		*out = (long)u16(v, be);
		break;
	case 8:
		*out = (int16_t)u16(v, be);
		break;
	case 4:
		*out = (long)u32(v, be);
		break;
	default:
		*out = (int32_t)u32(v, be);
	}
	return 0;
}

int exif_orientation(const unsigned char *d, size_t len)
{
	uint32_t ifd;
	unsigned n, i;
	long orientation = 0;
	int be, found = 0;

	if (len >= 6 && memcmp(d, "Exif\0\0", 6) == 0)
		d += 6, len -= 6;
	/* Pillow's four prefixes of a classic TIFF, the byte order's wrong
	 * magic included; BigTIFF's directory is not read. */
	if (len < 8 || (memcmp(d, "II", 2) != 0 && memcmp(d, "MM", 2) != 0))
		return 0;
	be = d[0] == 'M';
	if (!((d[2] == 0 && d[3] == 42) || (d[2] == 42 && d[3] == 0)))
		return 0;
	ifd = u32(d + 4, be);
	if (ifd > len || len - ifd < 2)
		return 0;
	n = u16(d + ifd, be);
	/* Entries up to the first one cut short count, as in Pillow; a tag
	 * given twice has its last value. */
	for (i = 0; i < n && (size_t)12 * (i + 1) <= len - ifd - 2; i++) {
		const unsigned char *e = d + ifd + 2 + (size_t)12 * i;
		long v;

		if (u16(e, be) == TAG_ORIENTATION && first_value(d, len, e, be, &v) == 0)
			orientation = v, found = 1;
	}
	if (!found)
		return 0;
	return orientation >= 1 && orientation <= 8 ? (int)orientation : -1;
}

static int hexdigit(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * ImageMagick's and exiftool's way of keeping EXIF in PNG text: a blank
 * line, "exif", the length, then hex. Pillow drops the first three lines
 * and the newlines and reads the rest with bytes.fromhex (whitespace
 * between pairs allowed); the block is decoded here a bounded piece at a
 * time, since only its first IFD is read.
 */
int exif_raw_profile(const unsigned char *t, size_t len)
{
	static unsigned char block[1 << 16];
	size_t k = 0, n = 0;
	int lines = 0;

	while (k < len && lines < 3)
		if (t[k++] == '\n')
			lines++;
	if (lines < 3)
		return 0;
	while (k < len) {
		int hi, lo;

		if (t[k] == '\n' || is_space(t[k])) {
			k++;
			continue;
		}
		/* A pair may be split by a newline (they are joined first). */
		hi = hexdigit(t[k++]);
		while (k < len && t[k] == '\n')
			k++;
		if (hi < 0 || k >= len || (lo = hexdigit(t[k++])) < 0)
			return 0;	/* fromhex's ValueError: Pillow gets no EXIF */
		if (n < sizeof(block))
			block[n++] = (unsigned char)(hi << 4 | lo);
	}
	return exif_orientation(block, n);
}

int exif_xmp(const unsigned char *x, size_t len)
{
	static const char tag[] = "tiff:Orientation";
	size_t t = sizeof(tag) - 1, k;

	for (k = 0; len >= t + 2 && k <= len - t - 2; k++) {
		const unsigned char *v = x + k + t;

		if (memcmp(x + k, tag, t) != 0)
			continue;
		if (v[0] == '>' && v[1] >= '0' && v[1] <= '9')
			return v[1] >= '1' && v[1] <= '8' ? v[1] - '0' : 0;
		if (v[0] == '=' && v[1] == '"' && k + t + 2 < len && x[k + t + 2] >= '0' &&
		    x[k + t + 2] <= '9')
			return x[k + t + 2] >= '1' && x[k + t + 2] <= '8' ? x[k + t + 2] - '0' : 0;
	}
	return 0;
}
