/* convert.h - what convert.c (help, options, the rows and their output
 * names) hands convert_run.c (the pool's batches, the tree and the shards).
 * Private to "parimg convert". */
#ifndef PARIMG_CONVERT_H
#define PARIMG_CONVERT_H

#include "cmd/opt.h"
#include "inputs/dataset.h"
#include "inputs/filelist.h"
#include "image/row.h"
#include "codec/save.h"
#include "engine/sandbox.h"
#include "common/buf.h"
#include "common/split.h"

#include <stddef.h>
#include <stdint.h>

/* What a worker left for one row of a batch, in memory it shares with the
 * parent (checked there: it is a confined worker's word). */
struct conv_slot {
	uint64_t off, len;	/* the encoded bytes, in the batch's arena */
	int32_t state;		/* CONV_* */
	int32_t w, h;		/* the source's size (EXIF-turned under
				 * --exif-transpose), for KEY.json */
};
enum { CONV_NONE, CONV_ENCODED, CONV_PASS };

struct conv {
	struct filelist files;
	struct dataset ds;
	char **args;			/* the INPUTs */
	int nargs;
	const char *out;		/* -o DIR, or NULL */
	const char *shards;		/* --shards PATTERN, or NULL */
	uint64_t shard_size, shard_bytes;	/* one of them nonzero with --shards */
	int json, labels, recursive, keep_going, resume, shuffle, seed_given;
	uint64_t seed;
	struct split split;
	enum sandbox_mode sandbox;
	int confine;
	struct row_spec spec;		/* load's row options; ragged unless --resize WxH */
	int same;			/* --format same */
	int pass_all;			/* same, and nothing changes any image: copy all */
	struct save_opts save;		/* the format, for --format jpeg|png|webp */
	/* Per row, made by convert.c: */
	unsigned char *fmt;		/* the enum save_format it is written in */
	unsigned char *keep;		/* same: its name is kept (and may be copied) */
	char **names;			/* tree: its output's path */
	char **members;			/* shards: its member's extension */
	unsigned char *done;		/* --resume: its output is there already */
	size_t part_start[SPLIT_MAX + 1];	/* the parts' rows: [start[p], start[p+1]) */
	int nparts;
	/* A batch, shared with its pool's workers: */
	size_t b0, bn;
	struct conv_slot *slots;
	unsigned char *arena;
	uint64_t *used;			/* bytes of the arena handed out */
	size_t arena_len, bound;
	/* Per worker: */
	struct buf file, enc, pix;
	struct row_scratch scratch;
};

/* A shard's name: PATTERN with its one %d (flag 0 and a width allowed)
 * as K, its one %s as PART (with --split: PART not NULL), %% as %.
 * Allocated; NULL when PATTERN is not of that shape, or out of memory. */
char *convert_shard_name(const char *pattern, const char *part, uint64_t k);

/* Run C's rows (collected, named, checked) into its tree or shards. The
 * exit status. */
int convert_run(struct conv *c, struct opt_common *o);

#endif
