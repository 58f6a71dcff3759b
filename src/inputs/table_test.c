/* table_test.c - unit tests of the table reader (table.h): CSV, TSV and
 * JSON Lines told apart, quoting, escapes, BOM and line ends, and every
 * malformed table's FILE:LINE message. */
#define _GNU_SOURCE
#include "inputs/table.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const char *const cols[] = { "id", "label" };

/* Parse TEXT (copied) asking for id and label; the return value. */
static int parse(struct table *t, const char *text)
{
	size_t len = strlen(text);
	char *p = malloc(len + 1);

	cr_assert_not_null(p);
	memcpy(p, text, len);
	return table_parse(t, "t.csv", p, len, cols, 2);
}

#define CELL(t, r, k) table_cell(t, r, k)

/* Parse TEXT, which must fail, and check the message holds WANT. */
static void parse_fails(const char *text, const char *want)
{
	struct ut_capture c;
	struct table t;
	char *err;
	int r;

	ut_capture_begin(&c);
	r = parse(&t, text);
	err = ut_capture_end(&c);
	cr_assert_eq(r, -1, "parsed: %s", text);
	cr_assert(strstr(err, want), "'%s' not in '%s'", want, err);
	free(err);
}

Test(table, csv_quotes_bom_crlf)
{
	struct table t;

	cr_assert_eq(parse(&t, "\xef\xbb\xbfx,id,label\r\n1,a,\"b,c\"\r\n\r\n2,\"d\r\ne\",\"f\"\"g\"\r\n"
			   "3,h,\n"), 0);
	cr_assert_eq(t.format, TABLE_CSV);
	cr_assert(t.seen[0] && t.seen[1]);
	cr_assert_eq(t.nrows, 3);
	cr_assert_str_eq(CELL(&t, 0, 0), "a");
	cr_assert_str_eq(CELL(&t, 0, 1), "b,c");
	cr_assert_str_eq(CELL(&t, 1, 0), "d\r\ne");
	cr_assert_str_eq(CELL(&t, 1, 1), "f\"g");
	cr_assert_str_eq(CELL(&t, 2, 1), "");
	cr_assert_eq(t.line[0], 2);
	cr_assert_eq(t.line[1], 4);	/* after the blank line */
	cr_assert_eq(t.line[2], 6);	/* the quoted line break counted */
	table_free(&t);
}

Test(table, tsv_and_missing_column)
{
	struct table t;

	cr_assert_eq(parse(&t, "id\tother\nx,1\t2\n"), 0);
	cr_assert_eq(t.format, TABLE_TSV);
	cr_assert(t.seen[0] && !t.seen[1]);
	cr_assert_str_eq(CELL(&t, 0, 0), "x,1");
	cr_assert_null(CELL(&t, 0, 1));
	table_free(&t);
}

Test(table, jsonl_escapes_and_nesting)
{
	struct table t;

	cr_assert_eq(parse(&t, "\n{\"id\": \"a\\u00e9\\ud83d\\ude00\\n\", \"label\": -1.5e3,"
			   " \"x\": {\"y\": [1, \"]\"]}}\r\n{\"label\": null, \"id\": \"b\"}\n"), 0);
	cr_assert_eq(t.format, TABLE_JSONL);
	cr_assert_eq(t.nrows, 2);
	cr_assert_str_eq(CELL(&t, 0, 0), "a\xc3\xa9\xf0\x9f\x98\x80\n");
	cr_assert_str_eq(CELL(&t, 0, 1), "-1.5e3");
	cr_assert_eq(t.line[0], 2);
	cr_assert_str_eq(CELL(&t, 1, 0), "b");
	cr_assert_null(CELL(&t, 1, 1));
	table_free(&t);
}

Test(table, malformed)
{
	parse_fails("id,label\na,b\n\"c,d\n", "t.csv:3: a quote not closed");
	parse_fails("id,label\na,\"b\"x\n", "t.csv:2: text after a closing quote");
	parse_fails("id,label\na\n", "t.csv:2: 1 field, the header has 2");
	parse_fails("id,label\na,b\xff\n", "t.csv:2: invalid UTF-8");
	parse_fails("id,label\na,\xc0\x80\n", "t.csv:2: invalid UTF-8");
	parse_fails("id,label\n\na,\xed\xa0\x80\n", "t.csv:3: invalid UTF-8");
	parse_fails("id,id\n", "t.csv:1: column 'id' twice");
	parse_fails("", "t.csv: no header line");
	parse_fails("{\"id\":\"a\"}\n[1]\n", "t.csv:2: not a JSON object");
	parse_fails("{\"id\":\"a\"} x\n", "t.csv:1: text after the object");
	parse_fails("{\"id\":\"a\n", "t.csv:1: a string not closed");
	parse_fails("{\"id\":\"\\ud800\"}\n", "t.csv:1: a lone surrogate");
	parse_fails("{\"id\":\"\\x\"}\n", "t.csv:1: a bad escape");
	parse_fails("{\"id\":01}\n", "t.csv:1: a ',' or '}' missing");
	parse_fails("{\"id\":tru}\n", "t.csv:1: not valid JSON");
	parse_fails("{\"label\":[1]}\n", "t.csv:1: 'label' is an array or object");
	parse_fails("{\"id\":1,}\n", "t.csv:1: a key that is not a string");
}

Test(table, nul_byte)
{
	struct ut_capture c;
	struct table t;
	char *p = malloc(16), *err;
	int r;

	memcpy(p, "id\na\0b\n", 7);
	ut_capture_begin(&c);
	r = table_parse(&t, "t.csv", p, 7, cols, 2);
	err = ut_capture_end(&c);
	cr_assert_eq(r, -1);
	cr_assert(strstr(err, "t.csv:2: a NUL byte"), "%s", err);
	free(err);
}
