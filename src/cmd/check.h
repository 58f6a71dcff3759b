/* check.h - "parimg check" in two files: check.c runs the pool and makes
 * the summary of what the workers recorded, check_report.c prints it as a
 * table, JSON, CSV or a list of paths. What they share is here. */
#ifndef PARIMG_CHECK_H
#define PARIMG_CHECK_H

#include "inputs/dataset.h"
#include "inputs/filelist.h"
#include "inputs/labels.h"
#include "image/chanstats.h"
#include "image/resize.h"
#include "image/row.h"
#include "codec/codec.h"
#include "engine/sandbox.h"
#include "common/split.h"

#include <stddef.h>
#include <stdint.h>

/* The formats, as the decoders name themselves (codec_name), and the file
 * name extensions that belong to each; "other" for a decoder added to
 * codec.c's table and not yet to this list. */
extern const char *const check_format_names[];	/* NULL-terminated */
#define NFORMATS 15
#define FORMAT_OTHER 14

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
#define F_PHASHED 0x20		/* dhash and phash are set */
#define F_PIXHASHED 0x40	/* pixhash is set */
#define F_QUALITY 0x80		/* brightness, blur, blur_std and entropy are set */
#define F_GRAYRGB 0x100		/* stored as colour, every pixel gray (with F_QUALITY) */
#define F_ALL 0x1ff

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
	uint64_t dhash, phash;	/* imagehash's, of the decoded image (phash.h) */
	uint64_t pixhash[2];	/* XXH3-128 of its decoded samples */
	/* With --quality (check_quality.c), cleanvision's measures: */
	double brightness;	/* from the channel means, 0 to 1 */
	double blur;		/* sqrt of FIND_EDGES's variance, at most 64 a side */
	double blur_std;	/* std of that copy's gray histogram */
	double entropy;		/* of the gray histogram, in bits */
};

struct check_arena {
	uint64_t used;		/* bytes handed out, bumped atomically */
	char text[];
};

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

/* --list KIND: the paths to act on, one a line (or -0), nothing else. For
 * a group every member but the first in row order: what to drop. */
enum list_kind { LIST_NONE, LIST_BROKEN, LIST_DUPLICATES, LIST_PIXEL, LIST_NEAR, LIST_LEAKS,
		 LIST_FLAGGED };

/* --quality's flags, bits of check_summary.qflags, named by check_flag_names. */
enum { Q_DARK, Q_LIGHT, Q_BLURRY, Q_LOW_INFO, Q_GRAYRGB, Q_ODD_ASPECT, Q_ODD_SIZE, NQFLAGS };
extern const char *const check_flag_names[];	/* NULL-terminated */
/* --threshold's, indexes of check.threshold; defaults in check_threshold_default. */
enum { THR_DARK, THR_LIGHT, THR_BLURRY, THR_LOW_INFO, THR_ODD_ASPECT, THR_ODD_SIZE,
       NTHRESHOLDS };
extern const double check_threshold_default[NTHRESHOLDS];

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
	/* With --near (check_near.c): */
	size_t *near_group, near_ngroups;	/* near-duplicate group of each file, 0 if none */
	int *near_nearest;		/* phash distance to its closest member, -1 */
	size_t *near_order;		/* the grouped files, by group, in row order */
	size_t near_members;		/* how many */
	/* Without --no-duplicates (check_pixels.c): */
	size_t *pix_group, pix_ngroups;	/* pixel-duplicate group of each file, 0 if none */
	size_t leaks;			/* files repeating one of an earlier input */
	/* With --quality (check_quality.c): */
	unsigned char *qflags;		/* each file's Q_ bits */
	double *aspect_score, *size_score;	/* against the dataset's */
	double aspect_median, size_q1, size_q3;
	size_t flagged, qcount[NQFLAGS];
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
	struct labels_opts lo;	/* --labels-from and its column options */
	size_t table_problems;	/* the table's, against the images (on stderr) */
	struct row_spec spec;	/* -c, --resize, --fit and --max-pixels */
	enum format format;
	int format_given, nul, no_dups;
	enum list_kind list;	/* --list KIND (--list-broken: broken) */
	int near;		/* --near: perceptual hashes and near-duplicate groups */
	int near_t;		/* --near-distance: phash bits apart, at most */
	int quality;		/* --quality: cleanvision's quality flags */
	double threshold[NTHRESHOLDS];	/* --threshold's, or the defaults */
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
	struct buf gray;	/* the decoded image as Pillow's "L", for the hashes */
	struct buf pix8;	/* a 16-bit image's high bytes, for --quality */
	struct buf qsmall;	/* --quality's blur copy */
	/* With several inputs, or --split (check_leaks.c): */
	size_t *origin;		/* each file's input (or part), an index into INPUTS;
				 * NULL with one input and no --split */
	char *const *inputs;	/* the inputs, or with --split the parts' names */
	size_t ninputs;
	struct split split;	/* --split: the parts, as load cuts them; n 0 if not */
	int shuffle, seed_given;	/* --shuffle, --seed: as load shuffles */
	uint64_t seed;
	char *part_names[SPLIT_MAX];	/* INPUTS with --split: into split.name */
	int *leak_kind;		/* 0 exact, 1 pixel, 2 near; -1 for no leak */
	size_t *leak_with;	/* the file of an earlier input it repeats */
	struct resize_ctx rz;
	size_t file_index;	/* whose bytes are in file, SIZE_MAX if none */
};

/* A class is "small" with fewer images than the median class over this. */
#define SMALL_CLASS_DIVISOR 5

/* The mode an image is counted in: palette, CMYK and 16-bit first, then
 * by channels. */
enum mode check_mode_of(const struct check_rec *r);

/* Print K's report as K->format (or --list-broken) says, on stdout. */
void check_report(const struct check *k);

/* check_near.c: with --near, the near-duplicate groups of the files whose
 * hashes the workers set (K->sum.near_*), and their parts of the report. */
#define CHECK_NEAR_T 7		/* --near-distance's default; docs/guide.md says why */
void check_near_find(struct check *k);
void check_near_free(struct check *k);
void check_near_table(const struct check *k);
void check_near_json(const struct check *k);
void check_near_csv(const struct check *k, size_t i);

/* check_pixels.c: files whose decoded samples are the same though their
 * bytes differ, hashed by the workers, confirmed sample by sample in a
 * second pass of confined workers over the candidates only. 0, or -1 with
 * a message printed. */
int check_pixels_find(struct check *k, unsigned jobs, int confine);
void check_pixels_free(struct check *k);
void check_pixels_table(const struct check *k);
void check_pixels_json(const struct check *k);
/* The pool's setup hook of check's workers (their memory cap). */
void check_worker_setup(struct check *k);
/* The channels and sample depth check decodes record R at. */
void check_decoded_as(const struct check *k, const struct check_rec *r, int *c, int *depth16);

/* check_quality.c: with --quality, the workers' measures of each decoded
 * image (8-bit PIX of C channels, GRAY its convert("L")), and the parent's
 * flags and their parts of the report. measure: 0, or -1 with WHY. */
int check_quality_threshold(struct check *k, const char *arg);
int check_quality_measure(struct check *k, struct check_rec *out, const uint8_t *pix,
			  const uint8_t *gray, int w, int h, int c, char *why, size_t whylen);
int check_quality_valid(const struct check_rec *r);
double check_quality_blur_score(const struct check_rec *r);
void check_quality_find(struct check *k);
void check_quality_free(struct check *k);
void check_quality_table(const struct check *k);
void check_quality_json(const struct check *k);
void check_quality_csv(const struct check *k, size_t i);

/* check_leaks.c: with several inputs, the files of each (scan_collect's
 * rows, in its order, each with its input), and the files in a duplicate
 * group with one of an earlier input. collect: 0, or -1 with a message.
 * With --split, check_leaks_split makes each file's part its "input": the
 * part load --split (after --shuffle --seed) puts its row in. */
struct scan_opts;
int check_leaks_collect(struct check *k, char *const *args, int n, const struct scan_opts *o);
void check_leaks_split(struct check *k);
void check_leaks_find(struct check *k);
void check_leaks_free(struct check *k);
void check_leaks_table(const struct check *k);
void check_leaks_json(const struct check *k);

/* check_report.c's printing of a path or reason: made printable (in one
 * of two rotating buffers), and as a JSON string. */
const char *check_printable(const char *s);
void check_json_str(const char *s);

#endif
