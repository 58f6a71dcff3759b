/* dataset_test.c - unit tests of class folders (dataset.h): ImageFolder's
 * order on a small tree, hidden names, an empty class, a link loop, and a
 * shuffle that keeps each label with its path. */
#include "inputs/dataset.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void make(const char *rel)
{
	char path[256];
	size_t len = strlen(rel);

	snprintf(path, sizeof(path), "%s/%s", ut_scratch, rel);
	if (rel[len - 1] == '/') {
		path[strlen(path) - 1] = '\0';
		cr_assert(mkdir(path, 0777) == 0 || errno == EEXIST, "mkdir %s", path);
	} else {
		FILE *f = fopen(path, "w");

		cr_assert_not_null(f, "%s", path);
		fclose(f);
	}
}

static void tree(void)
{
	static const char *const spec[] = {
		"b/", "b/z.png", "b/sub/", "b/sub/a.png", "b/sub-x/", "b/sub-x/c.png",
		"b/sub/deep/", "b/sub/deep/d.png", "b/img_10.png", "b/img_9.png", "b/notes.txt",
		"B/", "B/x.png", "a/", "a/.hidden.png", "a/.cache/", "a/.cache/y.png", "a/y.PNG",
		".git/", ".git/z.png", "top.png", NULL,
	};
	size_t i;

	ut_scratch_make();
	for (i = 0; spec[i]; i++)
		make(spec[i]);
}

/* FILES hold ut_scratch + WANT[i] with label LABELS[i]. */
static void assert_rows(const struct filelist *files, const struct dataset *ds,
			const char *const *want, const int64_t *labels)
{
	size_t i, n = strlen(ut_scratch);

	for (i = 0; want[i]; i++) {
		cr_assert_lt(i, files->n, "only %zu rows", files->n);
		cr_assert(strncmp(files->paths[i], ut_scratch, n) == 0 &&
			  strcmp(files->paths[i] + n, want[i]) == 0,
			  "row %zu: %s, want %s", i, files->paths[i], want[i]);
		cr_assert_eq(ds->labels[i], labels[i], "row %zu: label %lld", i,
			     (long long)ds->labels[i]);
	}
	cr_assert_eq(files->n, i, "%zu rows, want %zu", files->n, i);
}

Test(dataset_scan, image_folder_order, .fini = ut_scratch_remove)
{
	static const char *const want[] = {
		"/B/x.png", "/a/y.PNG", "/b/img_10.png", "/b/img_9.png", "/b/z.png",
		"/b/sub/a.png", "/b/sub-x/c.png", "/b/sub/deep/d.png", NULL,
	};
	static const int64_t labels[] = { 0, 1, 2, 2, 2, 2, 2, 2 };
	struct filelist files = { 0 };
	struct dataset ds = { 0 };

	tree();
	cr_assert_eq(dataset_scan(&ds, &files, ut_scratch, ORDER_NAME), 0);
	cr_assert_eq(ds.nclasses, 3);
	cr_assert_str_eq(ds.classes[0], "B");
	cr_assert_str_eq(ds.classes[1], "a");
	cr_assert_str_eq(ds.classes[2], "b");
	assert_rows(&files, &ds, want, labels);
	filelist_free(&files);
	dataset_free(&ds);
}

Test(dataset_scan, natural_order_within_folders, .fini = ut_scratch_remove)
{
	static const char *const want[] = {
		"/B/x.png", "/a/y.PNG", "/b/img_9.png", "/b/img_10.png", "/b/z.png",
		"/b/sub/a.png", "/b/sub-x/c.png", "/b/sub/deep/d.png", NULL,
	};
	static const int64_t labels[] = { 0, 1, 2, 2, 2, 2, 2, 2 };
	struct filelist files = { 0 };
	struct dataset ds = { 0 };

	tree();
	cr_assert_eq(dataset_scan(&ds, &files, ut_scratch, ORDER_NATURAL), 0);
	assert_rows(&files, &ds, want, labels);
	filelist_free(&files);
	dataset_free(&ds);
}

Test(dataset_scan, empty_class_and_loop_refused, .fini = ut_scratch_remove)
{
	struct filelist files = { 0 };
	struct dataset ds = { 0 };
	struct ut_capture cap;
	char link[256], *err;

	tree();
	make("c/");
	make("c/notes.txt");
	ut_capture_begin(&cap);
	cr_assert_eq(dataset_scan(&ds, &files, ut_scratch, ORDER_NAME), -1);
	err = ut_capture_end(&cap);
	cr_assert(strstr(err, "/c: no image files in this class folder"), "%s", err);
	free(err);
	filelist_free(&files);
	dataset_free(&ds);

	make("c/x.png");
	snprintf(link, sizeof(link), "%s/b/sub/deep/up", ut_scratch);
	cr_assert_eq(symlink("../..", link), 0);
	ut_capture_begin(&cap);
	cr_assert_eq(dataset_scan(&ds, &files, ut_scratch, ORDER_NAME), -1);
	err = ut_capture_end(&cap);
	cr_assert(strstr(err, "/b/sub/deep/up: a symbolic link loop"), "%s", err);
	free(err);
	filelist_free(&files);
	dataset_free(&ds);
}

Test(dataset_shuffle, labels_stay_with_their_paths, .fini = ut_scratch_remove)
{
	struct filelist files = { 0 }, sorted = { 0 };
	struct dataset ds = { 0 }, ref = { 0 };
	size_t i, k, moved = 0;

	tree();
	cr_assert_eq(dataset_scan(&ds, &files, ut_scratch, ORDER_NAME), 0);
	cr_assert_eq(dataset_scan(&ref, &sorted, ut_scratch, ORDER_NAME), 0);
	cr_assert_eq(dataset_shuffle(&ds, &files, 5), 0);
	cr_assert_eq(files.n, sorted.n);
	for (i = 0; i < files.n; i++) {
		for (k = 0; k < sorted.n && strcmp(sorted.paths[k], files.paths[i]) != 0; k++)
			;
		cr_assert_lt(k, sorted.n, "%s not in the sorted rows", files.paths[i]);
		cr_assert_eq(ds.labels[i], ref.labels[k], "%s lost its label", files.paths[i]);
		moved += k != i;
	}
	cr_assert_gt(moved, 0, "seed 5 left every row in place");
	filelist_free(&files);
	filelist_free(&sorted);
	dataset_free(&ds);
	dataset_free(&ref);
}

/* Multi-hot rows and targets (labels.c's) move with their paths through
 * a shuffle, and dataset_keep drops rows of all three alike. */
Test(dataset_shuffle, rows_of_columns_stay_with_their_paths)
{
	struct filelist files = { 0 };
	struct dataset ds = { 0 };
	unsigned char keep[40];
	size_t i, n = 40;
	char name[16];

	ds.cols = 2;
	ds.multi = malloc(n * 2);
	ds.targets = malloc(n * 2 * sizeof(float));
	cr_assert(ds.multi && ds.targets);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		cr_assert_eq(filelist_push(&files, strdup(name)), 0);
		ds.multi[2 * i] = (unsigned char)i;
		ds.multi[2 * i + 1] = (unsigned char)(i + 100);
		ds.targets[2 * i] = (float)i / 4;
		ds.targets[2 * i + 1] = -(float)i;
	}
	cr_assert_eq(dataset_shuffle(&ds, &files, 9), 0);
	for (i = 0; i < n; i++)
		keep[i] = atoi(files.paths[i]) % 3 != 0;
	dataset_keep(&ds, &files, keep);
	cr_assert_eq(files.n, 26);
	for (i = 0; i < files.n; i++) {
		int v = atoi(files.paths[i]);

		cr_assert_neq(v % 3, 0);
		cr_assert_eq(ds.multi[2 * i], v);
		cr_assert_eq(ds.multi[2 * i + 1], v + 100);
		cr_assert_eq(ds.targets[2 * i], (float)v / 4);
		cr_assert_eq(ds.targets[2 * i + 1], -(float)v);
	}
	filelist_free(&files);
	dataset_free(&ds);
}
