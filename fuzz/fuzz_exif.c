/* fuzz_exif.c - libFuzzer target for the EXIF orientation parser (exif.h):
 * the input as an EXIF block, as a PNG "Raw profile type exif" text and as
 * XMP; each must return a value in range and read only inside the input. */
#include "codec/exif.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int o = exif_orientation(data, size);

	if (o < -1 || o > 8)
		abort();
	o = exif_raw_profile(data, size);
	if (o < -1 || o > 8)
		abort();
	o = exif_xmp(data, size);
	if (o < 0 || o > 8)
		abort();
	return 0;
}
