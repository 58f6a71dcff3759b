/* codec_floor.c - the floor for "parimg load -c 3" on the formats of issue 28
 * (JPEG 2000, HEIF, AVIF, JPEG XL): each library's own decode into memory,
 * called as parimg calls it, through parimg's codec layer (codec_probe and
 * codec_decode: the one-thread settings, libheif's HEVC plugin), in P
 * forked workers over contiguous ranges; no pipeline, no array, no sandbox.
 *
 *   codec_floor [-j P] (-l LIST | FILE...)
 *
 * prints "seconds S cpu C": the timed part's wall and CPU (workers' and its
 * own). Each image is decoded to 8-bit RGB into a buffer reused from one
 * file to the next. */
#define _GNU_SOURCE
#include "codec/codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor.h"

const char floor_name[] = "codec_floor";

static char **paths;

/* Decode files [B, E); 0 when every one decoded. */
static int work(size_t b, size_t e, void *arg)
{
	unsigned char *data = NULL, *pix = NULL;
	size_t cap = 0, pixcap = 0, i;
	char why[256];

	(void)arg;
	for (i = b; i < e; i++) {
		struct codec_info info;
		size_t len = slurp(paths[i], &data, &cap), need;

		if (codec_probe(data, len, UINT64_MAX, &info, why, sizeof(why)) < 0)
			die(paths[i], why);
		need = (size_t)info.w * (size_t)info.h * 3;
		if (need > pixcap && !(pix = realloc(pix, pixcap = need)))
			die(paths[i], "out of memory");
		if (codec_decode(data, len, &info, 3, 0, pix, why, sizeof(why)) < 0)
			die(paths[i], why);
	}
	free(pix);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	const char *list = NULL;
	long jobs = 1;
	size_t n;
	int opt;

	while ((opt = getopt(argc, argv, "j:l:")) != -1) {
		if (opt == 'j')
			jobs = floor_jobs(optarg);
		else if (opt == 'l')
			list = optarg;
		else
			die("usage", "codec_floor [-j P] (-l LIST | FILE...)");
	}
	paths = floor_paths(list, argc, argv, optind, &n);
	floor_start();
	return floor_done(floor_fork(jobs, n, work, NULL));
}
