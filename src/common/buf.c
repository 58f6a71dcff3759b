/* buf.c - the growable byte buffer of buf.h. */
#include "common/buf.h"

#include <stdlib.h>

int buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	unsigned char *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

void *buf_grow(struct buf *b, size_t n)
{
	if (n > b->cap) {
		free(b->p);
		b->len = b->cap = 0;
		if (!(b->p = malloc(n)))
			return NULL;
		b->cap = n;
	}
	return b->p;
}
