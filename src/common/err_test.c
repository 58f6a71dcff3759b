/* err_test.c - unit tests of err_printable: what a message may quote from a
 * file (a chunk type, a path) reaches the terminal escaped, and printable
 * UTF-8 as it is. */
#include "common/err.h"

#include <criterion/criterion.h>
#include <string.h>

static const char *esc(const char *s)
{
	static char out[256];

	err_printable(out, sizeof(out), s);
	return out;
}

Test(err, printable_ascii_is_kept)
{
	cr_assert_str_eq(esc("corrupt PNG (bad CRC in IDAT chunk)"),
			 "corrupt PNG (bad CRC in IDAT chunk)");
	cr_assert_str_eq(esc("a\\b"), "a\\b");
}

Test(err, a_raw_byte_of_a_chunk_type_is_escaped)
{
	cr_assert_str_eq(esc("bad CRC in IDA\xab chunk"), "bad CRC in IDA\\xab chunk");
}

Test(err, control_characters_and_del_are_escaped)
{
	cr_assert_str_eq(esc("a\nb\tc\x1b[2Jd\x7f"), "a\\x0ab\\x09c\\x1b[2Jd\\x7f");
}

Test(err, valid_utf8_is_kept)
{
	cr_assert_str_eq(esc("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x90\x88.png"),
			 "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x90\x88.png");
}

Test(err, invalid_utf8_and_c1_controls_are_escaped)
{
	cr_assert_str_eq(esc("\xc3"), "\\xc3");			/* cut short */
	cr_assert_str_eq(esc("\xc0\xaf"), "\\xc0\\xaf");	/* overlong */
	cr_assert_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");	/* surrogate */
	cr_assert_str_eq(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");	/* > U+10FFFF */
	cr_assert_str_eq(esc("\xc2\x9b"), "\\xc2\\x9b");	/* CSI, a C1 control */
	cr_assert_str_eq(esc("\xc2\xa0"), "\xc2\xa0");		/* no-break space */
}

Test(err, output_is_cut_before_an_escape_that_does_not_fit)
{
	char out[8];

	cr_assert_eq(err_printable(out, sizeof(out), "abcd\x01xyz"), 4);
	cr_assert_str_eq(out, "abcd");
	cr_assert_eq(err_printable(out, sizeof(out), "ab\x01z"), 7);
	cr_assert_str_eq(out, "ab\\x01z");
	cr_assert_eq(err_printable(out, 1, "abc"), 0);
	cr_assert_str_eq(out, "");
}
