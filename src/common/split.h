/* split.h - "load --split": the rows, once sorted and shuffled, cut into
 * named parts (train, val, ...) of given fractions, each part written to
 * files of its own, named after it. */
#ifndef PARIMG_SPLIT_H
#define PARIMG_SPLIT_H

#include <stddef.h>

#define SPLIT_MAX 8		/* parts */
#define SPLIT_NAME_MAX 31	/* bytes of a part's name */

struct split {
	int n;					/* parts; 0 when not splitting */
	char name[SPLIT_MAX][SPLIT_NAME_MAX + 1];
	double frac[SPLIT_MAX];
};

/* "NAME=FRACTION,..." (names of letters, digits, '-' and '_', distinct),
 * or 2 or 3 bare fractions standing for train, val and test. Every fraction
 * in (0, 1], their sum 1. 0, or -1 when S is malformed (no message). */
int split_parse(const char *s, struct split *sp);

/* SIZES[i], the rows of part i of N: floor(fraction * N) for every part
 * but the first, and the rest to the first, as Keras's validation_split
 * computes its validation rows. The parts take consecutive ranges, in the
 * order given. */
void split_sizes(const struct split *sp, size_t n, size_t *sizes);

/* PATH with ".NAME" inserted before the extension of its last component
 * (x.npy -> x.train.npy, rows -> rows.train); malloc'd, NULL if out of
 * memory. */
char *split_path(const char *path, const char *name);

#endif
