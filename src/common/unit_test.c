/* unit_test.c - helpers shared by the Criterion unit tests (unit_test.h).
 * No tests of its own: it only matches *_test.c so that the Makefile links
 * it into build/unit_tests and keeps it out of parimg. */
#define _GNU_SOURCE
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

char ut_scratch[64];

void ut_capture_begin(struct ut_capture *c)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "/tmp/parimg_unit.err.XXXXXX");
	fd = mkstemp(c->path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	/* Whatever stdio still holds belongs to the real stderr. */
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	cr_assert_geq(c->saved, 0);
	cr_assert_geq(dup2(fd, STDERR_FILENO), 0);
	close(fd);
}

/* The whole file is read back, however long: a pool's workers may have
 * written to it too. */
char *ut_capture_end(struct ut_capture *c)
{
	FILE *fp;
	char *text;
	long n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	fp = fopen(c->path, "r");
	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	cr_assert_not_null(text);
	cr_assert_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	unlink(c->path);
	return text;
}

/* One data page more than LEN needs, so that even LEN 0 has a readable
 * page before the guard. */
void ut_guard_copy(struct ut_guard *g, const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + page - 1) / page + 1;

	g->maplen = (data_pages + 1) * page;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	cr_assert_neq(g->map, MAP_FAILED, "mmap: %s", strerror(errno));
	cr_assert_eq(mprotect((char *)g->map + data_pages * page, page, PROT_NONE), 0);
	g->p = (unsigned char *)g->map + data_pages * page - len;
	if (len)
		memcpy(g->p, src, len);
}

void ut_guard_free(struct ut_guard *g)
{
	munmap(g->map, g->maplen);
}

void ut_scratch_make(void)
{
	snprintf(ut_scratch, sizeof(ut_scratch), "/tmp/parimg_unit.XXXXXX");
	cr_assert_not_null(mkdtemp(ut_scratch), "mkdtemp: %s", strerror(errno));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Depth first, so each directory is empty by the time it is removed;
 * symlinks are removed, never followed. */
void ut_scratch_remove(void)
{
	if (ut_scratch[0])
		nftw(ut_scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void ut_touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ut_scratch, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	close(fd);
}

void ut_mkdir(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", ut_scratch, name);
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
}

void ut_assert_strs(char *const *got, size_t n, const char *prefix, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		char s[256];

		cr_assert_lt(i, n, "only %zu strings, %s expected next", n, want[i]);
		snprintf(s, sizeof(s), "%s%s", prefix, want[i]);
		cr_assert_str_eq(got[i], s, "string %zu", i);
	}
	cr_assert_eq(n, i, "%zu strings, %zu expected", n, i);
}
