/* dataset.c - class folders to rows and labels, in torchvision ImageFolder's
 * order: classes sorted by name, and within a class the folders as
 * sorted(os.walk(..., followlinks=True)) lists them, each folder's files
 * sorted by name. Hidden names are skipped at every level, as load DIR
 * skips them (ImageFolder would take a ".ipynb_checkpoints" as a class). */
#define _GNU_SOURCE
#include "inputs/dataset.h"
#include "common/err.h"
#include "common/npy.h"
#include "common/rng.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A folder met while walking a class: its files are FILES[begin, end). */
struct folder {
	char *path;
	size_t begin, end;
};

/* One class being walked. */
struct walk {
	struct filelist files;		/* folder by folder, in walk order */
	struct folder *folders;
	size_t nfolders, cap;
};

/* The folders from a class folder down to the one being listed, to tell a
 * symbolic link back to one of them from a new folder. */
struct ancestor {
	dev_t dev;
	ino_t ino;
	const struct ancestor *up;
};

/* Whether entry DE of DIR is a directory, following a symbolic link. */
static int is_dir(const char *path, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_DIR)
		return 1;
	if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
		return 0;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_folder(struct walk *w, const char *path)
{
	if (w->nfolders == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct folder *f = realloc(w->folders, cap * sizeof(*f));

		if (!f)
			return error("out of memory");
		w->folders = f;
		w->cap = cap;
	}
	w->folders[w->nfolders].path = strdup(path);
	if (!w->folders[w->nfolders].path)
		return error("out of memory");
	w->folders[w->nfolders].begin = w->folders[w->nfolders].end = w->files.n;
	w->nfolders++;
	return 0;
}

/* Read DIR's entries: image files onto W's list, subfolders onto SUBS. */
static int list_folder(struct walk *w, const char *dir, DIR *d, struct filelist *subs)
{
	struct dirent *de;

	for (;;) {
		char *path;

		errno = 0;
		if (!(de = readdir(d)))
			break;
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type == DT_REG && !filelist_is_image_name(de->d_name))
			continue;	/* an annotation beside the images: no path made */
		if (!(path = filelist_join(dir, de->d_name)))
			return error("out of memory");
		if (is_dir(path, de)) {
			if (filelist_push(subs, path) < 0)
				return -1;
		} else if (filelist_is_image_name(de->d_name)) {
			if (filelist_push(&w->files, path) < 0)
				return -1;
		} else {
			free(path);
		}
	}
	if (errno)
		return error_errno("%s", dir);
	return 0;
}

/* List folder DIR and, after it, its subfolders, depth first. */
static int walk_folder(struct walk *w, const char *dir, const struct ancestor *up)
{
	struct filelist subs = { 0 };
	struct ancestor me = { .up = up };
	const struct ancestor *a;
	struct stat st;
	size_t i, k;
	int r = -1;
	DIR *d = opendir(dir);

	if (!d)
		return error_errno("%s", dir);
	if (fstat(dirfd(d), &st) < 0) {
		error_errno("%s", dir);
		goto out;
	}
	me.dev = st.st_dev;
	me.ino = st.st_ino;
	for (a = up; a; a = a->up)
		if (a->dev == me.dev && a->ino == me.ino) {
			error("%s: a symbolic link loop (the folder contains itself)", dir);
			goto out;
		}
	k = w->nfolders;
	if (add_folder(w, dir) < 0 || list_folder(w, dir, d, &subs) < 0)
		goto out;
	w->folders[k].end = w->files.n;
	closedir(d);
	d = NULL;
	for (i = 0; i < subs.n; i++)
		if (walk_folder(w, subs.paths[i], &me) < 0)
			goto out;
	r = 0;
out:
	if (d)
		closedir(d);
	filelist_free(&subs);
	return r;
}

static int cmp_folders(const void *x, const void *y, void *ctx)
{
	const char *a = ((const struct folder *)x)->path, *b = ((const struct folder *)y)->path;

	return *(enum filelist_order *)ctx == ORDER_NATURAL ? natcmp(a, b) : strcmp(a, b);
}

/* How a folder's files are compared: by ORDER, from byte SKIP on. */
struct name_order {
	enum filelist_order order;
	size_t skip;
};

static int cmp_names(const void *x, const void *y, void *ctx)
{
	const struct name_order *o = ctx;
	const char *a = *(char *const *)x + o->skip, *b = *(char *const *)y + o->skip;

	return o->order == ORDER_NATURAL ? natcmp(a, b) : strcmp(a, b);
}

/*
 * Sort folder F's files by ORDER. They all start with F's path and a '/',
 * so comparing what follows gives the order of the whole paths (a digit
 * run cannot span the '/'), at a fraction of the cost.
 */
static void sort_folder(struct walk *w, const struct folder *f, enum filelist_order order)
{
	size_t len = strlen(f->path);
	struct name_order o = { order, len + !(len && f->path[len - 1] == '/') };

	if (order != ORDER_NONE)
		qsort_r(w->files.paths + f->begin, f->end - f->begin, sizeof(char *), cmp_names, &o);
}

/* Move W's files onto ROWS (empty), folders and files in ORDER. */
static int take_class(struct filelist *rows, struct walk *w, enum filelist_order order)
{
	size_t i, k;

	if (w->files.n == 0)
		return 0;
	if (!(rows->paths = malloc(w->files.n * sizeof(*rows->paths))))
		return error("out of memory");
	rows->cap = w->files.n;
	if (order != ORDER_NONE)
		qsort_r(w->folders, w->nfolders, sizeof(*w->folders), cmp_folders, &order);
	for (i = 0; i < w->nfolders; i++) {
		struct folder *f = &w->folders[i];

		sort_folder(w, f, order);
		for (k = f->begin; k < f->end; k++) {
			rows->paths[rows->n++] = w->files.paths[k];
			w->files.paths[k] = NULL;
		}
	}
	return 0;
}

static void walk_free(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->files.n; i++)
		free(w->files.paths[i]);	/* those not taken */
	free(w->files.paths);
	for (i = 0; i < w->nfolders; i++)
		free(w->folders[i].path);
	free(w->folders);
	memset(w, 0, sizeof(*w));
}

/* Class folder DIR's rows into ROWS (empty), in ORDER: its folders walked,
 * then sorted. 0, or -1 with a message printed (and ROWS left empty). */
static int walk_class(struct filelist *rows, const char *dir, const struct ancestor *top,
		      enum filelist_order order)
{
	struct walk w = { 0 };
	int r = walk_folder(&w, dir, top);

	if (r == 0 && (r = take_class(rows, &w, order)) < 0)
		filelist_free(rows);
	walk_free(&w);
	return r;
}

/* The classes listed on threads: class K's rows into ROWS[K], and DONE[K]
 * set when that went well. */
struct class_list {
	char **classes;
	const struct ancestor *top;
	enum filelist_order order;
	struct filelist *rows;
	unsigned char *done;
};

static void list_one_class(void *ctx, size_t k)
{
	struct class_list *c = ctx;

	c->done[k] = walk_class(&c->rows[k], c->classes[k], c->top, c->order) == 0;
}

/* The class folders of ROOT, sorted bytewise, into DS->classes. */
static int find_classes(struct dataset *ds, const char *root)
{
	struct filelist dirs = { 0 };
	struct walk files = { 0 };	/* image files beside the classes: not rows */
	DIR *d = opendir(root);
	size_t i;
	int r;

	if (!d)
		return error_errno("%s", root);
	r = list_folder(&files, root, d, &dirs);
	closedir(d);
	walk_free(&files);
	if (r == 0 && dirs.n == 0)
		r = error("%s: no class folders (subdirectories) in it", root);
	filelist_sort(&dirs, ORDER_NAME);
	for (i = 0; r == 0 && i < dirs.n; i++)
		if (strchr(dirs.paths[i], '\n'))
			r = error("%s: a class name with a newline cannot be listed", dirs.paths[i]);
	ds->classes = dirs.paths;
	ds->nclasses = dirs.n;
	return r;
}

/*
 * Each class is listed on its own (on threads, filelist_parallel, when
 * there are several: the walk is the kernel's readdir and a malloc a file,
 * and classes are independent), into its own rows. Then, in class order, a
 * class whose listing failed is listed again here, with messages on, so
 * that the errors are those, and in the order, of a walk class by class;
 * the first that fails again ends it, as it would have. Last, a prefix sum
 * over the classes' counts gives each class its first row, and the rows
 * and labels are laid down in one pass.
 */
int dataset_scan(struct dataset *ds, struct filelist *files, const char *root,
		 enum filelist_order order)
{
	struct ancestor top = { 0 };	/* ROOT: a link back to it is a loop too */
	struct class_list c = { .top = &top, .order = order };
	struct stat st;
	size_t k, i, m, *first = NULL, root_len = strlen(root);
	unsigned threads;
	int r = -1, empty = 0;

	if (find_classes(ds, root) < 0)
		return -1;
	if (stat(root, &st) == 0) {
		top.dev = st.st_dev;
		top.ino = st.st_ino;
	}
	m = ds->nclasses;
	c.classes = ds->classes;
	c.rows = calloc(m + 1, sizeof(*c.rows));
	c.done = calloc(m + 1, 1);
	first = malloc((m + 1) * sizeof(*first));
	if (!c.rows || !c.done || !first) {
		error("out of memory");
		goto out;
	}
	threads = filelist_threads();
	if (threads > 1 && m > 1)
		filelist_parallel(m, threads, list_one_class, &c);
	for (k = 0; k < m; k++) {
		if (!c.done[k] && walk_class(&c.rows[k], ds->classes[k], &top, order) < 0)
			goto out;
		if (c.rows[k].n == 0 && !ds->allow_empty)
			empty = error("%s: no image files in this class folder", ds->classes[k]);
	}
	for (i = files->n, k = 0; k < m; k++)
		i += c.rows[k].n;
	if (i > files->n) {
		int64_t *labels = realloc(ds->labels, (i + 1) * sizeof(*labels));

		if (!labels) {
			error("out of memory");
			goto out;
		}
		ds->labels = labels;
	}
	if (filelist_concat(files, c.rows, m, first) < 0)
		goto out;
	for (k = 0; k < m; k++)
		for (i = first[k]; i < first[k + 1]; i++)
			ds->labels[i] = (int64_t)k;
	/* The classes' paths become their names. */
	for (k = 0; k < m; k++) {
		char *name = ds->classes[k] + root_len;

		while (*name == '/')
			name++;
		memmove(ds->classes[k], name, strlen(name) + 1);
	}
	r = empty;
out:
	for (k = 0; c.rows && k < m; k++)
		filelist_free(&c.rows[k]);
	free(c.rows);
	free(c.done);
	free(first);
	return r;
}

/* Row I's labels (DS's only kind that is set) into row J of the arrays
 * DST (LAB, MULTI, TGT). */
static void move_row(const struct dataset *ds, size_t i, size_t j, int64_t *lab,
		     unsigned char *multi, float *tgt)
{
	if (lab)
		lab[j] = ds->labels[i];
	if (multi)
		memmove(multi + j * ds->cols, ds->multi + i * ds->cols, ds->cols);
	if (tgt)
		memmove(tgt + j * ds->cols, ds->targets + i * ds->cols, ds->cols * sizeof(*tgt));
}

int dataset_shuffle(struct dataset *ds, struct filelist *files, uint64_t seed)
{
	size_t n = files->n, i;
	size_t *perm = malloc((n + 1) * sizeof(*perm));
	char **paths = malloc((n + 1) * sizeof(*paths));
	int64_t *labels = ds->labels ? malloc((n + 1) * sizeof(*labels)) : NULL;
	unsigned char *multi = ds->multi ? malloc(n * ds->cols + 1) : NULL;
	float *tgt = ds->targets ? malloc((n * ds->cols + 1) * sizeof(*tgt)) : NULL;

	if (!perm || !paths || (ds->labels && !labels) || (ds->multi && !multi) ||
	    (ds->targets && !tgt)) {
		free(perm);
		free(paths);
		free(labels);
		free(multi);
		free(tgt);
		return error("out of memory");
	}
	rng_permutation(seed, perm, n);
	for (i = 0; i < n; i++) {
		paths[i] = files->paths[perm[i]];
		move_row(ds, perm[i], i, labels, multi, tgt);
	}
	free(files->paths);
	files->paths = paths;
	files->cap = n + 1;
	if (labels) {
		free(ds->labels);
		ds->labels = labels;
	}
	if (multi) {
		free(ds->multi);
		ds->multi = multi;
	}
	if (tgt) {
		free(ds->targets);
		ds->targets = tgt;
	}
	free(perm);
	return 0;
}

void dataset_keep(struct dataset *ds, struct filelist *files, const unsigned char *keep)
{
	size_t i, j;

	for (i = j = 0; i < files->n; i++) {
		if (!keep[i]) {
			free(files->paths[i]);
			continue;
		}
		move_row(ds, i, j, ds->labels, ds->multi, ds->targets);
		files->paths[j++] = files->paths[i];
	}
	files->n = j;
}

int dataset_write_labels(const struct dataset *ds, size_t first, size_t n, const char *path,
			 struct outfile *o)
{
	if (ds->multi)
		return npy_write_array(ds->multi + first * ds->cols, "u1", n, ds->cols, path, o);
	if (ds->targets)
		return npy_write_array(ds->targets + first * ds->cols, "f4", n, ds->cols, path, o);
	return npy_write_i8(ds->labels + first, n, 0, path, o);
}

int dataset_write_classes(const struct dataset *ds, const char *path, struct outfile *o)
{
	size_t k;

	if (outfile_open(o, path) < 0)
		return -1;
	for (k = 0; k < ds->nclasses; k++)
		if (outfile_write(o, ds->classes[k], strlen(ds->classes[k])) < 0 ||
		    outfile_write(o, "\n", 1) < 0)
			return -1;
	return 0;
}

void dataset_free(struct dataset *ds)
{
	size_t k;

	free(ds->labels);
	free(ds->multi);
	free(ds->targets);
	for (k = 0; k < ds->nclasses; k++)
		free(ds->classes[k]);
	free(ds->classes);
	memset(ds, 0, sizeof(*ds));
}
