/* masks.h - "load --masks DIR": each row's mask, the file of the same
 * relative path and stem in DIR (or the member of an archive DIR), found in
 * the parent before anything is decoded. */
#ifndef PARIMG_MASKS_H
#define PARIMG_MASKS_H

#include "inputs/filelist.h"

#include <stddef.h>

struct masks {
	size_t n;		/* rows */
	char **path;		/* per row: its mask's path, or NULL */
	char **why;		/* per row without one (under -k): why not */
};

/*
 * Find the mask of each of FILES' rows in DIR. A row's path relative to the
 * INPUT it came from (one of INPUTS: beneath a directory, or a member of an
 * archive; a file given itself is its own name) less its extension is its
 * key; its mask is the image file (by load's extensions, hidden names
 * skipped) of that key in DIR, whatever its extension: VOC's
 * JPEGImages/x.jpg is SegmentationClass/x.png. DIR may be an archive
 * (arch_sniff): its image members are the files, by their paths in it,
 * entered in arch.c's member table as "DIR:MEMBER" (M->path) for the
 * workers to read as image members (input_read_pair); never streamed,
 * past the memory budget spilled to disk. A row with no such file, or
 * two, is an error naming both; all of them are listed, then -1 with
 * nothing done. With KEEP_GOING they are not printed but kept in M->why,
 * for the row's worker to report as its failure. 0, or -1 with a message
 * printed.
 */
int masks_find(struct masks *m, const struct filelist *files, char *const *inputs, int ninputs,
	       const char *dir, int keep_going);
void masks_free(struct masks *m);

#endif
