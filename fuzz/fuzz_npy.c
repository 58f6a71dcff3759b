/* fuzz_npy.c - libFuzzer target for the .npy header reader and writer: any
 * header the reader accepts must be written back and read again to the same
 * fields, with data starting on a 64-byte boundary. */
#include "common/npy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npy_header h, back;
	char buf[8192], why[256];
	size_t n;

	if (npy_parse_header(data, size, &h, why, sizeof(why)) < 0)
		return 0;
	npy_data_size(&h);
	n = npy_format_header(&h, buf, sizeof(buf));
	if (n == 0)
		return 0;
	if (n % 64 != 0 || n != h.header_len)
		abort();
	if (npy_parse_header((const unsigned char *)buf, n, &back, why, sizeof(why)) < 0 ||
	    strcmp(back.descr, h.descr) != 0 || back.ndim != h.ndim ||
	    memcmp(back.shape, h.shape, sizeof(h.shape[0]) * (size_t)h.ndim) != 0)
		abort();
	return 0;
}
