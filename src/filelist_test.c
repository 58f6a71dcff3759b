/* filelist_test.c - unit tests of load's input list (filelist.h): natural
 * order, image name matching, directory listing and the three sort orders. */
#define _GNU_SOURCE
#include "filelist.h"
#include "unit_test.h"

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

static void touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ut_scratch, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	close(fd);
}

static void make_dir(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", ut_scratch, name);
	cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
}

/* NAMES (NULL-terminated, each relative to the scratch directory with
 * PREFIX before it) are exactly FL's paths, in order. */
static void assert_paths(const struct filelist *fl, const char *prefix,
			 const char *const *names)
{
	size_t i;

	for (i = 0; names[i]; i++) {
		char want[256];

		cr_assert_lt(i, fl->n, "only %zu paths, %s expected next", fl->n, names[i]);
		snprintf(want, sizeof(want), "%s%s", prefix, names[i]);
		cr_assert_str_eq(fl->paths[i], want, "path %zu", i);
	}
	cr_assert_eq(fl->n, i, "%zu paths, %zu expected", fl->n, i);
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
		"a.tif", "a.TIFF", NULL,
	};
	static const char *const no[] = {
		"png", "x.tiffx", "x.png.txt", "x.pngx", "x.jp", "x.", "x", "", "x.png ",
		"x.npy", "x.webpx", "x.ti", "xpng", NULL,
	};
	size_t i;

	for (i = 0; yes[i]; i++)
		cr_assert_eq(filelist_is_image_name(yes[i]), 1, "'%s' refused", yes[i]);
	for (i = 0; no[i]; i++)
		cr_assert_eq(filelist_is_image_name(no[i]), 0, "'%s' accepted", no[i]);
}

Test(filelist_add, directory_listing, .fini = ut_scratch_remove)
{
	static const char *const want[] = {
		"/a.JPG", "/b.png", "/c.jpeg", "/d.bmp", "/e.tga", "/f.pgm", "/g.ppm",
		"/h.pnm", "/image_10.png", "/image_2.png", "/link.png", "/x.tif", NULL,
	};
	struct filelist fl = { 0 };
	char dir_slash[80], link[256];

	ut_scratch_make();
	touch("b.png");
	touch("a.JPG");
	touch("c.jpeg");
	touch("d.bmp");
	touch("e.tga");
	touch("f.pgm");
	touch("g.ppm");
	touch("h.pnm");
	touch("image_10.png");
	touch("image_2.png");
	touch("notes.txt");
	touch("x.tif");
	touch("x.tiff.txt");
	touch("x.png.txt");
	touch("png");
	touch(".hidden.png");
	touch(".png");
	make_dir("sub.png");
	touch("sub.png/inner.png");
	make_dir("sub");
	touch("sub/deep.png");
	make_dir(".git");
	touch(".git/obj.png");
	/* A symlink to an image is listed like the file. */
	snprintf(link, sizeof(link), "%s/link.png", ut_scratch);
	cr_assert_eq(symlink("b.png", link), 0);

	cr_assert_eq(filelist_add(&fl, ut_scratch), 0);
	filelist_sort(&fl, ORDER_NAME);
	assert_paths(&fl, ut_scratch, want);
	filelist_free(&fl);

	/* A trailing slash is not doubled. */
	snprintf(dir_slash, sizeof(dir_slash), "%s/", ut_scratch);
	cr_assert_eq(filelist_add(&fl, dir_slash), 0);
	filelist_sort(&fl, ORDER_NAME);
	assert_paths(&fl, ut_scratch, want);
	filelist_free(&fl);
}

Test(filelist_add, appends_in_argument_order, .fini = ut_scratch_remove)
{
	static const char *const want[] = {
		"/two/b.png", "/one/a.png", "/single.gif", "/missing.png", NULL,
	};
	struct filelist fl = { 0 };
	char p[256], q[256];

	ut_scratch_make();
	make_dir("one");
	make_dir("two");
	touch("one/a.png");
	touch("two/b.png");
	touch("single.gif");
	snprintf(p, sizeof(p), "%s/two", ut_scratch);
	snprintf(q, sizeof(q), "%s/one", ut_scratch);
	cr_assert_eq(filelist_add(&fl, p), 0);
	cr_assert_eq(filelist_add(&fl, q), 0);
	/* A file is taken as given, image name or not; a missing one too,
	 * to fail, named, when it is opened. */
	snprintf(p, sizeof(p), "%s/single.gif", ut_scratch);
	cr_assert_eq(filelist_add(&fl, p), 0);
	snprintf(p, sizeof(p), "%s/missing.png", ut_scratch);
	cr_assert_eq(filelist_add(&fl, p), 0);
	assert_paths(&fl, ut_scratch, want);
	filelist_sort(&fl, ORDER_NONE);
	assert_paths(&fl, ut_scratch, want);
	filelist_free(&fl);
	cr_assert_eq(fl.n, 0);
	cr_assert_null(fl.paths);
}

Test(filelist_add, empty_directory, .fini = ut_scratch_remove)
{
	struct filelist fl = { 0 };

	ut_scratch_make();
	touch("readme.txt");
	cr_assert_eq(filelist_add(&fl, ut_scratch), 0);
	cr_assert_eq(fl.n, 0);
	filelist_free(&fl);
}

Test(filelist_add, many_files, .fini = ut_scratch_remove)
{
	struct filelist fl = { 0 };
	size_t i;

	ut_scratch_make();
	for (i = 0; i < 700; i++) {
		char name[32];

		snprintf(name, sizeof(name), "img_%zu.png", i);
		touch(name);
	}
	cr_assert_eq(filelist_add(&fl, ut_scratch), 0);
	cr_assert_eq(fl.n, 700);
	filelist_sort(&fl, ORDER_NATURAL);
	for (i = 0; i < 700; i++) {
		char want[128];

		snprintf(want, sizeof(want), "%s/img_%zu.png", ut_scratch, i);
		cr_assert_str_eq(fl.paths[i], want);
	}
	filelist_free(&fl);
}

/* "-": one path a line on stdin, blank lines skipped, the last line's
 * newline optional. */
Test(filelist_add, paths_from_stdin, .fini = ut_scratch_remove)
{
	static const char *const want[] = { "x.png", "dir/y 2.png", "z", NULL };
	static const char text[] = "x.png\n\ndir/y 2.png\nz";
	struct filelist fl = { 0 };
	char path[256];
	FILE *fp;

	ut_scratch_make();
	snprintf(path, sizeof(path), "%s/list", ut_scratch);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(text, 1, sizeof(text) - 1, fp), sizeof(text) - 1);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_not_null(freopen(path, "r", stdin));
	cr_assert_eq(filelist_add(&fl, "-"), 0);
	assert_paths(&fl, "", want);
	filelist_free(&fl);
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
	assert_paths(&fl, "", natural);
	filelist_free(&fl);

	fill(&fl, given);
	filelist_sort(&fl, ORDER_NAME);
	assert_paths(&fl, "", name);
	filelist_free(&fl);

	fill(&fl, given);
	filelist_sort(&fl, ORDER_NONE);
	assert_paths(&fl, "", given);
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

/* A folder scan meeting a name with a line break refuses the input (the
 * manifest is one path a line); so does a path given so. */
Test(filelist_add, line_break_in_a_name_refused, .fini = ut_scratch_remove)
{
	struct filelist fl = { 0 };
	char p[256];

	ut_scratch_make();
	touch("a.png");
	touch("b\nc.png");
	cr_assert_eq(filelist_add(&fl, ut_scratch), -1);
	filelist_free(&fl);
	snprintf(p, sizeof(p), "%s/b\nc.png", ut_scratch);
	cr_assert_eq(unlink(p), 0);
	touch("d\re.png");
	cr_assert_eq(filelist_add(&fl, ut_scratch), -1);
	filelist_free(&fl);
	snprintf(p, sizeof(p), "%s/d\re.png", ut_scratch);
	cr_assert_eq(filelist_add(&fl, p), -1);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(filelist_add(&fl, ut_scratch), 0);
	cr_assert_eq(fl.n, 1);
	filelist_free(&fl);
}
