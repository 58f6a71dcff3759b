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

/* One table: a file, or a member of the input archive read while it was
 * listed (arch.h), with the folder its keys are relative to. */
struct labels_src {
	char *name;		/* FILE or ARCHIVE:MEMBER, as messages name it */
	char *dir;		/* "", or the folder below the root ("train/")
				 * whose images it labels (a split folder's
				 * metadata file) */
	char *text;		/* its LEN bytes, NUL-ended (malloc'd), or NULL:
				 * read the file NAME; parsed in place, so
				 * labels_apply or labels_check takes them (once) */
	size_t len;
};

/* What load's options ask for. */
struct labels_opts {
	const char *table;	/* --labels-from as given (FILE or ARCHIVE:MEMBER),
				 * or NULL */
	const char *path_col;	/* --path-column; NULL: the first of file_name,
				 * filename, path, image, image_name, image_id,
				 * id there is */
	const char *label_col;	/* --label-column; NULL: "label" */
	const char *multi_sep;	/* --multi-label SEP, or NULL */
	const char *targets;	/* --targets COL,..., or NULL */
	const char *regex;	/* --label-regex RE, or NULL (and table NULL) */
	int skip_unlabelled;	/* --unlabelled skip: drop images without a label */
	const char *root;	/* the one INPUT: rows' paths are relative to it */
	struct labels_src *src;	/* the tables (labels_add_src), NSRC of them */
	size_t nsrc;
};

/* The message for options of O that do not fit together (--labels-from
 * with --label-regex, --label-regex with table options, --multi-label
 * with --targets, --targets with --label-column), or NULL: load's and
 * bench's usage check. */
const char *labels_opts_clash(const struct labels_opts *o);

/* Add table NAME (copied) labelling the images below folder DIR (copied;
 * "" for all), its bytes TEXT (LEN, taken) or NULL to read the file NAME.
 * 0, or -1 (out of memory: TEXT freed). */
int labels_add_src(struct labels_opts *o, const char *name, const char *dir, char *text,
		   size_t len);
/*
 * --labels-from O->table against the one INPUT: a file of that name when
 * there is one (it wins), else ARCHIVE:MEMBER when ARCHIVE (split at the
 * first colon that gives one) is the file INPUT is and an archive: the
 * member's clean path in *MEMBER (malloc'd; the caller keeps it while
 * listing, arch_keep_tables, and adds it with labels_take_kept), else a
 * file still (its read says what is wrong). A table of another archive than
 * INPUT is refused. 0 (the file added to O's tables, or *MEMBER set), or
 * -1 with a message printed.
 */
int labels_resolve_table(struct labels_opts *o, const char *input, char **member);
/* Free O's tables. */
void labels_free(struct labels_opts *o);

/*
 * Label the rows FILES (INPUT O->root's images, in load's order, which is
 * kept) into DS, by O's tables (O->src) or regular expression.
 * Each image takes its row from the table of the deepest folder DIR above
 * it (Hugging Face's rule for metadata files: a split folder's before the
 * root's), its keys relative to DIR; an image below no table's DIR has no
 * row. A table row's key (its path column) names the image whose path
 * relative to DIR equals it; else the one whose relative path less its
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

/* check --labels-from: as labels_apply, printing every problem, but
 * changing nothing: the number of problems in *NPROBLEMS. 0, or -1 when
 * a table cannot be read (a message printed). */
int labels_check(const struct filelist *files, const struct labels_opts *o, size_t *nproblems);

/* Hugging Face imagefolder's metadata.csv or metadata.jsonl in directory
 * ROOT and in each of its folders (its split folders; hidden ones
 * skipped), added to O's tables (the folder's for its images). 0 (none
 * found: O unchanged), or -1 with a message printed (both in one folder,
 * out of memory). */
int labels_find_metadata(const char *root, struct labels_opts *o);

/* The tables arch.h kept while listing archive ROOT (their bytes taken,
 * not copied), added to O's: each
 * named ROOT:MEMBER, a metadata file for the images of its folder, any
 * other (--labels-from ARCHIVE:MEMBER) for all. 0, or -1 with a message
 * printed (two metadata files in one folder, out of memory). */
int labels_take_kept(const char *root, struct labels_opts *o);

#endif
