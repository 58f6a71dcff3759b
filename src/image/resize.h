/* resize.h - the resampler behind "load --resize", used by every decoder:
 * Pillow's Image.resize() to the bit for 8-bit samples (its filters,
 * coefficients, fixed point and premultiplied alpha), the same filters in
 * double precision for 16-bit samples, and the aspect-keeping geometries
 * (cover: torchvision's Resize + CenterCrop; contain: a letterbox). */
#ifndef PARIMG_RESIZE_H
#define PARIMG_RESIZE_H

#include <stddef.h>
#include <stdint.h>

enum resize_filter {
	RESIZE_NEAREST, RESIZE_BOX, RESIZE_BILINEAR, RESIZE_HAMMING, RESIZE_BICUBIC,
	RESIZE_LANCZOS
};
enum resize_fit { RESIZE_STRETCH, RESIZE_COVER, RESIZE_CONTAIN };

/* NULL-terminated, indexed by the enums: "nearest", ... and "stretch", ... */
extern const char *const resize_filter_names[];
extern const char *const resize_fit_names[];

/* What every image of a run is resized to. */
struct resize_opts {
	int w, h;			/* target size, 1 to 2^24 each */
	enum resize_filter filter;
	enum resize_fit fit;
	unsigned pad;			/* contain: the margins' 8-bit value (x257 at 16 bits) */
};

/* Where a source lands in the target. The whole source is scaled to
 * SW x SH; of that, the CW x CH pixels from column CX, row CY are kept and
 * written at column OX, row OY of the target; the rest is margin. */
struct resize_geom {
	int sw, sh;
	int cx, cy;
	int cw, ch;
	int ox, oy;
};

/* The largest side a source may be scaled to (before cover's crop). */
#define RESIZE_MAX_SCALED (1 << 30)

/* The geometry of a W x H source under O (see the man page, --fit). 0, or
 * -1 when cover would scale a side beyond RESIZE_MAX_SCALED. */
int resize_geometry(const struct resize_opts *o, int w, int h, struct resize_geom *g);

/* One axis of a plan: for each output kept, a window of TAPS source
 * indices from START and Pillow's coefficients for it (zero where its own,
 * shorter, window does not reach). Exposed for the unit tests. */
struct resize_axis {
	int n, taps;			/* outputs kept; coefficients per output */
	int lo, hi;			/* the source indices any window reads */
	int *start;			/* n: first source index of each window */
	int32_t *k;			/* n x taps: 8-bit path, 22-bit fixed point */
	double *kd;			/* n x taps: 16-bit path, normalised doubles */
};

/* Fill A for outputs [FIRST, FIRST + COUNT) of a filter F (not NEAREST)
 * scaling IN samples to OUT. 0, or -1 when out of memory. */
int resize_axis_init(struct resize_axis *a, enum resize_filter f, int in, int out, int first,
		     int count);
void resize_axis_free(struct resize_axis *a);

/* A process's resampler: the plans of the last few source sizes (a
 * worker sees many images of one size: coefficients are computed once)
 * and scratch buffers that only grow. Zero-initialise. */
struct resize_ctx {
	struct resize_plan *plans;	/* most recently used first */
	void *inter;			/* the horizontal pass's rows */
	size_t inter_cap;
	void *strip;			/* a strip of source rows, transposed */
	size_t strip_cap;
	void *rows;			/* the vertical pass's row pointers */
	size_t rows_cap;
};

/* Resize the W x H image of C channels (1-4; 2 and 4 carry alpha) at SRC,
 * rows STRIDE bytes apart, 8-bit samples or 16-bit when DEPTH16, to O's
 * target at DST, rows DST_STRIDE bytes apart. 0, or -1 with errno ENOMEM,
 * or EOVERFLOW for a geometry out of range. */
int resize_image(struct resize_ctx *ctx, const struct resize_opts *o, const void *src, int w,
		 int h, size_t stride, int c, int depth16, void *dst, size_t dst_stride);

/* The source rectangle [X0, X1) x [Y0, Y1) that resizing a W x H source
 * under O reads: a decoder that can decode less need decode only that. */
struct resize_window {
	int x0, x1, y0, y1;
};

/* Fill WIN for the W x H source of C channels at DEPTH16 (the plan is made
 * and kept, as resize_image makes it). 0, or -1 as resize_image fails. */
int resize_source_window(struct resize_ctx *ctx, const struct resize_opts *o, int w, int h,
			 int c, int depth16, struct resize_window *win);

/* resize_image of a W x H source of which only a window is in memory: SRC
 * is its pixel (X0, Y0), rows STRIDE bytes apart, and the window must hold
 * the rectangle resize_source_window gives. */
int resize_image_window(struct resize_ctx *ctx, const struct resize_opts *o, const void *src,
			int w, int h, int x0, int y0, size_t stride, int c, int depth16,
			void *dst, size_t dst_stride);

/* Free what CTX holds; it can be used again. */
void resize_ctx_free(struct resize_ctx *ctx);

#endif
