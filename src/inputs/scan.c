/* scan.c - directories, lists and archives to rows: the one walk load and
 * check make over their inputs before anything is decoded. */
#define _GNU_SOURCE
#include "inputs/scan.h"
#include "inputs/arch.h"
#include "inputs/input.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Directory entries that are not directories: regular files, and symlinks
 * and the like, which then fail, named, when opened. */
static int is_listable(const char *dir, const struct dirent *de)
{
	struct stat st;
	char path[4096];

	if (de->d_type == DT_DIR)
		return 0;
	if (de->d_type != DT_UNKNOWN)
		return 1;
	snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
	return stat(path, &st) < 0 || !S_ISDIR(st.st_mode);
}

static int add_tree(struct filelist *fl, const char *dir, int recursive);

/* Subfolders listed on threads: SUBS[K]'s rows into PARTS[K], DONE[K] set
 * when that went well. */
struct sub_list {
	char **subs;
	int recursive;
	struct filelist *parts;
	unsigned char *done;
};

static void list_one_sub(void *ctx, size_t k)
{
	struct sub_list *a = ctx;

	a->done[k] = add_tree(&a->parts[k], a->subs[k], a->recursive) == 0;
	if (!a->done[k])
		filelist_free(&a->parts[k]);
}

/*
 * The rows of folders SUBS (in order) onto FL: each listed on its own, on
 * threads when there are several (filelist_parallel), then, in order, one
 * that failed listed again with messages on, so that the errors are those
 * of a walk folder by folder, the first ending it; and the rows laid down
 * by a prefix sum over the folders' counts (filelist_concat).
 */
static int add_trees(struct filelist *fl, struct filelist *subs, int recursive)
{
	struct sub_list a = { .subs = subs->paths, .recursive = recursive };
	unsigned threads = filelist_threads();
	size_t k;
	int r = -1;

	if (threads <= 1 || subs->n < 2) {
		for (k = 0; k < subs->n; k++)
			if (add_tree(fl, subs->paths[k], recursive) < 0)
				return -1;
		return 0;
	}
	a.parts = calloc(subs->n, sizeof(*a.parts));
	a.done = calloc(subs->n, 1);
	if (!a.parts || !a.done) {
		error("out of memory");
		goto out;
	}
	filelist_parallel(subs->n, threads, list_one_sub, &a);
	for (k = 0; k < subs->n; k++)
		if (!a.done[k] && add_tree(&a.parts[k], subs->paths[k], recursive) < 0)
			goto out;
	r = filelist_concat(fl, a.parts, subs->n, NULL);
out:
	for (k = 0; a.parts && k < subs->n; k++)
		filelist_free(&a.parts[k]);
	free(a.parts);
	free(a.done);
	return r;
}

static int add_dir(struct filelist *fl, const char *dir, DIR *d, int recursive)
{
	struct filelist subs = { 0 };
	struct dirent *de;
	int r = 0;

	for (;;) {
		char *path;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (recursive && !is_listable(dir, de)) {
			/* A folder (not a link to one: no loops), for later. */
			struct stat st;

			path = filelist_join(dir, de->d_name);
			if (path && de->d_type == DT_UNKNOWN &&
			    (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))) {
				free(path);
				continue;
			}
			if ((r = filelist_push(&subs, path)) < 0)
				break;
			continue;
		}
		if (!filelist_is_image_name(de->d_name) || !is_listable(dir, de))
			continue;
		path = filelist_join(dir, de->d_name);
		if ((r = filelist_push(fl, path)) < 0)
			break;
	}
	if (r == 0 && errno)
		r = error_errno("%s", dir);
	closedir(d);
	if (r == 0)
		r = add_trees(fl, &subs, recursive);
	filelist_free(&subs);
	return r;
}

static int add_tree(struct filelist *fl, const char *dir, int recursive)
{
	DIR *d = opendir(dir);

	if (!d)
		return error_errno("%s", dir);
	return add_dir(fl, dir, d, recursive);
}

/* A file named on the command line or in a list: an archive's members, or
 * itself (a name with an image extension is taken as an image unread). */
static int add_file(struct filelist *fl, const char *path)
{
	if (!filelist_is_image_name(path) && arch_sniff(path))
		return arch_add(fl, path);
	return filelist_push(fl, strdup(path));
}

static int add_stdin(struct filelist *fl)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (add_file(fl, line) < 0) {
			free(line);
			return -1;
		}
	}
	free(line);
	if (ferror(stdin))
		return error_errno("standard input");
	return 0;
}

int scan_add(struct filelist *fl, const char *arg, int recursive)
{
	struct stat st;
	DIR *d;

	if (strcmp(arg, "-") == 0)
		return add_stdin(fl);
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		d = opendir(arg);
		if (!d)
			return error_errno("%s", arg);
		return add_dir(fl, arg, d, recursive);
	}
	/* A file, or something that fails when opened: let the decoder
	 * report it with the rest, in order. */
	return add_file(fl, arg);
}

/* Subdirectories of DIR, hidden ones skipped; 0 when it cannot be read. */
static size_t count_subdirs(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		char *path;

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_LNK &&
					     de->d_type != DT_UNKNOWN))
			continue;
		if (de->d_type == DT_DIR) {
			n++;
			continue;
		}
		if ((path = filelist_join(dir, de->d_name))) {
			n += stat(path, &st) == 0 && S_ISDIR(st.st_mode);
			free(path);
		}
	}
	closedir(d);
	return n;
}

int scan_is_class_tree(const char *arg)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int images = 0;

	if (strcmp(arg, "-") == 0 || stat(arg, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    !(d = opendir(arg)))
		return 0;
	while (!images && (de = readdir(d)))
		images = de->d_name[0] != '.' && filelist_is_image_name(de->d_name) &&
			 is_listable(arg, de);
	closedir(d);
	return !images && count_subdirs(arg) > 0;
}

/* The error for inputs ARGS[0..N) that named no image file: with, for a
 * directory holding subdirectories (a class tree) not searched (not
 * RECURSIVE), how many and HINT, the option that reads class folders.
 * Returns -1. */
static int none_found(char *const *args, int n, int recursive, const char *hint)
{
	struct stat st;
	size_t subs;
	int i;

	for (i = 0; !recursive && hint && i < n; i++) {
		if (strcmp(args[i], "-") == 0 || stat(args[i], &st) < 0 || !S_ISDIR(st.st_mode) ||
		    (subs = count_subdirs(args[i])) == 0)
			continue;
		return error("%s: no image files; it has %zu subdirector%s (class folders? use %s)",
			     args[i], subs, subs == 1 ? "y" : "ies", hint);
	}
	return error("%s: no image files in the input", n ? args[0] : "-");
}

/* Directories given as inputs, listed on threads: ARGS[K]'s rows (when
 * DIR[K]) into PARTS[K], DONE[K] set when that went well. */
struct arg_list {
	char *const *args;
	int recursive;
	const unsigned char *dir;
	struct filelist *parts;
	unsigned char *done;
};

static void list_one_arg(void *ctx, size_t k)
{
	struct arg_list *a = ctx;
	DIR *d;

	if (!a->dir[k] || !(d = opendir(a->args[k])))
		return;
	a->done[k] = add_dir(&a->parts[k], a->args[k], d, a->recursive) == 0;
	if (!a->done[k])
		filelist_free(&a->parts[k]);
}

/*
 * Every input's rows onto FILES, in the order given: the directories among
 * them listed on threads when there are several, then, in order, the other
 * inputs (files, archives, "-": their readers are not for threads) and any
 * directory whose listing failed (again, with messages on, so that the
 * errors are those of a walk input by input), and the rows laid down by a
 * prefix sum (filelist_concat). 0, or -1 with a message printed.
 */
static int add_args(struct filelist *files, char *const *args, int n, int recursive)
{
	struct arg_list a = { .args = args, .recursive = recursive };
	unsigned char *dir = NULL;
	unsigned threads = filelist_threads();
	struct stat st;
	size_t k, ndirs = 0, m = (size_t)n;
	int r = -1;

	if (threads > 1 && n > 1) {
		if (!(dir = calloc(m, 1)))
			return error("out of memory");
		for (k = 0; k < m; k++)
			ndirs += dir[k] = strcmp(args[k], "-") != 0 && stat(args[k], &st) == 0 &&
					  S_ISDIR(st.st_mode);
	}
	if (ndirs < 2) {
		free(dir);
		for (k = 0; k < m; k++)
			if (scan_add(files, args[k], recursive) < 0)
				return -1;
		return 0;
	}
	a.dir = dir;
	a.parts = calloc(m, sizeof(*a.parts));
	a.done = calloc(m, 1);
	if (!a.parts || !a.done) {
		error("out of memory");
		goto out;
	}
	filelist_parallel(m, threads, list_one_arg, &a);
	for (k = 0; k < m; k++)
		if (!a.done[k] && scan_add(&a.parts[k], args[k], recursive) < 0)
			goto out;
	r = filelist_concat(files, a.parts, m, NULL);
out:
	for (k = 0; a.parts && k < m; k++)
		filelist_free(&a.parts[k]);
	free(a.parts);
	free(a.done);
	free(dir);
	return r;
}

int scan_collect(struct filelist *files, struct dataset *ds, char *const *args, int n,
		 const struct scan_opts *o)
{
	arch_set_member_max(o->member_max);
	if (o->labels)
		return (arch_sniff(args[0]) ? arch_scan : dataset_scan)(ds, files, args[0], o->order);
	if (add_args(files, args, n, o->recursive) < 0)
		return -1;
	if (files->n == 0)
		return none_found(args, n, o->recursive, o->hint);
	filelist_sort(files, o->order);
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* LIST's bytes, NUL-terminated, into *TEXT and its paths into *PATHS
 * (pointing into it), sorted. 0, or -1 with a message printed. */
static int read_list(const char *list, char **text, char ***paths, size_t *n)
{
	struct buf b = { 0 };
	char why[256], sep, *p, *end, **v;
	size_t cap = 0;

	*paths = NULL;
	*n = 0;
	if (input_read(list, &b, why, sizeof(why)) < 0) {
		free(b.p);
		return error("%s: %s", list, why);
	}
	if (buf_reserve(&b, 1) < 0) {
		free(b.p);
		return error("out of memory");
	}
	*text = (char *)b.p;
	end = *text + b.len;
	*end = '\0';
	sep = memchr(*text, '\0', b.len) ? '\0' : '\n';
	for (p = *text; p < end;) {
		char *e = memchr(p, sep, (size_t)(end - p));

		if (!e)
			e = end;
		*e = '\0';
		if (e > p) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 256;
				if (!(v = realloc(*paths, cap * sizeof(*v)))) {
					free(*paths);
					return error("out of memory");
				}
				*paths = v;
			}
			(*paths)[(*n)++] = p;
		}
		p = e + 1;
	}
	if (*n)
		qsort(*paths, *n, sizeof(**paths), cmp_str);
	return 0;
}

int scan_exclude(struct filelist *files, struct dataset *ds, const char *list,
		 size_t *dropped, size_t *unmatched)
{
	char *text = NULL, **paths;
	unsigned char *used, *keep;
	size_t n, i, j, k;

	if (read_list(list, &text, &paths, &n) < 0) {
		free(text);
		return -1;
	}
	if (!(used = calloc(n + 1, 1))) {
		free(paths);
		free(text);
		return error("out of memory");
	}
	if (!(keep = malloc(files->n + 1))) {
		free(used);
		free(paths);
		free(text);
		return error("out of memory");
	}
	for (i = 0; i < files->n; i++) {
		char **hit = n ? bsearch(&files->paths[i], paths, n, sizeof(*paths), cmp_str) : NULL;

		keep[i] = !hit;
		if (hit)
			used[hit - paths] = 1;
	}
	j = files->n;
	dataset_keep(ds, files, keep);
	*dropped = j - files->n;
	free(keep);
	for (*unmatched = 0, k = 0; k < n; k++)
		*unmatched += !used[k] && (k == 0 || strcmp(paths[k], paths[k - 1]) != 0);
	free(used);
	free(paths);
	free(text);
	return 0;
}
