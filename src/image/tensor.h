/* tensor.h - rows as a PyTorch model takes them: channels-first planes
 * (--layout nchw) and torchvision's Normalize(mean, std)(ToTensor()(img)),
 * bit for bit, applied as the samples are stored into the row. */
#ifndef PARIMG_TENSOR_H
#define PARIMG_TENSOR_H

#include <stddef.h>
#include <stdint.h>

/* The output's sample types: uint8, uint16, float32, float64. */
enum tensor_dtype { TENSOR_U1, TENSOR_U2, TENSOR_F4, TENSOR_F8 };

/* "u1", "u2", "f4", "f8", NULL-terminated, indexed by enum tensor_dtype. */
extern const char *const tensor_dtype_names[];

enum tensor_layout { TENSOR_NHWC, TENSOR_NCHW };

/* "nhwc", "nchw", NULL-terminated, indexed by enum tensor_layout. */
extern const char *const tensor_layout_names[];

/* --normalize's figures, as given (double); applied in the output's float
 * type, as torchvision converts them to the tensor's dtype. */
struct tensor_norm {
	int on;			/* --normalize given */
	int from_stats;		/* "stats": mean and std come from --stats-from */
	int n;			/* values given: 1-4, the channels */
	double mean[4], std[4];
};

/* Parse --normalize's value: "MEAN,...:STD,..." (1 to 4 of each, as many
 * of both), "imagenet" or "stats". 0, or -1 with the reason in WHY
 * (a count mismatch, a zero std, a malformed number). */
int tensor_norm_parse(const char *s, struct tensor_norm *n, char *why, size_t whylen);
/* Check N's figures: count C, no zero std (also after conversion to float
 * when F4), all finite. 0, or -1 with the reason in WHY. */
int tensor_norm_check(const struct tensor_norm *n, int c, int f4, char *why, size_t whylen);

/* How samples are stored: the five things of a row's spec (row.h) that
 * tensor_store needs. */
struct tensor_fmt {
	int channels;			/* 1-4, interleaved in the source */
	enum tensor_dtype dtype;
	int scale;			/* f4/f8: samples in [0,1] */
	enum tensor_layout layout;
	const struct tensor_norm *norm;	/* --normalize, when norm->on */
};

/* Store the W x H x F->channels interleaved samples PIX (8- or 16-bit,
 * DEPTH16) into DST in F's dtype and layout: NHWC as they are, NCHW as one
 * plane per channel; with --normalize, each sample as torchvision's
 * ToTensor then Normalize gives it. One image's worth, so a caller holding
 * images of their own sizes (a ragged row) calls it once per image. */
void tensor_store(const struct tensor_fmt *f, void *dst, const void *pix, size_t w, size_t h,
		  int depth16);

#endif
