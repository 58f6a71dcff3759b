/* npy_test.c - unit tests of the .npy header (npy.h): bytes identical to
 * numpy.save's, a strict parser that never reads past its buffer, data sizes. */
#include "common/npy.h"
#include "common/outfile.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A header as numpy's _wrap_header makes one around DICT (growth spaces
 * included by the caller): magic, VERSION, length, DICT, spaces, '\n',
 * the whole a multiple of 64 with at least one byte of padding. */
static size_t make_npy(unsigned char *buf, int version, const char *dict)
{
	size_t prefix = version == 1 ? 10 : 12;
	size_t n = strlen(dict);
	size_t pad = 64 - (prefix + n + 1) % 64;
	size_t hlen = n + 1 + pad, i;

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)version;
	buf[7] = 0;
	for (i = 0; i < prefix - 8; i++)
		buf[8 + i] = (unsigned char)(hlen >> (8 * i));
	memcpy(buf + prefix, dict, n);
	memset(buf + prefix + n, ' ', pad);
	buf[prefix + hlen - 1] = '\n';
	return prefix + hlen;
}

/* Format a header for DESCR and SHAPE and compare it with numpy's bytes:
 * version 1.0, the dict DICT (as numpy.save wrote it, without the trailing
 * spaces) and TOTAL bytes in all. */
static void check_numpy_bytes(const char *descr, int ndim, const uint64_t *shape,
			      const char *dict, size_t total)
{
	struct npy_header h = { .ndim = ndim };
	char buf[1024];
	size_t n, dn = strlen(dict), i;

	snprintf(h.descr, sizeof(h.descr), "%s", descr);
	if (ndim)
		memcpy(h.shape, shape, (size_t)ndim * sizeof(*shape));
	memset(buf, 'X', sizeof(buf));
	n = npy_format_header(&h, buf, sizeof(buf));
	cr_assert_eq(n, total, "%s: %zu bytes, numpy writes %zu", dict, n, total);
	cr_assert_eq(h.header_len, total, "%s: header_len %zu", dict, h.header_len);
	cr_assert_eq(memcmp(buf, "\x93NUMPY\x01\x00", 8), 0, "%s: magic/version", dict);
	cr_assert_eq((size_t)((unsigned char)buf[8] | (unsigned char)buf[9] << 8), total - 10,
		     "%s: header length field", dict);
	cr_assert_eq(memcmp(buf + 10, dict, dn), 0, "%s: dict is '%.*s'", dict, (int)dn,
		     buf + 10);
	for (i = 10 + dn; i < total - 1; i++)
		cr_assert_eq(buf[i], ' ', "%s: byte %zu is 0x%02x, not a space", dict, i,
			     (unsigned char)buf[i]);
	cr_assert_eq(buf[total - 1], '\n', "%s: no final newline", dict);
	cr_assert_eq(buf[total], 'X', "%s: wrote past the header", dict);
}

/* The exact header numpy.save writes for np.zeros((2000, 100, 100),
 * np.uint8) (numpy 1.24.2: python3 -c "import numpy as np, io;
 * b = io.BytesIO(); np.save(b, np.zeros((2000, 100, 100), np.uint8));
 * print(b.getvalue()[:128])"). */
Test(npy_format, numpy_save_bytes_3d)
{
	/* 10 bytes of prefix, the 69-byte dict, 48 spaces, '\n' */
	static const char want[] =
		"\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, "
		"'shape': (2000, 100, 100), }"
		"                        "
		"                        \n";
	static const uint64_t shape[] = { 2000, 100, 100 };
	struct npy_header h = { .descr = "|u1", .ndim = 3 };
	char buf[256];

	memcpy(h.shape, shape, sizeof(shape));
	cr_assert_eq(sizeof(want) - 1, 128);
	cr_assert_eq(npy_format_header(&h, buf, sizeof(buf)), 128);
	cr_assert_eq(h.header_len, 128);
	cr_assert_eq(memcmp(buf, want, 128), 0, "got '%.128s'", buf);
}

/* The rest from numpy 1.24.2's format._write_array_header. */
Test(npy_format, numpy_save_bytes)
{
	static const uint64_t s1[] = { 5 }, s4[] = { 10, 32, 32, 3 }, s7[] = { 7 },
			      s34[] = { 3, 4 }, s23[] = { 2, 3 }, s45[] = { 4, 5 },
			      s2[] = { 2 }, big[] = { 18446744073709551615ULL, 0 };

	check_numpy_bytes("|u1", 1, s1,
			  "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 128);
	check_numpy_bytes("|u1", 4, s4,
			  "{'descr': '|u1', 'fortran_order': False, 'shape': (10, 32, 32, 3), }",
			  128);
	check_numpy_bytes("<f8", 1, s7,
			  "{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }", 128);
	check_numpy_bytes("<u2", 2, s34,
			  "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4), }", 128);
	check_numpy_bytes(">i4", 2, s23,
			  "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3), }", 128);
	check_numpy_bytes("<f4", 2, s45,
			  "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 5), }", 128);
	check_numpy_bytes("|b1", 1, s2,
			  "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", 128);
	check_numpy_bytes("|u1", 0, NULL,
			  "{'descr': '|u1', 'fortran_order': False, 'shape': (), }", 128);
	check_numpy_bytes("|u1", 2, big,
			  "{'descr': '|u1', 'fortran_order': False, "
			  "'shape': (18446744073709551615, 0), }", 128);
}

/* When magic, length, dict and newline fill 64-byte blocks exactly, numpy
 * still pads: padlen = 64 - (10 + hlen) % 64 is 64, never 0, so these
 * headers are 192 bytes, not 128 (numpy 1.24.2, format._wrap_header).
 * Only shapes with huge axes get there; one of 129 bytes is checked too. */
Test(npy_format, numpy_pads_a_full_block_when_aligned)
{
	static const uint64_t s3[] = { 0, 10000000000000000ULL, 10000000000000000000ULL };
	static const uint64_t s8[] = { 1, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };

	check_numpy_bytes("|u1", 8, s8,
			  "{'descr': '|u1', 'fortran_order': False, "
			  "'shape': (1, 1000, 1000, 1000, 1000, 1000, 1000, 1000), }", 192);
	check_numpy_bytes("|u1", 3, s3,
			  "{'descr': '|u1', 'fortran_order': False, "
			  "'shape': (0, 10000000000000000, 10000000000000000000), }", 192);
}

Test(npy_format, buffer_too_small)
{
	struct npy_header h = { .descr = "|u1", .ndim = 1, .shape = { 5 } };
	char buf[128];

	cr_assert_eq(npy_format_header(&h, buf, 127), 0);
	cr_assert_eq(npy_format_header(&h, buf, 0), 0);
	cr_assert_eq(npy_format_header(&h, buf, 128), 128);
}

/* Many shapes: always aligned, newline-terminated, and read back as
 * written. */
Test(npy_format, aligned_and_round_trips)
{
	static const char *const descrs[] = { "|u1", "<u2", "<f4", "<f8", ">i8", "|b1" };
	static const uint64_t values[] = { 0, 1, 9, 10, 99, 100, 12345, 4294967296ULL,
					   18446744073709551609ULL };
	size_t d, v, count = 0;
	int ndim;

	for (d = 0; d < sizeof(descrs) / sizeof(descrs[0]); d++) {
		for (ndim = 0; ndim <= NPY_MAX_DIMS; ndim++) {
			for (v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				struct npy_header h = { .ndim = ndim }, back;
				char buf[1024], why[256];
				size_t n;
				int i;

				snprintf(h.descr, sizeof(h.descr), "%s", descrs[d]);
				for (i = 0; i < ndim; i++)
					h.shape[i] = values[(v + (size_t)i) % 9];
				n = npy_format_header(&h, buf, sizeof(buf));
				cr_assert_gt(n, 0);
				cr_assert_eq(n % 64, 0, "header of %zu bytes", n);
				cr_assert_eq(n, h.header_len);
				cr_assert_eq(buf[n - 1], '\n');
				memset(&back, 0x55, sizeof(back));
				cr_assert_eq(npy_parse_header((unsigned char *)buf, n, &back, why,
							      sizeof(why)), 0, "%s", why);
				cr_assert_str_eq(back.descr, h.descr);
				cr_assert_eq(back.ndim, ndim);
				for (i = 0; i < ndim; i++)
					cr_assert_eq(back.shape[i], h.shape[i]);
				cr_assert_eq(back.header_len, n);
				count++;
			}
		}
	}
	cr_assert_eq(count, 6 * 9 * 9);
}

/* Every uint64 shape value the formatter writes is read back, up to
 * 2^64 - 1 (a zero-length axis elsewhere keeps such shapes valid). */
Test(npy_parse, shape_values_up_to_uint64_max)
{
	static const uint64_t values[] = { 18446744073709551609ULL,
					   18446744073709551610ULL,
					   18446744073709551614ULL,
					   18446744073709551615ULL };
	size_t v;

	for (v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		struct npy_header h = { .descr = "|u1", .ndim = 2, .shape = { 0, values[v] } },
				  back;
		char buf[256], why[256] = "";

		cr_assert_eq(npy_format_header(&h, buf, sizeof(buf)), 128);
		cr_assert_eq(npy_parse_header((unsigned char *)buf, 128, &back, why,
					      sizeof(why)), 0,
			     "shape (0, %llu) refused: %s", (unsigned long long)values[v], why);
		cr_assert_eq(back.shape[1], values[v]);
	}
}

static void parse_ok(const unsigned char *buf, size_t len, struct npy_header *h)
{
	struct ut_guard g;
	char why[256] = "";

	ut_guard_copy(&g, buf, len);
	memset(h, 0x55, sizeof(*h));
	cr_assert_eq(npy_parse_header(g.p, len, h, why, sizeof(why)), 0,
		     "refused: %s: '%.*s'", why, (int)len, buf);
	ut_guard_free(&g);
}

/* Refused, with a reason containing WANT (when not NULL). */
static void parse_bad(const unsigned char *buf, size_t len, const char *want)
{
	struct npy_header h;
	struct ut_guard g;
	char why[256] = "";

	ut_guard_copy(&g, buf, len);
	cr_assert_eq(npy_parse_header(g.p, len, &h, why, sizeof(why)), -1,
		     "accepted (%zu bytes): '%.*s'", len, (int)len, buf);
	cr_assert_neq(why[0], '\0', "no reason given");
	if (want)
		cr_assert_not_null(strstr(why, want), "reason '%s' lacks '%s'", why, want);
	ut_guard_free(&g);
}

static void parse_dict_ok(const char *dict, const char *descr, int ndim,
			  const uint64_t *shape)
{
	unsigned char buf[1024];
	struct npy_header h;
	size_t n = make_npy(buf, 1, dict);
	int i;

	parse_ok(buf, n, &h);
	cr_assert_str_eq(h.descr, descr, "%s", dict);
	cr_assert_eq(h.ndim, ndim, "%s: ndim %d", dict, h.ndim);
	for (i = 0; i < ndim; i++)
		cr_assert_eq(h.shape[i], shape[i], "%s: axis %d", dict, i);
	cr_assert_eq(h.header_len, n);
}

static void parse_dict_bad(const char *dict, const char *want)
{
	unsigned char buf[1024];
	size_t n = make_npy(buf, 1, dict);

	parse_bad(buf, n, want);
}

Test(npy_parse, numpy_written_headers)
{
	/* numpy.lib.format.write_array(..., version=(2, 0)) of (3, 4) <u2. */
	static const char v2[] =
		"\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<u2', 'fortran_order': False, "
		"'shape': (3, 4), }                                                        \n";
	struct npy_header h;

	cr_assert_eq(sizeof(v2) - 1, 128);
	parse_ok((const unsigned char *)v2, 128, &h);
	cr_assert_str_eq(h.descr, "<u2");
	cr_assert_eq(h.ndim, 2);
	cr_assert_eq(h.shape[0], 3);
	cr_assert_eq(h.shape[1], 4);
	cr_assert_eq(h.header_len, 128);
}

Test(npy_parse, other_orders_and_spacing)
{
	static const uint64_t s34[] = { 3, 4 }, s5[] = { 5 }, s23[] = { 2, 3 },
			      s7[] = { 7 }, s8[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	parse_dict_ok("{'shape': (3, 4), 'descr': '<u2', 'fortran_order': False}", "<u2",
		      2, s34);
	parse_dict_ok("{'fortran_order': False, 'shape': (3, 4), 'descr': '<u2', }", "<u2",
		      2, s34);
	parse_dict_ok("{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (5,)}",
		      "|u1", 1, s5);
	parse_dict_ok("{ 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , 'descr' : '<f8' , }",
		      "<f8", 2, s23);
	parse_dict_ok("{'descr':'<f8','fortran_order':False,'shape':(7,)}", "<f8", 1, s7);
	/* numpy before the growth padding (< 1.24) */
	parse_dict_ok("{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }", "<f8", 1,
		      s7);
	parse_dict_ok("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", "|u1", 0,
		      NULL);
	parse_dict_ok("{'descr': '|u1', 'fortran_order': False, "
		      "'shape': (1, 2, 3, 4, 5, 6, 7, 8), }", "|u1", 8, s8);
}

Test(npy_parse, rejects_bad_magic_and_version)
{
	unsigned char buf[1024];
	size_t n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }");

	buf[5] = 'Z';
	parse_bad(buf, n, "not a .npy");
	buf[5] = 'Y';
	buf[0] = 0x92;
	parse_bad(buf, n, "not a .npy");
	buf[0] = 0x93;
	buf[6] = 0;
	parse_bad(buf, n, "version");
	buf[6] = 4;
	parse_bad(buf, n, "version");
	buf[6] = 1;
	parse_ok(buf, n, &(struct npy_header){ .ndim = 0 });
	parse_bad((const unsigned char *)"", 0, NULL);
	parse_bad((const unsigned char *)"hello, world, not numpy", 23, "not a .npy");
}

Test(npy_parse, rejects_fortran_order)
{
	parse_dict_bad("{'descr': '|u1', 'fortran_order': True, 'shape': (3, 2), }",
		       "Fortran");
	parse_dict_bad("{'descr': '|u1', 'fortran_order': false, 'shape': (3, 2), }", NULL);
	parse_dict_bad("{'descr': '|u1', 'fortran_order': 0, 'shape': (3, 2), }", NULL);
}

Test(npy_parse, rejects_unknown_and_missing_keys)
{
	parse_dict_bad("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), 'extra': 1}",
		       "extra");
	parse_dict_bad("{'fortran_order': False, 'shape': (5,), }", NULL);
	parse_dict_bad("{'descr': '|u1', 'shape': (5,), }", NULL);
	parse_dict_bad("{'descr': '|u1', 'fortran_order': False, }", NULL);
	parse_dict_bad("{}", NULL);
	parse_dict_bad("{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, "
		       "'shape': (5,), }", NULL);
	parse_dict_bad("{descr: '|u1', 'fortran_order': False, 'shape': (5,), }", NULL);
	parse_dict_bad("'descr': '|u1', 'fortran_order': False, 'shape': (5,)", NULL);
	parse_dict_bad("{'descr': '|u1' 'fortran_order': False, 'shape': (5,), }", NULL);
}

Test(npy_parse, rejects_bad_shapes)
{
	static const char *const shapes[] = {
		"(1,,2)", "(-1,)", "(18446744073709551616,)", "(99999999999999999999999,)",
		"(1 2)", "(1.5,)", "5", "(,)", "[1, 2]", "(1, 2", "(1,1,1,1,1,1,1,1,1)",
		"(+1,)", "(0x10,)", "((1,),)", "(1)2", NULL,
	};
	size_t i;

	for (i = 0; shapes[i]; i++) {
		char dict[256];

		snprintf(dict, sizeof(dict),
			 "{'descr': '|u1', 'fortran_order': False, 'shape': %s, }", shapes[i]);
		parse_dict_bad(dict, NULL);
	}
}

Test(npy_parse, rejects_bad_descr)
{
	static const char *const descrs[] = {
		"'<c16'", "'|O'", "'<U5'", "'<f'", "'<f0'", "'u1'", "'<f8x'", "'<u2",
		"'<f17'", "'abcdefghijk'", "[('a', '<f8')]", "<u2", "'<u\\x32'", NULL,
	};
	size_t i;

	for (i = 0; descrs[i]; i++) {
		char dict[256];

		snprintf(dict, sizeof(dict),
			 "{'descr': %s, 'fortran_order': False, 'shape': (5,), }", descrs[i]);
		parse_dict_bad(dict, NULL);
	}
}

/* Every proper prefix of a header is refused, and none is read past its
 * end (the guard page). */
Test(npy_parse, truncated_prefixes)
{
	static const int versions[] = { 1, 2 };
	size_t v;

	for (v = 0; v < 2; v++) {
		unsigned char buf[1024];
		size_t n = make_npy(buf, versions[v],
				    "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4), }"),
		       len;
		struct npy_header h;

		for (len = 0; len < n; len++)
			parse_bad(buf, len, NULL);
		parse_ok(buf, n, &h);
	}
}

/* The header length field shorter than the dict: the parser must stop at
 * it. Accepted exactly when the closing brace lies within it. */
Test(npy_parse, header_length_bounds_the_dict)
{
	static const char dict[] = "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4), }";
	size_t close = strlen(dict), k;

	for (k = 0; k <= close + 20; k++) {
		unsigned char buf[1024];
		struct npy_header h;
		char why[256];
		struct ut_guard g;
		int r;

		make_npy(buf, 1, dict);
		buf[8] = (unsigned char)k;
		buf[9] = 0;
		ut_guard_copy(&g, buf, 10 + k);
		r = npy_parse_header(g.p, 10 + k, &h, why, sizeof(why));
		if (k < close)
			cr_assert_eq(r, -1, "dict cut to %zu bytes accepted", k);
		else
			cr_assert_eq(r, 0, "length %zu refused: %s", k, why);
		if (r == 0) {
			cr_assert_eq(h.header_len, 10 + k);
			cr_assert_eq(h.ndim, 2);
		}
		ut_guard_free(&g);
	}
}

/* Header length larger than the buffer. */
Test(npy_parse, header_length_past_buffer)
{
	unsigned char buf[1024];
	size_t n = make_npy(buf, 1, "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4), }");

	buf[8] = (unsigned char)(n - 10 + 1);
	parse_bad(buf, n, "truncated");
	buf[8] = 0xff;
	buf[9] = 0xff;
	parse_bad(buf, n, "truncated");
}

/* Random damage to a valid header: refused or parsed into something sane,
 * never a read past the end. The mutations are a fixed LCG sequence. */
Test(npy_parse, random_damage)
{
	unsigned char base[1024];
	size_t n = make_npy(base, 1, "{'descr': '<u2', 'fortran_order': False, 'shape': (3, 4), }");
	uint64_t x = 12345;
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		unsigned char buf[1024];
		struct npy_header h;
		char why[256];
		struct ut_guard g;
		size_t len = n;
		int k, flips;

		memcpy(buf, base, n);
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		flips = 1 + (int)(x >> 60) % 4;
		for (k = 0; k < flips; k++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			buf[(x >> 33) % n] = (unsigned char)(x >> 16);
		}
		if (iter % 3 == 0)
			len = (size_t)(x >> 40) % (n + 1);
		ut_guard_copy(&g, buf, len);
		if (npy_parse_header(g.p, len, &h, why, sizeof(why)) == 0) {
			cr_assert_leq(h.ndim, NPY_MAX_DIMS);
			cr_assert_geq(h.ndim, 0);
			cr_assert_leq(h.header_len, len);
			cr_assert_gt(npy_itemsize(h.descr), 0);
		}
		ut_guard_free(&g);
	}
}

Test(npy_itemsize, from_descr)
{
	cr_assert_eq(npy_itemsize("|u1"), 1);
	cr_assert_eq(npy_itemsize("<u2"), 2);
	cr_assert_eq(npy_itemsize("<f4"), 4);
	cr_assert_eq(npy_itemsize("<f8"), 8);
	cr_assert_eq(npy_itemsize(">i8"), 8);
	cr_assert_eq(npy_itemsize("=i4"), 4);
	cr_assert_eq(npy_itemsize("|b1"), 1);
	cr_assert_eq(npy_itemsize("<f16"), 16);
	cr_assert_eq(npy_itemsize("<c16"), 0);
	cr_assert_eq(npy_itemsize("|O"), 0);
	cr_assert_eq(npy_itemsize("u1"), 0);
	cr_assert_eq(npy_itemsize("<f"), 0);
	cr_assert_eq(npy_itemsize("<f0"), 0);
	cr_assert_eq(npy_itemsize("<f17"), 0);
	cr_assert_eq(npy_itemsize("<f8x"), 0);
	cr_assert_eq(npy_itemsize("<U5"), 0);
	cr_assert_eq(npy_itemsize(""), 0);
}

static uint64_t data_size(const char *descr, int ndim, const uint64_t *shape)
{
	struct npy_header h = { .ndim = ndim };

	snprintf(h.descr, sizeof(h.descr), "%s", descr);
	if (ndim)
		memcpy(h.shape, shape, (size_t)ndim * sizeof(*shape));
	errno = 0;
	return npy_data_size(&h);
}

Test(npy_data_size, products)
{
	static const uint64_t s3[] = { 2000, 100, 100 }, s7[] = { 7 }, s05[] = { 0, 5 },
			      half[] = { 1ULL << 32, 1ULL << 31 },
			      zero_big[] = { 0, 1ULL << 63, 4 };

	cr_assert_eq(data_size("|u1", 3, s3), 20000000);
	cr_assert_eq(data_size("<f8", 1, s7), 56);
	cr_assert_eq(data_size("<f4", 0, NULL), 4, "a 0-d array holds one item");
	cr_assert_eq(data_size("|u1", 2, s05), 0);
	cr_assert_eq(errno, 0, "an empty array is not an overflow");
	cr_assert_eq(data_size("|u1", 2, half), 1ULL << 63);
	cr_assert_eq(errno, 0);
	cr_assert_eq(data_size("|u1", 3, zero_big), 0);
	cr_assert_eq(errno, 0);
}

Test(npy_data_size, overflow)
{
	static const uint64_t sq[] = { 1ULL << 32, 1ULL << 32 },
			      half[] = { 1ULL << 32, 1ULL << 31 },
			      max[] = { UINT64_MAX, 2 };

	cr_assert_eq(data_size("|u1", 2, sq), 0);
	cr_assert_eq(errno, EOVERFLOW);
	cr_assert_eq(data_size("<u2", 2, half), 0, "2^64 bytes");
	cr_assert_eq(errno, EOVERFLOW);
	cr_assert_eq(data_size("<f8", 1, max), 0);
	cr_assert_eq(errno, EOVERFLOW);
	cr_assert_eq(data_size("|u1", 2, max), 0);
	cr_assert_eq(errno, EOVERFLOW);
}

/* Labels (1-D) and a ragged index (N x 4) come out of the one int64 writer
 * as numpy.save writes them: the header, then the values in native order. */
Test(npy_write_i8, one_and_two_dimensions, .fini = ut_scratch_remove)
{
	static const int64_t v[8] = { 0, -1, 2, INT64_MAX, INT64_MIN, 5, 6, 7 };
	static const size_t cols[2] = { 0, 4 };
	int k;

	ut_scratch_make();
	for (k = 0; k < 2; k++) {
		struct outfile o = { 0 };
		struct npy_header h;
		unsigned char got[256 + sizeof(v)];
		char path[128];
		size_t n = cols[k] ? 2 : 8, len;
		FILE *f;

		snprintf(path, sizeof(path), "%s/v%d.npy", ut_scratch, k);
		cr_assert_eq(npy_write_i8(v, n, cols[k], path, &o), 0);
		cr_assert_eq(outfile_commit(&o, 0), 0);
		cr_assert_not_null(f = fopen(path, "rb"));
		len = fread(got, 1, sizeof(got), f);
		fclose(f);
		cr_assert_eq(npy_parse_header(got, len, &h, NULL, 0), 0);
		cr_assert_eq(h.ndim, cols[k] ? 2 : 1);
		cr_assert_eq(h.shape[0], n);
		cr_assert(cols[k] == 0 || h.shape[1] == cols[k]);
		cr_assert_eq(strcmp(h.descr + 1, "i8"), 0);
		cr_assert_eq(len, h.header_len + sizeof(v));
		cr_assert_arr_eq(got + h.header_len, v, sizeof(v));
	}
}
