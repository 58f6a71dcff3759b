/* err.c - the program's messages: one line each on stderr, prefixed "parimg: ",
 * written with a single write(2) so lines from parallel workers stay whole. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void err_vreport(const char *fmt, va_list ap)
{
	char line[4096];
	int len = snprintf(line, sizeof(line), "parimg: ");
	int n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);

	if (n < 0)
		n = 0;
	len += n;
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
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
