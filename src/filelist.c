/* filelist.c - collecting and ordering load's input paths. Natural order is
 * the default because glob order puts image_10 before image_2, which silently
 * misaligns rows with labels in the Python recipe parimg replaces. */
#define _GNU_SOURCE
#include "filelist.h"
#include "arch.h"
#include "err.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const image_exts[] = {
	"png", "jpg", "jpeg", "webp", "gif", "bmp", "tga", "pgm", "ppm", "pnm", "tif", "tiff",
	NULL
};

int filelist_is_image_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	int i;

	if (!dot)
		return 0;
	for (i = 0; image_exts[i]; i++)
		if (strcasecmp(dot + 1, image_exts[i]) == 0)
			return 1;
	return 0;
}

const char *filelist_line_break(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= '\n' && c <= '\r') || (c >= 0x1c && c <= 0x1e) ||
		    (c == 0xc2 && (unsigned char)s[1] == 0x85) ||
		    (c == 0xe2 && (unsigned char)s[1] == 0x80 &&
		     ((unsigned char)s[2] == 0xa8 || (unsigned char)s[2] == 0xa9)))
			return s;
	}
	return NULL;
}

/*
 * Every path the inputs give (a folder's entries, a list's lines, the
 * arguments, archive members) comes through here, so here is where one
 * holding a line break is refused: load's manifest writes each row's path
 * as one line, as it is, and a reader splitting lines (Python's
 * splitlines(), or a text file's universal newlines, which end a line at a
 * CR too) would count more rows than the array holds. Escaping would change
 * every path with a backslash for whoever reads the manifest line by line;
 * archives and class folders already refuse such names.
 */
int filelist_push(struct filelist *fl, char *path)
{
	if (!path)
		return error("out of memory");
	if (filelist_line_break(path)) {
		error("%s: a file name with a newline or other line break (refused: the "
		      "manifest has one path a line)", path);
		free(path);
		return -1;
	}
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 256;
		char **p = realloc(fl->paths, cap * sizeof(*p));

		if (!p) {
			free(path);
			return error("out of memory");
		}
		fl->paths = p;
		fl->cap = cap;
	}
	fl->paths[fl->n++] = path;
	return 0;
}

/* Not asprintf: this runs once a file, 100,000 times for a large dataset,
 * and formatting was a tenth of a class-folder scan. */
char *filelist_join(const char *dir, const char *name)
{
	size_t len = strlen(dir), nlen = strlen(name);
	int slash = !(len && dir[len - 1] == '/');
	char *path = malloc(len + slash + nlen + 1);

	if (!path)
		return NULL;
	memcpy(path, dir, len);
	path[len] = '/';
	memcpy(path + len + slash, name, nlen + 1);
	return path;
}

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

static int add_tree(struct filelist *fl, const char *dir);

static int add_dir(struct filelist *fl, const char *dir, DIR *d)
{
	struct filelist subs = { 0 };
	struct dirent *de;
	size_t k;
	int r = 0;

	for (;;) {
		char *path;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (fl->recursive && !is_listable(dir, de)) {
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
	for (k = 0; r == 0 && k < subs.n; k++)
		r = add_tree(fl, subs.paths[k]);
	filelist_free(&subs);
	return r;
}

static int add_tree(struct filelist *fl, const char *dir)
{
	DIR *d = opendir(dir);

	if (!d)
		return error_errno("%s", dir);
	return add_dir(fl, dir, d);
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

int filelist_add(struct filelist *fl, const char *arg)
{
	struct stat st;
	DIR *d;

	if (strcmp(arg, "-") == 0)
		return add_stdin(fl);
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		d = opendir(arg);
		if (!d)
			return error_errno("%s", arg);
		return add_dir(fl, arg, d);
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

int filelist_none_found(char *const *args, int n, const char *hint)
{
	struct stat st;
	size_t subs;
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(args[i], "-") == 0 || stat(args[i], &st) < 0 || !S_ISDIR(st.st_mode) ||
		    (subs = count_subdirs(args[i])) == 0)
			continue;
		return error("%s: no image files; it has %zu subdirector%s (class folders? use %s)",
			     args[i], subs, subs == 1 ? "y" : "ies", hint);
	}
	return error("%s: no image files in the input", n ? args[0] : "-");
}

int natcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p && *q) {
		if (isdigit(*p) && isdigit(*q)) {
			size_t np = 0, nq = 0;
			int c;

			while (*p == '0')
				p++;
			while (*q == '0')
				q++;
			while (isdigit(p[np]))
				np++;
			while (isdigit(q[nq]))
				nq++;
			if (np != nq)
				return np < nq ? -1 : 1;
			if ((c = memcmp(p, q, np)) != 0)
				return c;
			p += np;
			q += nq;
		} else {
			if (*p != *q)
				return *p < *q ? -1 : 1;
			p++;
			q++;
		}
	}
	if (*p || *q)
		return *p ? 1 : -1;
	return strcmp(a, b);
}

static int cmp_natural(const void *x, const void *y)
{
	return natcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

void filelist_sort(struct filelist *fl, enum filelist_order order)
{
	if (order == ORDER_NATURAL)
		qsort(fl->paths, fl->n, sizeof(*fl->paths), cmp_natural);
	else if (order == ORDER_NAME)
		qsort(fl->paths, fl->n, sizeof(*fl->paths), cmp_name);
}

void filelist_free(struct filelist *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		free(fl->paths[i]);
	free(fl->paths);
	fl->paths = NULL;
	fl->n = fl->cap = 0;
}
