/* check.c - "parimg check": decode every image of a dataset in the pool,
 * writing no array, and report the files load would refuse, what the
 * dataset holds (formats, modes, sizes, classes) and its exact duplicates.
 * Workers write one fixed-size record per file into a MAP_SHARED array (and
 * the reasons into a shared arena); the parent checks every field before it
 * uses one. */
#define _GNU_SOURCE
#include "parimg.h"
#include "codec.h"
#include "dataset.h"
#include "decoder.h"
#include "dedup.h"
#include "err.h"
#include "filelist.h"
#include "input.h"
#include "limit.h"
#include "opt.h"
#include "pool.h"
#include "progress.h"
#include "resize.h"
#include "row.h"
#include "stats.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <xxhash.h>

#define DEFAULT_MAX_PIXELS (1ULL << 28)
#define REASON_MAX 512		/* bytes of one reason kept, NUL not included */
#define ARENA_MAX (1ULL << 30)	/* the reasons' shared arena, at most */
#define MAX_SIDE (1 << 24)	/* codec_probe's limit */
/* A class is "small" with fewer images than the median class over this. */
#define SMALL_CLASS_DIVISOR 5

/* The formats, as the decoders name themselves (decoder.h), and the file
 * name extensions that belong to each; "other" for a decoder added to
 * codec.c's table and not yet to this list. */
static const char *const format_names[] = { "JPEG", "PNG", "WebP", "GIF", "BMP", "TGA", "PNM",
					    "TIFF", "other", NULL };
static const char *const format_exts[] = { "jpg jpeg", "png", "webp", "gif", "bmp", "tga",
					   "pgm ppm pnm", "tif tiff", "" };
#define NFORMATS 9
#define FORMAT_OTHER 8

enum mode { MODE_GRAY, MODE_GRAY_ALPHA, MODE_RGB, MODE_RGBA, MODE_PALETTE, MODE_CMYK,
	    MODE_16BIT, NMODES };
static const char *const mode_names[] = { "gray", "gray+alpha", "RGB", "RGBA", "palette",
					  "CMYK", "16-bit" };

/* A record's state. PENDING is what a worker that died on the file left. */
enum { REC_PENDING, REC_OK, REC_BROKEN };
/* Its flags. */
#define F_HASHED 0x01		/* hash and size are set */
#define F_16BIT 0x02
#define F_PALETTE 0x04
#define F_CMYK 0x08
#define F_ANIMATED 0x10
#define F_ALL 0x1f

/* One file's result, written by the worker that decoded it; the state
 * last, so a record is whole once its state is set. */
struct rec {
	uint32_t state;
	uint32_t flags;
	int32_t format;		/* index into format_names, -1 if unknown */
	int32_t w, h;		/* the image's own size */
	int32_t channels;	/* stored samples per pixel (codec_info's) */
	int32_t orientation;	/* EXIF, 0 for none */
	uint32_t reason_len;	/* broken: its reason at reason_off in the arena */
	uint64_t reason_off;	/* UINT64_MAX when the arena was full */
	uint64_t size;		/* bytes of the file */
	uint64_t hash[2];	/* XXH3-128 of them, low half first */
};

struct arena {
	uint64_t used;		/* bytes handed out, bumped atomically */
	char text[];
};

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };
static const char *const output_names[] = { "table", "csv", "json", NULL };

/* What the parent makes of the records. */
struct summary {
	size_t ok, broken;
	size_t format[NFORMATS], mode[NMODES], animated, rotated;
	int have_size;
	int wmin, wmax, hmin, hmax;
	double wmed, hmed;
	size_t *class_n, *class_broken;	/* per class, with --labels */
	double class_median;
	size_t *group, ngroups;		/* duplicate group of each file, 0 if none */
	/* With -c or --resize, what load would do: */
	int channels;			/* -c, or the first image's */
	size_t from_cmyk, from_palette, to_gray, to_colour, alpha_dropped, alpha_added, to8;
	size_t upscaled, downscaled, same_size, cropped, padded, aspect;
	size_t size_differs;		/* without --resize: not the first image's size */
	int first_w, first_h;
};

struct check {
	struct filelist files;
	struct dataset ds;
	int labels;		/* --labels: INPUT is a class tree */
	struct row_spec spec;	/* -c, --resize, --fit and --max-pixels */
	struct opt_row given;
	enum format format;
	int format_given, list_broken, nul, no_dups;
	struct rec *recs;	/* shared with the workers */
	size_t recs_len;
	struct arena *arena;	/* likewise */
	size_t arena_cap, arena_len;
	char **reasons;		/* the parent's checked copies, NULL if OK */
	struct summary sum;
	/* Per worker (and the parent's byte compare): */
	struct buf file, pix, other;
	size_t file_index;	/* whose bytes are in file, SIZE_MAX if none */
};

static const char usage_text[] =
	"usage: parimg check [options] INPUT...\n"
	"\n"
	"Decode every image, as load would, writing nothing, and report the\n"
	"files load would refuse, what the dataset holds and its exact\n"
	"duplicates. INPUT is as load's: a directory, an image file, or - for\n"
	"paths on standard input; with --labels, one directory of class folders.\n"
	"Files are only read: check never changes, moves or deletes one.\n"
	"\n"
	"      --labels            INPUT is a class tree: its subdirectories are\n"
	"                          the classes, as load --labels reads them; count\n"
	"                          each class's images, flag empty and small ones\n"
	"                          (fewer than a fifth of the median class's)\n"
	"      --format table|json|csv\n"
	"                          the report: a summary table (default), JSON\n"
	"                          (see parimg(1)), or CSV with one row a file\n"
	"      --list-broken       print only the broken files' paths, one a line\n"
	"  -0, --null              with --list-broken: end each path with a NUL\n"
	"                          byte instead, as they are (for xargs -0)\n"
	"      --no-duplicates     skip hashing and the duplicate search\n"
	"  -c, --channels 1|2|3|4  also report what converting to C channels, as\n"
	"                          load -c would, does to the images\n"
	"      --resize WxH        also report what load --resize would do: which\n"
	"                          images it scales up, down, crops or pads\n"
	"      --fit stretch|cover|contain\n"
	"                          --resize's geometry (default stretch)\n"
	"      --max-pixels N      count images over N pixels as broken, as load\n"
	"                          refuses them (default 268435456)\n"
	"  -j, --jobs N            worker processes (default: online CPUs)\n"
	"      --schedule dynamic|static\n"
	"                          hand out chunks as workers free up\n"
	"                          (default), or split files in equal ranges\n"
	"  -q, --quiet             no progress display\n"
	"  -v, --verbose           print each worker's range and time\n"
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 when no file is broken, 3 when some are, 1 on an error\n"
	"of check's own, 2 on a usage error.\n";

static const char *file_name(void *ctx, size_t i)
{
	return ((struct check *)ctx)->files.paths[i];
}

/* Index of the decoder DEC in format_names. */
static int format_index(const struct decoder *dec)
{
	int k;

	for (k = 0; k < FORMAT_OTHER; k++)
		if (strcmp(dec->name, format_names[k]) == 0)
			return k;
	return FORMAT_OTHER;
}

/* In a worker: record file I as broken for reason WHY, copied into the
 * arena, then publish OUT. Returns 0: a broken file is a result, not a
 * failure of the worker. */
static int broken(struct check *k, struct rec *r, struct rec *out, const char *why)
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

/* In a worker: read, hash, probe and decode file I, and record the result.
 * Only input_read, the decoders and the shared record: nothing else. */
static int check_one(void *ctx, size_t i, char *why, size_t whylen)
{
	struct check *k = ctx;
	struct rec *r = &k->recs[i], out = { .format = -1 };
	struct codec_info info;
	void *pix;

	limit_worker_memory(k->spec.max_pixels);
	if (input_read(k->files.paths[i], &k->file, why, whylen) < 0)
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
	out.format = format_index(info.dec);
	out.w = info.full_w;
	out.h = info.full_h;
	out.channels = info.channels;
	out.orientation = info.orientation;
	out.flags |= (info.is16 ? F_16BIT : 0) | (info.palette ? F_PALETTE : 0) |
		     (info.cmyk ? F_CMYK : 0) | (info.animated ? F_ANIMATED : 0);
	pix = buf_grow(&k->pix, (size_t)info.w * (size_t)info.h * (size_t)info.channels *
				(info.is16 ? 2 : 1));
	if (!pix) {
		snprintf(why, whylen, "out of memory");
		return broken(k, r, &out, why);
	}
	if (codec_decode(k->file.p, k->file.len, &info, info.channels, info.is16, pix, why,
			 whylen) < 0)
		return broken(k, r, &out, why);
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
	k->recs_len = (k->files.n ? k->files.n : 1) * sizeof(struct rec);
	k->recs = mmap(NULL, k->recs_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		       0);
	if (k->recs == MAP_FAILED) {
		k->recs = NULL;
		return error_errno("mmap");
	}
	k->arena_cap = (size_t)cap;
	k->arena_len = sizeof(struct arena) + k->arena_cap;
	k->arena = mmap(NULL, k->arena_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (k->arena == MAP_FAILED) {
		k->arena = NULL;
		return error_errno("mmap");
	}
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
	struct rec *r = &k->recs[i];
	uint32_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
	const char *bad = NULL;

	if (state == REC_PENDING)
		bad = "the decoder crashed on this file (its worker died)";
	else if (state != REC_OK && state != REC_BROKEN)
		bad = "its worker wrote an invalid record";
	else if ((r->flags & ~(uint32_t)F_ALL) || r->format < -1 || r->format >= NFORMATS ||
		 r->orientation < 0 || r->orientation > 8)
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

static enum mode mode_of(const struct rec *r)
{
	if (r->flags & F_PALETTE)
		return MODE_PALETTE;
	if (r->flags & F_CMYK)
		return MODE_CMYK;
	if (r->flags & F_16BIT)
		return MODE_16BIT;
	return (enum mode)(MODE_GRAY + r->channels - 1);
}

/* Whether PATH's extension is one of FORMAT's, or none that says a format:
 * a file "load DIR" would not pick up by name raises no note. */
static int name_fits(const char *path, int format)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	char ext[8];
	int k;

	if (!dot || (slash && dot < slash) || strlen(dot + 1) >= sizeof(ext) - 1)
		return 1;
	for (k = 0; dot[1 + k]; k++)
		ext[k] = (char)(dot[1 + k] | 0x20);
	ext[k] = '\0';
	if (!filelist_is_image_name(path))
		return 1;
	for (k = 0; k < FORMAT_OTHER; k++) {
		const char *e = format_exts[k];
		size_t n = strlen(ext);

		while ((e = strstr(e, ext))) {
			if ((e == format_exts[k] || e[-1] == ' ') && (e[n] == ' ' || e[n] == '\0'))
				return k == format;
			e += n;
		}
	}
	return 1;
}

/* In the parent: whether files A and B hold the same bytes (dedup.c asks,
 * for candidates whose hashes agree). A's bytes are kept for the next ask. */
static int same_bytes(void *ctx, size_t a, size_t b)
{
	struct check *k = ctx;
	char why[256];

	if (k->file_index != a) {
		k->file_index = SIZE_MAX;
		if (input_read(k->files.paths[a], &k->file, why, sizeof(why)) < 0)
			return 0;
		k->file_index = a;
	}
	if (input_read(k->files.paths[b], &k->other, why, sizeof(why)) < 0)
		return 0;
	return k->file.len == k->other.len && memcmp(k->file.p, k->other.p, k->file.len) == 0;
}

static void find_duplicates(struct check *k)
{
	struct summary *s = &k->sum;
	struct dedup_key *keys = malloc((k->files.n + 1) * sizeof(*keys));
	size_t i, n = 0;

	s->group = calloc(k->files.n + 1, sizeof(*s->group));
	if (!keys || !s->group)
		die("out of memory");
	for (i = 0; i < k->files.n; i++) {
		const struct rec *r = &k->recs[i];

		if (!(r->flags & F_HASHED))
			continue;
		keys[n].hash[0] = r->hash[0];
		keys[n].hash[1] = r->hash[1];
		keys[n].size = r->size;
		keys[n++].index = i;
	}
	k->file_index = SIZE_MAX;
	s->ngroups = dedup_group(keys, n, same_bytes, k, s->group, k->files.n);
	free(keys);
}

/* What load -c C and --resize would do to image R. */
static void would_load(struct check *k, const struct rec *r)
{
	struct summary *s = &k->sum;
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
	struct summary *s = &k->sum;
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

static int class_small(const struct summary *s, size_t c)
{
	return s->class_n[c] && (double)s->class_n[c] * SMALL_CLASS_DIVISOR < s->class_median;
}

/* Every count of the report, from the checked records. */
static void summarize(struct check *k)
{
	struct summary *s = &k->sum;
	int *w = malloc((k->files.n + 1) * sizeof(int)), *h = malloc((k->files.n + 1) * sizeof(int));
	size_t i;

	if (!w || !h)
		die("out of memory");
	s->channels = k->spec.channels;
	for (i = 0; i < k->files.n; i++) {
		const struct rec *r = &k->recs[i];

		if (k->reasons[i]) {
			s->broken++;
			continue;
		}
		if (!s->ok) {
			s->first_w = s->wmin = s->wmax = r->w;
			s->first_h = s->hmin = s->hmax = r->h;
			if (!s->channels)
				s->channels = r->channels;
		}
		s->wmin = r->w < s->wmin ? r->w : s->wmin;
		s->wmax = r->w > s->wmax ? r->w : s->wmax;
		s->hmin = r->h < s->hmin ? r->h : s->hmin;
		s->hmax = r->h > s->hmax ? r->h : s->hmax;
		w[s->ok] = r->w;
		h[s->ok++] = r->h;
		s->format[r->format]++;
		s->mode[mode_of(r)]++;
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
}

/* S made printable (err_printable), in one of two rotating buffers. */
static const char *pr(const char *s)
{
	static char buf[2][8192];
	static int n;

	n = !n;
	err_printable(buf[n], sizeof(buf[n]), s);
	return buf[n];
}

/* "PNG data in a .jpg file", for a file whose name says another format. */
static const char *note_of(const struct check *k, size_t i)
{
	static char note[128];
	const struct rec *r = &k->recs[i];

	if (k->reasons[i] || name_fits(k->files.paths[i], r->format))
		return NULL;
	snprintf(note, sizeof(note), "%s data in a .%s file (load reads it as %s)",
		 format_names[r->format], pr(strrchr(k->files.paths[i], '.') + 1),
		 format_names[r->format]);
	return note;
}

static int cross_class(const struct check *k, size_t g)
{
	size_t i;
	int64_t label = -1;

	if (!k->labels)
		return 0;
	for (i = 0; i < k->files.n; i++) {
		if (k->sum.group[i] != g)
			continue;
		if (label >= 0 && k->ds.labels[i] != label)
			return 1;
		label = k->ds.labels[i];
	}
	return 0;
}

static const char *fmt_med(double v)
{
	static char buf[2][32];
	static int n;

	n = !n;
	snprintf(buf[n], sizeof(buf[n]), v == (double)(long long)v ? "%.0f" : "%.1f", v);
	return buf[n];
}

static void print_load_table(const struct check *k)
{
	const struct summary *s = &k->sum;
	const struct row_spec *sp = &k->spec;

	printf("\nwhat load would do (%d channel%s%s):\n", s->channels,
	       s->channels > 1 ? "s" : "", sp->channels ? "" : ", the first image's");
	printf("  %-28s %8zu\n", "converted from CMYK", s->from_cmyk);
	printf("  %-28s %8zu\n", "palette expanded", s->from_palette);
	printf("  %-28s %8zu\n", "colour made gray", s->to_gray);
	printf("  %-28s %8zu\n", "gray made colour", s->to_colour);
	printf("  %-28s %8zu\n", "alpha dropped", s->alpha_dropped);
	printf("  %-28s %8zu\n", "alpha added (opaque)", s->alpha_added);
	printf("  %-28s %8zu\n", "16-bit to 8-bit (u1)", s->to8);
	if (sp->resize) {
		printf("  resized to %ux%u, --fit %s:\n", sp->w, sp->h, resize_fit_names[sp->fit]);
		printf("  %-28s %8zu\n", "upscaled", s->upscaled);
		printf("  %-28s %8zu\n", "downscaled", s->downscaled);
		printf("  %-28s %8zu\n", "already that size", s->same_size);
		if (sp->fit == RESIZE_COVER)
			printf("  %-28s %8zu\n", "cropped", s->cropped);
		if (sp->fit == RESIZE_CONTAIN)
			printf("  %-28s %8zu\n", "padded", s->padded);
		if (sp->fit == RESIZE_STRETCH)
			printf("  %-28s %8zu\n", "aspect ratio changed", s->aspect);
	} else {
		printf("  %-28s %8zu%s\n", "size differs from the first", s->size_differs,
		       s->size_differs ? " (load refuses them without --resize)" : "");
	}
}

static void print_table(const struct check *k)
{
	const struct summary *s = &k->sum;
	size_t i, g, c;
	int f, first;

	printf("parimg check: %zu file%s, %zu image%s decoded, %zu broken\n", k->files.n,
	       k->files.n == 1 ? "" : "s", s->ok, s->ok == 1 ? "" : "s", s->broken);
	if (s->broken) {
		printf("\nbroken:\n");
		for (i = 0; i < k->files.n; i++)
			if (k->reasons[i])
				printf("%s: %s\n", pr(k->files.paths[i]), pr(k->reasons[i]));
	}
	for (first = 1, i = 0; i < k->files.n; i++) {
		const char *note = note_of(k, i);

		if (!note)
			continue;
		if (first)
			printf("\nnotes:\n");
		first = 0;
		printf("%s: note: %s\n", pr(k->files.paths[i]), note);
	}
	printf("\n%-30s %8s\n", "format", "images");
	for (f = 0; f < NFORMATS; f++)
		if (s->format[f])
			printf("  %-28s %8zu\n", format_names[f], s->format[f]);
	printf("%-30s %8s\n", "mode", "images");
	for (f = 0; f < NMODES; f++)
		if (s->mode[f])
			printf("  %-28s %8zu\n", mode_names[f], s->mode[f]);
	printf("  %-28s %8zu\n", "animated (first frame read)", s->animated);
	printf("  %-28s %8zu\n", "EXIF orientation not 1", s->rotated);
	if (s->have_size) {
		printf("%-30s %8s %8s %8s\n", "size", "min", "median", "max");
		printf("  %-28s %8d %8s %8d\n", "width", s->wmin, fmt_med(s->wmed), s->wmax);
		printf("  %-28s %8d %8s %8d\n", "height", s->hmin, fmt_med(s->hmed), s->hmax);
	}
	if (k->labels) {
		printf("%-30s %8s %8s\n", "class", "images", "broken");
		for (c = 0; c < k->ds.nclasses; c++)
			printf("  %-28s %8zu %8zu%s\n", pr(k->ds.classes[c]), s->class_n[c],
			       s->class_broken[c], !s->class_n[c] ? "  EMPTY"
			       : class_small(s, c) ? "  SMALL" : "");
	}
	if (k->spec.channels || k->spec.resize)
		print_load_table(k);
	if (k->no_dups)
		return;
	printf("\nduplicates: %zu group%s\n", s->ngroups, s->ngroups == 1 ? "" : "s");
	for (g = 1; g <= s->ngroups; g++) {
		printf("group %zu%s:\n", g, cross_class(k, g) ? " (across classes)" : "");
		for (i = 0; i < k->files.n; i++)
			if (s->group[i] == g)
				printf("  %s\n", pr(k->files.paths[i]));
	}
}

/* S (made printable) as a JSON string. */
static void json_str(const char *s)
{
	const char *p = pr(s);

	putchar('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
	putchar('"');
}

static void json_count_map(const char *const *names, const size_t *n, int count)
{
	int f;

	putchar('{');
	for (f = 0; f < count; f++) {
		printf("%s", f ? "," : "");
		json_str(names[f]);
		printf(":%zu", n[f]);
	}
	putchar('}');
}

static void json_load(const struct check *k)
{
	const struct summary *s = &k->sum;
	const struct row_spec *sp = &k->spec;

	if (!sp->channels && !sp->resize) {
		printf("null");
		return;
	}
	printf("{\"channels\":%d,\"from_cmyk\":%zu,\"palette_expanded\":%zu,\"colour_to_gray\":%zu,"
	       "\"gray_to_colour\":%zu,\"alpha_dropped\":%zu,\"alpha_added\":%zu,"
	       "\"depth_16_to_8\":%zu,", s->channels, s->from_cmyk, s->from_palette, s->to_gray,
	       s->to_colour, s->alpha_dropped, s->alpha_added, s->to8);
	if (sp->resize)
		printf("\"resize\":{\"width\":%u,\"height\":%u,\"fit\":\"%s\",\"upscaled\":%zu,"
		       "\"downscaled\":%zu,\"same_size\":%zu,\"cropped\":%zu,\"padded\":%zu,"
		       "\"aspect_changed\":%zu},\"size_differs\":null}", sp->w, sp->h,
		       resize_fit_names[sp->fit], s->upscaled, s->downscaled, s->same_size,
		       s->cropped, s->padded, s->aspect);
	else
		printf("\"resize\":null,\"size_differs\":%zu}", s->size_differs);
}

static void print_json(const struct check *k)
{
	const struct summary *s = &k->sum;
	size_t i, g, c;
	int first;

	printf("{\"files\":%zu,\"images\":%zu,\"broken\":%zu,\"broken_files\":[", k->files.n, s->ok,
	       s->broken);
	for (first = 1, i = 0; i < k->files.n; i++) {
		if (!k->reasons[i])
			continue;
		printf("%s{\"path\":", first ? "" : ",");
		json_str(k->files.paths[i]);
		printf(",\"reason\":");
		json_str(k->reasons[i]);
		putchar('}');
		first = 0;
	}
	printf("],\"notes\":[");
	for (first = 1, i = 0; i < k->files.n; i++) {
		const char *note = note_of(k, i);

		if (!note)
			continue;
		printf("%s{\"path\":", first ? "" : ",");
		json_str(k->files.paths[i]);
		printf(",\"note\":");
		json_str(note);
		putchar('}');
		first = 0;
	}
	printf("],\"formats\":");
	json_count_map(format_names, s->format, NFORMATS);
	printf(",\"modes\":");
	json_count_map(mode_names, s->mode, NMODES);
	printf(",\"animated\":%zu,\"orientation_not_1\":%zu,", s->animated, s->rotated);
	if (s->have_size)
		printf("\"width\":{\"min\":%d,\"median\":%s,\"max\":%d},"
		       "\"height\":{\"min\":%d,\"median\":%s,\"max\":%d},", s->wmin, fmt_med(s->wmed),
		       s->wmax, s->hmin, fmt_med(s->hmed), s->hmax);
	else
		printf("\"width\":null,\"height\":null,");
	printf("\"classes\":");
	if (!k->labels) {
		printf("null");
	} else {
		putchar('[');
		for (c = 0; c < k->ds.nclasses; c++) {
			printf("%s{\"name\":", c ? "," : "");
			json_str(k->ds.classes[c]);
			printf(",\"images\":%zu,\"broken\":%zu,\"empty\":%s,\"small\":%s}",
			       s->class_n[c], s->class_broken[c], s->class_n[c] ? "false" : "true",
			       class_small(s, c) ? "true" : "false");
		}
		putchar(']');
	}
	printf(",\"duplicates\":");
	if (k->no_dups) {
		printf("null");
	} else {
		putchar('[');
		for (g = 1; g <= s->ngroups; g++) {
			printf("%s{\"cross_class\":%s,\"paths\":[", g > 1 ? "," : "",
			       cross_class(k, g) ? "true" : "false");
			for (first = 1, i = 0; i < k->files.n; i++) {
				if (s->group[i] != g)
					continue;
				printf("%s", first ? "" : ",");
				json_str(k->files.paths[i]);
				first = 0;
			}
			printf("]}");
		}
		putchar(']');
	}
	printf(",\"load\":");
	json_load(k);
	printf("}\n");
}

/* S (made printable) as a CSV field, quoted. */
static void csv_str(const char *s)
{
	const char *p = pr(s);

	putchar('"');
	for (; *p; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

static void print_csv(const struct check *k)
{
	size_t i;

	printf("path,class,status,format,mode,width,height,animated,orientation,bytes,"
	       "duplicate_group,reason\n");
	for (i = 0; i < k->files.n; i++) {
		const struct rec *r = &k->recs[i];
		const char *note = note_of(k, i);

		csv_str(k->files.paths[i]);
		putchar(',');
		if (k->labels)
			csv_str(k->ds.classes[k->ds.labels[i]]);
		if (k->reasons[i]) {
			printf(",broken,,,,,,,%llu,", (unsigned long long)r->size);
		} else {
			printf(",ok,%s,%s,%d,%d,%d,%d,%llu,", format_names[r->format],
			       mode_names[mode_of(r)], r->w, r->h, (r->flags & F_ANIMATED) != 0,
			       r->orientation, (unsigned long long)r->size);
		}
		if (!k->no_dups && k->sum.group[i])
			printf("%zu", k->sum.group[i]);
		putchar(',');
		if (k->reasons[i])
			csv_str(k->reasons[i]);
		else if (note)
			csv_str(note);
		putchar('\n');
	}
}

/* --list-broken: the paths alone, escaped one a line, or as they are with
 * -0 (a NUL can be in no path). */
static void print_broken_list(const struct check *k)
{
	size_t i;

	for (i = 0; i < k->files.n; i++) {
		if (!k->reasons[i])
			continue;
		if (k->nul)
			fwrite(k->files.paths[i], 1, strlen(k->files.paths[i]) + 1, stdout);
		else
			printf("%s\n", pr(k->files.paths[i]));
	}
}

/* Long-only options. */
enum { OPT_FORMAT = 0x200, OPT_LABELS, OPT_LIST_BROKEN, OPT_NO_DUPS };

static const struct option longopts[] = {
	{ "channels", required_argument, NULL, 'c' },
	{ "fit", required_argument, NULL, OPT_FIT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "labels", no_argument, NULL, OPT_LABELS },
	{ "list-broken", no_argument, NULL, OPT_LIST_BROKEN },
	{ "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },
	{ "no-duplicates", no_argument, NULL, OPT_NO_DUPS },
	{ "null", no_argument, NULL, '0' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "resize", required_argument, NULL, OPT_RESIZE },
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* Parse argv; -1 to go on, else an exit status. */
static int parse(int argc, char **argv, struct check *k, struct opt_common *c)
{
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":0c:hj:qv", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(c, ch, optarg, "check")) != 0 ||
		    (r = opt_row_parse(&k->spec, &k->given, ch, optarg, "check")) != 0) {
			if (r < 0)
				return EXIT_USAGE;
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
		case OPT_LIST_BROKEN:
			k->list_broken = 1;
			break;
		case OPT_NO_DUPS:
			k->no_dups = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return opt_bad(ch, argv, "check");
		}
	}
	if (optind == argc)
		return usage_error("check", "no input given (a directory, files, or - for stdin)");
	if (opt_row_check(&k->spec, &k->given, "check") < 0)
		return EXIT_USAGE;
	if (k->nul && !k->list_broken)
		return usage_error("check", "-0 goes with --list-broken");
	if (k->list_broken && k->format_given)
		return usage_error("check", "--list-broken prints paths alone, in no --format");
	if (k->labels && (argc - optind != 1 || strcmp(argv[optind], "-") == 0))
		return usage_error("check", "--labels takes one INPUT, the directory of class folders");
	return -1;
}

/* The files: the inputs, or the class folders of the one input, sorted
 * as load sorts them. 0, or -1 with a message printed. */
static int collect(struct check *k, int argc, char **argv)
{
	int i;

	if (k->labels) {
		k->ds.allow_empty = 1;	/* reported, not refused */
		return dataset_scan(&k->ds, &k->files, argv[optind], ORDER_NATURAL);
	}
	for (i = optind; i < argc; i++)
		if (filelist_add(&k->files, argv[i]) < 0)
			return -1;
	if (k->files.n == 0)
		return filelist_none_found(argv + optind, argc - optind, "--labels");
	filelist_sort(&k->files, ORDER_NATURAL);
	return 0;
}

/* Decode every file in the pool, then check what the workers recorded. */
static int run(struct check *k, struct opt_common *c)
{
	struct pool_result res;
	struct pool_task task;
	struct progress prog;
	size_t i;

	if (map_shared(k) < 0)
		return -1;
	k->reasons = calloc(k->files.n + 1, sizeof(*k->reasons));
	if (!k->reasons)
		die("out of memory");
	progress_init(&prog, c->quiet, "files");
	task = (struct pool_task){
		.count = k->files.n, .jobs = c->jobs, .schedule = c->schedule, .keep_going = 1,
		.verbose = c->verbose, .run = check_one, .name = file_name, .ctx = k,
		.progress = progress_update, .progress_ctx = &prog,
	};
	if (pool_run(&task, &res) < 0)
		return -1;
	for (i = 0; i < k->files.n; i++)
		validate(k, i);
	summarize(k);
	return 0;
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
	free(k->sum.class_n);
	free(k->sum.class_broken);
	free(k->sum.group);
	dataset_free(&k->ds);
	filelist_free(&k->files);
	free(k->file.p);
	free(k->pix.p);
	free(k->other.p);
}

int cmd_check(int argc, char **argv)
{
	struct check k = { .spec = { .max_pixels = DEFAULT_MAX_PIXELS, .dtype = ROW_U1 } };
	struct opt_common c;
	int r;

	opt_common_init(&c);
	if ((r = parse(argc, argv, &k, &c)) >= 0)
		return r;
	r = EXIT_FAIL;
	if (collect(&k, argc, argv) == 0 && run(&k, &c) == 0) {
		if (k.list_broken)
			print_broken_list(&k);
		else if (k.format == FMT_JSON)
			print_json(&k);
		else if (k.format == FMT_CSV)
			print_csv(&k);
		else
			print_table(&k);
		r = k.sum.broken ? EXIT_SKIPPED : EXIT_OK;
	}
	check_free(&k);
	return r;
}
