/* dec_ico.c - Windows icons (.ico), read as Pillow 9.4's IcoImagePlugin
 * reads them: the entry it picks (the largest, then the deepest, then the
 * last listed), a PNG frame through dec_png.c (its tRNS ignored, as
 * Pillow's ICO loses it), a BMP frame through dec_bmp.c's DIB reader at
 * half its height, then RGBA with alpha from the AND mask that follows or,
 * where the directory says 32 bits, from each pixel's fourth byte. The
 * frame's own size is the image's, whatever the directory says (Pillow
 * warns and takes it). Cursors (.cur) are not read. */
#include "codec/decoder.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The entry Pillow picks, and what its frame is. */
struct ico {
	size_t off;		/* the frame's offset in the file */
	uint32_t size;		/* its size, as the directory says */
	uint32_t bpp;		/* its bits a pixel, as the directory says */
	int png;		/* a PNG frame, else a DIB */
};

static uint32_t u16le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t u32be(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Pillow's _accept (00 00 01 00), and at least one entry: Pillow fails on
 * a directory of none (an IndexError, on which Image.open goes on to the
 * formats after ICO, TGA among them), so such a file is left to the
 * decoders after this one. A cursor (00 00 02 00) is not an icon.
 */
static int ico_sniff(const unsigned char *d, size_t len)
{
	return len >= 6 && d[0] == 0 && d[1] == 0 && d[2] == 1 && d[3] == 0 && u16le(d + 4) != 0;
}

/* An entry's colour depth as Pillow reckons it to rank entries: its bits
 * a pixel, else ceil(log2 of its colour count), else 256. */
static uint32_t ico_depth(const unsigned char *e)
{
	uint32_t bpp = u16le(e + 6);
	double c;

	if (bpp)
		return bpp;
	if (e[2]) {
		/* Python's math.log(n, 2): log(n) / log(2) in doubles. */
		c = ceil(log((double)e[2]) / log(2.0));
		if (c > 0)
			return (uint32_t)c;
	}
	return 256;
}

/*
 * Read the directory and pick the entry Pillow loads: it sorts the entries
 * by colour depth, then (stably) by area, and reverses the list, so the
 * first is the largest, of those the deepest, of those the last listed.
 * Widths and heights of 0 mean 256.
 */
static int ico_entry(const unsigned char *d, size_t len, struct ico *e, char *why, size_t whylen)
{
	uint32_t n = len >= 6 ? u16le(d + 4) : 0, best_area = 0, best_depth = 0;
	const unsigned char *best = NULL;

	if (n == 0) {
		snprintf(why, whylen, "corrupt ICO (no images in its directory)");
		return -1;
	}
	if ((len - 6) / 16 < n) {
		snprintf(why, whylen, "truncated ICO directory (%u entries, %zu bytes)", n, len);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *p = d + 6 + 16 * (size_t)i;
		uint32_t area = (p[0] ? p[0] : 256u) * (p[1] ? p[1] : 256u), depth = ico_depth(p);

		if (!best || area > best_area || (area == best_area && depth >= best_depth)) {
			best = p;
			best_area = area;
			best_depth = depth;
		}
	}
	e->bpp = u16le(best + 6);
	e->size = u32le(best + 8);
	e->off = u32le(best + 12);
	if (e->off >= len) {
		snprintf(why, whylen, "truncated ICO (image at offset %zu, file of %zu bytes)",
			 e->off, len);
		return -1;
	}
	e->png = len - e->off >= 8 && memcmp(d + e->off, "\x89PNG\r\n\x1a\n", 8) == 0;
	return 0;
}

/*
 * The frame as its decoder is to read it, at *P (N bytes): a PNG from its
 * offset to the file's end, without its tRNS chunk if it has one (copied
 * into COPY); a DIB copied into COPY with its height halved, as Pillow
 * halves it (the XOR image; the AND mask follows it).
 */
static int ico_frame(const unsigned char *d, size_t len, const struct ico *e, struct buf *copy,
		     const unsigned char **p, size_t *n, char *why, size_t whylen)
{
	const unsigned char *s = d + e->off;
	size_t m = len - e->off, pos = 8;
	unsigned char *f;

	*p = s;
	*n = m;
	if (e->png) {
		/* Chunks before the first IDAT; a broken one is dec_png.c's to
		 * report. */
		while (m - pos >= 12 && memcmp(s + pos + 4, "IDAT", 4) != 0) {
			size_t clen = u32be(s + pos);

			if (clen > m - pos - 12)
				break;
			if (memcmp(s + pos + 4, "tRNS", 4) == 0) {
				if (!(f = buf_grow(copy, m - 12 - clen)))
					goto oom;
				memcpy(f, s, pos);
				memcpy(f + pos, s + pos + 12 + clen, m - pos - 12 - clen);
				*p = f;
				*n = m - 12 - clen;
				break;
			}
			pos += 12 + clen;
		}
		return 0;
	}
	if (m < 12)
		return 0;	/* dec_bmp.c refuses it */
	if (!(f = buf_grow(copy, m)))
		goto oom;
	memcpy(f, s, m);
	if (u32le(f) == 12) {		/* OS/2 1.x: a 16-bit height */
		uint32_t h = u16le(f + 6) / 2;

		f[6] = (unsigned char)h;
		f[7] = (unsigned char)(h >> 8);
	} else {			/* Pillow's top-down test: the top byte 0xff */
		uint32_t h = u32le(f + 8);
		int topdown = f[11] == 0xff;

		h = topdown ? 0u - (0u - h) / 2 : h / 2;
		for (int k = 0; k < 4; k++)
			f[8 + k] = (unsigned char)(h >> 8 * k);
	}
	*p = f;
	return 0;
oom:
	snprintf(why, whylen, "out of memory");
	return -1;
}

/* The frame's decoder and its probe into SUB, with a failure's reason
 * named as the frame's. */
static int ico_open(const unsigned char *d, size_t len, struct ico *e, struct buf *copy,
		    const unsigned char **p, size_t *n, struct codec_info *sub, char *why,
		    size_t whylen)
{
	char r[200];

	if (ico_entry(d, len, e, why, whylen) < 0 ||
	    ico_frame(d, len, e, copy, p, n, why, whylen) < 0)
		return -1;
	memset(sub, 0, sizeof(*sub));
	sub->dec = e->png ? &dec_png : &dec_dib;
	sub->scale = 8;
	if (sub->dec->probe(*p, *n, sub, r, sizeof(r)) < 0) {
		snprintf(why, whylen, "ICO's %s image at offset %zu: %s", e->png ? "PNG" : "BMP",
			 e->off, r);
		return -1;
	}
	return 0;
}

static struct buf framebuf, rgbabuf;

static int ico_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	struct codec_info sub;
	const unsigned char *p;
	struct ico e;
	size_t n;

	if (ico_open(d, len, &e, &framebuf, &p, &n, &sub, why, whylen) < 0)
		return -1;
	info->w = sub.w;
	info->h = sub.h;
	/* A PNG frame is Pillow's image in the PNG's mode, a BMP frame RGBA. */
	info->channels = e.png ? sub.channels : 4;
	info->is16 = e.png && sub.is16;
	info->palette = e.png && sub.palette;
	return 0;
}

/*
 * A BMP frame's alpha, into the fourth sample of W x H pixels at OUT
 * (RGBA): with 32 bits a pixel in the directory, every fourth byte from
 * where the DIB's pixels start (PIX, in the file), W*H*4 bytes, rows
 * bottom-up; else the AND mask, the last (W rounded up to 32) * H / 8
 * bytes of the directory's size for the frame, rows bottom-up, a set bit
 * transparent (0), a clear one opaque (255). Either must be all there, as
 * Pillow's frombuffer requires (the mask's last row without its padding).
 */
static int ico_alpha(const unsigned char *d, size_t len, const struct ico *e, size_t pix,
		     unsigned char *out, size_t w, size_t h, char *why, size_t whylen)
{
	size_t stride = ((w + 31) & ~(size_t)31) / 8;
	uint64_t total = (uint64_t)stride * h, need = (uint64_t)stride * (h - 1) + (w + 7) / 8;
	int64_t at = (int64_t)e->off + (int64_t)e->size - (int64_t)total;

	if (e->bpp == 32) {
		if (pix > len || (len - pix) / 4 / w < h) {
			snprintf(why, whylen, "truncated ICO (32-bit alpha of %zu bytes at offset %zu, "
				 "file of %zu bytes)", 4 * w * h, pix, len);
			return -1;
		}
		for (size_t y = 0; y < h; y++) {
			const unsigned char *s = d + pix + 4 * w * y + 3;
			unsigned char *o = out + 4 * w * (h - 1 - y) + 3;

			for (size_t x = 0; x < w; x++)
				o[4 * x] = s[4 * x];
		}
		return 0;
	}
	if (at < 0 || (uint64_t)at > len || len - (uint64_t)at < need) {
		snprintf(why, whylen, "truncated ICO (AND mask of %llu bytes at offset %lld, file of "
			 "%zu bytes)", (unsigned long long)total, (long long)at, len);
		return -1;
	}
	for (size_t y = 0; y < h; y++) {
		const unsigned char *s = d + at + stride * y;
		unsigned char *o = out + 4 * w * (h - 1 - y) + 3;

		for (size_t x = 0; x < w; x++)
			o[4 * x] = s[x >> 3] >> (7 - (x & 7)) & 1 ? 0 : 255;
	}
	return 0;
}

static int ico_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	struct codec_info sub;
	const unsigned char *p;
	struct ico e;
	size_t n, w = (size_t)info->w, h = (size_t)info->h, pix = 0;
	struct dec_target rgba = { .channels = 4 };
	unsigned char *out;
	char r[200];

	if (ico_open(d, len, &e, &framebuf, &p, &n, &sub, why, whylen) < 0)
		return -1;
	if (sub.w != info->w || sub.h != info->h) {
		snprintf(why, whylen, "internal error: ICO frame of %dx%d, probed as %dx%d", sub.w,
			 sub.h, info->w, info->h);
		return -1;
	}
	/* Both decode the whole image (T's window, if any, is ignored). */
	if (e.png) {
		if (dec_png.decode(p, n, &sub, t, r, sizeof(r)) < 0)
			goto failed;
		return 0;
	}
	/* BMP: decoded as RGBA, its alpha replaced, then converted. */
	out = t->channels == 4 && !t->depth16 ? t->pix : buf_grow(&rgbabuf, w * h * 4);
	if (!out) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rgba.pix = out;
	if (dec_dib.decode(p, n, &sub, &rgba, r, sizeof(r)) < 0 ||
	    (e.bpp == 32 && dec_dib_pixels(p, n, &pix, r, sizeof(r)) < 0))
		goto failed;
	if (ico_alpha(d, len, &e, e.off + pix, out, w, h, why, whylen) < 0)
		return -1;
	if (out != t->pix)
		dec_convert(out, 4, 0, t->pix, t, w * h);
	return 0;
failed:
	snprintf(why, whylen, "ICO's %s image at offset %zu: %s", e.png ? "PNG" : "BMP", e.off, r);
	return -1;
}

const struct decoder dec_ico = { "ICO", ico_sniff, ico_probe, ico_decode, 0 };
