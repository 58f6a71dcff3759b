/* dec_jp2.c - JPEG 2000 through OpenJPEG (libopenjp2): the JP2 box format and
 * the raw codestream (J2K), read as Pillow 9.4 reads them through the same
 * library: 1 to 4 components (gray, gray and alpha, RGB, RGBA), none
 * subsampled, samples of other depths brought to 8 bits by Pillow's
 * rounding shift. The header's size is read here, before OpenJPEG
 * allocates anything, so that --max-pixels refuses a huge image first. */
#include "codec/decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openjpeg-2.5/openjpeg.h>

static const unsigned char jp2_signature[12] = {
	0, 0, 0, 12, 'j', 'P', ' ', ' ', '\r', '\n', 0x87, '\n'
};

/* The JP2 signature box, or a codestream's SOC marker and its SIZ. */
static int jp2_sniff(const unsigned char *d, size_t len)
{
	return (len >= 12 && memcmp(d, jp2_signature, 12) == 0) ||
	       (len >= 4 && d[0] == 0xff && d[1] == 0x4f && d[2] == 0xff && d[3] == 0x51);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * The box of type TYPE among the boxes in [D, D + LEN): its body in *BODY
 * and *BODYLEN. A box is a 32-bit length (0: to the end; 1: a 64-bit one
 * follows the type) and a 4-byte type. 0, or -1 when there is none or a
 * length runs past the end.
 */
static int jp2_box(const unsigned char *d, size_t len, const char *type,
		   const unsigned char **body, size_t *bodylen)
{
	size_t off = 0;

	while (len - off >= 8) {
		uint64_t n = be32(d + off);
		size_t head = 8;

		if (n == 1) {
			if (len - off < 16)
				return -1;
			n = (uint64_t)be32(d + off + 8) << 32 | be32(d + off + 12);
			head = 16;
		} else if (n == 0) {
			n = len - off;
		}
		if (n < head || n > len - off)
			return -1;
		if (memcmp(d + off + 4, type, 4) == 0) {
			*body = d + off + head;
			*bodylen = (size_t)n - head;
			return 0;
		}
		off += (size_t)n;
	}
	return -1;
}

/* What the codestream's SIZ marker says. */
struct jp2_siz {
	uint32_t w, h;
	unsigned comps;		/* Csiz */
	unsigned maxprec;	/* the deepest component's bits */
	int subsampled;		/* a component with XRsiz or YRsiz not 1 */
	uint64_t tiles;
};

/* Read the SIZ marker that follows SOC at the codestream D. */
static int jp2_read_siz(const unsigned char *d, size_t len, struct jp2_siz *s, char *why,
			size_t whylen)
{
	uint32_t xs, ys, xo, yo, tw, th, tx, ty;
	unsigned lsiz, k;

	if (len < 4 || d[0] != 0xff || d[1] != 0x4f || d[2] != 0xff || d[3] != 0x51) {
		snprintf(why, whylen, "corrupt JPEG 2000 (no SIZ marker after SOC)");
		return -1;
	}
	if (len < 4 + 38) {
		snprintf(why, whylen, "truncated JPEG 2000 (the file ends in its SIZ marker)");
		return -1;
	}
	d += 4;
	lsiz = be16(d);
	xs = be32(d + 4), ys = be32(d + 8), xo = be32(d + 12), yo = be32(d + 16);
	tw = be32(d + 20), th = be32(d + 24), tx = be32(d + 28), ty = be32(d + 32);
	s->comps = be16(d + 36);
	if (s->comps == 0 || s->comps > 16384 || lsiz != 38 + 3 * s->comps || xo >= xs ||
	    yo >= ys || tw == 0 || th == 0 || tx > xo || ty > yo) {
		snprintf(why, whylen, "corrupt JPEG 2000 (bad SIZ marker)");
		return -1;
	}
	if (len - 4 < (size_t)lsiz) {
		snprintf(why, whylen, "truncated JPEG 2000 (the file ends in its SIZ marker)");
		return -1;
	}
	s->w = xs - xo;
	s->h = ys - yo;
	s->tiles = (((uint64_t)xs - tx + tw - 1) / tw) * (((uint64_t)ys - ty + th - 1) / th);
	s->maxprec = 0;
	s->subsampled = 0;
	for (k = 0; k < s->comps; k++) {
		const unsigned char *c = d + 38 + 3 * k;
		unsigned prec = (c[0] & 0x7fu) + 1;

		if (prec > 31 || c[1] == 0 || c[2] == 0) {
			snprintf(why, whylen, "corrupt JPEG 2000 (bad component in SIZ)");
			return -1;
		}
		if (prec > s->maxprec)
			s->maxprec = prec;
		s->subsampled |= c[1] != 1 || c[2] != 1;
	}
	return 0;
}

/*
 * Read the header: for a JP2 file its jp2c box's codestream (and the
 * palette's columns, a pclr box in jp2h), then SIZ. Refuses what Pillow's
 * decoder refuses: no component, more than 4, a subsampled one.
 */
static int jp2_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		     size_t whylen)
{
	const unsigned char *cs = d, *jp2h, *pclr;
	size_t cslen = len, jp2hlen, pclrlen;
	struct jp2_siz s;

	if (d[0] == 0) {
		if (jp2_box(d, len, "jp2c", &cs, &cslen) < 0) {
			snprintf(why, whylen, "truncated JPEG 2000 (no codestream box)");
			return -1;
		}
	}
	if (jp2_read_siz(cs, cslen, &s, why, whylen) < 0)
		return -1;
	if (s.comps > 4 || s.subsampled) {
		snprintf(why, whylen, "unsupported JPEG 2000 (%u components%s)", s.comps,
			 s.subsampled ? ", subsampled" : "");
		return -1;
	}
	if (s.tiles > 65535) {
		snprintf(why, whylen, "corrupt JPEG 2000 (%llu tiles, more than 65535)",
			 (unsigned long long)s.tiles);
		return -1;
	}
	if (s.w > INT32_MAX || s.h > INT32_MAX) {
		snprintf(why, whylen, "image is %ux%u, too large", s.w, s.h);
		return -1;
	}
	info->w = (int)s.w;
	info->h = (int)s.h;
	info->channels = (int)s.comps;
	info->is16 = s.maxprec > 8;
	if (d[0] == 0 && jp2_box(d, len, "jp2h", &jp2h, &jp2hlen) == 0 &&
	    jp2_box(jp2h, jp2hlen, "pclr", &pclr, &pclrlen) == 0 && pclrlen >= 3 &&
	    pclr[2] >= 1 && pclr[2] <= 4) {
		info->channels = pclr[2];
		info->palette = 1;
	}
	return 0;
}

/* OpenJPEG's stream over the bytes in memory. */
struct jp2_mem {
	const unsigned char *d;
	size_t len, pos;
};

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user)
{
	struct jp2_mem *m = user;

	if (m->pos >= m->len)
		return (OPJ_SIZE_T)-1;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->d + m->pos, n);
	m->pos += n;
	return n;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user)
{
	struct jp2_mem *m = user;

	if (n < 0) {
		if ((size_t)-n > m->pos)
			return -1;
	} else if ((uint64_t)n > m->len - m->pos) {
		n = (OPJ_OFF_T)(m->len - m->pos);
	}
	m->pos = (size_t)((OPJ_OFF_T)m->pos + n);
	return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user)
{
	struct jp2_mem *m = user;

	if (n < 0 || (uint64_t)n > m->len)
		return OPJ_FALSE;
	m->pos = (size_t)n;
	return OPJ_TRUE;
}

/* OpenJPEG's first error message, kept for WHY (it prints nothing). */
struct jp2_msg {
	char text[160];
};

static void on_error(const char *msg, void *user)
{
	struct jp2_msg *e = user;
	size_t n;

	if (e->text[0])
		return;
	snprintf(e->text, sizeof(e->text), "%s", msg);
	n = strlen(e->text);
	while (n && (e->text[n - 1] == '\n' || e->text[n - 1] == '.'))
		e->text[--n] = 0;
}

static void on_nothing(const char *msg, void *user)
{
	(void)msg;
	(void)user;
}

/*
 * One sample of component C as parimg stores it. 8 bits: Pillow's rule
 * (signed samples offset by half the range, then shifted to 8 bits, with
 * rounding when narrowing), except that Pillow wraps a rounded-up maximum
 * to 0 and this saturates. 16 bits: up to 8 bits the 8-bit sample times
 * 257, as every 8-bit source; deeper the full range rounded,
 * v * 65535 / (2^prec - 1).
 */
static unsigned jp2_sample(const opj_image_comp_t *c, OPJ_INT32 raw, int depth16)
{
	int prec = (int)c->prec;
	int64_t v = (int64_t)raw + (c->sgnd ? (int64_t)1 << (prec - 1) : 0);
	int64_t max = ((int64_t)1 << prec) - 1;

	if (v < 0)
		v = 0;
	if (v > max)
		v = max;
	if (prec > 8) {
		if (depth16)
			return (unsigned)((v * 65535 + max / 2) / max);
		v = (v + ((int64_t)1 << (prec - 9))) >> (prec - 8);
		return v > 255 ? 255 : (unsigned)v;
	}
	v <<= 8 - prec;
	return depth16 ? (unsigned)v * 257u : (unsigned)v;
}

/* Whether the decoded IMAGE is what the header promised and Pillow reads:
 * 1 to 4 components of the image's full size, no colour space but gray
 * and RGB (CMYK and YCC ones Pillow refuses or converts by its own). */
static int jp2_check(const opj_image_t *img, const struct codec_info *info, char *why,
		     size_t whylen)
{
	OPJ_UINT32 k;

	if (img->numcomps < 1 || img->numcomps > 4) {
		snprintf(why, whylen, "unsupported JPEG 2000 (%u components)", img->numcomps);
		return -1;
	}
	if (img->color_space != OPJ_CLRSPC_UNSPECIFIED && img->color_space != OPJ_CLRSPC_SRGB &&
	    img->color_space != OPJ_CLRSPC_GRAY) {
		snprintf(why, whylen, "unsupported JPEG 2000 (colour space %s)",
			 img->color_space == OPJ_CLRSPC_CMYK ? "CMYK" :
			 img->color_space == OPJ_CLRSPC_SYCC || img->color_space == OPJ_CLRSPC_EYCC ?
			 "YCC" : "unknown");
		return -1;
	}
	for (k = 0; k < img->numcomps; k++) {
		const opj_image_comp_t *c = &img->comps[k];

		if (!c->data || c->dx != 1 || c->dy != 1 || c->w != (OPJ_UINT32)info->w ||
		    c->h != (OPJ_UINT32)info->h || c->prec < 1 || c->prec > 31) {
			snprintf(why, whylen, "corrupt JPEG 2000 (a component of another size "
				 "than its header says)");
			return -1;
		}
	}
	return 0;
}

/* Interleave IMG's components, as 8 or 16-bit samples, into T's pixels. */
static int jp2_store(const opj_image_t *img, const struct codec_info *info,
		     const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf scratch;
	int n = (int)img->numcomps, k;
	size_t i, count = (size_t)info->w * (size_t)info->h;
	unsigned char *row;

	if (!(row = buf_grow(&scratch, (size_t)info->w * (size_t)n * 2))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (i = 0; i < count; i += (size_t)info->w) {
		size_t x;

		for (k = 0; k < n; k++) {
			const opj_image_comp_t *c = &img->comps[k];

			for (x = 0; x < (size_t)info->w; x++) {
				unsigned v = jp2_sample(c, c->data[i + x], t->depth16);

				if (t->depth16)
					((uint16_t *)row)[x * (size_t)n + (size_t)k] = (uint16_t)v;
				else
					row[x * (size_t)n + (size_t)k] = (unsigned char)v;
			}
		}
		dec_convert(row, n, t->depth16, t->pix + i * (size_t)t->channels *
			    (t->depth16 ? 2 : 1), t, (size_t)info->w);
	}
	return 0;
}

/*
 * Decode in the calling thread: OpenJPEG starts a pool of threads at
 * opj_create_decompress when OPJ_NUM_THREADS is set, which a confined
 * worker may not, so the variable goes first. Strict mode refuses a
 * truncated codestream (OpenJPEG would otherwise decode what is there).
 */
static int jp2_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		      const struct dec_target *t, char *why, size_t whylen)
{
	struct jp2_mem m = { d, len, 0 };
	struct jp2_msg e = { "" };
	opj_dparameters_t params;
	opj_stream_t *st;
	opj_codec_t *codec;
	opj_image_t *img = NULL;
	int ok, r = -1;

	unsetenv("OPJ_NUM_THREADS");
	if (!(st = opj_stream_create(1 << 16, OPJ_TRUE))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	opj_stream_set_user_data(st, &m, NULL);
	opj_stream_set_user_data_length(st, len);
	opj_stream_set_read_function(st, mem_read);
	opj_stream_set_skip_function(st, mem_skip);
	opj_stream_set_seek_function(st, mem_seek);
	if (!(codec = opj_create_decompress(d[0] == 0 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K))) {
		opj_stream_destroy(st);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	opj_set_error_handler(codec, on_error, &e);
	opj_set_warning_handler(codec, on_nothing, NULL);
	opj_set_info_handler(codec, on_nothing, NULL);
	opj_set_default_decoder_parameters(&params);
	ok = opj_setup_decoder(codec, &params) && opj_decoder_set_strict_mode(codec, OPJ_TRUE) &&
	     opj_codec_set_threads(codec, 0) && opj_read_header(st, codec, &img) &&
	     opj_decode(codec, st, img) && opj_end_decompress(codec, st);
	if (!ok)
		snprintf(why, whylen, "%s JPEG 2000 (OpenJPEG: %s)",
			 m.pos >= len ? "truncated" : "corrupt", e.text[0] ? e.text : "cannot decode it");
	else if (jp2_check(img, info, why, whylen) == 0)
		r = jp2_store(img, info, t, why, whylen);
	if (img)
		opj_image_destroy(img);
	opj_destroy_codec(codec);
	opj_stream_destroy(st);
	return r;
}

const struct decoder dec_jp2 = { "JPEG2000", jp2_sniff, jp2_probe, jp2_decode, 0 };
