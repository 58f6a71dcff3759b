/* load_run.c - what "parimg load" does once its options are parsed and its
 * rows collected (load.c): the parent probes the first image for the shape,
 * sizes a temporary file beside OUT, writes the header and maps the file
 * MAP_SHARED; workers decode their rows into that mapping; the parent
 * renames it onto OUT only if every row is accounted for. There is no copy
 * of the dataset in between. With --ragged, a header pass in the pool
 * (ragged.c) sizes each image instead. */
#define _GNU_SOURCE
#include "cmd/load.h"
#include "cmd/opt.h"
#include "cmd/ragged.h"
#include "inputs/arch.h"
#include "inputs/dataset.h"
#include "inputs/input.h"
#include "inputs/stream.h"
#include "image/chanstats.h"
#include "image/mask.h"
#include "codec/codec.h"
#include "engine/limit.h"
#include "engine/pool.h"
#include "engine/progress.h"
#include "engine/sandbox.h"
#include "common/err.h"
#include "common/npy.h"
#include "common/outfile.h"
#include "common/split.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define NATIVE_UNDONE 255	/* natives: a row left for the decode again */

static const char *row_name(void *ctx, size_t i)
{
	return ((struct load *)ctx)->files.paths[i];
}

/* The pool's open hook: what a confined worker is handed for row I. */
static int row_open(void *ctx, size_t i)
{
	return input_open(row_name(ctx, i));
}

/* The pool's pair hook (--masks): row I's mask, for a confined worker. */
static int row_pair(void *ctx, size_t i)
{
	const struct load *l = ctx;

	if (!l->mk.path[i]) {
		errno = ENOENT;		/* its worker reports mk.why */
		return -1;
	}
	return input_open(l->mk.path[i]);
}

/*
 * The pool's own hook: whether a confined worker opens row I itself, with
 * no call in the parent: a file (not an archive member) whose path is
 * beneath a directory INPUT (find_roots). Only a guess at what Landlock
 * will allow, never the check: a path that is not beneath after all (a
 * link out, a list's "root/../x") is refused by the kernel, and then
 * handed over by the parent as before (pool.c's open_self).
 */
static int row_own(void *ctx, size_t i)
{
	const struct load *l = ctx;
	const char *p = row_name(ctx, i);
	size_t k, n;

	for (k = 0; k < l->nroots; k++) {
		n = strlen(l->roots[k]);
		if (strncmp(p, l->roots[k], n) == 0 && p[n] == '/' &&
		    (n > 1 || l->roots[k][0] != '/'))
			return !arch_is_member(p);
		if (n == 1 && l->roots[k][0] == '/' && p[0] == '/')
			return !arch_is_member(p);
	}
	return 0;
}

/* The pool's kept hook: whether a confined worker reads row I, an archive
 * member, from the archive descriptors it keeps (arch_keep_fds) or from the
 * inflated memory it inherits, with no descriptor handed over. */
static int row_kept(void *ctx, size_t i)
{
	return arch_member_kept(row_name(ctx, i));
}

/* The INPUT arguments that are directories, without trailing slashes
 * ("/" stays): the roots beneath which a confined worker opens its rows
 * itself (Landlock), where the kernel allows it. 0, or -1 out of memory. */
static int find_roots(struct load *l)
{
	struct stat st;
	int k;

	if (!(l->roots = calloc((size_t)l->ninputs + 1, sizeof(*l->roots))))
		return error("out of memory");
	for (k = 0; k < l->ninputs; k++) {
		const char *a = l->inputs[k];
		size_t n = strlen(a);
		char *r;

		if (strcmp(a, "-") == 0 || stat(a, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		while (n > 1 && a[n - 1] == '/')
			n--;
		if (!(r = strndup(a, n)))
			return error("out of memory");
		l->roots[l->nroots++] = r;
	}
	return 0;
}

/*
 * A worker is about to decode rows [BEGIN, END): reserve their bytes of
 * the file (fallocate, mode 0: the filter allows no other on the output),
 * so that a disk that filled up since the parent's check (check_space) is
 * an error naming OUT that stops the run, never a SIGBUS on a page of a
 * sparse file; then map their pages in one call instead of a page fault
 * every 4 KiB. On tmpfs the reservation zeroes the pages, here in the
 * workers, in parallel, where the parent once did it for the whole file.
 * Where the filesystem cannot reserve (EOPNOTSUPP), the writes report a
 * full disk as they would have. MADV_POPULATE_WRITE is a hint: before
 * Linux 5.14 it says EINVAL and the faults happen as usual.
 */
static int load_range(void *ctx, size_t begin, size_t end, char *why, size_t whylen)
{
	struct load *l = ctx;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned char *first = l->rows + (begin - l->row0) * l->row_bytes;
	size_t len = (end - begin) * l->row_bytes;
	uintptr_t a;
	int r;

	if (l->plan) {
		/* Ragged: the rows' slots, from the offsets. */
		size_t ss = row_sample_size(l->spec.dtype);
		uint64_t e = end - l->row0 == l->nrows ? l->samples
			     : (uint64_t)l->plan[(end - l->row0) * RAGGED_COLS + RAGGED_OFF];

		first = l->rows + (uint64_t)l->plan[(begin - l->row0) * RAGGED_COLS + RAGGED_OFF] * ss;
		len = (size_t)(l->rows + e * ss - first);
	}
	if (!len)
		return 0;
	while ((r = fallocate(pool_output_fd(l->fd), 0, (off_t)(first - l->map), (off_t)len)) < 0 &&
	       errno == EINTR)
		;
	if (r < 0 && errno != EOPNOTSUPP && errno != ENOSYS) {
		snprintf(why, whylen, "%s: %s", l->out, strerror(errno));
		return -1;
	}
	a = (uintptr_t)first & ~(page - 1);
	madvise((void *)a, (uintptr_t)first + len - a, MADV_POPULATE_WRITE);
	return 0;
}

/* The pool's setup hook: in each worker, before it is confined (the cap
 * reads /proc/self/statm). */
static void load_setup(void *ctx)
{
	limit_worker_memory(((struct load *)ctx)->spec.max_pixels);
}

/* --masks: decode row I's mask into ROW as S says, its image just decoded
 * from IMG_W x IMG_H (turned, before any resize). 0, or -1 with WHY. */
static int mask_one(struct load *l, size_t i, const struct row_spec *s, int img_w, int img_h,
		    unsigned char *row, char *why, size_t whylen)
{
	const char *path = l->mk.path[i];
	char what[512];

	if (input_read_pair(i, path, &l->mfile, what, sizeof(what)) < 0 ||
	    mask_decode(s, l->mask_pad, l->mfile.p, l->mfile.len, img_w, img_h, row, &l->mscratch,
			what, sizeof(what)) < 0) {
		snprintf(why, whylen, "its mask %s: %s", path, what);
		return -1;
	}
	return 0;
}

/* --ragged --masks: row I's mask at its image's planned size (index row R
 * of the masks' plan), stretched with NEAREST as the image was resized. */
static int mask_ragged(struct load *l, size_t i, char *why, size_t whylen)
{
	const int64_t *r = l->mplan + (i - l->row0) * RAGGED_COLS;
	const struct ragged_dims *d = &l->dims[i - l->row0];
	struct row_spec one = l->spec;

	one.w = (uint32_t)r[RAGGED_W];
	one.h = (uint32_t)r[RAGGED_H];
	one.resize = one.w != (uint32_t)d->w || one.h != (uint32_t)d->h;
	one.fit = RESIZE_STRETCH;
	return mask_one(l, i, &one, d->w, d->h, l->mrows + r[RAGGED_OFF], why, whylen);
}

/* --masks, under -k: a row without a mask (or with two) fails whole. */
static int no_mask(struct load *l, size_t i, char *why, size_t whylen)
{
	input_skip_item(i);
	snprintf(why, whylen, "%s", l->mk.why[i] ? l->mk.why[i] : "no mask");
	return -1;
}

/* Decode image I into its row of the mapping (and --masks, its mask into
 * its own). */
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
		if (l->mrows && !l->mk.path[i])
			return no_mask(l, i, why, whylen);
		if (input_read_item(i, l->files.paths[i], &l->file, why, whylen) < 0 ||
		    ragged_decode(&l->spec, &l->dims[i - l->row0], r, l->file.p, l->file.len,
				  l->rows + (uint64_t)r[RAGGED_OFF] * row_sample_size(l->spec.dtype),
				  &l->scratch, why, whylen) < 0)
			return -1;
		if (l->mrows && mask_ragged(l, i, why, whylen) < 0) {
			memset(l->rows + (uint64_t)r[RAGGED_OFF] * row_sample_size(l->spec.dtype), 0,
			       (size_t)(r[RAGGED_H] * r[RAGGED_W] * r[RAGGED_C]) *
			       row_sample_size(l->spec.dtype));
			return -1;
		}
		l->failed[i - l->row0] = 0;
		return 0;
	}
	/* Gray so far by a guess that has failed: every row is done again. */
	if (l->speculative && __atomic_load_n(l->colour, __ATOMIC_RELAXED)) {
		l->natives[i - l->row0] = NATIVE_UNDONE;
		return input_skip_item(i);
	}
	/* Done again after that guess: a file that failed is not reported
	 * twice (run_targets counts it). */
	if (l->failed1 && l->failed1[i])
		return input_skip_item(i);
	if (l->mrows && !l->mk.path[i])
		return no_mask(l, i, why, whylen);
	if (l->early && load_early_row(l, i, l->rows + (i - l->row0) * l->row_bytes))
		return 0;
	if (input_read_item(i, l->files.paths[i], &l->file, why, whylen) < 0 ||
	    row_decode(&l->spec, l->file.p, l->file.len, l->rows + (i - l->row0) * l->row_bytes,
		       &l->scratch, why, whylen) < 0)
		return -1;
	if (l->mrows && mask_one(l, i, &l->spec, l->scratch.w, l->scratch.h,
				 l->mrows + (i - l->row0) * (size_t)l->spec.w * l->spec.h, why,
				 whylen) < 0) {
		memset(l->rows + (i - l->row0) * l->row_bytes, 0, l->row_bytes);
		return -1;
	}
	if (l->natives)
		l->natives[i - l->row0] = (unsigned char)l->scratch.native;
	if (l->speculative && l->scratch.native >= 3)
		__atomic_store_n(l->colour, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Under -k, in the parent: item I's worker died while decoding it, maybe
 * half way through its row; the row is to be left zero. */
static void load_lost(void *ctx, size_t i)
{
	struct load *l = ctx;
	const int64_t *r;

	if (!l->plan) {
		memset(l->rows + (i - l->row0) * l->row_bytes, 0, l->row_bytes);
		if (l->mrows)
			memset(l->mrows + (i - l->row0) * (size_t)l->spec.w * l->spec.h, 0,
			       (size_t)l->spec.w * l->spec.h);
		return;
	}
	/* --ragged: the slot the plan gave it (its index row then says 0x0,
	 * as the worker had marked it failed). */
	r = l->plan + (i - l->row0) * RAGGED_COLS;
	memset(l->rows + (uint64_t)r[RAGGED_OFF] * row_sample_size(l->spec.dtype), 0,
	       (size_t)(r[RAGGED_H] * r[RAGGED_W] * r[RAGGED_C]) * row_sample_size(l->spec.dtype));
	if (l->mrows) {
		r = l->mplan + (i - l->row0) * RAGGED_COLS;
		memset(l->mrows + r[RAGGED_OFF], 0, (size_t)(r[RAGGED_H] * r[RAGGED_W]));
	}
}

/*
 * Without -c, the channels ImageFolder's convert("RGB") gives, unless
 * every image is gray: 3 when any image stores colour, else 1 (alpha is
 * dropped either way, as ImageFolder drops it). FIRST is the first image's
 * stored channels: when it is colour the answer is 3 with no more reading.
 * When it is gray, the rows are decoded as gray on the guess that all are
 * (run_targets decodes them again as 3 if a worker meets colour): a header
 * pass over every file would cost more than the decode of small files.
 * --normalize, whose figures are checked against the channels before the
 * decode, and --shard, whose shards must agree though each decodes only
 * its part, probe every header of the whole list first instead (in the
 * pool, confined).
 */
static int choose_channels(struct load *l, struct opt_common *c, int first)
{
	struct pool_task task = { .jobs = c->jobs, .schedule = c->schedule,
				  .keep_going = l->keep_going, .confine = l->confine,
				  .confine_fd = -1 };
	size_t n[5];

	l->chosen = 1;
	if (first >= 3) {
		l->spec.channels = 3;
		return 0;
	}
	if (!l->spec.norm.on && l->shard.n == 1) {
		void *p = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return error_errno("mmap");
		l->colour = p;
		l->speculative = 1;
		if (l->keep_going && !(l->failed1 = calloc(l->files.n + 1, 1)))
			return error("out of memory");
		l->spec.channels = 1;
		return 0;
	}
	if (ragged_count_channels(l->files.paths, l->files.n, &l->spec, &task, n) < 0)
		return -1;
	l->spec.channels = n[3] + n[4] ? 3 : 1;
	return 0;
}

/* Without -c, once the rows are decoded: one line saying what the choice
 * of channels converted, when it converted any image (of this run's rows,
 * by what the workers recorded, each count at most the rows). */
static void note_channels(const struct load *l)
{
	const size_t *n = l->stored;
	size_t gray = n[1] + n[2], alpha = n[2] + n[4];
	char what[256] = "";
	int len = 0;

	if (!l->chosen || (l->spec.channels == 3 ? gray + alpha : alpha) == 0)
		return;
	if (l->spec.channels == 3 && gray)
		len = snprintf(what, sizeof(what), "%zu gray image%s converted to RGB", gray,
			       gray == 1 ? "" : "s");
	if (alpha)
		snprintf(what + len, sizeof(what) - (size_t)len, "%salpha dropped from %zu image%s",
			 len ? ", " : "", alpha, alpha == 1 ? "" : "s");
	warnx("%s: %d channel%s: %s; %s%s%s", l->out, l->spec.channels,
	      l->spec.channels == 1 ? "" : "s", what,
	      l->spec.channels == 3 && gray ? "-c 1 to keep gray" : "",
	      l->spec.channels == 3 && gray && alpha ? ", " : "",
	      !alpha ? "" : l->spec.channels == 3 ? "-c 4 to keep alpha" : "-c 2 to keep alpha");
}

/* Fix the array's shape from the first image that can be probed (with -k,
 * bad files before it are left to the workers to report). Always from the
 * whole list, never the shard's part, so that every shard agrees. The
 * header is parsed in a confined worker, never in this process: only its
 * size and channels come back, checked (ragged_first). Without -c, the
 * channels are chosen (choose_channels). */
static int probe_shape(struct load *l, struct opt_common *c)
{
	/* Not -v's: its lines are the decode's workers'. */
	struct pool_task task = { .keep_going = l->keep_going, .schedule = c->schedule,
				  .confine = l->confine, .confine_fd = -1 };
	struct ragged_dims d;
	size_t i;
	int r;

	if (l->spec.ragged)
		return 0;	/* each its own, from the header pass */
	if ((r = ragged_first(l->files.paths, l->files.n, &l->spec, &task, &i, &d)) < 0)
		return -1;
	if (r > 0)
		return error("%s: no input could be read", l->out);
	l->spec.size_from = l->files.paths[i];
	if (!l->spec.resize) {
		l->spec.w = (uint32_t)d.w;
		l->spec.h = (uint32_t)d.h;
	}
	if (!l->spec.channels)
		return choose_channels(l, c, d.c);
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
	if (tensor_norm_check(n, l->spec.channels, l->spec.dtype == TENSOR_F4, why, sizeof(why)) < 0)
		return opt_status(usage_error("load", "invalid --normalize%s%s: %s",
					      n->from_stats ? " stats from " : "",
					      n->from_stats ? l->stats_from : "", why));
	return EXIT_OK;
}

/* PATH's temporary file O of TOTAL bytes, header HEAD (LEN bytes) written
 * and pinned (the workers map the header too: it is written again from
 * this copy at the commit, whatever one of them did to it), all of it
 * reserved when RESERVE, mapped shared and not inherited past its own
 * pool's workers (decode_target). The mapping, or NULL with a message. */
static void *map_new_array(struct outfile *o, const char *path, const char *head, size_t len,
			   uint64_t total, int reserve)
{
	void *map;
	int e;

	if (outfile_open(o, path) < 0)
		return NULL;
	if (ftruncate(o->fd, (off_t)total) < 0 || outfile_write(o, head, len) < 0) {
		error_errno("%s", path);
		outfile_abort(o);
		return NULL;
	}
	if (outfile_pin_head(o, head, len) < 0)
		return NULL;
	if (reserve && (e = posix_fallocate(o->fd, 0, (off_t)total)) && e != EOPNOTSUPP &&
	    e != EINVAL) {
		error("%s: %s", path, strerror(e));
		return NULL;
	}
	map = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (map == MAP_FAILED) {
		error_errno("%s: mmap", path);
		outfile_abort(o);
		return NULL;
	}
	madvise(map, (size_t)total, MADV_DONTFORK);
	return map;
}

/* Create OUT's temporary file, sized for the header and the shard's rows
 * (its space checked by the caller, check_space), write the header and map it all. */
static int create_array(struct load *l, struct outfile *o, void **map, size_t *maplen)
{
	const struct row_spec *s = &l->spec;
	struct npy_header hdr = { .ndim = 0 };
	char head[4096];
	uint64_t data, total;
	int le = 1;

	snprintf(hdr.descr, sizeof(hdr.descr), "%c%s",
		 s->dtype == TENSOR_U1 ? '|' : *(char *)&le ? '<' : '>', tensor_dtype_names[s->dtype]);
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
	/* Its space checked, not reserved: each worker reserves its rows. */
	if (!(*map = map_new_array(o, l->out, head, hdr.header_len, total, 0)))
		return -1;
	*maplen = (size_t)total;
	l->map = *map;
	l->fd = o->fd;
	l->rows = (unsigned char *)*map + hdr.header_len;
	return 0;
}

/* --ragged --masks: the masks' index from T's plan: each row's H and W,
 * one channel, offsets past the rows before it. 0, or -1 out of memory. */
static int plan_masks(struct target *t, uint64_t *total)
{
	size_t i;

	free(t->mplan);
	if (!(t->mplan = malloc((t->nrows ? t->nrows : 1) * RAGGED_COLS * sizeof(int64_t))))
		return error("out of memory");
	for (*total = 0, i = 0; i < t->nrows; i++) {
		const int64_t *p = t->plan + i * RAGGED_COLS;
		int64_t *m = t->mplan + i * RAGGED_COLS;

		m[RAGGED_OFF] = (int64_t)*total;
		m[RAGGED_H] = p[RAGGED_H];
		m[RAGGED_W] = p[RAGGED_W];
		m[RAGGED_C] = 1;
		*total += (uint64_t)(p[RAGGED_H] * p[RAGGED_W]);
	}
	return 0;
}

/* --masks: create target T's masks' temporary file, (rows, H, W) uint8 (or
 * --ragged, the samples of all, planned), reserve it (all of it, here:
 * the workers reserve only OUT's rows) and map it, as create_array does
 * OUT's. */
static int create_masks(struct load *l, struct target *t)
{
	struct npy_header hdr = { .ndim = 3, .descr = "|u1",
				  .shape = { t->nrows, l->spec.h, l->spec.w } };
	char head[4096];
	uint64_t data, total;
	struct outfile *o = &t->msk;

	if (l->spec.ragged) {
		if (plan_masks(t, &hdr.shape[0]) < 0)
			return -1;
		hdr.ndim = 1;
	}
	data = npy_data_size(&hdr);

	if (!npy_format_header(&hdr, head, sizeof(head)) || (data == 0 && errno == EOVERFLOW) ||
	    __builtin_add_overflow(data, (uint64_t)hdr.header_len, &total) ||
	    total > (uint64_t)INT64_MAX || total > SIZE_MAX)
		return error("%s: masks of %zu x %ux%u bytes are too large", t->masks, t->nrows,
			     l->spec.w, l->spec.h);
	/* Reserved whole, here: the workers reserve only OUT's rows. */
	if (!(t->mmap = map_new_array(o, t->masks, head, hdr.header_len, total, 1)))
		return -1;
	t->mmaplen = (size_t)total;
	t->mrows = (unsigned char *)t->mmap + hdr.header_len;
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
 * Before the first decode: whether the filesystem of L's output has room
 * for MAPLEN bytes more, on top of what the arrays checked before it on
 * the same filesystem (every --split part, prepared first) will still
 * take, so that a disk too small fails here, naming OUT, not an hour in.
 * The space itself is reserved by the workers, each its rows' bytes
 * before writing them (load_range): reserving the whole file here zeroed
 * it on tmpfs (about 0.1 s a GB), the largest serial part of the parent.
 * A disk that fills up after this check, by another writer, still stops
 * the run with an error naming OUT (a worker's fallocate). Where the
 * filesystem says nothing (no fstatvfs), that is the only check. Where it
 * has no fallocate (EOPNOTSUPP: some network filesystems), the workers
 * cannot reserve (glibc's posix_fallocate then writes a byte a block,
 * which a confined worker may not), so the parent reserves the whole file
 * as before.
 */
static int check_space(struct load *l, size_t maplen)
{
	struct statvfs vfs;
	struct stat st;
	uint64_t *need = NULL, avail;
	size_t k;
	int e;

	/* The header's first byte, written already: a no-op where allowed. */
	if (fallocate(l->fd, 0, 0, 1) < 0 && errno == EOPNOTSUPP) {
		if ((e = posix_fallocate(l->fd, 0, (off_t)maplen)) && e != EOPNOTSUPP && e != EINVAL)
			return error("%s: %s", l->out, strerror(e));
		return 0;
	}
	if (fstat(l->fd, &st) < 0 || fstatvfs(l->fd, &vfs) < 0 || vfs.f_frsize == 0)
		return 0;
	for (k = 0; k < l->nspace; k++)
		if (l->space[k].dev == st.st_dev)
			need = &l->space[k].bytes;
	if (!need) {
		if (l->nspace == sizeof(l->space) / sizeof(l->space[0]))
			return 0;
		l->space[l->nspace].dev = st.st_dev;
		need = &l->space[l->nspace++].bytes;
		*need = 0;
	}
	/* Whole blocks, as the filesystem allocates them. */
	*need += (maplen + vfs.f_frsize - 1) / vfs.f_frsize;
	avail = (uint64_t)vfs.f_bavail;
	if (*need > avail)
		return error("%s: %s", l->out, strerror(ENOSPC));
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
		if (l->failed[i]) {
			l->plan[i * RAGGED_COLS + RAGGED_H] = l->plan[i * RAGGED_COLS + RAGGED_W] = 0;
			if (l->mplan)
				l->mplan[i * RAGGED_COLS + RAGGED_H] =
					l->mplan[i * RAGGED_COLS + RAGGED_W] = 0;
		}
	if (l->mplan && ragged_write_index(l->mplan, t->nrows, t->mindex, &t->midx) < 0)
		return -1;
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
	l->mrows = t->mrows;
	l->mplan = t->mplan;
}

/* Before any target is decoded: plan target T's rows (--ragged's header
 * pass), make, check the space of and map its array, and write its labels and
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
	if (check_space(l, t->maplen) < 0 || (l->spec.ragged && share_failed(l) < 0))
		return -1;
	t->failed = l->failed;
	if ((t->masks && create_masks(l, t) < 0) ||
	    (t->manifest && write_manifest(l, &t->man) < 0) ||
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
	if (t->mmap && munmap(t->mmap, t->mmaplen) < 0)
		r = error_errno("%s", t->masks);
	t->mmap = NULL;
	t->mrows = NULL;
	return r;
}

/* N bytes, zero, shared with the workers of the next pool; NULL after a
 * message. */
static unsigned char *shared_bytes(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		error_errno("mmap");
		return NULL;
	}
	return p;
}

/* Add the channels the workers recorded for the target's rows to
 * L->stored; a value out of 1-4 (a row not decoded, or a worker's lie) is
 * not counted. */
static void count_stored(struct load *l)
{
	size_t i;

	for (i = 0; i < l->nrows; i++) {
		if (l->natives[i] >= 1 && l->natives[i] <= 4)
			l->stored[l->natives[i]]++;
		if (l->failed1 && l->natives[i] == 0)	/* failed, and reported */
			l->failed1[l->row0 + i] = 1;
	}
}

/* PARIMG_TIMING (bench's serial share): when the first decode started, on
 * CLOCK_MONOTONIC (one clock for every process), and this process's own
 * CPU seconds then. */
static struct timespec first_decode;
static double cpu_at_first;

static double own_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Once the run is over: "first_decode S.NS", "cpu_first S", "cpu_end S",
 * "early_rows N" (rows copied from the speculators, load_early.c) and
 * "early_slots N" (members they had taken up when stopped) into
 * the file PARIMG_TIMING names, if it names one (a failure to write it is
 * bench's to notice). */
static void write_timing(const struct load *l)
{
	const char *path = getenv("PARIMG_TIMING");
	FILE *f;
	uint64_t rows, slots;

	if (!path || !*path || !(f = fopen(path, "we")))
		return;
	rows = load_early_used(l, &slots);
	fprintf(f, "first_decode %lld.%09ld\ncpu_first %.6f\ncpu_end %.6f\nearly_rows %" PRIu64
		"\nearly_slots %" PRIu64 "\n", (long long)first_decode.tv_sec, first_decode.tv_nsec,
		cpu_at_first, own_cpu(), rows, slots);
	fclose(f);
}

/* Decode target T's rows into its array's mapping, then (--ragged) write
 * its index beside it. Returns 0, or -1. */
static int decode_target(struct load *l, struct target *t, struct opt_common *c,
			 size_t *skipped)
{
	struct pool_result res;
	struct pool_task task;
	struct progress prog;
	size_t i;
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
		.roots = l->roots, .nroots = l->nroots, .own = row_own,
		.progress_ctx = &prog,
		/* Confined after the memory cap. They keep the output's
		 * descriptor to reserve their rows' bytes (load_range):
		 * fallocate in mode 0 only, within its size. */
		.confine = l->confine, .confine_fd = l->fd, .setup = load_setup,
		.lost = load_lost, .pair = l->masks_dir ? row_pair : NULL,
	};
	/* Archive members read with no descriptor handed over, where the
	 * workers keep the archives' (or inherit the inflated bytes). */
	if (l->confine && (task.keep = arch_keep_fds(&task.nkeep)))
		task.kept = row_kept;
	/* T's array (and failed bytes), kept from every other pool's workers,
	 * go to this one's (a part's workers cannot reach another part). */
	madvise(t->map, t->maplen, MADV_DOFORK);
	if (t->mmap)
		madvise(t->mmap, t->mmaplen, MADV_DOFORK);
	if (t->failed)
		madvise(t->failed, t->nrows ? t->nrows : 1, MADV_DOFORK);
	if (l->chosen && !(l->natives = shared_bytes(l->nrows)))
		return -1;
	if (first_decode.tv_sec == 0 && first_decode.tv_nsec == 0) {
		clock_gettime(CLOCK_MONOTONIC, &first_decode);
		cpu_at_first = own_cpu();
	}
	ok = stream_pool_run(&task, &res) == 0;
	/* The rows failed1 kept from a second report are skipped too. */
	for (i = l->row0; ok && l->failed1 && !l->speculative && i < l->row0 + l->nrows; i++)
		res.skipped += l->failed1[i];
	if (l->natives) {
		count_stored(l);
		munmap(l->natives, l->nrows ? l->nrows : 1);
		l->natives = NULL;
	}
	if (ok && l->spec.ragged)
		ok = finish_ragged(l, t) == 0;
	if (l->slots) {
		/* A guess that failed: no statistics of rows left undone. */
		if (ok && !(l->speculative && *l->colour))
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
		o[n++] = &l->targets[i].msk;
		o[n++] = &l->targets[i].midx;
	}
	o[n++] = &l->cls;
	for (i = 0; i < l->ntargets; i++)
		o[n++] = &l->targets[i].arr;
	return n;
}

/* Prepare every target (so that a disk too small for any fails before
 * the first decode, check_space), decode each; commit all the outputs only if every
 * pool succeeded. Returns the exit status. */
static int run_targets(struct load *l, struct opt_common *c)
{
	struct outfile *o[7 * SPLIT_MAX + 1];
	const char *out = l->out;
	size_t skipped = 0, nrows = 0;
	int i, n, ok;

again:
	ok = 1;
	l->nspace = 0;
	for (i = 0; ok && i < l->ntargets; i++)
		ok = prepare_target(l, &l->targets[i], c, &skipped) == 0;
	for (i = 0; ok && i < l->ntargets; i++) {
		ok = decode_target(l, &l->targets[i], c, &skipped) == 0;
		nrows += l->targets[i].nrows;
	}
	for (i = 0; i < l->ntargets; i++)
		unmap_target(&l->targets[i]);
	l->out = out;
	if (ok && l->speculative && (*l->colour || l->stored[3] || l->stored[4])) {
		/* Gray was the wrong guess: everything again, as 3 channels. */
		n = all_outfiles(l, o);
		for (i = 0; i < n; i++)
			outfile_abort(o[i]);
		l->speculative = 0;
		l->spec.channels = 3;
		memset(l->stored, 0, sizeof(l->stored));
		skipped = nrows = 0;
		goto again;
	}
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
	note_channels(l);
	if (skipped) {
		warnx("%s: %zu of %zu rows skipped (%s)", l->out, skipped, nrows,
		      l->spec.ragged ? "index rows 0x0" : "left zero");
		return EXIT_SKIPPED;
	}
	return EXIT_OK;
}

int load_run(struct load *l, struct opt_common *c)
{
	int r;

	place_targets(l);
	/* Confined workers, or not (--sandbox); -1: required but not here. */
	if ((l->confine = sandbox_resolve(l->sandbox)) < 0 ||
	    (l->confine && find_roots(l) < 0) || probe_shape(l, c) < 0)
		return EXIT_FAIL;
	if ((r = setup_normalize(l)) != EXIT_OK)
		return r;
	load_early_stop(l);
	r = run_targets(l, c);
	write_timing(l);
	return r;
}
