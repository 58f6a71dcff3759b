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
#include <unistd.h>

struct shape {
	uint32_t w, h, c;	/* from IHDR */
};

static void die(const char *what, const char *why)
{
	fprintf(stderr, "load_floor: %s: %s\n", what, why);
	exit(1);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
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

/* One worker: rows [b, e). */
static void work(char **paths, size_t b, size_t e, struct shape s, unsigned char *rows)
{
	size_t bytes = (size_t)s.w * s.h * s.c, cap = 0, scap = 0;
	unsigned char *buf = NULL, *scratch = NULL;

	for (size_t i = b; i < e; i++) {
		size_t len = slurp(paths[i], &buf, &cap);
		struct shape t = png_shape(paths[i], buf, len);

		if (t.w != s.w || t.h != s.h || t.c != s.c)
			die(paths[i], "size differs from the first file's");
		copy_pixels(paths[i], buf, len, s, rows + i * bytes, &scratch, &scap);
	}
}

/* CPU seconds (user + system) of this process, or of its reaped children. */
static double cpu_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	const char *list = NULL, *out = NULL;
	struct timespec t0, t1;
	double cpu0;
	unsigned char *first = NULL, *map;
	char **paths;
	size_t n, cap = 0, total;
	struct shape s;
	long jobs = 2;
	int ch, fd = -1, bad = 0;

	while ((ch = getopt(argc, argv, "j:l:o:")) != -1) {
		char *end;

		switch (ch) {
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
	if (n == 0) {
		fprintf(stderr, "usage: load_floor [-j P] [-o OUT] (-l LIST | FILE...)\n");
		return 2;
	}
	/* The shape, from the first file (not timed: the list is given). */
	total = slurp(paths[0], &first, &cap);
	s = png_shape(paths[0], first, total);
	free(first);
	total = n * s.w * s.h * s.c;

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
			work(paths, n * (size_t)w / (size_t)jobs, n * (size_t)(w + 1) / (size_t)jobs,
			     s, map);
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
		fprintf(stderr, "load_floor: a worker failed\n");
		return 1;
	}
	printf("seconds %.6f cpu %.6f\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       cpu_seconds(RUSAGE_SELF) - cpu0 + cpu_seconds(RUSAGE_CHILDREN));
	return 0;
}
