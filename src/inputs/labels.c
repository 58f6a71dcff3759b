/* labels.c - a table's rows matched to the images by four hash tables (the
 * relative path, less its extension, the file name, less its extension), checked
 * against them as a whole before anything is decoded, and turned into
 * labels, multi-hot rows or float32 targets; or a regular expression's
 * first group of each image's path, as its class. */
#define _GNU_SOURCE
#include "inputs/labels.h"
#include "inputs/arch.h"
#include "inputs/table.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define NONE SIZE_MAX
#define MAX_LISTED 100	/* problems printed one by one; then a count */
#define BATCH 16	/* keys hashed and their slots fetched at once */

static const char *const default_paths[] = { "file_name", "filename", "path", "image",
					     "image_name", "image_id", "id" };
#define NDEFAULT (sizeof(default_paths) / sizeof(*default_paths))

/* A name of number_classes's table: LEN bytes at S, its place A. */
struct hent {
	const char *s;
	size_t len, a;
};

struct htab {
	struct hent *e;
	size_t mask;
};

/* Problems found while checking, printed as they come. */
struct problems {
	size_t n;
};

static void problem(struct problems *pb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print one problem as error() would, up to MAX_LISTED of them. */
static void problem(struct problems *pb, const char *fmt, ...)
{
	char msg[8192];
	va_list ap;

	if (pb->n++ >= MAX_LISTED)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error("%s", msg);
}

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h ^ h >> 29;
}

static int ht_init(struct htab *h, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n + 2)
		cap *= 2;
	if (!(h->e = calloc(cap, sizeof(*h->e))))
		return error("out of memory");
	h->mask = cap - 1;
	return 0;
}

/* The entry of key S[0..LEN): its own, or the empty slot it would take. */
static struct hent *ht_slot(const struct htab *h, const char *s, size_t len)
{
	size_t i = (size_t)hash(s, len) & h->mask;

	while (h->e[i].s && (h->e[i].len != len || memcmp(h->e[i].s, s, len) != 0))
		i = (i + 1) & h->mask;
	return &h->e[i];
}

/* PATH relative to ROOT (RLEN bytes): a folder's files and an archive's
 * members are named ROOT/... and ROOT:...; anything else is itself. */
static const char *rel_path(const char *path, const char *root, size_t rlen)
{
	if (rlen && strncmp(path, root, rlen) == 0) {
		if (root[rlen - 1] == '/')
			return path + rlen;
		if (path[rlen] == '/' || path[rlen] == ':')
			return path + rlen + 1;
	}
	return path;
}

/* The four ways a key names an image, tried in this order: the relative
 * path, less its extension, the file name, less its extension. */
enum { STEP_REL, STEP_STEM, STEP_BASE, STEP_BASESTEM, NSTEPS };

/* A slot of a step's table: image A - 1 (0: empty), and B - 1 too when two
 * images share the key (ambiguous); TAG, the hash's top bits, spares most
 * key comparisons. 12 bytes, the key being found from the image. */
struct islot {
	uint32_t tag, a, b;
};

/* The images' keys, and a table per step, each built when first asked. */
struct index {
	const struct filelist *files;	/* the relative paths */
	uint32_t *len, *stem, *base;	/* per image: the length, the stem's length
					 * (0: no extension) and where its name starts */
	struct islot *t[NSTEPS];
	size_t mask;
};

/*
 * LEN zero bytes for a step's table (24 MB for a million images), in huge
 * pages where the kernel gives them: its random probes would otherwise
 * fault page after page (a third of the matching's time on a VM), and
 * calloc's pages fault twice, once on the first probe (the zero page), once
 * with a TLB flush on the first store. NULL when out of memory.
 */
static void *big_zeroed(size_t len)
{
	void *p;

	if (len < (2 << 20))
		return calloc(1, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_HUGEPAGE);		/* a hint: EINVAL without THP */
	return p;
}

static void big_free(void *p, size_t len)
{
	if (!p)
		return;
	if (len < (2 << 20))
		free(p);
	else
		munmap(p, len);
}

/* Image I's key for STEP, in *S and *LEN; 0 when it has none. */
static int key_of(const struct index *x, int step, size_t i, const char **s, size_t *len)
{
	const char *p = x->files->paths[i];

	switch (step) {
	case STEP_REL:
		*s = p, *len = x->len[i];
		return 1;
	case STEP_STEM:
		*s = p, *len = x->stem[i];
		return x->stem[i] != 0;
	case STEP_BASE:
		*s = p + x->base[i], *len = x->len[i] - x->base[i];
		return 1;
	default:
		*s = p + x->base[i], *len = x->stem[i] - x->base[i];
		return x->stem[i] != 0;
	}
}

/* The slot of key S[0..LEN) (hash H) in STEP's table: its own, or the
 * empty one it would take. */
static struct islot *slot_of(const struct index *x, int step, const char *s, size_t len,
			     uint64_t h)
{
	struct islot *t = x->t[step];
	size_t i = (size_t)h & x->mask;
	uint32_t tag = (uint32_t)(h >> 32);

	for (;; i = (i + 1) & x->mask) {
		const char *ks;
		size_t klen;

		if (!t[i].a)
			return &t[i];
		if (t[i].tag != tag)
			continue;
		key_of(x, step, t[i].a - 1, &ks, &klen);
		if (klen == len && memcmp(ks, s, len) == 0)
			return &t[i];
	}
}

/* STEP's table, made now if it is not yet. 0, or -1 after a message. */
static int build_step(struct index *x, int step)
{
	size_t i, j, m, len[BATCH];
	const char *s[BATCH];
	uint64_t h[BATCH];
	int has[BATCH];

	if (x->t[step])
		return 0;
	if (!(x->t[step] = big_zeroed((x->mask + 1) * sizeof(struct islot))))
		return error("out of memory");
	/* In batches: every slot of a batch fetched before the first probe. */
	for (i = 0; i < x->files->n; i += m) {
		m = x->files->n - i < BATCH ? x->files->n - i : BATCH;
		for (j = 0; j < m; j++)
			if ((has[j] = key_of(x, step, i + j, &s[j], &len[j]))) {
				h[j] = hash(s[j], len[j]);
				__builtin_prefetch(&x->t[step][h[j] & x->mask], 1);
			}
		for (j = 0; j < m; j++) {
			struct islot *e;

			if (!has[j])
				continue;
			e = slot_of(x, step, s[j], len[j], h[j]);
			if (!e->a)
				*e = (struct islot){ .tag = (uint32_t)(h[j] >> 32), .a = (uint32_t)(i + j) + 1 };
			else if (!e->b)
				e->b = (uint32_t)(i + j) + 1;
		}
	}
	return 0;
}

/* Index FILES, paths relative to INPUT, for match(). */
static int index_init(struct index *x, const struct filelist *files)
{
	size_t cap = 16, i;

	memset(x, 0, sizeof(*x));
	x->files = files;
	if (files->n >= UINT32_MAX / 2)
		return error("more than %u images to match", UINT32_MAX / 2);
	while (cap < 2 * files->n + 2)
		cap *= 2;
	x->mask = cap - 1;
	x->len = malloc((files->n + 1) * sizeof(uint32_t));
	x->stem = malloc((files->n + 1) * sizeof(uint32_t));
	x->base = malloc((files->n + 1) * sizeof(uint32_t));
	if (!x->len || !x->stem || !x->base)
		return error("out of memory");
	for (i = 0; i < files->n; i++) {
		const char *r = files->paths[i], *slash = strrchr(r, '/');
		const char *b = slash ? slash + 1 : r, *dot = strrchr(b, '.');
		size_t len = strlen(r);

		if (len >= UINT32_MAX)
			return error("%s: path too long", r);
		x->len[i] = (uint32_t)len;
		x->base[i] = (uint32_t)(b - r);
		x->stem[i] = dot && dot > b ? (uint32_t)(dot - r) : 0;
	}
	return 0;
}

static void index_free(struct index *x)
{
	int k;

	free(x->len);
	free(x->stem);
	free(x->base);
	for (k = 0; k < NSTEPS; k++)
		big_free(x->t[k], (x->mask + 1) * sizeof(struct islot));
}

/*
 * The image KEY (LEN bytes, hash H; of the row at NAME:LINE) names, by the
 * four steps in turn:
 * its index. NONE after a problem: no image, or two for the step that
 * matches (naming both, by their paths in FILES).
 */
static size_t match(struct index *x, const struct filelist *files, const char *key, size_t len,
		    uint64_t h, const char *name, size_t line, struct problems *pb)
{
	int k;

	for (k = 0; k < NSTEPS; k++) {
		const struct islot *e;

		if (build_step(x, k) < 0)
			return problem(pb, "%s:%zu: out of memory", name, line), NONE;
		e = slot_of(x, k, key, len, h);
		if (!e->a)
			continue;
		if (e->b) {
			problem(pb, "%s:%zu: '%s' matches two images, %s and %s", name, line, key,
				files->paths[e->a - 1], files->paths[e->b - 1]);
			return NONE;
		}
		return e->a - 1;
	}
	problem(pb, "%s:%zu: '%s' names no image", name, line, key);
	return NONE;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Whether S is an integer as written in a table: a sign, digits, and a
 * value int64 holds. */
static int parse_int(const char *s, int64_t *v)
{
	char *end;

	if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
		return 0;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return *end == '\0' && errno == 0;
}

/*
 * The distinct names in TEXT[0..N) (with SEP, each cell split at it and
 * empty names dropped) as DS's classes, sorted bytewise; then row i's
 * class into DS's labels, or (SEP) its classes into row i of DS's
 * multi-hot rows. Returns 0, or -1 with a message.
 */
static int number_classes(struct dataset *ds, char **text, size_t n, const char *sep)
{
	struct htab h;
	size_t i, k, total = 0, cap = 0, *rank = NULL, seplen = sep ? strlen(sep) : 0;
	char **names = NULL, **grown;
	int r = -1;

	if (ht_init(&h, 64) < 0)
		return -1;
	/* Distinct names, each entry's A its place in NAMES. */
	for (i = 0; i < n; i++) {
		const char *p = text[i], *e;

		do {
			e = sep ? strstr(p, sep) : NULL;
			size_t len = e ? (size_t)(e - p) : strlen(p);
			struct hent *s;

			if (len || !sep) {
				if (total * 2 + 2 > h.mask) {	/* grow */
					struct htab g;

					if (ht_init(&g, total * 2 + 2) < 0)
						goto out;
					for (k = 0; k <= h.mask; k++)
						if (h.e[k].s)
							*ht_slot(&g, h.e[k].s, h.e[k].len) = h.e[k];
					free(h.e);
					h = g;
				}
				s = ht_slot(&h, p, len);
				if (!s->s) {
					if (total == cap) {
						cap = cap ? 2 * cap : 64;
						if (!(grown = realloc(names, cap * sizeof(*names))))
							goto oom;
						names = grown;
					}
					*s = (struct hent){ .s = p, .len = len, .a = total };
					if (!(names[total++] = strndup(p, len)))
						goto oom;
				}
			}
			p = e ? e + seplen : NULL;
		} while (p);
	}
	/* Sorted names; RANK maps a name's first place to its class. */
	ds->classes = malloc((total + 1) * sizeof(char *));
	rank = malloc((total + 1) * sizeof(*rank));
	if (!ds->classes || !rank)
		goto oom;
	memcpy(ds->classes, names, total * sizeof(char *));
	ds->nclasses = total;
	qsort(ds->classes, total, sizeof(char *), cmp_str);
	for (k = 0; k < total; k++) {
		struct hent *s = ht_slot(&h, ds->classes[k], strlen(ds->classes[k]));

		rank[s->a] = k;
		if (filelist_line_break(ds->classes[k])) {
			error("'%s': a class name with a line break cannot be listed", ds->classes[k]);
			goto out;
		}
	}
	if (sep) {
		ds->cols = total;
		if (total && n > SIZE_MAX / 2 / total) {
			error("%zu rows of %zu classes: too many for a multi-hot array", n, total);
			goto out;
		}
		if (!(ds->multi = calloc(n * total + 1, 1)))
			goto oom;
	} else if (!(ds->labels = malloc((n + 1) * sizeof(*ds->labels)))) {
		goto oom;
	}
	for (i = 0; i < n; i++) {
		const char *p = text[i], *e;

		do {
			e = sep ? strstr(p, sep) : NULL;
			size_t len = e ? (size_t)(e - p) : strlen(p);

			if (len || !sep) {
				k = rank[ht_slot(&h, p, len)->a];
				if (sep)
					ds->multi[i * total + k] = 1;
				else
					ds->labels[i] = (int64_t)k;
			}
			p = e ? e + seplen : NULL;
		} while (p);
	}
	r = 0;
	goto out;
oom:
	error("out of memory");
out:
	free(names);	/* the strings are DS's classes' now, or freed with them */
	free(rank);
	free(h.e);
	return r;
}

/* DS's labels from TEXT[0..N), row by row: the values when every one is
 * an integer, else classes (number_classes), multi-hot with SEP. */
static int set_labels(struct dataset *ds, char **text, size_t n, const char *sep)
{
	size_t i;

	if (!sep) {
		int64_t v;

		for (i = 0; i < n && parse_int(text[i], &v); i++)
			;
		if (i == n) {
			if (!(ds->labels = malloc((n + 1) * sizeof(*ds->labels))))
				return error("out of memory");
			for (i = 0; i < n; i++)
				parse_int(text[i], &ds->labels[i]);
			return 0;
		}
	}
	return number_classes(ds, text, n, sep);
}

/* S, a --targets cell, as float32: strtod's double rounded to float, as
 * numpy.float32(float(s)); ASCII spaces around it allowed, as float()
 * allows them. */
static int parse_target(const char *s, float *v)
{
	char *end;
	double d;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || strpbrk(s, "xX"))	/* no hexadecimal: float() has none */
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (end == s)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end)
		return -1;
	*v = (float)d;
	return 0;
}

/* The columns asked of the table: NAMES[0..*N), with *PATH_K the first
 * path candidate, *LABEL_K the label's (or NONE) and the targets' after.
 * TBUF holds --targets split. 0, or -1 after a message. */
static int columns(const struct labels_opts *o, char *tbuf, const char **names, size_t *n,
		   size_t *path_k, size_t *npath, size_t *label_k, size_t *ntargets)
{
	size_t k = 0, i, j;
	char *save, *c;

	*path_k = 0;
	if (o->path_col) {
		names[k++] = o->path_col;
	} else {
		for (i = 0; i < NDEFAULT; i++)
			if (!o->label_col || strcmp(o->label_col, default_paths[i]) != 0)
				names[k++] = default_paths[i];
	}
	*npath = k;
	*label_k = NONE;
	*ntargets = 0;
	if (!o->targets) {
		*label_k = k;
		names[k++] = o->label_col ? o->label_col : "label";
	} else {
		for (c = strtok_r(tbuf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			if (k == TABLE_MAXCOLS)
				return error("--targets: more than %d columns", (int)(TABLE_MAXCOLS - NDEFAULT - 1));
			names[k++] = c;
			++*ntargets;
		}
		if (!*ntargets)
			return error("--targets: no column named");
	}
	for (i = *npath; i < k; i++)
		for (j = o->path_col ? 0 : *npath; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return error("column '%s' asked for twice", names[i]);
	*n = k;
	return 0;
}

/* Row R of T (its key LEN bytes, hash H) against the images: see
 * reconcile. */
static void check_row(const struct table *t, const struct filelist *files, struct index *x,
		      size_t r, size_t len, uint64_t h, const char *const *names, size_t path_k,
		      size_t cmp0, size_t ncmp, size_t *row_of, struct problems *pb)
{
	const char *key = table_cell(t, r, path_k);
	size_t img, k;
	int same = 1;

	if (!key) {
		problem(pb, "%s:%zu: no '%s' in this row", t->name, t->line[r], names[path_k]);
		return;
	}
	for (k = cmp0; k < cmp0 + ncmp; k++)
		if (!table_cell(t, r, k))
			problem(pb, "%s:%zu: no '%s' for '%s'", t->name, t->line[r], names[k], key);
	if ((img = match(x, files, key, len, h, t->name, t->line[r], pb)) == NONE)
		return;
	if (row_of[img] == NONE) {
		row_of[img] = r;
		return;
	}
	for (k = cmp0; k < cmp0 + ncmp; k++) {
		const char *a = table_cell(t, row_of[img], k), *b = table_cell(t, r, k);

		same &= (!a && !b) || (a && b && strcmp(a, b) == 0);
	}
	problem(pb, same ? "%s:%zu: '%s' names %s again (as line %zu does)"
		: "%s:%zu: '%s' names %s again, with another label than line %zu's",
		t->name, t->line[r], key, files->paths[img], t->line[row_of[img]]);
}

/*
 * Match T's rows to the images REL (FILES's paths relative to the table's
 * folder) and report every problem into PB: a row without its key or
 * values (columns NAMES [CMP0, CMP0 + NCMP)), naming no image or two, an
 * image named twice (the same values, or others), an image no row names
 * (dropped from KEEP and counted in *SKIPPED when SKIP). ROW_OF[i] is
 * image i's row, or NONE. -1 when out of memory (a message printed).
 */
static int reconcile(const struct table *t, const struct filelist *files,
		     const struct filelist *rel, const char *const *names, size_t path_k,
		     size_t cmp0, size_t ncmp, int skip, size_t *row_of, unsigned char *keep,
		     size_t *skipped, struct problems *pb)
{
	struct index x;
	size_t r0, m, j, i, k, len[BATCH];
	uint64_t h[BATCH];

	if (index_init(&x, rel) < 0) {
		index_free(&x);
		return -1;
	}
	for (i = 0; i < files->n; i++)
		row_of[i] = NONE;
	for (r0 = 0; r0 < t->nrows; r0 += m) {
		/* In batches: the first two steps' slots fetched before use. */
		m = t->nrows - r0 < BATCH ? t->nrows - r0 : BATCH;
		for (j = 0; j < m; j++) {
			const char *key = table_cell(t, r0 + j, path_k);

			len[j] = key ? strlen(key) : 0;
			h[j] = hash(key ? key : "", len[j]);
			for (k = 0; k < 2; k++)
				if (x.t[k])
					__builtin_prefetch(&x.t[k][h[j] & x.mask]);
		}
		for (j = 0; j < m; j++)
			check_row(t, files, &x, r0 + j, len[j], h[j], names, path_k, cmp0, ncmp, row_of,
				  pb);
	}
	index_free(&x);
	for (i = 0; i < files->n; i++) {
		keep[i] = row_of[i] != NONE;
		if (row_of[i] != NONE)
			continue;
		if (skip)
			++*skipped;
		else
			problem(pb, "%s: no row of %s names it", files->paths[i], t->name);
	}
	return 0;
}

/* FILES's paths relative to ROOT, for matching: a copy of the list whose
 * strings point into the originals. */
static int relative(const struct filelist *files, const char *root, struct filelist *rel)
{
	size_t rlen = strlen(root), i;

	rel->n = rel->cap = files->n;
	if (!(rel->paths = malloc((files->n + 1) * sizeof(char *))))
		return error("out of memory");
	for (i = 0; i < files->n; i++)
		rel->paths[i] = (char *)rel_path(files->paths[i], root, rlen);
	return 0;
}

/* The table of the deepest folder above image path REL (relative to the
 * root) among O's tables: its index, or NONE. */
static size_t owner_of(const struct labels_opts *o, const char *rel)
{
	size_t s, best = NONE, blen = 0;

	for (s = 0; s < o->nsrc; s++) {
		size_t dl = strlen(o->src[s].dir);

		if ((best == NONE || dl > blen) && strncmp(rel, o->src[s].dir, dl) == 0)
			best = s, blen = dl;
	}
	return best;
}

/* O's tables, read and parsed into T[0..O->nsrc), each one's path column
 * in PATH_K[s]: see labels_apply. 0, or -1 after a message. */
static int read_tables(const struct labels_opts *o, struct table *t, size_t *path_k,
		       const char *const *names, size_t n, size_t npath)
{
	size_t s, k;

	for (s = 0; s < o->nsrc; s++) {
		const struct labels_src *src = &o->src[s];
		int r;

		if (src->text) {
			/* T's now: its cells are cut out of it in place. */
			r = table_parse(&t[s], src->name, src->text, src->len, names, n);
			o->src[s].text = NULL;
		} else {
			r = table_read(&t[s], src->name, names, n);
		}
		if (r < 0)
			return -1;
		for (k = 0; k < npath && !t[s].seen[k]; k++)
			;
		if (k == npath) {
			if (o->path_col)
				return error("%s: no column '%s' (--path-column)", src->name, o->path_col);
			return error("%s: no path column (file_name, filename, path, image, image_name, "
				     "image_id or id; --path-column names another)", src->name);
		}
		path_k[s] = k;
		for (k = npath; k < n; k++)
			if (!t[s].seen[k])
				return error("%s: no column '%s'%s", src->name, names[k],
					     o->targets ? " (--targets)" : o->label_col
					     ? " (--label-column)"
					     : " (the labels; --label-column names another)");
	}
	return 0;
}

/*
 * Match every table's rows to the images below its folder (see
 * labels_apply): image i's table in TAB_OF[i] and row in ROW_OF[i] (NONE:
 * no row), KEEP[i] whether it has one, *SKIPPED those without (O's skip);
 * each problem printed and counted in PB. -1 when out of memory.
 */
static int reconcile_all(const struct labels_opts *o, const struct table *t,
			 const size_t *path_k, const struct filelist *files,
			 const struct filelist *rel, const char *const *names, size_t npath, size_t n,
			 size_t *tab_of, size_t *row_of, unsigned char *keep, size_t *skipped,
			 struct problems *pb)
{
	struct filelist sf = { 0 }, sr = { 0 };
	size_t s, i, j, *idx = NULL, *srow = NULL;
	unsigned char *skeep = NULL;
	int r = -1;

	*skipped = 0;
	if (o->nsrc == 1 && !*o->src[0].dir) {
		/* One table for every image: no subsets. */
		for (i = 0; i < files->n; i++)
			tab_of[i] = 0;
		return reconcile(&t[0], files, rel, names, path_k[0], npath, n - npath,
				 o->skip_unlabelled, row_of, keep, skipped, pb);
	}
	sf.paths = malloc((files->n + 1) * sizeof(char *));
	sr.paths = malloc((files->n + 1) * sizeof(char *));
	idx = malloc((files->n + 1) * sizeof(*idx));
	srow = malloc((files->n + 1) * sizeof(*srow));
	skeep = malloc(files->n + 1);
	if (!sf.paths || !sr.paths || !idx || !srow || !skeep) {
		error("out of memory");
		goto out;
	}
	for (i = 0; i < files->n; i++) {
		tab_of[i] = owner_of(o, rel->paths[i]);
		row_of[i] = NONE;
		keep[i] = 0;
		if (tab_of[i] != NONE)
			continue;
		if (o->skip_unlabelled)
			++*skipped;
		else
			problem(pb, "%s: no metadata.csv or metadata.jsonl above it names it",
				files->paths[i]);
	}
	for (s = 0; s < o->nsrc; s++) {
		size_t dl = strlen(o->src[s].dir);

		for (i = j = 0; i < files->n; i++)
			if (tab_of[i] == s) {
				idx[j] = i;
				sf.paths[j] = files->paths[i];
				sr.paths[j++] = rel->paths[i] + dl;
			}
		sf.n = sr.n = j;
		if (reconcile(&t[s], &sf, &sr, names, path_k[s], npath, n - npath,
			      o->skip_unlabelled, srow, skeep, skipped, pb) < 0)
			goto out;
		for (j = 0; j < sf.n; j++) {
			row_of[idx[j]] = srow[j];
			keep[idx[j]] = skeep[j];
		}
	}
	r = 0;
out:
	free(sf.paths);
	free(sr.paths);
	free(idx);
	free(srow);
	free(skeep);
	return r;
}

/* A table's name for messages: the one, or the first and how many more. */
static void tables_name(const struct labels_opts *o, char *out, size_t len)
{
	if (o->nsrc == 1)
		snprintf(out, len, "%s", o->src[0].name);
	else
		snprintf(out, len, "%s (and %zu more metadata files)", o->src[0].name,
			 o->nsrc - 1);
}

/* Labels from O's tables: see labels_apply; with CHECK (labels_check),
 * only the problems, counted into *NPROBLEMS, DS and FILES unchanged. */
static int from_table(struct dataset *ds, struct filelist *files, const struct labels_opts *o,
		      int check, size_t *nproblems)
{
	const char *names[TABLE_MAXCOLS];
	struct filelist rel = { 0 };
	struct problems pb = { 0 };
	struct table *t = calloc(o->nsrc + 1, sizeof(*t));
	char *tbuf = o->targets ? strdup(o->targets) : NULL, **text = NULL, tname[4200];
	size_t n = 0, path_k0, npath, label_k, ntargets, i, k, skipped = 0;
	size_t *row_of = NULL, *tab_of = NULL, *path_k = malloc((o->nsrc + 1) * sizeof(size_t));
	unsigned char *keep = NULL;
	int r = -1;

	if (!t || !path_k || (o->targets && !tbuf)) {
		error("out of memory");
		goto out;
	}
	tables_name(o, tname, sizeof(tname));
	if (columns(o, tbuf, names, &n, &path_k0, &npath, &label_k, &ntargets) < 0 ||
	    read_tables(o, t, path_k, names, n, npath) < 0 || relative(files, o->root, &rel) < 0)
		goto out;
	row_of = malloc((files->n + 1) * sizeof(*row_of));
	tab_of = malloc((files->n + 1) * sizeof(*tab_of));
	keep = malloc(files->n + 1);
	if (!row_of || !tab_of || !keep) {
		error("out of memory");
		goto out;
	}
	if (reconcile_all(o, t, path_k, files, &rel, names, npath, n, tab_of, row_of, keep,
			  &skipped, &pb) < 0)
		goto out;
	/* Every --targets cell of the rows kept must be a number. */
	if (o->targets) {
		if (!(ds->targets = malloc((files->n * ntargets + 1) * sizeof(float)))) {
			error("out of memory");
			goto out;
		}
		ds->cols = ntargets;
		for (i = 0; i < files->n; i++)
			for (k = 0; keep[i] && k < ntargets; k++) {
				const struct table *ti = &t[tab_of[i]];
				const char *cell = table_cell(ti, row_of[i], npath + k);

				if (parse_target(cell, &ds->targets[i * ntargets + k]) < 0)
					problem(&pb, "%s:%zu: '%s' in column '%s' is not a number",
						ti->name, ti->line[row_of[i]], cell, names[npath + k]);
			}
	}
	if (pb.n > MAX_LISTED)
		error("... and %zu more problems", pb.n - MAX_LISTED);
	if (check) {
		free(ds->targets);
		ds->targets = NULL;
		ds->cols = 0;
		*nproblems = pb.n;
		r = 0;
		goto out;
	}
	if (pb.n) {
		error("%s: %zu problem%s matching its rows to %s's images; nothing written",
		      tname, pb.n, pb.n == 1 ? "" : "s", o->root);
		goto out;
	}
	if (skipped) {
		warnx("%s: %zu image%s of %s without a row skipped (--unlabelled skip)", tname,
		      skipped, skipped == 1 ? "" : "s", o->root);
		dataset_keep(ds, files, keep);
		for (i = k = 0; k < rel.n; k++)
			if (keep[k]) {
				row_of[i] = row_of[k];
				tab_of[i++] = tab_of[k];
			}
	}
	if (files->n == 0) {
		error("%s: no image of %s has a row", tname, o->root);
		goto out;
	}
	if (!o->targets) {
		if (!(text = malloc((files->n + 1) * sizeof(*text)))) {
			error("out of memory");
			goto out;
		}
		for (i = 0; i < files->n; i++)
			text[i] = table_cell(&t[tab_of[i]], row_of[i], label_k);
		if (set_labels(ds, text, files->n, o->multi_sep) < 0)
			goto out;
	}
	r = 0;
out:
	free(text);
	free(keep);
	free(row_of);
	free(tab_of);
	free(rel.paths);
	free(tbuf);
	for (i = 0; t && i < o->nsrc; i++)
		table_free(&t[i]);
	free(t);
	free(path_k);
	return r;
}

int labels_check_regex(const char *re, char *why, size_t whylen)
{
	regex_t rx;
	int e = regcomp(&rx, re, REG_EXTENDED);

	if (e) {
		regerror(e, &rx, why, whylen);
		return -1;
	}
	if (rx.re_nsub < 1) {
		regfree(&rx);
		snprintf(why, whylen, "no capture group ( ) to take the class from");
		return -1;
	}
	regfree(&rx);
	return 0;
}

/* Labels from O->regex: the first group of each image's relative path. */
static int from_regex(struct dataset *ds, struct filelist *files, const struct labels_opts *o)
{
	struct problems pb = { 0 };
	size_t rlen = strlen(o->root), i, j, skipped = 0;
	unsigned char *keep = malloc(files->n + 1);
	char **text = calloc(files->n + 1, sizeof(char *));
	regmatch_t m[2];
	regex_t rx;
	int r = -1;

	if (!keep || !text || regcomp(&rx, o->regex, REG_EXTENDED) != 0) {
		free(keep);
		free(text);
		return error("out of memory");
	}
	for (i = 0; i < files->n; i++) {
		const char *p = rel_path(files->paths[i], o->root, rlen);

		keep[i] = regexec(&rx, p, 2, m, 0) == 0 && m[1].rm_so >= 0;
		if (keep[i] && !(text[i] = strndup(p + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so)))) {
			error("out of memory");
			goto out;
		}
		if (keep[i])
			continue;
		if (o->skip_unlabelled)
			skipped++;
		else
			problem(&pb, "%s: --label-regex '%s' does not match '%s'", files->paths[i],
				o->regex, p);
	}
	if (pb.n) {
		if (pb.n > MAX_LISTED)
			error("... and %zu more problems", pb.n - MAX_LISTED);
		error("%s: %zu image%s without a label; nothing written", o->root, pb.n,
		      pb.n == 1 ? "" : "s");
		goto out;
	}
	if (skipped) {
		warnx("%s: %zu image%s not matched by --label-regex skipped (--unlabelled skip)",
		      o->root, skipped, skipped == 1 ? "" : "s");
		dataset_keep(ds, files, keep);
		for (i = j = 0; i < files->n + skipped; i++)
			if (keep[i])
				text[j++] = text[i];
	}
	if (files->n == 0) {
		error("%s: no image matched by --label-regex", o->root);
		goto out;
	}
	r = set_labels(ds, text, files->n, NULL);
out:
	for (i = 0; i < files->n; i++)
		free(text[i]);
	free(text);
	free(keep);
	regfree(&rx);
	return r;
}

int labels_apply(struct dataset *ds, struct filelist *files, const struct labels_opts *o)
{
	return o->nsrc ? from_table(ds, files, o, 0, NULL) : from_regex(ds, files, o);
}

int labels_check(const struct filelist *files, const struct labels_opts *o, size_t *nproblems)
{
	struct dataset ds = { 0 };

	return from_table(&ds, (struct filelist *)files, o, 1, nproblems);
}

const char *labels_opts_clash(const struct labels_opts *o)
{
	if (o->table && o->regex)
		return "--labels-from and --label-regex: choose one";
	if (o->regex && (o->path_col || o->label_col || o->multi_sep || o->targets))
		return "--label-regex takes no table options (--path-column, --label-column, "
		       "--multi-label, --targets)";
	if (o->multi_sep && o->targets)
		return "--multi-label and --targets: choose one";
	if (o->targets && o->label_col)
		return "--targets replaces --label-column: choose one";
	return NULL;
}

int labels_add_src(struct labels_opts *o, const char *name, const char *dir, char *text,
		   size_t len)
{
	struct labels_src *grown = realloc(o->src, (o->nsrc + 1) * sizeof(*o->src)), *s;

	if (!grown) {
		free(text);
		return error("out of memory");
	}
	o->src = grown;
	s = &o->src[o->nsrc];
	*s = (struct labels_src){ .name = strdup(name), .dir = strdup(dir), .text = text,
				  .len = len };
	o->nsrc++;
	if (!s->name || !s->dir)
		return error("out of memory");
	return 0;
}

int labels_resolve_table(struct labels_opts *o, const char *input, char **member)
{
	const char *t = o->table, *colon;
	struct stat st, in;
	int have_in = stat(input, &in) == 0 && S_ISREG(in.st_mode);

	*member = NULL;
	if (stat(t, &st) == 0)
		return labels_add_src(o, t, "", NULL, 0);
	for (colon = strchr(t, ':'); colon; colon = strchr(colon + 1, ':')) {
		char *archive = strndup(t, (size_t)(colon - t));
		int is_file, same;

		if (!archive)
			return error("out of memory");
		is_file = stat(archive, &st) == 0 && S_ISREG(st.st_mode);
		same = is_file && have_in && st.st_dev == in.st_dev && st.st_ino == in.st_ino;
		if (is_file && !same && arch_sniff(archive)) {
			error("%s: %s is not the INPUT archive (%s); a table in an archive is read "
			      "from the archive being loaded", t, archive, input);
			free(archive);
			return -1;
		}
		free(archive);
		if (!same || !arch_sniff(input))
			continue;
		if (!(*member = strdup(colon + 1)))
			return error("out of memory");
		if (arch_clean_name(*member) != 0) {
			error("%s: '%s' is no member name of an archive", t, colon + 1);
			free(*member);
			*member = NULL;
			return -1;
		}
		return 0;
	}
	return labels_add_src(o, t, "", NULL, 0);
}

void labels_free(struct labels_opts *o)
{
	size_t s;

	for (s = 0; s < o->nsrc; s++) {
		free(o->src[s].name);
		free(o->src[s].dir);
		free(o->src[s].text);
	}
	free(o->src);
	o->src = NULL;
	o->nsrc = 0;
}

/* Folder DIR's metadata.csv or metadata.jsonl (below ROOT, open as DFD;
 * DIR "" or a folder's name and '/'), added to O's tables. 0 (none there
 * too), or -1. Looked for relative to DFD, with no allocation unless one is
 * there: this runs once a class folder. */
static int metadata_in(const char *root, int dfd, const char *dir, struct labels_opts *o)
{
	char csv[NAME_MAX + sizeof("/metadata.csv")], jsonl[NAME_MAX + sizeof("/metadata.jsonl")];
	char *path;
	struct stat st;
	int a, b, r;

	snprintf(csv, sizeof(csv), "%smetadata.csv", dir);
	snprintf(jsonl, sizeof(jsonl), "%smetadata.jsonl", dir);
	a = fstatat(dfd, csv, &st, 0) == 0 && S_ISREG(st.st_mode);
	b = fstatat(dfd, jsonl, &st, 0) == 0 && S_ISREG(st.st_mode);
	if (!a && !b)
		return 0;
	if (a && b) {
		size_t len = strlen(dir), rlen = strlen(root);

		return error("%s%s%.*s: both metadata.csv and metadata.jsonl are here; keep one, "
			     "or name it with --labels-from", root,
			     len && rlen && root[rlen - 1] != '/' ? "/" : "",
			     (int)(len ? len - 1 : 0), dir);
	}
	if (!(path = filelist_join(root, a ? csv : jsonl)))
		return error("out of memory");
	r = labels_add_src(o, path, dir, NULL, 0);
	free(path);
	return r;
}

static int cmp_cstr(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int labels_find_metadata(const char *root, struct labels_opts *o)
{
	struct filelist subs = { 0 };
	struct dirent *de;
	DIR *d;
	size_t k;
	int r = 0;

	if (!(d = opendir(root)))
		return 0;	/* the scan says why */
	if (metadata_in(root, dirfd(d), "", o) < 0) {
		closedir(d);
		return -1;
	}
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		char *sub;

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR &&
		    ((de->d_type != DT_LNK && de->d_type != DT_UNKNOWN) ||
		     fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode)))
			continue;
		r = asprintf(&sub, "%s/", de->d_name) < 0 ? error("out of memory")
							   : filelist_push(&subs, sub);
	}
	/* In byte order: the order of the tables in messages (no folder: no
	 * array, and qsort's is declared never NULL). */
	if (subs.n)
		qsort(subs.paths, subs.n, sizeof(char *), cmp_cstr);
	for (k = 0; r == 0 && k < subs.n; k++)
		r = metadata_in(root, dirfd(d), subs.paths[k], o);
	closedir(d);
	filelist_free(&subs);
	return r;
}

int labels_take_kept(const char *root, struct labels_opts *o)
{
	size_t n, k, j;
	struct arch_table *kt = arch_kept(&n);
	for (k = 0; k < n; k++) {
		const char *slash = strrchr(kt[k].member, '/');
		size_t dl = slash ? (size_t)(slash - kt[k].member) + 1 : 0;
		char *name, *dir, *text;
		int r;

		/* Two metadata files of one folder: which is it? */
		for (j = 0; !o->table && j < k; j++)
			if (strncmp(kt[j].member, kt[k].member, dl) == 0 && !strchr(kt[j].member + dl, '/'))
				return error("%s%s%.*s: both metadata.csv and metadata.jsonl are here; "
					     "keep one, or name it with --labels-from", root, dl ? ":" : "",
					     (int)(dl ? dl - 1 : 0), kt[k].member);
		if (o->table)
			name = strdup(o->table), dir = strdup("");
		else if (asprintf(&name, "%s:%s", root, kt[k].member) < 0)
			name = NULL, dir = NULL;
		else
			dir = strndup(kt[k].member, dl);
		if (!name || !dir) {
			free(name);
			free(dir);
			return error("out of memory");
		}
		text = kt[k].text;	/* taken, not copied */
		kt[k].text = NULL;
		r = labels_add_src(o, name, dir, text, kt[k].len);
		free(name);
		free(dir);
		if (r < 0)
			return -1;
	}
	return 0;
}
