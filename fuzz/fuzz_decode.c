/* fuzz_decode.c - libFuzzer target for one decoder of codec.c's table,
 * named by -DDECODER (dec_jpeg, dec_png, ...): files its sniff claims are
 * probed and decoded at every channel count and depth, and JPEGs at reduced
 * scales. The first input byte picks channels, depth and draft. */
#include "codec/codec.h"
#include "codec/decoder.h"

#include <stdint.h>
#include <stdlib.h>

#ifndef DECODER
#error "build with -DDECODER=dec_NAME"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct codec_info info;
	char why[256];
	int channels, depth16;
	void *pix;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (codec_probe(data, size, 1 << 22, &info, why, sizeof(why)) < 0 ||
	    info.dec != &DECODER)
		return 0;
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
		return 0;
	}
	pix = malloc((size_t)info.w * (size_t)info.h * (size_t)channels * (depth16 ? 2u : 1u));
	if (!pix)
		return 0;
	codec_decode(data, size, &info, channels, depth16, pix, why, sizeof(why));
	free(pix);
	return 0;
}
