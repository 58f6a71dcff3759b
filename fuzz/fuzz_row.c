/* fuzz_row.c - libFuzzer target for load's per-file path: header check, PNG
 * CRC check, decode, channel conversion, resize and store into a row. The
 * first input byte picks the channels, dtype, scaling and resizing; the
 * length, the resize's filter and fit, the layout, --normalize, --stats and
 * --exif-transpose. */
#include "image/row.h"
#include "image/chanstats.h"
#include "codec/codec.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct row_spec s = { .max_pixels = 1 << 20, .size_from = "fuzz" };
	struct row_scratch scratch = { 0 };
	struct chanstats_acc acc = { 0 };
	struct codec_info info;
	char why[256];
	void *row;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	s.channels = 1 + (mode & 3);
	s.dtype = (enum tensor_dtype)((mode >> 2) & 3);
	s.scale = (mode >> 4) & 1 && s.dtype >= TENSOR_F4;
	s.resize = (mode >> 5) & 1;
	s.exif_transpose = size / 18 % 2;
	if (s.resize) {
		s.w = 1 + ((mode >> 6) & 3) * 7;
		s.h = 5;
		/* The filter and fit from the input's length. */
		s.filter = (enum resize_filter)(size % 6);
		s.fit = (enum resize_fit)(size / 6 % 3);
	} else {
		/* The size the first image would have fixed. */
		int w, h;

		if (codec_probe(data, size, s.max_pixels, &info, why, sizeof(why)) < 0)
			return 0;
		row_image_size(&s, &info, &w, &h);
		s.w = (uint32_t)w;
		s.h = (uint32_t)h;
	}
	s.layout = (size / 18) & 1 ? TENSOR_NCHW : TENSOR_NHWC;
	if (s.dtype >= TENSOR_F4 && !s.scale && (size / 36) & 1) {
		int k;

		s.norm.on = 1;
		s.norm.n = s.channels;
		for (k = 0; k < s.channels; k++) {
			s.norm.mean[k] = 0.5;
			s.norm.std[k] = 0.25;
		}
	}
	if ((size / 72) & 1)
		scratch.stats = &acc;
	row = malloc(row_bytes(&s));
	if (!row)
		return 0;
	row_decode(&s, data, size, row, &scratch, why, sizeof(why));
	free(row);
	free(scratch.resized.p);
	resize_ctx_free(&scratch.rz);
	free(scratch.pix.p);
	free(scratch.turned.p);
	free(scratch.values.p);
	return 0;
}
