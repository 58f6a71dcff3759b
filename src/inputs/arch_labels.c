/* arch_labels.c - --labels on an archive: its class folders turned into
 * rows and labels in torchvision ImageFolder's order, as dataset.c does for
 * a directory, or a webdataset shard's KEY.cls numbers. */
#define _GNU_SOURCE
#include "inputs/arch.h"
#include "inputs/arch_list.h"
#include "common/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A row being sorted: by label, then folder, then name in the folder. */
struct keyed {
	char *dir;		/* the member's folder ("" at the top) */
	const char *base;	/* and the rest of its path, from the '/' */
	char *name;		/* the row's name */
	int64_t label;
};

/* Folder-then-file order, as dataset.c walks a class: folders by their
 * paths, then the files of each. */
static int cmp_in_class(const void *x, const void *y, void *ctx)
{
	const struct keyed *a = x, *b = y;
	enum filelist_order order = *(enum filelist_order *)ctx;
	int c;

	if (a->label != b->label)
		return a->label < b->label ? -1 : 1;
	c = order == ORDER_NATURAL ? natcmp(a->dir, b->dir) : strcmp(a->dir, b->dir);
	if (c)
		return c;
	return order == ORDER_NATURAL ? natcmp(a->base, b->base) : strcmp(a->base, b->base);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_cls_key(const void *x, const void *y)
{
	return strcmp(((const struct member *)x)->path, ((const struct member *)y)->path);
}

static int cmp_label(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* The one folder that is all of LS's root, when it holds folders (as an
 * unzip gives a dataset's folder): its length with the slash, or 0. */
static size_t common_top(const struct listing *ls)
{
	size_t k, n;
	int subs = 0;

	if (!ls->dirs.n)
		return 0;
	n = strcspn(ls->dirs.paths[0], "/");
	for (k = 0; k < ls->n; k++)
		if (strncmp(ls->m[k].path, ls->dirs.paths[0], n) != 0 || ls->m[k].path[n] != '/')
			return 0;	/* an image at the root */
	for (k = 0; k < ls->dirs.n; k++) {
		const char *d = ls->dirs.paths[k];

		if (strncmp(d, ls->dirs.paths[0], n) != 0 || (d[n] != '\0' && d[n] != '/'))
			return 0;	/* another folder at the root */
		subs |= d[n] == '/';
	}
	return subs ? n + 1 : 0;
}

/* The class folders: the folders one level under the top (TOP bytes of a
 * path, slash included; 0 for the archive's root), sorted bytewise. */
static int class_names(const struct listing *ls, size_t top, struct filelist *names)
{
	size_t k, w;

	for (k = 0; k < ls->dirs.n; k++) {
		const char *d = ls->dirs.paths[k];

		if (strlen(d) > top &&
		    (top == 0 || (strncmp(d, ls->dirs.paths[0], top - 1) == 0 && d[top - 1] == '/')) &&
		    !strchr(d + top, '/') &&
		    filelist_push(names, strdup(d + top)) < 0)
			return -1;
	}
	if (names->n)
		filelist_sort(names, ORDER_NAME);
	for (k = w = 0; k < names->n; k++) {
		if (w && strcmp(names->paths[k], names->paths[w - 1]) == 0)
			free(names->paths[k]);
		else
			names->paths[w++] = names->paths[k];
	}
	names->n = w;
	return 0;
}

static int scan_folders(struct dataset *ds, struct filelist *files, struct listing *ls,
			enum filelist_order order)
{
	size_t top = common_top(ls), k, n = 0, c;
	struct filelist names = { 0 };
	struct keyed *rows = NULL;
	size_t *count = NULL;
	int r = -1;

	if (class_names(ls, top, &names) < 0)
		goto out;
	if (names.n == 0) {
		r = error("%s: no class folders in it", ls->archive);
		goto out;
	}
	for (k = 0; k < names.n; k++)
		if (strchr(names.paths[k], '\n')) {
			r = error("%s: a class name with a newline cannot be listed", ls->archive);
			goto out;
		}
	rows = calloc(ls->n + 1, sizeof(*rows));
	count = calloc(names.n, sizeof(*count));
	if (!rows || !count) {
		r = error("out of memory");
		goto out;
	}
	for (k = 0; k < ls->n; k++) {
		const char *rest = ls->m[k].path + top;
		const char *slash = strchr(rest, '/');
		char *cls, **hit;

		if (!slash)
			continue;	/* an image beside the classes: no row */
		if (!(cls = strndup(rest, (size_t)(slash - rest))))
			goto oom;
		hit = bsearch(&cls, names.paths, names.n, sizeof(char *), cmp_str);
		free(cls);
		slash = strrchr(ls->m[k].path, '/');
		rows[n].base = slash;
		rows[n].label = (int64_t)(hit - names.paths);
		if (!(rows[n].dir = strndup(ls->m[k].path, (size_t)(slash - ls->m[k].path))))
			goto oom;
		if (!(rows[n].name = arch_enter(ls, &ls->m[k]))) {
			free(rows[n].dir);
			goto out;
		}
		count[hit - names.paths]++;
		n++;
	}
	for (c = 0; c < names.n; c++)
		if (!count[c] && !ds->allow_empty) {
			r = error("%s:%.*s%s: no image files in this class folder", ls->archive,
				  (int)top, ls->dirs.paths[0], names.paths[c]);
			goto out;
		}
	/* Stable for ORDER_NONE: qsort_r is not, so break ties by position. */
	if (order == ORDER_NONE) {
		/* Labels ascending, archive order within: a counting pass. */
		struct keyed *sorted = malloc((n + 1) * sizeof(*sorted));
		size_t *at = calloc(names.n + 1, sizeof(*at));

		if (!sorted || !at) {
			free(sorted);
			free(at);
			goto oom;
		}
		for (c = 1; c <= names.n; c++)
			at[c] = at[c - 1] + count[c - 1];
		for (k = 0; k < n; k++)
			sorted[at[rows[k].label]++] = rows[k];
		free(at);
		free(rows);
		rows = sorted;
	} else {
		qsort_r(rows, n, sizeof(*rows), cmp_in_class, &order);
	}
	{
		int64_t *lab = realloc(ds->labels, (files->n + n + 1) * sizeof(*lab));

		if (!lab)
			goto oom;
		ds->labels = lab;
	}
	for (k = 0; k < n; k++) {
		ds->labels[files->n] = rows[k].label;
		r = filelist_push(files, rows[k].name);
		rows[k].name = NULL;
		if (r < 0)
			goto out;
	}
	ds->classes = names.paths;
	ds->nclasses = names.n;
	names.paths = NULL;
	names.n = 0;
	r = 0;
	goto out;
oom:
	r = error("out of memory");
out:
	if (rows)
		for (k = 0; k < n; k++) {
			free(rows[k].name);
			free(rows[k].dir);
		}
	free(rows);
	free(count);
	filelist_free(&names);
	return r;
}

/* The class of webdataset member PATH: its KEY.cls's number, or NULL. */
static const struct member *cls_of(const struct listing *ls, const char *path)
{
	size_t key = arch_wds_key(path);
	struct member want = { .path = strndup(path, key) };
	const struct member *hit;

	if (!key || !want.path) {
		free(want.path);
		return NULL;
	}
	hit = bsearch(&want, ls->cls, ls->ncls, sizeof(*ls->cls), cmp_cls_key);
	free(want.path);
	return hit;
}

/* webdataset: each image's label is its KEY.cls's number; the rows follow
 * --order as a plain archive's, and the classes are the numbers found. */
static int scan_wds(struct dataset *ds, struct filelist *files, struct listing *ls,
		    enum filelist_order order)
{
	size_t k, start = files->n, skip = strlen(ls->archive) + 1;
	struct filelist mine = { 0 };
	int64_t *seen = NULL, *lab;
	int r = -1;

	if (ls->ncls)
		qsort(ls->cls, ls->ncls, sizeof(*ls->cls), cmp_cls_key);
	for (k = 1; k < ls->ncls; k++)
		if (strcmp(ls->cls[k].path, ls->cls[k - 1].path) == 0)
			return error("%s:%s.cls: a duplicate member name", ls->archive,
				     ls->cls[k].path);
	for (k = 0; k < ls->n; k++) {
		char *name;

		if (!cls_of(ls, ls->m[k].path)) {
			r = error("%s:%s: no KEY.cls member beside it for its label (in a webdataset "
				  "shard every image's key needs one)", ls->archive, ls->m[k].path);
			goto out;
		}
		if (!(name = arch_enter(ls, &ls->m[k])) || filelist_push(&mine, name) < 0)
			goto out;
	}
	if (mine.n)
		filelist_sort(&mine, order);
	seen = malloc((mine.n + 1) * sizeof(*seen));
	lab = realloc(ds->labels, (start + mine.n + 1) * sizeof(*lab));
	if (lab)
		ds->labels = lab;
	if (!seen || !lab) {
		r = error("out of memory");
		goto out;
	}
	for (k = 0; k < mine.n; k++) {
		ds->labels[start + k] = seen[k] = (int64_t)cls_of(ls, mine.paths[k] + skip)->off;
		if (filelist_push(files, mine.paths[k]) < 0) {
			mine.paths[k] = NULL;
			goto out;
		}
		mine.paths[k] = NULL;
	}
	if (mine.n)
		qsort(seen, mine.n, sizeof(*seen), cmp_label);
	if (!(ds->classes = calloc(mine.n + 1, sizeof(char *)))) {
		r = error("out of memory");
		goto out;
	}
	for (k = 0; k < mine.n; k++) {
		char num[32];

		if (k && seen[k] == seen[k - 1])
			continue;
		snprintf(num, sizeof(num), "%" PRId64, seen[k]);
		if (!(ds->classes[ds->nclasses] = strdup(num))) {
			r = error("out of memory");
			goto out;
		}
		ds->nclasses++;
	}
	r = 0;
out:
	for (k = 0; k < mine.n; k++)
		free(mine.paths[k]);
	free(mine.paths);
	free(seen);
	return r;
}

int arch_scan(struct dataset *ds, struct filelist *files, const char *archive,
	      enum filelist_order order)
{
	struct listing ls;
	int r = arch_list(&ls, archive);
	size_t k, nkept;

	arch_kept(&nkept);
	if (r == 0 && nkept) {
		/* Hugging Face's metadata (arch_keep_tables) labels the images,
		 * not their folders: every image, as arch_add lists them. */
		for (k = 0; r == 0 && k < ls.n; k++) {
			char *name = arch_enter(&ls, &ls.m[k]);

			r = name ? filelist_push(files, name) : -1;
		}
		if (r == 0 && files->n)
			filelist_sort(files, order);
	} else if (r == 0) {
		r = ls.ncls ? scan_wds(ds, files, &ls, order) : scan_folders(ds, files, &ls, order);
	}
	arch_listing_free(&ls);
	return r;
}
