/* unit_test.h - helpers shared by the Criterion unit tests (the *_test.c
 * files): stderr captured into a file, bytes ending at a guard page, and a
 * scratch directory removed after the test. Linked into build/unit_tests
 * only. */
#ifndef PARIMG_UNIT_TEST_H
#define PARIMG_UNIT_TEST_H

#include <stddef.h>

/* Stderr sent to a temporary file between ut_capture_begin() and
 * ut_capture_end(), so that messages (forked workers' included) can be
 * read back and checked. */
struct ut_capture {
	int saved;		/* the real stderr, dup'ed */
	char path[64];		/* the temporary file */
};

/* Redirect stderr into a new temporary file; a failure fails the test. */
void ut_capture_begin(struct ut_capture *c);
/* Restore stderr and return all that was written, malloc'd and
 * NUL-terminated; the temporary file is removed. */
char *ut_capture_end(struct ut_capture *c);

/* LEN bytes placed so that the byte after them is on a PROT_NONE page:
 * code reading past the end dies with SIGSEGV instead of passing. */
struct ut_guard {
	void *map;		/* the whole mapping, guard page included */
	size_t maplen;
	unsigned char *p;	/* the bytes, ending at the guard page */
};

/* Copy LEN bytes of SRC (LEN may be 0) to the end of fresh guarded pages. */
void ut_guard_copy(struct ut_guard *g, const void *src, size_t len);
/* Unmap what ut_guard_copy() mapped. */
void ut_guard_free(struct ut_guard *g);

/* The running test's scratch directory, "" until ut_scratch_make(). Each
 * Criterion test runs in a process of its own, so each has its own. */
extern char ut_scratch[64];

/* Create a fresh, empty directory under /tmp as ut_scratch. */
void ut_scratch_make(void);
/* Remove ut_scratch and everything in it, if it was made; fit for a
 * test's or suite's .fini. */
void ut_scratch_remove(void);
/* Create the empty file, or the directory, NAME under ut_scratch. */
void ut_touch(const char *name);
void ut_mkdir(const char *name);

/* WANT (NULL-terminated, each with PREFIX before it) are exactly the N
 * strings GOT, in order. */
void ut_assert_strs(char *const *got, size_t n, const char *prefix, const char *const *want);

#endif
