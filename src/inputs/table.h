/* table.h - a table of a dataset's rows as people write one down: CSV, TSV
 * or JSON Lines, told apart by content, read into the few columns asked for,
 * each row with the line it starts on. A leaf: labels.c matches its rows to
 * the images. */
#ifndef PARIMG_TABLE_H
#define PARIMG_TABLE_H

#include <stddef.h>

#define TABLE_MAXCOLS 64	/* columns that may be asked for */

enum table_format { TABLE_CSV, TABLE_TSV, TABLE_JSONL };

struct table {
	const char *name;		/* the file, for messages */
	enum table_format format;
	char *text;			/* its bytes, NUL-ended; cells point into them */
	size_t ncols;			/* the columns asked for */
	unsigned char seen[TABLE_MAXCOLS];	/* column k is in the header (CSV,
						 * TSV) or in some object (JSON Lines) */
	size_t nrows;			/* data rows, the header not counted */
	char **cell;			/* nrows x width: see table_cell */
	size_t width;			/* cells kept a row: the columns asked for
					 * (CSV, TSV: those in the header) */
	int slot[TABLE_MAXCOLS];	/* column k's place in a row, or -1 */
	size_t *line;			/* the line each row starts on, from 1 */
};

/* Row R's cell of column K (of those asked for): NULL when the column is
 * not in the table, or (JSON Lines) not in that row's object or null. */
static inline char *table_cell(const struct table *t, size_t r, size_t k)
{
	return t->slot[k] < 0 ? NULL : t->cell[r * t->width + (size_t)t->slot[k]];
}

/*
 * Parse the LEN bytes of TEXT (LEN + 1 allocated, owned by T from now on,
 * freed on failure) as a table named NAME, keeping the columns COLS[0..N):
 * JSON Lines when its first non-blank byte is '{', else TSV when its first
 * line has more tabs than commas, else CSV. A UTF-8 BOM is skipped; lines
 * may end in LF, CRLF or CR; CSV and TSV fields may be quoted (RFC 4180:
 * "" for a quote, separators and line breaks inside); a JSON object's
 * strings are unescaped and its numbers kept as written. Blank lines are
 * skipped. A malformed table (invalid UTF-8, a NUL byte, an unbalanced
 * quote, text after a closing quote, a row whose field count differs from
 * the header's, a JSON line that is not one object, a requested column
 * whose value is an array or object) is an error naming NAME:LINE.
 * 0, or -1 with a message printed.
 */
int table_parse(struct table *t, const char *name, char *text, size_t len,
		const char *const *cols, size_t n);
/* As table_parse, on the file PATH. */
int table_read(struct table *t, const char *path, const char *const *cols, size_t n);
void table_free(struct table *t);

#endif
