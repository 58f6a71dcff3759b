/* phash.h - the imagehash library's perceptual hashes of a decoded image,
 * bit for bit: dhash (convert("L"), LANCZOS to 9x8, each pixel against its
 * right neighbour) and phash (convert("L"), LANCZOS to 32x32, scipy.fftpack's
 * unnormalised DCT-II along both axes, the top-left 8x8 against its median).
 * Bit i of the 64 (row-major, imagehash's flatten order) is bit 63 - i of
 * the number, so "%016llx" prints imagehash's str() of the hash. */
#ifndef PARIMG_PHASH_H
#define PARIMG_PHASH_H

#include "image/resize.h"

#include <stddef.h>
#include <stdint.h>

/* Pillow's convert("L") of COUNT pixels of C channels (1-4, 2 and 4 with
 * alpha, which it ignores) at PIX, 8-bit or 16-bit samples (DEPTH16, taken
 * to 8 bits by their high byte, as parimg's decoders do) into GRAY. */
void phash_gray(const void *pix, size_t count, int c, int depth16, uint8_t *gray);

/* dhash of the 9 x 8 gray pixels at PX (rows of 9). */
uint64_t phash_dhash_bits(const uint8_t *px);

/* phash of the 32 x 32 gray pixels at PX (rows of 32). */
uint64_t phash_dct_bits(const uint8_t *px);

/* Both hashes of the W x H gray image at GRAY (rows packed), resized by
 * CTX. 0, or -1 with errno set as resize_image sets it. */
int phash_image(struct resize_ctx *ctx, const uint8_t *gray, int w, int h, uint64_t *dhash,
		uint64_t *phash);

/* The Hamming distance of two hashes: the bits that differ. */
static inline int phash_distance(uint64_t a, uint64_t b)
{
	return __builtin_popcountll(a ^ b);
}

#endif
