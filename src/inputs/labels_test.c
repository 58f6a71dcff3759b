/* labels_test.c - unit tests of labels from a table or names (labels.h):
 * the three matching steps and their ambiguity, every reconciliation
 * problem, integer and string labels, multi-hot rows, float32 targets and
 * --label-regex. The images are paths only: nothing here decodes. */
#define _GNU_SOURCE
#include "inputs/labels.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(labels, .fini = ut_scratch_remove);

static void fill(struct filelist *fl, const char *const *names)
{
	size_t i;

	memset(fl, 0, sizeof(*fl));
	for (i = 0; names[i]; i++)
		cr_assert_eq(filelist_push(fl, strdup(names[i])), 0);
}

/* A table file holding TEXT in the scratch directory; its path. */
static char *table_file(const char *text)
{
	char *path;
	FILE *f;

	ut_scratch_make();
	cr_assert(asprintf(&path, "%s/t.csv", ut_scratch) > 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* labels_apply on NAMES with table TEXT; its return, stderr in *ERR. */
static int apply(struct dataset *ds, struct filelist *fl, const char *const *names,
		 const char *text, struct labels_opts *o, char **err)
{
	struct ut_capture c;
	int r;

	fill(fl, names);
	memset(ds, 0, sizeof(*ds));
	o->root = "d";
	if (text) {
		o->table = table_file(text);
		labels_free(o);
		cr_assert_eq(labels_add_src(o, o->table, "", NULL, 0), 0);
	}
	ut_capture_begin(&c);
	r = labels_apply(ds, fl, o);
	*err = ut_capture_end(&c);
	return r;
}

Test(labels, three_steps_and_classes)
{
	static const char *const names[] = { "d/a/x.png", "d/b/y.jpg", "d/z.png", NULL };
	struct labels_opts o = { 0 };
	struct dataset ds;
	struct filelist fl;
	char *err;

	cr_assert_eq(apply(&ds, &fl, names, "file_name,label\nz.png,zeta\na/x.png,b\nb/y,a\n", &o,
			   &err), 0, "%s", err);
	cr_assert_eq(ds.nclasses, 3);
	cr_assert_str_eq(ds.classes[0], "a");
	cr_assert_str_eq(ds.classes[2], "zeta");
	cr_assert_eq(ds.labels[0], 1);	/* rows in the files' order */
	cr_assert_eq(ds.labels[1], 0);
	cr_assert_eq(ds.labels[2], 2);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
}

Test(labels, integers_kept_and_file_name_step)
{
	static const char *const names[] = { "d/a/x.png", "d/b/y.jpg", NULL };
	struct labels_opts o = { 0 };
	struct dataset ds;
	struct filelist fl;
	char *err;

	cr_assert_eq(apply(&ds, &fl, names, "id,label\ny.jpg,-7\nx.png,12\n", &o, &err), 0, "%s",
		     err);
	cr_assert_eq(ds.nclasses, 0);
	cr_assert_eq(ds.labels[0], 12);
	cr_assert_eq(ds.labels[1], -7);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
}

Test(labels, every_problem_listed)
{
	static const char *const names[] = { "d/a/x.png", "d/b/x.png", "d/c.png", "d/e.png",
					     "d/f.png", NULL };
	struct labels_opts o = { 0 };
	struct dataset ds;
	struct filelist fl;
	char *err;

	cr_assert_eq(apply(&ds, &fl, names, "id,label\nx.png,1\nc,2\nc.png,3\nnone,4\ne,5\ne,5\n", &o,
			   &err), -1);
	cr_assert(strstr(err, ":2: 'x.png' matches two images, d/a/x.png and d/b/x.png"), "%s", err);
	cr_assert(strstr(err, ":4: 'c.png' names d/c.png again, with another label than line 3's"),
		  "%s", err);
	cr_assert(strstr(err, ":5: 'none' names no image"), "%s", err);
	cr_assert(strstr(err, ":7: 'e' names d/e.png again (as line 6 does)"), "%s", err);
	cr_assert(strstr(err, "d/f.png: no row of"), "%s", err);
	cr_assert(strstr(err, "d/a/x.png: no row of"), "%s", err);
	cr_assert(strstr(err, "7 problems"), "%s", err);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
}

Test(labels, skip_unlabelled)
{
	static const char *const names[] = { "d/a.png", "d/b.png", "d/c.png", NULL };
	struct labels_opts o = { .skip_unlabelled = 1 };
	struct dataset ds;
	struct filelist fl;
	char *err;

	cr_assert_eq(apply(&ds, &fl, names, "id,label\nc,q\na,p\n", &o, &err), 0, "%s", err);
	cr_assert(strstr(err, "1 image of d without a row skipped"), "%s", err);
	cr_assert_eq(fl.n, 2);
	cr_assert_str_eq(fl.paths[1], "d/c.png");
	cr_assert_eq(ds.labels[0], 0);
	cr_assert_eq(ds.labels[1], 1);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
}

Test(labels, multi_hot_and_targets)
{
	static const char *const names[] = { "d/a.png", "d/b.png", NULL };
	struct labels_opts o = { .multi_sep = " " };
	struct dataset ds;
	struct filelist fl;
	char *err;

	cr_assert_eq(apply(&ds, &fl, names, "id,label,t,u\na,z x,0.1,1e40\nb,y  x,-3, 7 \n", &o,
			   &err), 0, "%s", err);
	cr_assert_eq(ds.cols, 3);
	cr_assert_eq(memcmp(ds.multi, "\1\0\1\1\1\0", 6), 0);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);

	o = (struct labels_opts){ .targets = "u,t" };
	cr_assert_eq(apply(&ds, &fl, names, "id,label,t,u\na,z x,0.1,1e40\nb,y  x,-3, 7 \n", &o,
			   &err), 0, "%s", err);
	cr_assert_eq(ds.cols, 2);
	cr_assert(ds.targets[0] > 3e38f);	/* inf, as float32(1e40) */
	cr_assert_eq(ds.targets[1], (float)0.1);
	cr_assert_eq(ds.targets[2], 7.0f);
	cr_assert_eq(ds.targets[3], -3.0f);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);

	o = (struct labels_opts){ .targets = "t" };
	cr_assert_eq(apply(&ds, &fl, names, "id,t\na,0x10\nb,one\n", &o, &err), -1);
	cr_assert(strstr(err, ":2: '0x10' in column 't' is not a number"), "%s", err);
	cr_assert(strstr(err, ":3: 'one' in column 't' is not a number"), "%s", err);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
}

Test(labels, regex)
{
	static const char *const names[] = { "d/cat.1.jpg", "d/dog.2.jpg", "d/x/cat.3.jpg",
					     "d/odd.png", NULL };
	struct labels_opts o = { .regex = "([a-z]+)\\.[0-9]+\\.jpg$" };
	struct dataset ds;
	struct filelist fl;
	char why[256], *err;

	cr_assert_eq(labels_check_regex(o.regex, why, sizeof(why)), 0);
	cr_assert_eq(labels_check_regex("[a-z]+", why, sizeof(why)), -1);
	cr_assert_eq(apply(&ds, &fl, names, NULL, &o, &err), -1);
	cr_assert(strstr(err, "d/odd.png: --label-regex"), "%s", err);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
	o.skip_unlabelled = 1;
	cr_assert_eq(apply(&ds, &fl, names, NULL, &o, &err), 0, "%s", err);
	cr_assert_eq(fl.n, 3);
	cr_assert_eq(ds.labels[0], 0);
	cr_assert_eq(ds.labels[1], 1);
	cr_assert_eq(ds.labels[2], 0);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
}

/* A table given as bytes (an archive member's), one per folder: each image
 * takes the deepest folder's table, its keys relative to that folder; an
 * image below none has no row; a row of the root's naming a split
 * folder's image names none. */
Test(labels, tables_per_folder)
{
	static const char *const names[] = { "d/a.png", "d/train/b.png", "d/train/c.png",
					     "d/test/e.png", NULL };
	struct labels_opts o = { .root = "d" };
	struct dataset ds = { 0 };
	struct filelist fl;
	struct ut_capture c;
	size_t n = 0;
	char *err;
	int r;

	fill(&fl, names);
	static const char root_t[] = "file_name,label\na.png,r\ntrain/b.png,q\n";
	static const char train_t[] = "file_name,label\nb.png,x\nc,y\n";

	cr_assert_eq(labels_add_src(&o, "z.zip:metadata.csv", "", strdup(root_t),
				    sizeof(root_t) - 1), 0);
	cr_assert_eq(labels_add_src(&o, "z.zip:train/metadata.csv", "train/", strdup(train_t),
				    sizeof(train_t) - 1), 0);
	ut_capture_begin(&c);
	r = labels_check(&fl, &o, &n);
	err = ut_capture_end(&c);
	cr_assert_eq(r, 0, "%s", err);
	cr_assert_eq(n, 2, "%s", err);
	cr_assert(strstr(err, "z.zip:metadata.csv:3: 'train/b.png' names no image"), "%s", err);
	/* The root's table is the one above test/. */
	cr_assert(strstr(err, "d/test/e.png: no row of z.zip:metadata.csv names it"), "%s", err);
	cr_assert_eq(fl.n, 4);		/* labels_check changes nothing */
	free(err);
	/* Without the stray row, and e.png skipped: the labels. */
	/* The bytes were parsed in place, and taken: given again. */
	cr_assert_null(o.src[0].text);
	o.src[0].text = strdup("file_name,label\na.png,r\n");
	o.src[0].len = strlen(o.src[0].text);
	o.src[1].text = strdup(train_t);
	o.skip_unlabelled = 1;
	ut_capture_begin(&c);
	r = labels_apply(&ds, &fl, &o);
	err = ut_capture_end(&c);
	cr_assert_eq(r, 0, "%s", err);
	cr_assert_eq(fl.n, 3);
	cr_assert_eq(ds.nclasses, 3);	/* r, x, y */
	cr_assert_eq(ds.labels[0], 0);
	cr_assert_eq(ds.labels[1], 1);
	cr_assert_eq(ds.labels[2], 2);
	free(err);
	dataset_free(&ds);
	filelist_free(&fl);
	labels_free(&o);
}

static void touch(const char *dir, const char *name)
{
	char *p;
	FILE *f;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs("file_name,label\n", f);
	fclose(f);
	free(p);
}

/* Metadata files at the root and in each folder one level down (hidden
 * folders and deeper ones not looked in); two in one folder refused. */
Test(labels, find_metadata)
{
	struct labels_opts o = { 0 };
	char *d, *sub;

	ut_scratch_make();
	d = ut_scratch;
	cr_assert(asprintf(&sub, "%s/train", d) > 0);
	mkdir(sub, 0755);
	free(sub);
	cr_assert(asprintf(&sub, "%s/train/deep", d) > 0);
	mkdir(sub, 0755);
	free(sub);
	cr_assert(asprintf(&sub, "%s/.h", d) > 0);
	mkdir(sub, 0755);
	free(sub);
	cr_assert(asprintf(&sub, "%s/test", d) > 0);
	mkdir(sub, 0755);
	free(sub);
	touch(d, "train/metadata.jsonl");
	touch(d, "train/deep/metadata.csv");
	touch(d, ".h/metadata.csv");
	touch(d, "metadata.csv");
	cr_assert_eq(labels_find_metadata(d, &o), 0);
	cr_assert_eq(o.nsrc, 2);
	cr_assert_str_eq(o.src[0].dir, "");
	cr_assert(strstr(o.src[0].name, "/metadata.csv"));
	cr_assert_str_eq(o.src[1].dir, "train/");
	cr_assert(strstr(o.src[1].name, "/train/metadata.jsonl"));
	labels_free(&o);
	touch(d, "test/metadata.csv");
	touch(d, "test/metadata.jsonl");
	cr_assert_eq(labels_find_metadata(d, &o), -1);
	labels_free(&o);
}

/* --labels-from X:Y: a file of that name wins; else a member of the INPUT
 * archive (its name cleaned); another archive is refused. */
Test(labels, resolve_table)
{
	struct labels_opts o = { 0 };
	char *zip, *other, *lit, *arg, *member;
	char head[512] = "PK\3\4";
	FILE *f;

	ut_scratch_make();
	cr_assert(asprintf(&zip, "%s/z.zip", ut_scratch) > 0);
	cr_assert(asprintf(&other, "%s/o.zip", ut_scratch) > 0);
	f = fopen(zip, "w");
	fwrite(head, 1, sizeof(head), f);
	fclose(f);
	f = fopen(other, "w");
	fwrite(head, 1, sizeof(head), f);
	fclose(f);
	cr_assert(asprintf(&arg, "%s:./train/../t.csv", zip) > 0);
	o.table = arg;
	cr_assert_eq(labels_resolve_table(&o, zip, &member), -1);	/* ".." */
	free(arg);
	cr_assert(asprintf(&arg, "%s:./t.csv", zip) > 0);
	o.table = arg;
	cr_assert_eq(labels_resolve_table(&o, zip, &member), 0);
	cr_assert_str_eq(member, "t.csv");
	cr_assert_eq(o.nsrc, 0);
	free(member);
	cr_assert_eq(labels_resolve_table(&o, other, &member), -1);
	cr_assert_null(member);
	/* A file literally named so wins. */
	cr_assert(asprintf(&lit, "%s:t.csv", zip) > 0);
	o.table = lit;
	cr_assert_eq(labels_resolve_table(&o, zip, &member), 0);
	cr_assert_str_eq(member, "t.csv");
	free(member);
	f = fopen(lit, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(labels_resolve_table(&o, zip, &member), 0);
	cr_assert_null(member);
	cr_assert_eq(o.nsrc, 1);
	cr_assert_str_eq(o.src[0].name, lit);
	labels_free(&o);
	free(arg);
	free(lit);
	free(zip);
	free(other);
}

Test(labels, options_that_clash)
{
	struct labels_opts o = { .table = "t.csv", .path_col = "id", .label_col = "y" };

	cr_expect_null(labels_opts_clash(&o));
	o.regex = "^(.*)/";
	cr_expect_str_eq(labels_opts_clash(&o), "--labels-from and --label-regex: choose one");
	o.table = NULL;
	cr_expect(strstr(labels_opts_clash(&o), "--label-regex takes no table options"));
	o = (struct labels_opts){ .table = "t.csv", .multi_sep = " ", .targets = "a" };
	cr_expect_str_eq(labels_opts_clash(&o), "--multi-label and --targets: choose one");
	o.multi_sep = NULL;
	cr_expect_null(labels_opts_clash(&o));
	o.label_col = "y";
	cr_expect_str_eq(labels_opts_clash(&o), "--targets replaces --label-column: choose one");
	o = (struct labels_opts){ .regex = "^([a-z]+)\\." };
	cr_expect_null(labels_opts_clash(&o));
}
