/* dataset.h - a dataset as people keep one on disk: DIR/CLASS/... folders
 * turned into rows and integer labels (torchvision's ImageFolder rules), a
 * seeded shuffle of the rows, and the labels and class names written out
 * beside the array. The paths of the rows are a struct filelist. */
#ifndef PARIMG_DATASET_H
#define PARIMG_DATASET_H

#include "inputs/filelist.h"
#include "common/outfile.h"

#include <stddef.h>
#include <stdint.h>

/* What goes with the rows' paths (a struct filelist, kept apart so that a
 * plain load needs none of this). */
struct dataset {
	int64_t *labels;	/* the class of each row; NULL without classes */
	char **classes;		/* class names, indexed by label */
	size_t nclasses;
	/* Labels from a table (labels.h), instead of LABELS: */
	unsigned char *multi;	/* --multi-label: a row of COLS 0s and 1s each */
	float *targets;		/* --targets: a row of COLS numbers each */
	size_t cols;
	int allow_empty;	/* set before dataset_scan: an empty class is no
				 * error (check reports it; load refuses it) */
};

/*
 * The rows of ROOT's class folders: its subdirectories (symbolic links to
 * directories included, hidden names skipped), numbered from 0 in bytewise
 * order of their names. Each class's image files (as filelist_add picks
 * them) are found at any depth, following symbolic links; within a class
 * the files directly in each folder are sorted by ORDER, and the folders
 * taken in ORDER of their paths, as sorted(os.walk(...)) gives them to
 * ImageFolder (ORDER_NONE: as the directories list them). An empty class
 * (unless DS->allow_empty), an unreadable folder or a symbolic-link loop
 * is an error naming it.
 * 0, or -1 with a message printed.
 */
int dataset_scan(struct dataset *ds, struct filelist *files, const char *root,
		 enum filelist_order order);

/* Permute the rows, FILES and DS's labels (if any) alike: row i becomes the
 * row perm[i] was, perm from rng_permutation(SEED). 0, or -1 with a
 * message printed. */
int dataset_shuffle(struct dataset *ds, struct filelist *files, uint64_t seed);

/* Keep only the rows whose KEEP byte is 1, in order: FILES (the others'
 * paths freed) and DS's labels alike. */
void dataset_keep(struct dataset *ds, struct filelist *files, const unsigned char *keep);

/* Write rows [FIRST, FIRST + N)'s labels as an int64 .npy of shape (N,)
 * (or, from a table, the (N, COLS) uint8 multi-hot rows or float32
 * targets) into a temporary file for PATH (committed by the caller). */
int dataset_write_labels(const struct dataset *ds, size_t first, size_t n, const char *path,
			 struct outfile *o);
/* Write the class names, one a line, into a temporary file for PATH. */
int dataset_write_classes(const struct dataset *ds, const char *path, struct outfile *o);

void dataset_free(struct dataset *ds);

#endif
