/* dec_tiff.c - TIFF through libtiff, read from memory: libtiff decompresses
 * each strip or tile (every compression it was built with), this file lays
 * the samples out and converts them as Pillow 9.4's TiffImagePlugin and
 * convert() do, the Orientation tag applied as Pillow's loader applies it.
 * First page only; libtiff never prints. */
#include "codec/decoder.h"
#include "codec/orient.h"
#include "codec/tiff_lzw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

/* What the first page holds, in Pillow's terms. */
enum kind {
	K_GRAY,		/* 1-16 bits, MinIsBlack or MinIsWhite, maybe alpha */
	K_RGB,		/* 8 or 16 bits, maybe alpha; YCbCr JPEG read as RGB */
	K_PALETTE,	/* 1-8 bit indices into a 16-bit colour map */
	K_CMYK,		/* 8 or 16 bits, InkSet CMYK */
	K_YCBCR,	/* other YCbCr: libtiff's RGBA reader, as Pillow's */
	K_VALUES	/* one 32-bit float or int, or 16-bit signed, sample */
};

/* Alpha as the ExtraSamples tag says it (Pillow's table of raw modes). */
enum alpha { A_NONE, A_STRAIGHT, A_ASSOCIATED };

struct tiff_hdr {
	uint32_t w, h;
	uint16_t bits, spp, photometric, planar, format, compression;
	enum kind kind;
	enum alpha alpha;
	int invert;		/* MinIsWhite, 1 to 8 bits (Pillow's ;I modes) */
	int ncolour;		/* colour samples before the extra ones */
	int orientation;	/* the Orientation tag, 1 when absent or invalid */
	int fast_lzw;		/* LZW that tiff_lzw.c decodes as libtiff would */
	int differenced;	/* and then undoes 8-bit horizontal differencing */
};

/* The memory libtiff reads from, and the first error it reported. */
struct mem {
	const unsigned char *d;
	size_t len, off;
	char msg[256];
};

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
	struct mem *m = h;
	size_t left = m->len - m->off, k = n < 0 ? 0 : (size_t)n;

	if (k > left)
		k = left;
	memcpy(buf, m->d + m->off, k);
	m->off += k;
	return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
	(void)h, (void)buf, (void)n;
	return -1;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
	struct mem *m = h;
	uint64_t base = whence == SEEK_CUR ? m->off : whence == SEEK_END ? m->len : 0;

	if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
		return (toff_t)-1;
	if (off > UINT64_MAX - base)
		return (toff_t)-1;
	/* Past the end is allowed (a later read gets nothing), as lseek. */
	base += off;
	m->off = base > m->len ? m->len : (size_t)base;
	return base;
}

static int mem_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t mem_size(thandle_t h)
{
	return ((struct mem *)h)->len;
}

/* The whole file is "mapped": libtiff then reads strips in place. */
static int mem_map(thandle_t h, void **base, toff_t *size)
{
	struct mem *m = h;

	*base = (void *)m->d;
	*size = m->len;
	return 1;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h, (void)base, (void)size;
}

/* libtiff's errors: the first is kept as the reason, none is printed. */
__attribute__((format(printf, 4, 0)))
static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	struct mem *m = user;

	(void)tif, (void)module;
	if (m && !m->msg[0])
		vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
	return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	(void)tif, (void)user, (void)module, (void)fmt, (void)ap;
	return 1;
}

static int tiff_sniff(const unsigned char *d, size_t len)
{
	return len >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0 ||
			    memcmp(d, "II+\0", 4) == 0 || memcmp(d, "MM\0+", 4) == 0);
}

/* Open the memory M as a TIFF with libtiff's allocations capped at LIMIT
 * bytes each; NULL with WHY. */
static TIFF *open_mem(struct mem *m, tmsize_t limit, char *why, size_t whylen)
{
	static int quiet;
	TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
	TIFF *tif;

	if (!quiet) {
		/* Messages with no TIFF to go with them go to these. */
		TIFFSetErrorHandler(NULL);
		TIFFSetWarningHandler(NULL);
		quiet = 1;
	}
	if (!o) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	TIFFOpenOptionsSetMaxSingleMemAlloc(o, limit);
	TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, m);
	TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, m);
	m->off = 0;
	m->msg[0] = '\0';
	tif = TIFFClientOpenExt("TIFF", "r", m, mem_read, mem_write, mem_seek, mem_close,
				mem_size, mem_map, mem_unmap, o);
	TIFFOpenOptionsFree(o);
	if (!tif)
		snprintf(why, whylen, "corrupt TIFF (%s)", m->msg[0] ? m->msg : "libtiff cannot open it");
	return tif;
}

/* Mark the kind of image HDR is, as Pillow's table of raw modes reads it,
 * or refuse it. 0, or -1 with WHY. */
static int classify(TIFF *tif, struct tiff_hdr *p, char *why, size_t whylen)
{
	uint16_t nextra = 0, *extra = NULL, inkset = INKSET_CMYK;
	int b = p->bits;

	TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
	p->ncolour = p->spp - nextra;
	switch (p->photometric) {
	case PHOTOMETRIC_MINISBLACK:
	case PHOTOMETRIC_MINISWHITE:
		p->kind = K_GRAY;
		p->ncolour = 1;
		if (p->format == SAMPLEFORMAT_IEEEFP || b == 32 ||
		    (b == 16 && p->format == SAMPLEFORMAT_INT)) {
			p->kind = K_VALUES;
			if (p->spp != 1 || b != (p->format == SAMPLEFORMAT_IEEEFP ? 32 : b)) {
				snprintf(why, whylen, "unsupported TIFF (%d samples of %d-bit %s)",
					 p->spp, b, p->format == SAMPLEFORMAT_IEEEFP ? "floats" : "ints");
				return -1;
			}
			return 0;
		}
		if (b != 1 && b != 2 && b != 4 && b != 8 && b != 16)
			goto bits;
		p->invert = p->photometric == PHOTOMETRIC_MINISWHITE && b <= 8;
		break;
	case PHOTOMETRIC_RGB:
		p->kind = K_RGB;
		p->ncolour = 3;
		if (b != 8 && b != 16)
			goto bits;
		if (p->spp < 3)
			goto layout;
		break;
	case PHOTOMETRIC_PALETTE:
		p->kind = K_PALETTE;
		p->ncolour = 1;
		if (b != 1 && b != 2 && b != 4 && b != 8)
			goto bits;
		break;
	case PHOTOMETRIC_SEPARATED:
		p->kind = K_CMYK;
		p->ncolour = 4;
		TIFFGetFieldDefaulted(tif, TIFFTAG_INKSET, &inkset);
		if (inkset != INKSET_CMYK || p->spp < 4) {
			snprintf(why, whylen, "unsupported TIFF (separated inks other than CMYK)");
			return -1;
		}
		if (b != 8 && b != 16)
			goto bits;
		break;
	case PHOTOMETRIC_YCBCR:
		p->ncolour = 3;
		if (p->compression == COMPRESSION_JPEG && p->planar == PLANARCONFIG_CONTIG) {
			/* libjpeg converts to RGB, as in Pillow. */
			if (!TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
				goto layout;
			p->kind = K_RGB;
			p->spp = 3;
			p->bits = 8;
			return 0;
		}
		p->kind = K_YCBCR;
		if (b != 8)
			goto bits;
		return 0;
	default:
		snprintf(why, whylen, "unsupported TIFF (photometric interpretation %u)",
			 p->photometric);
		return -1;
	}
	if (p->spp < p->ncolour || p->spp > 6)
		goto layout;
	if (p->spp > p->ncolour && p->kind != K_CMYK) {
		/* Missing ExtraSamples is alpha, 0 (unspecified) is not. */
		uint16_t e = nextra ? extra[0] : EXTRASAMPLE_UNASSALPHA;

		p->alpha = e == EXTRASAMPLE_ASSOCALPHA ? A_ASSOCIATED :
			   e == EXTRASAMPLE_UNSPECIFIED ? A_NONE : A_STRAIGHT;
		/* An 8-bit palette's unassociated alpha is Pillow's mode PA
		 * (Microsoft Office writes it): colour from the map, alpha
		 * beside it. */
		if ((p->kind == K_PALETTE && (b != 8 || p->alpha != A_STRAIGHT)) ||
		    (p->kind == K_GRAY && b < 8))
			p->alpha = A_NONE;
	}
	return 0;
bits:
	snprintf(why, whylen, "unsupported TIFF (%d-bit samples, photometric %u)", b,
		 p->photometric);
	return -1;
layout:
	snprintf(why, whylen, "unsupported TIFF (%u samples a pixel, photometric %u)", p->spp,
		 p->photometric);
	return -1;
}

/* Read the first page's header fields. 0, or -1 with WHY. */
static int read_header(TIFF *tif, struct tiff_hdr *p, char *why, size_t whylen)
{
	uint16_t orient;

	memset(p, 0, sizeof(*p));
	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p->w) ||
	    !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p->h)) {
		snprintf(why, whylen, "corrupt TIFF (no image size)");
		return -1;
	}
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &p->bits);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &p->spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &p->planar);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &p->format);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &p->compression);
	p->orientation = 1;
	if (TIFFGetField(tif, TIFFTAG_ORIENTATION, &orient) && orient >= 1 && orient <= 8)
		p->orientation = orient;
	if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &p->photometric)) {
		snprintf(why, whylen, "corrupt TIFF (no photometric interpretation)");
		return -1;
	}
	if (p->w == 0 || p->h == 0 || p->w > INT32_MAX || p->h > INT32_MAX) {
		snprintf(why, whylen, "corrupt TIFF (image of %ux%u pixels)", p->w, p->h);
		return -1;
	}
	if (!TIFFIsCODECConfigured(p->compression)) {
		snprintf(why, whylen, "unsupported TIFF (compression %u)", p->compression);
		return -1;
	}
	if (p->compression == COMPRESSION_LZW) {
		uint16_t predictor = PREDICTOR_NONE, fill = FILLORDER_MSB2LSB;

		/* Without bit reversal or byte swapping, the decoded bytes
		 * are the samples, or with 8-bit samples their differences. */
		TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &predictor);
		TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &fill);
		p->differenced = predictor == PREDICTOR_HORIZONTAL && p->bits == 8;
		p->fast_lzw = (predictor == PREDICTOR_NONE || p->differenced) &&
			      fill == FILLORDER_MSB2LSB && (p->bits <= 8 || !TIFFIsByteSwapped(tif));
	}
	return classify(tif, p, why, whylen);
}

/* The bytes the decoded first page takes, raw: a tile may not be much
 * larger, so that a hostile header cannot ask for more. */
static uint64_t raw_bytes(const struct tiff_hdr *p)
{
	return ((uint64_t)p->w * p->spp * p->bits + 7) / 8 * p->h;
}

/* The most one libtiff allocation may take when decoding INFO's image:
 * a few times the largest raw page of its size (6 samples of 16 bits). */
static tmsize_t mem_limit(const struct codec_info *info)
{
	uint64_t n = (uint64_t)info->w * (uint64_t)info->h * 48 + (16u << 20);

	return n > INT64_MAX / 2 ? INT64_MAX / 2 : (tmsize_t)n;
}

static int tiff_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		      size_t whylen)
{
	struct mem m = { d, len, 0, "" };
	struct tiff_hdr p;
	uint16_t orient;
	TIFF *tif;

	/* Only the directory is read here; decode caps by the image's size. */
	if (!(tif = open_mem(&m, (tmsize_t)64 << 20, why, whylen)))
		return -1;
	if (read_header(tif, &p, why, whylen) < 0) {
		TIFFClose(tif);
		return -1;
	}
	/* Pillow's TIFF loader turns the image by its Orientation tag. */
	orient_size(p.orientation, (int)p.w, (int)p.h, &info->w, &info->h);
	info->oriented = 1;
	info->channels = p.kind == K_VALUES ? 1 : p.kind == K_GRAY ? 1 + (p.alpha != A_NONE) :
			 p.kind == K_RGB || p.kind == K_PALETTE ? 3 + (p.alpha != A_NONE) : 3;
	info->is16 = p.bits == 16 && (p.kind == K_GRAY || p.kind == K_RGB);
	info->values = p.kind == K_VALUES;
	info->palette = p.kind == K_PALETTE;
	info->cmyk = p.kind == K_CMYK;
	info->animated = !TIFFLastDirectory(tif);
	if (TIFFGetField(tif, TIFFTAG_ORIENTATION, &orient) && orient >= 1 && orient <= 8)
		info->orientation = orient;
	TIFFClose(tif);
	return 0;
}

/*
 * Strip or tile K's LZW data decoded by tiff_lzw.c into DST (N bytes, rows
 * of ROWLEN), straight from the file in memory, differencing undone as
 * libtiff's horAcc8 does: 1, or 0 to leave the block to libtiff (data not
 * where the tags say, old-style LZW), or -1 when it is corrupt.
 */
static int lzw_block(TIFF *tif, const struct tiff_hdr *p, struct mem *m, uint32_t k,
		     unsigned char *dst, size_t n, size_t rowlen)
{
	size_t spc = p->planar == PLANARCONFIG_CONTIG ? p->spp : 1;
	int tiled = TIFFIsTiled(tif);
	uint64_t *offs = NULL, *counts = NULL, off, count;

	if (!p->fast_lzw ||
	    !TIFFGetField(tif, tiled ? TIFFTAG_TILEOFFSETS : TIFFTAG_STRIPOFFSETS, &offs) ||
	    !TIFFGetField(tif, tiled ? TIFFTAG_TILEBYTECOUNTS : TIFFTAG_STRIPBYTECOUNTS, &counts) ||
	    !offs || !counts || k >= (tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif)))
		return 0;
	off = offs[k];
	count = counts[k];
	if (count == 0 || off > m->len || count > m->len - off ||
	    !tiff_lzw_starts(m->d + off, (size_t)count))
		return 0;
	if (p->differenced && (rowlen == 0 || n % rowlen != 0))
		return 0;
	if (tiff_lzw_decode(m->d + off, (size_t)count, dst, n) == 0) {
		size_t y, x;

		for (y = 0; p->differenced && y < n; y += rowlen)
			for (x = spc; x < rowlen; x++)
				dst[y + x] = (unsigned char)(dst[y + x] + dst[y + x - spc]);
		return 1;
	}
	snprintf(m->msg, sizeof(m->msg), "bad LZW data in %s %u", tiled ? "tile" : "strip", k);
	return -1;
}

/*
 * Read every strip or tile of the page into IMG: plane after plane (one
 * when contiguous) of H rows of ROWBYTES. Strips go straight in; tiles
 * through a buffer, clipped at the right and bottom edges.
 */
static int read_blocks(TIFF *tif, const struct tiff_hdr *p, unsigned char *img, size_t rowbytes,
		       int nplanes, struct mem *m, char *why, size_t whylen)
{
	static struct buf tilebuf;
	int pl;

	if (!TIFFIsTiled(tif)) {
		uint32_t rps, y;

		TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
		if (rps == 0 || rps > p->h)
			rps = p->h;
		for (pl = 0; pl < nplanes; pl++)
			for (y = 0; y < p->h; y += rps) {
				uint32_t rows = p->h - y < rps ? p->h - y : rps;
				tmsize_t want = (tmsize_t)(rows * rowbytes);
				unsigned char *dst = img + ((size_t)pl * p->h + y) * rowbytes;

				uint32_t s = TIFFComputeStrip(tif, y, (uint16_t)pl);
				int r = lzw_block(tif, p, m, s, dst, (size_t)want, rowbytes);

				if (r < 0 || (r == 0 && TIFFReadEncodedStrip(tif, s, dst, want) != want))
					goto fail;
			}
		return 0;
	} else {
		uint32_t tw = 0, th = 0, x, y, r;
		size_t spc = p->planar == PLANARCONFIG_CONTIG ? p->spp : 1;
		tmsize_t tsize = TIFFTileSize(tif), trow = TIFFTileRowSize(tif);
		unsigned char *t;

		TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
		TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
		if (tw == 0 || th == 0 || tsize <= 0 || trow <= 0 ||
		    (uint64_t)trow * th > (uint64_t)tsize ||
		    ((uint64_t)tw * spc * p->bits) % 8 != 0 ||
		    (uint64_t)tsize > 4 * raw_bytes(p) + (1u << 20)) {
			snprintf(why, whylen, "corrupt TIFF (tiles of %ux%u)", tw, th);
			return -1;
		}
		if (!(t = buf_grow(&tilebuf, (size_t)tsize))) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		for (pl = 0; pl < nplanes; pl++)
			for (y = 0; y < p->h; y += th)
				for (x = 0; x < p->w; x += tw) {
					size_t col = (size_t)x * spc * p->bits / 8, n = rowbytes - col;
					uint32_t rows = p->h - y < th ? p->h - y : th;

					if (n > (size_t)trow)
						n = (size_t)trow;
					uint32_t k = TIFFComputeTile(tif, x, y, 0, (uint16_t)pl);
					int rr = lzw_block(tif, p, m, k, t, (size_t)tsize,
							   (size_t)trow);

					if (rr < 0 || (rr == 0 && TIFFReadEncodedTile(tif, k, t, tsize) != tsize))
						goto fail;
					for (r = 0; r < rows; r++)
						memcpy(img + ((size_t)pl * p->h + y + r) * rowbytes + col,
						       t + (size_t)r * (size_t)trow, n);
				}
		return 0;
	}
fail:
	snprintf(why, whylen, "%s TIFF (%s)", m->off >= m->len ? "truncated" : "corrupt",
		 m->msg[0] ? m->msg : "libtiff cannot decode its image data");
	return -1;
}

/* Sample X of a packed row of BITS-bit samples (1, 2, 4: MSB first). */
static inline unsigned packed(const unsigned char *row, size_t x, int bits)
{
	size_t bit = x * (size_t)bits;

	return (unsigned)(row[bit >> 3] >> (8 - bits - (int)(bit & 7))) & ((1u << bits) - 1);
}

/* Pillow's unpremultiply (its RGBa unpacker), on 8- or 16-bit V. */
static inline unsigned unpremul(unsigned v, unsigned a, unsigned max)
{
	unsigned r;

	if (a == 0)
		return 0;
	if (a == max)
		return v;
	r = v * max / a;
	return r > max ? max : r;
}

/* Pillow's CMYK to RGB (Convert.c cmyk2rgb). */
static inline unsigned char cmyk1(unsigned c, unsigned k)
{
	unsigned nk = 255 - k, t = c * nk + 128;
	int v = (int)nk - (int)(((t >> 8) + t) >> 8);

	return (unsigned char)(v < 0 ? 0 : v);
}

/* Where the decode keeps its buffers between images. */
static struct buf imgbuf, samplebuf, basebuf;

/*
 * One row Y of the raw page at IMG to Pillow's mode's samples at BASE (N
 * channels, 16-bit when *B16): gray scaled from 1, 2 or 4 bits and inverted
 * for MinIsWhite, colour mapped, CMYK converted, alpha unpremultiplied
 * where the file stores it associated, unspecified extra samples dropped.
 */
static void base_row(const struct tiff_hdr *p, const uint16_t *const *cmap, const unsigned char *img,
		     size_t rowbytes, uint32_t y, int depth16, unsigned char *samples, void *base,
		     int *n, int *b16)
{
	size_t w = p->w, x, k, spp = p->spp, ns = p->planar == PLANARCONFIG_CONTIG ? spp : 1;
	int s16 = p->bits == 16;
	unsigned char *b8 = base;
	uint16_t *b16p = base;
	uint16_t *s16p = (uint16_t *)(void *)samples;

	/* The row's samples interleaved, 8-bit (or 16-bit) each. */
	for (k = 0; k < (p->planar == PLANARCONFIG_CONTIG ? 1 : spp); k++) {
		const unsigned char *row = img + ((size_t)k * p->h + y) * rowbytes;

		for (x = 0; x < w * ns; x++) {
			size_t at = p->planar == PLANARCONFIG_CONTIG ? x : x * spp + k;

			if (s16)
				s16p[at] = ((const uint16_t *)(const void *)row)[x];
			else
				samples[at] = p->bits == 8 ? row[x] : (unsigned char)packed(row, x, p->bits);
		}
	}
	*n = (p->kind == K_GRAY ? 1 : 3) + (p->alpha != A_NONE);
	*b16 = s16 && depth16 && p->kind != K_CMYK;
	for (x = 0; x < w; x++) {
		unsigned v[5], a, max = *b16 ? 65535 : 255;
		int c, nc = *n - (p->alpha != A_NONE);

		for (c = 0; c < p->ncolour + (p->alpha != A_NONE) && c < 5; c++) {
			size_t at = x * spp + (size_t)c;

			v[c] = s16 ? s16p[at] : samples[at];
			if (s16 && !*b16)
				v[c] >>= 8;
		}
		a = p->alpha != A_NONE ? v[p->ncolour] : 0;	/* before a palette's colours */
		switch (p->kind) {
		case K_GRAY:
			if (s16 && !depth16)	/* Pillow's I;16 to L clips */
				v[0] = s16p[x * spp] > 255 ? 255 : s16p[x * spp];
			else if (p->bits < 8)
				v[0] = p->bits == 1 ? v[0] * 255 : p->bits == 2 ? v[0] * 85 : v[0] * 17;
			if (p->invert)
				v[0] = 255 - v[0];
			break;
		case K_PALETTE:
			k = samples[x * spp];	/* the index, its alpha beside it */
			v[0] = cmap[0][k] >> 8;
			v[1] = cmap[1][k] >> 8;
			v[2] = cmap[2][k] >> 8;
			break;
		case K_CMYK:
			v[0] = cmyk1(v[0], v[3]);
			v[1] = cmyk1(v[1], v[3]);
			v[2] = cmyk1(v[2], v[3]);
			break;
		default:
			break;
		}
		if (p->alpha != A_NONE) {
			if (p->alpha == A_ASSOCIATED)
				for (c = 0; c < nc; c++)
					v[c] = unpremul(v[c], a, max);
			v[nc] = a;
		}
		for (c = 0; c < *n; c++) {
			if (*b16)
				*b16p++ = (uint16_t)v[c];
			else
				*b8++ = (unsigned char)v[c];
		}
	}
}

/* A YCbCr page other than JPEG's: libtiff's RGBA reader converts it (and
 * upsamples), as Pillow has libtiff do. */
static int decode_ycbcr(TIFF *tif, const struct tiff_hdr *p, const struct dec_target *t,
			struct mem *m, char *why, size_t whylen)
{
	size_t n = (size_t)p->w * p->h, k;
	uint32_t *rgba = buf_grow(&imgbuf, n * 4);
	unsigned char *rgb;
	char emsg[1024];

	if (!rgba || !(rgb = buf_grow(&basebuf, (size_t)p->w * 3))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	/* libtiff's reader would flip (never transpose) by the tag itself;
	 * the turn is made after, as for every other page. */
	if (!TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) ||
	    !TIFFRGBAImageOK(tif, emsg) ||
	    !TIFFReadRGBAImageOriented(tif, p->w, p->h, rgba, ORIENTATION_TOPLEFT, 1)) {
		snprintf(why, whylen, "corrupt TIFF (%s)", m->msg[0] ? m->msg : emsg);
		return -1;
	}
	for (k = 0; k < n; k += p->w) {
		size_t x;

		for (x = 0; x < p->w; x++) {
			rgb[3 * x] = (unsigned char)TIFFGetR(rgba[k + x]);
			rgb[3 * x + 1] = (unsigned char)TIFFGetG(rgba[k + x]);
			rgb[3 * x + 2] = (unsigned char)TIFFGetB(rgba[k + x]);
		}
		dec_convert(rgb, 3, 0, t->pix + k / p->w * dec_row_bytes(t, (int)p->w), t, p->w);
	}
	return 0;
}

/* One value sample at X of ROW (native order from libtiff). */
static double value_at(const struct tiff_hdr *p, const unsigned char *row, size_t x)
{
	if (p->bits == 16) {
		int16_t v;

		memcpy(&v, row + 2 * x, 2);
		return v;
	}
	if (p->format == SAMPLEFORMAT_IEEEFP) {
		float f;

		memcpy(&f, row + 4 * x, 4);
		return f;
	} else {
		uint32_t u;

		memcpy(&u, row + 4 * x, 4);
		return p->format == SAMPLEFORMAT_INT ? (double)(int32_t)u : (double)u;
	}
}

static int decode_page(TIFF *tif, const struct tiff_hdr *p, const struct dec_target *t,
		       struct mem *m, char *why, size_t whylen)
{
	size_t rowbytes = (size_t)TIFFScanlineSize64(tif), w = p->w, spc;
	int nplanes = p->planar == PLANARCONFIG_CONTIG ? 1 : p->spp;
	uint16_t *cmap[3] = { NULL, NULL, NULL };
	unsigned char *img, *samples, *base;
	uint32_t y;

	if (p->kind == K_YCBCR)
		return decode_ycbcr(tif, p, t, m, why, whylen);
	spc = p->planar == PLANARCONFIG_CONTIG ? p->spp : 1;
	if (rowbytes != (w * spc * p->bits + 7) / 8) {
		snprintf(why, whylen, "corrupt TIFF (rows of %zu bytes)", rowbytes);
		return -1;
	}
	/* 8-bit gray or RGB(A) stored as T wants it: the strips and tiles go
	 * straight into T, as PNG and JPEG rows do. */
	if ((p->kind == K_GRAY || p->kind == K_RGB) && p->bits == 8 && !p->invert &&
	    p->planar == PLANARCONFIG_CONTIG && p->alpha != A_ASSOCIATED && !t->depth16 &&
	    !t->values && p->spp == t->channels && p->spp == (p->kind == K_GRAY ? 1 : 3) +
	    (p->alpha != A_NONE))
		return read_blocks(tif, p, t->pix, rowbytes, 1, m, why, whylen);
	if (p->kind == K_PALETTE &&
	    !TIFFGetField(tif, TIFFTAG_COLORMAP, &cmap[0], &cmap[1], &cmap[2])) {
		snprintf(why, whylen, "corrupt TIFF (palette image without a colour map)");
		return -1;
	}
	if (!(img = buf_grow(&imgbuf, rowbytes * p->h * (size_t)nplanes)) ||
	    !(samples = buf_grow(&samplebuf, w * p->spp * (p->bits == 16 ? 2 : 1))) ||
	    !(base = buf_grow(&basebuf, w * 4 * 2))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (read_blocks(tif, p, img, rowbytes, nplanes, m, why, whylen) < 0)
		return -1;
	for (y = 0; y < p->h; y++) {
		unsigned char *out = t->pix + (size_t)y * (t->values ? w * sizeof(double) :
							   dec_row_bytes(t, (int)w));
		int n, b16;

		if (p->kind == K_VALUES) {
			size_t x;

			for (x = 0; x < w; x++)
				((double *)(void *)out)[x] = value_at(p, img + y * rowbytes, x);
			continue;
		}
		base_row(p, (const uint16_t *const *)cmap, img, rowbytes, y, t->depth16, samples,
			 base, &n, &b16);
		dec_convert(base, n, b16, out, t, w);
	}
	return 0;
}

static int tiff_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		       const struct dec_target *t, char *why, size_t whylen)
{
	struct mem m = { d, len, 0, "" };
	struct tiff_hdr p;
	TIFF *tif;
	int r = -1, w, h;

	if (!(tif = open_mem(&m, mem_limit(info), why, whylen)))
		return -1;
	if (read_header(tif, &p, why, whylen) < 0)
		goto out;
	orient_size(p.orientation, (int)p.w, (int)p.h, &w, &h);
	if (w != info->w || h != info->h || t->values != (p.kind == K_VALUES)) {
		snprintf(why, whylen, "corrupt TIFF (its header changed since the probe)");
		goto out;
	}
	if (p.orientation == 1) {
		r = decode_page(tif, &p, t, &m, why, whylen);
	} else {
		/* Decoded as stored into a buffer, then turned into T. */
		static struct buf stored;
		size_t px = t->values ? sizeof(double) : dec_row_bytes(t, 1);
		struct dec_target s = *t;

		if (!(s.pix = buf_grow(&stored, (size_t)p.w * p.h * px))) {
			snprintf(why, whylen, "out of memory");
			goto out;
		}
		if ((r = decode_page(tif, &p, &s, &m, why, whylen)) == 0)
			orient_apply(p.orientation, s.pix, (int)p.w, (int)p.h, px, t->pix);
	}
out:
	TIFFClose(tif);
	return r;
}

const struct decoder dec_tiff = { "TIFF", tiff_sniff, tiff_probe, tiff_decode, 0 };
