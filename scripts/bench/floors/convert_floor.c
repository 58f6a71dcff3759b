/* convert_floor.c - the CPU floor of "parimg convert --resize S --format
 * jpeg --quality Q" on JPEGs: per file, TurboJPEG's decode (ISLOW, fancy
 * upsampling: Pillow's pixels) to RGB or gray as stored, parimg's own
 * resampler (src/image/resize.c, linked as make builds it; bilinear) to S
 * on the shorter side as torchvision's Resize(S) sizes it, and TurboJPEG's
 * encode at quality Q, 4:2:0 (gray: one component); the encoded bytes are
 * counted and dropped: no output file, no temporary name, no rename, no
 * pool, no confinement. P workers over contiguous ranges (floor.c).
 *
 *     convert_floor [-j P] [-s S] [-q Q] (-l LIST | FILE...)
 *
 * Prints floor.c's "seconds S cpu C". */
#include "image/resize.h"
#include "floor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

const char floor_name[] = "convert_floor";

struct job {
	char **paths;
	int side, quality;
};

/* One worker: files [b, e). */
static int work(size_t b, size_t e, void *arg)
{
	const struct job *j = arg;
	size_t cap = 0, pcap = 0, rcap = 0, total = 0;
	unsigned char *buf = NULL, *pix = NULL, *res = NULL, *enc = NULL;
	struct resize_ctx rz = { 0 };
	tjhandle dj = tjInitDecompress(), cj = tjInitCompress();

	if (!dj || !cj)
		die("tjInit", tjGetErrorStr2(NULL));
	for (size_t i = b; i < e; i++) {
		size_t len = slurp(j->paths[i], &buf, &cap);
		int w, h, sub, cs, c, ow, oh;
		unsigned long elen = 0;
		struct resize_opts ro = { .filter = RESIZE_BILINEAR };

		if (tjDecompressHeader3(dj, buf, (unsigned long)len, &w, &h, &sub, &cs) < 0)
			die(j->paths[i], tjGetErrorStr2(dj));
		c = cs == TJCS_GRAY ? 1 : 3;
		if (w <= h)
			ow = j->side, oh = (int)((double)j->side * h / w);
		else
			oh = j->side, ow = (int)((double)j->side * w / h);
		if ((size_t)w * h * c > pcap && !(pix = realloc(pix, pcap = (size_t)w * h * c)))
			die(j->paths[i], "out of memory");
		if ((size_t)ow * oh * c > rcap && !(res = realloc(res, rcap = (size_t)ow * oh * c)))
			die(j->paths[i], "out of memory");
		if (tjDecompress2(dj, buf, (unsigned long)len, pix, w, 0, h,
				  c == 1 ? TJPF_GRAY : TJPF_RGB, 0) < 0 &&
		    tjGetErrorCode(dj) == TJERR_FATAL)
			die(j->paths[i], tjGetErrorStr2(dj));
		ro.w = ow;
		ro.h = oh;
		if (resize_image(&rz, &ro, pix, w, h, (size_t)w * c, c, 0, res, (size_t)ow * c) < 0)
			die(j->paths[i], strerror(errno));
		if (tjCompress2(cj, res, ow, 0, oh, c == 1 ? TJPF_GRAY : TJPF_RGB, &enc, &elen,
				c == 1 ? TJSAMP_GRAY : TJSAMP_420, j->quality, 0) < 0)
			die(j->paths[i], tjGetErrorStr2(cj));
		total += elen;
		tjFree(enc);	/* as a file's bytes would leave */
		enc = NULL;
	}
	tjDestroy(dj);
	tjDestroy(cj);
	resize_ctx_free(&rz);
	free(buf);
	free(pix);
	free(res);
	return total ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *list = NULL;
	struct job j = { .side = 256, .quality = 90 };
	size_t n;
	long jobs = 2;
	int ch;

	while ((ch = getopt(argc, argv, "j:l:q:s:")) != -1) {
		switch (ch) {
		case 'j':
			jobs = floor_jobs(optarg);
			break;
		case 'l':
			list = optarg;
			break;
		case 'q':
			j.quality = atoi(optarg);
			break;
		case 's':
			j.side = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	j.paths = floor_paths(list, argc, argv, optind, &n);
	if (n == 0 || j.side < 1 || j.quality < 1 || j.quality > 100) {
		fprintf(stderr, "usage: convert_floor [-j P] [-s S] [-q Q] (-l LIST | FILE...)\n");
		return 2;
	}
	floor_start();
	return floor_done(floor_fork(jobs, n, work, &j));
}
