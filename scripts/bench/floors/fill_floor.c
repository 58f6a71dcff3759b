/* fill_floor.c - the floor under "parimg load -t f8": create a file of BYTES
 * in DIR, map it, and fill it with doubles from P processes (each its half,
 * pages faulted in with one MADV_POPULATE_WRITE), no decoding at all.
 * Prints "seconds S" for bench_time.py. Usage: fill_floor DIR BYTES P */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	char path[4096];
	size_t n, words;
	double *m;
	int fd, w, p;

	if (argc != 4)
		return fprintf(stderr, "usage: fill_floor DIR BYTES P\n"), 2;
	n = strtoull(argv[2], NULL, 10) / 8 * 8;
	p = atoi(argv[3]);
	words = n / 8;
	snprintf(path, sizeof(path), "%s/fill_floor.%ld", argv[1], (long)getpid());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)n) < 0)
		return perror(path), 1;
	m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return perror("mmap"), 1;
	for (w = 0; w < p; w++) {
		if (fork() == 0) {
			size_t b = words * w / p, e = words * (w + 1) / p, i;
			char *a = (char *)(m + b) - ((unsigned long)(m + b) & 4095);

			madvise(a, (size_t)((char *)(m + e) - a), MADV_POPULATE_WRITE);
			for (i = b; i < e; i++)
				m[i] = (double)(i & 255);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unlink(path);
	printf("seconds %.6f\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
