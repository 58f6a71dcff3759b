/* fuzz_table.c - libFuzzer target for the table reader (inputs/table.c):
 * any bytes as a CSV, TSV or JSON Lines table. What it accepts must hold
 * rows whose lines never go back, whose cells lie inside the text and end
 * there, and (the text being checked UTF-8 first) are UTF-8 themselves,
 * escapes included. */
#include "inputs/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* S is UTF-8 (as Python would decode it) with no NUL inside. */
static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2
			   : (*s & 0xf8) == 0xf0 ? 3 : 9;
		size_t k;

		if (n == 9)
			return 0;
		for (k = 1; k <= n; k++)
			if ((s[k] & 0xc0) != 0x80)
				return 0;
		s += n + 1;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cols[] = { "file_name", "id", "label", "t" };
	struct table t;
	char *text = malloc(size + 1);
	size_t r, k;

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (table_parse(&t, "fuzz", text, size, cols, 4) < 0)
		return 0;
	for (r = 0; r < t.nrows; r++) {
		if (r && t.line[r] <= t.line[r - 1])
			abort();
		for (k = 0; k < t.ncols; k++) {
			const char *c = table_cell(&t, r, k);

			if (!c)
				continue;
			if (c < t.text || c > t.text + size || c + strlen(c) > t.text + size ||
			    !utf8_ok((const unsigned char *)c))
				abort();
		}
	}
	table_free(&t);
	return 0;
}
