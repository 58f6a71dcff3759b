/* filelist.c - a list of input paths and its orders. Natural order is the
 * default because glob order puts image_10 before image_2, which silently
 * misaligns rows with labels in the Python recipe parimg replaces. Filling
 * it from directories, lists and archives is scan.c's. */
#define _GNU_SOURCE
#include "inputs/filelist.h"
#include "common/err.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const image_exts[] = {
	"png", "jpg", "jpeg", "webp", "gif", "bmp", "dib", "tga", "pgm", "ppm", "pnm", "tif",
	"tiff", "jp2", "j2k", "j2c", "jpc", "jpf", "jpx", "heic", "heif", "hif", "avif", "jxl",
	"sgi", "rgb", "rgba", "bw", "ico", NULL
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
	if (fl->n == 0)
		return;		/* maybe no array: qsort's is declared never NULL */
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

void filelist_leave(struct filelist *fl)
{
	static struct filelist left;

	if (left.paths) {
		filelist_free(fl);
		return;
	}
	left = *fl;
	memset(fl, 0, sizeof(*fl));
}

int filelist_concat(struct filelist *dst, struct filelist *parts, size_t n, size_t *first)
{
	size_t k, total = dst->n;
	char **p;

	for (k = 0; k < n; k++) {
		if (first)
			first[k] = total;
		total += parts[k].n;
	}
	if (first)
		first[n] = total;
	if (total > dst->cap) {
		if (!(p = realloc(dst->paths, total * sizeof(*p))))
			return error("out of memory");
		dst->paths = p;
		dst->cap = total;
	}
	for (k = 0; k < n; k++) {
		if (parts[k].n)
			memcpy(dst->paths + dst->n, parts[k].paths, parts[k].n * sizeof(*p));
		dst->n += parts[k].n;
		free(parts[k].paths);
		memset(&parts[k], 0, sizeof(parts[k]));
	}
	return 0;
}

/* Set in a listing thread: a listing within it runs in it, not on more. */
static __thread int in_list_thread;

unsigned filelist_threads(void)
{
	const char *e = getenv("PARIMG_LIST_THREADS");
	long cpus;
	char *end;

	if (in_list_thread)
		return 1;
	if (e && *e) {
		long v = strtol(e, &end, 10);

		if (!*end && v >= 1 && v <= 256)
			return (unsigned)v;
	}
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 1 ? 1 : cpus > 16 ? 16 : (unsigned)cpus;
}

struct par {
	size_t n, next;		/* next: the first K not yet taken (atomic) */
	void (*fn)(void *ctx, size_t k);
	void *ctx;
};

static void *par_main(void *arg)
{
	struct par *p = arg;
	int was = in_list_thread;
	size_t k;

	in_list_thread = 1;
	err_quiet(1);
	while ((k = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n)
		p->fn(p->ctx, k);
	/* The caller's thread as it was: quiet only if it is a listing one. */
	err_quiet(was);
	in_list_thread = was;
	return NULL;
}

void filelist_parallel(size_t n, unsigned threads, void (*fn)(void *ctx, size_t k), void *ctx)
{
	struct par p = { .n = n, .fn = fn, .ctx = ctx };
	pthread_t tid[255];
	unsigned t, started = 0;

	if (threads > n)
		threads = n > 0 ? (unsigned)(n < 256 ? n : 256) : 1;
	for (t = 1; t < threads && t <= 255; t++) {
		if (pthread_create(&tid[started], NULL, par_main, &p) != 0)
			break;
		started++;
	}
	par_main(&p);		/* the caller takes its share too */
	for (t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}
