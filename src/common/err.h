/* err.h - error and warning messages in the err(3) style: "parimg: subject: reason".
 * Every message of the program goes through these, so the format stays one. */
#ifndef PARIMG_ERR_H
#define PARIMG_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* Exit statuses, as documented in the man page's EXIT STATUS. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_SKIPPED = 3,
};

/* Print "parimg: MESSAGE" and exit with status 1. */
void die(const char *fmt, ...) PRINTF_LIKE(1, 2) __attribute__((noreturn));
/* As die(), with ": strerror(errno)" appended. */
void die_errno(const char *fmt, ...) PRINTF_LIKE(1, 2) __attribute__((noreturn));
/* Print "parimg: MESSAGE" and return -1, so callers can "return error(...)". */
int error(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* As error(), with ": strerror(errno)" appended; errno is preserved. */
int error_errno(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Print "parimg: MESSAGE" and go on. */
void warnx(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Copy SRC into DST (DSTLEN bytes, always NUL-terminated, cut before a
 * character or escape that would not fit) with each byte that would not
 * print as itself on a terminal written as \xHH: control characters, DEL,
 * C1 controls and bytes that are not valid UTF-8. Printable UTF-8 is kept,
 * and so is a backslash. Returns the length written. Every message goes
 * through it, and so does whatever else prints a path or a reason. */
size_t err_printable(char *dst, size_t dstlen, const char *src);

/* Write "parimg: MESSAGE\n" to stderr in one write(2), so lines from
 * concurrent workers never interleave; MESSAGE made printable first. */
void err_vreport(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);
/* In the calling thread only: when QUIET, drop every message instead of
 * printing it (a listing thread, whose failure the caller reports again, in
 * order, by doing the same work once more with messages on). */
void err_quiet(int quiet);

#endif
