/* ragged.c - the planning of "load --ragged": the header pass (every file
 * probed in the pool, its size written to a shared array), the aspect-keeping
 * sizes, the offsets, the index .npy, and the per-image decode into a slot. */
#define _GNU_SOURCE
#include "cmd/ragged.h"
#include "inputs/arch.h"
#include "inputs/input.h"
#include "inputs/stream.h"
#include "engine/limit.h"
#include "engine/pool.h"
#include "common/err.h"
#include "common/npy.h"
#include "common/split.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OUT_SIDE (1u << 24)	/* as the resampler's targets and the probes */
#define FIRST_READ 65536	/* the header pass's first read of a file */

int ragged_geometry(const struct row_spec *s, uint32_t w, uint32_t h, uint32_t *ow,
		    uint32_t *oh)
{
	uint32_t shrt = w <= h ? w : h, lng = w <= h ? h : w;
	uint64_t nl = lng, ns = shrt;

	if (w == 0 || h == 0)
		return -1;
	if (s->short_side) {
		/* torchvision 0.14's _compute_resized_output_size: Python's
		 * float division, truncated. S * long is exact in a double. */
		ns = s->short_side;
		nl = (uint64_t)((double)s->short_side * (double)lng / (double)shrt);
	} else if (s->max_side && lng > s->max_side) {
		nl = s->max_side;
		ns = (uint64_t)shrt * s->max_side / lng;
		if (ns == 0)
			ns = 1;
	}
	if (nl > MAX_OUT_SIDE || ns > MAX_OUT_SIDE || nl * ns > s->max_pixels)
		return -1;
	*ow = (uint32_t)(w <= h ? ns : nl);
	*oh = (uint32_t)(w <= h ? nl : ns);
	return 0;
}

int ragged_channels(const struct row_spec *s, int native)
{
	return s->channels ? s->channels : native;
}

int ragged_dims_ok(const struct ragged_dims *d, uint64_t max_pixels)
{
	return d->w > 0 && d->h > 0 && d->c >= 1 && d->c <= 4 &&
	       (uint64_t)d->w * (uint64_t)d->h <= max_pixels;
}

int ragged_plan(const struct row_spec *s, const struct ragged_dims *dims, size_t n,
		int64_t *index, uint64_t *total, size_t *bad, char *why, size_t whylen)
{
	uint64_t off = 0, size;
	uint32_t ow, oh;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ragged_dims *d = &dims[i];
		int64_t *r = index + i * RAGGED_COLS;

		r[RAGGED_OFF] = (int64_t)off;
		r[RAGGED_H] = r[RAGGED_W] = 0;
		r[RAGGED_C] = s->channels;
		if (d->w == 0 && d->h == 0 && d->c == 0)
			continue;	/* skipped in the header pass */
		/* What a worker sent is checked before it is used. */
		if (!ragged_dims_ok(d, s->max_pixels)) {
			snprintf(why, whylen, "bad header-pass result %dx%d x %d", d->w, d->h, d->c);
			goto fail;
		}
		if (ragged_geometry(s, (uint32_t)d->w, (uint32_t)d->h, &ow, &oh) < 0) {
			snprintf(why, whylen, "image is %dx%d: its resized size is over %u a side "
				 "or --max-pixels %llu", d->w, d->h, MAX_OUT_SIDE,
				 (unsigned long long)s->max_pixels);
			goto fail;
		}
		r[RAGGED_H] = oh;
		r[RAGGED_W] = ow;
		r[RAGGED_C] = ragged_channels(s, d->c);
		size = (uint64_t)ow * oh * (uint64_t)r[RAGGED_C];
		if (__builtin_add_overflow(off, size, &off) ||
		    off > (uint64_t)INT64_MAX / row_sample_size(s->dtype)) {
			snprintf(why, whylen, "the array would pass 2^63 bytes");
			goto fail;
		}
	}
	*total = off;
	return 0;
fail:
	*bad = i;
	return -1;
}

/* Read up to MAX bytes of the open FD from the start into B. */
static int read_head(int fd, struct buf *b, size_t max)
{
	if (!buf_grow(b, max)) {
		errno = ENOMEM;
		return -1;
	}
	b->len = 0;
	while (b->len < max) {
		ssize_t n = pread(fd, b->p + b->len, max - b->len, (off_t)b->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	return 0;
}

/* A JPEG's SOF can come after a large EXIF block, and a PNG's probe checks
 * every chunk: when the first read is not enough, the whole file is read. */
int ragged_probe(size_t i, const char *path, const struct row_spec *s, struct buf *b,
		 struct ragged_dims *d, char *why, size_t whylen)
{
	struct codec_info info;
	struct stat st;
	int fd = pool_input(i), r;

	if (arch_is_member(path)) {
		/* A member is read whole: one pread, no head first. */
		if (arch_read(path, fd, b, why, whylen) < 0 ||
		    codec_probe(b->p, b->len, s->max_pixels, &info, why, whylen) < 0)
			return -1;
		d->w = info.w;
		d->h = info.h;
		d->c = info.channels;
		return 0;
	}
	if (fd == -2)		/* not confined: the worker opens its inputs */
		fd = input_open(path);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : INPUT_ENOTREG;
		goto fail;
	}
	/* A bounded first read; the whole file only when the header is past
	 * it. */
	if (read_head(fd, b, FIRST_READ) < 0)
		goto fail;
	r = codec_probe(b->p, b->len, s->max_pixels, &info, why, whylen);
	if (r < 0 && (off_t)b->len < st.st_size) {
		/* The same descriptor, still at offset 0 (read_head preads);
		 * input_read_fd closes it. */
		if (input_read_fd(fd, b, why, whylen) < 0)
			return -1;
		r = codec_probe(b->p, b->len, s->max_pixels, &info, why, whylen);
	} else {
		close(fd);
	}
	if (r < 0)
		return -1;
	/* The size the row gets: turned by --exif-transpose. */
	row_image_size(s, &info, &d->w, &d->h);
	d->c = info.channels;
	return 0;
fail:
	snprintf(why, whylen, "%s", input_reason(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The header pass's pool context. */
struct scan {
	char *const *paths;
	const struct row_spec *spec;
	struct ragged_dims *dims;	/* MAP_SHARED, row first first */
	size_t first;
	struct buf file;		/* per worker */
	int quiet;			/* a file that fails is left zero, unreported */
};

static int scan_one(void *ctx, size_t i, char *why, size_t whylen)
{
	struct scan *sc = ctx;
	struct ragged_dims d;

	if (ragged_probe(i, sc->paths[i], sc->spec, &sc->file, &d, why, whylen) < 0)
		return sc->quiet ? 0 : -1;
	sc->dims[i - sc->first] = d;
	return 0;
}

/* The pool's setup hook, before a worker is confined: load's memory cap. */
static void scan_setup(void *ctx)
{
	limit_worker_memory(((struct scan *)ctx)->spec->max_pixels);
}

static const char *scan_name(void *ctx, size_t i)
{
	return ((struct scan *)ctx)->paths[i];
}

static int scan_open(void *ctx, size_t i)
{
	return input_open(scan_name(ctx, i));
}

/* ragged_scan, and with QUIET set a pass whose failures are left zero
 * without a word (ragged_first's). */
static int scan_pool(char *const *paths, const struct row_spec *s, const struct pool_task *t,
		     int quiet, struct ragged_dims **dims)
{
	struct scan sc = { .paths = paths, .spec = s, .first = t->first, .quiet = quiet };
	size_t len = (t->count ? t->count : 1) * sizeof(struct ragged_dims);
	struct pool_task task = *t;
	struct pool_result res;
	int r;

	sc.dims = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sc.dims == MAP_FAILED)
		return error_errno("mmap");
	task.setup = scan_setup;
	task.run = scan_one;
	task.name = scan_name;
	task.open = scan_open;
	task.range = NULL;
	task.orphaned = NULL;
	task.progress = NULL;
	task.ctx = &sc;
	r = stream_pool_run(&task, &res);
	free(sc.file.p);	/* the parent's is unused; a worker's dies with it */
	*dims = NULL;
	if (r == 0 && !(*dims = malloc(len)))
		r = error("out of memory");
	if (r == 0)
		memcpy(*dims, sc.dims, t->count * sizeof(struct ragged_dims));
	munmap(sc.dims, len);
	return r;
}

int ragged_scan(char *const *paths, const struct row_spec *s, const struct pool_task *t,
		struct ragged_dims **dims)
{
	return scan_pool(paths, s, t, 0, dims);
}

static int dims_zero(const struct ragged_dims *d)
{
	return d->w == 0 && d->h == 0 && d->c == 0;
}

/*
 * One worker probes the files from the first, in batches of 1, 4, 16, ...
 * up to 256 (a long run of bad files at the start costs a pool per batch,
 * not per file), until one probes.
 */
int ragged_first(char *const *paths, size_t n, const struct row_spec *s,
		 const struct pool_task *t, size_t *first, struct ragged_dims *d)
{
	struct pool_task task = *t;
	struct ragged_dims *dims;
	size_t i, k, batch = 1;

	task.jobs = 1;
	for (i = 0; i < n; i += task.count, batch = batch < 256 ? batch * 4 : 256) {
		task.first = i;
		task.count = n - i < batch ? n - i : batch;
		if (scan_pool(paths, s, &task, t->keep_going, &dims) < 0)
			return -1;
		for (k = 0; k < task.count && dims_zero(&dims[k]); k++)
			;
		if (k < task.count) {
			*first = i + k;
			*d = dims[k];
			free(dims);
			if (!ragged_dims_ok(d, s->max_pixels))
				return error("%s: bad header-pass result %dx%d x %d", paths[i + k],
					     d->w, d->h, d->c);
			return 0;
		}
		free(dims);
	}
	return 1;
}

/*
 * Every file's header, probed in a pool run as T says (jobs, schedule,
 * confine; its range is ours: the whole list, so that every shard counts
 * the same), its stored channels counted into COUNTS[1..4]. A file that
 * fails is passed over without a word, -k or not: the decode reports it,
 * or the shard that holds it does (a bad file fails its own shard, not
 * every shard).
 */
int ragged_count_channels(char *const *paths, size_t n, const struct row_spec *s,
			  const struct pool_task *t, size_t counts[5])
{
	struct pool_task task = *t;
	struct ragged_dims *dims;
	size_t i;

	memset(counts, 0, 5 * sizeof(*counts));
	task.first = 0;
	task.count = n;
	task.keep_going = 1;
	if (scan_pool(paths, s, &task, 1, &dims) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (dims_zero(&dims[i]))
			continue;
		if (!ragged_dims_ok(&dims[i], s->max_pixels)) {
			error("%s: bad header-pass result %dx%d x %d", paths[i], dims[i].w,
			      dims[i].h, dims[i].c);
			free(dims);
			return -1;
		}
		counts[dims[i].c]++;
	}
	free(dims);
	return 0;
}

int ragged_decode(const struct row_spec *s, const struct ragged_dims *d, const int64_t *idx,
		  const unsigned char *data, size_t len, void *row, struct row_scratch *scratch,
		  char *why, size_t whylen)
{
	struct row_spec one = *s;
	struct codec_info info;
	int w, h;

	if (codec_probe(data, len, s->max_pixels, &info, why, whylen) < 0)
		return -1;
	row_image_size(s, &info, &w, &h);
	if (w != d->w || h != d->h || info.channels != d->c) {
		snprintf(why, whylen, "changed while loading: %dx%d x %d, the header pass read "
			 "%dx%d x %d", w, h, info.channels, d->w, d->h, d->c);
		return -1;
	}
	one.w = (uint32_t)idx[RAGGED_W];
	one.h = (uint32_t)idx[RAGGED_H];
	one.channels = (int)idx[RAGGED_C];
	/* A stretch to the planned size is torchvision's Resize(S): it asks
	 * Pillow for exactly that size. */
	one.resize = one.w != (uint32_t)d->w || one.h != (uint32_t)d->h;
	one.fit = RESIZE_STRETCH;
	one.size_from = NULL;
	return row_decode(&one, data, len, row, scratch, why, whylen);
}

int ragged_write_index(const int64_t *index, size_t n, const char *path, struct outfile *o)
{
	return npy_write_i8(index, n, RAGGED_COLS, path, o);
}

char *ragged_index_path(const char *out)
{
	return split_path(out, "index");
}

int ragged_read_index(const char *path, int64_t **index, size_t *n, char *why, size_t whylen)
{
	struct npy_header h;
	struct buf b = { 0 };
	char descr[8];

	*index = NULL;
	if (input_read(path, &b, why, whylen) < 0)
		return -1;
	npy_native_descr(descr, "i8");
	if (npy_parse_header(b.p, b.len, &h, why, whylen) < 0)
		goto fail;
	if (strcmp(h.descr, descr) != 0 || h.ndim != 2 || h.shape[1] != RAGGED_COLS ||
	    h.shape[0] > (SIZE_MAX - h.header_len) / (RAGGED_COLS * sizeof(int64_t)) ||
	    b.len != h.header_len + h.shape[0] * RAGGED_COLS * sizeof(int64_t)) {
		snprintf(why, whylen, "not a ragged index (an (N, 4) int64 array)");
		goto fail;
	}
	*n = (size_t)h.shape[0];
	if (!(*index = malloc(*n ? *n * RAGGED_COLS * sizeof(int64_t) : 1))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	memcpy(*index, b.p + h.header_len, *n * RAGGED_COLS * sizeof(int64_t));
	free(b.p);
	return 0;
fail:
	free(b.p);
	return -1;
}

int ragged_check_index(const int64_t *index, size_t n, uint64_t samples, char *why,
		       size_t whylen)
{
	uint64_t end = 0, size;
	size_t i;

	for (i = 0; i < n; i++) {
		const int64_t *r = index + i * RAGGED_COLS;

		if (r[RAGGED_H] < 0 || r[RAGGED_H] > MAX_OUT_SIDE || r[RAGGED_W] < 0 ||
		    r[RAGGED_W] > MAX_OUT_SIDE || r[RAGGED_C] < 0 || r[RAGGED_C] > 4 ||
		    (r[RAGGED_H] == 0) != (r[RAGGED_W] == 0)) {
			snprintf(why, whylen, "row %zu: bad shape %lld x %lld x %lld", i,
				 (long long)r[RAGGED_H], (long long)r[RAGGED_W],
				 (long long)r[RAGGED_C]);
			return -1;
		}
		size = (uint64_t)r[RAGGED_H] * (uint64_t)r[RAGGED_W] * (uint64_t)r[RAGGED_C];
		if (r[RAGGED_OFF] < 0 || (uint64_t)r[RAGGED_OFF] < end ||
		    (uint64_t)r[RAGGED_OFF] > samples || size > samples - (uint64_t)r[RAGGED_OFF]) {
			snprintf(why, whylen, "row %zu: offset %lld out of order or past the "
				 "array's %llu samples", i, (long long)r[RAGGED_OFF],
				 (unsigned long long)samples);
			return -1;
		}
		end = (uint64_t)r[RAGGED_OFF] + size;
	}
	return 0;
}
