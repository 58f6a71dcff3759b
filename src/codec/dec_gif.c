/* dec_gif.c - GIF, the first frame, as Pillow 9 loads it: the logical screen
 * (grown to the frame if the frame is larger), pixels outside the frame at
 * the transparent index or 0, the palette applied (an index past the
 * colour table is gray, Pillow's default palette), the transparent index
 * alone made transparent. stb_image differs on transparent pixels, so GIF
 * is read here, with an LZW decoder of its own. */
#include "codec/decoder.h"

#include <stdio.h>
#include <string.h>

/* What the blocks before the first image's data say. */
struct gif {
	int w, h;			/* the image: screen and frame together */
	int fx, fy, fw, fh;		/* the frame */
	int interlace;
	int trns;			/* transparent index, or -1 */
	int has_pal;			/* a colour table that is not a gray ramp */
	unsigned char pal[256][4];	/* RGBA */
	int mcs;			/* LZW minimum code size */
	size_t data;			/* offset of the first data sub-block */
	size_t end;			/* offset just past the first image */
};

static int gif_sniff(const unsigned char *d, size_t len)
{
	return len >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0);
}

/* A colour table of N entries at D: Pillow keeps it only when it is not
 * the ramp 0, 1, 2, ... (it then reads the file as gray, the same values). */
static void colour_table(struct gif *g, const unsigned char *d, int n)
{
	int k;

	g->has_pal = 0;
	for (k = 0; k < n; k++) {
		memcpy(g->pal[k], d + 3 * k, 3);
		if (d[3 * k] != k || d[3 * k + 1] != k || d[3 * k + 2] != k)
			g->has_pal = 1;
	}
}

/* Skip the sub-blocks at *OFF up to their terminator. -1 if the file ends
 * first. */
static int skip_blocks(const unsigned char *d, size_t len, size_t *off)
{
	while (*off < len && d[*off])
		*off += 1 + (size_t)d[*off];
	if (*off >= len)
		return -1;
	(*off)++;
	return 0;
}

/* Walk the header and blocks to the first image and check that its data
 * sub-blocks are all in the file. */
static int gif_parse(const unsigned char *d, size_t len, struct gif *g, char *why, size_t whylen)
{
	size_t off = 13, gct;
	int k;

	memset(g, 0, sizeof(*g));
	g->trns = -1;
	for (k = 0; k < 256; k++) {
		g->pal[k][0] = g->pal[k][1] = g->pal[k][2] = (unsigned char)k;
		g->pal[k][3] = 255;
	}
	if (len < 13)
		goto truncated;
	g->w = d[6] | d[7] << 8;
	g->h = d[8] | d[9] << 8;
	gct = d[10] & 0x80 ? (size_t)3 << ((d[10] & 7) + 1) : 0;
	if (len - off < gct)
		goto truncated;
	if (gct)
		colour_table(g, d + off, (int)gct / 3);
	off += gct;
	for (;;) {
		if (off >= len)
			goto truncated;
		if (d[off] == ';') {
			snprintf(why, whylen, "corrupt GIF (no image in it)");
			return -1;
		}
		if (d[off] == '!') {
			if (len - off < 2)
				goto truncated;
			/* A graphic control extension names the transparent index. */
			if (d[off + 1] == 0xf9 && len - off >= 7 && d[off + 2] >= 4 && (d[off + 3] & 1))
				g->trns = d[off + 6];
			off += 2;
			if (skip_blocks(d, len, &off) < 0)
				goto truncated;
			continue;
		}
		if (d[off] == ',')
			break;
		off++;			/* Pillow skips a stray byte */
	}
	if (len - off < 11)
		goto truncated;
	g->fx = d[off + 1] | d[off + 2] << 8;
	g->fy = d[off + 3] | d[off + 4] << 8;
	g->fw = d[off + 5] | d[off + 6] << 8;
	g->fh = d[off + 7] | d[off + 8] << 8;
	g->interlace = (d[off + 9] & 0x40) != 0;
	if (d[off + 9] & 0x80) {
		size_t lct = (size_t)3 << ((d[off + 9] & 7) + 1);

		if (len - off - 11 < lct)
			goto truncated;
		colour_table(g, d + off + 10, (int)lct / 3);
		off += lct;
	}
	g->mcs = d[off + 10];
	g->data = off + 11;
	off = g->data;
	if (skip_blocks(d, len, &off) < 0)
		goto truncated;
	g->end = off;
	/* Pillow takes code sizes 0 to 12, its LZW's limit, and so does lzw();
	 * a literal past 255 is the index of its low byte, as Pillow stores it.
	 * Above 12 Pillow refuses the file ("codec configuration error"). */
	if (g->mcs > 12) {
		snprintf(why, whylen, "corrupt GIF (LZW code size %d)", g->mcs);
		return -1;
	}
	g->w = g->fx + g->fw > g->w ? g->fx + g->fw : g->w;
	g->h = g->fy + g->fh > g->h ? g->fy + g->fh : g->h;
	return 0;
truncated:
	snprintf(why, whylen, "truncated GIF (the file ends before its first image does)");
	return -1;
}

/* Whether another image follows the first (which ends at OFF), past any
 * extension blocks: the file is an animation, of which load reads the
 * first frame. A file that ends or holds junk there has no second one. */
static int second_image(const unsigned char *d, size_t len, size_t off)
{
	while (off < len && d[off] == '!') {
		off += 2;
		if (off > len || skip_blocks(d, len, &off) < 0)
			return 0;
	}
	return off < len && d[off] == ',';
}

static int gif_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	struct gif g;

	if (gif_parse(d, len, &g, why, whylen) < 0)
		return -1;
	info->w = g.w;
	info->h = g.h;
	info->channels = (g.has_pal ? 3 : 1) + (g.trns >= 0);
	info->palette = g.has_pal;	/* a gray ramp is read as gray */
	info->animated = second_image(d, len, g.end);
	return 0;
}

/* Bits from the data sub-blocks, least significant first. */
struct bits {
	const unsigned char *d;
	size_t off, left;		/* next byte; bytes left in its block */
	uint32_t acc;
	int n;				/* bits in acc */
};

/* The next SIZE-bit code, or -1 at the blocks' terminator. */
static int next_code(struct bits *b, int size)
{
	while (b->n < size) {
		if (b->left == 0) {
			b->left = b->d[b->off++];
			if (b->left == 0) {
				b->off--;	/* stay on the terminator */
				return -1;
			}
		}
		b->acc |= (uint32_t)b->d[b->off++] << b->n;
		b->left--;
		b->n += 8;
	}
	{
		int code = (int)(b->acc & ((1u << size) - 1));

		b->acc >>= size;
		b->n -= size;
		return code;
	}
}

/* The LZW string table: a code's string is its prefix code's string and
 * then its suffix; first is the string's first byte. 4096 codes at most
 * (12 bits), the stack one string. Kept on the caller's stack, so nothing
 * carries from one file to the next. */
struct lzw_table {
	uint16_t prefix[4096];
	unsigned char suffix[4096], first[4096];
	unsigned char stack[4097];
};

/* The frame's indices, in the order they are stored, into OUT (N of them).
 * -1 for a code the table does not have (Pillow's "broken data stream"), 1
 * when the data or an end code comes first (Pillow's "image file is
 * truncated": it stops at the end code and finds the image unfinished).
 *
 * Pillow's rules, for the files it reads: the table holds 4096 codes and
 * stops growing when full (no error); a code above the next free one is
 * refused, and so is the code equal to it (KwKwK) when the previous code
 * is not in the table, which happens only at code size 12 (clear 4096,
 * first free code 4098: the table never grows) after that same code. Every
 * index is checked below against the table, and the string loop against
 * the stack, so no file can reach past either. */
static int lzw(const unsigned char *d, const struct gif *g, unsigned char *out, size_t n)
{
	struct lzw_table t;
	int clear = 1 << g->mcs, size = g->mcs + 1, next = clear + 2, prev = -1, code;
	struct bits b = { d, g->data, 0, 0, 0 };
	size_t at = 0;

	for (code = 0; code < clear; code++)
		t.suffix[code] = t.first[code] = (unsigned char)code;
	while (at < n) {
		int c, sp = 0;

		if ((code = next_code(&b, size)) < 0)
			return 1;
		if (code == clear) {
			size = g->mcs + 1;
			next = clear + 2;
			prev = -1;
			continue;
		}
		if (code == clear + 1)
			return 1;
		if (code > next || (code == next && prev < 0) || (prev < 0 && code > clear))
			return -1;
		/* The code's string, backwards; the code not yet in the table
		 * (KwKwK) is the previous string and its first byte. */
		c = code;
		if (code == next) {
			if (prev >= 4096)
				return -1;
			t.stack[sp++] = t.first[prev];
			c = prev;
		}
		for (; c >= clear; c = t.prefix[c]) {
			if (c >= 4096 || sp >= (int)sizeof(t.stack) - 1)
				return -1;
			t.stack[sp++] = t.suffix[c];
		}
		t.stack[sp++] = (unsigned char)c;
		if (prev >= 0 && next < 4096) {
			t.prefix[next] = (uint16_t)prev;
			t.suffix[next] = (unsigned char)c;
			t.first[next] = t.first[prev];
			if (++next == 1 << size && size < 12)
				size++;
		}
		prev = code;
		while (sp > 0 && at < n)
			out[at++] = t.stack[--sp];
	}
	return 0;
}

/* Rows of an interlaced frame come in four passes: their order. */
static int frame_row(const struct gif *g, int k)
{
	static const int start[4] = { 0, 4, 2, 1 }, step[4] = { 8, 8, 4, 2 };
	int p;

	if (!g->interlace)
		return k;
	for (p = 0; p < 4; p++) {
		int rows = g->fh > start[p] ? (g->fh - start[p] + step[p] - 1) / step[p] : 0;

		if (k < rows)
			return start[p] + k * step[p];
		k -= rows;
	}
	return 0;
}

static int gif_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf idxbuf, rowbuf, mapbuf;
	size_t n, stride = dec_row_bytes(t, info->w);
	unsigned char *idx, *row, bg;
	struct gif g;
	int x, y, k, *stored;

	if (gif_parse(d, len, &g, why, whylen) < 0)
		return -1;
	n = (size_t)g.fw * (size_t)g.fh;
	if (!(idx = buf_grow(&idxbuf, n + 1)) ||
	    !(row = buf_grow(&rowbuf, (size_t)info->w * 4)) ||
	    !(stored = buf_grow(&mapbuf, ((size_t)g.fh + 1) * sizeof(int)))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	bg = (unsigned char)(g.trns >= 0 ? g.trns : 0);
	memset(idx, bg, n);
	if ((k = lzw(d, &g, idx, n)) != 0) {
		snprintf(why, whylen, k < 0 ? "corrupt GIF (bad LZW code)" :
			 "truncated GIF (its image data ends before the image does)");
		return -1;
	}
	if (g.trns >= 0)
		g.pal[g.trns][3] = 0;
	/* Frame row r is stored as row stored[r] of the data. */
	for (k = 0; k < g.fh; k++)
		stored[frame_row(&g, k)] = k;
	for (y = 0; y < info->h; y++) {
		for (x = 0; x < info->w; x++)
			memcpy(row + 4 * x, g.pal[bg], 4);
		if (y >= g.fy && y < g.fy + g.fh) {
			const unsigned char *f = idx + (size_t)stored[y - g.fy] * (size_t)g.fw;

			for (x = 0; x < g.fw; x++)
				memcpy(row + 4 * (g.fx + x), g.pal[f[x]], 4);
		}
		dec_convert(row, 4, 0, t->pix + (size_t)y * stride, t, (size_t)info->w);
	}
	return 0;
}

const struct decoder dec_gif = { "GIF", gif_sniff, gif_probe, gif_decode, 0 };
