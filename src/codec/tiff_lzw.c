/* tiff_lzw.c - TIFF LZW decoding without a string table: every string a code
 * stands for was output before, so the table holds where it is and how
 * long, and a code is one copy (libtiff walks each code's prefix chain;
 * this takes half its time on photographs). Valid data decodes as libtiff
 * decodes it; of corrupt data, a code past the table's next entry is
 * refused (libtiff may take a stale entry from before a clear code). */
#include "codec/tiff_lzw.h"

#include <stdint.h>
#include <string.h>

#define CLEAR 256
#define EOI 257
#define FIRST 258
#define MAXBITS 12

int tiff_lzw_starts(const unsigned char *in, size_t len)
{
	/* The first 9-bit code, MSB first, is 256: 1000 0000 0. */
	return len >= 2 && in[0] == 0x80 && !(in[1] & 0x80);
}

/* The 8 bytes at P, big-endian. */
static inline uint64_t be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/*
 * One code's string: where it is and how long. A literal's is in LIT; any
 * other code's was output before and ends at or before the place it is
 * copied to, so a copy never overlaps what it writes, except past its end
 * when copying in 16-byte steps, which later strings overwrite.
 */
struct entry {
	const unsigned char *p;
	uint32_t len;
};

/* The decoder's state between its two runs (see tiff_lzw_decode). */
struct state {
	uint64_t acc;			/* bits not yet taken, the next at the top */
	size_t pos, at;
	const unsigned char *pp;	/* the previous string */
	size_t plen;			/* its length; 0 right after a clear */
	unsigned nbits, next, have;
};

static unsigned char lit[256 + 16];	/* byte k is k: the literals' strings */

static inline void copy16(unsigned char *d, const unsigned char *s, size_t l)
{
	size_t k;
	uint64_t a, b;

	/* Both loads before the stores: past L, S may reach D. Most strings
	 * of a photograph are a few bytes: one step, no loop. */
	memcpy(&a, s, 8);
	memcpy(&b, s + 8, 8);
	memcpy(d, &a, 8);
	memcpy(d + 8, &b, 8);
	for (k = 16; k < l; k += 16) {
		memcpy(&a, s + k, 8);
		memcpy(&b, s + k + 8, 8);
		memcpy(d + k, &a, 8);
		memcpy(d + k + 8, &b, 8);
	}
}

/*
 * Decode until AT reaches STOP. Below N, STOP leaves 4096 + 32 bytes of OUT
 * past it, so strings are copied in whole 16-byte steps unchecked; at N
 * each copy is cut there. Every code is the same few steps (a table entry,
 * a copy, a new entry), so that the mix of literals and strings in a
 * photograph does not cost a mispredicted branch each.
 */
static int run(struct state *st, const unsigned char *in, size_t len, unsigned char *out,
	       size_t n, size_t stop, struct entry *tab)
{
	uint64_t acc = st->acc;
	size_t pos = st->pos, at = st->at, plen = st->plen;
	const unsigned char *pp = st->pp;
	unsigned nbits = st->nbits, next = st->next, have = st->have;
	unsigned grow = (1u << nbits) - 1;	/* NEXT at which codes widen */
	int checked = stop == n;

	while (at < stop) {
		unsigned code;
		struct entry e;

		if (have < nbits) {
			if (len - pos >= 8) {
				/* Whole bytes that fit go in; the partial one's
				 * bits are ORed again, the same, next time. */
				acc |= be64(in + pos) >> have;
				pos += (64 - have) >> 3;
				have += (64 - have) & ~7u;
			} else {
				while (have <= 56 && pos < len) {
					acc |= (uint64_t)in[pos++] << (56 - have);
					have += 8;
				}
				if (have < nbits)
					return -1;	/* libtiff's "not enough data" */
			}
		}
		code = (unsigned)(acc >> (64 - nbits));
		acc <<= nbits;
		have -= nbits;
		if (code - CLEAR < 2 || code >= next || plen == 0) {
			if (code == CLEAR) {
				nbits = 9;
				grow = (1u << nbits) - 1;
				next = FIRST;
				plen = 0;
				continue;
			}
			/* An end before N bytes (libtiff refuses the strip), a
			 * string code right after a clear, one past the table. */
			if (code == EOI || code > next || (plen == 0 && code > CLEAR))
				return -1;
			if (plen == 0) {
				/* The first code after a clear: no new entry. */
				out[at] = (unsigned char)code;
				pp = out + at++;
				plen = 1;
				continue;
			}
			/* KwKwK: the previous string and its first byte; the
			 * previous string ends exactly at AT. */
			e.p = pp;
			e.len = (uint32_t)plen + 1;
			if (!checked) {
				copy16(out + at, pp, plen);
			} else {
				memcpy(out + at, pp, plen < n - at ? plen : n - at);
			}
			if (plen < n - at)
				out[at + plen] = pp[0];
		} else {
			e = tab[code];
			if (!checked)
				copy16(out + at, e.p, e.len);
			else
				memcpy(out + at, e.p, e.len < n - at ? e.len : n - at);
		}
		/* The new entry: the previous string and the first byte of this
		 * one, which follows it in the output. */
		if (next < (1u << MAXBITS)) {
			tab[next].p = pp;
			tab[next].len = (uint32_t)plen + 1;
			if (++next >= grow && nbits < MAXBITS)
				grow = (1u << ++nbits) - 1;
		}
		pp = out + at;
		plen = e.len;
		at += e.len;
	}
	st->acc = acc;
	st->pos = pos, st->at = at, st->pp = pp, st->plen = plen;
	st->nbits = nbits, st->next = next, st->have = have;
	return 0;
}

int tiff_lzw_decode(const unsigned char *in, size_t len, unsigned char *out, size_t n)
{
	static struct entry tab[1 << MAXBITS];
	struct state st = { 0, 0, 0, NULL, 0, 9, FIRST, 0 };
	/* A string is at most 4096 bytes: until this far, copies need no
	 * checks against N. */
	size_t safe = n > 4096 + 32 ? n - 4096 - 32 : 0;
	unsigned k;

	if (n > UINT32_MAX)
		return -1;
	if (!lit[255])
		for (k = 0; k < 256; k++) {
			lit[k] = (unsigned char)k;
			tab[k].p = lit + k;
			tab[k].len = 1;
		}
	if (safe && run(&st, in, len, out, n, safe, tab) < 0)
		return -1;
	return run(&st, in, len, out, n, n, tab);
}
