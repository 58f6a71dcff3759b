/* load_early_test.c - unit tests of load_early.c: speculators started on
 * a tar written here, waited for (PARIMG_EARLY=wait), give each image
 * member's row exactly as row_decode makes it from the member's bytes;
 * a broken member, a non-image and a row of another size are left to the
 * workers; nothing is started at -j1 or without the shape; no speculator
 * is left once it ends. */
#define _GNU_SOURCE
#include "cmd/load.h"
#include "cmd/opt.h"
#include "inputs/arch.h"
#include "inputs/filelist.h"
#include "image/row.h"
#include "common/unit_test.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define W 8
#define H 6

/* A P6 image of W x H whose samples start at SEED. */
static size_t ppm(unsigned char *p, int seed)
{
	int n = sprintf((char *)p, "P6\n%d %d\n255\n", W, H), k;

	for (k = 0; k < W * H * 3; k++)
		p[n + k] = (unsigned char)(seed + 7 * k);
	return (size_t)n + W * H * 3;
}

static void add(struct archive *a, const char *name, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	cr_assert_eq(archive_write_header(a, e), ARCHIVE_OK);
	cr_assert_eq(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
}

/* t.tar.gz: img_2.ppm, img_10.ppm, notes.txt, bad.ppm (cut short),
 * sub/img_1.ppm. */
static char *write_tar(void)
{
	static char path[128];
	unsigned char p[512];
	struct archive *a = archive_write_new();
	size_t n;

	snprintf(path, sizeof(path), "%s/t.tar.gz", ut_scratch);
	cr_assert_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	cr_assert_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	add(a, "img_2.ppm", p, ppm(p, 1));
	add(a, "img_10.ppm", p, ppm(p, 2));
	add(a, "notes.txt", "text\n", 5);
	n = ppm(p, 3);
	add(a, "bad.ppm", p, n / 2);
	add(a, "./sub//img_1.ppm", p, ppm(p, 4));
	cr_assert_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return path;
}

static void setup(struct load *l, struct opt_common *c, unsigned jobs)
{
	memset(l, 0, sizeof(*l));
	l->spec.w = W;
	l->spec.h = H;
	l->spec.channels = 3;
	l->spec.resize = 1;
	l->spec.dtype = TENSOR_U1;
	l->spec.filter = RESIZE_BILINEAR;
	l->spec.max_pixels = 1 << 20;
	l->shard.n = 1;
	l->sandbox = SANDBOX_AUTO;
	opt_common_init(c);
	c->jobs = jobs;
	l->row_bytes = row_bytes(&l->spec);
}

static int children(void)
{
	int n = 0;

	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		n++;
	return errno == ECHILD ? n : n + 1;
}

TestSuite(load_early, .init = ut_scratch_make, .fini = ut_scratch_remove);

Test(load_early, rows_as_row_decode_makes_them)
{
	struct load l;
	struct opt_common c;
	char *path = write_tar();
	unsigned char row[W * H * 3], want[W * H * 3], p[512];
	struct row_scratch scratch = { 0 };
	char why[256];
	size_t i, got = 0;
	uint64_t slots;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("one processor: no speculator");
	setenv("PARIMG_EARLY", "wait", 1);
	setup(&l, &c, 2);
	load_early_start(&l, &c, &path, 1);
	cr_assert_not_null(l.early, "no speculator started");
	cr_assert_eq(arch_add(&l.files, path), 0);
	cr_assert_eq(l.files.n, 4, "%zu rows", l.files.n);
	load_early_stop(&l);
	for (i = 0; i < l.files.n; i++) {
		const char *name = l.files.paths[i] + strlen(path) + 1;
		int seed = strcmp(name, "img_2.ppm") == 0 ? 1 : strcmp(name, "img_10.ppm") == 0 ? 2
			   : strcmp(name, "sub/img_1.ppm") == 0 ? 4 : 3;
		int r = load_early_row(&l, i, row);

		if (seed == 3) {
			cr_assert_eq(r, 0, "the cut member was speculated");
			continue;
		}
		cr_assert_eq(r, 1, "%s not speculated", name);
		cr_assert_eq(row_decode(&l.spec, p, ppm(p, seed), want, &scratch, why, sizeof(why)), 0,
			     "%s", why);
		cr_assert_eq(memcmp(row, want, sizeof(row)), 0, "%s: another row", name);
		got++;
	}
	cr_assert_eq(got, 3);
	/* Each image member once: img_2, img_10, bad and sub/img_1. */
	cr_assert_eq(load_early_used(&l, &slots), 3);
	cr_assert_eq(slots, 4, "%" PRIu64 " slots", slots);
	/* A row of another size is never copied. */
	l.row_bytes--;
	for (i = 0; i < l.files.n; i++)
		cr_assert_eq(load_early_row(&l, i, row), 0);
	load_early_end(&l);
	cr_assert_null(l.early);
	cr_assert_eq(children(), 0, "a speculator is left");
	filelist_free(&l.files);
	arch_free();
}

Test(load_early, nothing_started_without_the_shape_or_a_second_job)
{
	struct load l;
	struct opt_common c;
	char *path = write_tar(), *list;

	unsetenv("PARIMG_EARLY");
	setup(&l, &c, 1);
	load_early_start(&l, &c, &path, 1);
	cr_assert_null(l.early, "-j1");
	setup(&l, &c, 2);
	l.spec.resize = 0;
	load_early_start(&l, &c, &path, 1);
	cr_assert_null(l.early, "no --resize");
	setup(&l, &c, 2);
	l.spec.ragged = 1;
	load_early_start(&l, &c, &path, 1);
	cr_assert_null(l.early, "--ragged");
	setup(&l, &c, 2);
	setenv("PARIMG_EARLY", "off", 1);
	load_early_start(&l, &c, &path, 1);
	cr_assert_null(l.early, "PARIMG_EARLY=off");
	unsetenv("PARIMG_EARLY");
	/* Not an archive: a folder. */
	list = ut_scratch;
	setup(&l, &c, 2);
	load_early_start(&l, &c, &list, 1);
	cr_assert_null(l.early, "a folder");
	cr_assert_eq(children(), 0);
}
