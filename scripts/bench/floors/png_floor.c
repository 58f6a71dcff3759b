/* png_floor.c - the floor for "parimg load" on PNG photographs, and the
 * measurement that picks its decoder: libpng's simplified API, libspng or
 * stb_image, each decoding to 8-bit RGB.
 *
 *   png_floor -m [-r R] (-l LIST | FILE...)
 *   png_floor [-d libpng|spng|stb] [-j P] [-o OUT] (-l LIST | FILE...)
 *
 * -m: the files read into memory first, then each decoder decodes all of
 * them in one process, R rounds (default 3) interleaved; prints a line
 * "DECODER ms/image M" per decoder, M the median round's, and "fastest D".
 * libpng and libspng decode into one reused buffer, stb_image into the one
 * it allocates (freed each time: that is its API).
 *
 * Otherwise, a floor like load_floor's: rows go, in the given order, into one
 * MAP_SHARED array of N*H*W*3 bytes (a file OUT sized with ftruncate, or
 * anonymous shared memory), every file the first one's size; P workers
 * (default 2) each reserve and map the pages of a contiguous range in one
 * go (as parimg load does), then read its files and decode with -d (default
 * libpng, the fastest here, see -m) straight into their rows (stb_image:
 * decode, then copy). Prints "seconds S cpu C" of that timed part. */
#define _GNU_SOURCE
#include <png.h>
#include <spng.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#include <stb/stb_image.h>

#include "floor.h"

const char floor_name[] = "png_floor";

/* decode: PNG D of LEN bytes into DST, W x H RGB rows of W*3 bytes. */
typedef void decode_fn(const char *path, const unsigned char *d, size_t len,
		       unsigned char *dst, uint32_t w, uint32_t h);

static void dec_libpng(const char *path, const unsigned char *d, size_t len,
		       unsigned char *dst, uint32_t w, uint32_t h)
{
	png_image im;

	memset(&im, 0, sizeof(im));
	im.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&im, d, len))
		die(path, im.message);
	if (im.width != w || im.height != h)
		die(path, "size differs from the first file's");
	im.format = PNG_FORMAT_RGB;
	if (!png_image_finish_read(&im, NULL, dst, (png_int_32)(w * 3), NULL))
		die(path, im.message);
}

static void dec_spng(const char *path, const unsigned char *d, size_t len,
		     unsigned char *dst, uint32_t w, uint32_t h)
{
	spng_ctx *ctx = spng_ctx_new(0);
	struct spng_ihdr ihdr;
	int e;

	if (!ctx)
		die(path, "out of memory");
	if ((e = spng_set_png_buffer(ctx, d, len)) || (e = spng_get_ihdr(ctx, &ihdr)))
		die(path, spng_strerror(e));
	if (ihdr.width != w || ihdr.height != h)
		die(path, "size differs from the first file's");
	if ((e = spng_decode_image(ctx, dst, (size_t)w * h * 3, SPNG_FMT_RGB8, 0)))
		die(path, spng_strerror(e));
	spng_ctx_free(ctx);
}

/* stb_image allocates the image itself: decode, copy when DST, free. */
static void dec_stb(const char *path, const unsigned char *d, size_t len,
		    unsigned char *dst, uint32_t w, uint32_t h)
{
	int x, y, c;
	unsigned char *p = stbi_load_from_memory(d, (int)len, &x, &y, &c, 3);

	if (!p)
		die(path, stbi_failure_reason());
	if ((uint32_t)x != w || (uint32_t)y != h)
		die(path, "size differs from the first file's");
	if (dst)
		memcpy(dst, p, (size_t)w * h * 3);
	stbi_image_free(p);
}

static const struct decoder {
	const char *name;
	decode_fn *fn;
} decoders[] = {
	{ "libpng", dec_libpng },
	{ "spng", dec_spng },
	{ "stb", dec_stb },
};
#define NDEC (sizeof(decoders) / sizeof(decoders[0]))

/* Width and height from the IHDR, which must come first. */
static void png_size(const char *path, const unsigned char *d, size_t len,
		     uint32_t *w, uint32_t *h)
{
	if (len < 33 || memcmp(d, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp(d + 12, "IHDR", 4) != 0)
		die(path, "not a PNG");
	*w = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
	*h = (uint32_t)d[20] << 24 | (uint32_t)d[21] << 16 | (uint32_t)d[22] << 8 | d[23];
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * -m: every decoder on every file, all in memory, one process. The rounds
 * interleave the decoders, so a slow spell of a noisy machine falls on all.
 */
static int measure(char **paths, size_t n, int rounds)
{
	unsigned char **data = calloc(n, sizeof(*data)), *out;
	size_t *len = calloc(n, sizeof(*len)), cap;
	double ms[NDEC][64], med[NDEC];
	uint32_t w, h;
	size_t best = 0;

	if (!data || !len)
		die("measure", "out of memory");
	for (size_t i = 0; i < n; i++) {
		cap = 0;
		len[i] = slurp(paths[i], &data[i], &cap);
	}
	png_size(paths[0], data[0], len[0], &w, &h);
	if (!(out = malloc((size_t)w * h * 3)))
		die("measure", "out of memory");
	for (int r = 0; r <= rounds; r++) {
		for (size_t k = 0; k < NDEC; k++) {
			double t = now();

			for (size_t i = 0; i < n; i++)
				decoders[k].fn(paths[i], data[i], len[i],
					       decoders[k].fn == dec_stb ? NULL : out, w, h);
			if (r > 0)	/* round 0 warms up */
				ms[k][r - 1] = (now() - t) * 1e3 / (double)n;
		}
	}
	for (size_t k = 0; k < NDEC; k++) {
		qsort(ms[k], (size_t)rounds, sizeof(double), by_value);
		med[k] = ms[k][rounds / 2];
		printf("%s ms/image %.3f\n", decoders[k].name, med[k]);
		if (med[k] < med[best])
			best = k;
	}
	printf("fastest %s\n", decoders[best].name);
	for (size_t i = 0; i < n; i++)
		free(data[i]);
	free(data);
	free(len);
	free(out);
	return 0;
}

/* What each worker is given. */
struct work {
	char **paths;
	decode_fn *fn;
	uint32_t w, h;
};

/* One worker: rows [b, e), decoded with FN. */
static int work(size_t b, size_t e, unsigned char *rows, void *arg)
{
	char **paths = ((struct work *)arg)->paths;
	decode_fn *fn = ((struct work *)arg)->fn;
	uint32_t w = ((struct work *)arg)->w, h = ((struct work *)arg)->h;
	size_t bytes = (size_t)w * h * 3, cap = 0;
	unsigned char *buf = NULL;

	for (size_t i = b; i < e; i++) {
		size_t len = slurp(paths[i], &buf, &cap);

		fn(paths[i], buf, len, rows + i * bytes, w, h);
	}
	free(buf);
	return 0;
}

static decode_fn *find_decoder(const char *name)
{
	for (size_t k = 0; k < NDEC; k++)
		if (strcmp(name, decoders[k].name) == 0)
			return decoders[k].fn;
	die(name, "unknown decoder (libpng, spng or stb)");
	return NULL;
}

/* The floor: the array made, mapped, filled by JOBS workers, unmapped. */
static int floor_run(char **paths, size_t n, decode_fn *fn, long jobs, const char *out)
{
	unsigned char *first = NULL;
	size_t cap = 0, len = slurp(paths[0], &first, &cap);
	uint32_t w, h;

	png_size(paths[0], first, len, &w, &h);
	free(first);
	return floor_rows(n, (size_t)w * h * 3, jobs, out, 1, work,
			  &(struct work){ paths, fn, w, h });
}

int main(int argc, char **argv)
{
	const char *list = NULL, *out = NULL;
	decode_fn *fn = dec_libpng;
	char **paths;
	size_t n;
	long jobs = 2, rounds = 3;
	int ch, m = 0;

	while ((ch = getopt(argc, argv, "d:j:l:mo:r:")) != -1) {
		char *end;

		switch (ch) {
		case 'd':
			fn = find_decoder(optarg);
			break;
		case 'j':
			jobs = floor_jobs(optarg);
			break;
		case 'l':
			list = optarg;
			break;
		case 'm':
			m = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			rounds = strtol(optarg, &end, 10);
			if (*end || rounds < 1 || rounds > 64)
				die(optarg, "invalid -r (1 to 64)");
			break;
		default:
			return 2;
		}
	}
	paths = floor_paths(list, argc, argv, optind, &n);
	if (n == 0) {
		fprintf(stderr, "usage: png_floor -m [-r R] (-l LIST | FILE...)\n"
			"       png_floor [-d libpng|spng|stb] [-j P] [-o OUT] (-l LIST | FILE...)\n");
		return 2;
	}
	return m ? measure(paths, n, (int)rounds) : floor_run(paths, n, fn, jobs, out);
}
