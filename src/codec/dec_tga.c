/* dec_tga.c - Truevision TGA, read as Pillow 9.4's TgaImagePlugin reads it:
 * raw and RLE, colour-mapped, gray and 16/24/32-bit colour, all four origins
 * (right-hand ones mirrored after decoding, as Pillow does), so that the
 * samples are Pillow's. Replaces stb_image 2.27. */
#include "codec/decoder.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Pillow's raw modes of TGA. */
enum tga_raw { T_P, T_1, T_L, T_LA, T_BGR5, T_BGR, T_BGRA };

/* A TGA header, checked: everything decode needs. */
struct tga {
	uint32_t w, h;
	int depth;		/* bits a pixel */
	int rle;
	int topdown, flip;	/* origin at the top; at the right */
	enum tga_raw raw;
	int channels;		/* Pillow's mode: 1 (1, L), 2 (LA), 3 (P, RGB), 4 (PA, RGBA) */
	int palette;		/* indexes through a palette (P, or L/LA with a map) */
	size_t map_off, map_start, map_entries;	/* the colour map read */
	int map_depth;		/* 16 or 24 */
	size_t data, rowbytes;
};

static uint32_t u16le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/*
 * TGA has no magic number. A file is TGA when its header passes Pillow's
 * checks (a colour map type of 0 or 1, both sides non-zero, a depth of 1,
 * 8, 16, 24 or 32, an image type Pillow knows) and its type and depth are
 * one Pillow decodes: random bytes seldom pass all of it.
 */
static int tga_sniff(const unsigned char *d, size_t len)
{
	int type, depth;

	if (len < 18 || d[1] > 1 || u16le(d + 12) == 0 || u16le(d + 14) == 0)
		return 0;
	type = d[2] & 7;
	depth = d[16];
	if (d[2] != type && d[2] != (type | 8))
		return 0;
	switch (type) {
	case 1:
		return depth == 8;
	case 2:
		return depth == 16 || depth == 24 || depth == 32;
	case 3:
		return depth == 1 || depth == 8 || depth == 16;
	default:
		return 0;
	}
}

static int tga_header(const unsigned char *d, size_t len, struct tga *t, char *why, size_t whylen)
{
	int type = d[2] & 7;
	size_t pos = 18 + (size_t)d[0];	/* past the image ID */

	memset(t, 0, sizeof(*t));
	t->w = u16le(d + 12);
	t->h = u16le(d + 14);
	t->depth = d[16];
	t->rle = (d[2] & 8) != 0;
	t->topdown = (d[17] & 0x20) != 0;
	t->flip = (d[17] & 0x10) != 0;
	switch (type) {
	case 1:
		t->raw = T_P;
		t->palette = 1;
		t->channels = 3;
		break;
	case 2:
		t->raw = t->depth == 16 ? T_BGR5 : t->depth == 24 ? T_BGR : T_BGRA;
		t->channels = t->depth == 32 ? 4 : 3;
		break;
	default:
		t->raw = t->depth == 1 ? T_1 : t->depth == 8 ? T_L : T_LA;
		t->channels = t->depth == 16 ? 2 : 1;
		break;
	}
	if (t->rle && t->depth == 1) {
		/* Pillow's RLE decoder takes 1-bit pixels as 0 bytes: never ends. */
		snprintf(why, whylen, "unsupported TGA (1-bit RLE)");
		return -1;
	}
	if (pos > len)
		pos = len;
	if (d[1] == 1) {
		size_t start = u16le(d + 3), size = u16le(d + 5), k = d[7] / 8, bytes;

		/* Pillow reads a map of 16, 24 or 32 bits and skips no other. */
		if (d[7] == 32) {
			snprintf(why, whylen, "unsupported TGA (32-bit colour map)");
			return -1;
		}
		if (d[7] == 16 || d[7] == 24) {
			if (t->raw != T_P && t->raw != T_L && t->raw != T_LA) {
				snprintf(why, whylen, "unsupported TGA (a colour map with %s pixels)",
					 t->raw == T_1 ? "1-bit" : "colour");
				return -1;
			}
			bytes = k * size < len - pos ? k * size : len - pos;
			t->map_off = pos;
			t->map_start = start;
			t->map_entries = bytes / k;
			t->map_depth = d[7];
			if (start + t->map_entries > 256) {
				snprintf(why, whylen, "unsupported TGA (colour map of %zu entries, "
					 "more than 256)", start + t->map_entries);
				return -1;
			}
			pos += bytes;
			if (t->raw != T_P) {	/* Pillow makes L a P image, LA a PA */
				t->palette = 1;
				t->channels = t->raw == T_L ? 3 : 4;
			}
		}
	}
	t->data = pos;
	t->rowbytes = ((size_t)t->w * (size_t)t->depth + 7) / 8;
	/* A byte of RLE makes at most 128: a file too short for its size is
	 * refused before anything is allocated. */
	if (t->rle && (uint64_t)(len - pos) * 128 < (uint64_t)t->rowbytes * t->h) {
		snprintf(why, whylen, "truncated TGA (%zu bytes of RLE data cannot make %ux%u "
			 "pixels)", len - pos, t->w, t->h);
		return -1;
	}
	if (!t->rle && (uint64_t)t->rowbytes * t->h > len - pos) {
		snprintf(why, whylen, "truncated TGA (%llu bytes of pixels expected, %zu present)",
			 (unsigned long long)t->rowbytes * t->h, len - pos);
		return -1;
	}
	return 0;
}

static int tga_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	struct tga t;

	if (tga_header(d, len, &t, why, whylen) < 0)
		return -1;
	info->w = (int)t.w;
	info->h = (int)t.h;
	info->channels = t.channels;
	info->palette = t.palette;
	return 0;
}

/*
 * Pillow's TGA RLE decoder: packets of a run (one pixel repeated) or a
 * literal (pixels copied); a literal may go on into the next rows, a run
 * must end in its row (Pillow refuses one that does not), and the data must
 * fill the image. OUT gets H rows of ROWBYTES in file order.
 */
static int tga_rle(const unsigned char *d, size_t len, const struct tga *t, unsigned char *out,
		   char *why, size_t whylen)
{
	size_t bpp = (size_t)t->depth / 8, total = t->rowbytes * t->h, n = 0, p = t->data;

	while (n < total) {
		size_t cnt;

		if (p >= len)
			break;
		cnt = bpp * ((size_t)(d[p] & 0x7f) + 1);
		if (d[p] & 0x80) {
			if (len - p < 1 + bpp)
				break;
			if (n % t->rowbytes + cnt > t->rowbytes) {
				snprintf(why, whylen, "corrupt TGA (an RLE run crosses a row's end)");
				return -1;
			}
			for (size_t i = 0; i < cnt; i += bpp)
				memcpy(out + n + i, d + p + 1, bpp);
			p += 1 + bpp;
		} else {
			if (len - p < 1 + cnt)
				break;
			memcpy(out + n, d + p + 1, cnt < total - n ? cnt : total - n);
			p += 1 + cnt;
		}
		n += cnt;
	}
	if (n < total) {
		snprintf(why, whylen, "truncated TGA (RLE data ends after %zu of %zu bytes)", n,
			 total);
		return -1;
	}
	return 0;
}

/* 5 bits to 8 as Pillow's BGR;5 unpacker: v * 255 / 31, truncated. */
static unsigned char lut5[32];

/* W pixels of BGR at S as RGB at OUT (not overlapping: the compiler may
 * vectorize). */
static void bgr_to_rgb(const unsigned char *restrict s, unsigned char *restrict out, size_t w)
{
	for (size_t x = 0; x < 3 * w; x += 3) {
		out[x] = s[x + 2];
		out[x + 1] = s[x + 1];
		out[x + 2] = s[x];
	}
}

/* One row of W pixels at S into OUT (T's channels, 8-bit), mirrored when
 * the origin is at the right: each mode's loop on its own, pixel by pixel
 * from the row's end when mirrored. */
static void tga_unpack(const struct tga *t, const unsigned char *s, const unsigned char *pal,
		       unsigned char *out, size_t w)
{
	size_t x, n = (size_t)t->channels;
	ptrdiff_t step = t->flip ? -(ptrdiff_t)n : (ptrdiff_t)n;
	unsigned char *o = t->flip ? out + n * (w - 1) : out;

	switch (t->raw) {
	case T_P: case T_L: case T_LA:
		if (!t->palette && n == 1) {
			for (x = 0; x < w; x++, o += step)
				o[0] = s[x];
		} else if (!t->palette) {
			for (x = 0; x < w; x++, o += step) {
				o[0] = s[2 * x];
				o[1] = s[2 * x + 1];
			}
		} else if (t->raw == T_LA) {
			for (x = 0; x < w; x++, o += step) {
				memcpy(o, pal + 3 * s[2 * x], 3);
				o[3] = s[2 * x + 1];
			}
		} else {
			for (x = 0; x < w; x++, o += step)
				memcpy(o, pal + 3 * s[x], 3);
		}
		break;
	case T_1:
		for (x = 0; x < w; x++, o += step)
			o[0] = s[x >> 3] >> (7 - (x & 7)) & 1 ? 255 : 0;
		break;
	case T_BGR5:
		for (x = 0; x < w; x++, o += step) {
			uint32_t v = u16le(s + 2 * x);

			o[0] = lut5[v >> 10 & 31];
			o[1] = lut5[v >> 5 & 31];
			o[2] = lut5[v & 31];
		}
		break;
	case T_BGR:
		if (!t->flip) {
			bgr_to_rgb(s, out, w);
			break;
		}
		for (x = 0; x < w; x++, o += step, s += 3) {
			o[0] = s[2];
			o[1] = s[1];
			o[2] = s[0];
		}
		break;
	case T_BGRA:
		for (x = 0; x < w; x++, o += step, s += 4) {
			o[0] = s[2];
			o[1] = s[1];
			o[2] = s[0];
			o[3] = s[3];
		}
		break;
	}
}

/* The palette Pillow builds: the first START entries black, then the map,
 * then (past its end) its default gray. */
static void tga_palette(const unsigned char *d, const struct tga *t, unsigned char *pal)
{
	for (unsigned i = 0; i < 256; i++)
		pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = (unsigned char)i;
	if (!t->map_depth)
		return;
	memset(pal, 0, 3 * t->map_start);
	for (size_t i = 0; i < t->map_entries; i++) {
		unsigned char *o = pal + 3 * (t->map_start + i);

		if (t->map_depth == 16) {
			uint32_t v = u16le(d + t->map_off + 2 * i);

			o[0] = lut5[v >> 10 & 31];
			o[1] = lut5[v >> 5 & 31];
			o[2] = lut5[v & 31];
		} else {
			const unsigned char *e = d + t->map_off + 3 * i;

			o[0] = e[2];
			o[1] = e[1];
			o[2] = e[0];
		}
	}
}

static int tga_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *dt, char *why, size_t whylen)
{
	static struct buf rowbuf, rlebuf;
	unsigned char pal[256 * 3], *row, *out = dt->pix;
	const unsigned char *src;
	size_t w = (size_t)info->w, h = (size_t)info->h, y;
	int direct = dt->channels == info->channels && !dt->depth16;
	struct tga t;

	if (tga_header(d, len, &t, why, whylen) < 0)
		return -1;
	if (!lut5[31])
		for (unsigned v = 0; v < 32; v++)
			lut5[v] = (unsigned char)(v * 255 / 31);
	tga_palette(d, &t, pal);
	if (!(row = buf_grow(&rowbuf, w * 4))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	src = d + t.data;
	if (t.rle) {
		unsigned char *p = buf_grow(&rlebuf, t.rowbytes * h);

		if (!p) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		if (tga_rle(d, len, &t, p, why, whylen) < 0)
			return -1;
		src = p;
	}
	/* Pillow's gray image with a map stays mode L: convert("L") keeps its
	 * indexes, other modes go through the map. */
	if (t.raw == T_L && t.palette && dt->channels == 1) {
		t.palette = 0;
		t.channels = 1;
		direct = !dt->depth16;
	}
	/* Rows in file order, which the prefetcher follows. */
	for (y = 0; y < h; y++) {
		unsigned char *o = out + (t.topdown ? y : h - 1 - y) * dec_row_bytes(dt, info->w);

		tga_unpack(&t, src + y * t.rowbytes, pal, direct ? o : row, w);
		if (!direct)
			dec_convert(row, t.channels, 0, o, dt, w);
	}
	return 0;
}

const struct decoder dec_tga = { "TGA", tga_sniff, tga_probe, tga_decode, 0 };
