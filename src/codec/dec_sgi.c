/* dec_sgi.c - SGI images (.sgi, .rgb, .rgba, .bw), read as Pillow 9.4's
 * SgiImagePlugin reads them: raw and RLE, 1 or 2 bytes a sample, gray, RGB
 * and RGBA, rows stored bottom-up, so that the samples are Pillow's (2-byte
 * samples reduced to their high byte; kept whole with -t u2). */
#include "codec/decoder.h"

#include <stdio.h>
#include <string.h>

#define SGI_MAGIC 474
#define SGI_HEADER 512		/* the pixels (or RLE tables) start here */

/* An SGI header, checked: everything decode needs. */
struct sgi {
	uint32_t w, h;
	int rle;
	int bpc;		/* bytes a sample, 1 or 2 */
	int bands;		/* Pillow's mode: 1 (L), 3 (RGB), 4 (RGBA) */
};

static uint32_t u16be(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | (uint32_t)p[1];
}

static uint32_t u32be(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Pillow's _accept: the magic number 474, big-endian. */
static int sgi_sniff(const unsigned char *d, size_t len)
{
	return len >= 2 && u16be(d) == SGI_MAGIC;
}

/*
 * Parse and check the header, and that the pixels (raw) or the RLE
 * tables are all there, before anything is allocated. The layouts are
 * Pillow's MODES: (bpc, dimension, zsize) of (1|2, 1|2, 1) gray, (1|2, 3,
 * 3) RGB, (1|2, 3, 4) RGBA; the height is the header's, whatever the
 * dimension says.
 */
static int sgi_header(const unsigned char *d, size_t len, struct sgi *s, char *why, size_t whylen)
{
	uint32_t dim, z;
	uint64_t need;

	memset(s, 0, sizeof(*s));
	if (len < 12) {
		snprintf(why, whylen, "truncated SGI header (%zu bytes)", len);
		return -1;
	}
	s->bpc = d[3];
	dim = u16be(d + 4);
	s->w = u16be(d + 6);
	s->h = u16be(d + 8);
	z = u16be(d + 10);
	if ((s->bpc != 1 && s->bpc != 2) ||
	    !((dim == 1 && z == 1) || (dim == 2 && z == 1) || (dim == 3 && (z == 3 || z == 4)))) {
		snprintf(why, whylen, "unsupported SGI layout (%d bytes a sample, dimension %u, "
			 "%u channels)", s->bpc, dim, z);
		return -1;
	}
	s->bands = (int)z;
	if (d[2] > 1) {
		snprintf(why, whylen, "unsupported SGI compression (%d)", d[2]);
		return -1;
	}
	s->rle = d[2];
	if (s->rle) {
		/* A start and a length, 4 bytes each, per row and channel. */
		need = 8 * (uint64_t)s->h * (uint64_t)s->bands;
		if (len < SGI_HEADER || len - SGI_HEADER < need) {
			snprintf(why, whylen, "truncated SGI (RLE tables of %llu bytes, %zu present)",
				 (unsigned long long)need, len < SGI_HEADER ? 0 : len - SGI_HEADER);
			return -1;
		}
		return 0;
	}
	need = (uint64_t)s->w * s->h * (uint64_t)s->bands * (uint64_t)s->bpc;
	if (len < SGI_HEADER || len - SGI_HEADER < need) {
		snprintf(why, whylen, "truncated SGI (%llu bytes of pixels expected, %zu present)",
			 (unsigned long long)need, len < SGI_HEADER ? 0 : len - SGI_HEADER);
		return -1;
	}
	return 0;
}

static int sgi_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	struct sgi s;

	if (sgi_header(d, len, &s, why, whylen) < 0)
		return -1;
	info->w = (int)s.w;
	info->h = (int)s.h;
	info->channels = s.bands;
	info->is16 = s.bpc == 2;
	return 0;
}

/*
 * One row of one channel of Pillow's RLE (SgiRleDecode.c's expandrow and
 * expandrow2), its quirks kept: N, the table's length, counts packets, not
 * bytes; a packet's count is the low 7 bits of its first atom's low byte,
 * the high bit a literal (COUNT atoms follow) or else a run (one atom
 * repeated); a count of 0 ends the row; no packet may pass the row's end
 * or read the file's last byte; and when the N-th packet is reached and
 * does not start with 0, the whole image ends there (1). Atoms of BPC
 * bytes go to OUT every STEP bytes; P is the packet's offset past the
 * header in DATA (LEN bytes from the header on). 0, 1, or -1 when Pillow
 * reports an overrun.
 */
static int sgi_rle_row(const unsigned char *data, uint64_t len, uint64_t p, int32_t n, int bpc,
		       unsigned char *out, size_t step, uint32_t w)
{
	uint64_t end = len - 1;	/* Pillow's end_of_buffer, the last byte */
	uint32_t x = 0;

	if (len == 0)
		return n > 0 ? -1 : 0;

	for (; n > 0; n--) {
		unsigned pixel, count;

		if (p + (uint64_t)bpc - 1 > end)
			return -1;
		pixel = data[p + (uint64_t)bpc - 1];
		p += (uint64_t)bpc;
		if (n == 1 && pixel != 0)
			return 1;
		count = pixel & 0x7f;
		if (!count)
			return 0;
		if (x + count > w)
			return -1;
		x += count;
		if (pixel & 0x80) {
			if (p + (uint64_t)bpc * count > end)
				return -1;
			for (; count; count--, p += (uint64_t)bpc, out += step)
				memcpy(out, data + p, (size_t)bpc);
		} else {
			/* expandrow checks the one byte it reads, expandrow2
			 * one byte past the two it reads. */
			if (p + (uint64_t)(bpc == 2 ? 2 : 0) > end)
				return -1;
			for (; count; count--, out += step)
				memcpy(out, data + p, (size_t)bpc);
			p += (uint64_t)bpc;
		}
	}
	return 0;
}

/* W samples at S, STEP bytes apart (2-byte ones big-endian), into OUT
 * every BANDS samples: 8-bit (the first, high, byte) or, when WIDE, the
 * two bytes as uint16_t. */
static void sgi_samples(const unsigned char *s, size_t step, int wide, int bands,
			unsigned char *out, size_t w)
{
	size_t x;

	if (wide) {
		uint16_t *o = (uint16_t *)(void *)out;

		for (x = 0; x < w; x++, s += step)
			o[x * (size_t)bands] = (uint16_t)u16be(s);
	} else {
		for (x = 0; x < w; x++, s += step)
			out[x * (size_t)bands] = s[0];
	}
}

/* Rows in file order (bottom-up), each gathered from its channels into
 * Pillow's mode, 8-bit or (2-byte samples at -t u2) 16-bit, and converted
 * into T's row. RLE rows are expanded into a row kept from row to row, as
 * Pillow's is: a row a count of 0 ends early keeps the previous row's
 * samples past its end; rows after an image's early end are zero. */
static int sgi_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf rowbuf, rlebuf;
	size_t w = (size_t)info->w, h = (size_t)info->h, y, rowlen;
	int wide, src16, ended = 0;
	unsigned char *row, *rle = NULL;
	struct sgi s;

	if (sgi_header(d, len, &s, why, whylen) < 0)
		return -1;
	wide = s.bpc == 2 && t->depth16;
	src16 = wide;
	rowlen = w * (size_t)s.bands * (wide ? 2 : 1);
	if (!(row = buf_grow(&rowbuf, rowlen))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (s.rle) {
		if (!(rle = buf_grow(&rlebuf, w * (size_t)s.bands * 2))) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		memset(rle, 0, w * (size_t)s.bands * 2);
	}
	for (y = 0; y < h; y++) {
		unsigned char *dst = t->pix + (h - 1 - y) * dec_row_bytes(t, info->w);
		size_t step = (size_t)s.bands * (size_t)s.bpc;

		for (int c = 0; c < s.bands && !ended && s.rle; c++) {
			const unsigned char *tab = d + SGI_HEADER + 4 * (y + (size_t)c * h);
			uint64_t start = u32be(tab), n = u32be(tab + 4 * h * (size_t)s.bands);
			int r;

			if (start < SGI_HEADER) {
				snprintf(why, whylen, "corrupt SGI (row %zu of channel %d at offset "
					 "%llu, inside the header)", y, c, (unsigned long long)start);
				return -1;
			}
			r = sgi_rle_row(d + SGI_HEADER, len - SGI_HEADER, start - SGI_HEADER,
					(int32_t)(uint32_t)n, s.bpc, rle + (size_t)c * (size_t)s.bpc,
					step, s.w);
			if (r < 0) {
				snprintf(why, whylen, "corrupt SGI (RLE row %zu of channel %d, %llu "
					 "bytes at offset %llu, overruns its row or the file)", y,
					 c, (unsigned long long)n, (unsigned long long)start);
				return -1;
			}
			ended = r;
		}
		if (ended) {
			memset(row, 0, rowlen);
		} else {
			for (int c = 0; c < s.bands; c++) {
				const unsigned char *src;

				if (s.rle)
					src = rle + (size_t)c * (size_t)s.bpc;
				else
					src = d + SGI_HEADER + (((size_t)c * h + y) * w) * (size_t)s.bpc;
				sgi_samples(src, s.rle ? step : (size_t)s.bpc, wide, s.bands,
					    row + (size_t)c * (wide ? 2 : 1), w);
			}
		}
		dec_convert(row, s.bands, src16, dst, t, w);
	}
	return 0;
}

const struct decoder dec_sgi = { "SGI", sgi_sniff, sgi_probe, sgi_decode, 0 };
