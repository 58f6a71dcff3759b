/* filelist.h - a list of input paths (files, "ARCHIVE:MEMBER" rows), sorted
 * in natural, bytewise or given order. A leaf: scan.h fills it. */
#ifndef PARIMG_FILELIST_H
#define PARIMG_FILELIST_H

#include <stddef.h>

enum filelist_order {
	ORDER_NATURAL,		/* image_2 before image_10 */
	ORDER_NAME,		/* bytewise, as sorted(glob(...)) */
	ORDER_NONE,		/* as given */
};

struct filelist {
	char **paths;
	size_t n, cap;
};

/* Append PATH (malloc'd; owned by FL from now on, freed on failure). 0, or
 * -1 with a message printed. */
int filelist_push(struct filelist *fl, char *path);
/* DIR/NAME, malloc'd (no second slash when DIR ends in one); NULL when out
 * of memory. */
char *filelist_join(const char *dir, const char *name);
/* Sort by ORDER (stable for ORDER_NONE: nothing moves). */
void filelist_sort(struct filelist *fl, enum filelist_order order);
void filelist_free(struct filelist *fl);
/* At exit, instead of filelist_free: FL's paths are left for the kernel to
 * take back with the process, and FL is emptied. Freeing them one by one
 * writes to every page they sit in, which after the workers' fork is a
 * copy-on-write fault a page: a tenth of the parent's CPU on a 100,000-image
 * load (bench.sh section p). They stay reachable from a static, so that
 * leak checkers count them as reachable, not lost (git's UNLEAK). Once a
 * process: a second list is freed. */
void filelist_leave(struct filelist *fl);

/* Append PARTS[0..N)'s paths to DST, part after part, moving them (each
 * part is left empty, its array freed): one allocation, the rows of part K
 * starting at DST's old count plus the counts of the parts before it (a
 * prefix sum, into FIRST[K] when FIRST is not NULL; FIRST[N] is the new
 * count). 0, or -1 with a message printed and nothing moved. */
int filelist_concat(struct filelist *dst, struct filelist *parts, size_t n, size_t *first);

/* How many threads list folders: PARIMG_LIST_THREADS when it is a number
 * from 1 to 256 (1: one, the caller), else the processors online, at most
 * 16; 1 within a listing thread (no nesting). */
unsigned filelist_threads(void);
/* Run FN(CTX, K) once for each K in [0, N), on up to THREADS threads (the
 * caller among them), in no set order, with messages off in each (see
 * err_quiet: FN records a failure, and the caller does that K again, in
 * order, to report it). Returns once every K is done; a thread that cannot
 * be started leaves its share to the others. */
void filelist_parallel(size_t n, unsigned threads, void (*fn)(void *ctx, size_t k), void *ctx);

/* Natural order: digit runs compare by value, the rest bytewise; ties by
 * strcmp, so the order is total. */
int natcmp(const char *a, const char *b);
/* Where the first line break in S is, or NULL: LF, CR, VT, FF, the ASCII
 * separators 0x1c to 0x1e, and UTF-8's NEL, U+2028 and U+2029 (the
 * characters Python's str.splitlines() ends a line at). A row's path is
 * one line of the manifest: a path holding one is refused. */
const char *filelist_line_break(const char *s);
/* 1 when NAME has an extension that "load DIR" picks up. */
int filelist_is_image_name(const char *name);

#endif
