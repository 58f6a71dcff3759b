/* dec_png.c - PNG: chunk CRCs checked, the image data inflated in one call by
 * libdeflate into a buffer kept from image to image, then unfiltered a row at
 * a time straight into the caller's buffer (through a row of conversion
 * where the layouts differ). Every colour type, bit depth, palette, tRNS and
 * Adam7 interlacing, with stb_image's and Pillow's sample values. */
#include "codec/decoder.h"
#include "codec/exif.h"

#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char png_sig[8] = { 137, 80, 78, 71, 13, 10, 26, 10 };

/* What the chunks say. */
struct png {
	uint32_t w, h;
	int depth, ctype, interlace;
	int samples;			/* per pixel as stored: 1-4 */
	int n;				/* per pixel once expanded (palette, tRNS) */
	unsigned char pal[256][4];	/* RGBA; entries past PLTE's are opaque black */
	int npal;
	int has_trns;
	uint16_t key[4];		/* gray or RGB tRNS key, in the stored depth */
	const unsigned char *idat;	/* the first IDAT's data */
	size_t idat_len, zlen;		/* its length; all IDATs' together */
	int nidat;
	uint32_t frames;		/* APNG's acTL: frames of the animation */
	/* Where Pillow's getexif() looks, the last chunk of each kind: */
	struct text { const unsigned char *p; size_t len; int z; }
		exif,			/* eXIf, or tEXt "exif" */
		profile,		/* "Raw profile type exif" text */
		xmp;			/* "XML:com.adobe.xmp" text */
	int exif_frozen;		/* EXIF before IDAT: Pillow reads no further */
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int png_sniff(const unsigned char *d, size_t len)
{
	return len >= 8 && memcmp(d, png_sig, 8) == 0;
}

/*
 * Note a chunk Pillow may take EXIF or XMP from (KIND, its N bytes at B):
 * eXIf; tEXt, zTXt or iTXt (compressed by zlib or not) of the keywords
 * Pillow looks for. Pillow turns zTXt and iTXt "exif" into text, which its
 * EXIF reader then fails on, so they are left out.
 */
static void exif_chunk(struct png *p, const unsigned char *kind, const unsigned char *b, uint32_t n)
{
	static const char prof[] = "Raw profile type exif", xmp[] = "XML:com.adobe.xmp";
	const unsigned char *nul = memchr(b, 0, n), *v;
	size_t klen, left;
	struct text t = { NULL, 0, 0 };

	if (memcmp(kind, "eXIf", 4) == 0) {
		p->exif = (struct text){ b, n, 0 };
		return;
	}
	if (!nul)
		return;
	klen = (size_t)(nul - b);
	v = nul + 1;
	left = n - klen - 1;
	if (kind[0] == 'z') {
		if (left < 1 || v[0] != 0)
			return;
		t = (struct text){ v + 1, left - 1, 1 };
	} else if (kind[0] == 'i') {
		const unsigned char *lang, *tkey;

		if (left < 2 || (v[0] && v[1]) || !(lang = memchr(v + 2, 0, left - 2)) ||
		    !(tkey = memchr(lang + 1, 0, (size_t)(b + n - lang - 1))))
			return;
		t = (struct text){ tkey + 1, (size_t)(b + n - tkey - 1), v[0] };
	} else {
		t = (struct text){ v, left, 0 };
	}
	if (klen == 4 && memcmp(b, "exif", 4) == 0 && kind[0] == 't')
		p->exif = t;
	else if (klen == sizeof(prof) - 1 && memcmp(b, prof, klen) == 0)
		p->profile = t;
	else if (klen == sizeof(xmp) - 1 && memcmp(b, xmp, klen) == 0)
		p->xmp = t;
}

/* T's text, inflated into a buffer of Pillow's text limit (1 MiB) if it is
 * compressed; NULL when it does not inflate within it. */
static const unsigned char *text_of(const struct text *t, size_t *len)
{
	static struct libdeflate_decompressor *dec;
	static unsigned char *out;
	const size_t max = 1 << 20;

	if (!t->z) {
		*len = t->len;
		return t->p;
	}
	if ((!dec && !(dec = libdeflate_alloc_decompressor())) || (!out && !(out = malloc(max))))
		return NULL;
	if (libdeflate_zlib_decompress(dec, t->p, t->len, out, max, len) != LIBDEFLATE_SUCCESS)
		return NULL;
	return out;
}

/* The orientation Pillow's getexif() finds: the EXIF block, else the raw
 * profile's; XMP's when neither has the tag. */
static int png_orientation(const struct png *p)
{
	const unsigned char *s;
	size_t n;
	int o = 0;

	if (p->exif.p)
		o = exif_orientation(p->exif.p, p->exif.len);
	else if (p->profile.p && (s = text_of(&p->profile, &n)))
		o = exif_raw_profile(s, n);
	if (o == 0 && p->xmp.p && (s = text_of(&p->xmp, &n)))
		o = exif_xmp(s, n);
	return o > 0 ? o : 0;
}

/*
 * Walk the chunks up to IEND, checking each CRC-32 as libpng and Pillow do
 * when CRC (a chunk running past the end of the file is truncation), and
 * keep what decoding needs: IHDR's fields, PLTE, tRNS, where the IDATs are.
 */
static int png_chunks(const unsigned char *d, size_t len, int crc, struct png *p, char *why,
		      size_t whylen)
{
	size_t off = 8;

	memset(p, 0, sizeof(*p));
	for (;;) {
		const unsigned char *body;
		uint32_t n;

		if (len - off < 12) {
			snprintf(why, whylen, "truncated PNG (no IEND chunk)");
			return -1;
		}
		n = be32(d + off);
		if (n > 0x7fffffffu || n > len - off - 12) {
			snprintf(why, whylen, "truncated PNG (chunk at byte %zu runs past the end)", off);
			return -1;
		}
		if (crc && (uint32_t)libdeflate_crc32(0, d + off + 4, (size_t)n + 4) !=
			   be32(d + off + 8 + n)) {
			snprintf(why, whylen, "corrupt PNG (bad CRC in %.4s chunk)",
				 (const char *)d + off + 4);
			return -1;
		}
		body = d + off + 8;
		if (off == 8 && (memcmp(d + off + 4, "IHDR", 4) != 0 || n != 13)) {
			snprintf(why, whylen, "corrupt PNG (no IHDR chunk first)");
			return -1;
		}
		if (memcmp(d + off + 4, "IHDR", 4) == 0 && off == 8) {
			p->w = be32(body);
			p->h = be32(body + 4);
			p->depth = body[8];
			p->ctype = body[9];
			p->interlace = body[12];
			if (body[10] != 0 || body[11] != 0 || body[12] > 1) {
				snprintf(why, whylen, "corrupt PNG (unknown compression, filter "
					 "or interlace method)");
				return -1;
			}
		} else if (memcmp(d + off + 4, "PLTE", 4) == 0) {
			uint32_t k;

			if (n % 3 != 0 || n > 768) {
				snprintf(why, whylen, "corrupt PNG (PLTE of %u bytes)", n);
				return -1;
			}
			p->npal = (int)(n / 3);
			for (k = 0; k < n / 3; k++) {
				memcpy(p->pal[k], body + 3 * k, 3);
				p->pal[k][3] = 255;
			}
		} else if (memcmp(d + off + 4, "tRNS", 4) == 0) {
			uint32_t k;

			/* Malformed ones are ignored, as Pillow ignores them. */
			if (p->ctype == 3) {
				for (k = 0; k < n && k < 256; k++)
					p->pal[k][3] = body[k];
				p->has_trns = 1;
			} else if ((p->ctype == 0 && n == 2) || (p->ctype == 2 && n == 6)) {
				for (k = 0; k < n / 2; k++)
					p->key[k] = (uint16_t)(body[2 * k] << 8 | body[2 * k + 1]);
				p->has_trns = 1;
			}
		} else if (!p->exif_frozen && (memcmp(d + off + 4, "eXIf", 4) == 0 ||
					       memcmp(d + off + 4, "tEXt", 4) == 0 ||
					       memcmp(d + off + 4, "zTXt", 4) == 0 ||
					       memcmp(d + off + 4, "iTXt", 4) == 0)) {
			exif_chunk(p, d + off + 4, body, n);
		} else if (memcmp(d + off + 4, "IDAT", 4) == 0) {
			p->exif_frozen |= p->exif.p != NULL;
			if (p->nidat++ == 0) {
				p->idat = body;
				p->idat_len = n;
			}
			p->zlen += n;
		} else if (memcmp(d + off + 4, "acTL", 4) == 0 && n >= 8) {
			p->frames = be32(body);
		} else if (memcmp(d + off + 4, "IEND", 4) == 0) {
			return 0;
		}
		off += (size_t)n + 12;
	}
}

/* IHDR's values are ones PNG allows, and the image data is there. */
static int png_check(const struct png *p, char *why, size_t whylen)
{
	int d = p->depth, ok;

	switch (p->ctype) {
	case 0:
		ok = d == 1 || d == 2 || d == 4 || d == 8 || d == 16;
		break;
	case 3:
		ok = d == 1 || d == 2 || d == 4 || d == 8;
		break;
	case 2:
	case 4:
	case 6:
		ok = d == 8 || d == 16;
		break;
	default:
		snprintf(why, whylen, "corrupt PNG (colour type %d)", p->ctype);
		return -1;
	}
	if (!ok) {
		snprintf(why, whylen, "corrupt PNG (bit depth %d for colour type %d)", d, p->ctype);
		return -1;
	}
	if (p->w == 0 || p->h == 0 || p->w > 0x7fffffffu || p->h > 0x7fffffffu) {
		snprintf(why, whylen, "corrupt PNG (image of %ux%u pixels)", p->w, p->h);
		return -1;
	}
	if (p->ctype == 3 && p->npal == 0) {
		snprintf(why, whylen, "corrupt PNG (palette image without PLTE)");
		return -1;
	}
	if (p->nidat == 0) {
		snprintf(why, whylen, "corrupt PNG (no IDAT chunk)");
		return -1;
	}
	return 0;
}

static int png_parse(const unsigned char *d, size_t len, int crc, struct png *p, char *why,
		     size_t whylen)
{
	static const int samples[7] = { 1, 0, 3, 1, 2, 0, 4 };

	if (png_chunks(d, len, crc, p, why, whylen) < 0 || png_check(p, why, whylen) < 0)
		return -1;
	p->samples = samples[p->ctype];
	p->n = p->ctype == 3 ? (p->has_trns ? 4 : 3) : p->samples + (p->has_trns ? 1 : 0);
	return 0;
}

static int png_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	struct png p;

	if (png_parse(d, len, 1, &p, why, whylen) < 0)
		return -1;
	info->w = (int)p.w;
	info->h = (int)p.h;
	/* A tRNS key adds alpha to what is stored, but gray and RGB count as
	 * stored (stb_image's count, which load's default has always been). */
	info->channels = p.ctype == 3 ? p.n : p.samples;
	info->is16 = p.depth == 16;
	info->palette = p.ctype == 3;
	info->animated = p.frames > 1;	/* load reads the default image */
	info->orientation = png_orientation(&p);
	return 0;
}

/* Bytes of one filtered row of W pixels (filter byte not counted). */
static size_t row_len(const struct png *p, size_t w)
{
	return (w * (size_t)(p->samples * p->depth) + 7) / 8;
}

/* Paeth's predictor, without branches: a, b, c in that order on ties. */
static inline unsigned paeth(unsigned a, unsigned b, unsigned c)
{
	int pa = abs((int)b - (int)c), pb = abs((int)a - (int)c);
	int pc = abs((int)a + (int)b - 2 * (int)c);
	unsigned p = pb < pa ? b : a;

	return pc < (pb < pa ? pb : pa) ? c : p;
}


/*
 * Undo filter F on the N bytes at SRC into DST (the same place or not),
 * PREV being the row above, unfiltered (zeros for the first), BPP bytes a
 * pixel (at least 1). -1 for an unknown filter.
 */
static int unfilter(unsigned char *dst, const unsigned char *src, const unsigned char *prev,
		    size_t n, size_t bpp, int f)
{
	size_t i;

	if (bpp > n)
		bpp = n;
	switch (f) {
	case 0:
		if (dst != src)
			memcpy(dst, src, n);
		return 0;
	case 1:
		for (i = 0; i < bpp; i++)
			dst[i] = src[i];
		for (; i < n; i++)
			dst[i] = (unsigned char)(src[i] + dst[i - bpp]);
		return 0;
	case 2:
		for (i = 0; i < n; i++)
			dst[i] = (unsigned char)(src[i] + prev[i]);
		return 0;
	case 3:
		for (i = 0; i < bpp; i++)
			dst[i] = (unsigned char)(src[i] + (prev[i] >> 1));
		for (; i < n; i++)
			dst[i] = (unsigned char)(src[i] + ((dst[i - bpp] + prev[i]) >> 1));
		return 0;
	case 4:
		for (i = 0; i < bpp; i++)
			dst[i] = (unsigned char)(src[i] + prev[i]);
		for (; i < n; i++)
			dst[i] = (unsigned char)(src[i] + paeth(dst[i - bpp], prev[i], prev[i - bpp]));
		return 0;
	}
	return -1;
}

/*
 * One unfiltered row of W pixels at RAW, expanded to P->n samples a pixel at
 * OUT: 16-bit ones to native uint16_t, sub-byte gray scaled to 8 bits,
 * palette indices looked up, a tRNS key made alpha (compared on the stored
 * samples, as stb_image does).
 */
static void expand(const struct png *p, const unsigned char *raw, void *out, size_t w)
{
	static const unsigned scale[9] = { 0, 255, 85, 0, 17, 0, 0, 0, 1 };
	size_t x;
	int k;

	if (p->depth == 16) {
		uint16_t *o = out;

		for (x = 0; x < w; x++, raw += 2 * p->samples) {
			int keyed = p->has_trns;

			for (k = 0; k < p->samples; k++) {
				uint16_t v = (uint16_t)(raw[2 * k] << 8 | raw[2 * k + 1]);

				keyed &= v == p->key[k];
				*o++ = v;
			}
			if (p->has_trns)
				*o++ = keyed ? 0 : 65535;
		}
	} else if (p->depth == 8 && p->ctype != 3) {
		unsigned char *o = out;

		/* Pillow keys 8-bit gray by the low byte of a key past 255. */
		unsigned gkey = p->samples == 1 ? p->key[0] & 0xffu : 0x10000;

		for (x = 0; x < w; x++, raw += p->samples) {
			int keyed = 1;

			for (k = 0; k < p->samples; k++) {
				keyed &= raw[k] == (p->samples == 1 ? gkey : p->key[k]);
				*o++ = raw[k];
			}
			*o++ = keyed ? 0 : 255;
		}
	} else {
		unsigned char *o = out;
		int d = p->depth, shift = 8 - d;
		unsigned mask = (1u << d) - 1;
		/* A key past the bit depth's range matches no stored sample;
		 * Pillow compares its low byte with the sample scaled to 8
		 * bits, and so does this (a 1-bit image's key 255 keys its
		 * white). */
		int scaled = p->key[0] > mask;
		unsigned key = scaled ? p->key[0] & 0xffu : p->key[0];

		for (x = 0; x < w; x++) {
			unsigned v = d == 8 ? raw[x] : (raw[x * (size_t)d / 8] >> (shift - (int)(x * (size_t)d % 8))) & mask;

			if (p->ctype == 3) {
				memcpy(o, p->pal[v], (size_t)p->n);
				o += p->n;
			} else {
				*o++ = (unsigned char)(v * scale[d]);
				if (p->has_trns)
					*o++ = (scaled ? v * scale[d] : v) == key ? 0 : 255;
			}
		}
	}
}

/* codec_decode_indices: one unfiltered row of W palette indices (or a
 * 1-bit gray image's 0 and 1, Pillow's mode 1) at RAW, a byte each at OUT.
 * An index past PLTE's entries is kept, as Pillow keeps it. */
static void indices(const struct png *p, const unsigned char *raw, unsigned char *out, size_t w)
{
	int d = p->depth, shift = 8 - d;
	unsigned mask = (1u << d) - 1;
	size_t x;

	if (d == 8) {
		memcpy(out, raw, w);
		return;
	}
	for (x = 0; x < w; x++)
		out[x] = (unsigned char)((raw[x * (size_t)d / 8] >> (shift - (int)(x * (size_t)d % 8))) & mask);
}

/* The buffers kept from image to image: the inflated image data, the IDATs
 * joined when there are several, a row expanded, a row of zeros, a row
 * converted (interlaced images). */
static struct buf rawbuf, zbuf, rowbuf, zerobuf, pixbuf;

/* Whether RAW rows (8-bit, nothing to expand) are already T's layout. */
static int is_direct(const struct png *p, const struct dec_target *t)
{
	return p->depth == 8 && p->ctype != 3 && !p->has_trns && p->samples == t->channels &&
	       !t->depth16;
}

/* A row unfiltered in place (or into DST when direct) and converted into
 * DST. PREV is the row above, unfiltered. */
static int png_row(const struct png *p, const struct dec_target *t, unsigned char *raw,
		   const unsigned char *prev, unsigned char *dst, size_t w, int direct)
{
	size_t n = row_len(p, w), bpp = (size_t)(p->samples * p->depth + 7) / 8;
	const void *src = raw + 1;

	if (unfilter(direct ? dst : raw + 1, raw + 1, prev, n, bpp, raw[0]) < 0)
		return -1;
	if (direct)
		return 0;
	if (t->indices && (p->ctype == 3 || (p->ctype == 0 && p->depth == 1))) {
		indices(p, raw + 1, dst, w);
		return 0;
	}
	if (p->depth == 16 || p->depth < 8 || p->ctype == 3 || p->has_trns) {
		expand(p, raw + 1, rowbuf.p, w);
		src = rowbuf.p;
	}
	dec_convert(src, p->n, p->depth == 16, dst, t, w);
	return 0;
}

/* Adam7: where each pass starts and its steps. */
static const int a7_x0[7] = { 0, 4, 0, 2, 0, 1, 0 }, a7_y0[7] = { 0, 0, 4, 0, 2, 0, 1 };
static const int a7_dx[7] = { 8, 8, 4, 4, 2, 2, 1 }, a7_dy[7] = { 8, 8, 8, 4, 4, 2, 2 };

static size_t pass_dim(uint32_t full, int start, int step)
{
	return full > (uint32_t)start ? (full - (uint32_t)start + (uint32_t)step - 1) / (uint32_t)step : 0;
}

/* Bytes of inflated image data the header implies. */
static size_t raw_size(const struct png *p)
{
	size_t total = 0;
	int k;

	if (!p->interlace)
		return (size_t)p->h * (row_len(p, p->w) + 1);
	for (k = 0; k < 7; k++) {
		size_t pw = pass_dim(p->w, a7_x0[k], a7_dx[k]), ph = pass_dim(p->h, a7_y0[k], a7_dy[k]);

		if (pw && ph)
			total += ph * (row_len(p, pw) + 1);
	}
	return total;
}

/* The image data inflated into rawbuf; NULL with WHY on failure. */
static unsigned char *inflate_all(const unsigned char *d, size_t len, const struct png *p,
				  size_t size, char *why, size_t whylen)
{
	static struct libdeflate_decompressor *dec;
	const unsigned char *z = p->idat;
	enum libdeflate_result r;
	size_t got;

	if (!dec && !(dec = libdeflate_alloc_decompressor()))
		goto oom;
	if (!buf_grow(&rawbuf, size))
		goto oom;
	if (p->nidat > 1) {
		/* Join the IDATs: libdeflate takes the stream in one piece. */
		size_t off = (size_t)(p->idat - d) - 8, at = 0;
		unsigned char *j = buf_grow(&zbuf, p->zlen);

		if (!j)
			goto oom;
		while (at < p->zlen) {
			uint32_t n = be32(d + off);

			if (memcmp(d + off + 4, "IDAT", 4) == 0) {
				memcpy(j + at, d + off + 8, n);
				at += n;
			}
			off += (size_t)n + 12;
		}
		z = j;
	}
	(void)len;
	r = libdeflate_zlib_decompress(dec, z, p->zlen, rawbuf.p, size, &got);
	if (r == LIBDEFLATE_SUCCESS && got == size)
		return rawbuf.p;
	if (r == LIBDEFLATE_SUCCESS || r == LIBDEFLATE_SHORT_OUTPUT)
		snprintf(why, whylen, "truncated PNG (image data ends early)");
	else if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
		snprintf(why, whylen, "corrupt PNG (more image data than its %ux%u pixels)", p->w, p->h);
	else
		snprintf(why, whylen, "corrupt PNG (bad zlib data in IDAT)");
	return NULL;
oom:
	snprintf(why, whylen, "out of memory");
	return NULL;
}

/* Non-interlaced: each row straight into its place in T. */
static int png_plain(const struct png *p, const struct dec_target *t, unsigned char *raw)
{
	size_t stride = dec_row_bytes(t, (int)p->w), n = row_len(p, p->w), y;
	int direct = is_direct(p, t);
	const unsigned char *prev = zerobuf.p;

	for (y = 0; y < p->h; y++, raw += n + 1) {
		unsigned char *dst = t->pix + y * stride;

		if (png_row(p, t, raw, prev, dst, p->w, direct) < 0)
			return -1;
		prev = direct ? dst : raw + 1;
	}
	return 0;
}

/* Adam7: each pass's rows converted, then their pixels spread into T. */
static int png_adam7(const struct png *p, const struct dec_target *t, unsigned char *raw)
{
	size_t px = dec_row_bytes(t, 1), stride = dec_row_bytes(t, (int)p->w);
	int k;

	for (k = 0; k < 7; k++) {
		size_t pw = pass_dim(p->w, a7_x0[k], a7_dx[k]), ph = pass_dim(p->h, a7_y0[k], a7_dy[k]);
		size_t n = row_len(p, pw), y, x;
		const unsigned char *prev = zerobuf.p;

		if (!pw || !ph)
			continue;
		for (y = 0; y < ph; y++, raw += n + 1) {
			unsigned char *dst = t->pix + ((size_t)a7_y0[k] + y * (size_t)a7_dy[k]) * stride;

			if (png_row(p, t, raw, prev, pixbuf.p, pw, 0) < 0)
				return -1;
			prev = raw + 1;
			for (x = 0; x < pw; x++)
				memcpy(dst + ((size_t)a7_x0[k] + x * (size_t)a7_dx[k]) * px,
				       pixbuf.p + x * px, px);
		}
	}
	return 0;
}

static int png_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	struct png p;
	unsigned char *raw;
	size_t n;

	/* The CRCs were checked when the file was probed. */
	(void)info;
	if (png_parse(d, len, 0, &p, why, whylen) < 0)
		return -1;
	n = row_len(&p, p.w);
	if (!buf_grow(&rowbuf, (size_t)p.w * 8) || !buf_grow(&zerobuf, n) ||
	    (p.interlace && !buf_grow(&pixbuf, dec_row_bytes(t, (int)p.w)))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	memset(zerobuf.p, 0, n);
	if (!(raw = inflate_all(d, len, &p, raw_size(&p), why, whylen)))
		return -1;
	if ((p.interlace ? png_adam7 : png_plain)(&p, t, raw) < 0) {
		snprintf(why, whylen, "corrupt PNG (unknown filter type)");
		return -1;
	}
	return 0;
}

const struct decoder dec_png = { "PNG", png_sniff, png_probe, png_decode, 0 };
