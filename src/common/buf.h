/* buf.h - a growable byte buffer: a file's bytes, a decoder's scratch, a
 * row. Owned by its user and reused from image to image. */
#ifndef PARIMG_BUF_H
#define PARIMG_BUF_H

#include <stddef.h>

struct buf {
	unsigned char *p;
	size_t len, cap;
};

/* Make room for MORE bytes past B's length, doubling. 0, or -1 when out of
 * memory (B unchanged). */
int buf_reserve(struct buf *b, size_t more);

/* B's storage grown to at least N bytes (contents not kept); NULL when out
 * of memory. For buffers reused image to image: each decoder's, a row's. */
void *buf_grow(struct buf *b, size_t n);

#endif
