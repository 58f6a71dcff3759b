/* table_libs.c - parimg's table reader (inputs/table.c) against Debian's
 * CSV and JSON libraries on the same file, for issue 26's "choose by
 * measurement" (bench section t3, bench_labels.sh):
 *
 *   table_libs own|libcsv|libcsv-keep FILE.csv
 *   table_libs own|jansson|yajl FILE.jsonl
 *
 * Each reads FILE whole, then parses it into the columns "id" and "label"
 * of every row, as labels.c needs them: own keeps pointers into the text
 * (unquoted in place); libcsv only counts fields and bytes (its floor:
 * a user still has to copy the cells out of its buffer), libcsv-keep also
 * copies the two cells out of each row, as a user of it must; jansson and
 * yajl parse each line as an object and look up both keys. Prints rows and
 * a checksum of the cells' lengths, so that every parser is seen to read
 * the same table. */
#define _GNU_SOURCE
#include "inputs/table.h"

#include <csv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (long)(*len = ftell(f)) < 0)
		exit(1);
	rewind(f);
	if (!(p = malloc(*len + 1)) || fread(p, 1, *len, f) != *len)
		exit(1);
	p[*len] = 0;
	fclose(f);
	return p;
}

/* A yajl string value's length, 0 for anything else. */
static size_t ylen(yajl_val v)
{
	return v && YAJL_IS_STRING(v) ? strlen(v->u.string) : 0;
}

struct cb {
	size_t rows, field, sum, cap, n;
	int keep;
	char **cells;
};

static void on_field(void *s, size_t len, void *ctx)
{
	struct cb *c = ctx;

	if (c->rows > 0 && c->field < 2) {
		c->sum += len;
		if (c->keep) {
			if (c->n == c->cap &&
			    !(c->cells = realloc(c->cells, (c->cap = c->cap ? 2 * c->cap : 1024) *
						 sizeof(*c->cells))))
				exit(1);
			c->cells[c->n++] = strndup(s, len);
		}
	}
	c->field++;
}

static void on_row(int ch, void *ctx)
{
	struct cb *c = ctx;

	(void)ch;
	c->rows++;
	c->field = 0;
}

int main(int argc, char **argv)
{
	static const char *const cols[] = { "id", "label" };
	size_t len, rows = 0, sum = 0, k;
	char *text;

	if (argc != 3)
		return 2;
	text = slurp(argv[2], &len);
	if (!strcmp(argv[1], "own")) {
		struct table t;

		if (table_parse(&t, argv[2], text, len, cols, 2) < 0)
			return 1;
		rows = t.nrows;
		for (k = 0; k < rows; k++)
			sum += strlen(table_cell(&t, k, 0)) + strlen(table_cell(&t, k, 1));
		table_free(&t);
	} else if (!strncmp(argv[1], "libcsv", 6)) {
		struct csv_parser p;
		struct cb c = { .keep = !strcmp(argv[1], "libcsv-keep") };

		if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0 ||
		    csv_parse(&p, text, len, on_field, on_row, &c) != len ||
		    csv_fini(&p, on_field, on_row, &c) != 0)
			return 1;
		csv_free(&p);
		rows = c.rows - 1;
		sum = c.sum;
		for (k = 0; k < c.n; k++)
			free(c.cells[k]);
		free(c.cells);
		free(text);
	} else if (!strcmp(argv[1], "jansson") || !strcmp(argv[1], "yajl")) {
		char *line = text, *end;

		for (; *line; line = end + 1) {
			end = strchr(line, '\n');
			if (!end)
				end = line + strlen(line);
			if (end == line)
				continue;
			if (argv[1][0] == 'j') {
				json_error_t e;
				json_t *o = json_loadb(line, end - line, 0, &e);

				if (!o || !json_is_object(o))
					return 1;
				sum += strlen(json_string_value(json_object_get(o, "id"))) +
				       json_string_length(json_object_get(o, "label"));
				json_decref(o);
			} else {
				static const char *idp[] = { "id", NULL }, *lp[] = { "label", NULL };
				char save = *end, err[128];
				yajl_val o;

				*end = 0;
				o = yajl_tree_parse(line, err, sizeof(err));
				*end = save;
				if (!o || !YAJL_IS_OBJECT(o))
					return 1;
				sum += ylen(yajl_tree_get(o, idp, yajl_t_string)) +
				       ylen(yajl_tree_get(o, lp, yajl_t_string));
				yajl_tree_free(o);
			}
			rows++;
			if (!*end)
				break;
		}
		free(text);
	} else {
		return 2;
	}
	printf("%s: %zu rows, %zu bytes of cells\n", argv[1], rows, sum);
	return 0;
}
