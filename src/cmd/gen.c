/* gen.c - "parimg gen": write N images of uniform random noise. Image i is
 * made from the RNG stream (seed, i) alone, so the files are byte-identical
 * for every -j and every run; each appears whole under its name or not at all. */
#include "cmd/opt.h"
#include "cmd/parimg.h"
#include "codec/codec.h"
#include "engine/pool.h"
#include "engine/progress.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/rng.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_COUNT 2000
#define DEFAULT_SEED 0
/* Deflate level 0 (stored): noise does not compress, so any search for
 * matches is wasted work; see docs/performance.md's measurements. */
#define DEFAULT_LEVEL 0
#define DEFAULT_QUALITY 90

struct gen {
	uint64_t count;
	uint32_t w, h;
	int channels;
	const char *dir;	/* NULL for the current directory */
	const char *prefix;
	int digits;
	enum codec_format fmt;
	int level, quality;
	uint64_t seed;
	int force;
	struct opt_shard shard;
	size_t first, end;	/* this shard's images: [first, end) */
	/* Per worker (each process has its own copy after fork): */
	unsigned char *pixels;
	struct buf enc;
	char path[PATH_MAX];
};

static const char usage_text[] =
	"usage: parimg gen [options]\n"
	"\n"
	"Write N random-noise images, PREFIX0.png ... PREFIX<N-1>.png (the\n"
	"extension follows --format).\n"
	"Image i depends only on the seed, i, the size and the channels.\n"
	"\n"
	"  -n, --count N           number of images (default 2000)\n"
	"  -s, --size WxH          image size in pixels (default 100x100)\n"
	"  -c, --channels 1|2|3|4  gray, gray+alpha, RGB, RGBA (default 1)\n"
	"  -o, --output DIR        output directory, created if missing (default .)\n"
	"  -p, --prefix STR        file name prefix (default image_)\n"
	"      --digits D          zero-pad the index to D digits (default: none)\n"
	"  -F, --format FMT        png, bmp, tga or jpg (default png)\n"
	"      --level L           PNG deflate level 0-12 (default 0: stored)\n"
	"      --quality Q         JPEG quality 1-100 (default 90)\n"
	"      --seed S            random seed (default 0)\n"
	"      --shard K/N         write only part K of N (0-based) of the images,\n"
	"                          or 'slurm' to take K and N from a job array\n"
	"  -f, --force             replace existing files\n"
	OPT_COMMON_HELP;

/* The file name of image I into G->path. */
static const char *image_path(void *ctx, size_t i)
{
	struct gen *g = ctx;

	snprintf(g->path, sizeof(g->path), "%s%s%s%0*zu.%s", g->dir ? g->dir : "",
		 g->dir ? "/" : "", g->prefix, g->digits, i, codec_format_names[g->fmt]);
	return g->path;
}

/* Make image I: noise from stream (seed, I), encoded in memory, written to
 * a temporary file and renamed into place. */
static int gen_one(void *ctx, size_t i, char *why, size_t whylen)
{
	struct gen *g = ctx;
	size_t npix = (size_t)g->w * g->h * (size_t)g->channels;
	struct outfile o;
	struct rng r;

	if (!g->pixels && !(g->pixels = malloc(npix))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rng_init(&r, g->seed, i);
	rng_fill(&r, g->pixels, npix);
	if (codec_encode(g->fmt, g->level, g->quality, g->pixels, (int)g->w,
			 (int)g->h, g->channels, &g->enc) < 0) {
		snprintf(why, whylen, "cannot encode: %s", strerror(errno));
		return -1;
	}
	image_path(g, i);
	if (outfile_open_quiet(&o, g->path) < 0 ||
	    outfile_write_quiet(&o, g->enc.p, g->enc.len) < 0 ||
	    outfile_commit_quiet(&o, g->force) < 0) {
		int e = errno;

		outfile_abort(&o);
		if (e == EEXIST)
			snprintf(why, whylen, "file exists (use -f to replace it)");
		else
			snprintf(why, whylen, "%s", strerror(e));
		return -1;
	}
	return 0;
}

/* A worker killed mid-write leaves its temporary file: remove it. */
static void gen_orphaned(void *ctx, pid_t pid)
{
	outfile_remove_orphans(((struct gen *)ctx)->dir, pid);
}

/* Refuse, before any work, when an output file already exists. */
static int check_clobber(struct gen *g)
{
	size_t i;

	for (i = g->first; i < g->end; i++)
		if (outfile_exists(image_path(g, i)))
			return error("%s: file exists (use -f to replace it)", g->path);
	return 0;
}

/* Sizes each encoder can hold: stb's int arithmetic, and 16-bit header
 * fields in TGA and JPEG. */
static int check_size(const struct gen *g)
{
	uint64_t row, total;
	uint32_t max = (g->fmt == CODEC_TGA || g->fmt == CODEC_JPG) ? 65535 : 1u << 24;

	if (g->w > max || g->h > max)
		return usage_error("gen", "size %ux%u is too large for %s (at most %u per side)",
				   g->w, g->h, codec_format_names[g->fmt], max);
	if (__builtin_mul_overflow((uint64_t)g->w, (uint64_t)g->channels, &row) ||
	    __builtin_mul_overflow(row + 1, (uint64_t)g->h, &total) || total > INT_MAX)
		return usage_error("gen", "size %ux%u with %d channels is too large (over 2 GiB an image)",
				   g->w, g->h, g->channels);
	if (g->fmt == CODEC_JPG && (g->channels == 2 || g->channels == 4))
		return usage_error("gen", "jpg cannot hold an alpha channel (use -c 1 or 3)");
	if (g->fmt == CODEC_BMP && g->channels == 2)
		return usage_error("gen", "bmp cannot hold gray+alpha (use -c 1, 3 or 4)");
	return 0;
}

/* Long-only options. */
enum { OPT_DIGITS = 0x200, OPT_LEVEL, OPT_QUALITY, OPT_SEED, OPT_SHARD };

static const struct option longopts[] = {
	{ "channels", required_argument, NULL, 'c' },
	{ "count", required_argument, NULL, 'n' },
	{ "digits", required_argument, NULL, OPT_DIGITS },
	{ "format", required_argument, NULL, 'F' },
	{ "help", no_argument, NULL, 'h' },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "output", required_argument, NULL, 'o' },
	{ "prefix", required_argument, NULL, 'p' },
	{ "quality", required_argument, NULL, OPT_QUALITY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "size", required_argument, NULL, 's' },
	OPT_COMMON_LONG,
	{ NULL, 0, NULL, 0 }
};

/* Parse argv into G and C: 0 to go on, -1 after a usage message, 1 when
 * done (--help). */
static int parse(int argc, char **argv, struct gen *g, struct opt_common *c)
{
	uint64_t v;
	int ch, fmt, r;

	while ((ch = getopt_long(argc, argv, ":F:c:fhj:n:o:p:qs:v", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(c, ch, optarg, "gen")) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		switch (ch) {
		case OPT_DIGITS:
			if (opt_u64(optarg, 0, 64, &v) < 0)
				return usage_error("gen", "invalid --digits '%s' (0 to 64)", optarg);
			g->digits = (int)v;
			break;
		case 'F':
			if ((fmt = opt_choice(optarg, codec_format_names)) < 0)
				return usage_error("gen", "invalid --format '%s' (png, bmp, tga or jpg)", optarg);
			g->fmt = (enum codec_format)fmt;
			break;
		case OPT_SHARD:
			if (opt_shard(optarg, &g->shard, "gen") < 0)
				return -1;
			break;
		case OPT_LEVEL:
			if (opt_u64(optarg, 0, 12, &v) < 0)
				return usage_error("gen", "invalid --level '%s' (0 to 12)", optarg);
			g->level = (int)v;
			break;
		case OPT_QUALITY:
			if (opt_u64(optarg, 1, 100, &v) < 0)
				return usage_error("gen", "invalid --quality '%s' (1 to 100)", optarg);
			g->quality = (int)v;
			break;
		case OPT_SEED:
			if (opt_u64(optarg, 0, UINT64_MAX, &g->seed) < 0)
				return usage_error("gen", "invalid --seed '%s'", optarg);
			break;
		case 'c':
			if (opt_u64(optarg, 1, 4, &v) < 0)
				return usage_error("gen", "invalid --channels '%s' (1 to 4)", optarg);
			g->channels = (int)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'n':
			if (opt_u64(optarg, 0, (uint64_t)SIZE_MAX / 2, &g->count) < 0)
				return usage_error("gen", "invalid --count '%s'", optarg);
			break;
		case 'o':
			g->dir = optarg;
			break;
		case 'p':
			if (strchr(optarg, '/'))
				return usage_error("gen", "--prefix must not contain '/' (use -o for the directory)");
			g->prefix = optarg;
			break;
		case 's':
			if (opt_size(optarg, UINT32_MAX, &g->w, &g->h) < 0)
				return usage_error("gen", "invalid --size '%s' (WxH, each at least 1)", optarg);
			break;
		default:
			return opt_bad(ch, argv, "gen");
		}
	}
	if (optind < argc)
		return usage_error("gen", "unexpected argument '%s'", argv[optind]);
	if (g->dir && strcmp(g->dir, ".") == 0)
		g->dir = NULL;
	return 0;
}

int cmd_gen(int argc, char **argv)
{
	struct gen g = {
		.count = DEFAULT_COUNT, .w = 100, .h = 100, .channels = 1,
		.prefix = "image_", .fmt = CODEC_PNG, .level = DEFAULT_LEVEL,
		.quality = DEFAULT_QUALITY, .seed = DEFAULT_SEED, .shard = { 0, 1 },
	};
	struct opt_common c;
	struct progress prog;
	struct pool_result res;
	struct pool_task task;
	int r, created = 0;

	opt_common_init(&c);
	if ((r = parse(argc, argv, &g, &c)) != 0)
		return opt_status(r);
	if (check_size(&g) != 0)
		return EXIT_USAGE;
	g.force = c.force;
	pool_range(g.count, g.shard.n, g.shard.k, &g.first, &g.end);
	if (g.dir && outfile_mkdirs(g.dir, &created) < 0)
		return EXIT_FAIL;
	if (!created && !g.force && check_clobber(&g) < 0)
		return EXIT_FAIL;

	progress_init(&prog, c.quiet, "images");
	task = (struct pool_task){
		.first = g.first, .count = g.end - g.first, .jobs = c.jobs, .schedule = c.schedule,
		.verbose = c.verbose, .run = gen_one, .name = image_path,
		.orphaned = gen_orphaned, .ctx = &g,
		.progress = progress_update, .progress_ctx = &prog,
	};
	return pool_run(&task, &res) < 0 ? EXIT_FAIL : EXIT_OK;
}
