/* input.h - an input file's bytes, for the workers that decode them. */
#ifndef PARIMG_INPUT_H
#define PARIMG_INPUT_H

#include "common/buf.h"

#include <errno.h>
#include <stddef.h>

/*
 * Inputs are regular files. A FIFO, a device, a socket (or a link to one)
 * is refused before it is read: opened without blocking, checked with
 * fstat, never read to EOF. An input row (input_open) that is a link must
 * also lead to a file that begins as an image does, by the decoders' magic
 * numbers, before a worker is handed it: a link in a dataset to
 * /etc/passwd or a key never reaches a worker.
 * The refusals travel as errno values an open for reading never gives
 * (so that they pass a pool's channel as any other), put in words by
 * input_reason.
 */
#define INPUT_ENOTREG EMEDIUMTYPE	/* not a regular file */
#define INPUT_ENOTIMG ENOEXEC		/* its first bytes are no image format's */
#define INPUT_EEMPTY ENODATA		/* an empty file */

/* ERR (an errno value) in words: the three above as a decoder would say
 * them, any other as strerror does. */
const char *input_reason(int err);

/* PATH opened read-only, and checked to be a regular file. -1 with errno
 * (INPUT_ENOTREG, EISDIR, or open's) otherwise. */
int input_open_file(const char *path);

/* Read PATH whole into B (PATH may name an archive member, see arch.h; its
 * length set, its storage reused and grown): one read of its size. 0, or
 * -1 with the reason (input_reason's) in WHY. */
int input_read(const char *path, struct buf *b, char *why, size_t whylen);
/* As input_read, for item I of a pool task: in a confined worker from the
 * descriptor its parent handed over (pool_input), else from PATH. What a
 * decoding worker uses. */
int input_read_item(size_t i, const char *path, struct buf *b, char *why, size_t whylen);
/* As input_read_item, for item I's second input (the pool's pair hook,
 * pool_pair: load --masks), PATH a file or an archive member. */
int input_read_pair(size_t i, const char *path, struct buf *b, char *why, size_t whylen);
/* Item I is not to be read after all: take its descriptor from the
 * parent, as a confined worker must take every item's, and close it.
 * Returns 0. */
int input_skip_item(size_t i);
/* The descriptor a worker reads input row PATH from: in the parent, what a
 * confined worker is handed (a pool task's open hook); in a worker that is
 * not confined, what it opens itself. For an archive member the archive's
 * (arch.h); else PATH opened without blocking, and when it is a link,
 * opened by input_open_file and its first bytes checked to be an image's
 * (codec_sniff). -1 with errno when that fails. */
int input_open(const char *path);
/* As input_read, from FD, which it closes; FD -1 means the open failed,
 * with errno saying why. */
int input_read_fd(int fd, struct buf *b, char *why, size_t whylen);

#endif
