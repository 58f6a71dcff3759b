/* arch_test.c - unit tests of arch.c's pure parts: member names cleaned or
 * refused, hidden paths, webdataset keys and .cls numbers; and one archive
 * written by libarchive, listed and read back through the member table. */
#define _GNU_SOURCE
#include "inputs/arch.h"
#include "common/buf.h"
#include "common/unit_test.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void clean(const char *in, int want_r, const char *want)
{
	char buf[256];
	int r;

	snprintf(buf, sizeof(buf), "%s", in);
	r = arch_clean_name(buf);
	cr_assert_eq(r, want_r, "%s: %d, not %d", in, r, want_r);
	if (want)
		cr_assert_str_eq(buf, want, "%s", in);
}

Test(arch, clean_names)
{
	clean("a/b.png", 0, "a/b.png");
	clean("./a/b.png", 0, "a/b.png");
	clean("././a//./b.png", 0, "a/b.png");
	clean("a/b/", 0, "a/b");
	clean("..a/b..png", 0, "..a/b..png");	/* dots, but no ".." component */
	clean("a/.../b", 0, "a/.../b");
}

Test(arch, refused_names)
{
	clean("/etc/passwd", -1, NULL);
	clean("../x.png", -1, NULL);
	clean("a/../../x.png", -1, NULL);
	clean("a/..", -1, NULL);
	clean("./..", -1, NULL);
	clean("", -2, NULL);
	clean("./", -2, NULL);
	clean("a\nb.png", -2, NULL);
	clean("a\rb.png", -2, NULL);		/* a line break too, to a manifest reader */
	clean("a\xe2\x80\xa8.png", -2, NULL);	/* U+2028 */
}

Test(arch, sizes)
{
	uint64_t v = 0;

	cr_assert_eq(arch_parse_size("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(arch_parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(arch_parse_size("64M", &v), 0);
	cr_assert_eq(v, 64ULL << 20);
	cr_assert_eq(arch_parse_size("2g", &v), 0);
	cr_assert_eq(v, 2ULL << 30);
	cr_assert_eq(arch_parse_size("3KiB", &v), 0);
	cr_assert_eq(v, 3072);
	cr_assert_eq(arch_parse_size("1TB", &v), 0);
	cr_assert_eq(v, 1ULL << 40);
	cr_assert_eq(arch_parse_size("18446744073709551615", &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(arch_parse_size("16777216T", &v), -1);	/* 2^64 */
	cr_assert_eq(arch_parse_size("18446744073709551616", &v), -1);
	cr_assert_eq(arch_parse_size("", &v), -1);
	cr_assert_eq(arch_parse_size("-1", &v), -1);
	cr_assert_eq(arch_parse_size(" 1", &v), -1);
	cr_assert_eq(arch_parse_size("1X", &v), -1);
	cr_assert_eq(arch_parse_size("1MX", &v), -1);
	cr_assert_eq(arch_parse_size("max", &v), -1);
}

Test(arch, hidden)
{
	cr_assert(arch_is_hidden(".x.png"));
	cr_assert(arch_is_hidden("a/.git/x.png"));
	cr_assert(arch_is_hidden("a/b/.x.png"));
	cr_assert(!arch_is_hidden("a/b/x.png"));
	cr_assert(!arch_is_hidden("a/b./x.png"));
}

Test(arch, webdataset_keys)
{
	/* The key ends at the first dot of the last component. */
	cr_assert_eq(arch_wds_key("000001.jpg"), 6);
	cr_assert_eq(arch_wds_key("shard/000001.seg.png"), 12);
	cr_assert_eq(arch_wds_key("a.b/000001.cls"), 10);
	cr_assert_eq(arch_wds_key("a.b/noext"), 0);
	cr_assert_eq(arch_wds_key(".hidden"), 0);
}

Test(arch, cls_numbers)
{
	int64_t v = -1;

	cr_assert_eq(arch_parse_cls((const unsigned char *)"42\n", 3, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(arch_parse_cls((const unsigned char *)" 7 ", 3, &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(arch_parse_cls((const unsigned char *)"9223372036854775807", 19, &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(arch_parse_cls((const unsigned char *)"9223372036854775808", 19, &v), -1);
	cr_assert_eq(arch_parse_cls((const unsigned char *)"-1", 2, &v), -1);
	cr_assert_eq(arch_parse_cls((const unsigned char *)"1 2", 3, &v), -1);
	cr_assert_eq(arch_parse_cls((const unsigned char *)"", 0, &v), -1);
	cr_assert_eq(arch_parse_cls((const unsigned char *)"cat", 3, &v), -1);
}

/* Write a FORMAT archive of the members NAMES (data: the name itself). */
static void write_archive(const char *path, int format, const char *const *names)
{
	struct archive *a = archive_write_new();
	size_t k;

	cr_assert_eq(archive_write_set_format(a, format), ARCHIVE_OK);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (k = 0; names[k]; k++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, names[k]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)strlen(names[k]));
		cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
		cr_assert_eq(archive_write_data(a, names[k], strlen(names[k])),
			     (la_ssize_t)strlen(names[k]));
		archive_entry_free(e);
	}
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void list_and_read(int format, const char *file)
{
	static const char *const names[] = { "b/x.png", "a/y.jpg", "a/.h.png", "z.txt",
					     "deep/er/w.webp", NULL };
	static const char *const rows[] = { "b/x.png", "a/y.jpg", "deep/er/w.webp" };
	struct filelist fl = { 0 };
	struct buf b = { 0 };
	char path[128], why[256];
	size_t k;

	ut_scratch_make();
	snprintf(path, sizeof(path), "%s/%s", ut_scratch, file);
	write_archive(path, format, names);
	cr_assert(arch_sniff(path));
	cr_assert_eq(arch_add(&fl, path), 0);
	cr_assert_eq(fl.n, 3);
	for (k = 0; k < 3; k++) {
		char want[160];

		snprintf(want, sizeof(want), "%s:%s", path, rows[k]);
		cr_assert_str_eq(fl.paths[k], want);
		cr_assert(arch_is_member(fl.paths[k]));
		cr_assert_eq(arch_read(fl.paths[k], -2, &b, why, sizeof(why)), 0, "%s", why);
		cr_assert_eq(b.len, strlen(rows[k]));
		cr_assert_eq(memcmp(b.p, rows[k], b.len), 0);
		/* As a confined worker would: from a handed descriptor. */
		cr_assert_eq(arch_read(fl.paths[k], arch_open(fl.paths[k]), &b, why, sizeof(why)),
			     0, "%s", why);
		cr_assert_eq(memcmp(b.p, rows[k], b.len), 0);
	}
	cr_assert(!arch_is_member(path));
	cr_assert_eq(arch_open("no such member"), -2);
	filelist_free(&fl);
	free(b.p);
}

Test(arch, pax_tar_read_in_place)
{
	list_and_read(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, "t.tar");
}

Test(arch, zip_through_memory)
{
	list_and_read(ARCHIVE_FORMAT_ZIP, "t.zip");
}

Test(arch, not_an_archive)
{
	char path[128];
	FILE *f;

	ut_scratch_make();
	snprintf(path, sizeof(path), "%s/x", ut_scratch);
	f = fopen(path, "w");
	fputs("hello", f);
	fclose(f);
	cr_assert(!arch_sniff(path));
	cr_assert(!arch_sniff(ut_scratch));
	cr_assert(!arch_sniff("/nonexistent/file"));
}

/* Thousands of members: the table grows, every one still found. */
Test(arch, many_members)
{
	enum { N = 5000 };
	static char names_buf[N][32];
	static const char *names[N + 1];
	struct filelist fl = { 0 };
	struct buf b = { 0 };
	char path[128], why[256];
	size_t k;

	ut_scratch_make();
	for (k = 0; k < N; k++) {
		snprintf(names_buf[k], sizeof(names_buf[k]), "d%zu/m%zu.png", k % 7, k);
		names[k] = names_buf[k];
	}
	snprintf(path, sizeof(path), "%s/many.tar", ut_scratch);
	write_archive(path, ARCHIVE_FORMAT_TAR_USTAR, names);
	cr_assert_eq(arch_add(&fl, path), 0);
	cr_assert_eq(fl.n, N);
	for (k = 0; k < N; k++) {
		cr_assert_eq(arch_read(fl.paths[k], -2, &b, why, sizeof(why)), 0, "%s: %s",
			     fl.paths[k], why);
		cr_assert_eq(b.len, strlen(names[k]));
		cr_assert_eq(memcmp(b.p, names[k], b.len), 0);
	}
	filelist_free(&fl);
	arch_free();
	free(b.p);
}

/* Tables kept while listing: the member named and (META) the metadata
 * files at the root and one folder down, whole, never rows; deeper ones
 * and other text are neither; arch_scan then lists every image. */
static void keep_tables(int format, const char *file)
{
	static const char *const names[] = { "train/a.png", "train.csv", "metadata.csv",
					     "train/metadata.jsonl", "x/y/metadata.csv", "t.png",
					     "z.txt", NULL };
	struct filelist fl = { 0 };
	struct dataset ds = { 0 };
	const struct arch_table *kt;
	char path[128];
	size_t n;

	ut_scratch_make();
	snprintf(path, sizeof(path), "%s/%s", ut_scratch, file);
	write_archive(path, format, names);
	cr_assert_eq(arch_keep_tables("train.csv", 1), 0);
	cr_assert_eq(arch_scan(&ds, &fl, path, ORDER_NATURAL), 0);
	cr_assert_eq(fl.n, 2);		/* no class folders: the images */
	kt = arch_kept(&n);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(kt[0].member, "train.csv");
	cr_assert_str_eq(kt[0].text, "train.csv");
	cr_assert_eq(kt[0].len, 9);
	cr_assert_str_eq(kt[1].member, "metadata.csv");
	cr_assert_str_eq(kt[2].member, "train/metadata.jsonl");
	cr_assert_str_eq(kt[2].text, "train/metadata.jsonl");
	filelist_free(&fl);
	dataset_free(&ds);
	arch_free();
	kt = arch_kept(&n);
	cr_assert_eq(n, 0);
	/* Forgotten: the next listing keeps nothing, and lists the image
	 * members as rows, the tables not. */
	cr_assert_eq(arch_add(&fl, path), 0);
	cr_assert_eq(fl.n, 2);
	arch_kept(&n);
	cr_assert_eq(n, 0);
	filelist_free(&fl);
	arch_free();
}

Test(arch, tables_kept_tar)
{
	keep_tables(ARCHIVE_FORMAT_TAR_USTAR, "k.tar");
}

Test(arch, tables_kept_zip)
{
	keep_tables(ARCHIVE_FORMAT_ZIP, "k.zip");
}

/* A table named twice is refused: which one is it? */
Test(arch, table_named_twice)
{
	static const char *const names[] = { "a.png", "t.csv", "t.csv", NULL };
	struct filelist fl = { 0 };
	struct ut_capture c;
	char path[128], *err;
	int r;

	ut_scratch_make();
	snprintf(path, sizeof(path), "%s/d.tar", ut_scratch);
	write_archive(path, ARCHIVE_FORMAT_TAR_USTAR, names);
	cr_assert_eq(arch_keep_tables("t.csv", 0), 0);
	ut_capture_begin(&c);
	r = arch_add(&fl, path);
	err = ut_capture_end(&c);
	cr_assert_eq(r, -1);
	cr_assert(strstr(err, "d.tar:t.csv: a duplicate member name"), "%s", err);
	free(err);
	filelist_free(&fl);
	arch_free();
}
