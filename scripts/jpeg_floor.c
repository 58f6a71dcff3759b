/* jpeg_floor.c - the floor for "parimg load" on JPEG photographs: read each
 * file and decode it with TurboJPEG (libjpeg-turbo's default islow IDCT and
 * fancy upsampling, the pixels Pillow gives) to RGB, and with -s resize it
 * with parimg's own resampler (src/resize.c, linked as make builds it),
 * nothing else.
 *
 *   jpeg_floor [-j P] [-o OUT] [-s WxH [-f FILTER] [-n | -a]] (-l LIST | FILE...)
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
 * load does), their reads, decodes and resizes, waitpid, unmapping. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "resize.h"

enum scales { DRAFT, FULL, ANY };	/* -s's decode scales: default, -n, -a */

struct job {
	int w, h;		/* output image size */
	int scaled;		/* -s given: decode scaled, then resize */
	enum scales scales;
	struct resize_opts ro;	/* the resize: WxH, -f, stretched */
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "jpeg_floor: %s: %s\n", what, why);
	exit(1);
}

/* Read PATH whole into *BUF (grown as needed); its length. */
static size_t slurp(const char *path, unsigned char **buf, size_t *cap)
{
	struct stat st;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path, strerror(errno));
	if ((size_t)st.st_size > *cap) {
		*cap = (size_t)st.st_size;
		if (!(*buf = realloc(*buf, *cap)))
			die(path, "out of memory");
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die(path, r < 0 ? strerror(errno) : "short read");
		len += (size_t)r;
	}
	close(fd);
	return len;
}

/* Paths from a file, one per line. */
static char **read_list(const char *file, size_t *np)
{
	FILE *f = fopen(file, "r");
	char **v = NULL, *line = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	ssize_t r;

	if (!f)
		die(file, strerror(errno));
	while ((r = getline(&line, &lcap, f)) > 0) {
		if (line[r - 1] == '\n')
			line[--r] = '\0';
		if (r == 0)
			continue;
		if (n == cap && !(v = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v))))
			die(file, "out of memory");
		if (!(v[n++] = strdup(line)))
			die(file, "out of memory");
	}
	free(line);
	fclose(f);
	*np = n;
	return v;
}

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

/* One worker: rows [b, e). */
static void work(char **paths, size_t b, size_t e, struct job j, unsigned char *rows)
{
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
}

/*
 * Reserve a worker's rows in the file and map their pages with one call,
 * as parimg load does (fallocate, MADV_POPULATE_WRITE), rather than a page
 * fault every 4 KiB: the floor must not pay a cost that parimg avoids.
 */
static void populate(int fd, unsigned char *map, size_t off, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)(map + off) & ~(page - 1);

	if (len == 0)
		return;
	if (fd >= 0 && fallocate(fd, 0, (off_t)off, (off_t)len) < 0 && errno != EOPNOTSUPP)
		die("fallocate", strerror(errno));
	madvise((void *)a, (uintptr_t)(map + off) + len - a, MADV_POPULATE_WRITE);
}

/* CPU seconds (user + system) of this process, or of its reaped children. */
static double cpu_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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
	struct timespec t0, t1;
	double cpu0;
	unsigned char *map;
	char **paths;
	size_t n, total;
	long jobs = 2;
	int ch, fd = -1, bad = 0;

	while ((ch = getopt(argc, argv, "af:j:l:no:s:")) != -1) {
		char *end;
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
			jobs = strtol(optarg, &end, 10);
			if (*end || jobs < 1 || jobs > 1024)
				die(optarg, "invalid -j");
			break;
		case 'l':
			list = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			parse_size(optarg, &j);
			break;
		default:
			return 2;
		}
	}
	if (list) {
		paths = read_list(list, &n);
	} else {
		paths = argv + optind;
		n = (size_t)(argc - optind);
	}
	if (!j.scaled && (j.scales != DRAFT || j.ro.filter != RESIZE_BILINEAR))
		die("-f, -n and -a", "only with -s");
	if (n == 0) {
		fprintf(stderr, "usage: jpeg_floor [-j P] [-o OUT] [-s WxH [-f FILTER] [-n | -a]] (-l LIST | FILE...)\n");
		return 2;
	}
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
	total = n * (size_t)j.w * (size_t)j.h * 3;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cpu0 = cpu_seconds(RUSAGE_SELF);
	if (out) {
		if ((fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0 ||
		    ftruncate(fd, (off_t)total) < 0)
			die(out, strerror(errno));
		map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	} else {
		map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	}
	if (map == MAP_FAILED)
		die("mmap", strerror(errno));
	fflush(NULL);
	for (long w = 0; w < jobs; w++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", strerror(errno));
		if (pid == 0) {
			size_t b = n * (size_t)w / (size_t)jobs, e = n * (size_t)(w + 1) / (size_t)jobs;

			populate(fd, map, b * total / n, (e - b) * total / n);
			work(paths, b, e, j, map);
			_exit(0);
		}
	}
	for (long w = 0; w < jobs; w++) {
		int st;

		while (wait(&st) < 0)
			if (errno != EINTR)
				die("wait", strerror(errno));
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	munmap(map, total);
	if (fd >= 0 && close(fd) < 0)
		die(out, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (bad) {
		fprintf(stderr, "jpeg_floor: a worker failed\n");
		return 1;
	}
	printf("seconds %.6f cpu %.6f\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       cpu_seconds(RUSAGE_SELF) - cpu0 + cpu_seconds(RUSAGE_CHILDREN));
	return 0;
}
