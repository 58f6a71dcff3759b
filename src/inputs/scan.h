/* scan.h - what load's and check's INPUT arguments name, as rows: a
 * directory's image files (at any depth under -r, hidden names skipped), a
 * file, an archive's image members, "-"'s list of those, or, under --labels,
 * the class folders of the one input (dataset.h, arch.h). */
#ifndef PARIMG_SCAN_H
#define PARIMG_SCAN_H

#include "inputs/dataset.h"
#include "inputs/filelist.h"

#include <stdint.h>

/* How the inputs are read. */
struct scan_opts {
	int recursive;		/* -r: directories at any depth */
	int labels;		/* --labels: the one input is a class tree */
	enum filelist_order order;	/* of the rows, without --labels */
	uint64_t member_max;	/* archive members larger are refused */
	const char *hint;	/* the option that reads class folders, for the
				 * error of a tree given without it (and without
				 * recursive), or NULL */
};

/* Add what ARG names to FL: a directory's image files (at any depth when
 * RECURSIVE, hidden folders skipped), a file, an archive's image members (a
 * file not named as an image whose first bytes are an archive's, see
 * arch.h), or "-"'s list of those. 0, or -1 with a message printed. */
int scan_add(struct filelist *fl, const char *arg, int recursive);

/* Whether ARG is a directory whose images are all in its subfolders: no
 * image file of its own, one subdirectory or more (hidden names skipped),
 * as a class tree is. */
int scan_is_class_tree(const char *arg);

/* The rows of inputs ARGS[0..N) into FILES as O says: with O->labels the
 * class folders of ARGS[0] (a directory or an archive) into DS and FILES in
 * ImageFolder's order; otherwise every input's rows, sorted by O->order,
 * and an error naming the inputs when there are none. 0, or -1 with a
 * message printed. */
int scan_collect(struct filelist *files, struct dataset *ds, char *const *args, int n,
		 const struct scan_opts *o);

/* --exclude LIST: drop from FILES (and DS's labels, when it has them) every
 * row whose path is one of LIST's, a file of paths one a line, or ended by
 * NULs when it holds one (check --list KIND, with or without -0). Paths
 * compare byte for byte with the rows' as load names them. *DROPPED is the
 * rows dropped, *UNMATCHED LIST's paths that named no row. 0, or -1 with a
 * message printed. */
int scan_exclude(struct filelist *files, struct dataset *ds, const char *list,
		 size_t *dropped, size_t *unmatched);

#endif
