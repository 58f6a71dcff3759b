/* codec_floor.c - the floor for "parimg load -c 3" on the formats of issue 28
 * (JPEG 2000, HEIF, AVIF, JPEG XL): each library's own decode, called as
 * parimg calls it, through parimg's codec layer (codec_probe and
 * codec_decode: the one-thread settings, libheif's HEVC plugin), in P
 * forked workers over contiguous ranges; no pipeline, no sandbox.
 *
 *   codec_floor [-j P] [-o OUT] (-l LIST | FILE...)
 *
 * prints "seconds S cpu C": the timed part's wall and CPU (workers' and its
 * own). Every file must have the first one's size; each decodes to 8-bit
 * RGB straight into its row of one MAP_SHARED array (floor_rows: the file
 * OUT, or anonymous shared memory), whose pages each worker maps in one go
 * first, as parimg load does. An array, not a buffer reused from one file
 * to the next: a row's first write into fresh pages is part of any load,
 * and on some virtual machines it is not small (docs/performance.md, l10). */
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

/* Decode files [B, E) into their rows of ROWS; 0 when every one decoded. */
static int work(size_t b, size_t e, unsigned char *rows, void *arg)
{
	const struct codec_info *first = arg;
	unsigned char *data = NULL;
	size_t cap = 0, i;
	char why[256];

	for (i = b; i < e; i++) {
		struct codec_info info;
		size_t len = slurp(paths[i], &data, &cap);

		if (codec_probe(data, len, UINT64_MAX, &info, why, sizeof(why)) < 0)
			die(paths[i], why);
		if (info.w != first->w || info.h != first->h)
			die(paths[i], "not the first file's size");
		if (codec_decode(data, len, &info, 3, 0, rows + i * (size_t)info.w * info.h * 3,
				 why, sizeof(why)) < 0)
			die(paths[i], why);
	}
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	const char *list = NULL, *out = NULL;
	struct codec_info first;
	unsigned char *data = NULL;
	size_t n, cap = 0, len;
	long jobs = 1;
	char why[256];
	int opt;

	while ((opt = getopt(argc, argv, "j:l:o:")) != -1) {
		if (opt == 'j')
			jobs = floor_jobs(optarg);
		else if (opt == 'l')
			list = optarg;
		else if (opt == 'o')
			out = optarg;
		else
			die("usage", "codec_floor [-j P] [-o OUT] (-l LIST | FILE...)");
	}
	paths = floor_paths(list, argc, argv, optind, &n);
	if (!n)
		die("usage", "no files");
	len = slurp(paths[0], &data, &cap);
	if (codec_probe(data, len, UINT64_MAX, &first, why, sizeof(why)) < 0)
		die(paths[0], why);
	free(data);
	return floor_rows(n, (size_t)first.w * first.h * 3, jobs, out, 1, work, &first);
}
