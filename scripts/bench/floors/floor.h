/* floor.h - what the benchmark floors in scripts/bench/floors/ (load_floor, jpeg_floor,
 * png_floor, io_floor) share: the error exit, reading files and lists, and
 * the timed part that forks P workers over contiguous ranges. */
#ifndef FLOOR_H
#define FLOOR_H

#include <stddef.h>

/* Each program defines its name, the prefix of every message. */
extern const char floor_name[];

/* One worker's share: items [B, E); its exit status (0: all went). */
typedef int floor_work_fn(size_t b, size_t e, void *arg);
/* The same, writing rows [B, E) of the array ROWS. */
typedef int floor_rows_fn(size_t b, size_t e, unsigned char *rows, void *arg);

/* Print "NAME: WHAT: WHY" on stderr and exit 1. */
void die(const char *what, const char *why) __attribute__((noreturn));

/* Read PATH whole into *BUF (grown as needed); its length. */
size_t slurp(const char *path, unsigned char **buf, size_t *cap);

/* The paths: LIST's lines (empty ones skipped), else ARGV[FIRST..]. */
char **floor_paths(const char *list, int argc, char **argv, int first, size_t *np);

/* -j's value, 1 to 1024; dies on anything else. */
long floor_jobs(const char *s);

/* Start the clocks (wall and this process's CPU) of the timed part. */
void floor_start(void);

/* Fork JOBS workers, worker k running FN on [n*k/JOBS, n*(k+1)/JOBS),
 * and reap them all; 1 if one failed, else 0. */
int floor_fork(long jobs, size_t n, floor_work_fn *fn, void *arg);

/* Stop the clocks; print "NAME: a worker failed" if BAD (returns 1), else
 * "seconds S cpu C" (workers' CPU and our own since floor_start; returns 0). */
int floor_done(int bad);

/* The timed part of an array floor: N rows of BYTES in one MAP_SHARED array,
 * the file OUT (ftruncate'd, as parimg maps its .npy) or, OUT null,
 * anonymous shared memory, filled by JOBS workers with FN; PREFAULT: each
 * worker first reserves and maps its rows' pages in one go, as parimg load
 * does. Unmaps, closes, prints as floor_done and returns its value. */
int floor_rows(size_t n, size_t bytes, long jobs, const char *out, int prefault,
	       floor_rows_fn *fn, void *arg);

#endif
