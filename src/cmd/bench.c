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
#include "inputs/scan.h"
#include "image/row.h"
#include "engine/pool.h"
#include "common/err.h"
#include "common/npy.h"
#include "common/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
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
/* And load's options of the rows' order and set, passed on after them:
 * --labels FILE, --order, --shuffle, --seed, -k (bench's --labels is a
 * flag: the labels go to the scratch directory). */
#define NSET_ARGS 8
#define MAX_LOAD_ARGS (2 * NROW_OPTS + NSET_ARGS)

enum phase { PHASE_GEN, PHASE_LOAD, NPHASES };
static const char *const phase_names[] = { "gen", "load", NULL };
enum format { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_MARKDOWN };
static const char *const format_names[] = { "table", "csv", "json", "markdown", NULL };

struct point {
	enum phase phase;
	unsigned jobs;
	struct stats st;
	double speedup, efficiency;
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
	char labels_out[PATH_MAX];	/* where load writes the labels */
	char errlog[PATH_MAX];		/* the stderr of load's runs after the first */
	int said;			/* load has run once: its notes were shown */
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
	"Load's -o, --manifest, --classes, --split, --shard and -f are refused:\n"
	"bench writes its arrays, one at a time, to its scratch directory.\n";

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

/* Time one (phase, jobs) point: a warm-up run, then b->runs counted ones,
 * each from a clean slate and each checked. */
static int measure(struct bench *b, enum phase ph, unsigned jobs, struct stats *st)
{
	char out[PATH_MAX], idx[PATH_MAX + 16], j[16];
	char *gen_argv[] = { "parimg", "gen", "-q", "-n", b->count_arg, "-s", b->size_arg,
			     "-c", b->channels_arg, "-j", j, "-o", out,
			     b->schedule ? "--schedule" : NULL, (char *)b->schedule, NULL };
	char *load_argv[9 + MAX_LOAD_ARGS + 1 + MAX_INPUTS + 1] = { "parimg", "load", "-q", "-j",
								     j, "-o", out };
	double t[1000];
	int run, i, n = 7;

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
	for (run = 0; run <= b->runs; run++) {
		double secs;

		snprintf(idx, sizeof(idx), "%s/out.index.npy", b->scratch);
		if (rmtree(out) < 0 || (ph == PHASE_LOAD && rmtree(idx) < 0) ||
		    (b->labels && rmtree(b->labels_out) < 0) || got_signal)
			return -1;
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\rparimg: bench: %s -j %u run %d/%d\033[K",
				phase_names[ph], jobs, run, b->runs);
		secs = run_timed(b, ph == PHASE_GEN ? gen_argv : load_argv);
		if (secs < 0 || verify(b, ph, jobs, run, out) < 0)
			return -1;
		if (run > 0)
			t[run - 1] = secs;
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	stats_compute(t, (size_t)b->runs, st);
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

static void print_results(const struct bench *b)
{
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
		printf("]}\n");
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
		break;
	}
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
enum { OPT_DIR = 0x200, OPT_FORMAT, OPT_PHASE };
/* Load's options of the rows' set and order, and those bench refuses. */
enum { OPT_LABELS = 0x280, OPT_ORDER, OPT_SEED, OPT_SHUFFLE, OPT_REFUSED_OPT };

static const struct option longopts[] = {
	{ "count", required_argument, NULL, 'n' },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "labels", no_argument, NULL, OPT_LABELS },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "phase", required_argument, NULL, OPT_PHASE },
	{ "runs", required_argument, NULL, 'r' },
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shuffle", no_argument, NULL, OPT_SHUFFLE },
	{ "size", required_argument, NULL, 's' },
	/* Load's, which bench refuses by name (refused_opt). */
	{ "classes", optional_argument, NULL, OPT_REFUSED_OPT },
	{ "force", no_argument, NULL, 'f' },
	{ "manifest", optional_argument, NULL, OPT_REFUSED_OPT },
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

/* The inputs exist, and the scratch space is inside none of them: bench
 * writes nothing into the user's directories. 0, or an exit status after
 * a message. */
static int check_inputs(const struct bench *b)
{
	char dir[PATH_MAX], in[PATH_MAX];
	struct stat st;
	size_t len;
	int i;

	if (!realpath(b->dir, dir))
		return error_errno("%s", b->dir), EXIT_FAIL;
	for (i = 0; i < b->ninputs; i++) {
		if (stat(b->inputs[i], &st) < 0 || !realpath(b->inputs[i], in))
			return error_errno("%s", b->inputs[i]), EXIT_FAIL;
		len = strlen(in);
		if (S_ISDIR(st.st_mode) && strncmp(dir, in, len) == 0 &&
		    (dir[len] == '\0' || dir[len] == '/' || len == 1))
			return opt_status(usage_error("bench", "%s: the scratch directory (--dir "
							  "%s) would be inside this input; bench "
							  "writes nothing into its inputs",
							  b->inputs[i], b->dir));
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
	uint64_t v;

	switch (ch) {
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
	if (b->labels || b->order || b->shuffle || b->keep_going)
		return usage_error("bench", "%s applies to given inputs, not the scratch dataset",
				   b->labels ? "--labels" : b->order ? "--order" : b->shuffle ?
				   "--shuffle" : "-k");
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
	if (!b->inputs && b->phases[PHASE_LOAD] && run_timed(b, gen_argv) < 0)
		return -1;
	for (ph = 0; ph < NPHASES; ph++) {
		if (!b->phases[ph])
			continue;
		for (i = 0; i < b->njobs; i++) {
			struct point *p = &b->points[b->npoints];

			p->phase = (enum phase)ph;
			p->jobs = b->jobs[i];
			if (measure(b, (enum phase)ph, b->jobs[i], &p->st) < 0)
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
	return EXIT_OK;
}
