/* check.h - "parimg check" in two files: check.c runs the pool and makes
 * the summary of what the workers recorded, check_report.c prints it as a
 * table, JSON, CSV or a list of paths. What they share is here. */
#ifndef PARIMG_CHECK_H
#define PARIMG_CHECK_H

#include "inputs/dataset.h"
#include "inputs/filelist.h"
#include "image/chanstats.h"
#include "image/row.h"
#include "codec/codec.h"
#include "engine/sandbox.h"

#include <stddef.h>
#include <stdint.h>

/* The formats, as the decoders name themselves (codec_name), and the file
 * name extensions that belong to each; "other" for a decoder added to
 * codec.c's table and not yet to this list. */
extern const char *const check_format_names[];	/* NULL-terminated */
#define NFORMATS 13
#define FORMAT_OTHER 12

enum mode { MODE_GRAY, MODE_GRAY_ALPHA, MODE_RGB, MODE_RGBA, MODE_PALETTE, MODE_CMYK,
	    MODE_16BIT, NMODES };
extern const char *const check_mode_names[];	/* indexed by enum mode */

/* A record's state. PENDING is what a worker that died on the file left. */
enum { REC_PENDING, REC_OK, REC_BROKEN };
/* Its flags. */
#define F_HASHED 0x01		/* hash and size are set */
#define F_16BIT 0x02
#define F_PALETTE 0x04
#define F_CMYK 0x08
#define F_ANIMATED 0x10
#define F_ALL 0x1f

/* One file's result, written by the worker that decoded it; the state
 * last, so a record is whole once its state is set. */
struct check_rec {
	uint32_t state;
	uint32_t flags;
	int32_t format;		/* index into check_format_names, -1 if none */
	int32_t w, h;		/* the image's own size */
	int32_t channels;	/* stored samples per pixel (codec_info's) */
	int32_t orientation;	/* EXIF, 0 for none */
	uint32_t reason_len;	/* broken: its reason at reason_off in the arena */
	uint64_t reason_off;	/* UINT64_MAX when the arena was full */
	uint64_t size;		/* bytes of the file */
	uint64_t hash[2];	/* XXH3-128 of them, low half first */
};

struct check_arena {
	uint64_t used;		/* bytes handed out, bumped atomically */
	char text[];
};

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

/* What the parent makes of the records. */
struct check_summary {
	size_t ok, broken;
	size_t format[NFORMATS], mode[NMODES], animated, rotated;
	int have_size;
	int wmin, wmax, hmin, hmax;
	double wmed, hmed;
	size_t *class_n, *class_broken;	/* per class, with --labels */
	double class_median;
	size_t *group, ngroups;		/* duplicate group of each file, 0 if none */
	/* With -c or --resize, what load would do: */
	int channels;			/* -c, or the first image's */
	size_t from_cmyk, from_palette, to_gray, to_colour, alpha_dropped, alpha_added, to8;
	size_t upscaled, downscaled, same_size, cropped, padded, aspect;
	size_t size_differs;		/* without --resize: not the first image's size */
	int first_w, first_h;
};

struct check {
	struct filelist files;
	struct dataset ds;
	int labels;		/* --labels: INPUT is a class tree */
	int recursive;		/* -r: directories at any depth */
	struct row_spec spec;	/* -c, --resize, --fit and --max-pixels */
	enum format format;
	int format_given, list_broken, nul, no_dups;
	enum sandbox_mode sandbox;	/* --sandbox */
	struct check_rec *recs;	/* shared with the workers */
	size_t recs_len;
	struct check_arena *arena;	/* likewise */
	size_t arena_cap, arena_len;
	char **reasons;		/* the parent's checked copies, NULL if OK */
	struct check_summary sum;
	/* With -c: the decoded samples' statistics, as load --stats has them. */
	struct chanstats_acc *slots;	/* one per worker, shared; NULL without -c */
	unsigned nslots;
	struct chanstats cstats;	/* their sum, checked */
	int have_cstats;
	/* Per worker (and the parent's byte compare): */
	struct buf file, pix, other;
	size_t file_index;	/* whose bytes are in file, SIZE_MAX if none */
};

/* A class is "small" with fewer images than the median class over this. */
#define SMALL_CLASS_DIVISOR 5

/* The mode an image is counted in: palette, CMYK and 16-bit first, then
 * by channels. */
enum mode check_mode_of(const struct check_rec *r);

/* Print K's report as K->format (or --list-broken) says, on stdout. */
void check_report(const struct check *k);

#endif
