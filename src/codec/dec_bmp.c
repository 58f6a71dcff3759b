/* dec_bmp.c - Windows and OS/2 bitmaps, read as Pillow 9.4's BmpImagePlugin
 * reads them (its headers, modes, palette rules, RLE quirks and 5/6-bit
 * expansion), so that the samples are Pillow's; and, as its DibImageFile,
 * a DIB (a .dib, a clipboard bitmap): the same without the 14-byte file
 * header, its pixels right after the header, masks and palette. Replaces
 * stb_image 2.27. */
#include "codec/decoder.h"

#include <stdio.h>
#include <string.h>

/* How a row's bytes are laid out: Pillow's raw modes of BMP. */
enum bmp_raw {
	RAW_P1, RAW_P4, RAW_P8,	/* palette indexes, 1, 4 or 8 bits */
	RAW_1,			/* 1 bit a pixel, 0 black, 1 white ("1") */
	RAW_L,			/* 8-bit gray ("L") */
	RAW_BGR15, RAW_BGR16,	/* 5-5-5 and 5-6-5, little-endian words */
	RAW_BGR, RAW_BGRX, RAW_XBGR, RAW_ABGR, RAW_RGBA, RAW_BGRA
};

/* Bits a pixel each raw mode reads. */
static const int raw_bits[] = { 1, 4, 8, 1, 8, 16, 16, 24, 32, 32, 32, 32, 32 };

/* A BMP header, checked: everything decode needs. */
struct bmp {
	uint32_t w, h;
	int topdown;		/* rows stored top row first */
	int bits;		/* bits a pixel, as the header says */
	int rle;		/* 0, 4 (RLE4) or 8 (RLE8) */
	enum bmp_raw raw;
	int channels;		/* Pillow's mode: 1 (1, L), 3 (P, RGB), 4 (RGBA) */
	int palette;		/* mode P */
	size_t pal_off, pal_entries, pal_pad;	/* where its entries are */
	size_t data;		/* offset of the pixels */
	uint64_t stride, rowbytes;	/* raw rows: their spacing, bytes read */
};

static uint32_t u16le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bmp_sniff(const unsigned char *d, size_t len)
{
	return len >= 2 && d[0] == 'B' && d[1] == 'M';
}

/* A DIB: Pillow's _dib_accept, the first 4 bytes a header size it knows.
 * No magic number: codec.c asks it after every format that has one. */
static int dib_sniff(const unsigned char *d, size_t len)
{
	uint32_t n = len >= 4 ? u32le(d) : 0;

	return n == 12 || n == 40 || n == 52 || n == 56 || n == 64 || n == 108 || n == 124;
}

/* The bitfield masks Pillow 9.4 reads, and the raw mode of each. */
static int bmp_masks(int bits, const uint32_t m[4], struct bmp *b)
{
	static const struct {
		int bits;
		uint32_t r, g, b, a;
		enum bmp_raw raw;
		int channels;
	} known[] = {
		{ 32, 0xff0000, 0xff00, 0xff, 0, RAW_BGRX, 3 },
		{ 32, 0xff000000, 0xff0000, 0xff00, 0, RAW_XBGR, 3 },
		{ 32, 0xff000000, 0xff0000, 0xff00, 0xff, RAW_ABGR, 4 },
		{ 32, 0xff, 0xff00, 0xff0000, 0xff000000, RAW_RGBA, 4 },
		{ 32, 0xff0000, 0xff00, 0xff, 0xff000000, RAW_BGRA, 4 },
		{ 32, 0, 0, 0, 0, RAW_BGRA, 4 },
		{ 24, 0xff0000, 0xff00, 0xff, 0, RAW_BGR, 3 },
		{ 16, 0xf800, 0x7e0, 0x1f, 0, RAW_BGR16, 3 },
		{ 16, 0x7c00, 0x3e0, 0x1f, 0, RAW_BGR15, 3 },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		/* 16 and 24 bits: Pillow compares the colour masks only. */
		if (known[i].bits == bits && known[i].r == m[0] && known[i].g == m[1] &&
		    known[i].b == m[2] && (bits != 32 || known[i].a == m[3])) {
			b->raw = known[i].raw;
			b->channels = known[i].channels;
			return 0;
		}
	return -1;
}

/*
 * Pillow drops a palette that is all gray: two entries black and white
 * make mode "1", N entries 0, 1, ..., N-1 make "L" (and the pixels are then
 * read as 1-bit or 8-bit gray whatever the header's depth, as Pillow reads
 * them). An entry cut short by the end of the file is not gray.
 */
static int bmp_gray_palette(const unsigned char *pal, size_t bytes, size_t pad, uint64_t colors)
{
	uint64_t i;

	for (i = 0; i < colors; i++) {
		unsigned v = colors == 2 ? (i ? 255 : 0) : (unsigned)(i & 255);
		const unsigned char *e = pal + i * pad;

		if (i * pad + 3 > bytes || e[0] != v || e[1] != v || e[2] != v)
			return 0;
	}
	return 1;
}

/* Parse and check a BMP header, and that the pixels it promises are there
 * (RLE data is checked as it is decoded). Pillow's messages where it has
 * one. BASE: 14 for a BMP (the file header first), 0 for a DIB (the
 * pixels where the palette ends, as the file header's offset 0 says). */
static int bmp_header(const unsigned char *d, size_t len, size_t base, struct bmp *b, char *why,
		      size_t whylen)
{
	const unsigned char *hd = d + base + 4;	/* the header, past its size */
	uint64_t offset, colors, pos;
	uint32_t hsize, comp = 0, ncolors = 0;

	memset(b, 0, sizeof(*b));
	if (len < base + 4) {
		snprintf(why, whylen, "truncated BMP header");
		return -1;
	}
	offset = base ? u32le(d + 10) : 0;
	hsize = u32le(d + base);
	if (hsize != 12 && hsize != 40 && hsize != 64 && hsize != 108 && hsize != 124) {
		snprintf(why, whylen, "unsupported BMP header type (%u bytes)", hsize);
		return -1;
	}
	if (len < base + (size_t)hsize) {
		snprintf(why, whylen, "truncated BMP header");
		return -1;
	}
	pos = base + hsize;
	b->pal_pad = hsize == 12 ? 3 : 4;
	if (hsize == 12) {	/* OS/2 1.x: 16-bit sides, bottom-up, no compression */
		b->w = u16le(hd);
		b->h = u16le(hd + 2);
		b->bits = (int)u16le(hd + 6);
	} else {		/* v3, OS/2 2.x, v4, v5 */
		uint32_t h = u32le(hd + 4), m[4] = { 0, 0, 0, 0 };

		/* Pillow's top-down test: the height's top byte 0xff. */
		b->topdown = hd[7] == 0xff;
		b->w = u32le(hd);
		b->h = b->topdown ? (uint32_t)(0u - h) : h;
		b->bits = (int)u16le(hd + 10);
		comp = u32le(hd + 12);
		ncolors = u32le(hd + 28);
		if (comp == 3 && hsize >= 56) {
			for (int k = 0; k < 4; k++)
				m[k] = u32le(hd + 36 + 4 * k);
		} else if (comp == 3) {	/* the three masks follow a v3 header */
			if (len < pos + 12) {
				snprintf(why, whylen, "truncated BMP header (bitfield masks)");
				return -1;
			}
			for (int k = 0; k < 3; k++)
				m[k] = u32le(d + pos + 4 * (size_t)k);
			pos += 12;
		}
		if (comp == 3 && bmp_masks(b->bits, m, b) < 0) {
			snprintf(why, whylen, "unsupported BMP bitfields layout (%d bits, masks "
				 "%#x %#x %#x %#x)", b->bits, m[0], m[1], m[2], m[3]);
			return -1;
		}
	}
	colors = ncolors ? ncolors : b->bits < 64 ? (uint64_t)1 << b->bits : UINT64_MAX;
	/* Pillow's rule for an offset that forgets the palette. */
	if (base && offset == 14 + (uint64_t)hsize && b->bits <= 8)
		offset += 4 * colors;
	switch (b->bits) {
	case 1: case 4: case 8:
		if (comp == 3) {
			snprintf(why, whylen, "unsupported BMP bitfields layout (%d bits)", b->bits);
			return -1;
		}
		b->raw = b->bits == 1 ? RAW_P1 : b->bits == 4 ? RAW_P4 : RAW_P8;
		b->palette = 1;
		b->channels = 3;
		break;
	case 16: case 24: case 32:
		if (comp != 3) {
			b->raw = b->bits == 16 ? RAW_BGR15 : b->bits == 24 ? RAW_BGR : RAW_BGRX;
			b->channels = 3;
		}
		break;
	default:
		snprintf(why, whylen, "unsupported BMP pixel depth (%d)", b->bits);
		return -1;
	}
	if (comp == 1 || comp == 2) {
		b->rle = comp == 1 ? 8 : 4;
	} else if (comp != 0 && comp != 3) {
		snprintf(why, whylen, "unsupported BMP compression (%u)", comp);
		return -1;
	}
	if (b->palette) {
		size_t avail = pos < len ? len - (size_t)pos : 0, bytes;

		if (colors == 0 || colors > 65536) {
			snprintf(why, whylen, "unsupported BMP palette size (%llu)",
				 (unsigned long long)colors);
			return -1;
		}
		bytes = b->pal_pad * colors < avail ? b->pal_pad * (size_t)colors : avail;
		if (bmp_gray_palette(d + pos, bytes, b->pal_pad, colors)) {
			b->palette = 0;
			b->channels = 1;
			b->raw = colors == 2 ? RAW_1 : RAW_L;
		} else {
			b->pal_off = (size_t)pos;
			b->pal_entries = bytes / b->pal_pad;
			if (b->pal_entries > 256) {
				snprintf(why, whylen, "unsupported BMP palette (%zu entries, "
					 "more than 256)", b->pal_entries);
				return -1;
			}
		}
		pos += bytes;
	}
	if (!offset)
		offset = pos;
	/* Pillow's RLE decoder gives 8-bit indexes or gray, nothing else. */
	if (b->rle && !b->palette && b->raw != RAW_L) {
		snprintf(why, whylen, "unsupported BMP (RLE%d with %d bits a pixel%s)", b->rle,
			 b->bits, b->raw == RAW_1 ? " and a black and white palette" : "");
		return -1;
	}
	if (b->w > INT32_MAX || b->h > INT32_MAX) {
		snprintf(why, whylen, "image is %ux%u, too large", b->w, b->h);
		return -1;
	}
	if (offset >= len) {
		snprintf(why, whylen, "truncated BMP (pixels at offset %llu, file of %zu bytes)",
			 (unsigned long long)offset, len);
		return -1;
	}
	b->data = (size_t)offset;
	if (b->w == 0 || b->h == 0)
		return 0;
	/* Two bytes of RLE make at most a delta's 255 rows and 255 pixels: a
	 * file too short for its size is refused before anything is allocated. */
	if (b->rle && (uint64_t)b->w * b->h / (255 * (uint64_t)b->w + 255) >
		      (uint64_t)(len - b->data) / 2) {
		snprintf(why, whylen, "truncated BMP (%zu bytes of RLE data cannot make %ux%u "
			 "pixels)", len - b->data, b->w, b->h);
		return -1;
	}
	if (b->rle)
		return 0;
	b->stride = (((uint64_t)b->w * (uint64_t)b->bits + 31) >> 3) & ~(uint64_t)3;
	b->rowbytes = ((uint64_t)b->w * (uint64_t)raw_bits[b->raw] + 7) / 8;
	/*
	 * A gray palette on 1 or 4 bits makes rows of 8-bit gray longer than
	 * the stride. Pillow's raw decoder refuses them; a file Pillow maps
	 * (mode L, all rows' strides present) gives rows that overlap, which
	 * is what Image.open(path) loads.
	 */
	if (b->rowbytes > b->stride &&
	    (b->raw != RAW_L || b->stride * b->h > len - b->data)) {
		snprintf(why, whylen, "unsupported BMP (rows of %llu bytes in %d-bit rows of %llu)",
			 (unsigned long long)b->rowbytes, b->bits, (unsigned long long)b->stride);
		return -1;
	}
	/* The last row needs no padding, as Pillow's raw decoder. */
	if (b->rowbytes > len - b->data ||
	    (uint64_t)(b->h - 1) > (len - b->data - b->rowbytes) / b->stride) {
		snprintf(why, whylen, "truncated BMP (%.0f bytes of pixels expected, %zu present)",
			 (double)(b->h - 1) * (double)b->stride + (double)b->rowbytes,
			 len - b->data);
		return -1;
	}
	return 0;
}

static int bmp_probe_at(const unsigned char *d, size_t len, size_t base, struct codec_info *info,
			char *why, size_t whylen)
{
	struct bmp b;

	if (bmp_header(d, len, base, &b, why, whylen) < 0)
		return -1;
	info->w = (int)b.w;
	info->h = (int)b.h;
	info->channels = b.channels;
	info->palette = b.palette;
	return 0;
}

/*
 * Pillow's RLE decoder (BmpRleDecoder, in Python), quirks kept: a run is
 * cut at the row's end but absolute runs are not; end of line pads with
 * index 0; a delta skips two bytes before the two it reads; absolute runs
 * align to an even offset in the file; the data must fill the image (an
 * early end of bitmap is refused, as Pillow refuses it). IDX gets W*H
 * indexes in file order.
 */
static int bmp_rle(const unsigned char *d, size_t len, const struct bmp *b, unsigned char *idx,
		   char *why, size_t whylen)
{
	uint64_t w = b->w, total = w * b->h, n = 0, x = 0, k;
	size_t p = b->data;

#define PUT(v) do { if (n < total) idx[n] = (unsigned char)(v); n++; } while (0)
	while (n < total) {
		unsigned cnt, byte;

		if (p >= len || len - p < 2)
			break;
		cnt = d[p];
		byte = d[p + 1];
		p += 2;
		if (cnt) {			/* encoded: a run of one index (two for RLE4) */
			k = x + cnt > w ? (x < w ? w - x : 0) : cnt;
			for (uint64_t i = 0; i < k; i++)
				PUT(b->rle == 4 ? (i % 2 ? byte & 15 : byte >> 4) : byte);
			x += k;
		} else if (byte == 0) {		/* end of line */
			while (n % w)
				PUT(0);
			x = 0;
		} else if (byte == 1) {		/* end of bitmap */
			break;
		} else if (byte == 2) {		/* delta */
			uint64_t z;

			if (len - p < 2)
				break;
			p += 2;
			if (len - p < 2) {
				snprintf(why, whylen, "corrupt BMP (RLE delta cut short)");
				return -1;
			}
			z = d[p] + (uint64_t)d[p + 1] * w;
			p += 2;
			if (n < total)
				memset(idx + n, 0, (size_t)(z < total - n ? z : total - n));
			n += z;
			x = n % w;
		} else {			/* absolute: BYTE indexes follow */
			size_t want = b->rle == 4 ? byte / 2 : byte;
			size_t got = want < len - p ? want : len - p;

			for (size_t i = 0; i < got; i++) {
				if (b->rle == 4) {
					PUT(d[p + i] >> 4);
					PUT(d[p + i] & 15);
				} else {
					PUT(d[p + i]);
				}
			}
			p += got;
			if (got < want)
				break;
			x += byte;
			p += p % 2;
		}
	}
#undef PUT
	if (n < total) {
		snprintf(why, whylen, "truncated BMP (RLE data ends after %llu of %llu pixels)",
			 (unsigned long long)n, (unsigned long long)total);
		return -1;
	}
	return 0;
}

/* 5 and 6 bits to 8 as Pillow's unpackers expand them: v * 255 / 31 (63),
 * truncated. */
static unsigned char lut5[32], lut6[64];

static void bmp_luts(void)
{
	for (unsigned v = 0; v < 64; v++) {
		if (v < 32)
			lut5[v] = (unsigned char)(v * 255 / 31);
		lut6[v] = (unsigned char)(v * 255 / 63);
	}
}

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

/* One row of W pixels of raw mode RAW at S into OUT (B's channels, 8-bit),
 * palette indexes through PAL. */
static void bmp_unpack(const struct bmp *b, const unsigned char *s, const unsigned char *pal,
		       unsigned char *out, size_t w)
{
	size_t x;

	switch (b->raw) {
	case RAW_P1: case RAW_P4: case RAW_P8:
		for (x = 0; x < w; x++, out += 3) {
			unsigned i = b->raw == RAW_P8 ? s[x] :
				     b->raw == RAW_P4 ? (x & 1 ? s[x >> 1] & 15 : s[x >> 1] >> 4) :
				     (unsigned)(s[x >> 3] >> (7 - (x & 7))) & 1;

			memcpy(out, pal + 3 * i, 3);
		}
		break;
	case RAW_1:
		for (x = 0; x < w; x++)
			out[x] = s[x >> 3] >> (7 - (x & 7)) & 1 ? 255 : 0;
		break;
	case RAW_L:
		memcpy(out, s, w);
		break;
	case RAW_BGR15: case RAW_BGR16:
		for (x = 0; x < w; x++, out += 3) {
			uint32_t v = u16le(s + 2 * x);

			if (b->raw == RAW_BGR15) {
				out[0] = lut5[v >> 10 & 31];
				out[1] = lut5[v >> 5 & 31];
			} else {
				out[0] = lut5[v >> 11];
				out[1] = lut6[v >> 5 & 63];
			}
			out[2] = lut5[v & 31];
		}
		break;
	case RAW_BGR:
		bgr_to_rgb(s, out, w);
		break;
	case RAW_BGRX:
		for (x = 0; x < w; x++, out += 3, s += 4) {
			out[0] = s[2];
			out[1] = s[1];
			out[2] = s[0];
		}
		break;
	case RAW_XBGR:
		for (x = 0; x < w; x++, out += 3, s += 4) {
			out[0] = s[3];
			out[1] = s[2];
			out[2] = s[1];
		}
		break;
	case RAW_ABGR: case RAW_RGBA: case RAW_BGRA:
		for (x = 0; x < w; x++, out += 4, s += 4) {
			static const unsigned char order[3][4] = {
				{ 3, 2, 1, 0 }, { 0, 1, 2, 3 }, { 2, 1, 0, 3 } };
			const unsigned char *o = order[b->raw - RAW_ABGR];

			out[0] = s[o[0]];
			out[1] = s[o[1]];
			out[2] = s[o[2]];
			out[3] = s[o[3]];
		}
		break;
	}
}

/* Rows unpacked into a row buffer (or straight into T's row where the
 * shapes agree) and converted; RLE decoded first into indexes. */
static int bmp_decode_at(const unsigned char *d, size_t len, size_t base,
			 const struct codec_info *info, const struct dec_target *t, char *why,
			 size_t whylen)
{
	static struct buf rowbuf, idxbuf;
	unsigned char pal[256 * 3], *row, *idx = NULL, *out = t->pix;
	size_t w = (size_t)info->w, h = (size_t)info->h, y;
	int direct = t->channels == info->channels && !t->depth16;
	struct bmp b;

	if (bmp_header(d, len, base, &b, why, whylen) < 0)
		return -1;
	if (!lut6[63])
		bmp_luts();
	/* Entries past the palette's end are Pillow's default: gray. */
	for (unsigned i = 0; i < 256; i++)
		pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = (unsigned char)i;
	for (size_t i = 0; i < b.pal_entries; i++) {
		const unsigned char *e = d + b.pal_off + i * b.pal_pad;

		pal[3 * i] = e[2];
		pal[3 * i + 1] = e[1];
		pal[3 * i + 2] = e[0];
	}
	if (!(row = buf_grow(&rowbuf, w * 4))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (b.rle) {
		if (!(idx = buf_grow(&idxbuf, w * h))) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		if (bmp_rle(d, len, &b, idx, why, whylen) < 0)
			return -1;
	}
	/* Rows in file order, which the prefetcher follows. */
	for (y = 0; y < h; y++) {
		unsigned char *dst = out + (b.topdown ? y : h - 1 - y) * dec_row_bytes(t, info->w);
		unsigned char *o = direct ? dst : row;

		if (!b.rle) {
			bmp_unpack(&b, d + b.data + y * b.stride, pal, o, w);
		} else if (b.raw == RAW_L) {
			memcpy(o, idx + y * w, w);
		} else {
			const unsigned char *s = idx + y * w;

			for (size_t x = 0; x < w; x++)
				memcpy(o + 3 * x, pal + 3 * s[x], 3);
		}
		if (!direct)
			dec_convert(row, info->channels, 0, dst, t, w);
	}
	return 0;
}

static int bmp_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	return bmp_probe_at(d, len, 14, info, why, whylen);
}

static int bmp_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	return bmp_decode_at(d, len, 14, info, t, why, whylen);
}

static int dib_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	return bmp_probe_at(d, len, 0, info, why, whylen);
}

static int dib_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	return bmp_decode_at(d, len, 0, info, t, why, whylen);
}

int dec_dib_pixels(const unsigned char *d, size_t len, size_t *off, char *why, size_t whylen)
{
	struct bmp b;

	if (bmp_header(d, len, 0, &b, why, whylen) < 0)
		return -1;
	*off = b.data;
	return 0;
}

const struct decoder dec_bmp = { "BMP", bmp_sniff, bmp_probe, bmp_decode, 0 };
/* Counted as BMP by check, as Pillow's DIB is a kind of BMP. */
const struct decoder dec_dib = { "BMP", dib_sniff, dib_probe, dib_decode, 0 };
