/* ragged.h - "load --ragged": every image at its own size (or one that keeps
 * its aspect ratio), as one 1-D array of samples and an (N, 4) int64 index of
 * (offset, H, W, C). A header pass fixes every size before any pixel is
 * decoded, so the output is sized (and its space checked) first and workers still
 * decode straight into its mapping. */
#ifndef PARIMG_RAGGED_H
#define PARIMG_RAGGED_H

#include "image/row.h"
#include "codec/codec.h"
#include "common/outfile.h"

#include <stddef.h>
#include <stdint.h>

/* What the header pass found of one file: its size and channels as stored
 * (codec_info's). All zero: the file could not be probed (skipped, -k). */
struct ragged_dims {
	int32_t w, h, c;
};

/* One index row: where image i's samples start in the array, and its shape. */
enum { RAGGED_OFF, RAGGED_H, RAGGED_W, RAGGED_C, RAGGED_COLS };

/* The size a W x H source becomes under S's --resize S (the shorter side
 * becomes S, the longer int(S * long / short), as torchvision's Resize(S))
 * or --max-side L (a longer side over L becomes L, the other
 * floor(other * L / long), at least 1); unchanged without either. 0, or -1
 * when a side would pass 2^24 or the image S->max_pixels. */
int ragged_geometry(const struct row_spec *s, uint32_t w, uint32_t h, uint32_t *ow,
		    uint32_t *oh);

/* The channels an image stored with NATIVE channels (1-4) gets: -c's, else
 * its own (gray 1, gray+alpha 2, colour 3, colour+alpha 4). */
int ragged_channels(const struct row_spec *s, int native);

/*
 * Plan N rows from their header-pass DIMS into INDEX (N x RAGGED_COLS):
 * each row's output shape and its offset, in samples, from the array's
 * start; a skipped row (dims zero) takes no samples and gets H = W = 0 and
 * C of -c (0 without). *TOTAL is the samples in all. Returns -1 (bad value
 * or an output too large), with *BAD the row and WHY the reason; the caller
 * may then zero that row's DIMS (skip it) and plan again. 0 otherwise.
 */
int ragged_plan(const struct row_spec *s, const struct ragged_dims *dims, size_t n,
		int64_t *index, uint64_t *total, size_t *bad, char *why, size_t whylen);

/* Read as much of item I's input, PATH, as its header needs (a first
 * bounded read, the whole file when the probe needs more) into B and probe
 * it into D; in a confined worker from the descriptor its parent hands over
 * (pool_input). 0, or -1 with the reason in WHY. */
int ragged_probe(size_t i, const char *path, const struct row_spec *s, struct buf *b,
		 struct ragged_dims *d, char *why, size_t whylen);

struct pool_task;
/* The header pass: probe the files PATHS[T->first .. T->first + T->count)
 * in a pool run as T says (jobs, schedule, -k, -v; its run, name and ctx
 * are ours), each worker writing what it found into a shared array that
 * comes back as *DIMS (malloc'd, T->count entries, row T->first first).
 * Under -k a file that fails is reported and left zero (skipped). 0, or -1
 * after the pool reported the failure. */
int ragged_scan(char *const *paths, const struct row_spec *s, const struct pool_task *t,
		struct ragged_dims **dims);

/* What a worker wrote for a file in the header pass, checked: sides at
 * least 1, 1-4 channels, within MAX_PIXELS. 1 when it holds. */
int ragged_dims_ok(const struct ragged_dims *d, uint64_t max_pixels);

/* The first of PATHS[0 .. N) whose header probes, found confined: by one
 * worker of a pool run as T says (confine, -k, -v; its range and jobs are
 * ours). Without -k the first file that fails is reported and fails the
 * search; with -k files that fail are passed over without a word (the
 * decode reports them). Its index into *FIRST and its size and channels,
 * range-checked, into *D. 0; 1 when none probes; -1 after a message. */
int ragged_first(char *const *paths, size_t n, const struct row_spec *s,
		 const struct pool_task *t, size_t *first, struct ragged_dims *d);

/* How many of PATHS[0 .. N) store 1, 2, 3 and 4 channels, into COUNTS[1..4]
 * (COUNTS[0] is 0): every header probed confined, in a pool run as T says
 * (jobs, schedule, confine; its range is ours). A file that fails is
 * passed over without a word, -k or not: the decode of the part that holds
 * it reports it. 0, or -1 after a message. */
int ragged_count_channels(char *const *paths, size_t n, const struct row_spec *s,
			  const struct pool_task *t, size_t counts[5]);

/* Decode the LEN bytes at DATA, probed as D in the header pass, into the
 * slot of index row IDX at ROW, with the per-image spec S's sample type,
 * filter and draft: a file that now probes otherwise is an error, and
 * nothing is written past the slot. 0, or -1 with the reason in WHY. */
int ragged_decode(const struct row_spec *s, const struct ragged_dims *d, const int64_t *idx,
		  const unsigned char *data, size_t len, void *row, struct row_scratch *scratch,
		  char *why, size_t whylen);

/* Write the index (N x RAGGED_COLS int64) as an .npy into a temporary file
 * O for PATH, left for the caller to commit. 0, or -1 with a message. */
int ragged_write_index(const int64_t *index, size_t n, const char *path, struct outfile *o);

/* The default index name of array OUT: OUT.index.npy for OUT.npy (the part
 * name rule of --split, split_path). Allocated; NULL when out of memory. */
char *ragged_index_path(const char *out);

/* Read the index .npy at PATH (N x RAGGED_COLS int64, native order, the
 * file holding exactly that) into *INDEX (malloc'd) and *N. 0, or -1 with
 * the reason in WHY. */
int ragged_read_index(const char *path, int64_t **index, size_t *n, char *why, size_t whylen);

/* Check a ragged part's index (N x RAGGED_COLS int64, as read) against the
 * SAMPLES samples of its array: offsets in order, every image inside the
 * array, shapes within the limits. 0, or -1 with the reason in WHY. */
int ragged_check_index(const int64_t *index, size_t n, uint64_t samples, char *why,
		       size_t whylen);

#endif
