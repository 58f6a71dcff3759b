/* dec_pnm.c - binary PNM (P5 gray, P6 RGB), read here rather than by
 * stb_image 2.27, which copies the samples raw: 16-bit ones come out
 * byte-swapped, a maxval other than 255 or 65535 is not scaled, and short
 * files are read past their end. */
#include "decoder.h"

#include <stdio.h>
#include <string.h>

/* A PNM header number of at most 9 digits, after whitespace and comments. */
static int pnm_number(const unsigned char *d, size_t len, size_t *off, uint64_t *v)
{
	int digits = 0;

	for (;;) {
		while (*off < len && strchr(" \t\r\n\v\f", d[*off]))
			(*off)++;
		if (*off < len && d[*off] == '#') {
			while (*off < len && d[*off] != '\n' && d[*off] != '\r')
				(*off)++;
			continue;
		}
		break;
	}
	for (*v = 0; *off < len && d[*off] >= '0' && d[*off] <= '9'; digits++)
		*v = *v * 10 + (uint64_t)(d[(*off)++] - '0');
	return digits > 0 && digits <= 9 ? 0 : -1;
}

/* A binary PNM header. */
struct pnm {
	uint64_t w, h, maxval;
	int channels;
	size_t data;		/* offset of the first sample */
};

static int pnm_sniff(const unsigned char *d, size_t len)
{
	return len >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6');
}

/* Parse a PNM header and check that the samples it promises are there. */
static int pnm_header(const unsigned char *d, size_t len, struct pnm *p, char *why, size_t whylen)
{
	size_t off = 2;
	uint64_t need;

	p->channels = d[1] == '6' ? 3 : 1;
	if (pnm_number(d, len, &off, &p->w) < 0 || pnm_number(d, len, &off, &p->h) < 0 ||
	    pnm_number(d, len, &off, &p->maxval) < 0 || off >= len ||
	    !strchr(" \t\r\n\v\f", d[off]) || p->maxval == 0 || p->maxval > 65535) {
		snprintf(why, whylen, "corrupt PNM header");
		return -1;
	}
	p->data = off + 1;	/* one whitespace ends the header */
	need = p->w * p->h * (uint64_t)p->channels * (p->maxval > 255 ? 2 : 1);
	if (need > len - p->data) {
		snprintf(why, whylen, "truncated PNM (%llu bytes of pixels expected, %zu present)",
			 (unsigned long long)need, len - p->data);
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
	if (p.w > INT32_MAX || p.h > INT32_MAX) {
		snprintf(why, whylen, "image is %llux%llu, too large", (unsigned long long)p.w,
			 (unsigned long long)p.h);
		return -1;
	}
	info->w = (int)p.w;
	info->h = (int)p.h;
	info->channels = p.channels;
	info->is16 = p.maxval > 255;
	return 0;
}

/* Samples scaled from 0..maxval to 0..255 or, 16-bit, 0..65535, rounding to
 * nearest, a row at a time through a row buffer into T. */
static int pnm_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf rowbuf;
	uint32_t top = t->depth16 ? 65535 : 255;
	size_t n = (size_t)info->w * (size_t)info->channels, k, y;
	size_t wide = info->is16 ? 2 : 1;
	const unsigned char *s;
	unsigned char *out = t->pix;
	void *row;
	struct pnm p;

	if (pnm_header(d, len, &p, why, whylen) < 0)
		return -1;
	if (!(row = buf_grow(&rowbuf, n * 2))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	s = d + p.data;
	for (y = 0; y < (size_t)info->h; y++, s += n * wide) {
		for (k = 0; k < n; k++) {
			uint32_t v = wide == 2 ? (uint32_t)s[2 * k] << 8 | s[2 * k + 1] : s[k];
			uint32_t x = (uint32_t)(((uint64_t)(v > p.maxval ? p.maxval : v) * top +
						 p.maxval / 2) / p.maxval);

			if (t->depth16)
				((uint16_t *)row)[k] = (uint16_t)x;
			else
				((uint8_t *)row)[k] = (uint8_t)x;
		}
		dec_convert(row, info->channels, t->depth16, out, t, (size_t)info->w);
		out += dec_row_bytes(t, info->w);
	}
	return 0;
}

const struct decoder dec_pnm = { "PNM", pnm_sniff, pnm_probe, pnm_decode, 0 };
