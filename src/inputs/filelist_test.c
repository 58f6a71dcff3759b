/* filelist_test.c - unit tests of the input list (filelist.h): natural
 * order, image name matching and the three sort orders. */
#define _GNU_SOURCE
#include "inputs/filelist.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void fill(struct filelist *fl, const char *const *names)
{
	size_t i;

	memset(fl, 0, sizeof(*fl));
	for (i = 0; names[i]; i++) {
		char *p = strdup(names[i]);

		cr_assert_not_null(p);
		if (fl->n == fl->cap) {
			fl->cap = fl->cap ? fl->cap * 2 : 4;
			fl->paths = realloc(fl->paths, fl->cap * sizeof(*fl->paths));
			cr_assert_not_null(fl->paths);
		}
		fl->paths[fl->n++] = p;
	}
}

/* Each name in NAMES (NULL-terminated) sorts strictly before the next. */
static void assert_increasing(const char *const *names)
{
	size_t i;

	for (i = 0; names[i] && names[i + 1]; i++) {
		cr_assert_lt(natcmp(names[i], names[i + 1]), 0, "'%s' !< '%s'", names[i],
			     names[i + 1]);
		cr_assert_gt(natcmp(names[i + 1], names[i]), 0, "'%s' !> '%s'",
			     names[i + 1], names[i]);
	}
}

Test(natcmp, numbers_by_value)
{
	static const char *const a[] = { "image_2", "image_10", "image_100", NULL };
	static const char *const b[] = { "image_2.png", "image_10.png", "image_100.png",
					 "image_1000.png", NULL };
	static const char *const c[] = { "a1b2", "a1b10", "a2b1", "a10b0", NULL };
	static const char *const d[] = { "9", "10", "99", "100",
					 "18446744073709551615", "18446744073709551616",
					 "123456789012345678901234567890", NULL };

	assert_increasing(a);
	assert_increasing(b);
	assert_increasing(c);
	assert_increasing(d);
}

Test(natcmp, prefixes_and_bytes)
{
	static const char *const a[] = { "", "a", "a0", "a1", "ab", "b", NULL };
	static const char *const b[] = { "x", "x.png", "x1.png", NULL };

	assert_increasing(a);
	assert_increasing(b);
	cr_assert_eq(natcmp("same", "same"), 0);
	cr_assert_eq(natcmp("img_42.png", "img_42.png"), 0);
	cr_assert_eq(natcmp("", ""), 0);
	/* Outside digit runs, plain bytes: uppercase before lowercase. */
	cr_assert_lt(natcmp("B", "a"), 0);
	cr_assert_lt(natcmp("abc", "abd"), 0);
}

Test(natcmp, digits_against_letters)
{
	/* A digit run against a letter compares as its first digit's byte, so
	 * digits come first, as in ASCII. */
	cr_assert_lt(natcmp("a1", "ab"), 0);
	cr_assert_lt(natcmp("1a", "a"), 0);
	cr_assert_lt(natcmp("x999", "xa"), 0);
	cr_assert_gt(natcmp("x_", "x5"), 0);
	cr_assert_lt(natcmp("x.", "x5"), 0);
}

Test(natcmp, leading_zeros)
{
	/* Equal values: different strings still order, deterministically. */
	int c1 = natcmp("img007", "img7"), c2 = natcmp("img7", "img007");

	cr_assert_neq(c1, 0);
	cr_assert_eq(sign(c1), -sign(c2));
	cr_assert_neq(natcmp("a0", "a00"), 0);
	cr_assert_neq(natcmp("a01b", "a1b"), 0);
	/* The value still comes first: 007 < 8 and 7 < 08. */
	cr_assert_lt(natcmp("img007", "img8"), 0);
	cr_assert_lt(natcmp("img7", "img08"), 0);
	cr_assert_gt(natcmp("img010", "img9"), 0);
}

/* Antisymmetric, 0 only for equal strings, transitive: a total order, so
 * that qsort's result is well defined. Checked on every pair and triple. */
Test(natcmp, total_order)
{
	static const char *const s[] = {
		"", "0", "00", "000", "01", "1", "001", "10", "010", "2", "a", "a0",
		"a00", "a01", "a1", "a001", "a1b", "a01b", "a1c", "a01c", "a10", "a2",
		"a02", "b", "A", "a.png", "a-1", "a_1", "a1.png", "a01.png", "a1x2",
		"a01x2", "a1x02", "a1x10", "img007", "img7", "img08", "img8", "x9y",
		"x09y", "x9", "9x", "09x", " 1", "1 ", "\x7f", "\xc3\xa9", "z",
	};
	size_t n = sizeof(s) / sizeof(s[0]), i, j, k;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			int ab = natcmp(s[i], s[j]), ba = natcmp(s[j], s[i]);

			cr_assert_eq(sign(ab), -sign(ba), "'%s' vs '%s': %d and %d", s[i],
				     s[j], ab, ba);
			cr_assert_eq(ab == 0, strcmp(s[i], s[j]) == 0, "'%s' vs '%s': %d",
				     s[i], s[j], ab);
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			for (k = 0; k < n; k++)
				if (natcmp(s[i], s[j]) < 0 && natcmp(s[j], s[k]) < 0)
					cr_assert_lt(natcmp(s[i], s[k]), 0,
						     "'%s' < '%s' < '%s' but not '%s' < '%s'",
						     s[i], s[j], s[k], s[i], s[k]);
}

Test(filelist_is_image_name, extensions)
{
	static const char *const yes[] = {
		"a.png", "a.PNG", "a.JpEg", "a.jpg", "a.jpeg", "a.bmp", "a.tga", "a.pgm",
		"a.ppm", "a.pnm", "x.y.png", "image_0001.Png", "a b.jpg", "a.webp", "a.GIF",
		"a.tif", "a.TIFF", "a.jp2", "a.J2K", "a.j2c", "a.jpc", "a.jpf", "a.jpx", "a.heic", "a.HEIF", "a.hif", "a.avif",
		"a.JXL", "a.dib", "a.sgi", "a.rgb", "a.RGBA", "a.bw", "a.ico", "a.ICO", NULL,
	};
	static const char *const no[] = {
		"png", "x.tiffx", "x.png.txt", "x.pngx", "x.jp", "x.", "x", "", "x.png ",
		"x.npy", "x.webpx", "x.ti", "xpng", "x.jp2x", "x.rgbx", "x.cur", NULL,
	};
	size_t i;

	for (i = 0; yes[i]; i++)
		cr_assert_eq(filelist_is_image_name(yes[i]), 1, "'%s' refused", yes[i]);
	for (i = 0; no[i]; i++)
		cr_assert_eq(filelist_is_image_name(no[i]), 0, "'%s' accepted", no[i]);
}

Test(filelist_sort, three_orders)
{
	static const char *const given[] = {
		"d/img10.png", "d/img2.png", "d/img1.png", "d/img100.png", "d/IMG3.png",
		"c/img9.png", NULL,
	};
	static const char *const natural[] = {
		"c/img9.png", "d/IMG3.png", "d/img1.png", "d/img2.png", "d/img10.png",
		"d/img100.png", NULL,
	};
	static const char *const name[] = {
		"c/img9.png", "d/IMG3.png", "d/img1.png", "d/img10.png", "d/img100.png",
		"d/img2.png", NULL,
	};
	struct filelist fl;

	fill(&fl, given);
	filelist_sort(&fl, ORDER_NATURAL);
	ut_assert_strs(fl.paths, fl.n, "", natural);
	filelist_free(&fl);

	fill(&fl, given);
	filelist_sort(&fl, ORDER_NAME);
	ut_assert_strs(fl.paths, fl.n, "", name);
	filelist_free(&fl);

	fill(&fl, given);
	filelist_sort(&fl, ORDER_NONE);
	ut_assert_strs(fl.paths, fl.n, "", given);
	filelist_free(&fl);
}

/* Natural order is deterministic whatever the input order. */
Test(filelist_sort, natural_independent_of_input_order)
{
	static const char *const a[] = { "f01.png", "f1.png", "f001.png", "f2.png",
					 "f02.png", "f10.png", NULL };
	static const char *const b[] = { "f10.png", "f02.png", "f2.png", "f001.png",
					 "f1.png", "f01.png", NULL };
	struct filelist x, y;
	size_t i;

	fill(&x, a);
	fill(&y, b);
	filelist_sort(&x, ORDER_NATURAL);
	filelist_sort(&y, ORDER_NATURAL);
	for (i = 0; i < x.n; i++)
		cr_assert_str_eq(x.paths[i], y.paths[i], "position %zu", i);
	cr_assert_str_eq(x.paths[5], "f10.png");
	filelist_free(&x);
	filelist_free(&y);
}

Test(filelist_line_break, the_characters_splitlines_ends_a_line_at)
{
	static const char *const breaks[] = {
		"a\nb", "a\rb", "a\vb", "a\fb", "a\x1c", "\x1d", "a\x1e", "a\xc2\x85",
		"a\xe2\x80\xa8", "\xe2\x80\xa9z", NULL,
	};
	static const char *const fine[] = {
		"a b", "a\tb", "esc\x1b[31m", "\x7f", "\xc2\x84", "\xe2\x80\xa7", "caf\xc3\xa9",
		"\xff", "\xe2\x80", NULL,
	};
	int i;

	for (i = 0; breaks[i]; i++)
		cr_assert_not_null(filelist_line_break(breaks[i]), "%d", i);
	for (i = 0; fine[i]; i++)
		cr_assert_null(filelist_line_break(fine[i]), "%d", i);
}

/* Part K of the parts made here holds SIZES[K] paths "K/I". */
static void make_parts(struct filelist *parts, const size_t *sizes, size_t n)
{
	size_t k, i;

	for (k = 0; k < n; k++) {
		memset(&parts[k], 0, sizeof(parts[k]));
		for (i = 0; i < sizes[k]; i++) {
			char *p;

			cr_assert_geq(asprintf(&p, "%zu/%zu", k, i), 0);
			cr_assert_eq(filelist_push(&parts[k], p), 0);
		}
	}
}

Test(filelist_concat, prefix_sum_gives_each_part_its_first_row)
{
	static const size_t sizes[] = { 3, 0, 1, 0, 0, 5, 2 };
	struct filelist parts[7], dst = { 0 };
	size_t first[8], k, i, row;

	cr_assert_eq(filelist_push(&dst, strdup("before")), 0);
	make_parts(parts, sizes, 7);
	cr_assert_eq(filelist_concat(&dst, parts, 7, first), 0);
	cr_assert_eq(dst.n, 12);
	cr_assert_str_eq(dst.paths[0], "before");
	for (row = 1, k = 0; k < 7; k++) {
		cr_assert_eq(first[k], row, "part %zu starts at %zu, not %zu", k, first[k], row);
		cr_assert_eq(parts[k].n, 0);
		cr_assert_null(parts[k].paths);
		for (i = 0; i < sizes[k]; i++, row++) {
			char want[32];

			snprintf(want, sizeof(want), "%zu/%zu", k, i);
			cr_assert_str_eq(dst.paths[row], want);
		}
	}
	cr_assert_eq(first[7], 12);
	filelist_free(&dst);
}

Test(filelist_concat, no_parts_and_empty_parts)
{
	static const size_t sizes[] = { 0, 0 };
	struct filelist parts[2], dst = { 0 };
	size_t first[3];

	cr_assert_eq(filelist_concat(&dst, parts, 0, first), 0);
	cr_assert_eq(first[0], 0);
	cr_assert_eq(dst.n, 0);
	make_parts(parts, sizes, 2);
	cr_assert_eq(filelist_concat(&dst, parts, 2, NULL), 0);
	cr_assert_eq(dst.n, 0);
	filelist_free(&dst);
}

/* A concat of the parts in order equals pushing every path in order: the
 * merge is the serial listing's order, whatever the sizes. */
Test(filelist_concat, same_as_one_list_for_random_sizes)
{
	struct filelist parts[50], dst = { 0 }, serial = { 0 };
	size_t sizes[50], k, i;
	unsigned s = 12345;

	for (k = 0; k < 50; k++) {
		s = s * 1103515245u + 12345u;
		sizes[k] = (s >> 16) % 9;
	}
	make_parts(parts, sizes, 50);
	for (k = 0; k < 50; k++)
		for (i = 0; i < parts[k].n; i++)
			cr_assert_eq(filelist_push(&serial, strdup(parts[k].paths[i])), 0);
	cr_assert_eq(filelist_concat(&dst, parts, 50, NULL), 0);
	cr_assert_eq(dst.n, serial.n);
	for (i = 0; i < dst.n; i++)
		cr_assert_str_eq(dst.paths[i], serial.paths[i]);
	filelist_free(&dst);
	filelist_free(&serial);
}

struct par_count {
	unsigned *hits;
	unsigned nested;	/* filelist_threads() as a thread saw it, if not 1 */
};

static void count_one(void *ctx, size_t k)
{
	struct par_count *c = ctx;
	unsigned t = filelist_threads();

	__atomic_fetch_add(&c->hits[k], 1, __ATOMIC_RELAXED);
	if (t != 1)
		__atomic_store_n(&c->nested, t, __ATOMIC_RELAXED);
}

Test(filelist_parallel, each_index_once_on_any_number_of_threads)
{
	static const size_t ns[] = { 0, 1, 2, 7, 1000 };
	static const unsigned threads[] = { 1, 2, 7, 64, 300 };
	size_t a, b, k;

	for (a = 0; a < sizeof(ns) / sizeof(*ns); a++)
		for (b = 0; b < sizeof(threads) / sizeof(*threads); b++) {
			struct par_count c = { calloc(ns[a] + 1, sizeof(unsigned)), 0 };

			cr_assert_not_null(c.hits);
			filelist_parallel(ns[a], threads[b], count_one, &c);
			for (k = 0; k < ns[a]; k++)
				cr_assert_eq(c.hits[k], 1, "n %zu, %u threads: %zu ran %u times",
					     ns[a], threads[b], k, c.hits[k]);
			cr_assert_eq(c.nested, 0, "a listing thread would start %u more",
				     c.nested);
			free(c.hits);
		}
}

Test(filelist_threads, from_the_environment_or_the_processors)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned dflt = cpus < 1 ? 1 : cpus > 16 ? 16 : (unsigned)cpus;

	setenv("PARIMG_LIST_THREADS", "1", 1);
	cr_assert_eq(filelist_threads(), 1);
	setenv("PARIMG_LIST_THREADS", "7", 1);
	cr_assert_eq(filelist_threads(), 7);
	setenv("PARIMG_LIST_THREADS", "256", 1);
	cr_assert_eq(filelist_threads(), 256);
	setenv("PARIMG_LIST_THREADS", "0", 1);
	cr_assert_eq(filelist_threads(), dflt);
	setenv("PARIMG_LIST_THREADS", "257", 1);
	cr_assert_eq(filelist_threads(), dflt);
	setenv("PARIMG_LIST_THREADS", "3x", 1);
	cr_assert_eq(filelist_threads(), dflt);
	unsetenv("PARIMG_LIST_THREADS");
	cr_assert_eq(filelist_threads(), dflt);
}
