/* masks.c - each row's mask for "load --masks": one listing of each mask
 * folder its rows need (or of the masks' archive), then a binary search per
 * row, in the parent. */
#define _GNU_SOURCE
#include "inputs/masks.h"
#include "inputs/arch.h"
#include "inputs/arch_list.h"
#include "inputs/filelist.h"
#include "common/err.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A mask file found: its key (folder relative to DIR, slash, stem) and path. */
struct cand {
	char *key, *path;
};

static int cand_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cand *)a)->key, ((const struct cand *)b)->key);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* PATH relative to the input it came from: beneath a directory INPUT, an
 * archive INPUT's member, else its own file name. */
static const char *relative(const char *path, char *const *inputs, int ninputs)
{
	const char *slash;
	int k;

	for (k = 0; k < ninputs; k++) {
		const char *a = inputs[k];
		size_t n = strlen(a);

		while (n > 1 && a[n - 1] == '/')
			n--;
		if (strncmp(path, a, n) != 0)
			continue;
		if (path[n] == '/' && path[n + 1])
			return path + n + 1;
		if (n == 1 && a[0] == '/' && path[1])
			return path + 1;
		if (path[n] == ':' && arch_is_member(path))
			return path + n + 1;
	}
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* REL less its extension (the last dot of its file name, not a leading
 * one), malloc'd; *DIRLEN the length of its folder part ("a/b" of
 * "a/b/x.jpg"), 0 for none. */
static char *key_of(const char *rel, size_t *dirlen)
{
	const char *base = strrchr(rel, '/'), *dot;
	size_t n;

	base = base ? base + 1 : rel;
	*dirlen = base > rel ? (size_t)(base - rel - 1) : 0;
	dot = strrchr(base, '.');
	n = dot && dot > base ? (size_t)(dot - rel) : strlen(rel);
	return strndup(rel, n);
}

/* DIR/SUB's image files (SUB "" for DIR itself) as candidates. 0, or -1
 * out of memory. A folder that is not there has none. */
static int list_dir(const char *dir, const char *sub, struct cand **c, size_t *n, size_t *cap)
{
	char *path = *sub ? filelist_join(dir, sub) : strdup(dir);
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (!path)
		return -1;
	if (!(d = opendir(path))) {
		free(path);
		return 0;
	}
	while ((e = readdir(d))) {
		const char *dot;
		char *key;

		if (e->d_name[0] == '.' || !filelist_is_image_name(e->d_name))
			continue;
		if (e->d_type != DT_REG && (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK))
			continue;
		if (e->d_type != DT_REG &&
		    (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode)))
			continue;
		dot = strrchr(e->d_name, '.');
		if (*n == *cap) {
			struct cand *g = realloc(*c, (*cap ? *cap * 2 : 64) * sizeof(**c));

			if (!g)
				goto oom;
			*c = g;
			*cap = *cap ? *cap * 2 : 64;
		}
		if (asprintf(&key, "%s%s%.*s", sub, *sub ? "/" : "", (int)(dot - e->d_name),
			     e->d_name) < 0)
			goto oom;
		(*c)[*n].key = key;
		if (!((*c)[*n].path = filelist_join(path, e->d_name))) {
			free(key);
			goto oom;
		}
		++*n;
	}
	closedir(d);
	free(path);
	return 0;
oom:
	closedir(d);
	free(path);
	return -1;
}

/* Archive ARCHIVE's image members as candidates, each entered into arch.c's
 * member table as "ARCHIVE:MEMBER" (its name as a mask), for the workers to
 * read as they read image members. Never streamed (the stream is the
 * rows'): a compressed tar past the memory budget is spilled to disk. 0, or
 * -1 with a message printed. */
static int list_arch(const char *archive, struct cand **c, size_t *n)
{
	struct listing ls;
	size_t k, dl;
	int was, r;

	/* No labels' tables kept from it: they were taken from the INPUT. */
	if (arch_keep_tables(NULL, 0) < 0)
		return -1;
	was = arch_set_stream(0);
	r = arch_list(&ls, archive);
	arch_set_stream(was);
	if (r == 0 && !(*c = calloc(ls.n + 1, sizeof(**c))))
		r = error("out of memory");
	for (k = 0; r == 0 && k < ls.n; k++) {
		if (!((*c)[k].path = arch_enter(&ls, &ls.m[k]))) {
			r = -1;
		} else if (!((*c)[k].key = key_of(ls.m[k].path, &dl))) {
			free((*c)[k].path);
			r = error("out of memory");
		} else {
			++*n;
		}
	}
	arch_listing_free(&ls);
	return r;
}

/* The first candidate of KEY in C[0..N), or N. */
static size_t lower(const struct cand *c, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(c[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int masks_find(struct masks *m, const struct filelist *files, char *const *inputs, int ninputs,
	       const char *dir, int keep_going)
{
	struct cand *c = NULL;
	char **keys, **dirs;
	size_t nc = 0, cap = 0, nd = 0, i, k, bad = 0;
	struct stat st;
	int r = -1, arch = 0;

	if (stat(dir, &st) < 0)
		return error_errno("%s", dir);
	if (!S_ISDIR(st.st_mode)) {
		if (!S_ISREG(st.st_mode) || arch_sniff(dir) != 1)
			return error("%s: --masks takes a directory or an archive (tar, zip, or a "
				     "compressed tar)", dir);
		for (k = 0; k < (size_t)ninputs; k++)
			if (strcmp(inputs[k], dir) == 0)
				return error("%s: --masks names an INPUT archive (its images would "
					     "be their own masks)", dir);
		arch = 1;
	}
	m->n = files->n;
	m->path = calloc(files->n + 1, sizeof(*m->path));
	m->why = calloc(files->n + 1, sizeof(*m->why));
	keys = calloc(files->n + 1, sizeof(*keys));
	dirs = calloc(files->n + 1, sizeof(*dirs));
	if (!m->path || !m->why || !keys || !dirs)
		goto oom;
	/* Each row's key, and the folders they are in, each listed once. */
	for (i = 0; i < files->n; i++) {
		size_t dl;

		if (!(keys[i] = key_of(relative(files->paths[i], inputs, ninputs), &dl)))
			goto oom;
		if (!(dirs[i] = strndup(keys[i], dl)))
			goto oom;
	}
	if (arch) {
		nd = files->n;		/* each row's, freed as they are */
		if (list_arch(dir, &c, &nc) < 0)
			goto out;
	}
	qsort(dirs, files->n, sizeof(*dirs), str_cmp);
	for (i = 0; !arch && i < files->n; i++) {
		if (nd && strcmp(dirs[i], dirs[nd - 1]) == 0) {
			free(dirs[i]);
			continue;
		}
		dirs[nd++] = dirs[i];
		if (list_dir(dir, dirs[i], &c, &nc, &cap) < 0)
			goto oom;
	}
	if (nc)		/* none: no array, and qsort's is declared never NULL */
		qsort(c, nc, sizeof(*c), cand_cmp);
	for (i = 0; i < files->n; i++) {
		size_t at = lower(c, nc, keys[i]), hits;
		char *why = NULL;
		int e;

		for (hits = 0; at + hits < nc && strcmp(c[at + hits].key, keys[i]) == 0; hits++)
			;
		if (hits == 1) {
			if (!(m->path[i] = strdup(c[at].path)))
				goto oom;
			continue;
		}
		if (hits == 0)
			e = asprintf(&why, "no mask: no image %s %s%s%s.* in --masks",
				     arch ? "member" : "file", dir, arch ? ":" : "/", keys[i]);
		else
			e = asprintf(&why, "two masks of its name: %s and %s", c[at].path,
				     c[at + 1].path);
		if (e < 0)
			goto oom;
		bad++;
		if (keep_going) {
			m->why[i] = why;
		} else {
			warnx("%s: %s", files->paths[i], why);
			free(why);
		}
	}
	r = 0;
	if (bad && !keep_going)
		r = error("%s: %zu of %zu images have no mask, or two (-k skips them)", dir, bad,
			  files->n);
	goto out;
oom:
	r = error("out of memory");
out:
	for (k = 0; k < nc; k++) {
		free(c[k].key);
		free(c[k].path);
	}
	free(c);
	for (i = 0; keys && i < files->n; i++)
		free(keys[i]);
	for (i = 0; dirs && i < nd; i++)
		free(dirs[i]);
	free(keys);
	free(dirs);
	return r;
}

void masks_free(struct masks *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (m->path)
			free(m->path[i]);
		if (m->why)
			free(m->why[i]);
	}
	free(m->path);
	free(m->why);
	m->path = m->why = NULL;
	m->n = 0;
}
