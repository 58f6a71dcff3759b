/* tensor.c - the store step of a row: samples in the output's dtype and
 * layout, and --normalize. Built with -ffp-contract=off (Makefile): each
 * float operation is rounded on its own, as in torch's kernels. */
#include "image/tensor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tensor_dtype_names[] = { "u1", "u2", "f4", "f8", NULL };
const char *const tensor_layout_names[] = { "nhwc", "nchw", NULL };

/* torchvision's ImageNet figures, as its documentation and models quote them. */
static const struct tensor_norm imagenet = {
	.on = 1, .n = 3, .mean = { 0.485, 0.456, 0.406 }, .std = { 0.229, 0.224, 0.225 },
};

/* Up to 4 comma-separated numbers from S to END into V; their count, or -1. */
static int parse_list(const char *s, const char *end, double *v)
{
	int n = 0;

	for (;;) {
		char *e;

		if (n == 4 || s == end || !strchr("0123456789+-.", *s))
			return -1;
		errno = 0;
		v[n] = strtod(s, &e);
		if (e == s || e > end || errno == ERANGE || !isfinite(v[n]))
			return -1;
		n++;
		if (e == end)
			return n;
		if (*e != ',')
			return -1;
		s = e + 1;
	}
}

int tensor_norm_parse(const char *s, struct tensor_norm *n, char *why, size_t whylen)
{
	const char *colon = strchr(s, ':');
	int a, b;

	if (strcmp(s, "imagenet") == 0) {
		*n = imagenet;
		return 0;
	}
	memset(n, 0, sizeof(*n));
	n->on = 1;
	if (strcmp(s, "stats") == 0) {
		n->from_stats = 1;
		return 0;
	}
	if (!colon || (a = parse_list(s, colon, n->mean)) < 0 ||
	    (b = parse_list(colon + 1, colon + strlen(colon), n->std)) < 0) {
		snprintf(why, whylen, "MEAN,...:STD,... with 1 to 4 numbers each, "
			 "imagenet or stats");
		return -1;
	}
	if (a != b) {
		snprintf(why, whylen, "%d means but %d stds", a, b);
		return -1;
	}
	n->n = a;
	return tensor_norm_check(n, a, 0, why, whylen);
}

int tensor_norm_check(const struct tensor_norm *n, int c, int f4, char *why, size_t whylen)
{
	int k;

	if (n->n != c) {
		snprintf(why, whylen, "%d value%s for %d channel%s", n->n, n->n == 1 ? "" : "s",
			 c, c == 1 ? "" : "s");
		return -1;
	}
	for (k = 0; k < c; k++) {
		if (!isfinite(n->mean[k]) || !isfinite(n->std[k])) {
			snprintf(why, whylen, "channel %d: not a finite number", k);
			return -1;
		}
		/* torchvision refuses a std that is zero in the tensor's dtype. */
		if (n->std[k] == 0 || (f4 && (float)n->std[k] == 0)) {
			snprintf(why, whylen, "channel %d: std is zero%s", k,
				 n->std[k] != 0 ? " as a float32" : "");
			return -1;
		}
	}
	return 0;
}

/*
 * f4 with --normalize: ToTensor's img.float().div(255), then Normalize's
 * tensor.sub_(mean).div_(std), mean and std float32 tensors: three float32
 * operations, each rounded. An 8-bit sample has 256 values, so a table per
 * channel holds every result.
 */
static void norm_table_f4(const struct tensor_norm *n, int c, float lut[][256])
{
	int k, v;

	for (k = 0; k < c; k++) {
		float m = (float)n->mean[k], sd = (float)n->std[k];

		for (v = 0; v < 256; v++) {
			float x = (float)v / 255.0f;

			x = x - m;
			lut[k][v] = x / sd;
		}
	}
}

/* f8 with --normalize: the same pipeline with torch's default dtype
 * float64 (torch.set_default_dtype(torch.float64)): in double. */
static void norm_table_f8(const struct tensor_norm *n, int c, double lut[][256])
{
	int k, v;

	for (k = 0; k < c; k++)
		for (v = 0; v < 256; v++) {
			double x = (double)v / 255.0;

			x = x - n->mean[k];
			lut[k][v] = x / n->std[k];
		}
}

/* Without --normalize, 8-bit samples as store_plain converts them. */
static void plain_table_f4(int scale, int c, float lut[][256])
{
	int k, v;

	for (k = 0; k < c; k++)
		for (v = 0; v < 256; v++)
			lut[k][v] = (float)(v / (scale ? 255.0 : 1.0));
}

static void plain_table_f8(int scale, int c, double lut[][256])
{
	int k, v;

	for (k = 0; k < c; k++)
		for (v = 0; v < 256; v++)
			lut[k][v] = v / (scale ? 255.0 : 1.0);
}

/* Convert PIX's N pixels of C channel-interleaved samples into DST, as
 * they are (NHWC) or a plane per channel (NCHW, written in order):
 * DST[...] = CONV(sample) with the sample in V. */
#define STORE(T, dst, SRC, pix, npix, c, nchw, CONV)                               \
	do {                                                                       \
		T *d_ = (T *)(dst);                                                \
		const SRC *p_ = (const SRC *)(pix);                                \
		size_t i_;                                                         \
		int k_;                                                            \
		if (nchw) {                                                        \
			for (k_ = 0; k_ < (c); k_++, d_ += (npix))                 \
				for (i_ = 0; i_ < (npix); i_++) {                  \
					unsigned v_ = p_[i_ * (size_t)(c) + (size_t)k_]; \
					d_[i_] = CONV;                             \
				}                                                  \
		} else {                                                           \
			for (i_ = 0; i_ < (npix) * (size_t)(c); i_ += (size_t)(c)) \
				for (k_ = 0; k_ < (c); k_++) {                     \
					unsigned v_ = p_[i_ + (size_t)k_];         \
					d_[i_ + (size_t)k_] = CONV;                \
				}                                                  \
		}                                                                  \
	} while (0)

/* Without --normalize: u1/u2 as decoded; f4/f8 the sample values, or with
 * --scale the values over their maximum (computed in double: correctly
 * rounded for f4 too, double being over twice float's precision). */
static void store_plain(const struct tensor_fmt *s, void *dst, const void *pix, size_t npix,
			int depth16)
{
	double div = !s->scale ? 1.0 : depth16 ? 65535.0 : 255.0;
	int nchw = s->layout == TENSOR_NCHW, c = s->channels;

	if (!nchw && (s->dtype == TENSOR_U1 || s->dtype == TENSOR_U2)) {
		memcpy(dst, pix, npix * (size_t)c * (depth16 ? 2 : 1));
		return;
	}
	switch (s->dtype) {
	case TENSOR_U1:
		STORE(uint8_t, dst, uint8_t, pix, npix, c, 1, (uint8_t)v_);
		break;
	case TENSOR_U2:
		STORE(uint16_t, dst, uint16_t, pix, npix, c, 1, (uint16_t)v_);
		break;
	case TENSOR_F4:
		if (depth16)
			STORE(float, dst, uint16_t, pix, npix, c, nchw, (float)(v_ / div));
		else
			STORE(float, dst, uint8_t, pix, npix, c, nchw, (float)(v_ / div));
		break;
	case TENSOR_F8:
		if (depth16)
			STORE(double, dst, uint16_t, pix, npix, c, nchw, v_ / div);
		else
			STORE(double, dst, uint8_t, pix, npix, c, nchw, v_ / div);
		break;
	}
}

void tensor_store(const struct tensor_fmt *s, void *dst, const void *pix, size_t w, size_t h,
		  int depth16)
{
	size_t npix = w * h;
	int c = s->channels, nchw = s->layout == TENSOR_NCHW;

	/* 8-bit samples to floats go through a table per channel (--normalize's
	 * samples are 8-bit, as ToTensor scales only those). */
	if (depth16 || (s->dtype != TENSOR_F4 && s->dtype != TENSOR_F8)) {
		store_plain(s, dst, pix, npix, depth16);
	} else if (s->dtype == TENSOR_F4) {
		float lut[4][256];

		if (s->norm && s->norm->on)
			norm_table_f4(s->norm, c, lut);
		else
			plain_table_f4(s->scale, c, lut);
		STORE(float, dst, uint8_t, pix, npix, c, nchw, lut[k_][v_]);
	} else {
		double lut[4][256];

		if (s->norm && s->norm->on)
			norm_table_f8(s->norm, c, lut);
		else
			plain_table_f8(s->scale, c, lut);
		STORE(double, dst, uint8_t, pix, npix, c, nchw, lut[k_][v_]);
	}
}
