/* stb_floor.c - stb_image 2.27's BMP, TGA and PNM decode, the reference that
 * parimg's own readers replaced (issue 18): one worker reads each file and
 * decodes it to 8-bit RGB, nothing else. Prints "seconds S cpu C".
 *
 *   stb_floor [-j P] (-l LIST | FILE...) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "floor.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>

const char floor_name[] = "stb_floor";

/* One worker: files [b, e), decoded and freed. */
static int work(size_t b, size_t e, void *arg)
{
	char **paths = arg;
	unsigned char *buf = NULL;
	size_t cap = 0;

	for (size_t i = b; i < e; i++) {
		size_t len = slurp(paths[i], &buf, &cap);
		int x, y, c;
		unsigned char *p = stbi_load_from_memory(buf, (int)len, &x, &y, &c, 3);

		if (!p)
			die(paths[i], stbi_failure_reason());
		stbi_image_free(p);
	}
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *list = NULL;
	char **paths;
	long jobs = 1;
	size_t n;
	int ch;

	while ((ch = getopt(argc, argv, "j:l:")) != -1) {
		switch (ch) {
		case 'j':
			jobs = floor_jobs(optarg);
			break;
		case 'l':
			list = optarg;
			break;
		default:
			return 2;
		}
	}
	paths = floor_paths(list, argc, argv, optind, &n);
	if (n == 0) {
		fprintf(stderr, "usage: stb_floor [-j P] (-l LIST | FILE...)\n");
		return 2;
	}
	floor_start();
	return floor_done(floor_fork(jobs, n, work, paths));
}
