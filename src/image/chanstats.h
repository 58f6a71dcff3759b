/* chanstats.h - load --stats: per-channel mean, std, min and max of the
 * output's samples on the [0,1] scale, from exact integer sums that workers
 * accumulate as they store their rows. Integer sums add up the same in any
 * order, so every -j, schedule and shard gives the same figures. */
#ifndef PARIMG_CHANSTATS_H
#define PARIMG_CHANSTATS_H

#include <stddef.h>
#include <stdint.h>

#define CHANSTATS_MAX 4		/* channels */
#define CHANSTATS_SCALE 65535	/* sums are on the 16-bit scale: 8-bit v counts as 257 v */

/* One worker's (or one file's) exact sums. All zero is empty: a zeroed
 * shared mapping of them is ready to use. */
struct chanstats_acc {
	uint64_t pixels;			/* samples per channel */
	unsigned __int128 sum[CHANSTATS_MAX];	/* of the samples */
	unsigned __int128 sq[CHANSTATS_MAX];	/* of their squares */
	uint32_t min[CHANSTATS_MAX], max[CHANSTATS_MAX];	/* valid when pixels > 0 */
} __attribute__((aligned(64)));	/* one cache line apart per worker */

/* Add NPIX pixels of C channel-interleaved samples at PIX (8- or 16-bit,
 * DEPTH16) to A. */
void chanstats_add(struct chanstats_acc *a, const void *pix, size_t npix, int c, int depth16);

/* A whole output's statistics. */
struct chanstats {
	int channels;
	uint64_t rows;
	struct chanstats_acc acc;
	/* The figures, from acc (chanstats_finish): */
	double mean[CHANSTATS_MAX], std[CHANSTATS_MAX], min[CHANSTATS_MAX], max[CHANSTATS_MAX];
};

/* Add B's sums into A. 0, or -1 when a count would overflow or B's sums
 * cannot come from B->pixels samples of C channels (a worker's shared slot
 * scribbled on, a hand-edited file): the parent checks what it is sent. */
int chanstats_merge(struct chanstats_acc *a, const struct chanstats_acc *b, int c);
/* Count ZERO_PIXELS more zero samples per channel (rows skipped under -k,
 * left zero in the array). */
void chanstats_add_zeros(struct chanstats_acc *a, uint64_t zero_pixels);
/* Compute S's mean, population std, min and max from its sums. */
void chanstats_finish(struct chanstats *s);

/* S as JSON (the man page's STATISTICS FILE), NUL-terminated, into BUF of
 * LEN bytes; its length, or 0 when it does not fit. */
size_t chanstats_format(const struct chanstats *s, char *buf, size_t len);
/* Parse the JSON of chanstats_format at BUF (LEN bytes) into S, checking
 * its sums and recomputing the figures from them. 0, or -1 with the reason
 * in WHY. */
int chanstats_parse(const char *buf, size_t len, struct chanstats *s, char *why, size_t whylen);
/* Read and parse the file PATH. 0, or -1 with a message printed. */
int chanstats_read(const char *path, struct chanstats *s);

#endif
