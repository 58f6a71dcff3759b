/* tiff_lzw.c - TIFF LZW decoding without a string table: every string a code
 * stands for was output before, so the table holds where (an offset into
 * the output) and how long, and a code is one copy. libtiff decodes a code
 * by walking its prefix chain backwards. Valid data decodes as libtiff
 * decodes it; of corrupt data, a code past the table's next entry is
 * refused (libtiff may take a stale entry from before a clear code). */
#include "tiff_lzw.h"

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

/* Copy L bytes from S, which ends at or before D, to D; with room for 16
 * more bytes at D (SLACK), in 8-byte steps that may write past L. */
static inline void copy_string(unsigned char *d, const unsigned char *s, size_t l, int slack)
{
	if (slack && l <= 16) {
		uint64_t a, b;

		/* Both loads before the stores: bytes past L may overlap D. */
		memcpy(&a, s, 8);
		memcpy(&b, s + 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + 8, &b, 8);
	} else {
		memcpy(d, s, l);
	}
}

int tiff_lzw_decode(const unsigned char *in, size_t len, unsigned char *out, size_t n)
{
	static uint32_t off[1 << MAXBITS];	/* where code's string starts in OUT */
	static uint16_t slen[1 << MAXBITS];	/* and its length (at most 4096) */
	uint64_t acc = 0;		/* bits not yet taken, the next at the top */
	size_t pos = 0, at = 0, poff = 0, plen = 0;
	unsigned nbits = 9, next = FIRST, have = 0;
	int prev = 0;			/* a string was output since the clear */

	if (n > UINT32_MAX)
		return -1;
	while (at < n) {
		unsigned code;
		size_t start = at, l;

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
		if (code < CLEAR) {
			out[at++] = (unsigned char)code;
		} else if (code == CLEAR) {
			nbits = 9;
			next = FIRST;
			prev = 0;
			continue;
		} else if (code == EOI || !prev || code > next) {
			/* An end before N bytes (libtiff refuses the strip), a
			 * string code right after a clear, one past the table. */
			return -1;
		} else if (code < next) {
			/* Its string ends at or before AT: no overlap. */
			l = slen[code];
			if (l > n - at)
				l = n - at;
			copy_string(out + at, out + off[code], l, n - at >= l + 16);
			at += l;
		} else {
			/* KwKwK: the previous string and its first byte; the
			 * previous string ends exactly at AT. */
			l = plen < n - at ? plen : n - at;
			copy_string(out + at, out + poff, l, n - at >= l + 16);
			at += l;
			if (at < n)
				out[at++] = out[poff];
		}
		/* The new entry: the previous string and the first byte of this
		 * one, which follows it in the output. */
		if (prev && next < (1u << MAXBITS)) {
			off[next] = (uint32_t)poff;
			slen[next] = (uint16_t)(plen + 1);
			next++;
			if (next >= (1u << nbits) - 1 && nbits < MAXBITS)
				nbits++;
		}
		/* Cut short only at the end, where it no longer matters. */
		poff = start;
		plen = at - start;
		prev = 1;
	}
	return 0;
}
