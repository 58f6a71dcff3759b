/* crash_preload.c - an LD_PRELOAD shim for tests/cli_fault_test.py only. It
 * wraps open() and, for marked paths, makes the calling process die the way a
 * decoder does on a malicious file, since parimg guards the stb crashes known
 * today and no real file can trigger one:
 *   "CRASHME" in the path: raise(SIGSEGV)
 *   "ABORTME" in the path: abort()            (SIGABRT)
 *   "KILLME" in a path opened with O_CREAT: create the file, then SIGKILL
 *            oneself (a worker killed from outside while its temp file exists)
 *   "DENYME" in a path given to opendir(): fail with EACCES (an unreadable
 *            folder; the tests run as root, whom chmod 000 does not stop)
 *   "NOREAD" in a path opened without O_CREAT: fail with EACCES (an
 *            unreadable file, for the same reason)
 *   "NOSTATFS" in the path of a descriptor given to fstatvfs(): fail with
 *            ENOSYS (a filesystem that says nothing of its free space:
 *            load's workers are then the only check of a full disk)
 *   "NOFALLOC" in the path of a descriptor given to fallocate(): fail with
 *            EOPNOTSUPP (a filesystem without it: load's parent then
 *            reserves the whole output, glibc's posix_fallocate writing)
 * A confined worker opens nothing: its parent opens its inputs and hands them
 * over (pool_input). So in the parent, the process the shim was loaded into,
 * a marked path only has its file's device and inode noted in a table shared
 * with the workers, and a worker dies in fstat(), which input_read_fd calls
 * on each input, when the file is a marked one.
 * Every other call goes to the real function found with dlsym(RTLD_NEXT).
 * Built by the test itself: cc -shared -fPIC -o crash_preload.so
 * tests/crash_preload.c -ldl */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

#define NMARKS 256

static struct mark {
	dev_t dev;
	ino_t ino;
	int sig;
} *marks;		/* shared: the parent notes, its workers look up */
static pid_t parent;	/* the process the shim was loaded into */

__attribute__((constructor)) static void init(void)
{
	parent = getpid();
	marks = mmap(NULL, sizeof(*marks) * NMARKS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (marks == MAP_FAILED)
		marks = NULL;
}

/* The signal a marked PATH dies with, or 0. */
static int marked(const char *path)
{
	if (!path)
		return 0;
	if (strstr(path, "CRASHME"))
		return SIGSEGV;
	if (strstr(path, "ABORTME"))
		return SIGABRT;
	return 0;
}

static void die_with(int sig)
{
	if (sig == SIGSEGV)
		raise(SIGSEGV);
	if (sig == SIGABRT)
		abort();
}

/* Die before opening PATH if it is marked and this is a worker; return to
 * go on. */
static void before(const char *path)
{
	if (getpid() != parent)
		die_with(marked(path));
}

/* In the parent: note the marked file just opened as FD. */
static void note(const char *path, int fd)
{
	struct stat st;
	int sig = marked(path), k;

	if (!sig || fd < 0 || !marks || getpid() != parent || fstat(fd, &st) < 0)
		return;
	for (k = 0; k < NMARKS; k++)
		if (!marks[k].sig || (marks[k].ino == st.st_ino && marks[k].dev == st.st_dev)) {
			marks[k].dev = st.st_dev;
			marks[k].ino = st.st_ino;
			marks[k].sig = sig;
			return;
		}
}

/* In a worker: die on a marked input. */
int fstat(int fd, struct stat *st)
{
	int (*real)(int, struct stat *) = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
	int r = real(fd, st), k;

	if (r == 0 && marks && getpid() != parent)
		for (k = 0; k < NMARKS && marks[k].sig; k++)
			if (marks[k].ino == st->st_ino && marks[k].dev == st->st_dev)
				die_with(marks[k].sig);
	return r;
}

/* After a successful O_CREAT open of a "KILLME" path: the file exists and
 * nobody in this process will ever remove it. */
static void after(const char *path, int flags, int fd)
{
	if (fd >= 0 && (flags & O_CREAT) && path && strstr(path, "KILLME"))
		kill(getpid(), SIGKILL);
}

/* The mode argument exists only when the flags ask for it. */
static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

static int do_open(const char *name, const char *path, int flags, mode_t mode)
{
	open_fn real = (open_fn)dlsym(RTLD_NEXT, name);
	int fd;

	before(path);
	if (path && !(flags & O_CREAT) && strstr(path, "NOREAD")) {
		errno = EACCES;
		return -1;
	}
	fd = real(path, flags, mode);
	note(path, fd);
	after(path, flags, fd);
	return fd;
}

static int do_openat(const char *name, int dirfd, const char *path, int flags, mode_t mode)
{
	openat_fn real = (openat_fn)dlsym(RTLD_NEXT, name);
	int fd;

	before(path);
	if (path && !(flags & O_CREAT) && strstr(path, "NOREAD")) {
		errno = EACCES;
		return -1;
	}
	fd = real(dirfd, path, flags, mode);
	note(path, fd);
	after(path, flags, fd);
	return fd;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open("open64", path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_openat("openat64", dirfd, path, flags, mode);
}

DIR *opendir(const char *path)
{
	DIR *(*real)(const char *) = (DIR * (*)(const char *))dlsym(RTLD_NEXT, "opendir");

	if (strstr(path, "DENYME")) {
		errno = EACCES;
		return NULL;
	}
	return real(path);
}

/* In the parent: whether the path of descriptor FD holds MARK (a
 * confined worker may not readlink, and its parent's answer is the one
 * that counts). */
static int fd_marked(int fd, const char *mark)
{
	char link[64], path[4096];
	ssize_t n;

	if (getpid() != parent)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, mark) != NULL;
}

int fstatvfs(int fd, struct statvfs *buf)
{
	int (*real)(int, struct statvfs *) =
		(int (*)(int, struct statvfs *))dlsym(RTLD_NEXT, "fstatvfs");

	if (fd_marked(fd, "NOSTATFS")) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf);
}

/* Only the parent's: its probe decides; a worker's then goes through. */
int fallocate(int fd, int mode, off_t off, off_t len)
{
	int (*real)(int, int, off_t, off_t) =
		(int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");

	if (fd_marked(fd, "NOFALLOC")) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return real(fd, mode, off, len);
}
