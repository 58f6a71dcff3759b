/* merge.c - "parimg merge": concatenate .npy parts (load's shards) along the
 * first axis. Every part's header is checked against the first before any
 * byte is written; then the pool's workers copy the parts' data into their
 * places in the output with copy_file_range, no per-row work. */
#define _GNU_SOURCE
#include "cmd/opt.h"
#include "cmd/parimg.h"
#include "cmd/ragged.h"
#include "image/chanstats.h"
#include "engine/pool.h"
#include "engine/progress.h"
#include "common/err.h"
#include "common/npy.h"
#include "common/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct part {
	const char *path;
	struct npy_header h;
	uint64_t data;		/* bytes of array data */
	uint64_t dst;		/* where they go in the output */
	uint64_t rows;		/* images: the first axis, or a ragged part's index rows */
};

struct merge {
	struct part *parts;
	size_t nparts;
	int out_fd;		/* the output's temporary file, shared by workers */
	const char *out;	/* its final name, for messages */
	const char *index;	/* --index: the parts are ragged; the index to write */
	int64_t *rows;		/* and the parts' indexes, rebased, concatenated */
	size_t nrows;
};

static const char usage_text[] =
	"usage: parimg merge [options] -o OUT.npy PART.npy...\n"
	"       parimg merge [options] -o OUT.npy --labels Y.npy PART... YPART...\n"
	"       parimg merge [options] -o OUT.npy --index OUT.index.npy PART.npy...\n"
	"       parimg merge [options] --stats OUT.json PART.json...\n"
	"\n"
	"Concatenate .npy arrays along the first axis, in the order given (the\n"
	"parts of a sharded load: part-0.npy part-1.npy ...). Every part must have\n"
	"the first part's dtype and trailing shape (and so layout).\n"
	"\n"
	"  -o, --output OUT.npy    the array to write (required)\n"
	"      --labels Y.npy      the second half of the parts are the labels of\n"
	"                          the first half's, in the same order: merge them\n"
	"                          into Y.npy (labels, or load --multi-label's or\n"
	"                          --targets' rows); both outputs appear, or neither\n"
	"      --index FILE        the parts are load --ragged's, each with its\n"
	"                          index beside it (PART.index.npy for PART.npy):\n"
	"                          merge the indexes, offsets rebased, into FILE\n"
	"      --stats OUT.json    instead of arrays, combine the parts' load\n"
	"                          --stats files (their exact sums) into the\n"
	"                          figures of one run over all the parts\n"
	"  -f, --force             replace an existing OUT\n"
	OPT_COMMON_HELP;

/* Read and check PART's header, and that the file holds exactly its data. */
static int read_part(struct part *p)
{
	unsigned char buf[65536];
	char why[256];
	struct stat st;
	ssize_t n;
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		error_errno("%s", p->path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0)
		return error_errno("%s", p->path);
	if (npy_parse_header(buf, (size_t)n, &p->h, why, sizeof(why)) < 0)
		return error("%s: %s", p->path, why);
	if (p->h.ndim < 1)
		return error("%s: a 0-d array has no first axis to concatenate", p->path);
	p->data = npy_data_size(&p->h);
	p->rows = p->h.shape[0];
	if (p->data == 0 && errno == EOVERFLOW)
		return error("%s: shape too large", p->path);
	if ((uint64_t)st.st_size != p->h.header_len + p->data)
		return error("%s: %s: %llu bytes, its header says %llu", p->path,
			     (uint64_t)st.st_size < p->h.header_len + p->data ? "truncated" : "trailing data",
			     (unsigned long long)st.st_size,
			     (unsigned long long)(p->h.header_len + p->data));
	return 0;
}

/* "(3, 100, 100)" for messages. */
static const char *shape_str(const struct npy_header *h, int from, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	n += (size_t)snprintf(buf + n, len - n, "(");
	for (i = from; i < h->ndim && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%llu", i > from ? ", " : "",
				      (unsigned long long)h->shape[i]);
	if (n < len)
		snprintf(buf + n, len - n, ")");
	return buf;
}

/* Whether rows of shape P's and A's are images of one size in the two
 * layouts: P's (C, H, W), load --layout nchw's, and A's (H, W, C), or
 * (1, H, W) and (H, W) for one channel. */
static int nchw_of(const struct npy_header *p, const struct npy_header *a)
{
	const uint64_t *s = p->shape, *t = a->shape;

	if (p->ndim != 4)
		return 0;
	if (a->ndim == 4)
		return s[1] <= 4 && s[1] == t[3] && s[2] == t[1] && s[3] == t[2];
	return a->ndim == 3 && s[1] == 1 && s[2] == t[1] && s[3] == t[2];
}

/* Every part must match the first: dtype, number of axes, trailing shape. */
static int check_parts(struct merge *m, struct npy_header *out)
{
	const struct npy_header *a = &m->parts[0].h;
	char s1[256], s2[256];
	size_t i;

	for (i = 0; i < m->nparts; i++) {
		struct part *p = &m->parts[i];

		if (read_part(p) < 0)
			return -1;
		if (i == 0) {
			*out = *a;
			out->shape[0] = 0;
		}
		if (strcmp(p->h.descr, a->descr) != 0)
			return error("%s: dtype '%s' differs from '%s' of %s", p->path, p->h.descr,
				     a->descr, m->parts[0].path);
		if ((nchw_of(&p->h, a) || nchw_of(a, &p->h)) &&
		    memcmp(p->h.shape + 1, a->shape + 1, 3 * sizeof(a->shape[0])))
			return error("%s: layout %s (rows of shape %s) differs from %s (%s) of %s",
				     p->path, nchw_of(&p->h, a) ? "nchw" : "nhwc",
				     shape_str(&p->h, 1, s1, sizeof(s1)),
				     nchw_of(&p->h, a) ? "nhwc" : "nchw",
				     shape_str(a, 1, s2, sizeof(s2)), m->parts[0].path);
		if (p->h.ndim != a->ndim ||
		    memcmp(p->h.shape + 1, a->shape + 1, (size_t)(a->ndim - 1) * sizeof(a->shape[0])))
			return error("%s: rows of shape %s differ from %s of %s", p->path,
				     shape_str(&p->h, 1, s1, sizeof(s1)),
				     shape_str(a, 1, s2, sizeof(s2)), m->parts[0].path);
		if (__builtin_add_overflow(out->shape[0], p->h.shape[0], &out->shape[0]))
			return error("%s: too many rows in all", p->path);
	}
	return 0;
}

/*
 * With --index, every part is a ragged one (1-D, its index beside it, by
 * ragged_index_path): read and check each index against its part, rebase
 * its offsets past the parts before it and append it to M->rows. Without,
 * a 1-D part with an index beside it is refused: its index would be lost.
 */
static int check_ragged(struct merge *m)
{
	uint64_t base = 0;
	size_t i, k;

	for (i = 0; i < m->nparts; i++) {
		struct part *p = &m->parts[i];
		char *ip = ragged_index_path(p->path), why[256];
		int64_t *idx = NULL, *grown;
		size_t n;

		if (!ip)
			return error("out of memory");
		if (!m->index) {
			if (p->h.ndim == 1 && outfile_exists(ip)) {
				error("%s: a ragged part (%s beside it): merge ragged parts with "
				      "--index", p->path, ip);
				free(ip);
				return -1;
			}
			free(ip);
			continue;
		}
		if (p->h.ndim != 1) {
			free(ip);
			return error("%s: a fixed-shape array, not a ragged part", p->path);
		}
		if (ragged_read_index(ip, &idx, &n, why, sizeof(why)) < 0 ||
		    ragged_check_index(idx, n, p->h.shape[0], why, sizeof(why)) < 0) {
			error("%s: its index %s: %s", p->path, ip, why);
			free(ip);
			free(idx);
			return -1;
		}
		free(ip);
		grown = realloc(m->rows, (m->nrows + n + 1) * RAGGED_COLS * sizeof(int64_t));
		if (!grown) {
			free(idx);
			return error("out of memory");
		}
		m->rows = grown;
		for (k = 0; k < n; k++)
			idx[k * RAGGED_COLS + RAGGED_OFF] += (int64_t)base;
		memcpy(m->rows + m->nrows * RAGGED_COLS, idx, n * RAGGED_COLS * sizeof(int64_t));
		free(idx);
		m->nrows += n;
		p->rows = n;
		base += p->h.shape[0];
	}
	return 0;
}

static const char *part_name(void *ctx, size_t i)
{
	return ((struct merge *)ctx)->parts[i].path;
}

/* pwrite all LEN bytes at OFF. 0, or -1 with errno set. */
static int pwrite_all(int fd, const char *buf, size_t len, loff_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Copy part I's data into place: copy_file_range, which lets the kernel
 * (or the filesystem, by reflink) move the bytes; plain reads and pwrites
 * where it cannot. */
static int copy_part(void *ctx, size_t i, char *why, size_t whylen)
{
	struct merge *m = ctx;
	struct part *p = &m->parts[i];
	loff_t in_off = (loff_t)p->h.header_len, out_off = (loff_t)p->dst;
	uint64_t left = p->data;
	int fd = open(p->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		goto fail;
	while (left > 0) {
		ssize_t n = copy_file_range(fd, &in_off, m->out_fd, &out_off,
					    left < (1u << 30) ? left : (1u << 30), 0);

		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			      errno == EOPNOTSUPP)) {
			static char buf[1 << 20];

			n = pread(fd, buf, left < sizeof(buf) ? left : sizeof(buf), in_off);
			if (n > 0 && pwrite_all(m->out_fd, buf, (size_t)n, out_off) < 0)
				goto fail_out;
			if (n > 0) {
				in_off += n;
				out_off += n;
			}
		} else if (n < 0 && (errno == ENOSPC || errno == EFBIG || errno == EDQUOT)) {
			goto fail_out;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0) {
			snprintf(why, whylen, "file shrank while being copied");
			close(fd);
			return -1;
		}
		left -= (uint64_t)n;
	}
	close(fd);
	return 0;
fail_out:
	snprintf(why, whylen, "writing %s: %s", m->out, strerror(errno));
	close(fd);
	return -1;
fail:
	snprintf(why, whylen, "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

enum { OPT_INDEX = 0x200, OPT_LABELS, OPT_STATS };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "index", required_argument, NULL, OPT_INDEX },
	{ "labels", required_argument, NULL, OPT_LABELS },
	{ "output", required_argument, NULL, 'o' },
	{ "stats", required_argument, NULL, OPT_STATS },
	OPT_COMMON_LONG,
	{ NULL, 0, NULL, 0 }
};

/* Labels part I of L goes with array part I of M: a 1-d integer array of
 * as many rows, or a 2-d one (load --multi-label's uint8, --targets'
 * float32). */
static int check_labels(const struct merge *m, const struct merge *l)
{
	size_t i;

	for (i = 0; i < l->nparts; i++) {
		const struct part *a = &m->parts[i], *y = &l->parts[i];

		if (!(y->h.ndim == 1 && (y->h.descr[1] == 'i' || y->h.descr[1] == 'u')) &&
		    !(y->h.ndim == 2 && (y->h.descr[1] == 'u' || y->h.descr[1] == 'f')))
			return error("%s: not labels (a 1-d integer array, or 2-d multi-hot or "
				     "targets), the labels part "
				     "of %s", y->path, a->path);
		if (y->h.shape[0] != a->rows)
			return error("%s: %llu labels for the %llu rows of %s", y->path,
				     (unsigned long long)y->h.shape[0],
				     (unsigned long long)a->rows, a->path);
	}
	return 0;
}

/* Copy M's checked parts, whose concatenation has header H, into a
 * temporary file O for M->out, left for the caller to commit. 0, or -1
 * with O aborted. */
static int merge(struct merge *m, struct npy_header *h, struct outfile *o,
		 const struct opt_common *c)
{
	struct pool_result res;
	struct pool_task task;
	struct progress prog;
	char head[4096];
	uint64_t off;
	size_t i;

	if (!npy_format_header(h, head, sizeof(head)))
		return error("%s: header too large", m->out);
	for (off = h->header_len, i = 0; i < m->nparts; i++) {
		m->parts[i].dst = off;
		off += m->parts[i].data;
	}
	if (outfile_open(o, m->out) < 0)
		return -1;
	if (ftruncate(o->fd, (off_t)off) < 0 || outfile_write(o, head, h->header_len) < 0) {
		error_errno("%s", m->out);
		outfile_abort(o);
		return -1;
	}
	m->out_fd = o->fd;
	progress_init(&prog, c->quiet, "parts");
	task = (struct pool_task){
		.count = m->nparts, .jobs = c->jobs, .schedule = c->schedule,
		.verbose = c->verbose, .run = copy_part, .name = part_name, .ctx = m,
		.progress = progress_update, .progress_ctx = &prog,
	};
	if (pool_run(&task, &res) < 0) {
		outfile_abort(o);
		return -1;
	}
	return 0;
}

/* Check every part (arrays, and labels L if L->nparts), then merge them
 * and commit the labels and the array together. Returns the exit status. */
static int merge_all(struct merge *m, struct merge *l, const struct opt_common *c)
{
	struct outfile o = { .fd = -1, .slot = -1 }, lo = { .fd = -1, .slot = -1 };
	struct outfile io = { .fd = -1, .slot = -1 };
	struct outfile *all[] = { &lo, &io, &o };	/* the array renamed last */
	struct npy_header h, lh;

	if (check_parts(m, &h) < 0 || check_ragged(m) < 0 ||
	    (l->nparts && (check_parts(l, &lh) < 0 || check_labels(m, l) < 0)))
		return EXIT_FAIL;
	if (merge(m, &h, &o, c) < 0)
		return EXIT_FAIL;
	if ((l->nparts && merge(l, &lh, &lo, c) < 0) ||
	    (m->index && ragged_write_index(m->rows, m->nrows, m->index, &io) < 0)) {
		outfile_abort(&o);
		outfile_abort(&lo);
		outfile_abort(&io);
		return EXIT_FAIL;
	}
	return outfile_commit_all(all, 3, c->force) < 0 ? EXIT_FAIL : EXIT_OK;
}

/* Combine the N load --stats files PATHS into OUT: their exact sums add
 * up to what one run over all their rows would have written. Returns the
 * exit status. */
static int merge_stats(const char *out, char **paths, int n, int force)
{
	struct outfile o = { .fd = -1, .slot = -1 };
	struct chanstats all = { 0 }, part;
	char buf[4096];
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		if (chanstats_read(paths[i], &part) < 0)
			return EXIT_FAIL;
		if (i == 0)
			all.channels = part.channels;
		if (part.channels != all.channels)
			return error("%s: %d channels differ from %d of %s", paths[i], part.channels,
				     all.channels, paths[0]), EXIT_FAIL;
		if (chanstats_merge(&all.acc, &part.acc, all.channels) < 0 ||
		    __builtin_add_overflow(all.rows, part.rows, &all.rows))
			return error("%s: too many samples in all", paths[i]), EXIT_FAIL;
	}
	chanstats_finish(&all);
	if (!(len = chanstats_format(&all, buf, sizeof(buf))))
		return error("%s: statistics too long", out), EXIT_FAIL;
	if (outfile_open(&o, out) < 0)
		return EXIT_FAIL;
	if (outfile_write(&o, buf, len) < 0) {
		outfile_abort(&o);
		return EXIT_FAIL;
	}
	return outfile_commit(&o, force) < 0 ? EXIT_FAIL : EXIT_OK;
}

/* What merge was asked: the outputs, and the parts from argv[optind]. */
struct merge_args {
	const char *out, *labels, *index, *stats;
};

/* Parse argv into A and C: 0 to go on, -1 after a usage message, 1 when
 * done (--help). */
static int parse(int argc, char **argv, struct merge_args *a, struct opt_common *c)
{
	size_t n;
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":fhj:o:qv", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(c, ch, optarg, "merge")) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		switch (ch) {
		case OPT_INDEX:
			a->index = optarg;
			break;
		case OPT_LABELS:
			a->labels = optarg;
			break;
		case OPT_STATS:
			a->stats = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'o':
			a->out = optarg;
			break;
		default:
			return opt_bad(ch, argv, "merge");
		}
	}
	n = (size_t)(argc - optind);
	if (a->stats && (a->out || a->labels || a->index))
		return usage_error("merge", "--stats combines statistics files alone: "
				   "merge the arrays (-o, --labels, --index) in a call of their own");
	if (!a->stats && !a->out)
		return usage_error("merge", "no output given (-o OUT.npy)");
	if (n == 0)
		return usage_error("merge", "no parts given");
	if (a->labels && n % 2)
		return usage_error("merge", "--labels: %zu parts given, not as many labels parts "
				   "(PART.npy... then YPART.npy...) as array parts", n);
	if (a->labels && strcmp(a->labels, a->out) == 0)
		return usage_error("merge", "--labels and --output name the same file");
	if (a->index && (strcmp(a->index, a->out) == 0 ||
			 (a->labels && strcmp(a->index, a->labels) == 0)))
		return usage_error("merge", "--index names the same file as another output");
	return 0;
}

/* Without -f, an existing output is refused before any work. */
static int refuse_existing(const char *path, int force)
{
	if (!force && path && outfile_exists(path))
		return error("%s: file exists (use -f to replace it)", path);
	return 0;
}

int cmd_merge(int argc, char **argv)
{
	struct merge m = { .out_fd = -1 }, l = { .out_fd = -1 };
	struct merge_args a = { 0 };
	struct opt_common c;
	size_t i, n;
	int r;

	opt_common_init(&c);
	if ((r = parse(argc, argv, &a, &c)) != 0)
		return opt_status(r);
	if (a.stats)
		return refuse_existing(a.stats, c.force) < 0 ? EXIT_FAIL
		       : merge_stats(a.stats, argv + optind, argc - optind, c.force);
	if (refuse_existing(a.index, c.force) < 0 || refuse_existing(a.out, c.force) < 0 ||
	    refuse_existing(a.labels, c.force) < 0)
		return EXIT_FAIL;

	n = (size_t)(argc - optind);
	m.nparts = a.labels ? n / 2 : n;
	l.nparts = n - m.nparts;
	m.parts = calloc(n, sizeof(*m.parts));
	if (!m.parts)
		die("out of memory");
	l.parts = m.parts + m.nparts;
	for (i = 0; i < n; i++)
		m.parts[i].path = argv[optind + (int)i];
	m.out = a.out;
	m.index = a.index;
	l.out = a.labels;
	r = merge_all(&m, &l, &c);
	free(m.rows);
	free(m.parts);
	return r;
}
