/* load.h - what load.c (the interface: help, options, outputs' names, the
 * rows) hands load_run.c (probe, map, decode, commit). Private to "parimg
 * load"; bench runs load as a process, not through this header. */
#ifndef PARIMG_LOAD_H
#define PARIMG_LOAD_H

#include "cmd/opt.h"
#include "inputs/dataset.h"
#include "inputs/filelist.h"
#include "inputs/labels.h"
#include "inputs/masks.h"
#include "image/chanstats.h"
#include "image/mask.h"
#include "image/row.h"
#include "engine/sandbox.h"
#include "common/buf.h"
#include "common/outfile.h"
#include "common/split.h"

#include <stddef.h>
#include <stdint.h>

struct ragged_dims;

/* One output array and the files beside it. A split makes one per part,
 * each taking its own range of the rows. */
struct target {
	char *out, *labels, *manifest;	/* final names; labels, manifest NULL if none */
	char *index;			/* --ragged: the index's name, else NULL */
	char *stats;			/* --stats's file, or NULL */
	char *masks;			/* --masks-out's file, or NULL */
	char *mindex;			/* --ragged: the masks' index, else NULL */
	size_t row0, nrows;		/* this shard's rows of the part */
	struct outfile arr, lab, man, idx, st, msk, midx;	/* fd -1 until opened */
	void *mmap;			/* --masks: that array, mapped, or NULL */
	size_t mmaplen;
	unsigned char *mrows;
	int64_t *mplan;			/* --ragged: the masks' index rows */
	/* Made by prepare_target for decode_target (struct load's fields): */
	void *map;			/* the array, mapped; NULL until then */
	size_t maplen;
	unsigned char *rows, *failed;
	struct ragged_dims *dims;
	int64_t *plan;
	uint64_t samples;
};

struct load {
	struct filelist files;
	const char *out;
	const char *manifest;
	const char *exclude;		/* --exclude: rows to drop, or NULL */
	const char *stats, *stats_from;	/* --stats, --stats-from */
	struct chanstats_acc *slots;	/* --stats: one per worker, shared; or NULL */
	/* Class folders, shuffle and split (dataset.c, split.c): */
	const char *labels, *classes;	/* --labels, --classes */
	int shuffle, seed_given;
	uint64_t seed;
	struct split split;
	struct dataset ds;
	struct labels_opts lo;		/* --labels-from, --label-regex and theirs */
	struct target *targets;		/* one, or one per part of the split */
	int ntargets;
	struct outfile cls;		/* the classes file */
	struct row_spec spec;	/* channels 0 and w 0 until probed */
	int chosen;		/* no -c: the channels were chosen (3, or 1 when
				 * every image is gray), not given */
	unsigned char *natives;	/* then, MAP_SHARED for the target being decoded,
				 * a byte a row: its channels as stored */
	size_t stored[5];	/* and the rows decoded, by channels as stored */
	int speculative;	/* chosen 1 for now, the first image being gray: */
	int *colour;		/* MAP_SHARED, set by a worker that meets a colour
				 * image; the rows are then decoded again as 3 */
	unsigned char *failed1;	/* then, a byte a row of the list: failed (and
				 * reported) in the first decode, under -k */
	size_t nfailed1;
	int keep_going;
	int recursive;			/* -r: directories at any depth */
	enum sandbox_mode sandbox;	/* --sandbox */
	int confine;			/* and its outcome: confine the workers */
	char *const *inputs;		/* the INPUT arguments, for the roots */
	int ninputs;
	const char **roots;		/* those that are directories, without
					 * trailing slashes (load_run.c's roots) */
	size_t nroots;
	struct opt_shard shard;
	size_t row0, nrows;	/* this shard's inputs: [row0, row0 + nrows) */
	size_t row_bytes;
	unsigned char *map;	/* the output file, mapped */
	int fd;			/* and open */
	/* check_space: the blocks the arrays checked so far will take, a
	 * filesystem each (every --split part may be on its own). */
	struct {
		dev_t dev;
		uint64_t bytes;
	} space[SPLIT_MAX];
	size_t nspace;
	unsigned char *rows;	/* its data, row 0 first */
	/* --ragged (ragged.c), for the target being loaded: */
	const char *index;	/* --index, or NULL for the default name */
	struct ragged_dims *dims;	/* the header pass's, row row0 first */
	int64_t *plan;		/* the index: nrows x RAGGED_COLS */
	uint64_t samples;	/* in all */
	unsigned char *failed;	/* MAP_SHARED, a byte a row: failed decoding */
	/* --masks (masks.c, mask.c): */
	const char *masks_dir, *masks_out;	/* --masks, --masks-out */
	unsigned mask_pad;	/* --mask-pad */
	struct masks mk;	/* each row's mask */
	unsigned char *mrows;	/* the target's masks, mapped, row 0 first */
	int64_t *mplan;		/* --ragged: their index, as plan's (C 1) */
	/* Per worker: */
	struct buf file;	/* the encoded file being decoded */
	struct row_scratch scratch;
	struct buf mfile;	/* --masks: the mask being decoded */
	struct mask_scratch mscratch;
	struct early *early;	/* load_early.c's speculators, or NULL */
};

/* load_early.c: an archive's members decoded while it is listed. Start
 * the speculators for INPUTS if L and C allow it (quietly nothing if
 * not), before the rows are collected; stop them once they are (the rows'
 * index is built then, for the workers to inherit); in a worker, copy row
 * I into ROW if a speculator decoded it (1, its input taken) or say 0;
 * kill and reap them, on every way out. */
struct early;
void load_early_start(struct load *l, const struct opt_common *c, char *const *inputs,
		      int ninputs);
void load_early_stop(struct load *l);
int load_early_row(struct load *l, size_t i, void *row);
/* Rows the workers copied so far; *SLOTS, the members the speculators
 * had taken up when they were stopped. */
uint64_t load_early_used(const struct load *l, uint64_t *slots);
void load_early_end(struct load *l);

/* Load L's rows (collected, L's outputs named and none refused): fix the
 * shape from the first image (or, --ragged, every header), then prepare,
 * decode and commit every target as C says. Returns the exit status. */
int load_run(struct load *l, struct opt_common *c);

#endif
