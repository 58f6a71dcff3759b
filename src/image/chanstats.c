/* chanstats.c - exact per-channel sums of a row's samples, their merging
 * (workers, shards), the figures computed from them, and the JSON file
 * that carries both. */
#include "image/chanstats.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef unsigned __int128 u128;

/* Fold partial sums S, Q (scaled by F to the 16-bit scale) and extremes of
 * C channels, over N more pixels, into A. */
static void fold(struct chanstats_acc *a, const uint64_t *s, const uint64_t *q,
		 const uint32_t *mn, const uint32_t *mx, int c, uint32_t f, size_t n)
{
	int k;

	for (k = 0; k < c; k++) {
		a->sum[k] += (u128)s[k] * f;
		a->sq[k] += (u128)q[k] * f * f;
		if (a->pixels == 0 || mn[k] * f < a->min[k])
			a->min[k] = mn[k] * f;
		if (a->pixels == 0 || mx[k] * f > a->max[k])
			a->max[k] = mx[k] * f;
	}
	a->pixels += n;
}

/*
 * 8-bit samples, the common case, read as one flat run: sample i goes to
 * lane i % 48, and 48 is a multiple of every channel count, so a lane holds
 * one channel's samples (channel lane % C) and the loop over the lanes is
 * plain vector code. 32-bit lanes take 65536 samples each (65536 x 255^2 <
 * 2^32) before they are folded into 64-bit channel sums.
 */
#define LANES 48
static void add8(struct chanstats_acc *a, const uint8_t *p, size_t npix, int c)
{
	const size_t chunk = (size_t)LANES << 16;	/* samples; a multiple of C */
	size_t n = npix * (size_t)c;

	while (n > 0) {
		size_t m = n < chunk ? n : chunk, i, j;
		uint32_t s[LANES] = { 0 }, q[LANES] = { 0 }, mn[CHANSTATS_MAX], mx[CHANSTATS_MAX];
		uint64_t cs[CHANSTATS_MAX] = { 0 }, cq[CHANSTATS_MAX] = { 0 };
		uint8_t lo[LANES], hi[LANES];
		int k;

		memset(lo, 255, sizeof(lo));
		memset(hi, 0, sizeof(hi));
		for (i = 0; i + LANES <= m; i += LANES)
			for (j = 0; j < LANES; j++) {
				uint8_t v = p[i + j];

				s[j] += v;
				q[j] += (uint32_t)v * v;
				lo[j] = v < lo[j] ? v : lo[j];
				hi[j] = v > hi[j] ? v : hi[j];
			}
		for (j = 0; i + j < m; j++) {
			uint8_t v = p[i + j];

			s[j] += v;
			q[j] += (uint32_t)v * v;
			lo[j] = v < lo[j] ? v : lo[j];
			hi[j] = v > hi[j] ? v : hi[j];
		}
		for (k = 0; k < c; k++) {
			mn[k] = 255;
			mx[k] = 0;
		}
		/* Untouched lanes hold 255 and 0: no effect on the extremes. */
		for (j = 0; j < LANES; j++) {
			k = (int)(j % (size_t)c);
			cs[k] += s[j];
			cq[k] += q[j];
			mn[k] = lo[j] < mn[k] ? lo[j] : mn[k];
			mx[k] = hi[j] > mx[k] ? hi[j] : mx[k];
		}
		fold(a, cs, cq, mn, mx, c, 257, m / (size_t)c);
		p += m;
		n -= m;
	}
}

/* 16-bit samples (u2, or --scale of 16-bit images), 2^24 pixels at a time
 * in 64 bits (2^24 x 65535^2 < 2^64). */
static void add16(struct chanstats_acc *a, const uint16_t *p, size_t npix, int c)
{
	const size_t chunk = (size_t)1 << 24;

	while (npix > 0) {
		size_t n = npix < chunk ? npix : chunk, i;
		uint64_t s[CHANSTATS_MAX] = { 0 }, q[CHANSTATS_MAX] = { 0 };
		uint32_t mn[CHANSTATS_MAX], mx[CHANSTATS_MAX];
		int k;

		for (k = 0; k < c; k++) {
			mn[k] = UINT32_MAX;
			mx[k] = 0;
		}
		for (i = 0; i < n; i++, p += c)
			for (k = 0; k < c; k++) {
				uint64_t v = p[k];

				s[k] += v;
				q[k] += v * v;
				mn[k] = v < mn[k] ? (uint32_t)v : mn[k];
				mx[k] = v > mx[k] ? (uint32_t)v : mx[k];
			}
		fold(a, s, q, mn, mx, c, 1, n);
		npix -= n;
	}
}

void chanstats_add(struct chanstats_acc *a, const void *pix, size_t npix, int c, int depth16)
{
	if (npix == 0)
		return;
	if (depth16)
		add16(a, pix, npix, c);
	else
		add8(a, pix, npix, c);
}

int chanstats_merge(struct chanstats_acc *a, const struct chanstats_acc *b, int c)
{
	const u128 top = CHANSTATS_SCALE;
	uint64_t pixels;
	int k;

	if (b->pixels == 0)
		return 0;
	if (__builtin_add_overflow(a->pixels, b->pixels, &pixels))
		return -1;
	for (k = 0; k < c; k++)
		if (b->sum[k] > top * b->pixels || b->sq[k] > top * top * b->pixels ||
		    b->min[k] > b->max[k] || b->max[k] > CHANSTATS_SCALE ||
		    b->sum[k] < (u128)b->min[k] * b->pixels || b->sum[k] > (u128)b->max[k] * b->pixels ||
		    a->sum[k] + b->sum[k] < a->sum[k] || a->sq[k] + b->sq[k] < a->sq[k])
			return -1;
	for (k = 0; k < c; k++) {
		a->sum[k] += b->sum[k];
		a->sq[k] += b->sq[k];
		if (a->pixels == 0 || b->min[k] < a->min[k])
			a->min[k] = b->min[k];
		if (a->pixels == 0 || b->max[k] > a->max[k])
			a->max[k] = b->max[k];
	}
	a->pixels = pixels;
	return 0;
}

void chanstats_add_zeros(struct chanstats_acc *a, uint64_t zero_pixels)
{
	int k;

	if (zero_pixels == 0)
		return;
	for (k = 0; k < CHANSTATS_MAX; k++) {
		a->min[k] = 0;
		if (a->pixels == 0)
			a->max[k] = 0;
	}
	a->pixels += zero_pixels;
}

/*
 * mean = S / N, variance = (N Q - S^2) / N^2: the numerator exactly in 128
 * bits while it fits (up to some 2^40 samples a channel), so that a small
 * std under a large mean loses nothing to cancellation; long double past it.
 */
void chanstats_finish(struct chanstats *s)
{
	const struct chanstats_acc *a = &s->acc;
	const double top = CHANSTATS_SCALE;
	int k;

	for (k = 0; k < s->channels; k++) {
		double n = (double)a->pixels, var;
		u128 nq, s2;

		if (a->pixels == 0) {
			s->mean[k] = s->std[k] = s->min[k] = s->max[k] = 0;
			continue;
		}
		if (!__builtin_mul_overflow(a->sq[k], (u128)a->pixels, &nq) &&
		    !__builtin_mul_overflow(a->sum[k], a->sum[k], &s2) && nq >= s2) {
			var = (double)(nq - s2) / n / n;
		} else {
			long double m = (long double)a->sum[k] / a->pixels;

			var = (double)((long double)a->sq[k] / a->pixels - m * m);
			var = var > 0 ? var : 0;
		}
		s->mean[k] = (double)a->sum[k] / n / top;
		s->std[k] = sqrt(var) / top;
		s->min[k] = a->min[k] / top;
		s->max[k] = a->max[k] / top;
	}
}

/* V in decimal into BUF (at least 40 bytes). */
static const char *u128_str(u128 v, char *buf)
{
	char tmp[40];
	int n = 0, i;

	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return buf;
}

/* Append to BUF at *AT (LEN bytes in all); -1 once it does not fit. */
static int put(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *at) {
		*at = len;
		return -1;
	}
	*at += (size_t)n;
	return 0;
}

/* '"KEY": [v, ...]' of S's C doubles (null without samples) or integers. */
static void put_doubles(char *buf, size_t len, size_t *at, const char *key, const double *v,
			const struct chanstats *s)
{
	int k;

	put(buf, len, at, "  \"%s\": [", key);
	for (k = 0; k < s->channels; k++)
		if (s->acc.pixels)
			put(buf, len, at, "%s%.17g", k ? ", " : "", v[k]);
		else
			put(buf, len, at, "%snull", k ? ", " : "");
	put(buf, len, at, "],\n");
}

static void put_ints(char *buf, size_t len, size_t *at, const char *key, const u128 *v128,
		     const uint32_t *v32, int c, int last)
{
	char num[40];
	int k;

	put(buf, len, at, "  \"%s\": [", key);
	for (k = 0; k < c; k++)
		put(buf, len, at, "%s%s", k ? ", " : "", u128_str(v128 ? v128[k] : v32[k], num));
	put(buf, len, at, "]%s\n", last ? "" : ",");
}

size_t chanstats_format(const struct chanstats *s, char *buf, size_t len)
{
	size_t at = 0;

	put(buf, len, &at, "{\n  \"format\": \"parimg-stats 1\",\n  \"channels\": %d,\n"
	    "  \"rows\": %llu,\n  \"samples\": %llu,\n", s->channels,
	    (unsigned long long)s->rows, (unsigned long long)s->acc.pixels);
	put_doubles(buf, len, &at, "mean", s->mean, s);
	put_doubles(buf, len, &at, "std", s->std, s);
	put_doubles(buf, len, &at, "min", s->min, s);
	put_doubles(buf, len, &at, "max", s->max, s);
	put(buf, len, &at, "  \"scale\": %d,\n", CHANSTATS_SCALE);
	put_ints(buf, len, &at, "sum", s->acc.sum, NULL, s->channels, 0);
	put_ints(buf, len, &at, "sum_squares", s->acc.sq, NULL, s->channels, 0);
	put_ints(buf, len, &at, "sample_min", NULL, s->acc.min, s->channels, 0);
	put_ints(buf, len, &at, "sample_max", NULL, s->acc.max, s->channels, 1);
	if (put(buf, len, &at, "}\n") < 0)
		return 0;
	return at;
}

/* The flat JSON object of chanstats_format: each key's scalar or the up to
 * CHANSTATS_MAX scalars of its array, as text. Strict: anything else in the
 * file is an error, not something to guess at. */
#define MAX_FIELDS 16
struct field {
	char key[32];
	int n;			/* scalars; 1 for a scalar value */
	int array;
	char tok[CHANSTATS_MAX][48];
};

struct reader {
	const char *p, *end;
	struct field f[MAX_FIELDS];
	int nf;
};

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && strchr(" \t\r\n", *r->p) && *r->p)
		r->p++;
}

static int next_is(struct reader *r, char c)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 1;
	}
	return 0;
}

/* A string (no escapes: our keys and values have none), a number or null,
 * as text into TOK (LEN bytes). */
static int scalar(struct reader *r, char *tok, size_t len)
{
	size_t n = 0;

	skip_ws(r);
	if (r->p < r->end && *r->p == '"') {
		for (r->p++; r->p < r->end && *r->p != '"'; r->p++) {
			if (*r->p == '\\' || (unsigned char)*r->p < 0x20 || n + 1 >= len)
				return -1;
			tok[n++] = *r->p;
		}
		if (r->p == r->end)
			return -1;
		r->p++;
	} else {
		while (r->p < r->end && strchr("0123456789+-.eEnul", *r->p) && *r->p) {
			if (n + 1 >= len)
				return -1;
			tok[n++] = *r->p++;
		}
		if (n == 0)
			return -1;
	}
	tok[n] = '\0';
	return 0;
}

static int parse_object(struct reader *r)
{
	if (!next_is(r, '{'))
		return -1;
	if (next_is(r, '}'))
		return 0;
	do {
		struct field *f = &r->f[r->nf];

		if (r->nf == MAX_FIELDS || scalar(r, f->key, sizeof(f->key)) < 0 || !next_is(r, ':'))
			return -1;
		r->nf++;
		if (next_is(r, '[')) {
			f->array = 1;
			if (!next_is(r, ']'))
				do {
					if (f->n == CHANSTATS_MAX ||
					    scalar(r, f->tok[f->n++], sizeof(f->tok[0])) < 0)
						return -1;
				} while (next_is(r, ','));
			if (f->n && !next_is(r, ']'))
				return -1;
		} else {
			if (scalar(r, f->tok[0], sizeof(f->tok[0])) < 0)
				return -1;
			f->n = 1;
		}
	} while (next_is(r, ','));
	if (!next_is(r, '}'))
		return -1;
	skip_ws(r);
	return r->p == r->end ? 0 : -1;
}

static const struct field *find(const struct reader *r, const char *key, int array, int n)
{
	int i;

	for (i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return r->f[i].array == array && (n < 0 || r->f[i].n == n) ? &r->f[i] : NULL;
	return NULL;
}

/* A decimal integer up to MAX. */
static int parse_u128(const char *s, u128 max, u128 *out)
{
	u128 v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (u128)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (u128)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Key KEY's integer (or its C integers) up to MAX. */
static int get_ints(const struct reader *r, const char *key, int array, int c, u128 max,
		    u128 *v, char *why, size_t whylen)
{
	const struct field *f = find(r, key, array, array ? c : 1);
	int k;

	for (k = 0; f && k < f->n; k++)
		if (parse_u128(f->tok[k], max, &v[k]) < 0)
			f = NULL;
	if (!f)
		snprintf(why, whylen, "no valid \"%s\"%s", key, array ? " for each channel" : "");
	return f ? 0 : -1;
}

int chanstats_parse(const char *buf, size_t len, struct chanstats *s, char *why, size_t whylen)
{
	struct reader r = { .p = buf, .end = buf + len };
	const struct field *fmt;
	struct chanstats_acc a = { 0 };
	u128 v[CHANSTATS_MAX], top = CHANSTATS_SCALE;
	int k, c;

	if (parse_object(&r) < 0) {
		snprintf(why, whylen, "not a statistics file (malformed JSON near byte %zu)",
			 (size_t)(r.p - buf));
		return -1;
	}
	fmt = find(&r, "format", 0, 1);
	if (!fmt || strcmp(fmt->tok[0], "parimg-stats 1") != 0) {
		snprintf(why, whylen, "not a statistics file (no \"format\": \"parimg-stats 1\")");
		return -1;
	}
	if (get_ints(&r, "channels", 0, 1, CHANSTATS_MAX, v, why, whylen) < 0 || v[0] < 1)
		return snprintf(why, whylen, "no valid \"channels\" (1 to 4)"), -1;
	memset(s, 0, sizeof(*s));
	s->channels = c = (int)v[0];
	if (get_ints(&r, "rows", 0, 1, UINT64_MAX, v, why, whylen) < 0)
		return -1;
	s->rows = (uint64_t)v[0];
	if (get_ints(&r, "samples", 0, 1, UINT64_MAX, v, why, whylen) < 0)
		return -1;
	a.pixels = (uint64_t)v[0];
	if (get_ints(&r, "scale", 0, 1, top, v, why, whylen) < 0 || v[0] != top)
		return snprintf(why, whylen, "\"scale\" is not %d", CHANSTATS_SCALE), -1;
	if (get_ints(&r, "sum", 1, c, ~(u128)0, a.sum, why, whylen) < 0 ||
	    get_ints(&r, "sum_squares", 1, c, ~(u128)0, a.sq, why, whylen) < 0)
		return -1;
	if (get_ints(&r, "sample_min", 1, c, top, v, why, whylen) < 0)
		return -1;
	for (k = 0; k < c; k++)
		a.min[k] = (uint32_t)v[k];
	if (get_ints(&r, "sample_max", 1, c, top, v, why, whylen) < 0)
		return -1;
	for (k = 0; k < c; k++)
		a.max[k] = (uint32_t)v[k];
	/* The same checks as a worker's sums get. */
	if (chanstats_merge(&s->acc, &a, c) < 0) {
		snprintf(why, whylen, "sums out of range for %llu samples",
			 (unsigned long long)a.pixels);
		return -1;
	}
	chanstats_finish(s);
	return 0;
}

int chanstats_read(const char *path, struct chanstats *s)
{
	char buf[8192], why[256];
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_errno("%s", path);
	while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n < 0)
		return error_errno("%s", path);
	if (len == sizeof(buf))
		return error("%s: not a statistics file (too large)", path);
	if (chanstats_parse(buf, len, s, why, sizeof(why)) < 0)
		return error("%s: %s", path, why);
	return 0;
}
