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
