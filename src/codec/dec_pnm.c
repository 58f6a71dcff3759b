/* dec_pnm.c - PBM, PGM and PPM, plain (P1-P3) and raw (P4-P6), maxval up to
 * 65535, read as Pillow 9.4's PpmImagePlugin reads them: its header tokens,
 * its rounding of samples scaled from 0..maxval, its refusals. */
#include "codec/decoder.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Pillow's header and plain-data whitespace (bytes.split()'s). */
static int pnm_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * A header token as Pillow's _read_token reads it: whitespace skipped
 * before it and one whitespace byte ending it, a comment ("#" to the end of
 * the line) dropped wherever it falls, even inside the token; at most 10
 * bytes. Pillow's int() also takes signs and underscores; only digits here.
 */
static int pnm_token(const unsigned char *d, size_t len, size_t *off, uint64_t *v,
		     char *why, size_t whylen)
{
	int n = 0;

	*v = 0;
	while (n <= 10 && *off < len) {
		unsigned char c = d[(*off)++];

		if (pnm_space(c)) {
			if (n)
				break;
		} else if (c == '#') {
			while (*off < len && d[*off] != '\r' && d[*off] != '\n')
				(*off)++;
			if (*off < len)
				(*off)++;
		} else if (c < '0' || c > '9') {
			snprintf(why, whylen, "corrupt PNM header (%s)",
				 c >= ' ' && c < 127 ? "a number expected" : "a byte not a digit");
			return -1;
		} else {
			*v = *v * 10 + (uint64_t)(c - '0');
			n++;
		}
	}
	if (n == 0) {
		snprintf(why, whylen, "truncated PNM header");
		return -1;
	}
	if (n > 10) {
		snprintf(why, whylen, "corrupt PNM header (a number of more than 10 digits)");
		return -1;
	}
	return 0;
}

/* A PNM header. */
struct pnm {
	int kind;		/* 1 to 6: P1 to P6 */
	uint64_t w, h, maxval;	/* maxval 1 for PBM */
	int channels;		/* 1 or 3 */
	size_t data;		/* offset of the first sample */
};

/* P1 to P6, and a whitespace after (Pillow's magic is read up to one). */
static int pnm_sniff(const unsigned char *d, size_t len)
{
	return len >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' &&
	       (len == 2 || pnm_space(d[2]));
}

/* Parse a PNM header and, raw formats, check that the samples are there. */
static int pnm_header(const unsigned char *d, size_t len, struct pnm *p, char *why, size_t whylen)
{
	size_t off = len > 2 ? 3 : 2;
	uint64_t need;

	p->kind = d[1] - '0';
	p->channels = p->kind == 3 || p->kind == 6 ? 3 : 1;
	p->maxval = 1;
	if (pnm_token(d, len, &off, &p->w, why, whylen) < 0 ||
	    pnm_token(d, len, &off, &p->h, why, whylen) < 0 ||
	    (p->kind != 1 && p->kind != 4 && pnm_token(d, len, &off, &p->maxval, why, whylen) < 0))
		return -1;
	if (p->maxval == 0 || p->maxval > 65535) {
		snprintf(why, whylen, "corrupt PNM header (maxval %llu, not 1 to 65535)",
			 (unsigned long long)p->maxval);
		return -1;
	}
	/* Sides of 31 bits, so that the byte counts below fit 64. */
	if (p->w > INT32_MAX || p->h > INT32_MAX || p->w * p->h > UINT64_MAX / 8) {
		snprintf(why, whylen, "image is %llux%llu, too large", (unsigned long long)p->w,
			 (unsigned long long)p->h);
		return -1;
	}
	p->data = off;
	/* Plain data is checked as it is read; a byte at least a sample. */
	if (p->kind <= 3)
		need = p->w * p->h * (uint64_t)p->channels;
	else if (p->kind == 4)
		need = (p->w + 7) / 8 * p->h;
	else
		need = p->w * p->h * (uint64_t)p->channels * (p->maxval > 255 ? 2 : 1);
	if (need > len - p->data) {
		snprintf(why, whylen, "truncated PNM (%s%llu bytes of pixels expected, %zu present)",
			 p->kind <= 3 ? "at least " : "", (unsigned long long)need, len - p->data);
		return -1;
	}
	return 0;
}

static int pnm_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	struct pnm p;

	if (pnm_header(d, len, &p, why, whylen) < 0)
		return -1;
	info->w = (int)p.w;
	info->h = (int)p.h;
	info->channels = p.channels;
	info->is16 = p.maxval > 255;
	return 0;
}

/*
 * Sample values as Pillow computes them, in a table by stored value:
 * round(v / maxval * top) in doubles, half to even (Python's round), top
 * 255, or 65535 where Pillow keeps 16 bits (a PGM of maxval above 255, mode
 * I); values above maxval (raw files only) give top. A 16-bit PPM, which
 * Pillow reduces to 8 bits, is kept at 16 by the same rule for -t u2; an
 * 8-bit file at -t u2 is its 8-bit values times 257, as in every format.
 */
static void pnm_table(uint16_t *lut, uint32_t maxval, int depth16)
{
	int wide = depth16 && maxval > 255;
	double top = wide ? 65535.0 : 255.0;

	for (uint32_t v = 0; v <= maxval; v++) {
		uint32_t x = (uint32_t)nearbyint((double)v / (double)maxval * top);

		lut[v] = (uint16_t)(depth16 && !wide ? x * 257 : x);
	}
}

/* Plain data as Pillow's PpmPlainDecoder reads it: whitespace-separated
 * numbers (P1: single digits, whitespace optional), comments dropped. */
struct plain {
	const unsigned char *d;
	size_t len, off;
};

/* The next token of at most 10 bytes into TOK; its length, 0 at the end,
 * or -1 when it is longer. P1's tokens are single bytes. */
static int plain_token(struct plain *s, int single, unsigned char *tok)
{
	int n = 0;

	while (s->off < s->len) {
		unsigned char c = s->d[s->off];

		if (c == '#') {
			while (s->off < s->len && s->d[s->off] != '\n' && s->d[s->off] != '\r')
				s->off++;
			if (s->off < s->len)
				s->off++;
			continue;
		}
		if (pnm_space(c)) {
			s->off++;
			if (n)
				break;
			continue;
		}
		if (n == 10)
			return -1;
		tok[n++] = c;
		s->off++;
		if (single)
			break;
	}
	return n;
}

static int pnm_plain_row(struct plain *s, const struct pnm *p, const uint16_t *lut, int depth16,
			 void *row, size_t count, char *why, size_t whylen)
{
	unsigned char tok[10];

	for (size_t k = 0; k < count; k++) {
		int n = plain_token(s, p->kind == 1, tok);
		uint64_t v = 0;

		if (n == 0) {
			snprintf(why, whylen, "truncated PNM (plain data ends early)");
			return -1;
		}
		if (n < 0) {
			snprintf(why, whylen, "corrupt PNM (a number of more than 10 digits)");
			return -1;
		}
		for (int i = 0; i < n; i++) {
			if (tok[i] < '0' || tok[i] > '9' || (p->kind == 1 && tok[i] > '1')) {
				snprintf(why, whylen, "corrupt PNM (\"%c\" in its plain data)",
					 tok[i] >= ' ' && tok[i] < 127 ? tok[i] : '?');
				return -1;
			}
			v = v * 10 + (uint64_t)(tok[i] - '0');
		}
		if (v > p->maxval) {
			snprintf(why, whylen, "corrupt PNM (sample %llu above maxval %llu)",
				 (unsigned long long)v, (unsigned long long)p->maxval);
			return -1;
		}
		if (p->kind == 1)	/* 1 is black */
			v = !v;
		if (depth16)
			((uint16_t *)row)[k] = lut[v];
		else
			((uint8_t *)row)[k] = (uint8_t)lut[v];
	}
	return 0;
}

/*
 * Pillow checks every byte of the 1 MiB block in which a P1 image's last
 * digit falls: anything there but digits 0 and 1, whitespace and comments
 * fails the file. Refused here too, so that the same files are refused.
 */
static int pbm_plain_rest(struct plain *s, size_t data, char *why, size_t whylen)
{
	size_t block = 1 << 20, end = data + ((s->off - data + block - 1) / block) * block;
	unsigned char tok[10];

	if (s->off == data)
		return 0;
	if (end > s->len)
		end = s->len;
	while (s->off < end) {
		struct plain t = { s->d, end, s->off };

		if (plain_token(&t, 1, tok) <= 0)
			break;
		if (tok[0] != '0' && tok[0] != '1') {
			snprintf(why, whylen, "corrupt PNM (\"%c\" in its plain data)",
				 tok[0] >= ' ' && tok[0] < 127 ? tok[0] : '?');
			return -1;
		}
		s->off = t.off;
	}
	return 0;
}

/* Samples scaled by pnm_table, a row at a time through a row buffer into
 * T; raw 8-bit files at their own depth go straight into T's row. */
static int pnm_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf rowbuf;
	static uint16_t lut[65536];
	size_t n = (size_t)info->w * (size_t)info->channels, k, y;
	const unsigned char *s;
	unsigned char *out = t->pix;
	struct plain pl;
	struct pnm p;
	void *row;
	int direct;

	if (pnm_header(d, len, &p, why, whylen) < 0)
		return -1;
	if (!(row = buf_grow(&rowbuf, n * 2))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (p.kind == 1 || p.kind == 4) {
		lut[0] = 0;
		lut[1] = t->depth16 ? 65535 : 255;
	} else {
		pnm_table(lut, (uint32_t)p.maxval, t->depth16);
	}
	pl = (struct plain){ d, len, p.data };
	s = d + p.data;
	direct = p.kind > 4 && p.maxval == 255 && !t->depth16 && t->channels == info->channels;
	for (y = 0; y < (size_t)info->h; y++) {
		if (p.kind <= 3) {
			if (pnm_plain_row(&pl, &p, lut, t->depth16, row, n, why, whylen) < 0)
				return -1;
		} else if (p.kind == 4) {	/* 0 is white */
			for (k = 0; k < n; k++) {
				unsigned v = !(s[k >> 3] >> (7 - (k & 7)) & 1);

				if (t->depth16)
					((uint16_t *)row)[k] = lut[v];
				else
					((uint8_t *)row)[k] = (uint8_t)lut[v];
			}
			s += (n + 7) / 8;
		} else if (direct) {
			memcpy(out, s, n);
			s += n;
		} else if (p.maxval > 255) {
			for (k = 0; k < n; k++) {
				uint32_t v = (uint32_t)s[2 * k] << 8 | s[2 * k + 1];
				uint16_t x = lut[v > p.maxval ? p.maxval : v];

				if (t->depth16)
					((uint16_t *)row)[k] = x;
				else
					((uint8_t *)row)[k] = (uint8_t)x;
			}
			s += 2 * n;
		} else {
			for (k = 0; k < n; k++) {
				uint16_t x = lut[s[k] > p.maxval ? p.maxval : s[k]];

				if (t->depth16)
					((uint16_t *)row)[k] = x;
				else
					((uint8_t *)row)[k] = (uint8_t)x;
			}
			s += n;
		}
		if (!direct)
			dec_convert(row, info->channels, t->depth16, out, t, (size_t)info->w);
		out += dec_row_bytes(t, info->w);
	}
	if (p.kind == 1)
		return pbm_plain_rest(&pl, p.data, why, whylen);
	return 0;
}

const struct decoder dec_pnm = { "PNM", pnm_sniff, pnm_probe, pnm_decode, 0 };
