/* load_floor.c - the floor for "parimg load": read each file and copy out its
 * pixels, no decoding and no checks. It handles what "parimg gen" writes at
 * --level 0: 8-bit PNGs whose IDAT holds a zlib stream of stored blocks, the
 * rows in it each behind a filter byte (0, none), so the pixels are that
 * stream's bytes less one per row.
 *
 *   load_floor [-j P] [-o OUT] (-l LIST | FILE...)
 *
 * prints "seconds S cpu C": the timed part's wall and CPU (workers' and its own).
 *
 * Rows go, in the given order, into one MAP_SHARED array: a file OUT (sized
 * with ftruncate, as parimg maps its .npy) or anonymous shared memory. The
 * timed part is making and mapping the array, forking P workers (each a
 * contiguous range), their reads and copies, waitpid, and unmapping. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor.h"

const char floor_name[] = "load_floor";

struct shape {
	uint32_t w, h, c;	/* from IHDR */
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IHDR's shape; only 8-bit, non-palette, non-interlaced PNGs. */
static struct shape png_shape(const char *path, const unsigned char *d, size_t len)
{
	static const int chans[7] = { 1, 0, 3, 0, 2, 0, 4 };
	struct shape s;

	if (len < 33 || memcmp(d + 12, "IHDR", 4) != 0)
		die(path, "not a PNG");
	if (d[24] != 8 || d[25] > 6 || !chans[d[25]] || d[28] != 0)
		die(path, "not an 8-bit, non-palette, non-interlaced PNG");
	s.w = be32(d + 16);
	s.h = be32(d + 20);
	s.c = (uint32_t)chans[d[25]];
	return s;
}

/*
 * Copy the pixels of the PNG D into OUT (W*H*C bytes). The IDAT payloads are
 * the zlib stream; gen writes one IDAT, so it is used in place, and several
 * are joined in SCRATCH first. After the 2-byte zlib header come stored
 * blocks, each a header byte, LEN, ~LEN and LEN bytes, all byte-aligned.
 */
static void copy_pixels(const char *path, const unsigned char *d, size_t len,
			struct shape s, unsigned char *out, unsigned char **scratch,
			size_t *scap)
{
	const unsigned char *z = NULL;
	size_t zlen = 0, nidat = 0, off = 8, row = (size_t)s.w * s.c, col = 0;
	size_t left = row * s.h;

	while (off + 12 <= len) {
		size_t n = be32(d + off);

		if (n > len - off - 12)
			die(path, "truncated chunk");
		if (memcmp(d + off + 4, "IDAT", 4) == 0) {
			if (nidat++ == 0) {
				z = d + off + 8;
			} else {
				/* Join into SCRATCH; on the second IDAT, z still
				 * points at the first one's payload in D. */
				if (zlen + n > *scap &&
				    !(*scratch = realloc(*scratch, *scap = 2 * (zlen + n))))
					die(path, "out of memory");
				if (nidat == 2)
					memcpy(*scratch, z, zlen);
				memcpy(*scratch + zlen, d + off + 8, n);
				z = *scratch;
			}
			zlen += n;
		}
		off += n + 12;
	}
	if (!z || zlen < 2)
		die(path, "no IDAT");
	for (off = 2; left > 0;) {
		size_t blen;

		if (off + 5 > zlen || (z[off] & 6) != 0)
			die(path, "not stored deflate (use parimg gen --level 0)");
		blen = (size_t)z[off + 1] | (size_t)z[off + 2] << 8;
		off += 5;
		if (blen > zlen - off)
			die(path, "truncated stored block");
		/* Walk the block: skip a filter byte at each row start. */
		for (const unsigned char *p = z + off, *e = p + blen; p < e && left > 0;) {
			size_t k;

			if (col == 0) {
				p++;
				col = 1;
				continue;
			}
			k = row - (col - 1);
			if (k > (size_t)(e - p))
				k = (size_t)(e - p);
			memcpy(out, p, k);
			out += k;
			p += k;
			left -= k;
			col += k;
			if (col == row + 1)
				col = 0;
		}
		off += blen;
	}
}

/* What each worker is given. */
struct work {
	char **paths;
	struct shape s;
};

/* One worker: rows [b, e). */
static int work(size_t b, size_t e, unsigned char *rows, void *arg)
{
	char **paths = ((struct work *)arg)->paths;
	struct shape s = ((struct work *)arg)->s;
	size_t bytes = (size_t)s.w * s.h * s.c, cap = 0, scap = 0;
	unsigned char *buf = NULL, *scratch = NULL;

	for (size_t i = b; i < e; i++) {
		size_t len = slurp(paths[i], &buf, &cap);
		struct shape t = png_shape(paths[i], buf, len);

		if (t.w != s.w || t.h != s.h || t.c != s.c)
			die(paths[i], "size differs from the first file's");
		copy_pixels(paths[i], buf, len, s, rows + i * bytes, &scratch, &scap);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *list = NULL, *out = NULL;
	unsigned char *first = NULL;
	char **paths;
	size_t n, cap = 0, len;
	struct shape s;
	long jobs = 2;
	int ch;

	while ((ch = getopt(argc, argv, "j:l:o:")) != -1) {
		switch (ch) {
		case 'j':
			jobs = floor_jobs(optarg);
			break;
		case 'l':
			list = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return 2;
		}
	}
	paths = floor_paths(list, argc, argv, optind, &n);
	if (n == 0) {
		fprintf(stderr, "usage: load_floor [-j P] [-o OUT] (-l LIST | FILE...)\n");
		return 2;
	}
	/* The shape, from the first file (not timed: the list is given). */
	len = slurp(paths[0], &first, &cap);
	s = png_shape(paths[0], first, len);
	free(first);
	/* 0: its workers fault their pages in one by one, as this floor always has. */
	return floor_rows(n, (size_t)s.w * s.h * s.c, jobs, out, 0, work,
			  &(struct work){ paths, s });
}
