/* first_touch.c - what the first write into fresh memory costs on this
 * machine: 100 copies of a 786,432-byte image (512x512 RGB), each into
 * (mode 0) one reused buffer, (1) its own row of a fresh MAP_SHARED
 * file mapping in /dev/shm, or (2) the same after MADV_POPULATE_WRITE,
 * as parimg load maps its rows. Prints microseconds a copy. Behind the
 * codec floor's design (docs/performance.md, section l10).
 *
 *   cc -O2 -o first_touch first_touch.c && ./first_touch MODE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	const size_t img = 786432, n = 100;
	const char *path = "/dev/shm/first_touch.bin";
	int mode = argc > 1 ? atoi(argv[1]) : 0, fd = -1;
	char *src = malloc(img), *dst;
	double t0;
	size_t i;

	if (!src)
		return perror("malloc"), 1;
	memset(src, 1, img);
	if (mode == 0) {
		if (!(dst = malloc(img)))
			return perror("malloc"), 1;
		memset(dst, 0, img);
	} else {
		if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0 ||
		    ftruncate(fd, (off_t)(img * n)) < 0)
			return perror(path), 1;
		dst = mmap(NULL, img * n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (dst == MAP_FAILED)
			return perror("mmap"), 1;
		if (mode == 2)
			madvise(dst, img * n, MADV_POPULATE_WRITE);
	}
	t0 = now();
	for (i = 0; i < n; i++)
		memcpy(mode == 0 ? dst : dst + i * img, src, img);
	printf("mode %d: %.1f us a copy\n", mode, (now() - t0) / (double)n * 1e6);
	if (fd >= 0)
		unlink(path);
	return 0;
}
