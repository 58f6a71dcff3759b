/* check_pixels.c - "parimg check"'s pixel duplicates: files whose decoded
 * samples are the same though their bytes differ (one image as PNG and as
 * BMP, or re-saved with other metadata). The workers hash each image's
 * samples (XXH3-128); files whose hash, size and shape agree are
 * candidates, and a second pass of workers, confined as the first, decodes
 * only the candidates into a shared mapping, where the parent sorts them
 * by their samples and groups the equal ones: a hash anyone can make
 * collide decides nothing alone. The mapping holds at most CONFIRM_BYTES
 * at a time: a longer run is confirmed in parts, each with the run's first
 * file decoded again, so that equal files in two parts that are not equal
 * to the first (only where hashes were made to collide) form two groups. */
#define _GNU_SOURCE
#include "cmd/check.h"
#include "inputs/input.h"
#include "codec/codec.h"
#include "engine/pool.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CONFIRM_BYTES ((size_t)256 << 20)

struct pixkey {
	uint64_t hash[2];	/* of the samples, with the shape mixed in */
	uint64_t size;		/* bytes of samples */
	size_t index;
};

/* One confirming pass: NITEMS files (ITEM), each decoded by a worker to
 * OFF[j] in the shared MAP, DONE[j] set when its samples are there. */
struct confirm {
	struct check *k;
	const size_t *item;
	size_t nitems;
	uint64_t *off;
	unsigned char *map;	/* shared: the samples, then a done flag a file */
	size_t map_len;
	struct buf file;	/* a worker's */
};

void check_decoded_as(const struct check *k, const struct check_rec *r, int *c, int *depth16)
{
	*c = k->slots ? k->spec.channels : r->channels;
	*depth16 = k->slots ? 0 : (r->flags & F_16BIT) != 0;
}

static uint64_t sample_bytes(const struct check *k, const struct check_rec *r)
{
	int c, d16;

	check_decoded_as(k, r, &c, &d16);
	return (uint64_t)r->w * (uint64_t)r->h * (uint64_t)c * (d16 ? 2 : 1);
}

static int cmp_key(const void *pa, const void *pb)
{
	const struct pixkey *a = pa, *b = pb;

	if (a->hash[0] != b->hash[0])
		return a->hash[0] < b->hash[0] ? -1 : 1;
	if (a->hash[1] != b->hash[1])
		return a->hash[1] < b->hash[1] ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

static int same_key(const struct pixkey *a, const struct pixkey *b)
{
	return a->hash[0] == b->hash[0] && a->hash[1] == b->hash[1] && a->size == b->size;
}

static const char *confirm_name(void *ctx, size_t j)
{
	struct confirm *cf = ctx;

	return cf->k->files.paths[cf->item[j]];
}

static int confirm_open(void *ctx, size_t j)
{
	return input_open(confirm_name(ctx, j));
}

static void confirm_setup(void *ctx)
{
	check_worker_setup(((struct confirm *)ctx)->k);
}

/* In a worker: decode item J as the first pass did, into its place in the
 * mapping if it has the size the parent expects. A file that fails now
 * (changed since, or a decoder that is not deterministic) is simply not
 * confirmed. */
static int confirm_one(void *ctx, size_t j, char *why, size_t whylen)
{
	struct confirm *cf = ctx;
	struct check *k = cf->k;
	const struct check_rec *r = &k->recs[cf->item[j]];
	uint64_t want = cf->off[j + 1] - cf->off[j];
	struct codec_info info;
	int c, d16;

	check_decoded_as(k, r, &c, &d16);
	if (input_read_item(j, confirm_name(ctx, j), &cf->file, why, whylen) < 0 ||
	    codec_probe(cf->file.p, cf->file.len, k->spec.max_pixels, &info, why, whylen) < 0 ||
	    (uint64_t)info.w * (uint64_t)info.h * (uint64_t)c * (d16 ? 2 : 1) != want)
		return 0;
	if (codec_decode(cf->file.p, cf->file.len, &info, c, d16, cf->map + cf->off[j], why,
			 whylen) < 0)
		return 0;
	__atomic_store_n(&cf->map[cf->off[cf->nitems] + j], 1, __ATOMIC_RELEASE);
	return 0;
}

/* qsort_r's order of two items' samples (of one size: one run's). */
static int cmp_samples(const void *pa, const void *pb, void *ctx)
{
	const struct confirm *cf = ctx;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = memcmp(cf->map + cf->off[a], cf->map + cf->off[b], cf->off[a + 1] - cf->off[a]);

	return c ? c : (a > b) - (a < b);
}

/* Decode CF's items in the pool, sort those decoded by their samples and
 * join the runs of equal ones: ROOT[row] gets each such run's first row
 * (n log n compares, whatever collides). 0, or -1. */
static int confirm_part(struct confirm *cf, unsigned jobs, int confine, size_t *pos,
			size_t *root)
{
	struct pool_result res;
	struct pool_task task;
	size_t j, e, q, npos = 0, total = cf->off[cf->nitems];
	const unsigned char *done;

	cf->map_len = total + cf->nitems;
	cf->map = mmap(NULL, cf->map_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (cf->map == MAP_FAILED)
		return error_errno("mmap");
	task = (struct pool_task){
		.count = cf->nitems, .jobs = jobs < cf->nitems ? jobs : (unsigned)cf->nitems,
		.schedule = POOL_DYNAMIC, .keep_going = 1, .run = confirm_one,
		.name = confirm_name, .open = confirm_open, .ctx = cf, .confine = confine,
		.confine_fd = -1, .setup = confirm_setup,
	};
	if (pool_run(&task, &res) < 0) {
		munmap(cf->map, cf->map_len);
		return -1;
	}
	done = cf->map + total;
	for (j = 0; j < cf->nitems; j++)
		if (__atomic_load_n(&done[j], __ATOMIC_ACQUIRE))
			pos[npos++] = j;
	qsort_r(pos, npos, sizeof(*pos), cmp_samples, cf);
	for (j = 0; j < npos; j = e) {
		size_t low = cf->item[pos[j]];

		for (e = j + 1; e < npos && memcmp(cf->map + cf->off[pos[j]], cf->map + cf->off[pos[e]],
			    cf->off[pos[j] + 1] - cf->off[pos[j]]) == 0; e++)
			;
		if (e - j < 2)
			continue;
		for (q = j; q < e; q++)
			low = cf->item[pos[q]] < low ? cf->item[pos[q]] : low;
		for (q = j; q < e; q++)
			root[cf->item[pos[q]]] = low;
	}
	munmap(cf->map, cf->map_len);
	return 0;
}

/* Number the groups by their first file, in row order, leaving out a
 * group whose files are all one byte-duplicate group (the same bytes are
 * the same pixels: nothing to add). */
static void number_groups(struct check *k, size_t *root)
{
	struct check_summary *s = &k->sum;
	size_t i, n = k->files.n, *num = calloc(n + 1, sizeof(*num));
	unsigned char *differs = calloc(n + 1, 1);

	if (!num || !differs)
		die("out of memory");
	for (i = 0; i < n; i++)
		if (root[i] != SIZE_MAX && root[i] != i &&
		    (k->no_dups || !s->group[i] || s->group[i] != s->group[root[i]]))
			differs[root[i]] = 1;
	for (i = 0; i < n; i++) {
		size_t r = root[i];

		if (r == SIZE_MAX || !differs[r])
			continue;
		if (r == i)
			num[i] = ++s->pix_ngroups;
		s->pix_group[i] = num[r];
	}
	free(num);
	free(differs);
}

int check_pixels_find(struct check *k, unsigned jobs, int confine)
{
	struct check_summary *s = &k->sum;
	size_t n = k->files.n, m = 0, i, a, b, *root, *item;
	struct pixkey *keys = malloc((n + 1) * sizeof(*keys));
	struct confirm cf = { .k = k };
	size_t *pos;
	int rc = 0;

	s->pix_group = calloc(n + 1, sizeof(*s->pix_group));
	root = malloc((n + 1) * sizeof(*root));
	item = malloc((n + 1) * sizeof(*item));
	pos = malloc((n + 1) * sizeof(*pos));
	cf.off = malloc((n + 2) * sizeof(*cf.off));
	if (!keys || !s->pix_group || !root || !item || !pos || !cf.off)
		die("out of memory");
	for (i = 0; i < n; i++) {
		const struct check_rec *r = &k->recs[i];

		root[i] = SIZE_MAX;
		if (k->reasons[i] || !(r->flags & F_PIXHASHED))
			continue;
		/* The shape is part of the key: 2x3 and 3x2 may hold the
		 * same bytes. */
		keys[m].hash[0] = r->pixhash[0] ^ ((uint64_t)(uint32_t)r->w << 32 | (uint32_t)r->h);
		keys[m].hash[1] = r->pixhash[1];
		keys[m].size = sample_bytes(k, r);
		keys[m++].index = i;
	}
	qsort(keys, m, sizeof(*keys), cmp_key);
	cf.item = item;
	/* Runs of equal keys (each run's first is its lowest row), in parts
	 * of at most CONFIRM_BYTES: a part holds its run's first file and at
	 * least one other. ROOT[i] becomes the row of i's group's first. */
	for (a = 0; a < m && rc == 0; a = b) {
		size_t j, part;

		for (b = a + 1; b < m && same_key(&keys[a], &keys[b]); b++)
			;
		for (j = a + 1; j < b && rc == 0;) {
			part = 0;
			cf.off[0] = 0;
			item[part] = keys[a].index;
			cf.off[++part] = keys[a].size;
			do {
				item[part] = keys[j++].index;
				cf.off[part + 1] = cf.off[part] + keys[j - 1].size;
				part++;
			} while (j < b && cf.off[part] + keys[j].size <= CONFIRM_BYTES);
			cf.nitems = part;
			if ((rc = confirm_part(&cf, jobs, confine, pos, root)) < 0)
				break;
		}
	}
	if (rc == 0)
		number_groups(k, root);
	free(keys);
	free(root);
	free(item);
	free(pos);
	free(cf.off);
	free(cf.file.p);
	return rc;
}

void check_pixels_free(struct check *k)
{
	free(k->sum.pix_group);
}

/* Group G's files, in row order. */
static void print_members(const struct check *k, size_t g, int json)
{
	size_t i;
	int first = 1;

	for (i = 0; i < k->files.n; i++) {
		if (k->sum.pix_group[i] != g)
			continue;
		if (json) {
			printf("%s", first ? "" : ",");
			check_json_str(k->files.paths[i]);
		} else {
			printf("  %s\n", check_printable(k->files.paths[i]));
		}
		first = 0;
	}
}

static int cross_class(const struct check *k, size_t g)
{
	size_t i;
	int64_t label = -1;

	if (!k->labels)
		return 0;
	for (i = 0; i < k->files.n; i++) {
		if (k->sum.pix_group[i] != g)
			continue;
		if (label >= 0 && k->ds.labels[i] != label)
			return 1;
		label = k->ds.labels[i];
	}
	return 0;
}

void check_pixels_table(const struct check *k)
{
	size_t g;

	printf("\npixel duplicates (the same decoded samples, other bytes): %zu group%s\n",
	       k->sum.pix_ngroups, k->sum.pix_ngroups == 1 ? "" : "s");
	for (g = 1; g <= k->sum.pix_ngroups; g++) {
		printf("pixel group %zu%s:\n", g, cross_class(k, g) ? " (across classes)" : "");
		print_members(k, g, 0);
	}
}

void check_pixels_json(const struct check *k)
{
	size_t g;

	if (k->no_dups) {
		printf("null");
		return;
	}
	putchar('[');
	for (g = 1; g <= k->sum.pix_ngroups; g++) {
		printf("%s{\"cross_class\":%s,\"paths\":[", g > 1 ? "," : "",
		       cross_class(k, g) ? "true" : "false");
		print_members(k, g, 1);
		printf("]}");
	}
	putchar(']');
}
