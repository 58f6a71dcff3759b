/* load.c - "parimg load"'s interface: its help, its options and how they
 * fit together, the names of its outputs, and the rows its INPUTs name.
 * What it then does with them (probe, map, decode in the pool, commit) is
 * load_run.c's. */
#define _GNU_SOURCE
#include "cmd/load.h"
#include "cmd/opt.h"
#include "cmd/parimg.h"
#include "cmd/ragged.h"
#include "inputs/arch.h"
#include "inputs/labels.h"
#include "inputs/scan.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/split.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_PIXELS (1ULL << 28)

static const char usage_text[] =
	"usage: parimg load [options] -o OUT.npy INPUT...\n"
	"\n"
	"Decode images into one packed NumPy .npy array, (N,H,W) or (N,H,W,C).\n"
	"INPUT is a directory (its png, jpg, jpeg, webp, gif, bmp, dib, tga, pgm, ppm,\n"
	"pnm, tif, tiff, jp2, j2k, j2c, jpc, jpf, jpx, heic, heif, hif, avif, jxl,\n"
	"sgi, rgb, rgba, bw and ico files, not recursing unless -r, hidden files\n"
	"skipped),\n"
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
	"      --exclude FILE      drop the inputs FILE lists, one path a line or\n"
	"                          NUL-ended (check --list KIND's output), before\n"
	"                          shuffle, split and shard\n"
	"      --manifest FILE     write the path of each row, one per line\n"
	"      --labels Y.npy      take INPUT's subdirectories as classes, numbered\n"
	"                          from 0 in byte order of their names, with their\n"
	"                          image files at any depth; write each row's class\n"
	"                          to Y.npy (int64)\n"
	"      --classes FILE      with --labels: write the class names, one a line\n"
	"      --labels-from TABLE with --labels: take each image's label from a\n"
	"                          CSV, TSV or JSON Lines file (told apart by its\n"
	"                          content), not from class folders; a row's key\n"
	"                          names the image whose path relative to INPUT is\n"
	"                          it, else whose path less its extension is it,\n"
	"                          else whose file name is it, else whose file\n"
	"                          name less its extension is it (INPUT's images\n"
	"                          at any depth, in --order); two images for a key\n"
	"                          is an error; every row must name one\n"
	"                          image and every image have one row, or nothing\n"
	"                          is decoded. TABLE may be ARCHIVE:MEMBER, a\n"
	"                          member of the INPUT archive (train.zip:train.csv;\n"
	"                          a file of that name wins). Without it, the\n"
	"                          metadata.csv or metadata.jsonl at INPUT's root\n"
	"                          and in its split folders (directory or archive)\n"
	"                          are used (Hugging Face's imagefolder: each image\n"
	"                          the deepest one's), before folders\n"
	"      --path-column COL   the table's key column (default: the first of\n"
	"                          file_name, filename, path, image, image_name,\n"
	"                          image_id, id)\n"
	"      --label-column COL  the table's label column (default: label);\n"
	"                          integers are kept, strings are classes numbered\n"
	"                          from 0 in byte order of their names\n"
	"      --multi-label SEP   split each label cell at SEP into classes and\n"
	"                          write Y.npy as (N, K) uint8 multi-hot rows\n"
	"      --targets COL,...   write these numeric columns to Y.npy as (N, M)\n"
	"                          float32 (strtod rounded to float32) instead\n"
	"      --label-regex RE    with --labels: each image's class is the first\n"
	"                          group of POSIX extended RE searched in its path\n"
	"                          relative to INPUT, e.g. '([a-z]+)\\.[0-9]+\\.jpg$'\n"
	"      --unlabelled error|skip\n"
	"                          an image without a row (or not matched by\n"
	"                          --label-regex): an error (default), or dropped\n"
	"                          with a count on stderr\n"
	"      --shuffle           rows in a random order fixed by the seed and the\n"
	"                          sorted inputs alone\n"
	"      --seed S            the shuffle's seed (default 0)\n"
	"      --split NAME=F,...  write consecutive parts of the (shuffled) rows,\n"
	"                          e.g. train=0.9,val=0.1 (or 0.9,0.1), each to\n"
	"                          OUT.NAME.npy, Y.NAME.npy and the manifest's\n"
	"                          name with .NAME\n"
	"  -c, --channels 1|2|3|4  convert every image to C channels (default: 3,\n"
	"                          as ImageFolder's convert(\"RGB\"), or 1 when\n"
	"                          every image is gray; alpha is dropped unless\n"
	"                          -c 2 or 4; a line on stderr says when images\n"
	"                          were converted)\n"
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
	"      --masks DIR         pair each image with its segmentation mask: the\n"
	"                          image file in DIR of the same path relative to\n"
	"                          INPUT and the same name less its extension (VOC's\n"
	"                          JPEGImages/x.jpg, SegmentationClass/x.png); a\n"
	"                          palette's indices, or gray values, never colours;\n"
	"                          the mask gets the image's --exif-transpose,\n"
	"                          --resize and --fit with NEAREST whatever --filter,\n"
	"                          never -t, --layout or --normalize; a missing mask,\n"
	"                          two, or one of another size is an error (-k skips\n"
	"                          the pair); DIR may be an archive (tar, zip,\n"
	"                          compressed tar): its members, by their paths\n"
	"      --masks-out M.npy   with --masks: write the masks, (N,H,W) uint8, in\n"
	"                          the rows' order (split and shard as OUT); with\n"
	"                          --ragged, 1-D, each at its image's size, and\n"
	"                          their index M.index.npy (offset, H, W, 1)\n"
	"      --mask-pad V        --fit contain: the masks' margins (default 0; 255\n"
	"                          is VOC's \"ignore\")\n"
	"      --exif-transpose    turn each image by its EXIF orientation (JPEG,\n"
	"                          PNG, WebP) before --resize, as Pillow's\n"
	"                          ImageOps.exif_transpose() does\n"
	"      --no-exif-transpose keep images as stored (default: Pillow's\n"
	"                          Image.open() and ImageFolder ignore the tag;\n"
	"                          a TIFF is turned by its own tag either way,\n"
	"                          as Pillow's TIFF loader turns it, a HEIF or AVIF\n"
	"                          by its irot/imir/clap boxes, never by EXIF)\n"
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

/* Long-only options. */
enum { OPT_MANIFEST = 0x200, OPT_ORDER, OPT_SANDBOX, OPT_SHARD, OPT_INDEX, OPT_STATS,
       OPT_STATS_FROM, OPT_EXCLUDE, OPT_MASKS, OPT_MASKS_OUT, OPT_MASK_PAD };
/* Those of class folders, shuffle and split (parse_dataset_opt). */
enum { OPT_CLASSES = 0x280, OPT_LABELS, OPT_SEED, OPT_SHUFFLE, OPT_SPLIT, OPT_RECURSE_ARCHIVES,
       OPT_LABELS_FROM, OPT_PATH_COLUMN, OPT_LABEL_COLUMN, OPT_MULTI_LABEL, OPT_TARGETS,
       OPT_LABEL_REGEX, OPT_UNLABELLED };

static const struct option longopts[] = {
	{ "classes", required_argument, NULL, OPT_CLASSES },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "help", no_argument, NULL, 'h' },
	{ "index", required_argument, NULL, OPT_INDEX },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "label-column", required_argument, NULL, OPT_LABEL_COLUMN },
	{ "label-regex", required_argument, NULL, OPT_LABEL_REGEX },
	{ "labels", required_argument, NULL, OPT_LABELS },
	{ "labels-from", required_argument, NULL, OPT_LABELS_FROM },
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "mask-pad", required_argument, NULL, OPT_MASK_PAD },
	{ "masks", required_argument, NULL, OPT_MASKS },
	{ "masks-out", required_argument, NULL, OPT_MASKS_OUT },
	{ "multi-label", required_argument, NULL, OPT_MULTI_LABEL },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "output", required_argument, NULL, 'o' },
	{ "path-column", required_argument, NULL, OPT_PATH_COLUMN },
	{ "recurse-archives", no_argument, NULL, OPT_RECURSE_ARCHIVES },
	{ "recursive", no_argument, NULL, 'r' },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "shuffle", no_argument, NULL, OPT_SHUFFLE },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "stats-from", required_argument, NULL, OPT_STATS_FROM },
	{ "targets", required_argument, NULL, OPT_TARGETS },
	{ "unlabelled", required_argument, NULL, OPT_UNLABELLED },
	OPT_COMMON_LONG,
	OPT_ROW_LONG,
	{ NULL, 0, NULL, 0 }
};

static const char *const order_names[] = { "natural", "name", "none", NULL };
static const char *const unlabelled_names[] = { "error", "skip", NULL };

/* Handle an option of labels from a table or names: as parse_dataset_opt. */
static int parse_labels_opt(struct labels_opts *lo, int ch, const char *arg)
{
	char why[256];
	int r;

	switch (ch) {
	case OPT_LABEL_COLUMN:
		lo->label_col = arg;
		return 1;
	case OPT_LABEL_REGEX:
		if (labels_check_regex(arg, why, sizeof(why)) < 0)
			return usage_error("load", "invalid --label-regex '%s': %s", arg, why);
		lo->regex = arg;
		return 1;
	case OPT_LABELS_FROM:
		lo->table = arg;
		return 1;
	case OPT_MULTI_LABEL:
		if (!*arg)
			return usage_error("load", "invalid --multi-label '': an empty separator");
		lo->multi_sep = arg;
		return 1;
	case OPT_PATH_COLUMN:
		lo->path_col = arg;
		return 1;
	case OPT_TARGETS:
		lo->targets = arg;
		return 1;
	case OPT_UNLABELLED:
		if ((r = opt_choice(arg, unlabelled_names)) < 0)
			return usage_error("load", "invalid --unlabelled '%s' (error or skip)", arg);
		lo->skip_unlabelled = r;
		return 1;
	}
	return 0;
}

/* The options parse_labels_opt took must fit together. */
static int check_labels_opts(const struct load *l, int unlabelled_given)
{
	const struct labels_opts *lo = &l->lo;
	const char *why;

	if (!l->labels && (lo->table || lo->regex || lo->path_col || lo->label_col ||
			   lo->multi_sep || lo->targets || unlabelled_given))
		return usage_error("load", "%s needs --labels Y.npy (the labels' output)",
				   lo->table ? "--labels-from" : lo->regex ? "--label-regex"
				   : "a labels option");
	if ((why = labels_opts_clash(lo)))
		return usage_error("load", "%s", why);
	if (lo->targets && l->classes)
		return usage_error("load", "--classes has no names to write with --targets");
	return 0;
}

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
			return usage_error("load", "invalid --seed '%s'", arg);
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
		return usage_error("load", "--classes needs --labels Y.npy");
	if (l->seed_given && !l->shuffle)
		return usage_error("load", "--seed needs --shuffle");
	if (l->labels && (argc - optind != 1 || strcmp(argv[optind], "-") == 0))
		return usage_error("load", "--labels takes one INPUT, the directory or archive of "
				   "class folders (or of the images --labels-from names)");
	if (l->split.n && l->labels && !l->shuffle && !l->lo.table && !l->lo.regex)
		warnx("--split without --shuffle: the rows are in class order, so the parts "
		      "hold different classes");
	return 0;
}

/* --masks, --masks-out and --mask-pad must fit together and with the rest. */
static int check_masks_opts(const struct load *l, int mask_pad_given)
{
	if (!l->masks_dir != !l->masks_out)
		return usage_error("load", l->masks_dir ? "--masks needs --masks-out M.npy (the "
				   "masks' output)" : "--masks-out needs --masks DIR");
	if (mask_pad_given && !l->masks_dir)
		return usage_error("load", "--mask-pad needs --masks DIR");
	if (mask_pad_given && l->spec.fit != RESIZE_CONTAIN)
		return usage_error("load", "--mask-pad needs --fit contain");
	if (l->masks_out && strcmp(l->masks_out, l->out) == 0)
		return usage_error("load", "--masks-out and --output name the same file");
	return 0;
}

/* Parse argv: 0 to go on, -1 after a usage message, 1 when done (--help).
 * Inputs are left in argv from optind. */
static int parse(int argc, char **argv, struct load *l, struct opt_common *c,
		 enum filelist_order *order)
{
	struct opt_row given = { 0 };
	int ch, r, unlabelled_given = 0, mask_pad_given = 0;
	uint64_t v;

	while ((ch = getopt_long(argc, argv, ":c:fhj:ko:qrt:v", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(c, ch, optarg, "load")) != 0 ||
		    (r = opt_row_parse(&l->spec, &given, ch, optarg, "load")) != 0 ||
		    (r = parse_dataset_opt(l, ch, optarg)) != 0 ||
		    (r = parse_labels_opt(&l->lo, ch, optarg)) != 0) {
			unlabelled_given |= ch == OPT_UNLABELLED;
			if (r < 0)
				return -1;
			continue;
		}
		switch (ch) {
		case OPT_EXCLUDE:
			l->exclude = optarg;
			break;
		case OPT_INDEX:
			l->index = optarg;
			break;
		case OPT_MANIFEST:
			l->manifest = optarg;
			break;
		case OPT_MASKS:
			l->masks_dir = optarg;
			break;
		case OPT_MASKS_OUT:
			l->masks_out = optarg;
			break;
		case OPT_MASK_PAD:
			if (opt_u64(optarg, 0, 255, &v) < 0)
				return usage_error("load", "invalid --mask-pad '%s' (0 to 255)", optarg);
			l->mask_pad = (unsigned)v;
			mask_pad_given = 1;
			break;
		case OPT_ORDER:
			if ((r = opt_choice(optarg, order_names)) < 0)
				return usage_error("load", "invalid --order '%s' (natural, name or none)", optarg);
			*order = (enum filelist_order)r;
			break;
		case OPT_SANDBOX:
			if (opt_sandbox(optarg, &l->sandbox, "load") < 0)
				return -1;
			break;
		case OPT_SHARD:
			if (opt_shard(optarg, &l->shard, "load") < 0)
				return -1;
			break;
		case OPT_STATS:
			l->stats = optarg;
			break;
		case OPT_STATS_FROM:
			l->stats_from = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
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
		return -1;
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
	if (check_dataset_opts(l, argc, argv) != 0 || check_labels_opts(l, unlabelled_given) != 0 ||
	    check_masks_opts(l, mask_pad_given) != 0)
		return -1;
	return 0;
}

/* The output files: one target, or with --split one per part with the
 * part's name in its file names. Every name must differ from the others.
 * 0, or -1 after a usage message. */
static int make_targets(struct load *l)
{
	const char *names[7 * SPLIT_MAX + 1];
	int parts = l->split.n ? l->split.n : 1, i, j, n = 0;

	l->targets = calloc((size_t)parts, sizeof(*l->targets));
	if (!l->targets)
		die("out of memory");
	l->ntargets = parts;
	for (i = 0; i < parts; i++) {
		struct target *t = &l->targets[i];
		const char *part = l->split.n ? l->split.name[i] : NULL;

		t->arr.fd = t->lab.fd = t->man.fd = t->idx.fd = t->st.fd = t->msk.fd = -1;
		t->arr.slot = t->lab.slot = t->man.slot = t->idx.slot = t->st.slot = -1;
		t->msk.slot = t->midx.fd = t->midx.slot = -1;
		t->out = part ? split_path(l->out, part) : strdup(l->out);
		t->labels = !l->labels ? NULL : part ? split_path(l->labels, part) : strdup(l->labels);
		t->manifest = !l->manifest ? NULL
			      : part ? split_path(l->manifest, part) : strdup(l->manifest);
		if (l->spec.ragged)
			t->index = !l->index ? ragged_index_path(t->out)
				   : part ? split_path(l->index, part) : strdup(l->index);
		t->stats = !l->stats ? NULL : part ? split_path(l->stats, part) : strdup(l->stats);
		t->masks = !l->masks_out ? NULL : part ? split_path(l->masks_out, part)
			   : strdup(l->masks_out);
		if (!t->out || (l->labels && !t->labels) || (l->manifest && !t->manifest) ||
		    (l->spec.ragged && !t->index) || (l->stats && !t->stats) ||
		    (l->masks_out && !t->masks))
			die("out of memory");
		if (t->masks && l->spec.ragged && !(t->mindex = ragged_index_path(t->masks)))
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
		if (t->masks)
			names[n++] = t->masks;
		if (t->mindex)
			names[n++] = t->mindex;
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
		const char *p[] = { t->out, t->labels, t->manifest, t->index, t->stats, t->masks,
				    t->mindex };
		size_t k;

		for (k = 0; k < 7; k++)
			if (p[k] && outfile_exists(p[k]))
				return error("%s: file exists (use -f to replace it)", p[k]);
	}
	if (l->classes && outfile_exists(l->classes))
		return error("%s: file exists (use -f to replace it)", l->classes);
	return 0;
}

/* The rows: the inputs, or the class folders of the one input; sorted,
 * then shuffled if asked. 0, or -1 with a message printed. */
static int collect(struct load *l, int argc, char **argv, enum filelist_order order)
{
	struct scan_opts o = {
		.recursive = l->recursive, .labels = l->labels != NULL, .order = order,
		.member_max = l->spec.max_pixels * 8 + (1 << 20), .hint = "--labels Y.npy",
	};

	size_t dropped, unmatched;
	char *member = NULL;
	int arch, table_opts;

	l->inputs = argv + optind;
	l->ninputs = argc - optind;
	arch_set_spill_dir(l->out);	/* a compressed tar past the memory budget: */
	arch_set_stream(1);		/* streamed, unless --recurse-archives */
	arch = l->labels && arch_sniff(argv[optind]);
	table_opts = l->lo.path_col || l->lo.label_col || l->lo.multi_sep || l->lo.targets ||
		l->lo.skip_unlabelled;
	if (l->labels && l->lo.table) {
		/* A file, or a member of the INPUT archive, kept while listing. */
		if (labels_resolve_table(&l->lo, argv[optind], &member) < 0 ||
		    (member && arch_keep_tables(member, 0) < 0))
			goto fail;
	} else if (l->labels && !l->lo.regex) {
		/* Hugging Face's metadata files, found before the folders. */
		if (arch ? arch_keep_tables(NULL, 1) < 0 : labels_find_metadata(argv[optind],
										&l->lo) < 0)
			return -1;
		if (!arch && !l->lo.nsrc && table_opts)
			return error("%s: no metadata.csv or metadata.jsonl for the table options; "
				     "name the table with --labels-from", argv[optind]);
	}
	if (l->lo.nsrc || l->lo.table || l->lo.regex || (arch && table_opts)) {
		/* The images at any depth, labelled by the table or names. */
		o.labels = 0;
		o.recursive = 1;
		l->lo.root = argv[optind];
	}
	if (scan_collect(&l->files, &l->ds, argv + optind, argc - optind, &o) < 0 ||
	    (arch && labels_take_kept(argv[optind], &l->lo) < 0))
		goto fail;
	if (member && !l->lo.nsrc) {
		error("%s: no member '%s' in %s (or not a regular file)", l->lo.table, member,
		      argv[optind]);
		goto fail;
	}
	free(member);
	member = NULL;
	if (!l->lo.nsrc && !l->lo.regex && table_opts)
		return error("%s: no metadata.csv or metadata.jsonl for the table options; name "
			     "the table with --labels-from", argv[optind]);
	l->lo.root = argv[optind];
	if ((l->lo.nsrc || l->lo.regex) && labels_apply(&l->ds, &l->files, &l->lo) < 0)
		return -1;
	if (l->classes && !l->ds.nclasses)
		return error("%s: the labels are integers: no class names for --classes",
			     l->lo.table ? l->lo.table : argv[optind]);
	if (l->exclude) {
		if (scan_exclude(&l->files, &l->ds, l->exclude, &dropped, &unmatched) < 0)
			return -1;
		/* A list made on other INPUT names matches nothing: say so. */
		if (unmatched)
			warnx("%s: %zu of its paths name no input row (excluded %zu)", l->exclude,
			      unmatched, dropped);
		if (l->files.n == 0)
			return error("%s: every input row is excluded", l->exclude);
	}
	if (l->shuffle && dataset_shuffle(&l->ds, &l->files, l->seed) < 0)
		return -1;
	/* Every row's mask, found before anything is decoded or written. */
	if (l->masks_dir && masks_find(&l->mk, &l->files, l->inputs, l->ninputs, l->masks_dir,
				       l->keep_going) < 0)
		return -1;
	return 0;
fail:
	free(member);
	return -1;
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
		free(l->targets[i].masks);
		free(l->targets[i].mindex);
		free(l->targets[i].mplan);
	}
	load_early_end(l);
	masks_free(&l->mk);
	for (size_t k = 0; k < l->nroots; k++)
		free((char *)l->roots[k]);
	free(l->roots);
	free(l->mfile.p);
	free(l->targets);
	free(l->failed1);
	dataset_free(&l->ds);
	labels_free(&l->lo);
	filelist_leave(&l->files);	/* at exit */
	arch_free();
	free(l->file.p);
}

int cmd_load(int argc, char **argv)
{
	struct load l = { .spec = { .max_pixels = DEFAULT_MAX_PIXELS, .dtype = TENSOR_U1,
				    .filter = RESIZE_BILINEAR },
			  .shard = { 0, 1 }, .cls = { .fd = -1, .slot = -1 } };
	enum filelist_order order = ORDER_NATURAL;
	struct opt_common c;
	int r;

	opt_common_init(&c);
	if ((r = parse(argc, argv, &l, &c, &order)) != 0)
		return opt_status(r);
	if (make_targets(&l) < 0) {
		load_free(&l);
		return EXIT_USAGE;
	}
	/* Refuse to clobber before any work is done. */
	r = EXIT_FAIL;
	if (c.force || refuse_existing(&l) == 0) {
		load_early_start(&l, &c, argv + optind, argc - optind);
		if (collect(&l, argc, argv, order) == 0)
			r = load_run(&l, &c);
	}
	load_free(&l);
	return r;
}
