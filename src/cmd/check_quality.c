/* check_quality.c - "parimg check --quality": cleanvision's image quality
 * flags. The workers measure each decoded image (brightness from its
 * channel means, the blurriness of a copy at most 64 pixels a side, the
 * entropy of its gray histogram, whether a colour image is gray); the
 * parent adds what needs the whole dataset (aspect ratio and size against
 * its distribution), flags each file against the thresholds and reports:
 * a table section, a JSON key, CSV columns and --list flagged. */
#include "cmd/check.h"
#include "cmd/opt.h"
#include "image/phash.h"
#include "image/resize.h"
#include "common/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cleanvision's MAX_RESOLUTION_FOR_BLURRY_DETECTION. */
#define BLUR_SIDE 64

const char *const check_flag_names[] = { "dark", "light", "blurry", "low_information",
					 "grayscale", "odd_aspect_ratio", "odd_size", NULL };

/* --threshold's names, indexed as the thresholds in struct check. */
static const char *const threshold_names[] = { "dark", "light", "blurry", "low-information",
					       "odd-aspect", "odd-size", NULL };
const double check_threshold_default[NTHRESHOLDS] = { 0.22, 0.05, 0.29, 0.3, 0.35, 3.0 };

/* --threshold NAME=V into K. 0, or -1 after a usage message. */
int check_quality_threshold(struct check *k, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *end;
	double v;
	int t;

	for (t = 0; eq && threshold_names[t]; t++)
		if (strlen(threshold_names[t]) == (size_t)(eq - arg) &&
		    strncmp(arg, threshold_names[t], (size_t)(eq - arg)) == 0)
			break;
	if (!eq || !threshold_names[t])
		return usage_error("check", "invalid --threshold '%s' (NAME=V, NAME one of dark, "
				   "light, blurry, low-information, odd-aspect, odd-size)", arg);
	errno = 0;
	v = strtod(eq + 1, &end);
	if (errno || end == eq + 1 || *end || !isfinite(v) || v < 0 ||
	    (t != THR_ODD_SIZE && v > 1) || v > 1e6)
		return usage_error("check", "invalid --threshold '%s' (%s: 0 to %s)", arg,
				   threshold_names[t], t == THR_ODD_SIZE ? "1e6" : "1");
	k->threshold[t] = v;
	return 0;
}

/* Python's float floor division A // B for positive operands, to the bit
 * (it divides A less fmod(A, B), and rounds a quotient a half below an
 * integer up), as cleanvision sizes the blur copy with it. */
static double py_floordiv(double a, double b)
{
	double mod = fmod(a, b), div = (a - mod) / b, fl;

	if (div == 0)
		return 0;
	fl = floor(div);
	if (div - fl > 0.5)
		fl += 1.0;
	return fl;
}

/* Shannon entropy in bits of the COUNT samples histogrammed in H, as
 * Pillow's Image.entropy() computes it. */
static double hist_entropy(const uint64_t *h, int bins, uint64_t count)
{
	double e = 0;
	int i;

	for (i = 0; i < bins; i++)
		if (h[i]) {
			double p = (double)h[i] / (double)count;

			e += p * log2(p);
		}
	return -e;
}

/* The blur measures of the W x H gray image G (cleanvision's): the square
 * root of the variance of Pillow's FIND_EDGES filter of it (its 3 x 3
 * kernel of 8 in -1s, clipped to 0-255; the border rows and columns kept
 * as they are; an image under 3 pixels either way kept whole), as
 * ImageStat computes the variance, and the population standard deviation
 * of its 256-bin histogram. */
static void blur_measures(const uint8_t *g, int w, int h, double *blur, double *hist_std)
{
	uint64_t he[256] = { 0 }, hg[256] = { 0 }, n = (uint64_t)w * (uint64_t)h;
	double sum = 0, sum2 = 0, mean, var = 0;
	int x, y, i;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			const uint8_t *p = g + (size_t)y * w + x;
			int v = *p;

			hg[v]++;
			if (w >= 3 && h >= 3 && x > 0 && x < w - 1 && y > 0 && y < h - 1) {
				v = 8 * p[0] - p[-1] - p[1] - p[-w - 1] - p[-w] - p[-w + 1] -
				    p[w - 1] - p[w] - p[w + 1];
				v = v < 0 ? 0 : v > 255 ? 255 : v;
			}
			he[v]++;
		}
	for (i = 0; i < 256; i++) {
		sum += (double)i * (double)he[i];
		sum2 += (double)i * (double)i * (double)he[i];
	}
	var = (sum2 - sum * sum / (double)n) / (double)n;
	*blur = sqrt(var > 0 ? var : 0);
	mean = (double)n / 256;
	for (var = 0, i = 0; i < 256; i++)
		var += ((double)hg[i] - mean) * ((double)hg[i] - mean);
	*hist_std = sqrt(var / 256);
}

/* In a worker: the quality measures of the W x H image of C channels at PIX
 * (8-bit; GRAY its convert("L")) into OUT. 0, or -1 with WHY. */
int check_quality_measure(struct check *k, struct check_rec *out, const uint8_t *pix,
			  const uint8_t *gray, int w, int h, int c, char *why, size_t whylen)
{
	size_t n = (size_t)w * (size_t)h, i;
	uint64_t sum[3] = { 0 }, hist[256] = { 0 };
	double m[3];
	int colour = c >= 3, j, side = w > h ? w : h, grayrgb = 0;
	const uint8_t *small = gray;
	int sw = w, sh = h;

	for (i = 0; i < n; i++) {
		const uint8_t *p = pix + i * (size_t)c;

		sum[0] += p[0];
		if (colour) {
			sum[1] += p[1];
			sum[2] += p[2];
		}
		hist[gray[i]]++;
	}
	for (j = 0; j < 3; j++)
		m[j] = (double)sum[colour ? j : 0] / (double)n;
	out->brightness = sqrt(0.241 * (m[0] * m[0]) + 0.691 * (m[1] * m[1]) +
			       0.068 * (m[2] * m[2])) / 255;
	out->entropy = hist_entropy(hist, 256, n);
	if (colour && out->channels >= 3) {
		for (i = 0; i < n; i++) {
			const uint8_t *p = pix + i * (size_t)c;

			if (p[0] != p[1] || p[0] != p[2])
				break;
		}
		grayrgb = i == n;
	}
	if (side > BLUR_SIDE) {
		double ratio = (double)side / BLUR_SIDE;
		struct resize_opts o = { .filter = RESIZE_BICUBIC, .fit = RESIZE_STRETCH };
		uint8_t *dst;

		sw = (int)py_floordiv(w, ratio);
		sh = (int)py_floordiv(h, ratio);
		o.w = sw = sw < 1 ? 1 : sw;
		o.h = sh = sh < 1 ? 1 : sh;
		dst = buf_grow(&k->qsmall, (size_t)sw * sh * (size_t)(c + 1));
		if (!dst || resize_image(&k->rz, &o, pix, w, h, (size_t)w * c, c, 0, dst,
					 (size_t)sw * c) < 0) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		phash_gray(dst, (size_t)sw * sh, c, 0, dst + (size_t)sw * sh * c);
		small = dst + (size_t)sw * sh * c;
	}
	blur_measures(small, sw, sh, &out->blur, &out->blur_std);
	out->flags |= F_QUALITY | (grayrgb ? F_GRAYRGB : 0);
	return 0;
}

/* Whether record R's measures are in their ranges (the parent checks what
 * a worker wrote). */
int check_quality_valid(const struct check_rec *r)
{
	if (!(r->flags & F_QUALITY))
		return !(r->flags & F_GRAYRGB);
	return r->brightness >= 0 && r->brightness <= 1 && r->entropy >= 0 && r->entropy <= 8 &&
	       r->blur >= 0 && r->blur <= 255 && r->blur_std >= 0 && r->blur_std <= 1e12;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

/* NumPy's percentile (its default, linear) P of the N sorted V. */
static double percentile(const double *v, size_t n, double p)
{
	double pos = (double)(n - 1) * p / 100, t;
	size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;

	t = pos - (double)lo;
	return t >= 0.5 ? v[hi] - (v[hi] - v[lo]) * (1 - t) : v[lo] + (v[hi] - v[lo]) * t;
}

/* cleanvision's blurry score of R: 1 - exp(-0.01 x blurriness), plus (when
 * over 0.18) 1 - exp(-0.01 x the histogram's std), at most 1. */
double check_quality_blur_score(const struct check_rec *r)
{
	double b = 1 - exp(-r->blur * 0.01), s = 1 - exp(-r->blur_std * 0.01);

	return fmin(b + (s <= 0.18 ? 0 : s), 1);
}

/* Flag every decoded file: its own measures against the thresholds, and
 * its aspect ratio and size against the dataset's. */
void check_quality_find(struct check *k)
{
	struct check_summary *s = &k->sum;
	const double *t = k->threshold;
	size_t n = k->files.n, i, m = 0;
	double *a = malloc((n + 1) * sizeof(double)), *z = malloc((n + 1) * sizeof(double));
	double amed = 1, q1 = 0, q3 = 0, mid, gap, size_t_ = 0.5;

	s->qflags = calloc(n + 1, 1);
	s->aspect_score = calloc(n + 1, sizeof(double));
	s->size_score = calloc(n + 1, sizeof(double));
	if (!a || !z || !s->qflags || !s->aspect_score || !s->size_score)
		die("out of memory");
	for (i = 0; i < n; i++)
		if (!k->reasons[i]) {
			a[m] = (double)k->recs[i].w / k->recs[i].h;
			z[m++] = sqrt(k->recs[i].w) * sqrt(k->recs[i].h);
		}
	if (m) {
		qsort(a, m, sizeof(double), cmp_double);
		qsort(z, m, sizeof(double), cmp_double);
		amed = m % 2 ? a[m / 2] : (a[m / 2 - 1] + a[m / 2]) / 2;
		q1 = percentile(z, m, 25);
		q3 = percentile(z, m, 75);
	}
	s->aspect_median = amed;
	s->size_q1 = q1;
	s->size_q3 = q3;
	mid = ((q1 - t[THR_ODD_SIZE] * (q3 - q1)) + (q3 + t[THR_ODD_SIZE] * (q3 - q1))) / 2;
	gap = (q3 + t[THR_ODD_SIZE] * (q3 - q1)) - (q1 - t[THR_ODD_SIZE] * (q3 - q1));
	if (gap <= 0) {
		gap = mid;
		size_t_ = 1.0;
	}
	for (i = 0; i < n; i++) {
		const struct check_rec *r = &k->recs[i];
		double ar, sz, d;
		unsigned f = 0;

		if (k->reasons[i] || !(r->flags & F_QUALITY))
			continue;
		ar = (double)r->w / r->h;
		s->aspect_score[i] = fmin(ar / amed, amed / ar);
		sz = sqrt(r->w) * sqrt(r->h);
		d = fabs(sz - mid) / gap;
		s->size_score[i] = 1 - (d > 1 ? 1 : d);
		f |= (r->brightness < t[THR_DARK]) << Q_DARK;
		f |= (1 - r->brightness < t[THR_LIGHT]) << Q_LIGHT;
		f |= (check_quality_blur_score(r) < t[THR_BLURRY]) << Q_BLURRY;
		f |= (fmin(0.1 * r->entropy, 1) < t[THR_LOW_INFO]) << Q_LOW_INFO;
		f |= ((r->flags & F_GRAYRGB) != 0) << Q_GRAYRGB;
		f |= (s->aspect_score[i] < t[THR_ODD_ASPECT]) << Q_ODD_ASPECT;
		f |= (s->size_score[i] < size_t_) << Q_ODD_SIZE;
		s->qflags[i] = (unsigned char)f;
		s->flagged += f != 0;
		for (m = 0; m < NQFLAGS; m++)
			s->qcount[m] += (f >> m) & 1;
	}
	free(a);
	free(z);
}

void check_quality_free(struct check *k)
{
	free(k->sum.qflags);
	free(k->sum.aspect_score);
	free(k->sum.size_score);
	free(k->qsmall.p);
}

/* File I's flags, space-separated, into a static buffer. */
static const char *flag_list(const struct check *k, size_t i, const char *sep)
{
	static char buf[128];
	size_t len = 0;
	int f;

	buf[0] = '\0';
	for (f = 0; f < NQFLAGS; f++)
		if (k->sum.qflags[i] & (1u << f))
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? sep : "",
						check_flag_names[f]);
	return buf;
}

void check_quality_table(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	size_t i;
	int f;

	printf("\nflagged (cleanvision's quality flags): %zu file%s\n", s->flagged,
	       s->flagged == 1 ? "" : "s");
	for (f = 0; f < NQFLAGS; f++)
		printf("  %-28s %8zu\n", check_flag_names[f], s->qcount[f]);
	for (i = 0; i < k->files.n; i++) {
		const struct check_rec *r = &k->recs[i];

		if (!s->qflags[i])
			continue;
		printf("%s: %s (brightness %.3f, blurry score %.3f, entropy %.3f, aspect score "
		       "%.3f, size score %.3f)\n", check_printable(k->files.paths[i]),
		       flag_list(k, i, ", "), r->brightness, check_quality_blur_score(r), r->entropy,
		       s->aspect_score[i], s->size_score[i]);
	}
}

/* null without --quality; else the thresholds, the dataset's figures, the
 * counts and each flagged file with every measure. */
void check_quality_json(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	const double *t = k->threshold;
	size_t i;
	int f, first = 1;

	if (!k->quality) {
		printf("null");
		return;
	}
	printf("{\"thresholds\":{\"dark\":%.17g,\"light\":%.17g,\"blurry\":%.17g,"
	       "\"low_information\":%.17g,\"odd_aspect_ratio\":%.17g,\"odd_size_iqr\":%.17g},"
	       "\"aspect_ratio_median\":%.17g,\"size_q1\":%.17g,\"size_q3\":%.17g,\"counts\":{",
	       t[THR_DARK], t[THR_LIGHT], t[THR_BLURRY], t[THR_LOW_INFO], t[THR_ODD_ASPECT],
	       t[THR_ODD_SIZE], s->aspect_median, s->size_q1, s->size_q3);
	for (f = 0; f < NQFLAGS; f++)
		printf("%s\"%s\":%zu", f ? "," : "", check_flag_names[f], s->qcount[f]);
	printf("},\"files\":[");
	for (i = 0; i < k->files.n; i++) {
		const struct check_rec *r = &k->recs[i];

		if (!s->qflags[i])
			continue;
		printf("%s{\"path\":", first ? "" : ",");
		check_json_str(k->files.paths[i]);
		printf(",\"flags\":[");
		for (f = 0; f < NQFLAGS; f++)
			if (s->qflags[i] & (1u << f))
				printf("%s\"%s\"", (s->qflags[i] & ((1u << f) - 1)) ? "," : "",
				       check_flag_names[f]);
		printf("],\"brightness\":%.17g,\"blurriness\":%.17g,\"grayscale_std\":%.17g,"
		       "\"blurry_score\":%.17g,\"entropy\":%.17g,\"aspect_ratio\":%.17g,"
		       "\"aspect_score\":%.17g,\"size\":%.17g,\"size_score\":%.17g}", r->brightness,
		       r->blur, r->blur_std, check_quality_blur_score(r), r->entropy,
		       (double)r->w / r->h, s->aspect_score[i], sqrt(r->w) * sqrt(r->h),
		       s->size_score[i]);
		first = 0;
	}
	printf("]}");
}

/* File I's flags, brightness, blurriness, grayscale_std and entropy
 * columns (empty without --quality or for a broken file). */
void check_quality_csv(const struct check *k, size_t i)
{
	const struct check_rec *r = &k->recs[i];

	if (!k->quality || k->reasons[i] || !(r->flags & F_QUALITY)) {
		printf(",,,,,");
		return;
	}
	printf(",%s,%.17g,%.17g,%.17g,%.17g", flag_list(k, i, " "), r->brightness, r->blur,
	       r->blur_std, r->entropy);
}
