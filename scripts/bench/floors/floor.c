/* floor.c - the helpers the benchmark floors in scripts/bench/floors/ share (floor.h):
 * nothing here is timed but the fork, map and wait plumbing that parimg
 * itself does too. */
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

#include "floor.h"

static struct timespec t0, t1;	/* the timed part's wall clock */
static double cpu0;		/* and this process's CPU at its start */

/* "NAME: WHAT: WHY" on stderr, exit 1. */
void die(const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", floor_name, what, why);
	exit(1);
}

/* PATH's bytes in *BUF (of *CAP, grown as needed); their count. */
size_t slurp(const char *path, unsigned char **buf, size_t *cap)
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

/* LIST's paths, else the operands ARGV[FIRST..]; their count in *NP. */
char **floor_paths(const char *list, int argc, char **argv, int first, size_t *np)
{
	if (list)
		return read_list(list, np);
	*np = (size_t)(argc - first);
	return argv + first;
}

/* -j's value, 1 to 1024, or die. */
long floor_jobs(const char *s)
{
	char *end;
	long jobs = strtol(s, &end, 10);

	if (*end || jobs < 1 || jobs > 1024)
		die(s, "invalid -j");
	return jobs;
}

/* CPU seconds (user + system) of this process, or of its reaped children. */
static double cpu_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The timed part starts: wall clock and our CPU. */
void floor_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cpu0 = cpu_seconds(RUSAGE_SELF);
}

/* JOBS workers over contiguous ranges of N, all reaped; 1 if one failed. */
int floor_fork(long jobs, size_t n, floor_work_fn *fn, void *arg)
{
	int bad = 0;

	fflush(NULL);
	for (long w = 0; w < jobs; w++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", strerror(errno));
		if (pid == 0)
			_exit(fn(n * (size_t)w / (size_t)jobs, n * (size_t)(w + 1) / (size_t)jobs, arg));
	}
	for (long w = 0; w < jobs; w++) {
		int st;

		while (wait(&st) < 0)
			if (errno != EINTR)
				die("wait", strerror(errno));
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	return bad;
}

/* The timed part ends: its line (0), or "a worker failed" (1). */
int floor_done(int bad)
{
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (bad) {
		fprintf(stderr, "%s: a worker failed\n", floor_name);
		return 1;
	}
	printf("seconds %.6f cpu %.6f\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       cpu_seconds(RUSAGE_SELF) - cpu0 + cpu_seconds(RUSAGE_CHILDREN));
	return 0;
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

/* floor_rows' state, for its workers. */
struct rows {
	unsigned char *map;
	size_t n, total;
	int fd, prefault;
	floor_rows_fn *fn;
	void *arg;
};

/* One worker of floor_rows: its pages, then its rows. */
static int rows_worker(size_t b, size_t e, void *arg)
{
	struct rows *r = arg;

	if (r->prefault)
		populate(r->fd, r->map, b * r->total / r->n, (e - b) * r->total / r->n);
	return r->fn(b, e, r->map, r->arg);
}

/* The array made and mapped, filled by the workers, unmapped; as floor_done. */
int floor_rows(size_t n, size_t bytes, long jobs, const char *out, int prefault,
	       floor_rows_fn *fn, void *arg)
{
	struct rows r = { .n = n, .total = n * bytes, .fd = -1, .prefault = prefault,
			  .fn = fn, .arg = arg };
	int bad;

	floor_start();
	if (out) {
		if ((r.fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0 ||
		    ftruncate(r.fd, (off_t)r.total) < 0)
			die(out, strerror(errno));
		r.map = mmap(NULL, r.total, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	} else {
		r.map = mmap(NULL, r.total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			     -1, 0);
	}
	if (r.map == MAP_FAILED)
		die("mmap", strerror(errno));
	bad = floor_fork(jobs, n, rows_worker, &r);
	munmap(r.map, r.total);
	if (r.fd >= 0 && close(r.fd) < 0)
		die(out, strerror(errno));
	return floor_done(bad);
}
