/* convert_run.c - what "parimg convert" does once its rows are named
 * (convert.c). The rows go through the pool in batches. For each batch the
 * parent maps an arena shared with that pool's workers; a worker reads its
 * file (handed over, confined as load's), decodes, resizes and encodes it
 * and leaves the bytes in the arena with their place in the row's slot, or
 * says to copy the file as it is. Once the pool is done the parent checks
 * each slot and writes the rows in order: one file each in the tree, or
 * samples of the current webdataset shard, each file and shard under a
 * temporary name renamed when whole. Workers never create a file. */
#define _GNU_SOURCE
#include "cmd/convert.h"
#include "cmd/opt.h"
#include "cmd/ragged.h"
#include "inputs/arch.h"
#include "inputs/input.h"
#include "image/row.h"
#include "codec/codec.h"
#include "codec/save.h"
#include "engine/limit.h"
#include "engine/pool.h"
#include "engine/progress.h"
#include "common/err.h"
#include "common/outfile.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA_MAX (1ULL << 44)	/* a batch's address space, at most */

/* ---------------------------------------------------------------- workers */

static const char *row_name(void *ctx, size_t i)
{
	return ((struct conv *)ctx)->files.paths[i];
}

static int row_open(void *ctx, size_t i)
{
	return input_open(row_name(ctx, i));
}

/* The pool's kept hook: an archive member read from what the confined
 * workers keep (arch_keep_fds), with no descriptor handed over. */
static int row_kept(void *ctx, size_t i)
{
	return arch_member_kept(row_name(ctx, i));
}

static void conv_setup(void *ctx)
{
	limit_worker_memory(((struct conv *)ctx)->spec.max_pixels);
}

/* The quality a row's format is written at: --quality, or Pillow's
 * default for the format. */
static int quality_of(const struct conv *c, enum save_format f)
{
	return c->save.quality >= 0 ? c->save.quality : f == SAVE_JPEG ? 75 : 80;
}

/*
 * In a worker: row I's file to its slot of the batch. Its size after the
 * row options is load's (--resize WxH with --fit; else --ragged's
 * shorter-side and --max-side sizes), its channels -c's or its own (as
 * save_channels has the format store them). Under --format same a row
 * whose image nothing changes is copied by the parent, not encoded.
 */
static int convert_one(void *ctx, size_t i, char *why, size_t whylen)
{
	struct conv *c = ctx;
	struct conv_slot *s = &c->slots[i - c->b0];
	struct save_opts so = { (enum save_format)c->fmt[i], quality_of(c, c->fmt[i]),
				c->save.lossless, NULL, 0 };
	struct row_spec one = c->spec;
	struct codec_info info;
	uint32_t ow, oh;
	int w, h, ch, turn;
	uint64_t off, len;
	void *pix;

	if (c->done[i])
		return input_skip_item(i);
	if (input_read_item(i, c->files.paths[i], &c->file, why, whylen) < 0 ||
	    codec_probe(c->file.p, c->file.len, c->spec.max_pixels, &info, why, whylen) < 0)
		return -1;
	row_image_size(&c->spec, &info, &w, &h);
	s->w = w;
	s->h = h;
	if (c->pass_all) {
		s->state = CONV_PASS;
		return 0;
	}
	if (c->spec.resize) {
		ow = c->spec.w;
		oh = c->spec.h;
	} else if (ragged_geometry(&c->spec, (uint32_t)w, (uint32_t)h, &ow, &oh) < 0) {
		return snprintf(why, whylen, "cannot resize %dx%d: the size is out of range", w,
				h), -1;
	}
	ch = c->spec.channels ? c->spec.channels : info.channels;
	turn = c->spec.exif_transpose && !info.oriented && info.orientation > 1;
	if (c->keep[i] && ow == (uint32_t)w && oh == (uint32_t)h && !turn && ch == info.channels) {
		s->state = CONV_PASS;
		return 0;
	}
	ch = save_channels(so.format, ch);
	/* Pillow's save() writes the comment its JPEG reader kept (a source
	 * that is no JPEG has none). */
	if (so.format == SAVE_JPEG &&
	    !save_jpeg_comment(c->file.p, c->file.len, &so.comment, &so.comment_len))
		so.comment = NULL;
	if (!c->spec.resize) {
		one.w = ow;
		one.h = oh;
		one.resize = ow != (uint32_t)w || oh != (uint32_t)h;
		one.fit = RESIZE_STRETCH;
	}
	one.channels = ch;
	one.ragged = 0;
	one.size_from = NULL;
	if (!(pix = buf_grow(&c->pix, (size_t)ow * oh * (size_t)ch)))
		return snprintf(why, whylen, "out of memory"), -1;
	if (row_decode(&one, c->file.p, c->file.len, pix, &c->scratch, why, whylen) < 0 ||
	    save_encode(&so, pix, (int)ow, (int)oh, ch, &c->enc, why, whylen) < 0)
		return -1;
	len = c->enc.len;
	if (len > c->bound)
		return snprintf(why, whylen, "encoded image of %llu bytes is over the %llu "
				"planned", (unsigned long long)len, (unsigned long long)c->bound), -1;
	off = __atomic_fetch_add(c->used, (len + 7) & ~7ULL, __ATOMIC_RELAXED);
	if (off + len > c->arena_len)
		return snprintf(why, whylen, "the batch's buffer is full"), -1;
	memcpy(c->arena + off, c->enc.p, len);
	s->off = off;
	s->len = len;
	s->state = CONV_ENCODED;
	return 0;
}

/* ---------------------------------------------------------------- the tree */

struct writer {
	struct conv *c;
	int force;
	char *lastdir;			/* tree: the folder last made */
	struct buf copy;		/* a passthrough's bytes */
	size_t skipped, written;
	/* Shards: */
	int part;			/* the part being written */
	int64_t k;			/* its current shard's number; -1 before */
	int open, exists;		/* a shard is open; or it is there (--resume) */
	struct outfile o;
	struct archive *a;
	char *name;
	uint64_t count, bytes;		/* its samples and tar bytes so far */
	uint64_t next[SPLIT_MAX];	/* --shard-bytes: the next shard's number */
	uint64_t end[SPLIT_MAX];	/* each part's shards written: 0 to end - 1 */
	int width;			/* of the keys */
};

/* Make the folder of output PATH (once for a run of rows in one folder). */
static int make_dir_of(struct writer *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int created;

	if (!slash)
		return 0;
	if (w->lastdir && strlen(w->lastdir) == (size_t)(slash - path) &&
	    strncmp(w->lastdir, path, (size_t)(slash - path)) == 0)
		return 0;
	if (!(dir = strndup(path, (size_t)(slash - path))))
		return error("out of memory");
	if (outfile_mkdirs(dir, &created) < 0) {
		free(dir);
		return -1;
	}
	free(w->lastdir);
	w->lastdir = dir;
	return 0;
}

/* One file of the tree, whole or not at all. */
static int write_file(struct writer *w, const char *path, const void *p, size_t len)
{
	struct outfile o;

	if (make_dir_of(w, path) < 0 || outfile_open(&o, path) < 0)
		return -1;
	if (outfile_write(&o, p, len) < 0) {
		outfile_abort(&o);
		return -1;
	}
	return outfile_commit(&o, w->force);
}

/* ---------------------------------------------------------------- shards */

static char *shard_name(const struct conv *c, int part, uint64_t k)
{
	char *s = convert_shard_name(c->shards, c->split.n ? c->split.name[part] : NULL, k);

	if (!s)
		die("out of memory");
	return s;
}

/* Close the open shard: its end blocks, then the rename. */
static int close_shard(struct writer *w)
{
	int r = 0;

	if (!w->open)
		return 0;
	w->open = 0;
	if (w->exists) {
		w->exists = 0;
		goto out;
	}
	if (archive_write_close(w->a) != ARCHIVE_OK) {
		r = error("%s: %s", w->name, archive_error_string(w->a));
		outfile_abort(&w->o);
	}
	archive_write_free(w->a);
	w->a = NULL;
	if (r == 0)
		r = outfile_commit(&w->o, w->force);
out:
	free(w->name);
	w->name = NULL;
	return r;
}

/* Open shard K of the current part: a tar (ustar, 512-byte blocks, no
 * padding past the end blocks) into a temporary file; or, with --resume
 * and the shard there, nothing (its rows were marked done). */
static int open_shard(struct writer *w, uint64_t k)
{
	struct conv *c = w->c;

	w->name = shard_name(c, w->part, k);
	w->open = 1;
	w->k = (int64_t)k;
	w->count = 0;
	w->bytes = 1024;
	if (c->resume && outfile_exists(w->name)) {
		w->exists = 1;
		return 0;
	}
	if (make_dir_of(w, w->name) < 0 || outfile_open(&w->o, w->name) < 0)
		return -1;
	if (!(w->a = archive_write_new()) || archive_write_set_format_ustar(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 0) != ARCHIVE_OK ||
	    archive_write_open_fd(w->a, w->o.fd) != ARCHIVE_OK) {
		error("%s: %s", w->name, w->a ? archive_error_string(w->a) : "out of memory");
		outfile_abort(&w->o);
		return -1;
	}
	return 0;
}

/* The tar bytes of a member of LEN bytes: its header and its blocks. */
static uint64_t member_bytes(uint64_t len)
{
	return 512 + ((len + 511) & ~511ULL);
}

static int add_member(struct writer *w, const char *name, const void *p, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return error("out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, 0, 0);
	if (archive_write_header(w->a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(w->a, p, len) != (la_ssize_t)len))
		r = error("%s: %s", w->name, archive_error_string(w->a));
	archive_entry_free(e);
	w->bytes += member_bytes(len);
	return r;
}

/* S into OUT as a JSON string's body (quotes and controls escaped). */
static void json_str(struct buf *out, const char *s)
{
	char esc[8];

	for (; *s; s++) {
		const char *add = s;
		size_t n = 1;

		if (*s == '"' || *s == '\\') {
			snprintf(esc, sizeof(esc), "\\%c", *s);
			add = esc, n = 2;
		} else if ((unsigned char)*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
			add = esc, n = 6;
		}
		if (buf_reserve(out, n) == 0) {
			memcpy(out->p + out->len, add, n);
			out->len += n;
		}
	}
}

/* Append S to OUT as it is (out of memory: a shorter KEY.json, which
 * cannot happen in practice; the tar's own writes report real failures). */
static void raw(struct buf *out, const char *s)
{
	size_t n = strlen(s);

	if (buf_reserve(out, n) == 0) {
		memcpy(out->p + out->len, s, n);
		out->len += n;
	}
}

/* Shards of the parts before P are all written; P's begin. */
static int finish_part(struct writer *w);

static int to_part(struct writer *w, int p)
{
	while (w->part < p) {
		if (finish_part(w) < 0)
			return -1;
		w->part++;
		w->k = -1;
	}
	return 0;
}

/* --shard-size: every shard of the part up to K opened in turn (those
 * whose rows all failed written empty), K left open. */
static int to_shard(struct writer *w, uint64_t k)
{
	while (w->k < (int64_t)k) {
		if (close_shard(w) < 0 || open_shard(w, (uint64_t)(w->k + 1)) < 0)
			return -1;
	}
	return 0;
}

static int finish_part(struct writer *w)
{
	struct conv *c = w->c;
	size_t n = c->part_start[w->part + 1] - c->part_start[w->part];

	if (c->shard_size && n && to_shard(w, (n - 1) / c->shard_size) < 0)
		return -1;
	w->end[w->part] = (uint64_t)(w->k + 1);
	return close_shard(w);
}

/*
 * After a whole run with -f: the shards an earlier, longer run left past
 * this one's last (numbered on from it, while they are there) are removed,
 * so that a glob of the pattern reads this run's samples only. 0, or -1
 * after a message.
 */
static int remove_stale_shards(struct writer *w)
{
	struct conv *c = w->c;
	size_t removed = 0;
	uint64_t k;
	int p;

	for (p = 0; p < c->nparts; p++) {
		for (k = w->end[p];; k++) {
			char *name = shard_name(c, p, k);

			if (!outfile_exists(name)) {
				free(name);
				break;
			}
			if (unlink(name) < 0) {
				error("%s: %s", name, strerror(errno));
				free(name);
				return -1;
			}
			free(name);
			removed++;
		}
	}
	if (removed)
		warnx("%s: removed %zu shard%s an earlier run left past this run's last (-f)",
		      c->shards, removed, removed == 1 ? "" : "s");
	return 0;
}

/* Row I (of part P, its row R there) as a sample: KEY.EXT, KEY.cls with
 * labels, KEY.json with --json. */
static int write_sample(struct writer *w, size_t i, const void *p, size_t len)
{
	struct conv *c = w->c;
	const struct conv_slot *s = &c->slots[i - c->b0];
	int part = 0;
	size_t r;
	char key[32], name[64], cls[32];
	struct buf js = { 0 };
	uint64_t need;
	int e = 0;

	while (part + 1 < c->nparts && i >= c->part_start[part + 1])
		part++;
	if (to_part(w, part) < 0)
		return -1;
	r = i - c->part_start[part];
	snprintf(key, sizeof(key), "%0*zu", w->width, r);
	if (c->labels)
		snprintf(cls, sizeof(cls), "%lld", (long long)c->ds.labels[i]);
	if (c->json) {
		char head[256];

		snprintf(head, sizeof(head), "{\"key\": \"%s\", \"source\": \"", key);
		raw(&js, head);
		json_str(&js, c->files.paths[i]);
		snprintf(head, sizeof(head), "\", \"width\": %d, \"height\": %d", s->w, s->h);
		raw(&js, head);
		if (c->labels) {
			snprintf(head, sizeof(head), ", \"label\": %s, \"class\": \"", cls);
			raw(&js, head);
			json_str(&js, c->ds.classes[c->ds.labels[i]]);
			raw(&js, "\"");
		}
		raw(&js, "}\n");
	}
	need = member_bytes(len) + (c->labels ? member_bytes(strlen(cls)) : 0) +
	       (c->json ? member_bytes(js.len) : 0);
	if (c->shard_size) {
		e = to_shard(w, r / c->shard_size);
	} else if (!w->open) {
		e = open_shard(w, w->next[part]++);
	} else if (w->count && w->bytes + need > c->shard_bytes) {
		e = close_shard(w) < 0 || open_shard(w, w->next[part]++) < 0 ? -1 : 0;
	}
	if (e == 0 && w->exists)
		e = error("%s: there with --resume, but row %zu of it was not", w->name, r);
	snprintf(name, sizeof(name), "%s.%s", key, c->names[i]);
	if (e == 0)
		e = add_member(w, name, p, len);
	snprintf(name, sizeof(name), "%s.cls", key);
	if (e == 0 && c->labels)
		e = add_member(w, name, cls, strlen(cls));
	snprintf(name, sizeof(name), "%s.json", key);
	if (e == 0 && c->json)
		e = add_member(w, name, js.p, js.len);
	free(js.p);
	w->count++;
	return e;
}

/* Read the keys of shard NAME: the largest into *LAST (-1: none). */
static int shard_last_key(const char *name, int64_t *last)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r;

	*last = -1;
	if (!a)
		return error("out of memory");
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, name, 65536) != ARCHIVE_OK) {
		r = error("%s: %s", name, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		char *end;
		long long k = strtoll(p, &end, 10);

		if (*end == '.' && k > *last)
			*last = k;
	}
	if (r != ARCHIVE_EOF)
		r = error("%s: %s", name, archive_error_string(a));
	else
		r = 0;
	archive_read_free(a);
	return r;
}

/*
 * Before the pool: shards that exist are refused without -f; under
 * --resume their rows are marked done (--shard-size: the rows of shard k;
 * --shard-bytes: the shards there in turn, up to the largest key found,
 * the next shard then numbered after them). 0, or -1 after a message.
 */
static int check_shards(struct conv *c, struct writer *w, int force)
{
	int p;

	for (p = 0; p < c->nparts; p++) {
		size_t n = c->part_start[p + 1] - c->part_start[p], r;
		uint64_t k, nshards = c->shard_size ? (n + c->shard_size - 1) / c->shard_size : n + 1;

		for (k = 0; k < nshards; k++) {
			char *name = shard_name(c, p, k);
			int64_t last;

			if (!outfile_exists(name)) {
				free(name);
				if (c->shard_bytes)
					break;
				continue;
			}
			if (!c->resume && !force) {
				error("%s: file exists (use -f to replace it, or --resume to keep it "
				      "and go on)", name);
				free(name);
				return -1;
			}
			if (!c->resume) {
				free(name);
				continue;
			}
			if (c->shard_size) {
				for (r = k * c->shard_size; r < n && r < (k + 1) * c->shard_size; r++)
					c->done[c->part_start[p] + r] = 1;
			} else {
				if (shard_last_key(name, &last) < 0) {
					free(name);
					return -1;
				}
				for (r = 0; r < n && (int64_t)r <= last; r++)
					c->done[c->part_start[p] + r] = 1;
				w->next[p] = k + 1;
			}
			free(name);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- batches */

/* The bytes an encoded row can take: of the largest image the options let
 * through, at four channels. */
static size_t row_bound(const struct conv *c)
{
	uint64_t px = c->spec.max_pixels;

	if (c->spec.resize)
		px = (uint64_t)c->spec.w * c->spec.h;
	else if (c->spec.max_side && (uint64_t)c->spec.max_side * c->spec.max_side < px)
		px = (uint64_t)c->spec.max_side * c->spec.max_side;
	if (px > (1ULL << 40))
		px = 1ULL << 40;
	return (save_bound((int)(px > (1u << 30) ? 1u << 30 : px),
			   (int)(px > (1u << 30) ? px >> 30 : 1), 4) + 7) & ~(size_t)7;
}

/* Map batch [B0, B0 + BN)'s slots and arena, shared with its pool: its
 * address space only, the pages come as the workers write. 0; 1 when the
 * kernel refuses that much address space (try fewer rows); -1 after a
 * message. */
static int map_batch(struct conv *c, size_t b0, size_t bn, void **base, size_t *len)
{
	size_t head = (64 + bn * sizeof(struct conv_slot) + 4095) & ~(size_t)4095;
	void *p;

	c->arena_len = bn * c->bound;
	*len = head + c->arena_len;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED && bn > 1)
		return 1;	/* (strict overcommit, say) a smaller batch, then */
	if (p == MAP_FAILED)
		return error_errno("mmap of %zu bytes for a batch of %zu images", *len, bn);
	*base = p;
	c->used = p;
	c->slots = (struct conv_slot *)((char *)p + 64);
	c->arena = (unsigned char *)p + head;
	c->b0 = b0;
	c->bn = bn;
	return 0;
}

struct batch_progress {
	struct progress prog;
	size_t base, total;
};

static void batch_progress(void *ctx, size_t done, size_t total, int final)
{
	struct batch_progress *b = ctx;

	(void)total;
	progress_update(&b->prog, b->base + done, b->total, final && b->base + done == b->total);
}

/* After the pool: the batch's rows written in order, each slot checked. */
static int write_batch(struct conv *c, struct writer *w)
{
	size_t i;
	char why[512];

	for (i = c->b0; i < c->b0 + c->bn; i++) {
		const struct conv_slot *s = &c->slots[i - c->b0];
		const void *p;
		size_t len;

		if (c->done[i])
			continue;
		if (s->state == CONV_ENCODED) {
			if (s->len == 0 || s->off > c->arena_len || s->len > c->arena_len - s->off)
				return error("%s: a worker's answer is out of range",
					     c->files.paths[i]);
			p = c->arena + s->off;
			len = s->len;
		} else if (s->state == CONV_PASS) {
			if (input_read(c->files.paths[i], &w->copy, why, sizeof(why)) < 0)
				return error("%s: %s", c->files.paths[i], why);
			p = w->copy.p;
			len = w->copy.len;
		} else {
			w->skipped++;	/* failed under -k, and reported */
			continue;
		}
		if ((c->shards ? write_sample(w, i, p, len) : write_file(w, c->names[i], p, len)) < 0)
			return -1;
		w->written++;
	}
	return 0;
}

int convert_run(struct conv *c, struct opt_common *o)
{
	struct writer w = { .c = c, .force = o->force, .k = -1, .width = 6 };
	struct batch_progress bp;
	size_t n = c->files.n, todo = 0, i, b0, bn, batch, maplen;
	int ok = 1, r;
	void *base = NULL;
	const char *env;
	uint64_t v;

	if ((c->confine = sandbox_resolve(c->sandbox)) < 0)
		return EXIT_FAIL;
	if (c->shards && check_shards(c, &w, o->force) < 0)
		return EXIT_FAIL;
	for (i = c->files.n; i >= 1000000; i /= 10)
		w.width++;
	for (i = 0; i < n; i++)
		todo += !c->done[i];
	c->bound = row_bound(c);
	/* Each pool costs forks and confinement (about 10 ms a worker here):
	 * 256 rows a worker keep that under 1% of the CPU, and the parent's
	 * writes between pools, which leave the workers idle, under 2%. */
	batch = (size_t)o->jobs * 256;
	if ((env = getenv("PARIMG_CONVERT_BATCH")) && opt_u64(env, 1, SIZE_MAX, &v) == 0)
		batch = (size_t)v;
	if (batch > ARENA_MAX / c->bound)
		batch = ARENA_MAX / c->bound ? ARENA_MAX / c->bound : 1;
	progress_init(&bp.prog, o->quiet, "images");
	bp.base = 0;
	bp.total = todo;
	for (b0 = 0; ok && b0 < n; b0 += bn) {
		struct pool_task task;
		struct pool_result res;
		size_t left = 0;

		bn = n - b0 < batch ? n - b0 : batch;
		for (i = b0; i < b0 + bn; i++)
			left += !c->done[i];
		if (left == 0)
			continue;
		while ((r = map_batch(c, b0, bn, &base, &maplen)) == 1)
			bn = batch = bn / 2;
		if (r < 0) {
			ok = 0;
			break;
		}
		for (left = 0, i = b0; i < b0 + bn; i++)
			left += !c->done[i];
		task = (struct pool_task){
			.first = b0, .count = bn, .jobs = o->jobs, .schedule = o->schedule,
			.keep_going = c->keep_going, .verbose = o->verbose, .run = convert_one,
			.name = row_name, .open = row_open, .ctx = c,
			.progress = batch_progress, .progress_ctx = &bp,
			.confine = c->confine, .confine_fd = -1, .setup = conv_setup,
		};
		if (c->confine && (task.keep = arch_keep_fds(&task.nkeep)))
			task.kept = row_kept;
		ok = pool_run(&task, &res) == 0 && write_batch(c, &w) == 0;
		bp.base += left;
		munmap(base, maplen);
	}
	if (ok && c->shards)
		ok = to_part(&w, c->nparts - 1) == 0 && finish_part(&w) == 0 &&
		     (!o->force || remove_stale_shards(&w) == 0);
	if (!ok) {
		if (w.open && !w.exists) {
			archive_write_free(w.a);
			outfile_abort(&w.o);
		}
		free(w.name);
	}
	free(w.lastdir);
	free(w.copy.p);
	if (!ok)
		return EXIT_FAIL;
	if (w.skipped) {
		warnx("%s: %zu of %zu images skipped", c->out ? c->out : c->shards, w.skipped, todo);
		return EXIT_SKIPPED;
	}
	return EXIT_OK;
}
