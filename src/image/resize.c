/* resize.c - separable resampling as Pillow's Image.resize() does it, made
 * fast: coefficients computed once per source size, and fixed-point inner
 * loops over whole strips of pixels in vector types (this file is built
 * with -O3, with an AVX2 clone of the hot loops on x86-64). */
#include "image/resize.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const resize_filter_names[] = {
	"nearest", "box", "bilinear", "hamming", "bicubic", "lanczos", NULL
};
const char *const resize_fit_names[] = { "stretch", "cover", "contain", NULL };

/* Pillow's coefficients have 22 fractional bits: 8 for the sample, 2 for
 * the overshoot of negative lobes, in a 32-bit sum. */
#define PREC 22
#define HALF (1 << (PREC - 1))
#define MAX_PLANS 8

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HOT __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef HOT
#define HOT
#endif
#define INLINE static inline __attribute__((always_inline))

/* A source size's plan: its geometry and both axes' windows. */
struct resize_plan {
	struct resize_plan *next;
	struct resize_opts o;		/* the key: options, source, channels, depth */
	int w, h, c, depth16;
	struct resize_geom g;
	int need_x, need_y;		/* a pass per axis whose size changes */
	int premul;			/* alpha: resample premultiplied */
	struct resize_axis x, y;	/* filters; NEAREST: start only */
};

/* ------------------------------------------------------------ geometry */

/* Python's round() of D / 2: halves go to the even neighbour. */
static int half_even(int d)
{
	int k = d / 2;

	return d % 2 && k % 2 ? k + 1 : k;
}

/*
 * cover: the side whose scale factor is the larger one gets its target
 * size exactly and the other floor(target * other / side), as torchvision's
 * Resize(int) computes int(size * long / short) (an exact quotient of
 * integers below 2^53, so the integer division here agrees); then
 * CenterCrop's offsets, round((scaled - target) / 2) with Python's round.
 * contain: the side whose factor is the smaller one gets its size, the
 * other floor(...) but at least 1; the margins are split as CenterCrop pads,
 * the odd pixel going right and down.
 */
int resize_geometry(const struct resize_opts *o, int w, int h, struct resize_geom *g)
{
	uint64_t wide = (uint64_t)o->w * (uint64_t)h, tall = (uint64_t)o->h * (uint64_t)w;
	uint64_t sw = (uint64_t)o->w, sh = (uint64_t)o->h;

	memset(g, 0, sizeof(*g));
	if (o->fit == RESIZE_COVER && wide >= tall)
		sh = wide / (uint64_t)w;
	else if (o->fit == RESIZE_COVER)
		sw = tall / (uint64_t)h;
	else if (o->fit == RESIZE_CONTAIN && wide <= tall)
		sh = wide / (uint64_t)w ? wide / (uint64_t)w : 1;
	else if (o->fit == RESIZE_CONTAIN)
		sw = tall / (uint64_t)h ? tall / (uint64_t)h : 1;
	if (sw > RESIZE_MAX_SCALED || sh > RESIZE_MAX_SCALED)
		return -1;
	g->sw = (int)sw;
	g->sh = (int)sh;
	g->cw = o->fit == RESIZE_CONTAIN ? g->sw : o->w;
	g->ch = o->fit == RESIZE_CONTAIN ? g->sh : o->h;
	if (o->fit == RESIZE_COVER) {
		g->cx = half_even(g->sw - o->w);
		g->cy = half_even(g->sh - o->h);
	} else if (o->fit == RESIZE_CONTAIN) {
		g->ox = (o->w - g->cw) / 2;
		g->oy = (o->h - g->ch) / 2;
	}
	return 0;
}

/* ------------------------------------------------------------ filters */

/* Pillow's filter kernels, each evaluated in the same operations in the
 * same order, so that its coefficients come out bit for bit. */
static double box(double x)
{
	return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

static double bilinear(double x)
{
	x = fabs(x);
	return x < 1.0 ? 1.0 - x : 0.0;
}

static double hamming(double x)
{
	x = fabs(x);
	if (x == 0.0)
		return 1.0;
	if (x >= 1.0)
		return 0.0;
	x *= M_PI;
	/* Pillow writes its constants as floats: 0.54f, 0.46f. */
	return sin(x) / x * ((double)0.54f + (double)0.46f * cos(x));
}

/* Keys' cubic with a = -0.5. */
static double bicubic(double x)
{
	x = fabs(x);
	if (x < 1.0)
		return (1.5 * x - 2.5) * x * x + 1;
	if (x < 2.0)
		return (((x - 5) * x + 8) * x - 4) * -0.5;
	return 0.0;
}

static double sinc(double x)
{
	if (x == 0.0)
		return 1.0;
	x *= M_PI;
	return sin(x) / x;
}

static double lanczos(double x)
{
	return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

static const struct {
	double (*fn)(double);
	double support;
} filters[] = {
	[RESIZE_BOX] = { box, 0.5 },
	[RESIZE_BILINEAR] = { bilinear, 1.0 },
	[RESIZE_HAMMING] = { hamming, 1.0 },
	[RESIZE_BICUBIC] = { bicubic, 2.0 },
	[RESIZE_LANCZOS] = { lanczos, 3.0 },
};

void resize_axis_free(struct resize_axis *a)
{
	free(a->start);
	free(a->k);
	free(a->kd);
	memset(a, 0, sizeof(*a));
}

/* Output XX's window as Pillow computes it: source [*MIN, *MIN + return)
 * and its normalised weights in K (room for 2 * ceil(support) + 1). */
static int window(enum resize_filter f, int in, int xx, double scale, double fscale,
		  double support, int *min, double *k)
{
	double center = (xx + 0.5) * scale, ss = 1.0 / fscale, ww = 0.0;
	int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5), x;

	if (xmin < 0)
		xmin = 0;
	if (xmax > in)
		xmax = in;
	xmax -= xmin;
	for (x = 0; x < xmax; x++) {
		k[x] = filters[f].fn((x + xmin - center + 0.5) * ss);
		ww += k[x];
	}
	if (ww != 0.0)
		for (x = 0; x < xmax; x++)
			k[x] /= ww;
	*min = xmin;
	return xmax;
}

/*
 * Pillow widens the filter by the reduction factor, centres output XX at
 * source (XX + 0.5) * scale, rounds the window's ends, normalises the
 * weights to sum 1 and rounds them half away from zero to 22 bits. Here
 * every window is then widened to the longest one's length TAPS, shifted
 * left where it would run off the end, with zero weights where Pillow's
 * has none: the sums are the same, and the loops have a fixed length.
 */
int resize_axis_init(struct resize_axis *a, enum resize_filter f, int in, int out, int first,
		     int count)
{
	double scale = (double)in / out, fscale = scale < 1.0 ? 1.0 : scale;
	double support = filters[f].support * fscale, *k;
	int ksize = (int)ceil(support) * 2 + 1, *len, i, j;

	memset(a, 0, sizeof(*a));
	a->n = count;
	len = malloc((size_t)count * sizeof(*len));
	k = malloc((size_t)count * (size_t)ksize * sizeof(*k));
	a->start = malloc((size_t)count * sizeof(*a->start));
	if (!len || !k || !a->start)
		goto fail;
	for (i = 0; i < count; i++) {
		len[i] = window(f, in, first + i, scale, fscale, support, &a->start[i],
				k + (size_t)i * (size_t)ksize);
		if (len[i] > a->taps)
			a->taps = len[i];
	}
	if (a->taps == 0)
		a->taps = 1;
	a->k = calloc((size_t)count * (size_t)a->taps, sizeof(*a->k));
	a->kd = calloc((size_t)count * (size_t)a->taps, sizeof(*a->kd));
	if (!a->k || !a->kd)
		goto fail;
	for (i = 0; i < count; i++) {
		int s = a->start[i] < in - a->taps ? a->start[i] : in - a->taps;
		int shift = a->start[i] - s;
		int32_t *q = a->k + (size_t)i * (size_t)a->taps + shift;
		double *kd = a->kd + (size_t)i * (size_t)a->taps + shift;

		for (j = 0; j < len[i]; j++) {
			double v = k[(size_t)i * (size_t)ksize + (size_t)j];

			kd[j] = v;
			q[j] = (int32_t)(v < 0 ? -0.5 + v * (1 << PREC) : 0.5 + v * (1 << PREC));
		}
		a->start[i] = s;
	}
	a->lo = count ? a->start[0] : 0;
	a->hi = count ? a->start[count - 1] + a->taps : 0;
	free(len);
	free(k);
	return 0;
fail:
	free(len);
	free(k);
	resize_axis_free(a);
	return -1;
}

/*
 * NEAREST as Pillow does it, an affine scale: output x reads source
 * floor(x0 + x * step), the position accumulated by repeated addition
 * from half a step (so that it rounds as Pillow's does), -1 off the image.
 */
static int nearest_init(struct resize_axis *a, int in, int out, int first, int count)
{
	double step = (double)in / out, pos = step * 0.5;
	int i;

	memset(a, 0, sizeof(*a));
	a->n = count;
	if (!(a->start = malloc((size_t)count * sizeof(*a->start))))
		return -1;
	for (i = 0; i < first + count; i++, pos += step)
		if (i >= first)
			a->start[i - first] = pos < 0.0 || (int)pos >= in ? -1 : (int)pos;
	return 0;
}

/* Pillow's premultiplication, c * a / 255 rounded (Convert.c's MULDIV255),
 * and back, 255 * c / a truncated and clipped with alpha 0 and 255 left as
 * they are, as tables indexed [alpha][colour]: made once per process, the
 * first time an image with alpha is resized. */
static uint8_t premul_tab[256][256], unpremul_tab[256][256];

static void make_tables(void)
{
	static int made;
	unsigned a, c;

	if (made)
		return;
	for (a = 0; a < 256; a++) {
		for (c = 0; c < 256; c++) {
			unsigned t = c * a + 128, q = a ? 255 * c / a : c;

			premul_tab[a][c] = (uint8_t)((t + (t >> 8)) >> 8);
			unpremul_tab[a][c] = (uint8_t)(a == 0 || a == 255 ? c : q > 255 ? 255 : q);
		}
	}
	made = 1;
}

static void unpremul8(uint8_t *p, int n, int c)
{
	int i, j;

	for (i = 0; i < n; i++, p += c)
		for (j = 0; j < c - 1; j++)
			p[j] = unpremul_tab[p[c - 1]][p[j]];
}

/* ------------------------------------------------------------ plans */

static void plan_free(struct resize_plan *p)
{
	resize_axis_free(&p->x);
	resize_axis_free(&p->y);
	free(p);
}

static int plan_matches(const struct resize_plan *p, const struct resize_opts *o, int w, int h,
			int c, int depth16)
{
	return p->w == w && p->h == h && p->c == c && p->depth16 == depth16 && p->o.w == o->w &&
	       p->o.h == o->h && p->o.filter == o->filter && p->o.fit == o->fit &&
	       p->o.pad == o->pad;
}

static struct resize_plan *plan_new(const struct resize_opts *o, int w, int h, int c,
				    int depth16)
{
	struct resize_plan *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return NULL;
	p->o = *o;
	p->w = w;
	p->h = h;
	p->c = c;
	p->depth16 = depth16;
	if (resize_geometry(o, w, h, &p->g) < 0) {
		free(p);
		errno = EOVERFLOW;
		return NULL;
	}
	p->need_x = p->g.sw != w;
	p->need_y = p->g.sh != h;
	/* Pillow's resize() returns a copy when the size does not change,
	 * and skips the premultiplication with it. */
	p->premul = (c == 2 || c == 4) && o->filter != RESIZE_NEAREST && (p->need_x || p->need_y);
	if (p->premul && !depth16)
		make_tables();
	if (o->filter == RESIZE_NEAREST)
		r = nearest_init(&p->x, w, p->g.sw, p->g.cx, p->g.cw) |
		    nearest_init(&p->y, h, p->g.sh, p->g.cy, p->g.ch);
	else
		r = resize_axis_init(&p->x, o->filter, w, p->g.sw, p->g.cx, p->g.cw) |
		    resize_axis_init(&p->y, o->filter, h, p->g.sh, p->g.cy, p->g.ch);
	if (r) {
		plan_free(p);
		return NULL;
	}
	return p;
}

/* The plan for this source, from the cache or made (evicting the least
 * recently used beyond MAX_PLANS); NULL when out of memory. */
static struct resize_plan *plan_get(struct resize_ctx *ctx, const struct resize_opts *o, int w,
				    int h, int c, int depth16)
{
	struct resize_plan **pp, *p;
	int n = 0;

	for (pp = &ctx->plans; (p = *pp); pp = &p->next, n++) {
		if (plan_matches(p, o, w, h, c, depth16)) {
			*pp = p->next;
			p->next = ctx->plans;
			ctx->plans = p;
			return p;
		}
		if (n == MAX_PLANS - 1) {
			*pp = NULL;
			while (p) {
				struct resize_plan *next = p->next;

				plan_free(p);
				p = next;
			}
			break;
		}
	}
	if (!(p = plan_new(o, w, h, c, depth16)))
		return NULL;
	p->next = ctx->plans;
	ctx->plans = p;
	return p;
}

/* Make *BUF hold N bytes; 0, or -1 when out of memory. */
static int reserve(void **buf, size_t *cap, size_t n)
{
	void *p;

	if (*cap >= n)
		return 0;
	if (!(p = malloc(n)))
		return -1;
	free(*buf);
	*buf = p;
	*cap = n;
	return 0;
}

void resize_ctx_free(struct resize_ctx *ctx)
{
	while (ctx->plans) {
		struct resize_plan *next = ctx->plans->next;

		plan_free(ctx->plans);
		ctx->plans = next;
	}
	free(ctx->inter);
	free(ctx->strip);
	free(ctx->rows);
	memset(ctx, 0, sizeof(*ctx));
}

/* ------------------------------------------------------------ 8-bit */

/*
 * The sums are kept in 8 x 32-bit vectors of GNU C's vector extension:
 * plain C that GCC and clang compile to SSE2, to AVX2 in the clones, or to
 * scalar code elsewhere. Each lane is Pillow's sum for one sample: 2^21
 * plus sample times 22-bit weight over the taps, then >> 22, clipped. The
 * samples the sums read (the transposed strips, the intermediate rows) are
 * 32-bit integers, multiplied straight from memory: GCC 12 widens bytes
 * and 16-bit integers only lane by lane or in several steps.
 */
typedef int32_t vi32 __attribute__((vector_size(32)));
typedef int16_t vi16 __attribute__((vector_size(16)));
typedef uint8_t vu8 __attribute__((vector_size(8)));

/* Vectors go by address: clang refuses 32-byte vector arguments (and
 * GCC warns of them) where AVX is not enabled, inlined or not. */
INLINE void clipv(vi32 *v)
{
	*v >>= PREC;
	*v &= *v > 0;		/* a comparison's lanes are 0 or -1 */
	*v = (*v & ~(*v > 255)) | (255 & (*v > 255));
}

INLINE uint8_t clip8(int32_t v)
{
	v >>= PREC;
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/*
 * The horizontal pass on a strip of R rows of C channels: the strip is
 * stored transposed, L = R * C samples per source column, so that each
 * output pixel is L sums over the same taps with the same weights, L / 8
 * vectors read whole with no shuffling, whatever C is. Results go to the
 * rows OUT, copied out of the vectors' stores by reads that each lie
 * within one store, so that the store is forwarded to them.
 */
#define LMAX 64
INLINE void hpass8_strip(const int32_t *t, const struct resize_axis *a, int i0, int i1,
			 int32_t *const *out, int r, int c)
{
	int l = r * c, nv = l / 8, i, j, v, m, ch;

	for (i = i0; i < i1; i++) {
		const int32_t *s = t + (size_t)(a->start[i] - a->start[i0]) * (size_t)l;
		const int32_t *k = a->k + (size_t)i * (size_t)a->taps;
		vi32 acc[LMAX / 8], x;
		int32_t px[LMAX];

		for (v = 0; v < nv; v++)
			acc[v] = (vi32){ 0 } + HALF;
		for (j = 0; j < a->taps; j++, s += l) {
			for (v = 0; v < nv; v++) {
				memcpy(&x, s + 8 * v, sizeof(x));
				acc[v] += x * k[j];
			}
		}
		for (v = 0; v < nv; v++) {
			x = acc[v];
			clipv(&x);
			memcpy(px + 8 * v, &x, sizeof(x));
		}
		for (m = 0; m < r; m++) {
			int32_t *d = out[m] + (size_t)i * (size_t)c;

			if (m * c / 8 == (m * c + c - 1) / 8)
				memcpy(d, px + m * c, (size_t)c * sizeof(*d));
			else
				for (ch = 0; ch < c; ch++)
					d[ch] = px[m * c + ch];
		}
	}
}

/* One per channel count, R x C = 32 to 64 lanes. */
#define STRIP_ROWS(c) ((c) == 1 ? 32 : 16)
HOT static void hpass8_c1(const int32_t *t, const struct resize_axis *a, int i0, int i1,
			  int32_t *const *out)
{
	hpass8_strip(t, a, i0, i1, out, 32, 1);
}
HOT static void hpass8_c2(const int32_t *t, const struct resize_axis *a, int i0, int i1,
			  int32_t *const *out)
{
	hpass8_strip(t, a, i0, i1, out, 16, 2);
}
HOT static void hpass8_c3(const int32_t *t, const struct resize_axis *a, int i0, int i1,
			  int32_t *const *out)
{
	hpass8_strip(t, a, i0, i1, out, 16, 3);
}
HOT static void hpass8_c4(const int32_t *t, const struct resize_axis *a, int i0, int i1,
			  int32_t *const *out)
{
	hpass8_strip(t, a, i0, i1, out, 16, 4);
}

/* Copy N pixels of C 8-bit channels from S to 32-bit D (a loop the
 * compiler vectorizes), or premultiplied when PREMUL (by table). */
INLINE void widen(int32_t *restrict d, const uint8_t *restrict s, int n, int c, int premul)
{
	size_t i, m = (size_t)n * (size_t)c;

	if (!premul) {
		for (i = 0; i < m; i++)
			d[i] = s[i];
	} else if (c == 4) {
		for (i = 0; i < m; i += 4) {
			d[i] = premul_tab[s[i + 3]][s[i]];
			d[i + 1] = premul_tab[s[i + 3]][s[i + 1]];
			d[i + 2] = premul_tab[s[i + 3]][s[i + 2]];
			d[i + 3] = s[i + 3];
		}
	} else {
		for (i = 0; i < m; i += 2) {
			d[i] = premul_tab[s[i + 1]][s[i]];
			d[i + 1] = s[i + 1];
		}
	}
}

/* A source row for the vertical pass alone. */
HOT static void widen_row(int32_t *d, const uint8_t *s, int n, int c, int premul)
{
	widen(d, s, n, c, premul);
}

/*
 * Fill row M of a strip of R rows at T: source pixels [0, N) of S go to
 * T + x * L + M * C, through TMP (N * C + 1 samples). Three channels are
 * copied four at a time, the fourth landing in row M + 1's place (written
 * after), or for the last row in the next column's first (already
 * written: there the three go alone).
 */
HOT static void fill_strip(int32_t *t, int32_t *tmp, const uint8_t *s, int n, int m, int r,
			   int c, int premul)
{
	size_t l = (size_t)r * (size_t)c;
	int32_t *d = t + (size_t)m * (size_t)c;
	int x;

	widen(tmp, s, n, c, premul);
	tmp[(size_t)n * (size_t)c] = 0;		/* read as 3 channels' fourth */
	switch (c) {
	case 1:
		for (x = 0; x < n; x++, d += l)
			*d = tmp[x];
		break;
	case 2:
		for (x = 0; x < n; x++, d += l)
			memcpy(d, tmp + 2 * x, 2 * sizeof(*d));
		break;
	case 3:
		if (m == r - 1) {
			for (x = 0; x < n; x++, d += l)
				memcpy(d, tmp + 3 * x, 3 * sizeof(*d));
			break;
		}
		for (x = 0; x < n; x++, d += l)
			memcpy(d, tmp + 3 * x, 4 * sizeof(*d));
		break;
	default:
		for (x = 0; x < n; x++, d += l)
			memcpy(d, tmp + 4 * x, 4 * sizeof(*d));
	}
}

INLINE void store8(uint8_t *p, vi32 *v)
{
	vu8 b;

	clipv(v);
	b = __builtin_convertvector(__builtin_convertvector(*v, vi16), vu8);
	memcpy(p, &b, sizeof(b));
}

/* The vertical pass for one output row: N samples, each the sum over
 * TAPS rows, 32 at a time in registers. */
HOT static void vpass8(const int32_t *const *rows, const int32_t *k, int taps, size_t n,
		       uint8_t *out)
{
	size_t i = 0;
	int j;

	for (; i + 32 <= n; i += 32) {
		vi32 a0 = (vi32){ 0 } + HALF, a1 = a0, a2 = a0, a3 = a0, x;

		for (j = 0; j < taps; j++) {
			const int32_t *p = rows[j] + i;

			memcpy(&x, p, sizeof(x));
			a0 += x * k[j];
			memcpy(&x, p + 8, sizeof(x));
			a1 += x * k[j];
			memcpy(&x, p + 16, sizeof(x));
			a2 += x * k[j];
			memcpy(&x, p + 24, sizeof(x));
			a3 += x * k[j];
		}
		store8(out + i, &a0);
		store8(out + i + 8, &a1);
		store8(out + i + 16, &a2);
		store8(out + i + 24, &a3);
	}
	for (; i < n; i++) {
		int32_t acc = HALF;

		for (j = 0; j < taps; j++)
			acc += rows[j][i] * k[j];
		out[i] = clip8(acc);
	}
}

/* ------------------------------------------------------------ 16-bit */

/* The 16-bit path mirrors the 8-bit one: premultiply c * a / 65535 rounded,
 * each pass's sums (double, with Pillow's unrounded weights) rounded half
 * up and clipped, un-premultiply 65535 * c / a truncated. */
INLINE uint16_t mul65535(uint32_t c, uint32_t a)
{
	return (uint16_t)((c * a + 32767u) / 65535u);
}

INLINE uint16_t clip16(double v)
{
	v += 0.5;
	return (uint16_t)(v < 0.0 ? 0 : v >= 65535.0 ? 65535 : v);
}

static void unpremul16(uint16_t *p, int n, int c)
{
	int i, j;

	for (i = 0; i < n; i++, p += c) {
		uint32_t a = p[c - 1];

		if (a == 0 || a == 65535)
			continue;
		for (j = 0; j < c - 1; j++) {
			uint32_t q = (uint32_t)(p[j] * 65535u) / a;

			p[j] = (uint16_t)(q > 65535 ? 65535 : q);
		}
	}
}

/* One row of the horizontal pass from source row S (premultiplied into
 * TMP first when PREMUL). */
static void hpass16(const uint16_t *s, uint16_t *tmp, const struct resize_axis *a, int c,
		    int lo, int hi, int premul, uint16_t *out)
{
	int i, j, ch;

	if (premul) {
		for (i = lo; i < hi; i++) {
			const uint16_t *p = s + (size_t)i * (size_t)c;

			for (ch = 0; ch < c - 1; ch++)
				tmp[(size_t)i * (size_t)c + (size_t)ch] = mul65535(p[ch], p[c - 1]);
			tmp[(size_t)i * (size_t)c + (size_t)c - 1] = p[c - 1];
		}
		s = tmp;
	}
	for (i = 0; i < a->n; i++) {
		const uint16_t *p = s + (size_t)a->start[i] * (size_t)c;
		const double *k = a->kd + (size_t)i * (size_t)a->taps;

		for (ch = 0; ch < c; ch++) {
			double sum = 0.0;

			for (j = 0; j < a->taps; j++)
				sum += p[(size_t)j * (size_t)c + (size_t)ch] * k[j];
			out[(size_t)i * (size_t)c + (size_t)ch] = clip16(sum);
		}
	}
}

HOT static void vpass16(const uint16_t *const *rows, const double *k, int taps, size_t n,
			double *acc, uint16_t *out)
{
	size_t i;
	int j;

	for (i = 0; i < n; i++)
		acc[i] = 0.0;
	for (j = 0; j < taps; j++)
		for (i = 0; i < n; i++)
			acc[i] += rows[j][i] * k[j];
	for (i = 0; i < n; i++)
		out[i] = clip16(acc[i]);
}

/* ------------------------------------------------------------ passes */

/* The job at hand: source, destination's kept region, plan. */
struct job {
	const struct resize_plan *p;
	const unsigned char *src;
	size_t stride;
	unsigned char *dst;		/* where the kept region starts */
	size_t dst_stride;
	size_t bps;			/* bytes per sample */
	int xend;			/* source columns from xend on are absent */
};

#define SRC_ROW(j, y) ((j)->src + (size_t)(y) * (j)->stride)
#define DST_ROW(j, y) ((j)->dst + (size_t)(y) * (j)->dst_stride)

/* No pass: the kept region of the source as it is. */
static void copy_region(const struct job *jb)
{
	const struct resize_plan *p = jb->p;
	size_t px = (size_t)p->c * jb->bps;
	int y;

	for (y = 0; y < p->g.ch; y++)
		memcpy(DST_ROW(jb, y), SRC_ROW(jb, p->g.cy + y) + (size_t)p->g.cx * px,
		       (size_t)p->g.cw * px);
}

/* Copy pixels of PX bytes from S + X[i] * PX to D (zero for X[i] < 0). */
INLINE void gather(unsigned char *d, const unsigned char *s, const int *x, int n, size_t px)
{
	int i;

	for (i = 0; i < n; i++, d += px) {
		if (x[i] >= 0)
			memcpy(d, s + (size_t)x[i] * px, px);
		else
			memset(d, 0, px);
	}
}

/* Three bytes a pixel, moved four at a time: the fourth lands where the
 * next pixel goes, and is read from within the row but at its end. */
static void gather3(unsigned char *d, const unsigned char *s, const int *x, int n, int w)
{
	int i;

	for (i = 0; i < n - 1; i++, d += 3) {
		if (x[i] >= 0 && x[i] < w - 1)
			memcpy(d, s + (size_t)x[i] * 3, 4);
		else
			gather(d, s, x + i, 1, 3);
	}
	gather(d, s, x + i, n - i, 3);
}

static void nearest(const struct job *jb)
{
	const struct resize_plan *p = jb->p;
	size_t px = (size_t)p->c * jb->bps;
	const int *x = p->x.start;
	int y, n = p->g.cw;

	for (y = 0; y < p->g.ch; y++) {
		unsigned char *d = DST_ROW(jb, y);
		const unsigned char *s = SRC_ROW(jb, p->y.start[y] < 0 ? 0 : p->y.start[y]);

		if (p->y.start[y] < 0) {
			memset(d, 0, (size_t)n * px);
			continue;
		}
		/* Constant sizes, for the copies to be single moves. */
		switch (px) {
		case 1: gather(d, s, x, n, 1); break;
		case 2: gather(d, s, x, n, 2); break;
		case 3: gather3(d, s, x, n, jb->xend); break;
		case 4: gather(d, s, x, n, 4); break;
		case 6: gather(d, s, x, n, 6); break;
		default: gather(d, s, x, n, 8); break;
		}
	}
}

/* The 16-bit horizontal pass, row by row, into OUT. */
static int hpass16_rows(struct resize_ctx *ctx, const struct job *jb, int y0, int y1,
			unsigned char *out, size_t out_stride)
{
	const struct resize_plan *p = jb->p;
	int y;

	if (p->premul && reserve(&ctx->strip, &ctx->strip_cap,
				 (size_t)p->w * (size_t)p->c * sizeof(uint16_t)) < 0)
		return -1;
	for (y = y0; y < y1; y++)
		hpass16((const uint16_t *)(const void *)SRC_ROW(jb, y), ctx->strip, &p->x, p->c,
			p->x.lo, p->x.hi, p->premul,
			(uint16_t *)(void *)(out + (size_t)(y - y0) * out_stride));
	return 0;
}

/* Point ROWS at the taps of output row Y of axis A, from rows IN (source
 * row y at IN + (y - BASE) * STRIDE bytes). */
static void taps_of(const void **rows, const struct resize_axis *a, int y, const void *in,
		    size_t stride, int base)
{
	int j;

	for (j = 0; j < a->taps; j++)
		rows[j] = (const unsigned char *)in + (size_t)(a->start[y] + j - base) * stride;
}

static void unpremul_region(const struct job *jb)
{
	const struct resize_plan *p = jb->p;
	int y;

	for (y = 0; y < p->g.ch; y++) {
		if (jb->bps == 1)
			unpremul8(DST_ROW(jb, y), p->g.cw, p->c);
		else
			unpremul16((uint16_t *)(void *)DST_ROW(jb, y), p->g.cw, p->c);
	}
}

/* Room for the intermediate rows (and the 16-bit vertical pass's sums),
 * and the vertical pass's row pointers. */
static int reserve_passes(struct resize_ctx *ctx, const struct resize_plan *p, size_t inter,
			  size_t acc)
{
	return reserve(&ctx->inter, &ctx->inter_cap, inter + acc) < 0 ||
	       reserve(&ctx->rows, &ctx->rows_cap, (size_t)p->y.taps * sizeof(void *)) < 0 ? -1
												 : 0;
}

/* Source columns a strip block spans at most, unless one output's window
 * needs more: 16 KiB of the transposed strip, to stay in the L1 cache. */
#define BLOCK_BYTES 16384

/* The source columns a strip block may span on axis A, L samples a column:
 * BLOCK_BYTES' worth, or when the windows are wider than a fraction of that
 * (a large reduction, LANCZOS's 500 px to 9 for a dhash), four windows'
 * worth, so that a block holds several outputs: windows that overlap by
 * five sixths would otherwise each transpose their columns anew. At most
 * what all the windows span, and at least one window. */
static int strip_span(const struct resize_axis *a, int l)
{
	int span = BLOCK_BYTES / (l * (int)sizeof(int32_t));
	int whole = a->start[a->n - 1] + a->taps - a->start[0];

	if (span < 4 * a->taps)
		span = 4 * a->taps < whole ? 4 * a->taps : whole;
	return span > a->taps ? span : a->taps;
}

/* The 8-bit horizontal pass over source rows [Y, Y_END), at most a strip,
 * into the 32-bit rows OUT[0..), in blocks of outputs whose windows span
 * about BLOCK_BYTES of transposed columns. */
static void hpass8(struct resize_ctx *ctx, const struct job *jb, int y, int y_end,
		   int32_t *const *out)
{
	const struct resize_plan *p = jb->p;
	const struct resize_axis *a = &p->x;
	int c = p->c, r = STRIP_ROWS(c), l = r * c, m, i0, i1;
	int span = strip_span(a, l);
	size_t strip = (size_t)span * (size_t)l;
	int32_t *t = ctx->strip, *outs[32];
	const uint8_t *rows[32];

	/* A short strip repeats its last row, and so its result: writing
	 * that twice is harmless. */
	for (m = 0; m < r; m++)
		outs[m] = out[y + m < y_end ? m : y_end - 1 - y];
	for (i0 = 0; i0 < a->n; i0 = i1) {
		int x0 = a->start[i0], n;

		for (i1 = i0 + 1; i1 < a->n && a->start[i1] + a->taps - x0 <= span; i1++)
			;
		n = a->start[i1 - 1] + a->taps - x0;
		for (m = 0; m < r; m++)
			rows[m] = SRC_ROW(jb, y + m < y_end ? y + m : y_end - 1) +
				  (size_t)x0 * (size_t)c;
		for (m = 0; m < r; m++)
			fill_strip(t, t + strip, rows[m], n, m, r, c, p->premul);
		switch (c) {
		case 1: hpass8_c1(t, a, i0, i1, outs); break;
		case 2: hpass8_c2(t, a, i0, i1, outs); break;
		case 3: hpass8_c3(t, a, i0, i1, outs); break;
		default: hpass8_c4(t, a, i0, i1, outs); break;
		}
	}
}

/* The intermediate rows are a ring of RING rows: source row Y's place. */
#define RING_ROW(inter, y, y0, ring, n) ((inter) + (size_t)(((y) - (y0)) % (ring)) * (n))

/* Output row Y of the 8-bit passes, from the intermediate rows. */
static void emit8(struct resize_ctx *ctx, const struct job *jb, int y, int32_t *inter, int y0,
		  int ring)
{
	const struct resize_plan *p = jb->p;
	size_t n = (size_t)p->g.cw * (size_t)p->c, i;
	const int32_t **rows = ctx->rows;
	uint8_t *d = DST_ROW(jb, y);
	int j;

	if (p->need_y) {
		for (j = 0; j < p->y.taps; j++)
			rows[j] = RING_ROW(inter, p->y.start[y] + j, y0, ring, n);
		vpass8(rows, p->y.k + (size_t)y * (size_t)p->y.taps, p->y.taps, n, d);
	} else {
		inter = RING_ROW(inter, p->g.cy + y, y0, ring, n);
		for (i = 0; i < n; i++)
			d[i] = (uint8_t)inter[i];
	}
}

/*
 * The 8-bit passes as Pillow runs them: horizontal first, over the source
 * rows that the vertical pass reads, into 32-bit intermediate rows; alone,
 * the vertical pass reads the source widened (and premultiplied) there.
 * Each output row is made as soon as its rows are, so that they need only
 * a ring of the rows of a strip plus a window (an output row not made yet
 * reads none older than a window before the strip), and are still cached;
 * four times that, as a tighter ring measured 10% slower.
 */
static int filter8(struct resize_ctx *ctx, const struct job *jb)
{
	const struct resize_plan *p = jb->p;
	size_t n = (size_t)p->g.cw * (size_t)p->c;
	int y0 = p->need_y ? p->y.lo : p->g.cy, y1 = p->need_y ? p->y.hi : p->g.cy + p->g.ch;
	int c = p->c, r = STRIP_ROWS(c), l = r * c, y, yy = 0, done, m;
	int step = p->need_x ? r : 1, ring = 4 * ((p->need_y ? p->y.taps : 1) + step);
	size_t strip = p->need_x ? (size_t)strip_span(&p->x, l) * (size_t)l : 0;
	int32_t *inter, *outs[32];

	if (ring > y1 - y0)
		ring = y1 - y0;
	if (reserve_passes(ctx, p, (size_t)ring * n * sizeof(int32_t), 0) < 0 ||
	    (p->need_x && reserve(&ctx->strip, &ctx->strip_cap,
				  (strip + strip / (size_t)r + 1) * sizeof(int32_t)) < 0))
		return -1;
	inter = ctx->inter;
	for (y = y0; y < y1; y = done) {
		done = y + step < y1 ? y + step : y1;
		if (p->need_x) {
			for (m = 0; m < r && y + m < done; m++)
				outs[m] = RING_ROW(inter, y + m, y0, ring, n);
			hpass8(ctx, jb, y, done, outs);
		} else {
			widen_row(RING_ROW(inter, y, y0, ring, n),
				  SRC_ROW(jb, y) + (size_t)p->g.cx * (size_t)c, p->g.cw, c, p->premul);
		}
		for (; yy < p->g.ch && (p->need_y ? p->y.start[yy] + p->y.taps
						  : p->g.cy + yy + 1) <= done; yy++)
			emit8(ctx, jb, yy, inter, y0, ring);
	}
	if (p->premul)
		unpremul_region(jb);
	return 0;
}

/* Premultiply 16-bit source rows [Y0, Y1), the kept columns, into OUT. */
static void premul16_rows(const struct job *jb, int y0, int y1, uint16_t *out)
{
	const struct resize_plan *p = jb->p;
	int c = p->c, y, x, ch;

	for (y = y0; y < y1; y++) {
		const uint16_t *s = (const uint16_t *)(const void *)SRC_ROW(jb, y) +
				    (size_t)p->g.cx * (size_t)c;

		for (x = 0; x < p->g.cw; x++, s += c, out += c) {
			for (ch = 0; ch < c - 1; ch++)
				out[ch] = mul65535(s[ch], s[c - 1]);
			out[c - 1] = s[c - 1];
		}
	}
}

/* The 16-bit passes, in the same order, through 16-bit rows. */
static int filter16(struct resize_ctx *ctx, const struct job *jb)
{
	const struct resize_plan *p = jb->p;
	size_t n = (size_t)p->g.cw * (size_t)p->c, row = n * sizeof(uint16_t), inter = 0;
	int y0 = p->need_y ? p->y.lo : p->g.cy, y1 = p->need_y ? p->y.hi : p->g.cy + p->g.ch;
	const unsigned char *vin = jb->src + (size_t)p->g.cx * row / (size_t)p->g.cw;
	size_t vstride = jb->stride;
	int base = 0, y;

	if (p->need_y && (p->need_x || p->premul))
		inter = (size_t)(y1 - y0) * row;
	inter = (inter + 31) / 32 * 32;		/* the sums after it: aligned */
	if (reserve_passes(ctx, p, inter, p->need_y ? n * sizeof(double) : 0) < 0)
		return -1;
	if (p->need_x) {
		if (hpass16_rows(ctx, jb, y0, y1, p->need_y ? ctx->inter : jb->dst,
				 p->need_y ? row : jb->dst_stride) < 0)
			return -1;
	} else if (p->premul) {
		premul16_rows(jb, y0, y1, ctx->inter);
	}
	if (inter) {
		vin = ctx->inter;
		vstride = row;
		base = y0;
	}
	for (y = 0; p->need_y && y < p->g.ch; y++) {
		taps_of(ctx->rows, &p->y, y, vin, vstride, base);
		vpass16(ctx->rows, p->y.kd + (size_t)y * (size_t)p->y.taps, p->y.taps, n,
			(double *)(void *)((unsigned char *)ctx->inter + inter),
			(uint16_t *)(void *)DST_ROW(jb, y));
	}
	if (p->premul)
		unpremul_region(jb);
	return 0;
}

/* Set samples [FROM, TO) of row D to V. */
static void fill(unsigned char *d, size_t from, size_t to, size_t bps, unsigned v)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (bps == 1)
			d[i] = (uint8_t)v;
		else
			((uint16_t *)(void *)d)[i] = (uint16_t)(v * 257u);
	}
}

/* Contain's margins: every target pixel outside the kept region. */
static void pad(const struct resize_plan *p, unsigned char *dst, size_t dst_stride,
		size_t bps)
{
	size_t n = (size_t)p->o.w * (size_t)p->c;
	size_t from = (size_t)p->g.ox * (size_t)p->c, to = from + (size_t)p->g.cw * (size_t)p->c;
	int y;

	for (y = 0; y < p->o.h; y++) {
		unsigned char *d = dst + (size_t)y * dst_stride;

		if (y >= p->g.oy && y < p->g.oy + p->g.ch) {
			fill(d, 0, from, bps, p->o.pad);
			fill(d, to, n, bps, p->o.pad);
		} else {
			fill(d, 0, n, bps, p->o.pad);
		}
	}
}

/* The source span axis A reads: its windows, or NEAREST's indices
 * (START + 1 each; -1, off the image, reads nothing), or the kept span
 * [FROM, FROM + COUNT) when the axis needs no pass. */
static void axis_span(const struct resize_axis *a, int pass, int taps, int from, int count,
		      int *lo, int *hi)
{
	int i;

	if (!pass) {
		*lo = from;
		*hi = from + count;
		return;
	}
	*lo = INT_MAX;
	*hi = 0;
	for (i = 0; i < a->n; i++) {
		if (a->start[i] < 0)
			continue;
		if (a->start[i] < *lo)
			*lo = a->start[i];
		if (a->start[i] + taps > *hi)
			*hi = a->start[i] + taps;
	}
	if (*lo > *hi)
		*lo = *hi = 0;
}

int resize_source_window(struct resize_ctx *ctx, const struct resize_opts *o, int w, int h,
			 int c, int depth16, struct resize_window *win)
{
	struct resize_plan *p = plan_get(ctx, o, w, h, c, depth16);
	int nearest_, copy, taps;

	if (!p)
		return -1;
	/* A copy reads the kept region; NEAREST reads its indices on both
	 * axes; the filters read their windows where an axis is resampled,
	 * the kept span where it is not. */
	nearest_ = o->filter == RESIZE_NEAREST;
	copy = !p->need_x && !p->need_y;
	taps = nearest_ ? 1 : p->x.taps;
	axis_span(&p->x, !copy && (nearest_ || p->need_x), taps, p->g.cx, p->g.cw, &win->x0,
		  &win->x1);
	taps = nearest_ ? 1 : p->y.taps;
	axis_span(&p->y, !copy && (nearest_ || p->need_y), taps, p->g.cy, p->g.ch, &win->y0,
		  &win->y1);
	return 0;
}

int resize_image(struct resize_ctx *ctx, const struct resize_opts *o, const void *src, int w,
		 int h, size_t stride, int c, int depth16, void *dst, size_t dst_stride)
{
	return resize_image_window(ctx, o, src, w, h, 0, 0, stride, c, depth16, dst, dst_stride);
}

int resize_image_window(struct resize_ctx *ctx, const struct resize_opts *o, const void *src,
			int w, int h, int x0, int y0, size_t stride, int c, int depth16,
			void *dst, size_t dst_stride)
{
	struct resize_plan *p = plan_get(ctx, o, w, h, c, depth16);
	struct job jb;

	size_t px = (size_t)c * (depth16 ? 2u : 1u);

	if (!p)
		return -1;
	/* The passes address the source by its own coordinates: SRC is
	 * where its pixel (0, 0) would be (they read only the window). */
	jb = (struct job){
		.p = p, .stride = stride, .dst_stride = dst_stride, .bps = depth16 ? 2 : 1,
		.src = (const unsigned char *)((uintptr_t)src - (size_t)y0 * stride -
					       (size_t)x0 * px),
		/* Where a row's pixels end: the window's, or the image's. */
		.xend = stride / px + (size_t)x0 < (size_t)w ? (int)(stride / px) + x0 : w,
	};
	jb.dst = (unsigned char *)dst + (size_t)p->g.oy * dst_stride +
		 (size_t)p->g.ox * (size_t)c * jb.bps;
	if (o->fit == RESIZE_CONTAIN)
		pad(p, dst, dst_stride, jb.bps);
	if (!p->need_x && !p->need_y)
		copy_region(&jb);
	else if (o->filter == RESIZE_NEAREST)
		nearest(&jb);
	else
		return depth16 ? filter16(ctx, &jb) : filter8(ctx, &jb);
	return 0;
}
