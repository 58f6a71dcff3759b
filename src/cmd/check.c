/* check.c - "parimg check": decode every image of a dataset in the pool,
 * writing no array, and report the files load would refuse, what the
 * dataset holds (formats, modes, sizes, classes) and its exact duplicates.
 * Workers write one fixed-size record per file into a MAP_SHARED array (and
 * the reasons into a shared arena); the parent checks every field before it
 * uses one, and sums them up for check_report.c to print. */
#define _GNU_SOURCE
#include "cmd/check.h"
#include "cmd/opt.h"
#include "cmd/parimg.h"
#include "inputs/arch.h"
#include "inputs/dataset.h"
#include "inputs/dedup.h"
#include "inputs/filelist.h"
#include "inputs/input.h"
#include "inputs/labels.h"
#include "inputs/neardup.h"
#include "inputs/scan.h"
#include "image/phash.h"
#include "image/resize.h"
#include "image/row.h"
#include "codec/codec.h"
#include "engine/limit.h"
#include "engine/pool.h"
#include "engine/progress.h"
#include "engine/sandbox.h"
#include "common/err.h"
#include "common/split.h"
#include "common/stats.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#define DEFAULT_MAX_PIXELS (1ULL << 28)
#define REASON_MAX 512		/* bytes of one reason kept, NUL not included */
#define ARENA_MAX (1ULL << 30)	/* the reasons' shared arena, at most */
#define MAX_SIDE (1 << 24)	/* codec_probe's limit */

static const char *const output_names[] = { "table", "csv", "json", NULL };

static const char usage_text[] =
	"usage: parimg check [options] INPUT...\n"
	"\n"
	"Decode every image, as load would, writing nothing, and report the\n"
	"files load would refuse, what the dataset holds, its exact duplicates\n"
	"and its pixel duplicates (the same decoded samples in other bytes:\n"
	"one image as PNG and BMP, or re-saved). Given several INPUTs (train/\n"
	"val/), the files of a later one in a duplicate group with a file of an\n"
	"earlier one are listed as leaks; with --split, the files of a later\n"
	"part that repeat one of an earlier part. INPUT is as load's: a\n"
	"directory (every image beneath it, hidden folders skipped), an image\n"
	"file, or - for paths on standard input, or an archive. One directory\n"
	"whose images are all in its subfolders is a class tree, reported per\n"
	"class as with --labels.\n"
	"Files are only read: check never changes, moves or deletes one.\n"
	"\n"
	"      --labels            INPUT is a class tree (a directory, found so\n"
	"                          without it, or an archive): its subdirectories\n"
	"                          are the classes, as load --labels reads them;\n"
	"                          count each class's images, flag empty and\n"
	"                          small ones (fewer than a fifth of the median\n"
	"                          class's)\n"
	"      --labels-from TABLE report TABLE's problems against INPUT's images,\n"
	"                          as load --labels-from finds them before it\n"
	"                          decodes (rows naming no image, images no row\n"
	"                          names, keys given twice, conflicting labels,\n"
	"                          each FILE:LINE, on stderr), with the report;\n"
	"                          TABLE may be ARCHIVE:MEMBER of the INPUT archive\n"
	"      --path-column COL, --label-column COL, --targets COL,...\n"
	"                          with --labels-from, as load's\n"
	"      --format table|json|csv\n"
	"                          the report: a summary table (default), JSON\n"
	"                          (see parimg(1)), or CSV with one row a file\n"
	"      --list KIND         print only paths, one a line: the broken files\n"
	"                          (broken), or, of each group, every file but\n"
	"                          the first in row order, what to drop: byte\n"
	"                          duplicates (duplicates), pixel duplicates\n"
	"                          (pixel), near-duplicates (near, with --near),\n"
	"                          the later inputs' (or --split parts') files\n"
	"                          that repeat an earlier one's (leaks), or the\n"
	"                          files --quality flags (flagged); for load\n"
	"                          --exclude\n"
	"      --list-broken       the same as --list broken\n"
	"  -0, --null              with --list: end each path with a NUL\n"
	"                          byte instead, as they are (for xargs -0)\n"
	"      --near              also group near-duplicates: images whose\n"
	"                          phash (imagehash's, bit for bit) is within\n"
	"                          --near-distance bits of another's, grouped\n"
	"                          transitively (re-encoded, resized, lightly\n"
	"                          cropped or retouched copies); costs about\n"
	"                          a resize of every image, hence opt-in\n"
	"      --near-distance T   phash bits apart, 0 to 32 (default 7)\n"
	"      --quality           also flag images as cleanvision does, by its\n"
	"                          formulas: dark and light (brightness from the\n"
	"                          channel means), blurry, low information (gray\n"
	"                          entropy), grayscale stored as colour, odd\n"
	"                          aspect ratio and odd size (against the\n"
	"                          dataset's); see parimg(1); costs about as much\n"
	"                          CPU as check itself, hence opt-in\n"
	"      --threshold NAME=V  with --quality, a flag's threshold: dark (0.22),\n"
	"                          light (0.05), blurry (0.29), low-information\n"
	"                          (0.3), odd-aspect (0.35), all 0 to 1, or\n"
	"                          odd-size (3: IQRs beyond the quartiles); may\n"
	"                          be repeated\n"
	"      --all               every analysis that is opt-in: --near and\n"
	"                          --quality (their options apply)\n"
	"      --split NAME=F,...  list as leaks what repeats across the parts\n"
	"                          load --split would cut, e.g. train=0.9,val=0.1\n"
	"                          (or 0.9,0.1): the files sorted as load sorts\n"
	"                          them (a class tree as load --labels), every\n"
	"                          INPUT together, cut in consecutive parts\n"
	"      --shuffle           with --split: the parts of load --shuffle's\n"
	"                          rows (check's own report stays in row order)\n"
	"      --seed S            the shuffle's seed, as load's (default 0)\n"
	"      --no-duplicates     skip hashing and the duplicate searches (exact\n"
	"                          and pixel)\n"
	"  -r, --recursive         accepted: check reads directories at any depth\n"
	"      --recurse-archives  archives inside archives too, as load reads them\n"
	"  -c, --channels 1|2|3|4  also report what converting to C channels, as\n"
	"                          load -c would (and without -c, with --resize:\n"
	"                          what load's own choice does), and each\n"
	"                          channel's mean, std, min and max in [0,1] (the\n"
	"                          figures load -c C --stats writes, before any\n"
	"                          resize)\n"
	"      --resize WxH        also report what load --resize would do: which\n"
	"                          images it scales up, down, crops or pads\n"
	"      --fit stretch|cover|contain\n"
	"                          --resize's geometry (default stretch)\n"
	"      --max-pixels N      count images over N pixels as broken, as load\n"
	"                          refuses them (default 268435456)\n"
	"      --sandbox auto|require|off\n"
	"                          confine the decoding workers, as load does\n"
	"                          (default auto: where the kernel can)\n"
	"  -j, --jobs N            worker processes (default: online CPUs)\n"
	"      --schedule dynamic|static\n"
	"                          hand out chunks as workers free up\n"
	"                          (default), or split files in equal ranges\n"
	"  -q, --quiet             no progress display\n"
	"  -v, --verbose           print each worker's range and time\n"
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 when no file is broken, 3 when some are (or the\n"
	"--labels-from table has problems), 1 on an error\n"
	"of check's own, 2 on a usage error.\n";

static const char *file_name(void *ctx, size_t i)
{
	return ((struct check *)ctx)->files.paths[i];
}

/* The pool's open hook: what a confined worker is handed for file I. */
static int file_open(void *ctx, size_t i)
{
	return input_open(file_name(ctx, i));
}

/* The pool's kept hook: an archive member read from what the confined
 * workers keep (arch_keep_fds), with no descriptor handed over. */
static int file_kept(void *ctx, size_t i)
{
	return arch_member_kept(file_name(ctx, i));
}

/* Index of the decoder INFO chose in format_names. */
static int format_index(const struct codec_info *info)
{
	const char *name = codec_name(info);
	int k;

	for (k = 0; k < FORMAT_OTHER; k++)
		if (strcmp(name, check_format_names[k]) == 0)
			return k;
	return FORMAT_OTHER;
}

/* In a worker: record file I as broken for reason WHY, copied into the
 * arena, then publish OUT. Returns 0: a broken file is a result, not a
 * failure of the worker. */
static int broken(struct check *k, struct check_rec *r, struct check_rec *out, const char *why)
{
	size_t len = strnlen(why, REASON_MAX);
	uint64_t off = __atomic_fetch_add(&k->arena->used, len, __ATOMIC_RELAXED);

	if (off <= k->arena_cap && len <= k->arena_cap - off) {
		memcpy(k->arena->text + off, why, len);
		out->reason_off = off;
		out->reason_len = (uint32_t)len;
	} else {
		out->reason_off = UINT64_MAX;
	}
	*r = *out;
	__atomic_store_n(&r->state, REC_BROKEN, __ATOMIC_RELEASE);
	return 0;
}

/* In each worker, before it is confined: its memory cap. */
void check_worker_setup(struct check *k)
{
	limit_worker_memory(k->spec.max_pixels);
}

/* The pool's setup hook. */
static void check_setup(void *ctx)
{
	check_worker_setup(ctx);
}

/* In a worker: Pillow's convert("L") of the image INFO decoded at PIX, C
 * channels (16-bit with DEPTH16): PIX itself when it is 8-bit gray, else
 * made in K->gray. NULL when out of memory. */
static const uint8_t *gray_of(struct check *k, const void *pix, const struct codec_info *info,
			      int c, int depth16)
{
	size_t n = (size_t)info->w * (size_t)info->h;

	if (c == 1 && !depth16)
		return pix;
	if (!buf_grow(&k->gray, n))
		return NULL;
	phash_gray(pix, n, c, depth16, k->gray.p);
	return k->gray.p;
}

/* In a worker: the perceptual hashes of the image INFO whose gray image is
 * GRAY, into OUT. 0, or -1 with the reason in WHY. */
static int hash_pixels(struct check *k, struct check_rec *out, const uint8_t *gray,
		       const struct codec_info *info, char *why, size_t whylen)
{
	if (phash_image(&k->rz, gray, info->w, info->h, &out->dhash, &out->phash) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	out->flags |= F_PHASHED;
	return 0;
}

/* In a worker: --quality's measures of the image INFO decoded at PIX (C
 * channels, 16-bit with DEPTH16: taken to 8 bits by their high byte, as
 * the gray image is) whose gray image is GRAY. 0, or -1 with WHY. */
static int measure(struct check *k, struct check_rec *out, const void *pix, const uint8_t *gray,
		   const struct codec_info *info, int c, int depth16, char *why, size_t whylen)
{
	size_t i, n = (size_t)info->w * (size_t)info->h * (size_t)c;
	uint8_t *p8;

	if (depth16) {
		if (!(p8 = buf_grow(&k->pix8, n))) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		for (i = 0; i < n; i++)
			p8[i] = (uint8_t)(((const uint16_t *)pix)[i] >> 8);
		pix = p8;
	}
	return check_quality_measure(k, out, pix, gray, info->w, info->h, c, why, whylen);
}

/* In a worker: read, hash, probe and decode file I, and record the result.
 * Only input_read, the decoders and the shared record: nothing else. */
static int check_one(void *ctx, size_t i, char *why, size_t whylen)
{
	struct check *k = ctx;
	struct check_rec *r = &k->recs[i], out = { .format = -1 };
	struct codec_info info;
	int ch, depth16;
	void *pix;

	if (input_read_item(i, k->files.paths[i], &k->file, why, whylen) < 0)
		return broken(k, r, &out, why);
	out.size = k->file.len;
	if (!k->no_dups && k->file.len) {
		XXH128_hash_t h = XXH3_128bits(k->file.p, k->file.len);

		out.hash[0] = h.low64;
		out.hash[1] = h.high64;
		out.flags |= F_HASHED;
	}
	if (codec_probe(k->file.p, k->file.len, k->spec.max_pixels, &info, why, whylen) < 0)
		return broken(k, r, &out, why);
	out.format = format_index(&info);
	out.w = info.full_w;
	out.h = info.full_h;
	out.channels = info.channels;
	out.orientation = info.orientation;
	out.flags |= (info.is16 ? F_16BIT : 0) | (info.palette ? F_PALETTE : 0) |
		     (info.cmyk ? F_CMYK : 0) | (info.animated ? F_ANIMATED : 0);
	/* With -c, decoded as load -c decodes (8-bit), for the statistics;
	 * else as stored. */
	ch = k->slots ? k->spec.channels : info.channels;
	depth16 = k->slots ? 0 : info.is16;
	pix = buf_grow(&k->pix, (size_t)info.w * (size_t)info.h * (size_t)ch * (depth16 ? 2 : 1));
	if (!pix) {
		snprintf(why, whylen, "out of memory");
		return broken(k, r, &out, why);
	}
	if (codec_decode(k->file.p, k->file.len, &info, ch, depth16, pix, why, whylen) < 0)
		return broken(k, r, &out, why);
	if (k->slots)
		chanstats_add(&k->slots[pool_worker_index()], pix, (size_t)info.w * (size_t)info.h,
			      ch, 0);
	if (!k->no_dups) {
		XXH128_hash_t h = XXH3_128bits(pix, (size_t)info.w * (size_t)info.h * (size_t)ch *
						    (depth16 ? 2 : 1));

		out.pixhash[0] = h.low64;
		out.pixhash[1] = h.high64;
		out.flags |= F_PIXHASHED;
	}
	if (k->near || k->quality) {
		const uint8_t *gray = gray_of(k, pix, &info, ch, depth16);

		if (!gray) {
			snprintf(why, whylen, "out of memory");
			return broken(k, r, &out, why);
		}
		if ((k->near && hash_pixels(k, &out, gray, &info, why, whylen) < 0) ||
		    (k->quality && measure(k, &out, pix, gray, &info, ch, depth16, why, whylen) < 0))
			return broken(k, r, &out, why);
	}
	*r = out;
	__atomic_store_n(&r->state, REC_OK, __ATOMIC_RELEASE);
	return 0;
}

/* The shared record array and reason arena, sized for the files. Pages
 * are only touched as they are written, so the arena's virtual size costs
 * nothing until files break. */
static int map_shared(struct check *k)
{
	uint64_t cap = (uint64_t)k->files.n * REASON_MAX + 65536;

	if (cap > ARENA_MAX)
		cap = ARENA_MAX;
	/* One record at least: a class tree may hold no file at all. */
	k->recs_len = (k->files.n ? k->files.n : 1) * sizeof(struct check_rec);
	k->recs = mmap(NULL, k->recs_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		       0);
	if (k->recs == MAP_FAILED) {
		k->recs = NULL;
		return error_errno("mmap");
	}
	k->arena_cap = (size_t)cap;
	k->arena_len = sizeof(struct check_arena) + k->arena_cap;
	k->arena = mmap(NULL, k->arena_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (k->arena == MAP_FAILED) {
		k->arena = NULL;
		return error_errno("mmap");
	}
	return 0;
}

/* With -c: one statistics accumulator a worker, zero, shared. */
static int map_stats(struct check *k, unsigned jobs)
{
	k->nslots = jobs;
	k->slots = mmap(NULL, (size_t)jobs * sizeof(*k->slots), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (k->slots == MAP_FAILED) {
		k->slots = NULL;
		return error_errno("mmap");
	}
	return 0;
}

/* The workers' sums, checked and added in worker order (the same figures
 * for every -j and schedule), over the images decoded. */
static int sum_stats(struct check *k)
{
	struct chanstats *cs = &k->cstats;
	uint64_t want = 0;
	unsigned w;
	size_t i;

	cs->channels = k->spec.channels;
	cs->rows = k->sum.ok;
	for (w = 0; w < k->nslots; w++)
		if (chanstats_merge(&cs->acc, &k->slots[w], cs->channels) < 0)
			return error("worker %u's statistics are out of range", w);
	for (i = 0; i < k->files.n; i++)
		if (!k->reasons[i])
			want += (uint64_t)k->recs[i].w * k->recs[i].h;
	if (cs->acc.pixels != want)
		return error("the workers' statistics count %llu pixels, not %llu",
			     (unsigned long long)cs->acc.pixels, (unsigned long long)want);
	chanstats_finish(cs);
	k->have_cstats = 1;
	return 0;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die("out of memory");
	return p;
}

/*
 * In the parent, once the workers are reaped: check record I's every field
 * before anything uses it (a worker is decoding hostile files, and what it
 * wrote is not trusted). A record that fails is made a broken file with a
 * reason saying so; so is one its worker never finished (it died on it).
 */
static void validate(struct check *k, size_t i)
{
	struct check_rec *r = &k->recs[i];
	uint32_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
	const char *bad = NULL;

	if (state == REC_PENDING)
		bad = "the decoder crashed on this file (its worker died)";
	else if (state != REC_OK && state != REC_BROKEN)
		bad = "its worker wrote an invalid record";
	else if ((r->flags & ~(uint32_t)F_ALL) || r->format < -1 || r->format >= NFORMATS ||
		 r->orientation < 0 || r->orientation > 8 || !check_quality_valid(r))
		bad = "its worker wrote an invalid record";
	else if (state == REC_OK && (r->format < 0 || r->w <= 0 || r->h <= 0 || r->w > MAX_SIDE ||
				     r->h > MAX_SIDE || r->channels < 1 || r->channels > 4))
		bad = "its worker wrote an invalid record";
	if (bad) {
		memset(r, 0, sizeof(*r));
		r->state = REC_BROKEN;
		r->format = -1;
		k->reasons[i] = xstrdup(bad);
		return;
	}
	if (state == REC_OK)
		return;
	if (r->reason_off == UINT64_MAX) {
		k->reasons[i] = xstrdup("(the reason was not kept: too many broken files)");
	} else if (r->reason_off > k->arena_cap || r->reason_len > REASON_MAX ||
		   r->reason_len > k->arena_cap - r->reason_off) {
		k->reasons[i] = xstrdup("its worker wrote an invalid record");
	} else {
		char *s = malloc((size_t)r->reason_len + 1);

		if (!s)
			die("out of memory");
		memcpy(s, k->arena->text + r->reason_off, r->reason_len);
		s[r->reason_len] = '\0';
		k->reasons[i] = s;
	}
	/* What the summary counts is the images that decode. */
	r->format = -1;
	r->flags &= F_HASHED;
}

/* In the parent: how files A and B compare, by their bytes (dedup.c asks,
 * for candidates whose hashes agree); one that cannot be read is unequal.
 * A's bytes are kept for the next ask. */
static int cmp_bytes(void *ctx, size_t a, size_t b)
{
	struct check *k = ctx;
	char why[256];
	int c;

	if (k->file_index != a) {
		k->file_index = SIZE_MAX;
		if (input_read(k->files.paths[a], &k->file, why, sizeof(why)) < 0)
			return a < b ? -1 : 1;
		k->file_index = a;
	}
	if (input_read(k->files.paths[b], &k->other, why, sizeof(why)) < 0)
		return a < b ? -1 : 1;
	c = k->file.len && k->other.len
	    ? memcmp(k->file.p, k->other.p, k->file.len < k->other.len ? k->file.len : k->other.len)
	    : 0;
	return c ? c : (k->file.len > k->other.len) - (k->file.len < k->other.len);
}

static void find_duplicates(struct check *k)
{
	struct check_summary *s = &k->sum;
	struct dedup_key *keys = malloc((k->files.n + 1) * sizeof(*keys));
	size_t i, n = 0;

	s->group = calloc(k->files.n + 1, sizeof(*s->group));
	if (!keys || !s->group)
		die("out of memory");
	for (i = 0; i < k->files.n; i++) {
		const struct check_rec *r = &k->recs[i];

		if (!(r->flags & F_HASHED))
			continue;
		keys[n].hash[0] = r->hash[0];
		keys[n].hash[1] = r->hash[1];
		keys[n].size = r->size;
		keys[n++].index = i;
	}
	k->file_index = SIZE_MAX;
	s->ngroups = dedup_group(keys, n, cmp_bytes, k, s->group, k->files.n);
	free(keys);
}

/* What load -c C and --resize would do to image R. */
static void would_load(struct check *k, const struct check_rec *r)
{
	struct check_summary *s = &k->sum;
	const struct row_spec *sp = &k->spec;
	int c = s->channels, n = r->channels;

	s->from_cmyk += (r->flags & F_CMYK) != 0;
	s->from_palette += (r->flags & F_PALETTE) != 0;
	s->to_gray += n >= 3 && c <= 2;
	s->to_colour += n <= 2 && c >= 3;
	s->alpha_dropped += (n == 2 || n == 4) && (c == 1 || c == 3);
	s->alpha_added += (n == 1 || n == 3) && (c == 2 || c == 4);
	s->to8 += (r->flags & F_16BIT) != 0;
	if (sp->resize) {
		struct resize_opts o = { .w = (int)sp->w, .h = (int)sp->h, .fit = sp->fit };
		struct resize_geom g;

		if ((uint32_t)r->w == sp->w && (uint32_t)r->h == sp->h) {
			s->same_size++;
			return;
		}
		if (resize_geometry(&o, r->w, r->h, &g) < 0)
			return;
		if (g.sw > r->w || g.sh > r->h)
			s->upscaled++;
		else
			s->downscaled++;
		s->cropped += g.cw < g.sw || g.ch < g.sh;
		s->padded += g.cw < (int)sp->w || g.ch < (int)sp->h;
		s->aspect += sp->fit == RESIZE_STRETCH &&
			     (uint64_t)r->w * sp->h != (uint64_t)r->h * sp->w;
	} else if (r->w != s->first_w || r->h != s->first_h) {
		s->size_differs++;
	}
}

static void summarize_classes(struct check *k)
{
	struct check_summary *s = &k->sum;
	size_t c, i, m = 0;
	int *v;

	s->class_n = calloc(k->ds.nclasses + 1, sizeof(size_t));
	s->class_broken = calloc(k->ds.nclasses + 1, sizeof(size_t));
	v = calloc(k->ds.nclasses + 1, sizeof(int));
	if (!s->class_n || !s->class_broken || !v)
		die("out of memory");
	for (i = 0; i < k->files.n; i++) {
		c = (size_t)k->ds.labels[i];
		s->class_n[c]++;
		s->class_broken[c] += k->reasons[i] != NULL;
	}
	for (c = 0; c < k->ds.nclasses; c++)
		if (s->class_n[c])
			v[m++] = s->class_n[c] > INT32_MAX ? INT32_MAX : (int)s->class_n[c];
	s->class_median = m ? stats_median_int(v, m) : 0;
	free(v);
}

/* Every count of the report, from the checked records. */
static void summarize(struct check *k)
{
	struct check_summary *s = &k->sum;
	int *w = malloc((k->files.n + 1) * sizeof(int)), *h = malloc((k->files.n + 1) * sizeof(int));
	size_t i;

	if (!w || !h)
		die("out of memory");
	/* Load's choice without -c: 3 unless every image is gray. */
	s->channels = k->spec.channels;
	for (i = 0; !s->channels && i < k->files.n; i++)
		if (!k->reasons[i] && k->recs[i].channels >= 3)
			s->channels = 3;
	if (!s->channels)
		s->channels = 1;
	for (i = 0; i < k->files.n; i++) {
		const struct check_rec *r = &k->recs[i];

		if (k->reasons[i]) {
			s->broken++;
			continue;
		}
		if (!s->ok) {
			s->first_w = s->wmin = s->wmax = r->w;
			s->first_h = s->hmin = s->hmax = r->h;
		}
		s->wmin = r->w < s->wmin ? r->w : s->wmin;
		s->wmax = r->w > s->wmax ? r->w : s->wmax;
		s->hmin = r->h < s->hmin ? r->h : s->hmin;
		s->hmax = r->h > s->hmax ? r->h : s->hmax;
		w[s->ok] = r->w;
		h[s->ok++] = r->h;
		s->format[r->format]++;
		s->mode[check_mode_of(r)]++;
		s->animated += (r->flags & F_ANIMATED) != 0;
		s->rotated += r->orientation > 1;
		would_load(k, r);
	}
	if ((s->have_size = s->ok > 0)) {
		s->wmed = stats_median_int(w, s->ok);
		s->hmed = stats_median_int(h, s->ok);
	}
	free(w);
	free(h);
	if (k->labels)
		summarize_classes(k);
	if (!k->no_dups)
		find_duplicates(k);
	if (k->near)
		check_near_find(k);
	if (k->quality)
		check_quality_find(k);
}

/* Long-only options. */
enum { OPT_FORMAT = 0x200, OPT_LABELS, OPT_LIST, OPT_LIST_BROKEN, OPT_NO_DUPS, OPT_NEAR,
       OPT_NEAR_DISTANCE, OPT_QUALITY, OPT_RECURSE_ARCHIVES, OPT_SANDBOX, OPT_THRESHOLD,
       OPT_ALL, OPT_SPLIT, OPT_SHUFFLE, OPT_SEED, OPT_LABELS_FROM, OPT_PATH_COLUMN,
       OPT_LABEL_COLUMN, OPT_TARGETS };

/* --list's kinds, indexed by enum list_kind less one. */
static const char *const list_names[] = { "broken", "duplicates", "pixel", "near", "leaks",
					  "flagged", NULL };

static const struct option longopts[] = {
	{ "all", no_argument, NULL, OPT_ALL },
	{ "channels", required_argument, NULL, 'c' },
	{ "fit", required_argument, NULL, OPT_FIT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "label-column", required_argument, NULL, OPT_LABEL_COLUMN },
	{ "labels", no_argument, NULL, OPT_LABELS },
	{ "labels-from", required_argument, NULL, OPT_LABELS_FROM },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "list-broken", no_argument, NULL, OPT_LIST_BROKEN },
	{ "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },
	{ "near", no_argument, NULL, OPT_NEAR },
	{ "near-distance", required_argument, NULL, OPT_NEAR_DISTANCE },
	{ "no-duplicates", no_argument, NULL, OPT_NO_DUPS },
	{ "null", no_argument, NULL, '0' },
	{ "path-column", required_argument, NULL, OPT_PATH_COLUMN },
	{ "quality", no_argument, NULL, OPT_QUALITY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "recurse-archives", no_argument, NULL, OPT_RECURSE_ARCHIVES },
	{ "recursive", no_argument, NULL, 'r' },
	{ "resize", required_argument, NULL, OPT_RESIZE },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shuffle", no_argument, NULL, OPT_SHUFFLE },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "targets", required_argument, NULL, OPT_TARGETS },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* --near-distance's T: 0 to NEARDUP_MAX_T. 0, or -1 after a usage message. */
static int opt_near_distance(const char *arg, int *t)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > NEARDUP_MAX_T)
		return usage_error("check", "invalid --near-distance '%s' (0 to %d)", arg,
				   NEARDUP_MAX_T);
	*t = (int)v;
	return 0;
}

/* Handle --all, --split, --shuffle or --seed: 1 if CH was one, 0 if not,
 * -1 for a bad value (message printed). *ALL is set by --all. */
static int parse_more(struct check *k, int ch, const char *arg, int *all)
{
	switch (ch) {
	case OPT_ALL:
		*all = 1;
		return 1;
	case OPT_SEED:
		if (opt_u64(arg, 0, UINT64_MAX, &k->seed) < 0)
			return usage_error("check", "invalid --seed '%s'", arg);
		k->seed_given = 1;
		return 1;
	case OPT_SHUFFLE:
		k->shuffle = 1;
		return 1;
	case OPT_LABELS_FROM:
		k->lo.table = arg;
		return 1;
	case OPT_PATH_COLUMN:
		k->lo.path_col = arg;
		return 1;
	case OPT_LABEL_COLUMN:
		k->lo.label_col = arg;
		return 1;
	case OPT_TARGETS:
		k->lo.targets = arg;
		return 1;
	case OPT_SPLIT:
		if (split_parse(arg, &k->split) < 0)
			return usage_error("check", "invalid --split '%s' (NAME=FRACTION,... with "
					   "fractions in (0,1] adding up to 1, e.g. train=0.9,val=0.1; "
					   "or 2 or 3 bare fractions for train,val,test)", arg), -1;
		return 1;
	}
	return 0;
}

/* The options parse_more took must fit together and with the rest. */
static int check_more(struct check *k, int all)
{
	if (all && k->no_dups)
		return usage_error("check", "--all and --no-duplicates contradict each other");
	if (all)
		k->near = k->quality = 1;
	if (k->seed_given && !k->shuffle)
		return usage_error("check", "--seed needs --shuffle");
	if (!k->lo.table && (k->lo.path_col || k->lo.label_col || k->lo.targets))
		return usage_error("check", "--path-column, --label-column and --targets go with "
				   "--labels-from");
	if (k->lo.table && k->labels)
		return usage_error("check", "--labels-from and --labels: choose one (the table "
				   "labels the images, not their folders)");
	if (k->lo.targets && k->lo.label_col)
		return usage_error("check", "--targets replaces --label-column: choose one");
	if (k->shuffle && !k->split.n)
		return usage_error("check", "--shuffle goes with --split (it only moves rows "
				   "between parts)");
	return 0;
}

/* Parse argv: 0 to go on, -1 after a usage message, 1 when done (--help). */
static int parse(int argc, char **argv, struct check *k, struct opt_common *c)
{
	struct opt_row given = { 0 };
	int ch, r, thresholds = 0, all = 0;

	while ((ch = getopt_long(argc, argv, ":0c:hj:qrv", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(c, ch, optarg, "check")) != 0 ||
		    (r = opt_row_parse(&k->spec, &given, ch, optarg, "check")) != 0 ||
		    (r = parse_more(k, ch, optarg, &all)) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		switch (ch) {
		case '0':
			k->nul = 1;
			break;
		case OPT_FORMAT:
			if ((r = opt_choice(optarg, output_names)) < 0)
				return usage_error("check", "invalid --format '%s' (table, json or csv)",
						   optarg);
			k->format = (enum format)r;
			k->format_given = 1;
			break;
		case OPT_LABELS:
			k->labels = 1;
			break;
		case OPT_LIST:
			if ((r = opt_choice(optarg, list_names)) < 0)
				return usage_error("check", "invalid --list '%s' (broken, duplicates, "
						   "pixel, near, leaks or flagged)", optarg);
			k->list = (enum list_kind)(r + 1);
			break;
		case OPT_LIST_BROKEN:
			k->list = LIST_BROKEN;
			break;
		case OPT_NEAR:
			k->near = 1;
			break;
		case OPT_NEAR_DISTANCE:
			if (opt_near_distance(optarg, &k->near_t) < 0)
				return -1;
			break;
		case OPT_NO_DUPS:
			k->no_dups = 1;
			break;
		case OPT_QUALITY:
			k->quality = 1;
			break;
		case OPT_THRESHOLD:
			if (check_quality_threshold(k, optarg) < 0)
				return -1;
			thresholds = 1;
			break;
		case OPT_RECURSE_ARCHIVES:
			arch_set_recurse(1);
			break;
		case OPT_SANDBOX:
			if (opt_sandbox(optarg, &k->sandbox, "check") < 0)
				return -1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'r':	/* the default now; still accepted */
			break;
		default:
			return opt_bad(ch, argv, "check");
		}
	}
	if (optind == argc)
		return usage_error("check", "no input given (a directory, files, or - for stdin)");
	if (opt_row_check(&k->spec, &given, "check") < 0 || check_more(k, all) < 0)
		return -1;
	if (k->nul && !k->list)
		return usage_error("check", "-0 goes with --list-broken (or --list KIND)");
	if (k->list && k->format_given)
		return usage_error("check", "--list prints paths alone, in no --format");
	if (k->list == LIST_NEAR && !k->near)
		return usage_error("check", "--list near needs --near");
	if ((k->list == LIST_DUPLICATES || k->list == LIST_PIXEL) && k->no_dups)
		return usage_error("check", "--list %s needs the duplicate search: leave out "
				   "--no-duplicates", list_names[k->list - 1]);
	if (k->list == LIST_LEAKS && !k->split.n && (argc - optind < 2 || k->labels))
		return usage_error("check", "--list leaks needs several INPUTs (train/ val/) "
				   "or --split");
	if (k->list == LIST_FLAGGED && !k->quality)
		return usage_error("check", "--list flagged needs --quality");
	if (thresholds && !k->quality)
		return usage_error("check", "--threshold goes with --quality");
	if (k->near_t >= 0 && !k->near)
		return usage_error("check", "--near-distance goes with --near");
	if (k->near_t < 0)
		k->near_t = CHECK_NEAR_T;
	if (k->labels && (argc - optind != 1 || strcmp(argv[optind], "-") == 0))
		return usage_error("check", "--labels takes one INPUT, the directory of class folders");
	if (k->lo.table && (argc - optind != 1 || strcmp(argv[optind], "-") == 0))
		return usage_error("check", "--labels-from takes one INPUT, the directory or "
				   "archive of the images it names");
	return 0;
}

/* --labels-from: every image beneath INPUT, and the table's problems
 * against them (labels_check) counted in K->table_problems: nothing is
 * decoded for them, the workers decode each image once, as without it. */
static int collect_table(struct check *k, const char *input, const struct scan_opts *o)
{
	char *member = NULL;
	int r = -1;

	k->lo.root = input;
	if (labels_resolve_table(&k->lo, input, &member) < 0 ||
	    (member && arch_keep_tables(member, 0) < 0) ||
	    scan_collect(&k->files, &k->ds, (char *const *)&input, 1, o) < 0 ||
	    (member && labels_take_kept(input, &k->lo) < 0))
		goto out;
	if (member && !k->lo.nsrc) {
		error("%s: no member '%s' in %s (or not a regular file)", k->lo.table, member,
		      input);
		goto out;
	}
	if (labels_check(&k->files, &k->lo, &k->table_problems) < 0)
		goto out;
	if (k->split.n)
		check_leaks_split(k);
	r = 0;
out:
	free(member);
	return r;
}

/* The files: every image beneath the inputs (hidden folders skipped), or
 * the class folders of the one input, sorted as load sorts them. One
 * directory whose images are all in its subfolders is a class tree, as if
 * --labels were given. With --split, each file's part (check_leaks_split).
 * 0, or -1 with a message printed. */
static int collect(struct check *k, int argc, char **argv)
{
	struct scan_opts o = {
		.recursive = 1, .order = ORDER_NATURAL,
		.member_max = k->spec.max_pixels * 8 + (1 << 20),
	};

	if (k->lo.table)
		return collect_table(k, argv[optind], &o);
	if (argc - optind == 1 && scan_is_class_tree(argv[optind]))
		k->labels = 1;
	o.labels = k->labels;
	k->ds.allow_empty = 1;	/* an empty class is reported, not refused */
	if (!k->labels && argc - optind > 1 && !k->split.n)
		return check_leaks_collect(k, argv + optind, argc - optind, &o);
	if (scan_collect(&k->files, &k->ds, argv + optind, argc - optind, &o) < 0)
		return -1;
	if (k->split.n)
		check_leaks_split(k);
	return 0;
}

/* Decode every file in the pool, then check what the workers recorded. */
static int run(struct check *k, struct opt_common *c)
{
	struct pool_result res;
	struct pool_task task;
	struct progress prog;
	size_t i;
	int confine = sandbox_resolve(k->sandbox);

	if (confine < 0 || map_shared(k) < 0 || (k->spec.channels && map_stats(k, c->jobs) < 0))
		return -1;
	k->reasons = calloc(k->files.n + 1, sizeof(*k->reasons));
	if (!k->reasons)
		die("out of memory");
	progress_init(&prog, c->quiet, "files");
	task = (struct pool_task){
		.count = k->files.n, .jobs = c->jobs, .schedule = c->schedule, .keep_going = 1,
		.verbose = c->verbose, .run = check_one, .name = file_name, .open = file_open, .ctx = k,
		.progress = progress_update, .progress_ctx = &prog,
		/* Confined as load's are: the records and reasons are shared
		 * mappings made before the pool starts. */
		.confine = confine, .confine_fd = -1, .setup = check_setup,
	};
	if (confine && (task.keep = arch_keep_fds(&task.nkeep)))
		task.kept = file_kept;
	if (pool_run(&task, &res) < 0)
		return -1;
	for (i = 0; i < k->files.n; i++)
		validate(k, i);
	summarize(k);
	if (!k->no_dups && check_pixels_find(k, c->jobs, confine) < 0)
		return -1;
	check_leaks_find(k);
	return k->slots ? sum_stats(k) : 0;
}

static void check_free(struct check *k)
{
	size_t i;

	if (k->reasons)
		for (i = 0; i < k->files.n; i++)
			free(k->reasons[i]);
	free(k->reasons);
	if (k->recs)
		munmap(k->recs, k->recs_len);
	if (k->arena)
		munmap(k->arena, k->arena_len);
	if (k->slots)
		munmap(k->slots, (size_t)k->nslots * sizeof(*k->slots));
	free(k->sum.class_n);
	free(k->sum.class_broken);
	free(k->sum.group);
	dataset_free(&k->ds);
	filelist_leave(&k->files);	/* at exit */
	labels_free(&k->lo);
	arch_free();
	free(k->file.p);
	free(k->pix.p);
	free(k->other.p);
	check_near_free(k);
	check_quality_free(k);
	check_pixels_free(k);
	check_leaks_free(k);
	free(k->gray.p);
	free(k->pix8.p);
	resize_ctx_free(&k->rz);
}

int cmd_check(int argc, char **argv)
{
	struct check k = { .spec = { .max_pixels = DEFAULT_MAX_PIXELS, .dtype = TENSOR_U1 },
			   .near_t = -1 };
	struct opt_common c;
	int r;

	memcpy(k.threshold, check_threshold_default, sizeof(k.threshold));
	opt_common_init(&c);
	if ((r = parse(argc, argv, &k, &c)) != 0)
		return opt_status(r);
	r = EXIT_FAIL;
	if (collect(&k, argc, argv) == 0 && run(&k, &c) == 0) {
		check_report(&k);
		r = k.sum.broken || k.table_problems ? EXIT_SKIPPED : EXIT_OK;
	}
	check_free(&k);
	return r;
}
