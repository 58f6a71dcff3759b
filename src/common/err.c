/* err.c - the program's messages: one line each on stderr, prefixed "parimg: ",
 * written with a single write(2) so lines from parallel workers stay whole. */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence of a printable character at S (1-4),
 * or 0 when S starts a byte that must be escaped: a control character,
 * DEL, a C1 control (U+0080-U+009F), or a byte that is not valid UTF-8
 * (overlong forms and surrogates included). */
static size_t printable_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n, k;
	unsigned lo = 0x80, hi = 0xbf;

	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c == 0xc2)
		lo = 0xa0;		/* C1 controls */
	else if (c == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (c == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;		/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;		/* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < n; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return n;
}

size_t err_printable(char *dst, size_t dstlen, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t len = 0;

	if (dstlen == 0)
		return 0;
	while (*s) {
		size_t n = printable_len(s);

		if (n == 0) {
			if (len + 4 >= dstlen)
				break;
			snprintf(dst + len, 5, "\\x%02x", *s);
			len += 4;
			s++;
			continue;
		}
		if (len + n >= dstlen)
			break;
		memcpy(dst + len, s, n);
		len += n;
		s += n;
	}
	dst[len] = '\0';
	return len;
}

static __thread int quiet;

void err_quiet(int q)
{
	quiet = q;
}

void err_vreport(const char *fmt, va_list ap)
{
	char msg[4096], line[4096];
	int len;

	if (quiet)
		return;
	len = snprintf(line, sizeof(line), "parimg: ");
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	/* Every message printable: a reason may quote a file's bytes. */
	len += (int)err_printable(line + len, sizeof(line) - len - 1, msg);
	line[len++] = '\n';
	/* A failed write to stderr has nowhere to be reported. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

/* Format MESSAGE and append ": strerror(errnum)". */
static void report_errno(int errnum, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
static void report_errno(int errnum, const char *fmt, va_list ap)
{
	char msg[3072];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	warnx("%s: %s", msg, strerror(errnum));
}

void warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vreport(fmt, ap);
	va_end(ap);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vreport(fmt, ap);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	report_errno(errnum, fmt, ap);
	va_end(ap);
	errno = errnum;
	return -1;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vreport(fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}

void die_errno(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	report_errno(errnum, fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}
