/* fuzz_decode.c - libFuzzer target for one decoder of codec.c's table,
 * named by -DDECODER (dec_jpeg, dec_png, ...): files its sniff claims are
 * probed and decoded at every channel count and depth, and JPEGs at reduced
 * scales. The first input byte picks channels, depth and draft, and its
 * top bit a decode of a mask's indices (codec_decode_indices) instead.
 *
 * Built with -DTWO_INPUTS, the input is two files, each with its mode byte,
 * split at the first SEPARATOR (in every fuzz/dict/ *.dict); both are
 * decoded, one after the other, in the one process, as a worker decodes its
 * files: state a decoder keeps from one file to the next (issue 32's GIF
 * table) is then fuzzed too. Without a separator the input is decoded
 * twice. */
#define _GNU_SOURCE		/* memmem */
#include "codec/codec.h"
#include "codec/decoder.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef DECODER
#error "build with -DDECODER=dec_NAME"
#endif

#define SEPARATOR "--parimg-next-file--"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Probe and decode one mode byte and file, if DECODER claims it. */
static void decode_one(const uint8_t *data, size_t size)
{
	struct codec_info info;
	char why[256];
	int channels, depth16;
	void *pix;
	uint8_t mode;

	if (size < 1)
		return;
	mode = data[0];
	data++;
	size--;
	if (codec_probe(data, size, 1 << 22, &info, why, sizeof(why)) < 0 ||
	    info.dec != &DECODER)
		return;
	channels = 1 + (mode & 3);
	depth16 = (mode >> 2) & 1;
	if (mode & 8) {
		int d = 2 + ((mode >> 4) & 7);

		codec_draft(&info, info.w / d > 0 ? info.w / d : 1, info.h / d > 0 ? info.h / d : 1);
	}
	if (info.values) {
		/* A TIFF of float or int samples: its values, as doubles. */
		if ((pix = malloc((size_t)info.w * (size_t)info.h * sizeof(double))))
			codec_decode_values(data, size, &info, pix, why, sizeof(why));
		free(pix);
		return;
	}
	if (mode & 0x80) {
		/* A mask: a palette's indices, gray values, or refused. */
		if ((pix = malloc((size_t)info.w * (size_t)info.h)))
			codec_decode_indices(data, size, &info, pix, why, sizeof(why));
		free(pix);
		return;
	}
	pix = malloc((size_t)info.w * (size_t)info.h * (size_t)channels * (depth16 ? 2u : 1u));
	if (!pix)
		return;
	codec_decode(data, size, &info, channels, depth16, pix, why, sizeof(why));
	free(pix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef TWO_INPUTS
	const uint8_t *sep = memmem(data, size, SEPARATOR, sizeof(SEPARATOR) - 1);

	if (!sep) {
		decode_one(data, size);
		decode_one(data, size);
		return 0;
	}
	decode_one(data, (size_t)(sep - data));
	sep += sizeof(SEPARATOR) - 1;
	decode_one(sep, size - (size_t)(sep - data));
#else
	decode_one(data, size);
#endif
	return 0;
}
