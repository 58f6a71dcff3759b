/* input.c - how a worker gets an input file's bytes: read whole into a
 * buffer reused from file to file, from a descriptor its parent opened (a
 * confined worker, see pool_input) or from the path; an archive member's
 * from where arch.c keeps it. */
#define _GNU_SOURCE
#include "inputs/input.h"
#include "inputs/arch.h"
#include "engine/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int input_open(const char *path)
{
	int fd = arch_open(path);

	return fd != -2 ? fd : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int input_read(const char *path, struct buf *b, char *why, size_t whylen)
{
	if (arch_is_member(path))
		return arch_read(path, -2, b, why, whylen);
	return input_read_fd(open(path, O_RDONLY | O_CLOEXEC), b, why, whylen);
}

int input_read_item(size_t i, const char *path, struct buf *b, char *why, size_t whylen)
{
	int fd = pool_input(i);

	if (arch_is_member(path))
		return arch_read(path, fd, b, why, whylen);
	return input_read_fd(fd == -2 ? open(path, O_RDONLY | O_CLOEXEC) : fd, b, why, whylen);
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
	size_t want;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	want = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	b->len = 0;
	for (;;) {
		ssize_t n;

		if (b->cap - b->len < want) {
			size_t cap = b->len + want;
			unsigned char *p = realloc(b->p, cap);

			if (!p) {
				errno = ENOMEM;
				goto fail;
			}
			b->p = p;
			b->cap = cap;
		}
		n = read(fd, b->p + b->len, b->cap - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		b->len += (size_t)n;
		/* A regular file is read once its size is in: no read for EOF. */
		if (S_ISREG(st.st_mode) && b->len == (size_t)st.st_size)
			break;
		want = b->cap - b->len ? 1 : b->cap;
	}
	close(fd);
	return 0;
fail:
	snprintf(why, whylen, "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}
