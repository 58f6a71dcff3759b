/* phash.c - imagehash's dhash and phash (see phash.h) on parimg's own
 * Pillow-exact luma and LANCZOS resampler, and a DCT whose rounding agrees
 * with scipy's where it matters: see dct_rows. */
#include "image/phash.h"
#include "image/resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DN 32			/* phash's resized side (hash_size 8 x highfreq_factor 4) */
#define HN 8			/* the hash's side */

/* ITU-R 601-2 luma in 16.16 fixed point, rounded: Pillow's RGB to L (the
 * same as codec.c's, which decoders use for -c 1). */
static inline uint32_t luma(uint32_t r, uint32_t g, uint32_t b)
{
	return (r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16;
}

void phash_gray(const void *pix, size_t count, int c, int depth16, uint8_t *gray)
{
	const uint8_t *p8 = pix;
	const uint16_t *p16 = pix;
	size_t i;

	if (!depth16 && c == 1) {
		memcpy(gray, pix, count);
		return;
	}
	/* 8-bit RGB and RGBA, the common case, by a loop of constant stride
	 * the compiler vectorizes (the general one below does not). */
	if (!depth16 && c == 3) {
		for (i = 0; i < count; i++, p8 += 3)
			gray[i] = (uint8_t)luma(p8[0], p8[1], p8[2]);
		return;
	}
	if (!depth16 && c == 4) {
		for (i = 0; i < count; i++, p8 += 4)
			gray[i] = (uint8_t)luma(p8[0], p8[1], p8[2]);
		return;
	}
	for (i = 0; i < count; i++) {
		size_t o = i * (size_t)c;
		uint32_t r = depth16 ? p16[o] >> 8 : p8[o];

		if (c >= 3)
			r = depth16 ? luma(r, p16[o + 1] >> 8, p16[o + 2] >> 8)
				    : luma(r, p8[o + 1], p8[o + 2]);
		gray[i] = (uint8_t)r;
	}
}

uint64_t phash_dhash_bits(const uint8_t *px)
{
	uint64_t h = 0;
	int y, x;

	for (y = 0; y < HN; y++)
		for (x = 0; x < HN; x++)
			h = h << 1 | (px[y * (HN + 1) + x + 1] > px[y * (HN + 1) + x]);
	return h;
}

/* For output K < 8 and input N < 32 of the DCT-II, cos(pi K (2N+1) / 64)
 * is SIGN x cos(pi M / 64) with M in [0, 32]: which M and which sign (0
 * for M = 32, where the cosine is zero). */
static signed char fold_m[HN][DN], fold_sign[HN][DN];
static double cos_m[DN];

static void make_tables(void)
{
	int k, n, m, s;

	for (m = 0; m < DN; m++)
		cos_m[m] = cos(M_PI * m / (2 * DN));
	for (k = 0; k < HN; k++)
		for (n = 0; n < DN; n++) {
			m = k * (2 * n + 1) % (4 * DN);
			if (m > 2 * DN)
				m = 4 * DN - m;
			s = 1;
			if (m > DN) {
				m = 2 * DN - m;
				s = -1;
			}
			fold_m[k][n] = (signed char)(m == DN ? 0 : m);
			fold_sign[k][n] = (signed char)(m == DN ? 0 : s);
		}
}

/*
 * The first 8 outputs of scipy.fftpack.dct (type 2, unnormalised:
 * y[k] = 2 sum x[n] cos(pi k (2n+1) / 64)) of the 32 values X[0],
 * X[STRIDE], ..., into Y[0], Y[YSTRIDE], .... The terms are first summed by
 * the cosine they are multiplied by (exactly, for integers, and so that
 * equal values of opposite sign cancel to zero): where the exact transform
 * has coefficients that tie (zeros of a symmetric image, a flat one's
 * whole AC block), this one ties exactly too, as scipy's FFT does, and
 * the median comparison agrees; elsewhere the two differ in the last bits
 * only, far below any gap between the coefficients the median splits.
 */
static void dct_rows(const double *x, int stride, double *y, int ystride)
{
	int k, n, m;

	for (k = 0; k < HN; k++) {
		double g[DN] = { 0 }, s = 0;

		for (n = 0; n < DN; n++)
			g[fold_m[k][n]] += fold_sign[k][n] * x[n * stride];
		for (m = 0; m < DN; m++)
			s += cos_m[m] * g[m];
		y[k * ystride] = 2 * s;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

uint64_t phash_dct_bits(const uint8_t *px)
{
	static int ready;
	double in[DN * DN], cols[HN * DN], low[HN * HN], sorted[HN * HN], med;
	uint64_t h = 0;
	int i;

	if (!ready) {
		make_tables();
		ready = 1;
	}
	for (i = 0; i < DN * DN; i++)
		in[i] = px[i];
	/* Along axis 0 (down each column), then axis 1 (along each row),
	 * keeping only the 8 x 8 block the hash reads. */
	for (i = 0; i < DN; i++)
		dct_rows(in + i, DN, cols + i, DN);
	for (i = 0; i < HN; i++)
		dct_rows(cols + i * DN, 1, low + i * HN, 1);
	/* numpy.median: the mean of the two middle values. */
	memcpy(sorted, low, sizeof(low));
	qsort(sorted, HN * HN, sizeof(double), cmp_double);
	med = (sorted[HN * HN / 2 - 1] + sorted[HN * HN / 2]) / 2;
	for (i = 0; i < HN * HN; i++)
		h = h << 1 | (low[i] > med);
	return h;
}

int phash_image(struct resize_ctx *ctx, const uint8_t *gray, int w, int h, uint64_t *dhash,
		uint64_t *phash)
{
	struct resize_opts od = { .w = HN + 1, .h = HN, .filter = RESIZE_LANCZOS };
	struct resize_opts op = { .w = DN, .h = DN, .filter = RESIZE_LANCZOS };
	uint8_t small[(HN + 1) * HN], big[DN * DN];

	if (resize_image(ctx, &od, gray, w, h, (size_t)w, 1, 0, small, HN + 1) < 0 ||
	    resize_image(ctx, &op, gray, w, h, (size_t)w, 1, 0, big, DN) < 0)
		return -1;
	*dhash = phash_dhash_bits(small);
	*phash = phash_dct_bits(big);
	return 0;
}
