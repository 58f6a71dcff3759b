/* input.c - how a worker gets an input file's bytes: read whole into a
 * buffer reused from file to file, from a descriptor its parent opened (a
 * confined worker, see pool_input) or from the path; an archive member's
 * from where arch.c keeps it. Only regular files that begin as images do
 * are opened for a worker (input.h). */
#define _GNU_SOURCE
#include "inputs/input.h"
#include "inputs/arch.h"
#include "codec/codec.h"
#include "engine/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *input_reason(int err)
{
	switch (err) {
	case INPUT_ENOTREG:
		return "not a regular file";
	case INPUT_ENOTIMG:
		return "not a supported image (unknown format)";
	case INPUT_EEMPTY:
		return "empty file";
	}
	return strerror(err);
}

/* O_NONBLOCK: a FIFO's open returns at once (and is then refused), where
 * a plain open would wait for a writer forever. It changes nothing for a
 * regular file's reads. */
int input_open_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : INPUT_ENOTREG;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * What it costs: a file that is no link (a dataset's own file, the common
 * case) takes one open, as before; fstat waits for the worker, whose read
 * (input_read_fd) refuses anything but a regular file. Only a link, which
 * may lead anywhere, is checked here, before a worker has it: an fstat and
 * a read of CODEC_SNIFF_BYTES, two calls per link in the parent.
 */
int input_open(const char *path)
{
	unsigned char head[CODEC_SNIFF_BYTES];
	ssize_t n;
	int fd = arch_open(path), e;

	if (fd != -2)
		return fd;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd >= 0 || errno != ELOOP)
		return fd;
	/* A link: to a regular file that begins as an image does, or refused. */
	if ((fd = input_open_file(path)) < 0)
		return -1;
	while ((n = pread(fd, head, sizeof(head), 0)) < 0 && errno == EINTR)
		;
	if (n <= 0 || !codec_sniff(head, (size_t)n)) {
		e = n < 0 ? errno : n == 0 ? INPUT_EEMPTY : INPUT_ENOTIMG;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int input_read(const char *path, struct buf *b, char *why, size_t whylen)
{
	if (arch_is_member(path))
		return arch_read(path, -2, b, why, whylen);
	return input_read_fd(input_open_file(path), b, why, whylen);
}

int input_read_item(size_t i, const char *path, struct buf *b, char *why, size_t whylen)
{
	int fd = pool_input(i);

	if (arch_is_member(path))
		return arch_read(path, fd, b, why, whylen);
	return input_read_fd(fd == -2 ? input_open(path) : fd, b, why, whylen);
}

int input_read_pair(size_t i, const char *path, struct buf *b, char *why, size_t whylen)
{
	int fd = pool_pair(i);

	if (arch_is_member(path))
		return arch_read(path, fd, b, why, whylen);
	return input_read_fd(fd == -2 ? input_open(path) : fd, b, why, whylen);
}

int input_skip_item(size_t i)
{
	int fd = pool_input(i);

	if (fd >= 0)
		close(fd);
	return 0;
}

int input_read_fd(int fd, struct buf *b, char *why, size_t whylen)
{
	struct stat st;
	size_t size;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : INPUT_ENOTREG;
		goto fail;
	}
	/* The size fstat gave, and no more: a file that grows meanwhile is
	 * not followed (nor is a worker's memory). */
	size = (size_t)st.st_size;
	if (!buf_grow(b, size ? size : 1)) {
		errno = ENOMEM;
		goto fail;
	}
	for (b->len = 0; b->len < size;) {
		ssize_t n = read(fd, b->p + b->len, size - b->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	close(fd);
	return 0;
fail:
	snprintf(why, whylen, "%s", input_reason(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}
