/* bench.c - "parimg bench": time serial against parallel runs of gen and load
 * on a scratch dataset, or of load on the user's own files. Each timed run
 * is a real "parimg gen|load" process, timed from fork to waitpid, so the
 * numbers are what `time` or hyperfine would show for the same command;
 * every run's output is checked against the first, file by file (gen) or
 * row by row (load). */
#define _GNU_SOURCE
#include "cmd/opt.h"
#include "cmd/parimg.h"
#include "cmd/ragged.h"
#include "inputs/arch.h"
#include "inputs/labels.h"
#include "inputs/scan.h"
#include "image/row.h"
#include "engine/pool.h"
#include "common/err.h"
#include "common/npy.h"
#include "common/outfile.h"
#include "common/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS_LIST 32
#define MAX_INPUTS 1024		/* DIR|FILE arguments */
#define DEFAULT_RUNS 5

/* Load's row options (opt.h), in the order bench passes them on; -c,
 * which also describes the scratch dataset, first. */
static const struct {
	int ch;
	const char *flag;
	int has_value;
} row_opts[] = {
	{ 'c', "--channels", 1 }, { 't', "--dtype", 1 }, { OPT_SCALE, "--scale", 0 },
	{ OPT_RESIZE, "--resize", 1 }, { OPT_FILTER, "--filter", 1 }, { OPT_FIT, "--fit", 1 },
	{ OPT_PAD, "--pad", 1 }, { OPT_DRAFT, "--draft", 0 }, { OPT_NO_DRAFT, "--no-draft", 0 },
	{ OPT_MAX_PIXELS, "--max-pixels", 1 }, { OPT_RAGGED, "--ragged", 0 },
	{ OPT_MAX_SIDE, "--max-side", 1 }, { OPT_LAYOUT, "--layout", 1 },
	{ OPT_NORMALIZE, "--normalize", 1 }, { OPT_EXIF_TRANSPOSE, "--exif-transpose", 0 },
	{ OPT_NO_EXIF_TRANSPOSE, "--no-exif-transpose", 0 },
};
#define NROW_OPTS (int)(sizeof(row_opts) / sizeof(row_opts[0]))
/* Load's options of labels from a table or names, passed on as they are;
 * each implies bench's --labels. */
enum { OPT_LABELS_FROM = 0x300, OPT_PATH_COLUMN, OPT_LABEL_COLUMN, OPT_MULTI_LABEL,
       OPT_TARGETS, OPT_LABEL_REGEX, OPT_UNLABELLED };
static const struct {
	int ch;
	const char *flag;
} label_opts[] = {
	{ OPT_LABELS_FROM, "--labels-from" }, { OPT_PATH_COLUMN, "--path-column" },
	{ OPT_LABEL_COLUMN, "--label-column" }, { OPT_MULTI_LABEL, "--multi-label" },
	{ OPT_TARGETS, "--targets" }, { OPT_LABEL_REGEX, "--label-regex" },
	{ OPT_UNLABELLED, "--unlabelled" },
};
#define NLABEL_OPTS (int)(sizeof(label_opts) / sizeof(label_opts[0]))
/* And load's options of the rows' order and set, passed on after them:
 * --labels FILE, --order, --shuffle, --seed, -k (bench's --labels is a
 * flag: the labels go to the scratch directory), --masks DIR --masks-out
 * FILE (the masks to the scratch directory too), --mask-pad V. */
#define NSET_ARGS 14
#define MAX_LOAD_ARGS (2 * NROW_OPTS + 2 * NLABEL_OPTS + NSET_ARGS)
/* The files beside load's array that every run must write alike. */
enum side { SIDE_LABELS, SIDE_MASKS, SIDE_MASKS_INDEX, NSIDES };

enum phase { PHASE_GEN, PHASE_LOAD, NPHASES };
static const char *const phase_names[] = { "gen", "load", NULL };
enum format { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_MARKDOWN };
static const char *const format_names[] = { "table", "csv", "json", "markdown", NULL };

struct point {
	enum phase phase;
	unsigned jobs;
	struct stats st;
	double speedup, efficiency;
	double serial;			/* load: median serial seconds (serial_time) */
};

struct bench {
	uint64_t count;
	uint32_t w, h;
	int channels;
	size_t sample;			/* bytes of one sample of the arrays */
	uint64_t ragged;		/* load --ragged: the samples of all images */
	unsigned jobs[MAX_JOBS_LIST];
	int njobs;
	int runs;
	const char *dir;
	int phases[NPHASES];
	enum format format;
	char exe[PATH_MAX];		/* this very binary */
	char scratch[PATH_MAX - 128];	/* removed at the end, whatever happens */
	uint64_t *ref[NPHASES];		/* digests of the first run of each phase */
	uint64_t *cur;			/* digests of the run being checked */
	struct point points[NPHASES * MAX_JOBS_LIST];
	int npoints;
	/* The dataset as parimg arguments, and where load finds it: */
	char count_arg[32], size_arg[32], channels_arg[8], data[PATH_MAX];
	char **inputs;			/* the user's files and directories, or NULL */
	int ninputs;
	int dataset_opt;		/* -n or -s given */
	int phase_opt;			/* --phase given */
	/* Load's row options, for load on given inputs (-c also sizes the
	 * scratch dataset); the last value given of each, and as arguments: */
	struct row_spec spec;
	struct opt_row given;
	const char *row_arg[NROW_OPTS];	/* "" for an option without a value */
	char *load_args[MAX_LOAD_ARGS];
	int nload_args;
	/* Load's options of the rows' set and order, for given inputs: */
	int labels;			/* --labels: the one input is a class tree */
	const char *order;		/* --order's value, or NULL */
	const char *seed;		/* --seed's value, or NULL */
	int shuffle, keep_going;	/* --shuffle, -k */
	const char *schedule;		/* --schedule's value, passed to gen and load */
	const char *label_arg[NLABEL_OPTS];	/* label_opts' values, or NULL */
	const char *masks;		/* --masks DIR|ARCHIVE, or NULL */
	const char *mask_pad;		/* --mask-pad's value, or NULL */
	char labels_out[PATH_MAX];	/* where load writes the labels */
	char masks_out[PATH_MAX];	/* where load writes the masks */
	char masks_index[PATH_MAX];	/* and, with --ragged, their index */
	int side_on[NSIDES];		/* which of them the runs write */
	uint64_t side_ref[NSIDES];	/* their digests in the first run */
	int side_seen;			/* side_ref holds them */
	char errlog[PATH_MAX];		/* the stderr of load's runs after the first */
	int said;			/* load has run once: its notes were shown */
	const char *plot;		/* --plot FILE.svg, or NULL */
	char timing[PATH_MAX];		/* load's PARIMG_TIMING file */
	struct timespec t0;		/* when the last run was forked */
};

static volatile sig_atomic_t got_signal;

static const char usage_text[] =
	"usage: parimg bench [options] [DIR|FILE...]\n"
	"\n"
	"Time gen and load at each worker count on a scratch dataset, and check\n"
	"that every run writes the same output. Given directories or files, time\n"
	"'parimg load [load options] DIR|FILE...' on them instead (-n and -s do\n"
	"not apply); the arrays go to the scratch directory, never beside the\n"
	"inputs.\n"
	"\n"
	"  -n, --count N           images in the dataset (default 2000)\n"
	"  -s, --size WxH          image size (default 100x100)\n"
	"  -c, --channels 1|2|3|4  channels (default 1); with given inputs, load's\n"
	"                          -c: convert every image to C channels\n"
	"  -j, --jobs LIST         comma-separated worker counts (default 1,CPUS)\n"
	"  -r, --runs R            counted runs per point, after one warm-up (default 5)\n"
	"      --dir DIR           scratch space (default $TMPDIR or /tmp)\n"
	"      --phase LIST        gen, load or gen,load (default gen,load)\n"
	"      --format FMT        table, csv, json or markdown (default table)\n"
	"      --plot FILE.svg     also draw speed-up and images/s against workers,\n"
	"                          measured and projected (Amdahl), as SVG\n"
	"  -h, --help              show this help and exit\n"
	"\n"
	"With given inputs only, passed on to load as they are (see parimg load\n"
	"--help), and checked as load checks them:\n"
	"  -t, --dtype u1|u2|f4|f8 sample type (default u1)\n"
	"      --scale             f4/f8 only: samples in [0,1]\n"
	"      --resize WxH        resize every image to W x H (for images of\n"
	"                          different sizes)\n"
	"      --filter nearest|box|bilinear|hamming|bicubic|lanczos\n"
	"                          --resize's filter (default bilinear)\n"
	"      --fit stretch|cover|contain\n"
	"                          --resize's geometry (default stretch)\n"
	"      --pad V             contain: the margins' value, 0-255 (default 0)\n"
	"      --draft, --no-draft with --resize, let JPEGs decode at a reduced\n"
	"                          scale first, or not (default)\n"
	"      --max-pixels N      refuse images over N pixels (default 268435456)\n"
	"      --ragged            keep each image's own size (a 1-D array and an\n"
	"                          index); its runs are checked image by image\n"
	"      --resize S          --ragged: the shorter side becomes S\n"
	"      --max-side L        --ragged: shrink longer sides over L to L\n"
	"      --layout nhwc|nchw  (N,H,W,C) (default) or channels first\n"
	"      --normalize MEAN,...:STD,...|imagenet\n"
	"                          torchvision's Normalize(ToTensor()), float\n"
	"      --exif-transpose, --no-exif-transpose\n"
	"                          turn each image by its EXIF orientation first,\n"
	"                          or not (default), as load\n"
	"      --labels            INPUT is one directory of class folders, loaded\n"
	"                          as load --labels loads it (the labels are\n"
	"                          written to the scratch directory)\n"
	"      --labels-from TABLE, --path-column COL, --label-column COL,\n"
	"      --multi-label SEP, --targets COL,..., --label-regex RE,\n"
	"      --unlabelled error|skip\n"
	"                          labels from a table or the images' names, as\n"
	"                          load takes them; each implies --labels\n"
	"      --masks DIR         pair each image with its mask, as load --masks\n"
	"                          (the masks are written to the scratch directory)\n"
	"      --mask-pad V        --fit contain: the masks' margins, 0-255\n"
	"      --order natural|name|none\n"
	"                          the rows' order (default natural)\n"
	"      --shuffle           rows in a random order fixed by the seed\n"
	"      --seed S            the shuffle's seed (default 0)\n"
	"  -k, --keep-going        skip the files load cannot decode (their rows\n"
	"                          zero) instead of failing\n"
	"\n"
	"For gen and load alike:\n"
	"      --schedule dynamic|static\n"
	"                          the pool's schedule (default dynamic)\n"
	"\n"
	"Load's -o, --manifest, --classes, --masks-out, --split, --shard and -f\n"
	"are refused: bench writes its arrays, one at a time, to its scratch\n"
	"directory. The labels and masks of every run are checked against the\n"
	"first run's, as the images are.\n"
	"\n"
	"After load's points (table, json and markdown): its serial share, the\n"
	"wall time before the first decode plus the parent's CPU after it, of the\n"
	"run at the first -j value, and the speed-up Amdahl's law projects from it\n"
	"at 16 and 64 workers: an upper bound, which leaves out memory bandwidth,\n"
	"the disk and a parent whose dispatch grows with the workers.\n";

static void on_signal(int sig)
{
	got_signal = sig;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf PATH; a missing PATH is fine. */
static int rmtree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return error_errno("%s", path);
	return 0;
}

/* Remove the scratch directory; then, if a signal asked us to stop, die of
 * it (default action restored), so the exit status is 128+n. */
static void finish(struct bench *b)
{
	if (b->scratch[0])
		rmtree(b->scratch);
	b->scratch[0] = '\0';
	if (got_signal) {
		signal(got_signal, SIG_DFL);
		raise(got_signal);
	}
}

/* Run "parimg ARGV..." with stdout on /dev/null and time it, fork to
 * waitpid. Seconds, or -1 after a message when it failed or was stopped. */
/* Copy what a run wrote to the error log onto stderr. */
static void show_errlog(const struct bench *b)
{
	char buf[4096];
	ssize_t n;
	int fd = open(b->errlog, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	fflush(stderr);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(STDERR_FILENO, buf, (size_t)n) < 0)
			break;
	close(fd);
}

static double run_timed(struct bench *b, char *const argv[])
{
	struct timespec t0, t1;
	pid_t pid;
	int st;

	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	b->t0 = t0;
	pid = fork();
	if (pid < 0)
		return error_errno("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY), e = -1;

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		/* Load's notes once, from its first run: the others' stderr
		 * goes to a file, shown when the run fails. */
		if (b->said && (e = open(b->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
					 0600)) >= 0)
			dup2(e, STDERR_FILENO);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (strcmp(argv[1], "load") == 0 && b->timing[0])
			setenv("PARIMG_TIMING", b->timing, 1);
		execv(b->exe, argv);
		warnx("%s: %s", b->exe, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return error_errno("waitpid");
		if (got_signal)
			kill(pid, SIGTERM);	/* it cleans up, then we do */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (got_signal)
		return -1;
	if (b->said && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		show_errlog(b);
	b->said |= strcmp(argv[1], "load") == 0;
	/* Under -k, load's 3 (files skipped) is a run like any other. */
	if (!WIFEXITED(st) ||
	    (WEXITSTATUS(st) != 0 && !(b->keep_going && WEXITSTATUS(st) == EXIT_SKIPPED))) {
		if (WIFSIGNALED(st))
			return error("bench: 'parimg %s' killed by signal %d", argv[1], WTERMSIG(st));
		return error("bench: 'parimg %s' failed (exit %d)", argv[1], WEXITSTATUS(st));
	}
	return (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Digest every image gen wrote into DIR, in index order. */
static int digest_gen(struct bench *b, const char *dir, uint64_t *d)
{
	char path[PATH_MAX];
	uint64_t i;

	for (i = 0; i < b->count; i++) {
		if (snprintf(path, sizeof(path), "%s/image_%llu.png", dir,
			     (unsigned long long)i) >= (int)sizeof(path))
			return error("%s: %s", dir, strerror(ENAMETOOLONG));
		if (stats_digest_file(path, &d[i]) < 0)
			return error_errno("%s", path);
	}
	return 0;
}

/* A ragged array mapped at MAP (SIZE bytes, header H) and the index beside
 * PATH: each image's digest covers its index row and its samples. */
static int digest_ragged(struct bench *b, const char *path, const unsigned char *map,
			 const struct npy_header *h, size_t size, uint64_t *d)
{
	char *ip = ragged_index_path(path), why[256];
	int64_t *idx = NULL;
	size_t n, i;
	int ret = 0;

	if (!ip)
		return error("out of memory");
	if (h->ndim != 1 || ragged_read_index(ip, &idx, &n, why, sizeof(why)) < 0 ||
	    n != b->count || ragged_check_index(idx, n, h->shape[0], why, sizeof(why)) < 0) {
		ret = error("%s: %s", ip, "not the index expected");
	} else {
		d[0] = stats_digest(map, h->header_len);
		for (i = 0; i < n; i++) {
			const int64_t *r = idx + i * RAGGED_COLS;
			size_t len = (size_t)(r[RAGGED_H] * r[RAGGED_W] * r[RAGGED_C]) * b->sample;
			size_t at = h->header_len + (size_t)r[RAGGED_OFF] * b->sample;

			d[i + 1] = stats_digest(map + at, len < size - at ? len : size - at) ^
				   (stats_digest(r, RAGGED_COLS * sizeof(*r)) * 31);
		}
	}
	free(idx);
	free(ip);
	return ret;
}

/* Digest the .npy at PATH: its header, then each row. */
static int digest_load(struct bench *b, const char *path, uint64_t *d)
{
	struct npy_header h;
	struct stat st;
	char why[256];
	size_t row, i;
	unsigned char *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return error_errno("%s", path);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return error_errno("%s", path);
	if (npy_parse_header(map, (size_t)st.st_size, &h, why, sizeof(why)) < 0 ||
	    npy_data_size(&h) != (uint64_t)st.st_size - h.header_len) {
		ret = error("%s: %s", path, "not the .npy expected");
	} else if (b->ragged) {
		ret = digest_ragged(b, path, map, &h, (size_t)st.st_size, d);
	} else {
		row = (size_t)b->w * b->h * (size_t)b->channels * b->sample;
		d[0] = stats_digest(map, h.header_len);
		for (i = 0; i < b->count; i++)
			d[i + 1] = stats_digest(map + h.header_len + i * row, row);
	}
	munmap(map, (size_t)st.st_size);
	return ret;
}

/* load --ragged: the index beside PATH tells the images' count, H's
 * 1-D shape their samples. */
static int learn_ragged(struct bench *b, const char *path, const struct npy_header *h)
{
	char *ip = ragged_index_path(path), why[256];
	int64_t *idx = NULL;
	size_t n;

	if (!ip)
		return error("out of memory");
	if (ragged_read_index(ip, &idx, &n, why, sizeof(why)) < 0) {
		error("%s: %s", ip, why);
		free(ip);
		return -1;
	}
	free(idx);
	free(ip);
	b->count = n;
	b->ragged = h->shape[0];
	b->w = b->h = 0;
	b->channels = 0;
	b->cur = malloc((b->count + 1) * sizeof(uint64_t));
	if (!b->cur)
		return error("out of memory");
	return 0;
}

/* On the user's inputs, the first array tells the images' count and shape,
 * for the rates and the row digests. */
static int learn_shape(struct bench *b, const char *path)
{
	unsigned char buf[4096];
	struct npy_header h;
	char why[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_errno("%s", path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return error_errno("%s", path);
	if (npy_parse_header(buf, (size_t)n, &h, why, sizeof(why)) < 0 ||
	    h.ndim < (b->spec.ragged ? 1 : 3) || !(b->sample = npy_itemsize(h.descr)))
		return error("%s: %s", path, "not the .npy expected");
	if (b->spec.ragged)
		return learn_ragged(b, path, &h);
	b->count = h.shape[0];
	if (b->spec.layout == TENSOR_NCHW && h.ndim == 4) {
		b->channels = (int)h.shape[1];
		b->h = (uint32_t)h.shape[2];
		b->w = (uint32_t)h.shape[3];
	} else {
		b->h = (uint32_t)h.shape[1];
		b->w = (uint32_t)h.shape[2];
		b->channels = h.ndim > 3 ? (int)h.shape[3] : 1;
	}
	b->cur = malloc((b->count + 1) * sizeof(uint64_t));
	if (!b->cur)
		return error("out of memory");
	return 0;
}

/* Check the run's output against the phase's first run; the first run
 * becomes the reference. */
static int verify(struct bench *b, enum phase ph, unsigned jobs, int run, const char *out)
{
	size_t n;
	long long k;

	if (!b->cur && learn_shape(b, out) < 0)
		return -1;
	n = b->count + (ph == PHASE_LOAD);
	if ((ph == PHASE_GEN ? digest_gen(b, out, b->cur) : digest_load(b, out, b->cur)) < 0)
		return -1;
	if (!b->ref[ph]) {
		b->ref[ph] = malloc(n * sizeof(uint64_t));
		if (!b->ref[ph])
			return error("out of memory");
		memcpy(b->ref[ph], b->cur, n * sizeof(uint64_t));
		return 0;
	}
	k = stats_first_diff(b->ref[ph], b->cur, n);
	if (k < 0)
		return 0;
	if (ph == PHASE_GEN)
		return error("bench: gen -j %u run %d: image_%lld.png differs from the first run's",
			     jobs, run, k);
	if (k == 0)
		return error("bench: load -j %u run %d: the .npy header differs from the first run's",
			     jobs, run);
	return error("bench: load -j %u run %d: row %lld differs from the first run's",
		     jobs, run, k - 1);
}

/* The files load wrote beside its array (labels, masks, the masks' index)
 * against the first run's, whole. */
static int verify_sides(struct bench *b, unsigned jobs, int run)
{
	const char *path[NSIDES] = { b->labels_out, b->masks_out, b->masks_index };
	static const char *const what[NSIDES] = { "labels", "masks", "masks' index" };
	uint64_t dg;
	int s;

	for (s = 0; s < NSIDES; s++) {
		if (!b->side_on[s])
			continue;
		if (stats_digest_file(path[s], &dg) < 0)
			return error_errno("%s", path[s]);
		if (!b->side_seen) {
			b->side_ref[s] = dg;
			continue;
		}
		if (dg != b->side_ref[s])
			return error("bench: load -j %u run %d: the %s differ from the first run's",
				     jobs, run, what[s]);
	}
	b->side_seen = 1;
	return 0;
}

/* Time one (phase, jobs) point: a warm-up run, then b->runs counted ones,
 * each from a clean slate and each checked. */
/*
 * The serial seconds of the load run just timed: the wall time from its
 * fork to its first decode (listing, probing, reserving the output), plus
 * the parent's own CPU after that (dispatch, which does not shrink with
 * more workers), from what load wrote to PARIMG_TIMING. -1 when it wrote
 * nothing usable.
 */
static double serial_time(const struct bench *b)
{
	FILE *f = fopen(b->timing, "re");
	double first, cpu0, cpu1, pre;
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "first_decode %lf cpu_first %lf cpu_end %lf", &first, &cpu0, &cpu1);
	fclose(f);
	unlink(b->timing);
	if (n != 3 || first <= 0)
		return -1;
	pre = first - ((double)b->t0.tv_sec + b->t0.tv_nsec / 1e9);
	if (pre < 0 || cpu1 < cpu0)
		return -1;
	return pre + (cpu1 - cpu0);
}

static int measure(struct bench *b, enum phase ph, unsigned jobs, struct stats *st,
		   double *serial)
{
	char out[PATH_MAX], idx[PATH_MAX + 16], j[16];
	char *gen_argv[] = { "parimg", "gen", "-q", "-n", b->count_arg, "-s", b->size_arg,
			     "-c", b->channels_arg, "-j", j, "-o", out,
			     b->schedule ? "--schedule" : NULL, (char *)b->schedule, NULL };
	char *load_argv[9 + MAX_LOAD_ARGS + 1 + MAX_INPUTS + 1] = { "parimg", "load", "-q", "-j",
								     j, "-o", out };
	double t[1000], sv[1000];
	struct stats ss;
	int run, i, n = 7, nsv = 0;

	if (b->schedule) {
		load_argv[n++] = "--schedule";
		load_argv[n++] = (char *)b->schedule;
	}

	for (i = 0; i < b->nload_args; i++)
		load_argv[n++] = b->load_args[i];
	load_argv[n++] = "--";
	for (i = 0; i < b->ninputs; i++)
		load_argv[n++] = b->inputs[i];
	if (!b->inputs)
		load_argv[n++] = b->data;
	load_argv[n] = NULL;
	snprintf(j, sizeof(j), "%u", jobs);
	snprintf(out, sizeof(out), "%s/%s", b->scratch, ph == PHASE_GEN ? "gen" : "out.npy");
	snprintf(b->labels_out, sizeof(b->labels_out), "%s/labels.npy", b->scratch);
	snprintf(b->masks_out, sizeof(b->masks_out), "%s/masks.npy", b->scratch);
	snprintf(b->masks_index, sizeof(b->masks_index), "%s/masks.index.npy", b->scratch);
	for (run = 0; run <= b->runs; run++) {
		double secs;

		snprintf(idx, sizeof(idx), "%s/out.index.npy", b->scratch);
		if (rmtree(out) < 0 || (ph == PHASE_LOAD && rmtree(idx) < 0) ||
		    (b->labels && rmtree(b->labels_out) < 0) ||
		    (b->masks && (rmtree(b->masks_out) < 0 || rmtree(b->masks_index) < 0)) ||
		    got_signal)
			return -1;
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\rparimg: bench: %s -j %u run %d/%d\033[K",
				phase_names[ph], jobs, run, b->runs);
		secs = run_timed(b, ph == PHASE_GEN ? gen_argv : load_argv);
		if (secs < 0 || verify(b, ph, jobs, run, out) < 0 ||
		    (ph == PHASE_LOAD && verify_sides(b, jobs, run) < 0))
			return -1;
		if (run > 0)
			t[run - 1] = secs;
		if (run > 0 && ph == PHASE_LOAD && (sv[nsv] = serial_time(b)) >= 0)
			nsv++;
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	stats_compute(t, (size_t)b->runs, st);
	*serial = -1;
	if (nsv) {
		stats_compute(sv, (size_t)nsv, &ss);
		*serial = ss.median < st->median ? ss.median : st->median;
	}
	return 0;
}

/* Speedup against the phase's first jobs value, and efficiency. */
static void derive(struct bench *b)
{
	int i, base = 0;

	for (i = 0; i < b->npoints; i++) {
		struct point *p = &b->points[i];

		if (i == 0 || p->phase != b->points[i - 1].phase)
			base = i;
		p->speedup = b->points[base].st.median / p->st.median;
		p->efficiency = p->speedup / p->jobs;
	}
}

static double images_per_s(const struct bench *b, const struct point *p)
{
	return (double)b->count / p->st.median;
}

static double mb_per_s(const struct bench *b, const struct point *p)
{
	if (b->ragged)
		return (double)b->ragged * b->sample / p->st.median / 1e6;
	return (double)b->count * b->w * b->h * b->channels * b->sample / p->st.median / 1e6;
}

/* Amdahl's law from load's first point (the speed-ups' base, -j J0):
 * S serial seconds and T0 its wall, so P = (T0 - S) x J0 worker-seconds of
 * parallel work; at N workers T(N) = S + P / N. */
struct amdahl {
	const struct point *base;	/* NULL: no load point with a serial time */
	double serial, parallel, share;
};

static struct amdahl amdahl(const struct bench *b)
{
	struct amdahl a = { NULL, 0, 0, 0 };
	int i;

	for (i = 0; i < b->npoints && b->points[i].phase != PHASE_LOAD; i++)
		;
	if (i == b->npoints || b->points[i].serial < 0)
		return a;
	a.base = &b->points[i];
	a.serial = a.base->serial;
	a.parallel = (a.base->st.median - a.serial) * a.base->jobs;
	a.share = a.serial + a.parallel > 0 ? a.serial / (a.serial + a.parallel) : 0;
	return a;
}

/* The speed-up Amdahl's law gives at N workers, against the base point. */
static double amdahl_at(const struct amdahl *a, double n)
{
	return a->base->st.median / (a->serial + a->parallel / n);
}

/* The serial share and the projection, as two lines of text (table and
 * markdown). */
static void print_amdahl(const struct bench *b)
{
	struct amdahl a = amdahl(b);

	if (!a.base)
		return;
	printf("\nload's serial share at -j %u: %.1f%% (%.4f s: the wall time before the first "
	       "decode plus the parent's CPU after it)\n", a.base->jobs, a.share * 100, a.serial);
	printf("Amdahl's projection against -j %u: %.2fx at 16 workers, %.2fx at 64 (an upper "
	       "bound from %u CPUs: it leaves out memory bandwidth, the disk and the parent's "
	       "dispatch growing with the workers)\n", a.base->jobs, amdahl_at(&a, 16),
	       amdahl_at(&a, 64), opt_cpus());
}

static void print_results(const struct bench *b)
{
	struct amdahl a = amdahl(b);
	int i, k;

	switch (b->format) {
	case FMT_TABLE:
		if (b->ragged)
			printf("parimg bench: %llu images at their own sizes (--ragged, %llu "
			       "samples), median of %d runs\n\n", (unsigned long long)b->count,
			       (unsigned long long)b->ragged, b->runs);
		else
			printf("parimg bench: %llu images %ux%u, %d channel%s, median of %d runs\n\n",
			       (unsigned long long)b->count, b->w, b->h, b->channels,
			       b->channels > 1 ? "s" : "", b->runs);
		printf("%-5s %5s %9s %9s %9s %10s %9s %8s %6s\n", "phase", "jobs", "median_s",
		       "min_s", "max_s", "images/s", "MB/s", "speedup", "eff");
		for (i = 0; i < b->npoints; i++) {
			const struct point *p = &b->points[i];
			int bar = (int)(p->speedup * 8 + 0.5);

			printf("%-5s %5u %9.4f %9.4f %9.4f %10.0f %9.1f %7.2fx %6.2f ",
			       phase_names[p->phase], p->jobs, p->st.median, p->st.min, p->st.max,
			       images_per_s(b, p), mb_per_s(b, p), p->speedup, p->efficiency);
			for (k = 0; k < bar && k < 64; k++)
				putchar('#');
			putchar('\n');
		}
		print_amdahl(b);
		break;
	case FMT_CSV:
		printf("phase,jobs,median_s,min_s,max_s,images_per_s,mb_per_s,speedup,efficiency\n");
		for (i = 0; i < b->npoints; i++) {
			const struct point *p = &b->points[i];

			printf("%s,%u,%.6f,%.6f,%.6f,%.1f,%.2f,%.4f,%.4f\n", phase_names[p->phase],
			       p->jobs, p->st.median, p->st.min, p->st.max, images_per_s(b, p),
			       mb_per_s(b, p), p->speedup, p->efficiency);
		}
		break;
	case FMT_JSON:
		printf("{\"images\":%llu,\"width\":%u,\"height\":%u,\"channels\":%d,\"runs\":%d,"
		       "\"results\":[", (unsigned long long)b->count, b->w, b->h, b->channels,
		       b->runs);
		for (i = 0; i < b->npoints; i++) {
			const struct point *p = &b->points[i];

			printf("%s{\"phase\":\"%s\",\"jobs\":%u,\"median_s\":%.6f,\"min_s\":%.6f,"
			       "\"max_s\":%.6f,\"images_per_s\":%.1f,\"mb_per_s\":%.2f,"
			       "\"speedup\":%.4f,\"efficiency\":%.4f}", i ? "," : "",
			       phase_names[p->phase], p->jobs, p->st.median, p->st.min, p->st.max,
			       images_per_s(b, p), mb_per_s(b, p), p->speedup, p->efficiency);
		}
		printf("]");
		if (a.base)
			printf(",\"serial\":{\"jobs\":%u,\"serial_s\":%.6f,\"share\":%.6f,"
			       "\"projected_speedup_16\":%.4f,\"projected_speedup_64\":%.4f}",
			       a.base->jobs, a.serial, a.share, amdahl_at(&a, 16), amdahl_at(&a, 64));
		printf("}\n");
		break;
	case FMT_MARKDOWN:
		printf("| phase | jobs | median s | min s | max s | images/s | MB/s | speedup | efficiency |\n"
		       "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (i = 0; i < b->npoints; i++) {
			const struct point *p = &b->points[i];

			printf("| %s | %u | %.4f | %.4f | %.4f | %.0f | %.1f | %.2fx | %.2f |\n",
			       phase_names[p->phase], p->jobs, p->st.median, p->st.min, p->st.max,
			       images_per_s(b, p), mb_per_s(b, p), p->speedup, p->efficiency);
		}
		print_amdahl(b);
		break;
	}
}

/* ---- --plot: a small SVG writer ---- */

#define PW 340			/* a panel's size, and its margins */
#define PH 260
#define ML 52
#define MB 36
#define MT 48

/* TEXT into F with XML's special characters escaped. */
static void xml_text(FILE *f, const char *text)
{
	for (; *text; text++) {
		switch (*text) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*text >= 0x20)
				fputc(*text, f);
		}
	}
}

/* What the plot is titled with: the machine and the data. */
static void plot_title(const struct bench *b, char *buf, size_t len)
{
	char host[256] = "?", model[256] = "", line[512];
	FILE *f = fopen("/proc/cpuinfo", "re");
	int n;

	gethostname(host, sizeof(host) - 1);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
			snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	n = snprintf(buf, len, "%s, %u CPUs%s%s: ", host, opt_cpus(), model[0] ? ", " : "", model);
	if (n < 0 || (size_t)n >= len)
		return;
	if (b->inputs)
		snprintf(buf + n, len - (size_t)n, "%llu images of %s%s", (unsigned long long)b->count,
			 b->inputs[0], b->ninputs > 1 ? ", ..." : "");
	else
		snprintf(buf + n, len - (size_t)n, "%llu images %ux%u, %d channel%s",
			 (unsigned long long)b->count, b->w, b->h, b->channels,
			 b->channels > 1 ? "s" : "");
}

/* Panel K's x for N workers (a log2 axis up to XMAX) and y for V (linear
 * up to YMAX). */
static double px(int k, double n, double xmax)
{
	return k * (PW + ML) + ML + (PW - ML) * log2(n) / log2(xmax);
}

static double py(double v, double ymax)
{
	return MT + (PH - MB - MT) * (1 - v / ymax);
}

/* One panel: Y against workers, a circle of class CLS per measured point
 * of each phase, load's projection as a dashed line (Amdahl, to XMAX), and
 * with IDEAL the line of perfect scaling. */
static void plot_panel(FILE *f, const struct bench *b, const struct amdahl *a, int k,
		       const char *label, int rate, double xmax)
{
	static const char *const colour[] = { "#1f77b4", "#d62728" };
	double ymax = 0, v, n;
	int i, ph, first;

	for (i = 0; i < b->npoints; i++) {
		v = rate ? images_per_s(b, &b->points[i]) : b->points[i].speedup;
		ymax = v > ymax ? v : ymax;
	}
	if (a->base) {
		v = amdahl_at(a, xmax) * (rate ? images_per_s(b, a->base) : 1);
		ymax = v > ymax ? v : ymax;
	}
	ymax = ymax > 0 ? ymax * 1.1 : 1;
	fprintf(f, "<g class=\"panel\">\n<text x=\"%.1f\" y=\"%d\" font-size=\"13\">%s</text>\n",
		px(k, 1, xmax), MT - 10, label);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
		px(k, 1, xmax), py(0, ymax), px(k, xmax, xmax), py(0, ymax));
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
		px(k, 1, xmax), py(0, ymax), px(k, 1, xmax), py(ymax, ymax));
	for (n = 1; n <= xmax; n *= 2)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
			"text-anchor=\"middle\">%g</text>\n", px(k, n, xmax), py(0, ymax) + 14, n);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">workers</text>\n",
		px(k, xmax, xmax) - 40, py(0, ymax) + 28);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.3g</text>\n",
		px(k, 1, xmax) - 4, py(ymax / 1.1, ymax) + 4, ymax / 1.1);
	if (!rate) {		/* perfect scaling, up to the top */
		double top = ymax < xmax ? ymax : xmax;

		fprintf(f, "<line class=\"ideal\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#999\" stroke-dasharray=\"2,3\"/>\n", px(k, 1, xmax), py(1, ymax),
			px(k, top, xmax), py(top, ymax));
	}
	if (a->base) {
		fprintf(f, "<polyline class=\"projection\" fill=\"none\" stroke=\"%s\" "
			"stroke-dasharray=\"6,4\" points=\"", colour[PHASE_LOAD]);
		for (n = a->base->jobs; n <= xmax * 1.0001; n *= 1.25)
			fprintf(f, "%.1f,%.1f ", px(k, n, xmax), py(amdahl_at(a, n) *
					(rate ? images_per_s(b, a->base) : 1), ymax));
		fprintf(f, "\"/>\n");
	}
	for (ph = 0; ph < NPHASES; ph++) {
		first = 1;
		for (i = 0; i < b->npoints; i++) {
			const struct point *p = &b->points[i];

			if (p->phase != (enum phase)ph)
				continue;
			v = rate ? images_per_s(b, p) : p->speedup;
			fprintf(f, "<circle class=\"%s\" data-phase=\"%s\" data-jobs=\"%u\" "
				"data-value=\"%.4f\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
				rate ? "rate" : "point", phase_names[ph], p->jobs, v,
				px(k, p->jobs, xmax), py(v, ymax), colour[ph]);
			if (first)
				fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\">%s"
					"</text>\n", px(k, p->jobs, xmax) + 6, py(v, ymax) - 6,
					colour[ph], phase_names[ph]);
			first = 0;
		}
	}
	fprintf(f, "</g>\n");
}

/* --plot FILE: the SVG, through a temporary file renamed onto FILE. */
static int write_plot(const struct bench *b)
{
	struct amdahl a = amdahl(b);
	struct outfile o;
	char title[1024], *buf = NULL;
	size_t len = 0;
	double xmax = 64;
	FILE *f = open_memstream(&buf, &len);
	int i, r;

	if (!f)
		return error("out of memory");
	for (i = 0; i < b->npoints; i++)
		while (b->points[i].jobs > xmax)
			xmax *= 2;
	plot_title(b, title, sizeof(title));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<title>",
		2 * (PW + ML), PH + 40, 2 * (PW + ML), PH + 40);
	xml_text(f, title);
	fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"18\" font-size=\"13\">", ML);
	xml_text(f, title);
	fprintf(f, "</text>\n");
	plot_panel(f, b, &a, 0, "speed-up", 0, xmax);
	plot_panel(f, b, &a, 1, "images/s", 1, xmax);
	if (a.base)
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\">dashed: Amdahl's law from "
			"load's serial share at -j %u, %.1f%% (an upper bound)</text>\n", ML, PH + 30,
			a.base->jobs, a.share * 100);
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0) {
		free(buf);
		return error("out of memory");
	}
	r = outfile_open(&o, b->plot) < 0 || outfile_write(&o, buf, len) < 0 ||
	    outfile_commit(&o, 1) < 0 ? -1 : 0;
	free(buf);
	return r;
}

/* Split S at commas into ITEMS (pointing into COPY), at most MAX of them,
 * none empty: "1,,2" and "1," are errors, not "1,2". The count, or -1. */
static int split_list(const char *s, char *copy, size_t copylen, char **items, int max)
{
	char *p = copy;
	int n = 0;

	if (strlen(s) >= copylen)
		return -1;
	strcpy(copy, s);
	for (;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (!*p || n == max)
			return -1;
		items[n++] = p;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

/* "1,2,8" into B->jobs. */
static int parse_jobs_list(struct bench *b, const char *s)
{
	char copy[256], *items[MAX_JOBS_LIST];
	uint64_t v;
	int i, n = split_list(s, copy, sizeof(copy), items, MAX_JOBS_LIST);

	for (i = 0; i < n; i++) {
		if (opt_u64(items[i], 1, POOL_MAX_JOBS, &v) < 0)
			return -1;
		b->jobs[i] = (unsigned)v;
	}
	b->njobs = n;
	return n > 0 ? 0 : -1;
}

/* "gen,load" into B->phases. */
static int parse_phases(struct bench *b, const char *s)
{
	char copy[64], *items[NPHASES];
	int i, ph, n = split_list(s, copy, sizeof(copy), items, NPHASES);

	memset(b->phases, 0, sizeof(b->phases));
	for (i = 0; i < n; i++) {
		if ((ph = opt_choice(items[i], phase_names)) < 0)
			return -1;
		b->phases[ph] = 1;
	}
	return n > 0 ? 0 : -1;
}

/* Long-only options. */
enum { OPT_DIR = 0x200, OPT_FORMAT, OPT_PHASE, OPT_PLOT };
/* Load's options of the rows' set and order, and those bench refuses. */
enum { OPT_LABELS = 0x280, OPT_ORDER, OPT_SEED, OPT_SHUFFLE, OPT_REFUSED_OPT, OPT_MASKS,
       OPT_MASK_PAD };

static const struct option longopts[] = {
	{ "count", required_argument, NULL, 'n' },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "label-column", required_argument, NULL, OPT_LABEL_COLUMN },
	{ "label-regex", required_argument, NULL, OPT_LABEL_REGEX },
	{ "labels", no_argument, NULL, OPT_LABELS },
	{ "labels-from", required_argument, NULL, OPT_LABELS_FROM },
	{ "mask-pad", required_argument, NULL, OPT_MASK_PAD },
	{ "masks", required_argument, NULL, OPT_MASKS },
	{ "multi-label", required_argument, NULL, OPT_MULTI_LABEL },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "path-column", required_argument, NULL, OPT_PATH_COLUMN },
	{ "phase", required_argument, NULL, OPT_PHASE },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "runs", required_argument, NULL, 'r' },
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shuffle", no_argument, NULL, OPT_SHUFFLE },
	{ "size", required_argument, NULL, 's' },
	{ "targets", required_argument, NULL, OPT_TARGETS },
	{ "unlabelled", required_argument, NULL, OPT_UNLABELLED },
	/* Load's, which bench refuses by name (refused_opt). */
	{ "classes", optional_argument, NULL, OPT_REFUSED_OPT },
	{ "force", no_argument, NULL, 'f' },
	{ "manifest", optional_argument, NULL, OPT_REFUSED_OPT },
	{ "masks-out", optional_argument, NULL, OPT_REFUSED_OPT },
	{ "output", optional_argument, NULL, 'o' },
	{ "shard", optional_argument, NULL, OPT_REFUSED_OPT },
	{ "split", optional_argument, NULL, OPT_REFUSED_OPT },
	OPT_ROW_LONG,
	{ NULL, 0, NULL, 0 }
};

/* Note row option CH (parsed) with its value ARG, to pass it on. */
static void note_row_opt(struct bench *b, int ch, const char *arg)
{
	int k;

	for (k = 0; k < NROW_OPTS; k++)
		if (row_opts[k].ch == ch)
			b->row_arg[k] = row_opts[k].has_value ? arg : "";
}

/* The row options given, as load's arguments: each with its last value,
 * and of --draft and --no-draft (--exif-transpose and its --no-) the last
 * one given. */
static void make_load_args(struct bench *b)
{
	int k, n = 0;

	for (k = 0; k < NROW_OPTS; k++) {
		int ch = row_opts[k].ch;

		if (!b->row_arg[k] ||
		    ((ch == OPT_DRAFT || ch == OPT_NO_DRAFT) && b->spec.draft != (ch == OPT_DRAFT)) ||
		    ((ch == OPT_EXIF_TRANSPOSE || ch == OPT_NO_EXIF_TRANSPOSE) &&
		     b->spec.exif_transpose != (ch == OPT_EXIF_TRANSPOSE)))
			continue;
		b->load_args[n++] = (char *)row_opts[k].flag;
		if (row_opts[k].has_value)
			b->load_args[n++] = (char *)b->row_arg[k];
	}
	if (b->labels) {
		b->load_args[n++] = "--labels";
		b->load_args[n++] = b->labels_out;
	}
	for (k = 0; k < NLABEL_OPTS; k++) {
		if (!b->label_arg[k])
			continue;
		b->load_args[n++] = (char *)label_opts[k].flag;
		b->load_args[n++] = (char *)b->label_arg[k];
	}
	if (b->masks) {
		b->load_args[n++] = "--masks";
		b->load_args[n++] = (char *)b->masks;
		b->load_args[n++] = "--masks-out";
		b->load_args[n++] = b->masks_out;
	}
	if (b->mask_pad) {
		b->load_args[n++] = "--mask-pad";
		b->load_args[n++] = (char *)b->mask_pad;
	}
	if (b->order) {
		b->load_args[n++] = "--order";
		b->load_args[n++] = (char *)b->order;
	}
	if (b->shuffle)
		b->load_args[n++] = "--shuffle";
	if (b->seed) {
		b->load_args[n++] = "--seed";
		b->load_args[n++] = (char *)b->seed;
	}
	if (b->keep_going)
		b->load_args[n++] = "-k";
	b->nload_args = n;
	b->side_on[SIDE_LABELS] = b->labels;
	b->side_on[SIDE_MASKS] = !!b->masks;
	b->side_on[SIDE_MASKS_INDEX] = b->masks && b->spec.ragged;
}

/* The value given to label option CH, or NULL. */
static const char *label_arg(const struct bench *b, int ch)
{
	int k;

	for (k = 0; k < NLABEL_OPTS; k++)
		if (label_opts[k].ch == ch)
			return b->label_arg[k];
	return NULL;
}

/* The first label option given, or NULL. */
static const char *first_label_opt(const struct bench *b)
{
	int k;

	for (k = 0; k < NLABEL_OPTS; k++)
		if (b->label_arg[k])
			return label_opts[k].flag;
	return NULL;
}

/* The options of labels from a table or names, and of masks, must fit
 * together as load's; each labels option implies --labels. 0, or -1 after
 * a usage message. */
static int check_label_mask_opts(struct bench *b, int n)
{
	const char *first = first_label_opt(b), *why;
	const struct labels_opts lo = {
		.table = label_arg(b, OPT_LABELS_FROM), .path_col = label_arg(b, OPT_PATH_COLUMN),
		.label_col = label_arg(b, OPT_LABEL_COLUMN), .multi_sep = label_arg(b, OPT_MULTI_LABEL),
		.targets = label_arg(b, OPT_TARGETS), .regex = label_arg(b, OPT_LABEL_REGEX),
	};

	if (first && n != 1)
		return usage_error("bench", "%s takes one INPUT, the directory or archive of the "
				   "images it labels", first);
	if (first)
		b->labels = 1;
	if ((why = labels_opts_clash(&lo)))
		return usage_error("bench", "%s", why);
	if (b->mask_pad && !b->masks)
		return usage_error("bench", "--mask-pad needs --masks DIR");
	if (b->mask_pad && b->spec.fit != RESIZE_CONTAIN)
		return usage_error("bench", "--mask-pad needs --fit contain");
	return 0;
}

/* Bench load on the N inputs ARGS: only load, and none of the scratch
 * dataset's options. 0, or -1 after a usage message. */
static int user_inputs(struct bench *b, int n, char **args)
{
	int i;

	if (b->dataset_opt)
		return usage_error("bench", "-n and -s describe the scratch dataset, not given inputs");
	if (b->phase_opt && b->phases[PHASE_GEN])
		return usage_error("bench", "--phase gen times the scratch dataset, not given inputs");
	if (n > MAX_INPUTS)
		return usage_error("bench", "at most %d inputs", MAX_INPUTS);
	for (i = 0; i < n; i++)
		if (strcmp(args[i], "-") == 0)
			return usage_error("bench", "inputs are read anew on every run: give paths, not -");
	if (b->labels && n != 1)
		return usage_error("bench", "--labels takes one INPUT, the directory of class folders");
	if (check_label_mask_opts(b, n) < 0)
		return -1;
	if (b->spec.norm.from_stats)
		return usage_error("bench", "--normalize stats needs load's --stats-from; "
				   "give the figures instead");
	if (opt_row_check(&b->spec, &b->given, "bench") < 0)
		return -1;
	make_load_args(b);
	b->phases[PHASE_GEN] = 0;
	b->phases[PHASE_LOAD] = 1;
	b->inputs = args;
	b->ninputs = n;
	return 0;
}

/* The inputs (and --masks) exist, and the scratch space is inside none of
 * them: bench writes nothing into the user's directories. 0, or an exit
 * status after a message. */
static int check_inputs(const struct bench *b)
{
	char dir[PATH_MAX], in[PATH_MAX];
	struct stat st;
	size_t len;
	int i;

	if (!realpath(b->dir, dir))
		return error_errno("%s", b->dir), EXIT_FAIL;
	for (i = 0; i < b->ninputs + !!b->masks; i++) {
		const char *path = i < b->ninputs ? b->inputs[i] : b->masks;

		if (stat(path, &st) < 0 || !realpath(path, in))
			return error_errno("%s", path), EXIT_FAIL;
		len = strlen(in);
		if (S_ISDIR(st.st_mode) && strncmp(dir, in, len) == 0 &&
		    (dir[len] == '\0' || dir[len] == '/' || len == 1))
			return opt_status(usage_error("bench", "%s: the scratch directory (--dir "
							  "%s) would be inside this input; bench "
							  "writes nothing into its inputs",
							  path, b->dir));
	}
	return 0;
}

/* Given inputs without --labels: a class tree among them, which load
 * would refuse, is refused here, with the hint of bench's own --labels.
 * 0, or -1 after the message. */
static int scan_inputs(const struct bench *b)
{
	struct scan_opts o = { .order = ORDER_NATURAL, .hint = "--labels",
			       .member_max = (b->spec.max_pixels ? b->spec.max_pixels : 1ULL << 28) * 8 +
					     (1 << 20) };
	struct filelist files = { 0 };
	struct dataset ds = { 0 };
	int r;

	if (b->labels)
		return 0;
	r = scan_collect(&files, &ds, b->inputs, b->ninputs, &o);
	filelist_free(&files);
	dataset_free(&ds);
	arch_free();
	return r;
}

/* A load option that bench does not pass on (getopt's CH; ARG the
 * argument it was in): say why. */
static int refused_opt(int ch, const char *arg)
{
	int len;

	if (strncmp(arg, "--", 2) != 0)
		arg = ch == 'o' ? "-o" : "-f";
	len = (int)strcspn(arg, "=");

	return usage_error("bench", "%.*s is load's, not bench's: bench writes the arrays it "
			   "times to its scratch directory, one at a time, and removes them",
			   len, arg);
}

/* Handle an option of the rows' set and order (passed on to load) or
 * --schedule (to gen and load): 1 if CH was one, 0 if not, -1 after a
 * usage message. */
static int parse_set_opt(struct bench *b, int ch, const char *arg)
{
	static const char *const orders[] = { "natural", "name", "none", NULL };
	static const char *const schedules[] = { "dynamic", "static", NULL };
	static const char *const unlabelled[] = { "error", "skip", NULL };
	char why[256];
	uint64_t v;
	int k;

	for (k = 0; k < NLABEL_OPTS; k++) {
		if (label_opts[k].ch != ch)
			continue;
		if (ch == OPT_LABEL_REGEX && labels_check_regex(arg, why, sizeof(why)) < 0)
			return usage_error("bench", "invalid --label-regex '%s': %s", arg, why);
		if (ch == OPT_MULTI_LABEL && !*arg)
			return usage_error("bench", "invalid --multi-label '': an empty separator");
		if (ch == OPT_UNLABELLED && opt_choice(arg, unlabelled) < 0)
			return usage_error("bench", "invalid --unlabelled '%s' (error or skip)", arg);
		b->label_arg[k] = arg;
		return 1;
	}
	switch (ch) {
	case OPT_MASKS:
		b->masks = arg;
		return 1;
	case OPT_MASK_PAD:
		if (opt_u64(arg, 0, 255, &v) < 0)
			return usage_error("bench", "invalid --mask-pad '%s' (0 to 255)", arg);
		b->mask_pad = arg;
		return 1;
	case OPT_LABELS:
		b->labels = 1;
		return 1;
	case OPT_ORDER:
		if (opt_choice(arg, orders) < 0)
			return usage_error("bench", "invalid --order '%s' (natural, name or none)", arg);
		b->order = arg;
		return 1;
	case OPT_SCHEDULE:
		if (opt_choice(arg, schedules) < 0)
			return usage_error("bench", "invalid --schedule '%s' (static or dynamic)", arg);
		b->schedule = arg;
		return 1;
	case OPT_SEED:
		if (opt_u64(arg, 0, UINT64_MAX, &v) < 0)
			return usage_error("bench", "invalid --seed '%s'", arg);
		b->seed = arg;
		return 1;
	case OPT_SHUFFLE:
		b->shuffle = 1;
		return 1;
	case 'k':
		b->keep_going = 1;
		return 1;
	}
	return 0;
}

/* Parse argv into B: 0 to go on, -1 after a usage message, 1 when done
 * (--help). */
static int parse(int argc, char **argv, struct bench *b)
{
	uint64_t v;
	int ch, k, r;

	while ((ch = getopt_long(argc, argv, ":c:fhj:kn:o:r:s:t:", longopts, NULL)) != -1) {
		if ((r = parse_set_opt(b, ch, optarg)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		if ((r = opt_row_parse(&b->spec, &b->given, ch, optarg, "bench")) != 0) {
			if (r < 0)
				return -1;
			note_row_opt(b, ch, optarg);
			continue;
		}
		switch (ch) {
		case OPT_DIR:
			b->dir = optarg;
			break;
		case OPT_PLOT:
			b->plot = optarg;
			break;
		case OPT_FORMAT:
			if ((r = opt_choice(optarg, format_names)) < 0)
				return usage_error("bench", "invalid --format '%s' (table, csv, json or markdown)", optarg);
			b->format = (enum format)r;
			break;
		case OPT_PHASE:
			if (parse_phases(b, optarg) < 0)
				return usage_error("bench", "invalid --phase '%s' (gen, load or gen,load)", optarg);
			b->phase_opt = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'j':
			if (parse_jobs_list(b, optarg) < 0)
				return usage_error("bench", "invalid --jobs '%s' (e.g. 1,2,4; each 1 to %d, at most %d)",
						   optarg, POOL_MAX_JOBS, MAX_JOBS_LIST);
			break;
		case 'n':
			if (opt_u64(optarg, 1, 100000000, &b->count) < 0)
				return usage_error("bench", "invalid --count '%s' (1 to 100000000)", optarg);
			b->dataset_opt = 1;
			break;
		case 'r':
			if (opt_u64(optarg, 1, 1000, &v) < 0)
				return usage_error("bench", "invalid --runs '%s' (1 to 1000)", optarg);
			b->runs = (int)v;
			break;
		case 's':
			if (opt_size(optarg, 1u << 14, &b->w, &b->h) < 0)
				return usage_error("bench", "invalid --size '%s' (WxH, 1 to 16384 each)", optarg);
			b->dataset_opt = 1;
			break;
		case 'f':
		case 'o':
		case OPT_REFUSED_OPT:
			return refused_opt(ch, argv[optind - 1]);
		default:
			return opt_bad(ch, argv, "bench");
		}
	}
	if (b->seed && !b->shuffle)
		return usage_error("bench", "--seed needs --shuffle");
	if (optind < argc)
		return user_inputs(b, argc - optind, argv + optind);
	if (b->labels || b->order || b->shuffle || b->keep_going || first_label_opt(b) ||
	    b->masks || b->mask_pad)
		return usage_error("bench", "%s applies to given inputs, not the scratch dataset",
				   b->labels ? "--labels" : b->order ? "--order" : b->shuffle ?
				   "--shuffle" : b->keep_going ? "-k" : first_label_opt(b) ?
				   first_label_opt(b) : b->masks ? "--masks" : "--mask-pad");
	/* Of load's row options, only -c describes the scratch dataset. */
	for (k = 1; k < NROW_OPTS; k++)
		if (b->row_arg[k])
			return usage_error("bench", "%s applies to given inputs, not the scratch dataset",
					   row_opts[k].flag);
	if (b->spec.channels)
		b->channels = b->spec.channels;
	return 0;
}

/* Make the scratch dataset, then time every (phase, jobs) point. */
static int run_all(struct bench *b)
{
	char *gen_argv[] = { "parimg", "gen", "-q", "-n", b->count_arg, "-s", b->size_arg,
			     "-c", b->channels_arg, "-o", b->data, NULL };
	int ph, i;

	snprintf(b->count_arg, sizeof(b->count_arg), "%llu", (unsigned long long)b->count);
	snprintf(b->size_arg, sizeof(b->size_arg), "%ux%u", b->w, b->h);
	snprintf(b->channels_arg, sizeof(b->channels_arg), "%d", b->channels);
	snprintf(b->data, sizeof(b->data), "%s/data", b->scratch);
	snprintf(b->errlog, sizeof(b->errlog), "%s/stderr", b->scratch);
	snprintf(b->timing, sizeof(b->timing), "%s/timing", b->scratch);
	if (!b->inputs && b->phases[PHASE_LOAD] && run_timed(b, gen_argv) < 0)
		return -1;
	for (ph = 0; ph < NPHASES; ph++) {
		if (!b->phases[ph])
			continue;
		for (i = 0; i < b->njobs; i++) {
			struct point *p = &b->points[b->npoints];

			p->phase = (enum phase)ph;
			p->jobs = b->jobs[i];
			if (measure(b, (enum phase)ph, b->jobs[i], &p->st, &p->serial) < 0)
				return -1;
			b->npoints++;
		}
	}
	derive(b);
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	static struct bench b = { .count = 2000, .w = 100, .h = 100, .channels = 1, .sample = 1,
				  .runs = DEFAULT_RUNS, .phases = { 1, 1 } };
	struct sigaction sa;
	const char *tmp = getenv("TMPDIR");
	ssize_t len;
	int r;

	b.jobs[0] = 1;
	b.jobs[1] = opt_cpus();
	b.njobs = b.jobs[1] > 1 ? 2 : 1;
	b.dir = tmp && *tmp ? tmp : "/tmp";
	if ((r = parse(argc, argv, &b)) != 0)
		return opt_status(r);
	len = readlink("/proc/self/exe", b.exe, sizeof(b.exe) - 1);
	if (len < 0)
		die_errno("/proc/self/exe");
	b.exe[len] = '\0';
	if (b.inputs && (r = check_inputs(&b)) != 0)
		return r;
	if (b.inputs && scan_inputs(&b) < 0)
		return EXIT_FAIL;
	if (!b.inputs && !(b.cur = malloc((b.count + 1) * sizeof(uint64_t))))
		die("out of memory");
	/* From here on a signal is only recorded: the run in progress is
	 * stopped and the scratch directory removed before we die of it. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if ((size_t)snprintf(b.scratch, sizeof(b.scratch), "%s/parimg-bench.XXXXXX", b.dir) >=
	    sizeof(b.scratch) || !mkdtemp(b.scratch)) {
		error_errno("%s", b.dir);
		b.scratch[0] = '\0';
		finish(&b);
		return EXIT_FAIL;
	}
	r = got_signal ? -1 : run_all(&b);
	finish(&b);
	if (r < 0)
		return EXIT_FAIL;
	print_results(&b);
	if (b.plot && write_plot(&b) < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}
