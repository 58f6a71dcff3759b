/* jpeg_floor.c - the floor for "parimg load" on JPEG photographs: read each
 * file and decode it with TurboJPEG (libjpeg-turbo's default islow IDCT and
 * fancy upsampling, the pixels Pillow gives) to RGB, and with -s resize it
 * with parimg's own resampler (src/resize.c, linked as make builds it),
 * nothing else.
 *
 *   jpeg_floor [-j P] [-o OUT] [-s WxH [-f FILTER] [-n | -a]] (-l LIST | FILE...)
 *   jpeg_floor -r [-j P] [-o OUT] (-l LIST | FILE...)
 *
 * prints "seconds S cpu C": the timed part's wall and CPU (workers' and its own).
 *
 * Rows go, in the given order, into one MAP_SHARED array of N*H*W*3 bytes: a
 * file OUT (sized with ftruncate, as parimg maps its .npy) or anonymous shared
 * memory. Without -s every file must have the first one's size, and decodes
 * straight into its row. With -s WxH each file decodes at the scale
 * "load --draft" picks (Pillow's draft(): the smallest of 1/8, 1/4 and 1/2
 * whose unrounded size covers WxH, for an image at least twice WxH; -n: at
 * full size, as --no-draft; -a: any M/8, which libjpeg-turbo also has) into
 * a buffer reused across a worker's images, and is resized to WxH (FILTER:
 * bilinear by default, as load's --filter) by resize_image() straight into
 * its row, with one resize_ctx per worker; an image decoded at WxH is its
 * row. So the output is byte-identical to "parimg load -c 3 --resize WxH
 * [--filter F] --draft" (-n: "--no-draft") on the same files, header aside:
 * bench_photos.sh (section l2) checks it on the mixed corpus every run.
 * The timed part is making and mapping the array, forking P workers (each a
 * contiguous range, whose pages it reserves and maps in one go, as parimg
 * load does), their reads, decodes and resizes, waitpid, unmapping.
 *
 * -r is the floor of "parimg load --ragged -c 3": every file at its own
 * size, packed one after another. The timed part also holds the sizes: the
 * parent reads each file's first 64 KiB (all of it when TurboJPEG needs
 * more) for its header, then sizes the file, and each worker reserves and
 * maps its bytes and decodes its range in full straight into its slots.
 * The output is the data of load --ragged -c 3's array, byte for byte. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "floor.h"
#include "image/resize.h"

const char floor_name[] = "jpeg_floor";

enum scales { DRAFT, FULL, ANY };	/* -s's decode scales: default, -n, -a */

struct job {
	int w, h;		/* output image size */
	int scaled;		/* -s given: decode scaled, then resize */
	enum scales scales;
	struct resize_opts ro;	/* the resize: WxH, -f, stretched */
};

/* The image's width and height from its header. */
static void jpeg_size(tjhandle tj, const char *path, const unsigned char *d, size_t len,
		      int *w, int *h)
{
	int sub, cs;

	if (tjDecompressHeader3(tj, d, (unsigned long)len, w, h, &sub, &cs) < 0)
		die(path, tjGetErrorStr2(tj));
}

/* M of the M/8 scale to decode a W x H JPEG at for a TW x TH target, as
 * src/codec.c's codec_draft picks it: the smallest M of 1, 2, 4 (ANY: 1-7)
 * whose W*M/8 x H*M/8, before rounding up, covers TW x TH; DRAFT only for
 * an image at least twice the target. 8 when none does. */
static int pick_scale(int w, int h, int tw, int th, enum scales sc)
{
	uint64_t fw = (uint64_t)w, fh = (uint64_t)h;

	if (sc == FULL || (sc == DRAFT && ((uint64_t)tw * 2 > fw || (uint64_t)th * 2 > fh)))
		return 8;
	for (int m = 1; m < 8; m++)
		if ((sc == ANY || m == 1 || m == 2 || m == 4) && fw * (uint64_t)m >= (uint64_t)tw * 8 &&
		    fh * (uint64_t)m >= (uint64_t)th * 8)
			return m;
	return 8;
}

/* Decode D into DST (W x H RGB, pitch 0 = packed); warnings pass. */
static void decode(tjhandle tj, const char *path, const unsigned char *d, size_t len,
		   unsigned char *dst, int w, int h)
{
	if (tjDecompress2(tj, d, (unsigned long)len, dst, w, 0, h, TJPF_RGB, 0) < 0 &&
	    tjGetErrorCode(tj) == TJERR_FATAL)
		die(path, tjGetErrorStr2(tj));
}

/* What each worker is given. */
struct work {
	char **paths;
	struct job j;
};

/* One worker: rows [b, e). */
static int work(size_t b, size_t e, unsigned char *rows, void *arg)
{
	char **paths = ((struct work *)arg)->paths;
	struct job j = ((struct work *)arg)->j;
	size_t bytes = (size_t)j.w * (size_t)j.h * 3, cap = 0, scap = 0;
	unsigned char *buf = NULL, *scaled = NULL;
	struct resize_ctx rz = { 0 };
	tjhandle tj = tjInitDecompress();

	if (!tj)
		die("tjInitDecompress", tjGetErrorStr2(NULL));
	for (size_t i = b; i < e; i++) {
		size_t len = slurp(paths[i], &buf, &cap);
		unsigned char *dst = rows + i * bytes;
		int w, h;

		jpeg_size(tj, paths[i], buf, len, &w, &h);
		if (!j.scaled) {
			if (w != j.w || h != j.h)
				die(paths[i], "size differs from the first file's (use -s)");
			decode(tj, paths[i], buf, len, dst, w, h);
			continue;
		}
		tjscalingfactor f = { pick_scale(w, h, j.w, j.h, j.scales), 8 };
		int sw = TJSCALED(w, f), sh = TJSCALED(h, f);

		if (sw == j.w && sh == j.h) {
			decode(tj, paths[i], buf, len, dst, sw, sh);
			continue;
		}
		if ((size_t)sw * (size_t)sh * 3 > scap &&
		    !(scaled = realloc(scaled, scap = (size_t)sw * (size_t)sh * 3)))
			die(paths[i], "out of memory");
		decode(tj, paths[i], buf, len, scaled, sw, sh);
		if (resize_image(&rz, &j.ro, scaled, sw, sh, (size_t)sw * 3, 3, 0, dst,
				 (size_t)j.w * 3) < 0)
			die(paths[i], strerror(errno));
	}
	tjDestroy(tj);
	resize_ctx_free(&rz);
	free(buf);
	free(scaled);
	return 0;
}

/* -r's state: the offsets (in bytes) of each file's slot, N + 1 of them. */
struct ragged {
	char **paths;
	size_t *off;
	unsigned char *map;
	int fd;
};

/* Read up to 64 KiB of PATH into BUF (CAP bytes at least); bytes read. */
static size_t head(const char *path, unsigned char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || (n = pread(fd, buf, cap, 0)) < 0)
		die(path, strerror(errno));
	close(fd);
	return (size_t)n;
}

/* One -r worker: reserve and map its slots' pages, then decode each. */
static int ragged_work(size_t b, size_t e, void *arg)
{
	struct ragged *r = arg;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)(r->map + r->off[b]) & ~(page - 1);
	size_t cap = 0, len = r->off[e] - r->off[b];
	unsigned char *buf = NULL;
	tjhandle tj = tjInitDecompress();

	if (!tj)
		die("tjInitDecompress", tjGetErrorStr2(NULL));
	if (len && r->fd >= 0 && fallocate(r->fd, 0, (off_t)r->off[b], (off_t)len) < 0 &&
	    errno != EOPNOTSUPP)
		die("fallocate", strerror(errno));
	if (len)
		madvise((void *)a, (uintptr_t)(r->map + r->off[b]) + len - a, MADV_POPULATE_WRITE);
	for (size_t i = b; i < e; i++) {
		size_t n = slurp(r->paths[i], &buf, &cap);
		int w, h;

		jpeg_size(tj, r->paths[i], buf, n, &w, &h);
		if ((size_t)w * (size_t)h * 3 != r->off[i + 1] - r->off[i])
			die(r->paths[i], "size changed");
		decode(tj, r->paths[i], buf, n, r->map + r->off[i], w, h);
	}
	tjDestroy(tj);
	free(buf);
	return 0;
}

/* -r: the header pass, the file sized and mapped, the workers; as floor_done. */
static int ragged_floor(char **paths, size_t n, long jobs, const char *out)
{
	static unsigned char buf[65536];
	struct ragged r = { .paths = paths, .fd = -1 };
	unsigned char *whole = NULL;
	size_t cap = 0, total;
	tjhandle tj = tjInitDecompress();
	int bad, w, h, sub, cs;

	if (!tj || !(r.off = malloc((n + 1) * sizeof(*r.off))))
		die("jpeg_floor", "out of memory");
	floor_start();
	r.off[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = head(paths[i], buf, sizeof(buf));

		if (tjDecompressHeader3(tj, buf, (unsigned long)len, &w, &h, &sub, &cs) < 0) {
			len = slurp(paths[i], &whole, &cap);
			jpeg_size(tj, paths[i], whole, len, &w, &h);
		}
		r.off[i + 1] = r.off[i] + (size_t)w * (size_t)h * 3;
	}
	total = r.off[n] ? r.off[n] : 1;
	if (out) {
		if ((r.fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0 ||
		    ftruncate(r.fd, (off_t)r.off[n]) < 0)
			die(out, strerror(errno));
		r.map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	} else {
		r.map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	}
	if (r.map == MAP_FAILED)
		die("mmap", strerror(errno));
	bad = floor_fork(jobs, n, ragged_work, &r);
	munmap(r.map, total);
	if (r.fd >= 0 && close(r.fd) < 0)
		die(out, strerror(errno));
	tjDestroy(tj);
	free(whole);
	free(r.off);
	return floor_done(bad);
}

/* Parse "WxH" into J. */
static void parse_size(const char *s, struct job *j)
{
	char *end;
	long w = strtol(s, &end, 10), h;

	if (*end != 'x')
		die(s, "invalid -s (want WxH)");
	h = strtol(end + 1, &end, 10);
	if (*end || w < 1 || h < 1 || w > 65535 || h > 65535)
		die(s, "invalid -s (want WxH)");
	j->w = j->ro.w = (int)w;
	j->h = j->ro.h = (int)h;
	j->scaled = 1;
}

int main(int argc, char **argv)
{
	const char *list = NULL, *out = NULL;
	struct job j = { .scales = DRAFT, .ro = { .filter = RESIZE_BILINEAR } };
	char **paths;
	size_t n;
	long jobs = 2;
	int ch, ragged = 0;

	while ((ch = getopt(argc, argv, "af:j:l:no:rs:")) != -1) {
		int k;

		switch (ch) {
		case 'a':
			j.scales = ANY;
			break;
		case 'f':
			for (k = 0; resize_filter_names[k] && strcmp(optarg, resize_filter_names[k]); k++)
				;
			if (!resize_filter_names[k])
				die(optarg, "unknown -f filter");
			j.ro.filter = (enum resize_filter)k;
			break;
		case 'n':
			j.scales = FULL;
			break;
		case 'j':
			jobs = floor_jobs(optarg);
			break;
		case 'l':
			list = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			ragged = 1;
			break;
		case 's':
			parse_size(optarg, &j);
			break;
		default:
			return 2;
		}
	}
	paths = floor_paths(list, argc, argv, optind, &n);
	if (!j.scaled && (j.scales != DRAFT || j.ro.filter != RESIZE_BILINEAR))
		die("-f, -n and -a", "only with -s");
	if (n == 0) {
		fprintf(stderr, "usage: jpeg_floor [-j P] [-o OUT] [-s WxH [-f FILTER] [-n | -a]] (-l LIST | FILE...)\n");
		return 2;
	}
	if (ragged && j.scaled)
		die("-r", "not with -s");
	if (ragged)
		return ragged_floor(paths, n, jobs, out);
	if (!j.scaled) {
		/* The shape, from the first file (not timed: the list is given). */
		unsigned char *first = NULL;
		size_t cap = 0, len = slurp(paths[0], &first, &cap);
		tjhandle tj = tjInitDecompress();

		if (!tj)
			die("tjInitDecompress", tjGetErrorStr2(NULL));
		jpeg_size(tj, paths[0], first, len, &j.w, &j.h);
		tjDestroy(tj);
		free(first);
	}
	return floor_rows(n, (size_t)j.w * (size_t)j.h * 3, jobs, out, 1, work,
			  &(struct work){ paths, j });
}
