/* dec_avif.c - AVIF through libavif (dav1d behind it) with one thread
 * (maxThreads 1: dav1d starts none), the pixels avifdec writes: the primary
 * image (an animation's first frame), YUV to RGB by libavif's own
 * conversion at 8 bits (avifdec --depth 8) or 16 (--depth 16), alpha
 * unpremultiplied. avifdec ignores the clap, irot and imir boxes; parimg
 * applies them, in that order, as libheif and pillow-heif do, and never an
 * EXIF orientation on top. libheif also reads AVIF, but its YUV to RGB
 * differs from avifdec's (up to 8 levels in 4:2:0) and its dav1d plugin
 * starts threads: hence libavif. HEIC is dec_heif.c's. */
#include "codec/decoder.h"
#include "codec/orient.h"

#include <stdio.h>
#include <string.h>

#include <avif/avif.h>

static int brand_is_avif(const unsigned char *b)
{
	return memcmp(b, "avif", 4) == 0 || memcmp(b, "avis", 4) == 0;
}

/* An ftyp box whose major brand is avif or avis, or mif1/msf1 with one of
 * them among the compatible brands within CODEC_SNIFF_BYTES (dec_heif.c
 * takes mif1/msf1 otherwise). */
static int avif_sniff(const unsigned char *d, size_t len)
{
	size_t box, k;

	if (len < 12 || memcmp(d + 4, "ftyp", 4) != 0)
		return 0;
	if (brand_is_avif(d + 8))
		return 1;
	if (memcmp(d + 8, "mif1", 4) != 0 && memcmp(d + 8, "msf1", 4) != 0)
		return 0;
	box = (size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3];
	for (k = 16; k + 4 <= len && k + 4 <= box && k + 4 <= CODEC_SNIFF_BYTES; k += 4)
		if (brand_is_avif(d + k))
			return 1;
	return 0;
}

static int avif_fail(const avifDecoder *dec, avifResult r, char *why, size_t whylen)
{
	const char *diag = dec && dec->diag.error[0] ? dec->diag.error : avifResultToString(r);

	snprintf(why, whylen, "%s AVIF (libavif: %s)",
		 r == AVIF_RESULT_TRUNCATED_DATA ? "truncated" :
		 r == AVIF_RESULT_NO_CODEC_AVAILABLE || r == AVIF_RESULT_NOT_IMPLEMENTED ?
		 "unsupported" : "corrupt", diag);
	return -1;
}

/* A decoder over D in one thread, with its header parsed; NULL with WHY. */
static avifDecoder *avif_open(const unsigned char *d, size_t len, char *why, size_t whylen)
{
	avifDecoder *dec = avifDecoderCreate();
	avifResult r;

	if (!dec) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	dec->maxThreads = 1;
	dec->ignoreExif = dec->ignoreXMP = AVIF_TRUE;
	/* libavif's own limit stays (it may only be lowered): 16384 x 16384
	 * pixels, which --max-pixels cannot raise. */
	if ((r = avifDecoderSetIOMemory(dec, d, len)) != AVIF_RESULT_OK ||
	    (r = avifDecoderParse(dec)) != AVIF_RESULT_OK) {
		avif_fail(dec, r, why, whylen);
		avifDecoderDestroy(dec);
		return NULL;
	}
	return dec;
}

/*
 * The crop of the clap box (the whole image without one) and the EXIF
 * orientation (1-8) that irot's anticlockwise turn followed by imir's
 * mirror makes (mode 0: top and bottom exchanged, EXIF's 4; 1: left and
 * right, EXIF's 2). -1 with WHY for a clap box libavif finds invalid.
 */
static int avif_transform(const avifDecoder *dec, avifCropRect *crop, int *orientation,
			  char *why, size_t whylen)
{
	/* [angle][none, mode 0, mode 1] */
	static const int exif[4][3] = { { 1, 4, 2 }, { 8, 5, 7 }, { 3, 2, 4 }, { 6, 7, 5 } };
	const avifImage *im = dec->image;
	avifDiagnostics diag;
	int m;

	*crop = (avifCropRect){ 0, 0, im->width, im->height };
	if ((im->transformFlags & AVIF_TRANSFORM_CLAP) &&
	    !avifCropRectConvertCleanApertureBox(crop, &im->clap, im->width, im->height,
						 im->yuvFormat, &diag)) {
		snprintf(why, whylen, "corrupt AVIF (clap box: %s)", diag.error);
		return -1;
	}
	m = im->transformFlags & AVIF_TRANSFORM_IMIR ? 1 + (im->imir.mode & 1) : 0;
	*orientation = exif[im->transformFlags & AVIF_TRANSFORM_IROT ? im->irot.angle & 3 : 0][m];
	return 0;
}

static int avif_probe(const unsigned char *d, size_t len, struct codec_info *info, char *why,
		      size_t whylen)
{
	avifDecoder *dec = avif_open(d, len, why, whylen);
	avifCropRect crop;
	int o;

	if (!dec)
		return -1;
	if (avif_transform(dec, &crop, &o, why, whylen) < 0) {
		avifDecoderDestroy(dec);
		return -1;
	}
	orient_size(o, (int)crop.width, (int)crop.height, &info->w, &info->h);
	info->channels = (dec->image->yuvFormat == AVIF_PIXEL_FORMAT_YUV400 ? 1 : 3) +
			 (dec->alphaPresent ? 1 : 0);
	info->is16 = dec->image->depth > 8;
	info->animated = dec->imageCount > 1;
	avifDecoderDestroy(dec);
	return 0;
}

/*
 * The first frame to RGB(A) at 8 bits, or at 16 with -t u2 when the image
 * is deeper (libavif's rescaling, avifdec --depth 16's: v * 65535 /
 * (2^b - 1), rounded); then its clap crop, converted to T's channels and
 * depth, and turned by irot and imir into T.
 */
static int avif_decode(const unsigned char *d, size_t len, const struct codec_info *info,
		       const struct dec_target *t, char *why, size_t whylen)
{
	static struct buf rgbbuf, outbuf;
	avifDecoder *dec = avif_open(d, len, why, whylen);
	avifRGBImage rgb;
	avifCropRect crop;
	avifResult r;
	int o, ow, oh, n, deep, y, ret = -1;
	size_t px;
	unsigned char *out;

	if (!dec)
		return -1;
	if (avif_transform(dec, &crop, &o, why, whylen) < 0)
		goto done;
	orient_size(o, (int)crop.width, (int)crop.height, &ow, &oh);
	if (ow != info->w || oh != info->h) {
		snprintf(why, whylen, "corrupt AVIF (its size changed between reads)");
		goto done;
	}
	if ((r = avifDecoderNextImage(dec)) != AVIF_RESULT_OK) {
		avif_fail(dec, r, why, whylen);
		goto done;
	}
	if (dec->image->width < crop.x + crop.width || dec->image->height < crop.y + crop.height) {
		snprintf(why, whylen, "corrupt AVIF (a frame smaller than its header says)");
		goto done;
	}
	deep = t->depth16 && dec->image->depth > 8;
	n = dec->image->alphaPlane ? 4 : 3;
	avifRGBImageSetDefaults(&rgb, dec->image);
	rgb.depth = deep ? 16 : 8;
	rgb.format = n == 4 ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
	rgb.rowBytes = dec->image->width * (uint32_t)n * (deep ? 2 : 1);
	px = (size_t)t->channels * (t->depth16 ? 2 : 1);
	if (!(rgb.pixels = buf_grow(&rgbbuf, (size_t)rgb.rowBytes * dec->image->height)) ||
	    !(out = o == 1 ? t->pix : buf_grow(&outbuf, px * crop.width * crop.height))) {
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	if ((r = avifImageYUVToRGB(dec->image, &rgb)) != AVIF_RESULT_OK) {
		avif_fail(dec, r, why, whylen);
		goto done;
	}
	for (y = 0; y < (int)crop.height; y++)
		dec_convert(rgb.pixels + (size_t)(crop.y + (uint32_t)y) * rgb.rowBytes +
			    (size_t)crop.x * (size_t)n * (deep ? 2 : 1), n, deep,
			    out + (size_t)y * crop.width * px, t, crop.width);
	if (o != 1)
		orient_apply(o, out, (int)crop.width, (int)crop.height, px, t->pix);
	ret = 0;
done:
	avifDecoderDestroy(dec);
	return ret;
}

const struct decoder dec_avif = { "AVIF", avif_sniff, avif_probe, avif_decode, 0 };
