/* labels.h - a dataset's labels as it is written down beside its images: a
 * table (CSV, TSV or JSON Lines, table.h) whose rows are matched to the
 * images, Hugging Face's metadata.csv or metadata.jsonl, or a regular
 * expression over the images' paths. The result goes into a struct dataset
 * (dataset.h), so shuffle, split, shard and the writers take it as they
 * take class folders'. */
#ifndef PARIMG_LABELS_H
#define PARIMG_LABELS_H

#include "inputs/dataset.h"
#include "inputs/filelist.h"

/* What load's options ask for. */
struct labels_opts {
	const char *table;	/* --labels-from FILE (or a metadata file), or NULL */
	const char *path_col;	/* --path-column; NULL: the first of file_name,
				 * filename, path, image, image_name, image_id,
				 * id there is */
	const char *label_col;	/* --label-column; NULL: "label" */
	const char *multi_sep;	/* --multi-label SEP, or NULL */
	const char *targets;	/* --targets COL,..., or NULL */
	const char *regex;	/* --label-regex RE, or NULL (and table NULL) */
	int skip_unlabelled;	/* --unlabelled skip: drop images without a label */
	const char *root;	/* the one INPUT: rows' paths are relative to it */
};

/*
 * Label the rows FILES (INPUT O->root's images, in load's order, which is
 * kept) into DS, by O's table or regular expression.
 * A table row's key (its path column) names the image whose path relative
 * to the root equals it; else the one whose relative path less its
 * extension equals it; else the one whose file name equals it; else the
 * one whose file name less its extension equals it (a Kaggle id for an
 * image in a folder of INPUT, as in a zip's train/). Two images
 * for one key, a row naming no image, an image named by no row (unless
 * O->skip_unlabelled, which drops it and says how many), a key listed
 * twice (or two keys naming one image) and a cell that is no number in a
 * --targets column are each reported, naming FILE:LINE or the image; any
 * such problem fails the whole call, before anything is decoded.
 * Labels: a column of integers keeps its values; any other column's
 * strings are classes numbered from 0 in byte order of their names (DS's
 * classes); with O->multi_sep each cell's classes (split at it, empty ones
 * dropped) become a multi-hot row; O->targets' columns become float32 rows,
 * each cell as strtod then rounded to float (NumPy's float32(float(s))).
 * 0, or -1 with every problem printed.
 */
int labels_apply(struct dataset *ds, struct filelist *files, const struct labels_opts *o);

/* Whether RE compiles as a POSIX extended regular expression with a
 * capture group: 0, or -1 with the reason in WHY. */
int labels_check_regex(const char *re, char *why, size_t whylen);

/* Hugging Face imagefolder's metadata.csv or metadata.jsonl in directory
 * ROOT: its path (malloc'd) in *PATH, or NULL when there is none. 0, or -1
 * with a message printed (both are there, or out of memory). */
int labels_find_metadata(const char *root, char **path);

#endif
