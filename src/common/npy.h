/* npy.h - the NumPy .npy format: the header that numpy.save writes (version
 * 1.0, or 2.0 when the header needs it), and a strict reader for it. */
#ifndef PARIMG_NPY_H
#define PARIMG_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

struct npy_header {
	char descr[8];			/* "|u1", "<u2", "<f4", "<f8", ... */
	int ndim;
	uint64_t shape[NPY_MAX_DIMS];
	size_t header_len;		/* bytes before the data, a multiple of 64 */
};

/* Format H as numpy would into BUF (LEN bytes) and set H->header_len.
 * Returns the header's length, or 0 when it does not fit in LEN. */
size_t npy_format_header(struct npy_header *h, char *buf, size_t len);

/* Parse a .npy header from the LEN bytes at BUF. 0 with H filled, or -1
 * with the reason in WHY. Only C-order arrays are accepted. */
int npy_parse_header(const unsigned char *buf, size_t len, struct npy_header *h,
		     char *why, size_t whylen);

/* Size of one item of DESCR in bytes (from its digits), 0 if unknown. */
size_t npy_itemsize(const char *descr);

/* Bytes of data in H's array; 0 with errno = EOVERFLOW when it overflows. */
uint64_t npy_data_size(const struct npy_header *h);

/* DESCR (at least 4 bytes) set to this machine's two-character CODE ("i8",
 * "f4", ...):
 * "<i8" on a little-endian machine, ">i8" on a big-endian one. */
void npy_native_descr(char *descr, const char *code);

struct outfile;
/* Write the N x COLS int64 values V (native order; COLS 0: a 1-D array of
 * N) as an .npy into a temporary file O for PATH, left for the caller to
 * commit: labels, a ragged index. 0, or -1 with a message printed. */
int npy_write_i8(const int64_t *v, size_t n, size_t cols, const char *path, struct outfile *o);
/* As npy_write_i8, for values of CODE ("u1", "f4", ...: see
 * npy_native_descr) in this machine's order. */
int npy_write_array(const void *v, const char *code, size_t n, size_t cols, const char *path,
		    struct outfile *o);

#endif
