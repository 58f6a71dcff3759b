/* input.h - an input file's bytes, for the workers that decode them. */
#ifndef PARIMG_INPUT_H
#define PARIMG_INPUT_H

#include "common/buf.h"

#include <stddef.h>

/* Read PATH whole into B (PATH may name an archive member, see arch.h) (its length set, its storage reused and grown).
 * A regular file takes one read of its size; pipes and the like are read to
 * EOF. 0, or -1 with the reason (strerror's) in WHY. */
int input_read(const char *path, struct buf *b, char *why, size_t whylen);
/* As input_read, for item I of a pool task: in a confined worker from the
 * descriptor its parent handed over (pool_input), else from PATH. What a
 * decoding worker uses. */
int input_read_item(size_t i, const char *path, struct buf *b, char *why, size_t whylen);
/* Item I is not to be read after all: take its descriptor from the
 * parent, as a confined worker must take every item's, and close it.
 * Returns 0. */
int input_skip_item(size_t i);
/* In the parent: the descriptor a confined worker gets for input PATH (a
 * pool task's open hook): for an archive member the archive's (arch.h),
 * else PATH opened read-only. -1 with errno when that fails. */
int input_open(const char *path);
/* As input_read, from FD, which it closes; FD -1 means the open failed,
 * with errno saying why. */
int input_read_fd(int fd, struct buf *b, char *why, size_t whylen);

#endif
