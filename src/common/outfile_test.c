/* outfile_test.c - unit tests of whole-or-nothing output (outfile.h): the
 * temporary file, commit with and without force, abort, mkdirs, exists. */
#define _GNU_SOURCE
#include "common/outfile.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ut_scratch/NAME into BUF. */
static const char *at(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", ut_scratch, name);
	return buf;
}

/* The entries of DIR (not . and ..), sorted, joined by spaces. */
static void list_dir(const char *dir, char *out, size_t len)
{
	struct dirent **ents;
	int n, i;

	out[0] = '\0';
	n = scandir(dir, &ents, NULL, alphasort);
	cr_assert_geq(n, 0, "scandir %s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
			if (out[0])
				strncat(out, " ", len - strlen(out) - 1);
			strncat(out, ents[i]->d_name, len - strlen(out) - 1);
		}
		free(ents[i]);
	}
	free(ents);
}

static void assert_dir(const char *dir, const char *want)
{
	char got[4096];

	list_dir(dir, got, sizeof(got));
	cr_assert_str_eq(got, want, "%s holds '%s', not '%s'", dir, got, want);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
}

/* The text of the file at PATH, at most LEN - 1 bytes of it, into GOT. */
static void read_text(const char *path, char *got, size_t len)
{
	size_t n;
	FILE *fp = fopen(path, "r");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	n = fread(got, 1, len - 1, fp);
	got[n] = '\0';
	fclose(fp);
}

static void assert_content(const char *path, const char *want)
{
	char got[4096];

	read_text(path, got, sizeof(got));
	cr_assert_str_eq(got, want, "%s", path);
}

/* The file at PATH contains WANT. */
static void assert_contains(const char *path, const char *want)
{
	char got[4096];

	read_text(path, got, sizeof(got));
	cr_assert_not_null(strstr(got, want), "%s holds '%s', without '%s'", path, got, want);
}

TestSuite(outfile, .fini = ut_scratch_remove);

Test(outfile, commit_creates_file_and_no_temporary)
{
	struct outfile o;
	char path[256], tmpname[256], pid[32];
	const char *base;

	ut_scratch_make();
	at(path, sizeof(path), "out.bin");
	cr_assert_eq(outfile_open(&o, path), 0);
	cr_assert_geq(o.fd, 0);
	/* While open: only the hidden temporary, ".out.bin.PID.N.tmp", beside
	 * the destination. */
	cr_assert_eq(outfile_exists(path), 0);
	cr_assert_eq(strncmp(o.tmp, ut_scratch, strlen(ut_scratch)), 0, "tmp %s", o.tmp);
	base = o.tmp + strlen(ut_scratch) + 1;
	snprintf(pid, sizeof(pid), ".out.bin.%ld.", (long)getpid());
	cr_assert_eq(strncmp(base, pid, strlen(pid)), 0, "tmp %s", o.tmp);
	cr_assert_str_eq(base + strlen(base) - 4, ".tmp");
	snprintf(tmpname, sizeof(tmpname), "%s", base);
	assert_dir(ut_scratch, tmpname);

	cr_assert_eq(outfile_write(&o, "hello ", 6), 0);
	cr_assert_eq(outfile_write(&o, "world\n", 6), 0);
	cr_assert_eq(outfile_write(&o, "", 0), 0);
	cr_assert_eq(outfile_commit(&o, 0), 0);
	assert_content(path, "hello world\n");
	assert_dir(ut_scratch, "out.bin");
	/* Cleanup after the fact has nothing left to remove. */
	outfile_abort(&o);
	assert_dir(ut_scratch, "out.bin");
}

Test(outfile, large_write)
{
	enum { LEN = 3 << 20 };
	struct outfile o;
	char path[256];
	unsigned char *buf = malloc(LEN), *back = malloc(LEN);
	struct stat st;
	FILE *fp;
	size_t i;

	cr_assert_not_null(buf);
	cr_assert_not_null(back);
	for (i = 0; i < LEN; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	ut_scratch_make();
	at(path, sizeof(path), "big");
	cr_assert_eq(outfile_open(&o, path), 0);
	cr_assert_eq(outfile_write(&o, buf, LEN), 0);
	cr_assert_eq(outfile_commit(&o, 0), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, LEN);
	fp = fopen(path, "rb");
	cr_assert_not_null(fp);
	cr_assert_eq(fread(back, 1, LEN, fp), LEN);
	fclose(fp);
	cr_assert_eq(memcmp(buf, back, LEN), 0);
	free(buf);
	free(back);
}

Test(outfile, commit_without_force_keeps_existing)
{
	struct outfile o;
	struct ut_capture c;
	char path[256], *err;
	int r;

	ut_scratch_make();
	at(path, sizeof(path), "out.npy");
	write_file(path, "old\n");
	cr_assert_eq(outfile_open(&o, path), 0);
	cr_assert_eq(outfile_write(&o, "new\n", 4), 0);
	ut_capture_begin(&c);
	r = outfile_commit(&o, 0);
	err = ut_capture_end(&c);
	cr_assert_eq(r, -1);
	cr_assert_not_null(strstr(err, "out.npy: file exists"), "stderr: %s", err);
	assert_content(path, "old\n");
	assert_dir(ut_scratch, "out.npy");
	outfile_abort(&o);
	assert_dir(ut_scratch, "out.npy");
	free(err);
}

Test(outfile, quiet_commit_sets_eexist)
{
	struct outfile o;
	char path[256];

	ut_scratch_make();
	at(path, sizeof(path), "out.npy");
	write_file(path, "old\n");
	cr_assert_eq(outfile_open_quiet(&o, path), 0);
	cr_assert_eq(outfile_write_quiet(&o, "new\n", 4), 0);
	errno = 0;
	cr_assert_eq(outfile_commit_quiet(&o, 0), -1);
	cr_assert_eq(errno, EEXIST, "errno %d (%s)", errno, strerror(errno));
	assert_content(path, "old\n");
	assert_dir(ut_scratch, "out.npy");
}

/* Without force, even a dangling symlink at the destination is kept. */
Test(outfile, commit_without_force_keeps_dangling_symlink)
{
	struct outfile o;
	char path[256], target[256];
	ssize_t n;

	ut_scratch_make();
	at(path, sizeof(path), "out");
	cr_assert_eq(symlink("nowhere", path), 0);
	cr_assert_eq(outfile_open_quiet(&o, path), 0);
	cr_assert_eq(outfile_commit_quiet(&o, 0), -1);
	cr_assert_eq(errno, EEXIST);
	n = readlink(path, target, sizeof(target) - 1);
	cr_assert_eq(n, 7);
	assert_dir(ut_scratch, "out");
}

Test(outfile, commit_with_force_replaces)
{
	struct outfile o;
	char path[256];

	ut_scratch_make();
	at(path, sizeof(path), "out.npy");
	write_file(path, "old content\n");
	cr_assert_eq(outfile_open(&o, path), 0);
	cr_assert_eq(outfile_write(&o, "new\n", 4), 0);
	cr_assert_eq(outfile_commit(&o, 1), 0);
	assert_content(path, "new\n");
	assert_dir(ut_scratch, "out.npy");
}

Test(outfile, abort_leaves_nothing)
{
	struct outfile o;
	char path[256];

	ut_scratch_make();
	at(path, sizeof(path), "gone");
	cr_assert_eq(outfile_open(&o, path), 0);
	cr_assert_eq(outfile_write(&o, "data", 4), 0);
	outfile_abort(&o);
	assert_dir(ut_scratch, "");
	outfile_abort(&o);	/* twice is safe */
	assert_dir(ut_scratch, "");
	cr_assert_eq(outfile_exists(path), 0);
}

/* Abort keeps an existing destination as it was. */
Test(outfile, abort_keeps_existing)
{
	struct outfile o;
	char path[256];

	ut_scratch_make();
	at(path, sizeof(path), "keep");
	write_file(path, "kept\n");
	cr_assert_eq(outfile_open(&o, path), 0);
	cr_assert_eq(outfile_write(&o, "xx", 2), 0);
	outfile_abort(&o);
	assert_content(path, "kept\n");
	assert_dir(ut_scratch, "keep");
}

/* A path without a directory: the temporary goes in the current one. */
Test(outfile, relative_path_in_cwd)
{
	struct outfile o;
	char pid[32];

	ut_scratch_make();
	cr_assert_eq(chdir(ut_scratch), 0);
	cr_assert_eq(outfile_open(&o, "rel.txt"), 0);
	snprintf(pid, sizeof(pid), ".rel.txt.%ld.", (long)getpid());
	cr_assert_eq(strncmp(o.tmp, pid, strlen(pid)), 0, "tmp %s", o.tmp);
	cr_assert_eq(outfile_write(&o, "x\n", 2), 0);
	cr_assert_eq(outfile_commit(&o, 0), 0);
	assert_content("rel.txt", "x\n");
	assert_dir(".", "rel.txt");
	cr_assert_eq(chdir("/"), 0);
}

/* Registry slots are given back: many files one after another, and two
 * open at once get different temporary names. */
Test(outfile, many_files_and_unique_names)
{
	struct outfile a, b;
	char path[256];
	int i;

	ut_scratch_make();
	for (i = 0; i < 50; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%02d", i);
		cr_assert_eq(outfile_open_quiet(&a, at(path, sizeof(path), name)), 0,
			     "file %d: %s", i, strerror(errno));
		cr_assert_eq(outfile_write_quiet(&a, name, strlen(name)), 0);
		if (i % 2)
			outfile_abort(&a);
		else
			cr_assert_eq(outfile_commit_quiet(&a, 0), 0);
	}
	at(path, sizeof(path), "same");
	cr_assert_eq(outfile_open(&a, path), 0);
	cr_assert_eq(outfile_open(&b, path), 0);
	cr_assert_str_neq(a.tmp, b.tmp);
	cr_assert_eq(outfile_write(&a, "a", 1), 0);
	cr_assert_eq(outfile_write(&b, "b", 1), 0);
	cr_assert_eq(outfile_commit(&a, 0), 0);
	cr_assert_eq(outfile_commit_quiet(&b, 0), -1, "the second commit replaced the first");
	cr_assert_eq(errno, EEXIST);
	assert_content(path, "a");
}

/* The signal-time cleanup removes only the calling process's files: a
 * forked worker calling it leaves the parent's temporary alone. */
Test(outfile, cleanup_signal_owner_only)
{
	struct outfile o;
	char path[256], tmp[4096];
	pid_t pid;
	int st;

	ut_scratch_make();
	at(path, sizeof(path), "parent.out");
	cr_assert_eq(outfile_open(&o, path), 0);
	snprintf(tmp, sizeof(tmp), "%s", o.tmp);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		outfile_cleanup_signal();
		_exit(access(tmp, F_OK) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "a child's cleanup removed the parent's temporary file");
	cr_assert_eq(access(tmp, F_OK), 0);
	outfile_cleanup_signal();
	cr_assert_neq(access(tmp, F_OK), 0, "the owner's cleanup left %s", tmp);
	assert_dir(ut_scratch, "");
	outfile_abort(&o);
}

/* A failed write (here EFBIG from RLIMIT_FSIZE) reports the final path
 * and removes the temporary file. Run in a child: the limit is per
 * process. */
Test(outfile, write_failure_removes_temporary)
{
	char path[256], errpath[256], want[300];
	pid_t pid;
	int st;

	ut_scratch_make();
	at(path, sizeof(path), "limited");
	at(errpath, sizeof(errpath), "stderr");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static char buf[4096];
		struct rlimit rl = { 1000, 1000 };
		struct outfile o;
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(10);
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(11);
		if (outfile_open(&o, path) < 0)
			_exit(12);
		if (outfile_write(&o, buf, sizeof(buf)) != -1)
			_exit(13);
		if (errno != EFBIG)
			_exit(14);
		if (access(o.tmp, F_OK) == 0)
			_exit(15);
		outfile_abort(&o);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st), "child died");
	cr_assert_eq(WEXITSTATUS(st), 0, "child step %d failed", WEXITSTATUS(st));
	snprintf(want, sizeof(want), "parimg: %s: File too large\n", path);
	assert_contains(errpath, want);
	assert_dir(ut_scratch, "stderr");
}

Test(outfile, open_fails_in_missing_directory)
{
	struct outfile o;
	struct ut_capture c;
	char path[256], *err;
	int r;

	ut_scratch_make();
	at(path, sizeof(path), "no/such/dir/file");
	ut_capture_begin(&c);
	r = outfile_open(&o, path);
	err = ut_capture_end(&c);
	cr_assert_eq(r, -1);
	cr_assert_not_null(strstr(err, "no/such/dir/file: No such file or directory"),
			   "stderr: %s", err);
	free(err);
	outfile_abort(&o);
	assert_dir(ut_scratch, "");
}

Test(outfile, mkdirs_nested)
{
	char path[256], top[256];
	struct stat st;
	int created = -1;

	ut_scratch_make();
	at(path, sizeof(path), "a/b/c");
	cr_assert_eq(outfile_mkdirs(path, &created), 0);
	cr_assert_eq(created, 1);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	created = -1;
	cr_assert_eq(outfile_mkdirs(path, &created), 0);
	cr_assert_eq(created, 0, "an existing directory reported as created");
	/* Parents exist, the leaf does not; and a trailing slash. */
	at(path, sizeof(path), "a/b/d/");
	cr_assert_eq(outfile_mkdirs(path, &created), 0);
	cr_assert_eq(created, 1);
	cr_assert_eq(stat(path, &st), 0);
	at(top, sizeof(top), "a/b");
	assert_dir(top, "c d");
}

Test(outfile, mkdirs_relative)
{
	int created = 0;
	struct stat st;

	ut_scratch_make();
	cr_assert_eq(chdir(ut_scratch), 0);
	cr_assert_eq(outfile_mkdirs("x/y", &created), 0);
	cr_assert_eq(created, 1);
	cr_assert_eq(stat("x/y", &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(chdir("/"), 0);
}

Test(outfile, mkdirs_refuses_regular_file)
{
	char path[256], *err;
	struct ut_capture c;
	int created = -1, r1, r2;

	ut_scratch_make();
	at(path, sizeof(path), "file");
	write_file(path, "x");
	ut_capture_begin(&c);
	r1 = outfile_mkdirs(path, &created);
	at(path, sizeof(path), "file/sub");
	r2 = outfile_mkdirs(path, &created);
	err = ut_capture_end(&c);
	cr_assert_eq(r1, -1);
	cr_assert_eq(r2, -1);
	cr_assert_eq(created, 0);
	cr_assert_not_null(strstr(err, "/file: not a directory"), "stderr: %s", err);
	cr_assert_not_null(strstr(err, "/file/sub: "), "stderr: %s", err);
	free(err);
}

Test(outfile, exists)
{
	char path[256];

	ut_scratch_make();
	cr_assert_eq(outfile_exists(ut_scratch), 1);
	at(path, sizeof(path), "file");
	cr_assert_eq(outfile_exists(path), 0);
	write_file(path, "x");
	cr_assert_eq(outfile_exists(path), 1);
	at(path, sizeof(path), "dangling");
	cr_assert_eq(symlink("nowhere", path), 0);
	cr_assert_eq(outfile_exists(path), 1, "a dangling symlink exists");
	at(path, sizeof(path), "missing/file");
	cr_assert_eq(outfile_exists(path), 0);
}

/* Several outputs that belong together: all renamed, in order, skipping
 * those never opened. */
Test(outfile, commit_all_commits_every_open_one)
{
	struct outfile a, b, unused = { .fd = -1, .slot = -1 };
	struct outfile *all[] = { &a, &unused, &b };
	char pa[256], pb[256];

	ut_scratch_make();
	cr_assert_eq(outfile_open(&a, at(pa, sizeof(pa), "y.npy")), 0);
	cr_assert_eq(outfile_open(&b, at(pb, sizeof(pb), "x.npy")), 0);
	cr_assert_eq(outfile_write(&a, "labels\n", 7), 0);
	cr_assert_eq(outfile_write(&b, "array\n", 6), 0);
	cr_assert_eq(outfile_commit_all(all, 3, 0), 0);
	assert_content(pa, "labels\n");
	assert_content(pb, "array\n");
	assert_dir(ut_scratch, "x.npy y.npy");
}

/* The last rename fails (its name appeared meanwhile, no force): the one
 * already renamed is removed again, and no temporary file is left. */
Test(outfile, commit_all_is_all_or_nothing)
{
	struct outfile a, b;
	struct outfile *all[] = { &a, &b };
	struct ut_capture c;
	char pa[256], pb[256], *err;
	int r;

	ut_scratch_make();
	cr_assert_eq(outfile_open(&a, at(pa, sizeof(pa), "y.npy")), 0);
	cr_assert_eq(outfile_open(&b, at(pb, sizeof(pb), "x.npy")), 0);
	cr_assert_eq(outfile_write(&a, "labels\n", 7), 0);
	cr_assert_eq(outfile_write(&b, "array\n", 6), 0);
	write_file(pb, "someone else's\n");
	ut_capture_begin(&c);
	r = outfile_commit_all(all, 2, 0);
	err = ut_capture_end(&c);
	cr_assert_eq(r, -1);
	cr_assert_not_null(strstr(err, "x.npy: file exists"), "stderr: %s", err);
	assert_content(pb, "someone else's\n");
	assert_dir(ut_scratch, "x.npy");
	free(err);
}

