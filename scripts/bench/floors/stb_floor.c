/* stb_floor.c - stb_image 2.27's BMP, TGA and PNM decode, the reference that
 * parimg's own readers replaced (issue 18): each worker reads its files and
 * decodes each to 8-bit RGB, nothing else; with -p, parimg's decoders
 * (codec.c, as make built them) do the same, so that the two decoders
 * compare alone. Prints "seconds S cpu C".
 *
 *   stb_floor [-p] [-j P] (-l LIST | FILE...) */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "codec/codec.h"
#include "floor.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>

const char floor_name[] = "stb_floor";

static int use_parimg;	/* -p */

/* parimg's decode of D into a buffer kept from file to file. */
static void parimg_decode(const char *path, const unsigned char *d, size_t len)
{
	static struct buf pix;
	struct codec_info info;
	char why[256];

	if (codec_probe(d, len, UINT64_MAX, &info, why, sizeof(why)) < 0 ||
	    !buf_grow(&pix, (size_t)info.w * (size_t)info.h * 3) ||
	    codec_decode(d, len, &info, 3, 0, pix.p, why, sizeof(why)) < 0)
		die(path, why);
}

/* One worker: files [b, e), decoded (stb_image: and freed). */
static int work(size_t b, size_t e, void *arg)
{
	char **paths = arg;
	unsigned char *buf = NULL;
	size_t cap = 0;

	for (size_t i = b; i < e; i++) {
		size_t len = slurp(paths[i], &buf, &cap);
		int x, y, c;
		unsigned char *p;

		if (use_parimg) {
			parimg_decode(paths[i], buf, len);
			continue;
		}
		if (!(p = stbi_load_from_memory(buf, (int)len, &x, &y, &c, 3)))
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

	while ((ch = getopt(argc, argv, "j:l:p")) != -1) {
		switch (ch) {
		case 'j':
			jobs = floor_jobs(optarg);
			break;
		case 'l':
			list = optarg;
			break;
		case 'p':
			use_parimg = 1;
			break;
		default:
			return 2;
		}
	}
	paths = floor_paths(list, argc, argv, optind, &n);
	if (n == 0) {
		fprintf(stderr, "usage: stb_floor [-p] [-j P] (-l LIST | FILE...)\n");
		return 2;
	}
	floor_start();
	return floor_done(floor_fork(jobs, n, work, paths));
}
