/* input.h - an input file's bytes, for the workers that decode them. */
#ifndef PARIMG_INPUT_H
#define PARIMG_INPUT_H

#include "codec.h"

#include <stddef.h>

/* Read PATH whole into B (its length set, its storage reused and grown).
 * A regular file takes one read of its size; pipes and the like are read to
 * EOF. 0, or -1 with the reason (strerror's) in WHY. */
int input_read(const char *path, struct buf *b, char *why, size_t whylen);

#endif
