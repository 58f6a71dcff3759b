/* scan_test.c - unit tests of what an INPUT argument lists (scan.h): a
 * directory's image files, hidden names skipped, arguments in order, "-"'s
 * list on stdin. */
#define _GNU_SOURCE
#include "inputs/scan.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

Test(scan_add, directory_listing, .fini = ut_scratch_remove)
{
	static const char *const want[] = {
		"/a.JPG", "/b.png", "/c.jpeg", "/d.bmp", "/e.tga", "/f.pgm", "/g.ppm",
		"/h.pnm", "/image_10.png", "/image_2.png", "/link.png", "/x.tif", NULL,
	};
	struct filelist fl = { 0 };
	char dir_slash[80], link[256];

	ut_scratch_make();
	ut_touch("b.png");
	ut_touch("a.JPG");
	ut_touch("c.jpeg");
	ut_touch("d.bmp");
	ut_touch("e.tga");
	ut_touch("f.pgm");
	ut_touch("g.ppm");
	ut_touch("h.pnm");
	ut_touch("image_10.png");
	ut_touch("image_2.png");
	ut_touch("notes.txt");
	ut_touch("x.tif");
	ut_touch("x.tiff.txt");
	ut_touch("x.png.txt");
	ut_touch("png");
	ut_touch(".hidden.png");
	ut_touch(".png");
	ut_mkdir("sub.png");
	ut_touch("sub.png/inner.png");
	ut_mkdir("sub");
	ut_touch("sub/deep.png");
	ut_mkdir(".git");
	ut_touch(".git/obj.png");
	/* A symlink to an image is listed like the file. */
	snprintf(link, sizeof(link), "%s/link.png", ut_scratch);
	cr_assert_eq(symlink("b.png", link), 0);

	cr_assert_eq(scan_add(&fl, ut_scratch, 0), 0);
	filelist_sort(&fl, ORDER_NAME);
	ut_assert_strs(fl.paths, fl.n, ut_scratch, want);
	filelist_free(&fl);

	/* A trailing slash is not doubled. */
	snprintf(dir_slash, sizeof(dir_slash), "%s/", ut_scratch);
	cr_assert_eq(scan_add(&fl, dir_slash, 0), 0);
	filelist_sort(&fl, ORDER_NAME);
	ut_assert_strs(fl.paths, fl.n, ut_scratch, want);
	filelist_free(&fl);
}

Test(scan_add, appends_in_argument_order, .fini = ut_scratch_remove)
{
	static const char *const want[] = {
		"/two/b.png", "/one/a.png", "/single.gif", "/missing.png", NULL,
	};
	struct filelist fl = { 0 };
	char p[256], q[256];

	ut_scratch_make();
	ut_mkdir("one");
	ut_mkdir("two");
	ut_touch("one/a.png");
	ut_touch("two/b.png");
	ut_touch("single.gif");
	snprintf(p, sizeof(p), "%s/two", ut_scratch);
	snprintf(q, sizeof(q), "%s/one", ut_scratch);
	cr_assert_eq(scan_add(&fl, p, 0), 0);
	cr_assert_eq(scan_add(&fl, q, 0), 0);
	/* A file is taken as given, image name or not; a missing one too,
	 * to fail, named, when it is opened. */
	snprintf(p, sizeof(p), "%s/single.gif", ut_scratch);
	cr_assert_eq(scan_add(&fl, p, 0), 0);
	snprintf(p, sizeof(p), "%s/missing.png", ut_scratch);
	cr_assert_eq(scan_add(&fl, p, 0), 0);
	ut_assert_strs(fl.paths, fl.n, ut_scratch, want);
	filelist_sort(&fl, ORDER_NONE);
	ut_assert_strs(fl.paths, fl.n, ut_scratch, want);
	filelist_free(&fl);
	cr_assert_eq(fl.n, 0);
	cr_assert_null(fl.paths);
}

Test(scan_add, empty_directory, .fini = ut_scratch_remove)
{
	struct filelist fl = { 0 };

	ut_scratch_make();
	ut_touch("readme.txt");
	cr_assert_eq(scan_add(&fl, ut_scratch, 0), 0);
	cr_assert_eq(fl.n, 0);
	filelist_free(&fl);
}

Test(scan_add, many_files, .fini = ut_scratch_remove)
{
	struct filelist fl = { 0 };
	size_t i;

	ut_scratch_make();
	for (i = 0; i < 700; i++) {
		char name[32];

		snprintf(name, sizeof(name), "img_%zu.png", i);
		ut_touch(name);
	}
	cr_assert_eq(scan_add(&fl, ut_scratch, 0), 0);
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
Test(scan_add, paths_from_stdin, .fini = ut_scratch_remove)
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
	cr_assert_eq(scan_add(&fl, "-", 0), 0);
	ut_assert_strs(fl.paths, fl.n, "", want);
	filelist_free(&fl);
}

/* A folder scan meeting a name with a line break refuses the input (the
 * manifest is one path a line); so does a path given so. */
Test(scan_add, line_break_in_a_name_refused, .fini = ut_scratch_remove)
{
	struct filelist fl = { 0 };
	char p[256];

	ut_scratch_make();
	ut_touch("a.png");
	ut_touch("b\nc.png");
	cr_assert_eq(scan_add(&fl, ut_scratch, 0), -1);
	filelist_free(&fl);
	snprintf(p, sizeof(p), "%s/b\nc.png", ut_scratch);
	cr_assert_eq(unlink(p), 0);
	ut_touch("d\re.png");
	cr_assert_eq(scan_add(&fl, ut_scratch, 0), -1);
	filelist_free(&fl);
	snprintf(p, sizeof(p), "%s/d\re.png", ut_scratch);
	cr_assert_eq(scan_add(&fl, p, 0), -1);
	cr_assert_eq(unlink(p), 0);
	cr_assert_eq(scan_add(&fl, ut_scratch, 0), 0);
	cr_assert_eq(fl.n, 1);
	filelist_free(&fl);
}
