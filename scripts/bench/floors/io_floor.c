/* io_floor.c - the I/O floor for "parimg gen": the time to write a dataset's
 * bytes to their file names when nothing else is done. Every file of SRC is
 * read into memory first (not timed); then P forked processes, each over a
 * contiguous range of names, open/write/close the same bytes under DST.
 *
 *   io_floor [-j P] SRC DST   prints "seconds S cpu C": the timed part's wall
 *                             time, and its CPU time (workers' and its own)
 *
 * The timed part is mkdir DST, fork, the writes, and waitpid for all: what
 * gen does minus making the pixels, encoding them and the temp+rename. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "floor.h"

const char floor_name[] = "io_floor";

struct item {
	char *name;		/* file name, no directory */
	unsigned char *data;
	size_t len;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

/* Read DIR's regular, non-hidden files whole, sorted by name. */
static struct item *read_all(const char *dir, size_t *np)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct item *v = NULL;
	size_t n = 0, cap = 0;
	char path[4096];

	if (!d)
		die(dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
			die(path, strerror(errno));
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			if (!(v = realloc(v, cap * sizeof(*v))))
				die("realloc", strerror(errno));
		}
		v[n].name = strdup(de->d_name);
		v[n].len = (size_t)st.st_size;
		v[n].data = malloc(v[n].len ? v[n].len : 1);
		if (!v[n].name || !v[n].data)
			die("malloc", strerror(errno));
		for (size_t off = 0; off < v[n].len;) {
			ssize_t r = read(fd, v[n].data + off, v[n].len - off);

			if (r <= 0)
				die(path, strerror(errno));
			off += (size_t)r;
		}
		close(fd);
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_name);
	*np = n;
	return v;
}

/* What each worker is given. */
struct work {
	const struct item *v;
	const char *dst;
};

/* One worker: write items [b, e) under DST; the exit status says if all went. */
static int write_range(size_t b, size_t e, void *arg)
{
	const struct item *v = ((struct work *)arg)->v;
	const char *dst = ((struct work *)arg)->dst;
	char path[4096];

	for (size_t i = b; i < e; i++) {
		const unsigned char *p = v[i].data;
		size_t left = v[i].len;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dst, v[i].name);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
			return 1;
		while (left > 0) {
			ssize_t r = write(fd, p, left);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return 1;
			p += r;
			left -= (size_t)r;
		}
		if (close(fd) < 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct item *v;
	size_t n;
	long jobs = 2;
	int ch, bad;

	while ((ch = getopt(argc, argv, "j:")) != -1) {
		char *end;

		if (ch != 'j')
			return 2;
		jobs = strtol(optarg, &end, 10);
		if (*end || jobs < 1 || jobs > 1024) {
			fprintf(stderr, "io_floor: invalid -j '%s'\n", optarg);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: io_floor [-j P] SRC DST\n");
		return 2;
	}
	v = read_all(argv[optind], &n);

	floor_start();
	if (mkdir(argv[optind + 1], 0777) < 0 && errno != EEXIST)
		die(argv[optind + 1], strerror(errno));
	bad = floor_fork(jobs, n, write_range, &(struct work){ v, argv[optind + 1] });
	return floor_done(bad);
}
