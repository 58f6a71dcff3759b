/* npy.c - writing and reading .npy headers byte for byte as numpy.save does:
 * magic, version, little-endian header length, a Python dict literal padded
 * with spaces and a newline so that the data starts on a 64-byte boundary. */
#include "common/npy.h"
#include "common/err.h"
#include "common/outfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "\x93NUMPY"
#define MAGIC_LEN 6
#define ALIGN 64
#define GROWTH_DIGITS 21	/* numpy's spare room to grow the first axis */

size_t npy_itemsize(const char *descr)
{
	char *end;
	long n;

	if (strlen(descr) < 3 || !strchr("<>|=", descr[0]) || !strchr("uifb", descr[1]))
		return 0;
	n = strtol(descr + 2, &end, 10);
	return *end == '\0' && n > 0 && n <= 16 ? (size_t)n : 0;
}

uint64_t npy_data_size(const struct npy_header *h)
{
	uint64_t n = npy_itemsize(h->descr);
	int i;

	for (i = 0; i < h->ndim; i++) {
		if (__builtin_mul_overflow(n, h->shape[i], &n)) {
			errno = EOVERFLOW;
			return 0;
		}
	}
	return n;
}

/*
 * numpy's _write_array_header: "{'descr': ..., 'fortran_order': False,
 * 'shape': (...), }", then spaces so the first axis can grow in place, then
 * the padding and '\n' to the 64-byte boundary. Version 1.0 has a 16-bit
 * length; 2.0, used only when that overflows, a 32-bit one.
 */
size_t npy_format_header(struct npy_header *h, char *buf, size_t len)
{
	char dict[1024], first[32];
	size_t n, total, prefix;
	int i, version, hlen;

	n = (size_t)snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (",
			     h->descr);
	for (i = 0; i < h->ndim && n < sizeof(dict); i++)
		n += (size_t)snprintf(dict + n, sizeof(dict) - n, "%s%llu", i ? ", " : "",
				      (unsigned long long)h->shape[i]);
	if (n < sizeof(dict))
		n += (size_t)snprintf(dict + n, sizeof(dict) - n, "%s), }",
				      h->ndim == 1 ? "," : "");
	if (h->ndim > 0 && n < sizeof(dict)) {
		int digits = snprintf(first, sizeof(first), "%llu",
				      (unsigned long long)h->shape[0]);

		for (i = digits; i < GROWTH_DIGITS && n < sizeof(dict) - 1; i++)
			dict[n++] = ' ';
		dict[n] = '\0';
	}
	if (n >= sizeof(dict) - 1)
		return 0;

	/* numpy pads with 1 to 64 bytes: a full block when already aligned. */
	version = 1;
	prefix = MAGIC_LEN + 2 + 2;
	total = prefix + n + 1 + ALIGN - (prefix + n + 1) % ALIGN;
	if (total - prefix > 65535) {
		version = 2;
		prefix = MAGIC_LEN + 2 + 4;
		total = prefix + n + 1 + ALIGN - (prefix + n + 1) % ALIGN;
	}
	if (total > len)
		return 0;
	hlen = (int)(total - prefix);
	memcpy(buf, MAGIC, MAGIC_LEN);
	buf[6] = (char)version;
	buf[7] = 0;
	for (i = 0; i < (version == 1 ? 2 : 4); i++)
		buf[8 + i] = (char)(hlen >> (8 * i));
	memcpy(buf + prefix, dict, n);
	memset(buf + prefix + n, ' ', total - prefix - n - 1);
	buf[total - 1] = '\n';
	h->header_len = total;
	return total;
}

/* A tiny reader for the dict literal numpy writes. */
struct lex {
	const char *p, *end;
};

static void skip_space(struct lex *l)
{
	while (l->p < l->end && isspace((unsigned char)*l->p))
		l->p++;
}

static int eat(struct lex *l, char c)
{
	skip_space(l);
	if (l->p < l->end && *l->p == c) {
		l->p++;
		return 1;
	}
	return 0;
}

/* A quoted string (no escapes; numpy's keys and descrs have none). */
static int read_string(struct lex *l, char *out, size_t outlen)
{
	char q;
	size_t n = 0;

	skip_space(l);
	if (l->p >= l->end || (*l->p != '\'' && *l->p != '"'))
		return -1;
	q = *l->p++;
	while (l->p < l->end && *l->p != q) {
		if (*l->p == '\\' || n + 1 >= outlen)
			return -1;
		out[n++] = *l->p++;
	}
	if (l->p >= l->end)
		return -1;
	l->p++;
	out[n] = '\0';
	return 0;
}

static int read_word(struct lex *l, const char *w)
{
	size_t n = strlen(w);

	skip_space(l);
	if ((size_t)(l->end - l->p) >= n && memcmp(l->p, w, n) == 0) {
		l->p += n;
		return 0;
	}
	return -1;
}

static int read_shape(struct lex *l, struct npy_header *h)
{
	h->ndim = 0;
	if (!eat(l, '('))
		return -1;
	for (;;) {
		unsigned long long v = 0;
		int digits = 0;

		if (eat(l, ')'))
			return 0;
		skip_space(l);
		while (l->p < l->end && isdigit((unsigned char)*l->p)) {
			unsigned d = (unsigned)(*l->p++ - '0');

			if (v > (UINT64_MAX - d) / 10)
				return -1;
			v = v * 10 + d;
			digits++;
		}
		if (!digits || h->ndim == NPY_MAX_DIMS)
			return -1;
		h->shape[h->ndim++] = v;
		if (!eat(l, ',')) {
			if (eat(l, ')'))
				return 0;
			return -1;
		}
	}
}

#define FAIL(...) do { snprintf(why, whylen, __VA_ARGS__); return -1; } while (0)

int npy_parse_header(const unsigned char *buf, size_t len, struct npy_header *h,
		     char *why, size_t whylen)
{
	struct lex l;
	size_t hlen, prefix;
	int seen = 0, fortran = 0;

	if (len < 10 || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
		FAIL("not a .npy file");
	if (buf[6] == 1) {
		prefix = 10;
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
	} else if (buf[6] == 2 || buf[6] == 3) {
		if (len < 12)
			FAIL("truncated .npy header");
		prefix = 12;
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
		       (size_t)buf[11] << 24;
	} else {
		FAIL("unsupported .npy version %d.%d", buf[6], buf[7]);
	}
	if (hlen > len - prefix)
		FAIL("truncated .npy header");
	l.p = (const char *)buf + prefix;
	l.end = l.p + hlen;
	if (!eat(&l, '{'))
		FAIL("malformed .npy header");
	while (!eat(&l, '}')) {
		char key[32];

		if (read_string(&l, key, sizeof(key)) < 0 || !eat(&l, ':'))
			FAIL("malformed .npy header");
		if (strcmp(key, "descr") == 0 && !(seen & 1)) {
			if (read_string(&l, h->descr, sizeof(h->descr)) < 0)
				FAIL("malformed .npy descr");
			seen |= 1;
		} else if (strcmp(key, "fortran_order") == 0 && !(seen & 2)) {
			if (read_word(&l, "False") == 0)
				fortran = 0;
			else if (read_word(&l, "True") == 0)
				fortran = 1;
			else
				FAIL("malformed .npy fortran_order");
			seen |= 2;
		} else if (strcmp(key, "shape") == 0 && !(seen & 4)) {
			if (read_shape(&l, h) < 0)
				FAIL("malformed .npy shape");
			seen |= 4;
		} else {
			FAIL("unexpected key '%s' in .npy header", key);
		}
		if (!eat(&l, ',')) {
			if (eat(&l, '}'))
				break;
			FAIL("malformed .npy header");
		}
	}
	if (seen != 7)
		FAIL(".npy header lacks descr, fortran_order or shape");
	if (fortran)
		FAIL("Fortran-order .npy arrays are not supported");
	if (!npy_itemsize(h->descr))
		FAIL("unsupported .npy dtype '%s'", h->descr);
	h->header_len = prefix + hlen;
	return 0;
}

void npy_native_descr(char *descr, const char *code)
{
	const int le = 1;

	descr[0] = *(const char *)&le ? '<' : '>';
	memcpy(descr + 1, code, 3);
}

int npy_write_array(const void *v, const char *code, size_t n, size_t cols, const char *path,
		    struct outfile *o)
{
	struct npy_header h = { .ndim = cols ? 2 : 1, .shape = { n, cols } };
	size_t size;
	char head[256];

	npy_native_descr(h.descr, code);
	size = npy_itemsize(h.descr);
	if (size == 1)
		h.descr[0] = '|';	/* as numpy writes a byte's */
	if (!npy_format_header(&h, head, sizeof(head)))
		return error("%s: header too large", path);
	if (outfile_open(o, path) < 0)
		return -1;
	if (outfile_write(o, head, h.header_len) < 0 ||
	    outfile_write(o, v, n * (cols ? cols : 1) * size) < 0)
		return -1;
	return 0;
}

int npy_write_i8(const int64_t *v, size_t n, size_t cols, const char *path, struct outfile *o)
{
	return npy_write_array(v, "i8", n, cols, path, o);
}
