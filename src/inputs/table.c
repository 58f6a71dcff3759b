/* table.c - CSV, TSV and JSON Lines tables read in place: cells are
 * unquoted or unescaped inside the file's own bytes and NUL-ended there, so
 * a million-row table costs its size and one pointer a cell asked for. */
#define _GNU_SOURCE
#include "inputs/table.h"
#include "inputs/input.h"
#include "common/buf.h"
#include "common/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH 64		/* nested arrays and objects, at most */

struct parser {
	struct table *t;
	const char *const *cols;
	char *p, *end;
	size_t line;		/* of P, from 1 */
	size_t cap;		/* rows allocated */
	char **f;		/* a CSV record's fields, or a JSON object's */
	char **fend;		/* (JSON) where each key and value ends */
	size_t nf, fcap;
};

/* A line break at P (before END): LF, CRLF (its CR) or a lone CR. */
static int is_break(const char *p, const char *end)
{
	return *p == '\n' || (*p == '\r' && (p + 1 >= end || p[1] != '\n'));
}

/* S[0..LEN) is UTF-8 without NUL bytes: no overlong forms, surrogates or
 * code points past U+10FFFF. 0, or -1 naming NAME:LINE. */
static int check_utf8(const char *name, const unsigned char *s, size_t len)
{
	size_t i = 0, line = 1, n, k;
	uint32_t cp, min;

	while (i < len) {
		unsigned c = s[i];

		if (c < 0x80) {
			if (c == 0)
				return error("%s:%zu: a NUL byte", name, line);
			line += is_break((const char *)s + i, (const char *)s + len);
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return error("%s:%zu: invalid UTF-8", name, line);
		if (len - i <= n)
			return error("%s:%zu: invalid UTF-8", name, line);
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return error("%s:%zu: invalid UTF-8", name, line);
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return error("%s:%zu: invalid UTF-8", name, line);
		i += n + 1;
	}
	return 0;
}

/* A new row starting on line LINE, its cells NULL; NULL when out of memory. */
static char **add_row(struct parser *ps, size_t line)
{
	struct table *t = ps->t;

	if (t->nrows == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 1024;
		char **c = realloc(t->cell, cap * (t->width ? t->width : 1) * sizeof(*c));
		size_t *l;

		if (!c)
			return NULL;
		t->cell = c;
		if (!(l = realloc(t->line, cap * sizeof(*l))))
			return NULL;
		t->line = l;
		ps->cap = cap;
	}
	t->line[t->nrows] = line;
	memset(t->cell + t->nrows * t->width, 0, t->width * sizeof(char *));
	return t->cell + t->nrows++ * t->width;
}

/* Room for one more field (and its end) in PS->f. */
static int push_field(struct parser *ps, char *f, char *fend)
{
	if (ps->nf == ps->fcap) {
		size_t cap = ps->fcap ? ps->fcap * 2 : 16;
		char **a = realloc(ps->f, cap * sizeof(*a)), **b;

		if (!a)
			return error("out of memory");
		ps->f = a;
		if (!(b = realloc(ps->fend, cap * sizeof(*b))))
			return error("out of memory");
		ps->fend = b;
		ps->fcap = cap;
	}
	ps->f[ps->nf] = f;
	ps->fend[ps->nf++] = fend;
	return 0;
}

/*
 * One CSV or TSV record from PS->p, its fields unquoted and NUL-ended in
 * place into PS->f, blank lines before it skipped; *START is the line it
 * begins on. 1 with a record, 0 at the end of the text, -1 on error.
 */
static int csv_record(struct parser *ps, char delim, size_t *start)
{
	const char *name = ps->t->name;
	char *p = ps->p, *end = ps->end, *w;

	while (p < end && (*p == '\n' || *p == '\r')) {
		ps->line += is_break(p, end);
		p++;
	}
	if (p >= end) {
		ps->p = p;
		return 0;
	}
	*start = ps->line;
	ps->nf = 0;
	for (;;) {
		char *field = p, c;

		if (*p == '"') {
			size_t open = ps->line;

			for (w = p++;;) {
				if (p >= end)
					return error("%s:%zu: a quote not closed", name, open);
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				ps->line += is_break(p, end);
				*w++ = *p++;
			}
			if (p < end && *p != delim && *p != '\n' && *p != '\r')
				return error("%s:%zu: text after a closing quote", name, ps->line);
		} else {
			while (p < end && *p != delim && *p != '\n' && *p != '\r')
				p++;
			w = p;
		}
		if (push_field(ps, field, w) < 0)
			return -1;
		if (p >= end) {
			*w = '\0';	/* the NUL after the text at worst */
			break;
		}
		c = *p;
		*w = '\0';
		p++;
		if (c == delim)
			continue;
		if (c == '\r' && p < end && *p == '\n')
			p++;
		ps->line++;
		break;
	}
	ps->p = p;
	return 1;
}

/* A CSV or TSV table: the header names the columns, and every record has
 * as many fields. */
static int csv_rows(struct parser *ps, char delim)
{
	struct table *t = ps->t;
	size_t start, h, j, k;
	int *map = NULL, r;

	if ((r = csv_record(ps, delim, &start)) <= 0)
		return r < 0 ? -1 : error("%s: no header line", t->name);
	h = ps->nf;
	if (!(map = malloc(h * sizeof(*map))))
		return error("out of memory");
	for (j = 0; j < h; j++) {
		map[j] = -1;
		for (k = 0; k < t->ncols; k++)
			if (strcmp(ps->f[j], ps->cols[k]) == 0) {
				if (t->seen[k]) {
					free(map);
					return error("%s:%zu: column '%s' twice in the header", t->name,
						     start, ps->cols[k]);
				}
				t->seen[k] = 1;
				t->slot[k] = (int)t->width++;
				map[j] = t->slot[k];
			}
	}
	while ((r = csv_record(ps, delim, &start)) > 0) {
		char **row;

		if (ps->nf != h) {
			free(map);
			return error("%s:%zu: %zu field%s, the header has %zu", t->name, start, ps->nf,
				     ps->nf == 1 ? "" : "s", h);
		}
		if (!(row = add_row(ps, start))) {
			free(map);
			return error("out of memory");
		}
		for (j = 0; j < h; j++)
			if (map[j] >= 0)
				row[map[j]] = ps->f[j];
	}
	free(map);
	return r;
}

static void skip_ws(char **p, const char *e)
{
	while (*p < e && (**p == ' ' || **p == '\t' || **p == '\r'))
		(*p)++;
}

static int hex4(const char *p, const char *e, uint32_t *v)
{
	int k;

	if (e - p < 4)
		return -1;
	for (*v = 0, k = 0; k < 4; k++) {
		int c = p[k], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

static char *put_utf8(char *w, uint32_t cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | cp >> 6);
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | cp >> 12);
		*w++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | cp >> 18);
		*w++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*w++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* A JSON string at *P (its opening quote, before E), unescaped in place:
 * its text from *P + 1 to *WEND (not yet NUL-ended). NULL, or the reason
 * it is not valid. */
static const char *json_string(char **pp, const char *e, char **wend)
{
	char *p = *pp + 1, *w = p;
	uint32_t cp, lo;

	for (;;) {
		if (p >= e)
			return "a string not closed";
		if (*p == '"')
			break;
		if ((unsigned char)*p < 0x20)
			return "a control character in a string";
		if (*p != '\\') {
			*w++ = *p++;
			continue;
		}
		if (p + 1 >= e)
			return "a string not closed";
		switch (p[1]) {
		case '"': case '\\': case '/':
			*w++ = p[1];
			break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u':
			if (hex4(p + 2, e, &cp) < 0)
				return "a bad \\u escape";
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (e - p < 8 || p[2] != '\\' || p[3] != 'u' || hex4(p + 4, e, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return "a lone surrogate in a \\u escape";
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return "a lone surrogate in a \\u escape";
			}
			if (cp == 0)
				return "a NUL (\\u0000) in a string";
			w = put_utf8(w, cp);
			break;
		default:
			return "a bad escape in a string";
		}
		p += 2;
	}
	*pp = p + 1;
	*wend = w;
	return NULL;
}

/* A JSON number's text at *P (before E), as RFC 8259 writes one. */
static const char *json_number(char **pp, const char *e)
{
	char *p = *pp;

	if (p < e && *p == '-')
		p++;
	if (p >= e || *p < '0' || *p > '9')
		return "not valid JSON";
	if (*p == '0')
		p++;
	else
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	if (p < e && *p == '.') {
		if (++p >= e || *p < '0' || *p > '9')
			return "a bad number";
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return "a bad number";
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	*pp = p;
	return NULL;
}

/*
 * A JSON value at *P (before E): a string (unescaped in place), a number,
 * true, false or null: *V its text and *VEND its end (*V NULL for null);
 * an array or object is checked and skipped, *NESTED set. NULL, or the
 * reason it is not valid.
 */
static const char *json_value(char **pp, const char *e, char **v, char **vend, int *nested,
			      int depth)
{
	static const char *const lits[] = { "true", "false", "null" };
	char *p = *pp, *dummy, *dend;
	const char *why;
	int k, inner;

	*nested = 0;
	if (p >= e)
		return "a value missing";
	if (*p == '"') {
		*v = p + 1;
		return json_string(pp, e, vend);
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		*v = p;
		why = json_number(pp, e);
		*vend = *pp;
		return why;
	}
	for (k = 0; k < 3; k++) {
		size_t n = strlen(lits[k]);

		if ((size_t)(e - p) >= n && memcmp(p, lits[k], n) == 0) {
			*v = k == 2 ? NULL : p;
			*vend = *pp = p + n;
			return NULL;
		}
	}
	if (*p != '[' && *p != '{')
		return "not valid JSON";
	if (depth >= JSON_DEPTH)
		return "arrays or objects nested too deep";
	*nested = 1;
	char close = *p == '[' ? ']' : '}';

	p++;
	skip_ws(&p, e);
	if (p < e && *p == close) {
		*pp = p + 1;
		return NULL;
	}
	for (;;) {
		if (close == '}') {
			if (p >= e || *p != '"')
				return "a key that is not a string";
			if ((why = json_string(&p, e, &dend)))
				return why;
			skip_ws(&p, e);
			if (p >= e || *p != ':')
				return "no ':' after a key";
			p++;
			skip_ws(&p, e);
		}
		if ((why = json_value(&p, e, &dummy, &dend, &inner, depth + 1)))
			return why;
		skip_ws(&p, e);
		if (p < e && *p == ',') {
			p++;
			skip_ws(&p, e);
			continue;
		}
		if (p < e && *p == close)
			break;
		return "a ',' or closing bracket missing";
	}
	*pp = p + 1;
	return NULL;
}

/* One JSON Lines line [P, E), not blank, starting on line LINE: one object
 * whose members are kept in a new row. */
static int json_line(struct parser *ps, char *p, char *e, size_t line)
{
	struct table *t = ps->t;
	const char *why = NULL;
	char *key, *kend, *v, *vend, **row;
	size_t j, k;
	int nested;

	ps->nf = 0;
	skip_ws(&p, e);
	if (*p != '{')
		return error("%s:%zu: not a JSON object", t->name, line);
	p++;
	skip_ws(&p, e);
	if (p < e && *p == '}') {
		p++;
	} else {
		for (;;) {
			if (p >= e || *p != '"') {
				why = "a key that is not a string";
				break;
			}
			key = p + 1;
			if ((why = json_string(&p, e, &kend)))
				break;
			skip_ws(&p, e);
			if (p >= e || *p != ':') {
				why = "no ':' after a key";
				break;
			}
			p++;
			skip_ws(&p, e);
			if ((why = json_value(&p, e, &v, &vend, &nested, 1)))
				break;
			/* Kept as key, end; value (or NULL), end (or NULL: nested). */
			if (push_field(ps, key, kend) < 0 ||
			    push_field(ps, nested ? NULL : v, nested ? NULL : vend) < 0)
				return -1;
			skip_ws(&p, e);
			if (p < e && *p == ',') {
				p++;
				skip_ws(&p, e);
				continue;
			}
			if (p < e && *p == '}') {
				p++;
				break;
			}
			why = "a ',' or '}' missing";
			break;
		}
	}
	skip_ws(&p, e);
	if (!why && p < e)
		why = "text after the object";
	if (why)
		return error("%s:%zu: %s", t->name, line, why);
	/* Every end was passed: the NULs go in now. */
	for (j = 0; j < ps->nf; j++)
		if (ps->fend[j])
			*ps->fend[j] = '\0';
	if (!(row = add_row(ps, line)))
		return error("out of memory");
	for (j = 0; j < ps->nf; j += 2)
		for (k = 0; k < t->ncols; k++) {
			if (strcmp(ps->f[j], ps->cols[k]) != 0)
				continue;
			if (!ps->fend[j + 1])
				return error("%s:%zu: '%s' is an array or object, not a value", t->name,
					     line, ps->cols[k]);
			row[t->slot[k]] = ps->f[j + 1];	/* NULL for null; a later key wins */
			t->seen[k] = 1;
		}
	return 0;
}

/* A JSON Lines table: one object a line (LF or CRLF), blank lines skipped. */
static int json_rows(struct parser *ps)
{
	while (ps->p < ps->end) {
		char *p = ps->p, *e = memchr(p, '\n', (size_t)(ps->end - p)), *q;

		if (!e)
			e = ps->end;
		for (q = p; q < e && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
			;
		if (q < e && json_line(ps, p, e, ps->line) < 0)
			return -1;
		ps->p = e + (e < ps->end);
		ps->line++;
	}
	return 0;
}

/* The format by content: '{' first, or the first line's tabs and commas. */
static enum table_format sniff(const char *p, const char *end)
{
	size_t tabs = 0, commas = 0;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (p < end && *p == '{')
		return TABLE_JSONL;
	for (; p < end && *p != '\n' && *p != '\r'; p++) {
		tabs += *p == '\t';
		commas += *p == ',';
	}
	return tabs > commas ? TABLE_TSV : TABLE_CSV;
}

int table_parse(struct table *t, const char *name, char *text, size_t len,
		const char *const *cols, size_t n)
{
	struct parser ps = { .t = t, .cols = cols, .line = 1 };
	size_t k;
	int r;

	memset(t, 0, sizeof(*t));
	t->name = name;
	t->text = text;
	t->ncols = n;
	text[len] = '\0';
	for (k = 0; k < TABLE_MAXCOLS; k++)
		t->slot[k] = -1;
	if (n > TABLE_MAXCOLS) {
		table_free(t);
		return error("%s: more than %d columns asked for", name, TABLE_MAXCOLS);
	}
	if (check_utf8(name, (const unsigned char *)text, len) < 0) {
		table_free(t);
		return -1;
	}
	ps.p = text;
	ps.end = text + len;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	t->format = sniff(ps.p, ps.end);
	if (t->format == TABLE_JSONL)	/* every column a place: any row may have it */
		for (t->width = n, k = 0; k < n; k++)
			t->slot[k] = (int)k;
	r = t->format == TABLE_JSONL ? json_rows(&ps) : csv_rows(&ps, t->format == TABLE_TSV ? '\t' : ',');
	free(ps.f);
	free(ps.fend);
	if (r < 0)
		table_free(t);
	return r < 0 ? -1 : 0;
}

int table_read(struct table *t, const char *path, const char *const *cols, size_t n)
{
	struct buf b = { 0 };
	char why[256];

	memset(t, 0, sizeof(*t));
	if (input_read(path, &b, why, sizeof(why)) < 0) {
		free(b.p);
		return error("%s: %s", path, why);
	}
	if (buf_reserve(&b, 1) < 0) {
		free(b.p);
		return error("out of memory");
	}
	return table_parse(t, path, (char *)b.p, b.len, cols, n);
}

void table_free(struct table *t)
{
	free(t->text);
	free(t->cell);
	free(t->line);
	t->text = NULL;
	t->cell = NULL;
	t->line = NULL;
	t->nrows = 0;
}
