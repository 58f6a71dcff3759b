/* load.c - "parimg load": decode a set of images straight into one packed .npy.
 * The parent probes the first image for the shape, sizes a temporary file
 * beside OUT, writes the header and maps the file MAP_SHARED; workers decode
 * their rows into that mapping; the parent renames it onto OUT only if every
 * row is accounted for. There is no copy of the dataset in between. With
 * --ragged, a header pass in the pool (ragged.c) sizes each image instead. */
#define _GNU_SOURCE
#include "parimg.h"
#include "chanstats.h"
#include "codec.h"
#include "dataset.h"
#include "err.h"
#include "arch.h"
#include "filelist.h"
#include "input.h"
#include "limit.h"
#include "npy.h"
#include "opt.h"
#include "outfile.h"
#include "pool.h"
#include "progress.h"
#include "ragged.h"
#include "row.h"
#include "sandbox.h"
#include "split.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_PIXELS (1ULL << 28)

/* One output array and the files beside it. A split makes one per part,
 * each taking its own range of the rows. */
struct target {
	char *out, *labels, *manifest;	/* final names; labels, manifest NULL if none */
	char *index;			/* --ragged: the index's name, else NULL */
	char *stats;			/* --stats's file, or NULL */
	size_t row0, nrows;		/* this shard's rows of the part */
	struct outfile arr, lab, man, idx, st;	/* fd -1 until opened */
	/* Made by prepare_target for decode_target (struct load's fields): */
	void *map;			/* the array, mapped; NULL until then */
	size_t maplen;
	unsigned char *rows, *failed;
	struct ragged_dims *dims;
	int64_t *plan;
	uint64_t samples;
};

struct load {
	struct filelist files;
	const char *out;
	const char *manifest;
	const char *stats, *stats_from;	/* --stats, --stats-from */
	struct chanstats_acc *slots;	/* --stats: one per worker, shared; or NULL */
	/* Class folders, shuffle and split (dataset.c, split.c): */
	const char *labels, *classes;	/* --labels, --classes */
	int shuffle, seed_given;
	uint64_t seed;
	struct split split;
	struct dataset ds;
	struct target *targets;		/* one, or one per part of the split */
	int ntargets;
	struct outfile cls;		/* the classes file */
	struct row_spec spec;	/* channels 0 and w 0 until probed */
	int keep_going;
	int recursive;			/* -r: directories at any depth */
	enum sandbox_mode sandbox;	/* --sandbox */
	int confine;			/* and its outcome: confine the workers */
	struct opt_shard shard;
	size_t row0, nrows;	/* this shard's inputs: [row0, row0 + nrows) */
	size_t row_bytes;
	unsigned char *map;	/* the output file, mapped */
	int fd;			/* and open */
	unsigned char *rows;	/* its data, row 0 first */
	/* --ragged (ragged.c), for the target being loaded: */
	const char *index;	/* --index, or NULL for the default name */
	struct ragged_dims *dims;	/* the header pass's, row row0 first */
	int64_t *plan;		/* the index: nrows x RAGGED_COLS */
	uint64_t samples;	/* in all */
	unsigned char *failed;	/* MAP_SHARED, a byte a row: failed decoding */
	/* Per worker: */
	struct buf file;	/* the encoded file being decoded */
	struct row_scratch scratch;
};

static const char usage_text[] =
	"usage: parimg load [options] -o OUT.npy INPUT...\n"
	"\n"
	"Decode images into one packed NumPy .npy array, (N,H,W) or (N,H,W,C).\n"
	"INPUT is a directory (its png, jpg, jpeg, webp, gif, bmp, tga, pgm, ppm,\n"
	"pnm, tif and tiff files, not recursing unless -r, hidden files skipped),\n"
	"an image file, an archive (tar, tar.gz, tar.zst, tar.xz, tar.bz2, zip:\n"
	"its image members at any depth, rows named ARCHIVE:MEMBER), or - for\n"
	"newline-separated paths on standard input. A file's first bytes, not its\n"
	"name, say what format it is. With --labels, INPUT is one directory or\n"
	"archive whose folders are the classes (or a webdataset shard, labelled by\n"
	"its KEY.cls members).\n"
	"\n"
	"  -o, --output OUT.npy    the array to write (required)\n"
	"      --order natural|name|none\n"
	"                          row order: natural sort of the paths, so\n"
	"                          image_2 comes before image_10 (default);\n"
	"                          bytewise; or as given\n"
	"  -r, --recursive         a directory's image files at any depth, hidden\n"
	"                          folders skipped (as an archive is read)\n"
	"      --recurse-archives  read archives inside archives (ImageNet's tar of\n"
	"                          tars), each as the folder its name names less\n"
	"                          the archive extension\n"
	"      --manifest FILE     write the path of each row, one per line\n"
	"      --labels Y.npy      take INPUT's subdirectories as classes, numbered\n"
	"                          from 0 in byte order of their names, with their\n"
	"                          image files at any depth; write each row's class\n"
	"                          to Y.npy (int64)\n"
	"      --classes FILE      with --labels: write the class names, one a line\n"
	"      --shuffle           rows in a random order fixed by the seed and the\n"
	"                          sorted inputs alone\n"
	"      --seed S            the shuffle's seed (default 0)\n"
	"      --split NAME=F,...  write consecutive parts of the (shuffled) rows,\n"
	"                          e.g. train=0.9,val=0.1 (or 0.9,0.1), each to\n"
	"                          OUT.NAME.npy, Y.NAME.npy and the manifest's\n"
	"                          name with .NAME\n"
	"  -c, --channels 1|2|3|4  convert every image to C channels\n"
	"                          (default: the first image's)\n"
	"  -t, --dtype u1|u2|f4|f8 sample type (default u1); u2 keeps 16-bit\n"
	"                          samples, f4/f8 hold 8-bit sample values (a\n"
	"                          float or 32-bit int TIFF's own values: f4/f8\n"
	"                          and -c 1 only)\n"
	"      --scale             f4/f8 only: samples in [0,1] (16-bit exact)\n"
	"      --layout nhwc|nchw  (N,H,W,C) (default), or channels first,\n"
	"                          (N,C,H,W), as a PyTorch model takes them\n"
	"      --normalize MEAN,...:STD,...|imagenet|stats\n"
	"                          each sample as torchvision's\n"
	"                          Normalize(MEAN, STD)(ToTensor()(img)), bit for\n"
	"                          bit; makes -t f4 (or f8); imagenet is\n"
	"                          0.485,0.456,0.406:0.229,0.224,0.225; stats\n"
	"                          takes --stats-from's mean and std\n"
	"      --stats FILE.json   write each channel's mean, std, min and max on\n"
	"                          the [0,1] scale, and the exact sums behind them\n"
	"      --stats-from FILE.json\n"
	"                          --normalize stats: the mean and std of FILE,\n"
	"                          an earlier --stats (a train split's, say)\n"
	"      --resize WxH        resize every image to W x H, as Pillow's\n"
	"                          Image.resize() does\n"
	"      --filter nearest|box|bilinear|hamming|bicubic|lanczos\n"
	"                          --resize's filter (default bilinear)\n"
	"      --fit stretch|cover|contain\n"
	"                          ignore the aspect ratio (default); scale to\n"
	"                          cover W x H and crop the centre; or scale to\n"
	"                          fit inside and pad (letterbox)\n"
	"      --pad V             contain: the margins' value, 0-255 (default 0)\n"
	"      --draft             with --resize to at most half a JPEG's size,\n"
	"                          decode it at 1/2, 1/4 or 1/8 scale first, as\n"
	"                          Pillow's draft() does: faster, pixels differ\n"
	"      --no-draft          decode at full size, then resize (default)\n"
	"      --max-pixels N      refuse images over N pixels (default 268435456)\n"
	"      --ragged            keep each image's own size (and, without -c, its\n"
	"                          own channels): OUT is a 1-D array of all their\n"
	"                          samples, image after image, and an index of\n"
	"                          (offset, H, W, C) rows is written beside it\n"
	"      --index FILE        --ragged: the index's name (default: OUT's name\n"
	"                          with .index before .npy)\n"
	"      --resize S          --ragged: the shorter side becomes S, as\n"
	"                          torchvision's Resize(S) does\n"
	"      --max-side L        --ragged: shrink images whose longer side is\n"
	"                          over L to L, keeping the aspect ratio\n"
	"      --exif-transpose    turn each image by its EXIF orientation (JPEG,\n"
	"                          PNG, WebP) before --resize, as Pillow's\n"
	"                          ImageOps.exif_transpose() does\n"
	"      --no-exif-transpose keep images as stored (default: Pillow's\n"
	"                          Image.open() and ImageFolder ignore the tag;\n"
	"                          a TIFF is turned by its own tag either way,\n"
	"                          as Pillow's TIFF loader turns it)\n"
"      --shard K/N         decode only part K of N (0-based) of the sorted\n"
	"                          inputs, or 'slurm' to take K and N from a job array\n"
	"  -k, --keep-going        report a bad file, leave its row zero, go on;\n"
	"                          exit status 3 when rows were skipped\n"
	"      --sandbox auto|require|off\n"
	"                          confine the decoding workers with seccomp: where\n"
	"                          the kernel can, else warn once (default); or\n"
	"                          fail if it cannot; or never (see SECURITY in\n"
	"                          parimg(1))\n"
	"  -f, --force             replace an existing OUT (and manifest)\n"
	OPT_COMMON_HELP;

static const char *row_name(void *ctx, size_t i)
{
	return ((struct load *)ctx)->files.paths[i];
}

/* The pool's open hook: what a confined worker is handed for row I. */
static int row_open(void *ctx, size_t i)
{
	return input_open(row_name(ctx, i));
}

/*
 * A worker is about to decode rows [BEGIN, END), whose space the parent
 * reserved (reserve): map their pages in one call instead of a page fault
 * every 4 KiB. MADV_POPULATE_WRITE is a hint: before Linux 5.14 it says
 * EINVAL and the faults happen as usual.
 */
static int load_range(void *ctx, size_t begin, size_t end, char *why, size_t whylen)
{
	struct load *l = ctx;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned char *first = l->rows + (begin - l->row0) * l->row_bytes;
	size_t len = (end - begin) * l->row_bytes;
	uintptr_t a;

	(void)why;
	(void)whylen;
	if (l->plan) {
		/* Ragged: the rows' slots, from the offsets. */
		size_t ss = row_sample_size(l->spec.dtype);
		uint64_t e = end - l->row0 == l->nrows ? l->samples
			     : (uint64_t)l->plan[(end - l->row0) * RAGGED_COLS + RAGGED_OFF];

		first = l->rows + (uint64_t)l->plan[(begin - l->row0) * RAGGED_COLS + RAGGED_OFF] * ss;
		len = (size_t)(l->rows + e * ss - first);
	}
	a = (uintptr_t)first & ~(page - 1);
	if (len)
		madvise((void *)a, (uintptr_t)first + len - a, MADV_POPULATE_WRITE);
	return 0;
}

/* The pool's setup hook: in each worker, before it is confined (the cap
 * reads /proc/self/statm). */
static void load_setup(void *ctx)
{
	limit_worker_memory(((struct load *)ctx)->spec.max_pixels);
}

/* Decode image I into its row of the mapping. */
static int load_one(void *ctx, size_t i, char *why, size_t whylen)
{
	struct load *l = ctx;

	if (l->slots)		/* --stats: this worker's own accumulator */
		l->scratch.stats = &l->slots[pool_worker_index()];
	if (l->plan) {
		const int64_t *r = l->plan + (i - l->row0) * RAGGED_COLS;

		if (r[RAGGED_H] == 0)	/* skipped in the header pass, and reported */
			return input_skip_item(i);
		/* Marked until done: a worker that crashes on the file (the
		 * pool skips it under -k) leaves its row marked too. */
		l->failed[i - l->row0] = 1;
		if (input_read_item(i, l->files.paths[i], &l->file, why, whylen) < 0 ||
		    ragged_decode(&l->spec, &l->dims[i - l->row0], r, l->file.p, l->file.len,
				  l->rows + (uint64_t)r[RAGGED_OFF] * row_sample_size(l->spec.dtype),
				  &l->scratch, why, whylen) < 0)
			return -1;
		l->failed[i - l->row0] = 0;
		return 0;
	}
	if (input_read_item(i, l->files.paths[i], &l->file, why, whylen) < 0)
		return -1;
	return row_decode(&l->spec, l->file.p, l->file.len, l->rows + (i - l->row0) * l->row_bytes,
			  &l->scratch, why, whylen);
}

/* Under -k, in the parent: item I's worker died while decoding it, maybe
 * half way through its row; the row is to be left zero. */
static void load_lost(void *ctx, size_t i)
{
	struct load *l = ctx;
	const int64_t *r;

	if (!l->plan) {
		memset(l->rows + (i - l->row0) * l->row_bytes, 0, l->row_bytes);
		return;
	}
	/* --ragged: the slot the plan gave it (its index row then says 0x0,
	 * as the worker had marked it failed). */
	r = l->plan + (i - l->row0) * RAGGED_COLS;
	memset(l->rows + (uint64_t)r[RAGGED_OFF] * row_sample_size(l->spec.dtype), 0,
	       (size_t)(r[RAGGED_H] * r[RAGGED_W] * r[RAGGED_C]) * row_sample_size(l->spec.dtype));
}

/* Fix the array's shape from the first image that can be probed (with -k,
 * bad files before it are left to the workers to report). Always from the
 * whole list, never the shard's part, so that every shard agrees. */
static int probe_shape(struct load *l)
{
	char why[1024];
	struct codec_info info;
	size_t i;

	if (l->spec.ragged)
		return 0;	/* each its own, from the header pass */
	for (i = 0; i < l->files.n; i++) {
		if (input_read(l->files.paths[i], &l->file, why, sizeof(why)) == 0 &&
		    codec_probe(l->file.p, l->file.len, l->spec.max_pixels, &info, why,
				sizeof(why)) == 0)
			break;
		if (!l->keep_going)
			return error("%s: %s", l->files.paths[i], why);
	}
	if (i == l->files.n)
		return error("%s: no input could be read", l->out);
	l->spec.size_from = l->files.paths[i];
	if (!l->spec.resize) {
		int w, h;

		row_image_size(&l->spec, &info, &w, &h);
		l->spec.w = (uint32_t)w;
		l->spec.h = (uint32_t)h;
	}
	if (!l->spec.channels)
		l->spec.channels = info.channels;
	return 0;
}

/* With the channels known, --normalize's figures (those of --stats-from
 * for "stats") must be one per channel, and no std zero. Returns the exit
 * status: a mismatch is a usage error. */
static int setup_normalize(struct load *l)
{
	struct tensor_norm *n = &l->spec.norm;
	struct chanstats cs;
	char why[256];
	int k;

	if (!n->on)
		return EXIT_OK;
	if (n->from_stats) {
		if (chanstats_read(l->stats_from, &cs) < 0)
			return EXIT_FAIL;
		if (cs.acc.pixels == 0)
			return error("%s: no samples, so no mean and std", l->stats_from), EXIT_FAIL;
		n->n = cs.channels;
		for (k = 0; k < cs.channels; k++) {
			n->mean[k] = cs.mean[k];
			n->std[k] = cs.std[k];
		}
	}
	if (tensor_norm_check(n, l->spec.channels, l->spec.dtype == ROW_F4, why, sizeof(why)) < 0)
		return usage_error("load", "invalid --normalize%s%s: %s",
				   n->from_stats ? " stats from " : "",
				   n->from_stats ? l->stats_from : "", why);
	return EXIT_OK;
}

/* Create OUT's temporary file, sized for the header and the shard's rows
 * (reserved by the caller, see reserve), write the header and map it all. */
static int create_array(struct load *l, struct outfile *o, void **map, size_t *maplen)
{
	const struct row_spec *s = &l->spec;
	struct npy_header hdr = { .ndim = 0 };
	char head[4096];
	uint64_t data, total;
	int le = 1;

	snprintf(hdr.descr, sizeof(hdr.descr), "%c%s",
		 s->dtype == ROW_U1 ? '|' : *(char *)&le ? '<' : '>', row_dtype_names[s->dtype]);
	if (s->ragged) {
		hdr.shape[hdr.ndim++] = l->samples;
	} else if (s->layout == TENSOR_NCHW) {
		/* Channels first, even one: ToTensor's (1, H, W). */
		hdr.shape[hdr.ndim++] = l->nrows;
		hdr.shape[hdr.ndim++] = (uint64_t)s->channels;
		hdr.shape[hdr.ndim++] = s->h;
		hdr.shape[hdr.ndim++] = s->w;
	} else {
		hdr.shape[hdr.ndim++] = l->nrows;
		hdr.shape[hdr.ndim++] = s->h;
		hdr.shape[hdr.ndim++] = s->w;
		if (s->channels > 1)
			hdr.shape[hdr.ndim++] = (uint64_t)s->channels;
	}
	data = npy_data_size(&hdr);
	if (!npy_format_header(&hdr, head, sizeof(head)) || (data == 0 && errno == EOVERFLOW) ||
	    __builtin_add_overflow(data, (uint64_t)hdr.header_len, &total) ||
	    total > (uint64_t)INT64_MAX || total > SIZE_MAX)
		return error("%s: array of %zu x %ux%u x %d x %zu bytes is too large", l->out,
			     l->nrows, s->w, s->h, s->channels, row_sample_size(s->dtype));
	l->row_bytes = row_bytes(s);
	if (outfile_open(o, l->out) < 0)
		return -1;
	if (ftruncate(o->fd, (off_t)total) < 0 || outfile_write(o, head, hdr.header_len) < 0) {
		error_errno("%s", l->out);
		outfile_abort(o);
		return -1;
	}
	/* The workers map the header too: it is written again from this copy
	 * at the commit, whatever one of them did to it. */
	if (outfile_pin_head(o, head, hdr.header_len) < 0)
		return -1;
	*maplen = (size_t)total;
	*map = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (*map == MAP_FAILED) {
		error_errno("%s: mmap", l->out);
		outfile_abort(o);
		return -1;
	}
	/* Only the workers of its own pool get it (decode_target). */
	madvise(*map, *maplen, MADV_DONTFORK);
	l->map = *map;
	l->fd = o->fd;
	l->rows = (unsigned char *)*map + hdr.header_len;
	return 0;
}

/* The manifest, one path per row, into a temporary file (committed later). */
static int write_manifest(struct load *l, struct outfile *o)
{
	size_t i;

	if (outfile_open(o, l->manifest) < 0)
		return -1;
	for (i = l->row0; i < l->row0 + l->nrows; i++) {
		if (outfile_write(o, l->files.paths[i], strlen(l->files.paths[i])) < 0 ||
		    outfile_write(o, "\n", 1) < 0)
			return -1;
	}
	return 0;
}

/* Long-only options. */
enum { OPT_MANIFEST = 0x200, OPT_ORDER, OPT_SANDBOX, OPT_SHARD, OPT_INDEX, OPT_STATS,
       OPT_STATS_FROM };
/* Those of class folders, shuffle and split (parse_dataset_opt). */
enum { OPT_CLASSES = 0x280, OPT_LABELS, OPT_SEED, OPT_SHUFFLE, OPT_SPLIT, OPT_RECURSE_ARCHIVES };

static const struct option longopts[] = {
	{ "classes", required_argument, NULL, OPT_CLASSES },
	{ "help", no_argument, NULL, 'h' },
	{ "index", required_argument, NULL, OPT_INDEX },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "labels", required_argument, NULL, OPT_LABELS },
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "output", required_argument, NULL, 'o' },
	{ "recurse-archives", no_argument, NULL, OPT_RECURSE_ARCHIVES },
	{ "recursive", no_argument, NULL, 'r' },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "shuffle", no_argument, NULL, OPT_SHUFFLE },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "stats-from", required_argument, NULL, OPT_STATS_FROM },
	OPT_COMMON_LONG,
	OPT_ROW_LONG,
	{ NULL, 0, NULL, 0 }
};

static const char *const order_names[] = { "natural", "name", "none", NULL };

/* Handle an option of class folders, shuffle or split: 1 if CH was one, 0
 * if not, -1 for a bad value (message printed). */
static int parse_dataset_opt(struct load *l, int ch, const char *arg)
{
	switch (ch) {
	case OPT_CLASSES:
		l->classes = arg;
		return 1;
	case OPT_LABELS:
		l->labels = arg;
		return 1;
	case OPT_RECURSE_ARCHIVES:
		arch_set_recurse(1);
		return 1;
	case OPT_SEED:
		if (opt_u64(arg, 0, UINT64_MAX, &l->seed) < 0)
			return usage_error("load", "invalid --seed '%s'", arg), -1;
		l->seed_given = 1;
		return 1;
	case OPT_SHUFFLE:
		l->shuffle = 1;
		return 1;
	case OPT_SPLIT:
		if (split_parse(arg, &l->split) < 0)
			return usage_error("load", "invalid --split '%s' (NAME=FRACTION,... with "
					   "fractions in (0,1] adding up to 1, e.g. train=0.9,val=0.1; "
					   "or 2 or 3 bare fractions for train,val,test)", arg), -1;
		return 1;
	}
	return 0;
}

/* The options parse_dataset_opt took must fit together and with INPUT. */
static int check_dataset_opts(const struct load *l, int argc, char **argv)
{
	if (l->classes && !l->labels)
		return usage_error("load", "--classes needs --labels");
	if (l->seed_given && !l->shuffle)
		return usage_error("load", "--seed needs --shuffle");
	if (l->labels && (argc - optind != 1 || strcmp(argv[optind], "-") == 0))
		return usage_error("load", "--labels takes one INPUT, the directory or archive of "
				   "class folders");
	if (l->split.n && l->labels && !l->shuffle)
		warnx("--split without --shuffle: the rows are in class order, so the parts "
		      "hold different classes");
	return 0;
}

/* Parse argv; -1 to go on, else an exit status. Inputs are left in argv
 * from optind. */
static int parse(int argc, char **argv, struct load *l, struct opt_common *c,
		 enum filelist_order *order)
{
	struct opt_row given = { 0 };
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":c:fhj:ko:qrt:v", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(c, ch, optarg, "load")) != 0 ||
		    (r = opt_row_parse(&l->spec, &given, ch, optarg, "load")) != 0 ||
		    (r = parse_dataset_opt(l, ch, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case OPT_INDEX:
			l->index = optarg;
			break;
		case OPT_MANIFEST:
			l->manifest = optarg;
			break;
		case OPT_ORDER:
			if ((r = opt_choice(optarg, order_names)) < 0)
				return usage_error("load", "invalid --order '%s' (natural, name or none)", optarg);
			*order = (enum filelist_order)r;
			break;
		case OPT_SANDBOX:
			if (opt_sandbox(optarg, &l->sandbox, "load") < 0)
				return EXIT_USAGE;
			break;
		case OPT_SHARD:
			if (opt_shard(optarg, &l->shard, "load") < 0)
				return EXIT_USAGE;
			break;
		case OPT_STATS:
			l->stats = optarg;
			break;
		case OPT_STATS_FROM:
			l->stats_from = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'k':
			l->keep_going = 1;
			break;
		case 'o':
			l->out = optarg;
			break;
		case 'r':
			l->recursive = 1;
			break;
		default:
			return opt_bad(ch, argv, "load");
		}
	}
	if (!l->out)
		return usage_error("load", "no output given (-o OUT.npy)");
	if (optind == argc)
		return usage_error("load", "no input given (a directory, files, or - for stdin)");
	if (opt_row_check(&l->spec, &given, "load") < 0)
		return EXIT_USAGE;
	if (l->index && !l->spec.ragged)
		return usage_error("load", "--index needs --ragged");
	if (l->spec.ragged && !l->spec.channels && (l->stats || l->spec.norm.on))
		return usage_error("load", "%s with --ragged needs -c: without it each image keeps "
				   "its own channels", l->stats ? "--stats" : "--normalize");
	if (l->manifest && strcmp(l->manifest, l->out) == 0)
		return usage_error("load", "--manifest and --output name the same file");
	if (l->spec.norm.from_stats != !!l->stats_from)
		return usage_error("load", l->stats_from ? "--stats-from needs --normalize stats"
				   : "--normalize stats needs --stats-from FILE.json");
	if (check_dataset_opts(l, argc, argv) != 0)
		return EXIT_USAGE;
	return -1;
}

/* The output files: one target, or with --split one per part with the
 * part's name in its file names. Every name must differ from the others.
 * 0, or an exit status. */
static int make_targets(struct load *l)
{
	const char *names[5 * SPLIT_MAX + 1];
	int parts = l->split.n ? l->split.n : 1, i, j, n = 0;

	l->targets = calloc((size_t)parts, sizeof(*l->targets));
	if (!l->targets)
		die("out of memory");
	l->ntargets = parts;
	for (i = 0; i < parts; i++) {
		struct target *t = &l->targets[i];
		const char *part = l->split.n ? l->split.name[i] : NULL;

		t->arr.fd = t->lab.fd = t->man.fd = t->idx.fd = t->st.fd = -1;
		t->arr.slot = t->lab.slot = t->man.slot = t->idx.slot = t->st.slot = -1;
		t->out = part ? split_path(l->out, part) : strdup(l->out);
		t->labels = !l->labels ? NULL : part ? split_path(l->labels, part) : strdup(l->labels);
		t->manifest = !l->manifest ? NULL
			      : part ? split_path(l->manifest, part) : strdup(l->manifest);
		if (l->spec.ragged)
			t->index = !l->index ? ragged_index_path(t->out)
				   : part ? split_path(l->index, part) : strdup(l->index);
		t->stats = !l->stats ? NULL : part ? split_path(l->stats, part) : strdup(l->stats);
		if (!t->out || (l->labels && !t->labels) || (l->manifest && !t->manifest) ||
		    (l->spec.ragged && !t->index) || (l->stats && !t->stats))
			die("out of memory");
		names[n++] = t->out;
		if (t->index)
			names[n++] = t->index;
		if (t->labels)
			names[n++] = t->labels;
		if (t->manifest)
			names[n++] = t->manifest;
		if (t->stats)
			names[n++] = t->stats;
	}
	if (l->classes)
		names[n++] = l->classes;
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return usage_error("load", "%s: named for two of the outputs", names[i]);
	return 0;
}

/* Without -f, refuse before any work when an output exists. */
static int refuse_existing(const struct load *l)
{
	int i;

	for (i = 0; i < l->ntargets; i++) {
		const struct target *t = &l->targets[i];
		const char *p[] = { t->out, t->labels, t->manifest, t->index, t->stats };
		size_t k;

		for (k = 0; k < 5; k++)
			if (p[k] && outfile_exists(p[k]))
				return error("%s: file exists (use -f to replace it)", p[k]);
	}
	if (l->classes && outfile_exists(l->classes))
		return error("%s: file exists (use -f to replace it)", l->classes);
	return 0;
}

/* Each target's rows: a split's parts take consecutive ranges of the
 * (shuffled) rows, and a shard its share of each part, by the rule of
 * pool_range, so that merging the shards of a part gives that part. */
static void place_targets(struct load *l)
{
	size_t sizes[SPLIT_MAX], begin = 0, a, b;
	int i;

	if (l->split.n)
		split_sizes(&l->split, l->files.n, sizes);
	else
		sizes[0] = l->files.n;
	for (i = 0; i < l->ntargets; i++) {
		pool_range(sizes[i], l->shard.n, l->shard.k, &a, &b);
		l->targets[i].row0 = begin + a;
		l->targets[i].nrows = b - a;
		begin += sizes[i];
	}
}

/* The workers' --stats accumulators, zero, in memory they share with the
 * parent: one per worker, each written by its worker alone. */
static struct chanstats_acc *stats_slots(unsigned jobs)
{
	void *p = mmap(NULL, (size_t)jobs * sizeof(struct chanstats_acc), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		error_errno("mmap");
		return NULL;
	}
	return p;
}

/* Sum the workers' accumulators (checked: they are the workers' word) in
 * worker order into target T's statistics, counting its SKIPPED rows as
 * the zeros they are in the array (--ragged: a skipped image has no
 * samples), and write them to T's stats file. */
static int write_stats(struct load *l, struct target *t, unsigned jobs, size_t skipped)
{
	struct chanstats cs = { .channels = l->spec.channels, .rows = t->nrows };
	uint64_t px = (uint64_t)l->spec.w * l->spec.h, want, zeros;
	char buf[4096];
	size_t len, i;
	unsigned w;

	if (l->plan) {		/* the index rows finish_ragged left */
		for (want = 0, i = 0; i < t->nrows; i++)
			want += (uint64_t)(l->plan[i * RAGGED_COLS + RAGGED_H] *
					   l->plan[i * RAGGED_COLS + RAGGED_W]);
		zeros = 0;
	} else {
		want = (t->nrows - skipped) * px;
		zeros = skipped * px;
	}
	for (w = 0; w < jobs; w++)
		if (chanstats_merge(&cs.acc, &l->slots[w], cs.channels) < 0)
			return error("%s: worker %u's statistics are out of range", t->out, w);
	if (cs.acc.pixels != want)
		return error("%s: the workers' statistics count %llu samples, not %llu", t->out,
			     (unsigned long long)cs.acc.pixels, (unsigned long long)want);
	chanstats_add_zeros(&cs.acc, zeros);
	chanstats_finish(&cs);
	if (!(len = chanstats_format(&cs, buf, sizeof(buf))))
		return error("%s: statistics too long", t->stats);
	if (outfile_open(&t->st, t->stats) < 0)
		return -1;
	return outfile_write(&t->st, buf, len);
}

/*
 * --ragged: the header pass over T's rows, then their offsets (ragged.c).
 * Under -k a file whose header fails, or whose resized size is out of
 * range, is skipped (counted in *SKIPPED, its index row 0x0, no samples).
 */
static int plan_ragged(struct load *l, struct target *t, struct opt_common *c, size_t *skipped)
{
	/* The header pass parses untrusted headers: confined as the decode. */
	struct pool_task task = { .first = t->row0, .count = t->nrows, .jobs = c->jobs,
				  .schedule = c->schedule, .keep_going = l->keep_going,
				  .verbose = c->verbose, .confine = l->confine, .confine_fd = -1 };
	char why[1024];
	size_t i, bad;

	if (ragged_scan(l->files.paths, &l->spec, &task, &t->dims) < 0)
		return -1;
	l->dims = t->dims;
	for (i = 0; i < t->nrows; i++)
		if (l->dims[i].w == 0 && l->dims[i].h == 0 && l->dims[i].c == 0)
			++*skipped;
	if (!(t->plan = l->plan = malloc((t->nrows ? t->nrows : 1) * RAGGED_COLS *
					  sizeof(int64_t))))
		return error("out of memory");
	while (ragged_plan(&l->spec, l->dims, t->nrows, l->plan, &l->samples, &bad, why,
			   sizeof(why)) < 0) {
		if (!l->keep_going)
			return error("%s: %s", l->files.paths[t->row0 + bad], why);
		warnx("%s: %s", l->files.paths[t->row0 + bad], why);
		memset(&l->dims[bad], 0, sizeof(l->dims[bad]));
		++*skipped;
	}
	return 0;
}

/*
 * Reserve the whole array before the first decode: a disk too small fails
 * here, naming OUT, not in a worker an hour in. On tmpfs this zeroes the
 * pages in the parent (about 0.1 s a GB here), which the workers then map
 * without zeroing (load_range), so the CPU time is the same; on ext4 it is
 * metadata only. Where the filesystem cannot, the workers' page faults or
 * writes report a full disk as before.
 */
static int reserve(struct load *l, size_t maplen)
{
	int e = posix_fallocate(l->fd, 0, (off_t)maplen);

	if (e && e != EOPNOTSUPP && e != EINVAL)
		return error("%s: %s", l->out, strerror(e));
	return 0;
}

/* --ragged: share a byte a row for the workers to mark the rows that
 * failed under -k. */
static int share_failed(struct load *l)
{
	l->failed = mmap(NULL, l->nrows ? l->nrows : 1, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l->failed == MAP_FAILED) {
		l->failed = NULL;
		return error_errno("mmap");
	}
	madvise(l->failed, l->nrows ? l->nrows : 1, MADV_DONTFORK);	/* as the array */
	return 0;
}

/* --ragged, after the decode: a row that failed under -k keeps its slot
 * (zero) but gets H = W = 0; then the index goes beside the array. */
static int finish_ragged(struct load *l, struct target *t)
{
	size_t i;

	for (i = 0; i < t->nrows; i++)
		if (l->failed[i])
			l->plan[i * RAGGED_COLS + RAGGED_H] = l->plan[i * RAGGED_COLS + RAGGED_W] = 0;
	return ragged_write_index(l->plan, t->nrows, t->index, &t->idx);
}

/* Point L's per-target fields at T's (see struct target). */
static void use_target(struct load *l, const struct target *t)
{
	l->out = t->out;
	l->manifest = t->manifest;
	l->row0 = t->row0;
	l->nrows = t->nrows;
	l->map = t->map;
	l->rows = t->rows;
	l->fd = t->arr.fd;
	l->failed = t->failed;
	l->dims = t->dims;
	l->plan = t->plan;
	l->samples = t->samples;
}

/* Before any target is decoded: plan target T's rows (--ragged's header
 * pass), make, reserve and map its array, and write its labels and
 * manifest beside it; nothing is committed here. Returns 0, or -1. */
static int prepare_target(struct load *l, struct target *t, struct opt_common *c,
			  size_t *skipped)
{
	use_target(l, t);
	if (l->spec.ragged && plan_ragged(l, t, c, skipped) < 0)
		return -1;
	t->samples = l->samples;
	if (create_array(l, &t->arr, &t->map, &t->maplen) < 0)
		return -1;
	t->rows = l->rows;
	if (reserve(l, t->maplen) < 0 || (l->spec.ragged && share_failed(l) < 0))
		return -1;
	t->failed = l->failed;
	if ((t->manifest && write_manifest(l, &t->man) < 0) ||
	    (t->labels && dataset_write_labels(&l->ds, t->row0, t->nrows, t->labels, &t->lab) < 0))
		return -1;
	return 0;
}

/* Unmap what prepare_target mapped for T. 0, or -1 with a message. */
static int unmap_target(struct target *t)
{
	int r = 0;

	if (t->failed)
		munmap(t->failed, t->nrows ? t->nrows : 1);
	t->failed = NULL;
	if (t->map && t->map != MAP_FAILED && munmap(t->map, t->maplen) < 0)
		r = error_errno("%s", t->out);
	t->map = NULL;
	return r;
}

/* Decode target T's rows into its array's mapping, then (--ragged) write
 * its index beside it. Returns 0, or -1. */
static int decode_target(struct load *l, struct target *t, struct opt_common *c,
			 size_t *skipped)
{
	struct pool_result res;
	struct pool_task task;
	struct progress prog;
	int ok;

	use_target(l, t);
	if (t->stats && !(l->slots = stats_slots(c->jobs)))
		return -1;
	progress_init(&prog, c->quiet, "images");
	task = (struct pool_task){
		.first = l->row0, .count = l->nrows, .jobs = c->jobs, .schedule = c->schedule,
		.keep_going = l->keep_going, .verbose = c->verbose, .run = load_one,
		.range = load_range,
		.name = row_name, .open = row_open, .ctx = l, .progress = progress_update,
		.progress_ctx = &prog,
		/* Confined after the memory cap. The parent reserved the
		 * output (reserve), so they keep no descriptor of it. */
		.confine = l->confine, .confine_fd = -1, .setup = load_setup,
		.lost = load_lost,
	};
	/* T's array (and failed bytes), kept from every other pool's workers,
	 * go to this one's (a part's workers cannot reach another part). */
	madvise(t->map, t->maplen, MADV_DOFORK);
	if (t->failed)
		madvise(t->failed, t->nrows ? t->nrows : 1, MADV_DOFORK);
	ok = pool_run(&task, &res) == 0;
	if (ok && l->spec.ragged)
		ok = finish_ragged(l, t) == 0;
	if (l->slots) {
		if (ok)
			ok = write_stats(l, t, c->jobs, res.skipped) == 0;
		munmap(l->slots, (size_t)c->jobs * sizeof(*l->slots));
		l->slots = NULL;
	}
	if (unmap_target(t) < 0)
		ok = 0;
	*skipped += res.skipped;
	return ok ? 0 : -1;
}

/* Every temporary file of the run, in the order of their renames: the
 * manifests, labels and classes first and the arrays last, so that once
 * an array is there, what goes with it is too. */
static int all_outfiles(struct load *l, struct outfile **o)
{
	int i, n = 0;

	for (i = 0; i < l->ntargets; i++) {
		o[n++] = &l->targets[i].man;
		o[n++] = &l->targets[i].lab;
		o[n++] = &l->targets[i].idx;
		o[n++] = &l->targets[i].st;
	}
	o[n++] = &l->cls;
	for (i = 0; i < l->ntargets; i++)
		o[n++] = &l->targets[i].arr;
	return n;
}

/* Prepare every target (so that all the output space is reserved before
 * the first decode), decode each; commit all the outputs only if every
 * pool succeeded. Returns the exit status. */
static int run(struct load *l, struct opt_common *c)
{
	struct outfile *o[5 * SPLIT_MAX + 1];
	const char *out = l->out;
	size_t skipped = 0, nrows = 0;
	int i, n, ok;

	/* Confined workers, or not (--sandbox); -1: required but not here. */
	ok = (l->confine = sandbox_resolve(l->sandbox)) >= 0;
	for (i = 0; ok && i < l->ntargets; i++)
		ok = prepare_target(l, &l->targets[i], c, &skipped) == 0;
	for (i = 0; ok && i < l->ntargets; i++) {
		ok = decode_target(l, &l->targets[i], c, &skipped) == 0;
		nrows += l->targets[i].nrows;
	}
	for (i = 0; i < l->ntargets; i++)
		unmap_target(&l->targets[i]);
	l->out = out;
	if (ok && l->classes)
		ok = dataset_write_classes(&l->ds, l->classes, &l->cls) == 0;
	n = all_outfiles(l, o);
	if (!ok) {
		for (i = 0; i < n; i++)
			outfile_abort(o[i]);
		return EXIT_FAIL;
	}
	if (outfile_commit_all(o, n, c->force) < 0)
		return EXIT_FAIL;
	if (skipped) {
		warnx("%s: %zu of %zu rows skipped (%s)", l->out, skipped, nrows,
		      l->spec.ragged ? "index rows 0x0" : "left zero");
		return EXIT_SKIPPED;
	}
	return EXIT_OK;
}

/* The rows: the inputs, or the class folders of the one input; sorted,
 * then shuffled if asked. 0, or -1 with a message printed. */
static int collect(struct load *l, int argc, char **argv, enum filelist_order order)
{
	int i;

	arch_set_member_max(l->spec.max_pixels * 8 + (1 << 20));
	l->files.recursive = l->recursive;
	if (l->labels) {
		if ((arch_sniff(argv[optind]) ? arch_scan : dataset_scan)(&l->ds, &l->files,
									  argv[optind], order) < 0)
			return -1;
	} else {
		for (i = optind; i < argc; i++)
			if (filelist_add(&l->files, argv[i]) < 0)
				return -1;
		if (l->files.n == 0)
			return filelist_none_found(argv + optind, argc - optind, "--labels FILE");
		filelist_sort(&l->files, order);
	}
	if (l->shuffle && dataset_shuffle(&l->ds, &l->files, l->seed) < 0)
		return -1;
	return 0;
}

static void load_free(struct load *l)
{
	int i;

	for (i = 0; i < l->ntargets; i++) {
		free(l->targets[i].out);
		free(l->targets[i].labels);
		free(l->targets[i].manifest);
		free(l->targets[i].index);
		free(l->targets[i].dims);
		free(l->targets[i].plan);
		free(l->targets[i].stats);
	}
	free(l->targets);
	dataset_free(&l->ds);
	filelist_free(&l->files);
	arch_free();
	free(l->file.p);
}

int cmd_load(int argc, char **argv)
{
	struct load l = { .spec = { .max_pixels = DEFAULT_MAX_PIXELS, .dtype = ROW_U1,
				    .filter = RESIZE_BILINEAR },
			  .shard = { 0, 1 }, .cls = { .fd = -1, .slot = -1 } };
	enum filelist_order order = ORDER_NATURAL;
	struct opt_common c;
	int r;

	opt_common_init(&c);
	if ((r = parse(argc, argv, &l, &c, &order)) >= 0)
		return r;
	if ((r = make_targets(&l)) != 0) {
		load_free(&l);
		return r;
	}
	/* Refuse to clobber before any work is done. */
	r = EXIT_FAIL;
	if ((c.force || refuse_existing(&l) == 0) && collect(&l, argc, argv, order) == 0) {
		place_targets(&l);
		if (probe_shape(&l) == 0 && (r = setup_normalize(&l)) == EXIT_OK)
			r = run(&l, &c);
	}
	load_free(&l);
	return r;
}
