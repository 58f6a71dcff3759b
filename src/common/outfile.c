/* outfile.c - temporary file then rename, as redis's rdbSave and rsync do.
 * A small fixed registry of live temporary names lets a signal handler unlink
 * them without allocating; a slot records its owner's pid, so a forked worker
 * never removes its parent's file, nor the parent a worker's. */
#define _GNU_SOURCE
#include "common/outfile.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NSLOTS 48	/* load --split: 5 files a part (--ragged, --stats), 8 parts, the classes */

static struct {
	volatile pid_t owner;		/* 0 when the slot is free */
	char path[4096];
} slots[NSLOTS];

static pid_t cached_pid;	/* getpid(), cached; 0 after a fork */

static void forget_pid(void)
{
	cached_pid = 0;
}

/* This process's pid without a system call per file: gen makes one
 * temporary file per image. A fork handler clears the cache in the child. */
static pid_t my_pid(void)
{
	static int registered;

	if (!registered) {
		pthread_atfork(NULL, NULL, forget_pid);
		registered = 1;
	}
	if (!cached_pid)
		cached_pid = getpid();
	return cached_pid;
}

/* Claim a registry slot for O's temporary name. The name is stored before
 * the owner, which is what the signal handler tests. */
static int slot_claim(struct outfile *o)
{
	int i;

	for (i = 0; i < NSLOTS; i++) {
		if (slots[i].owner == 0) {
			memcpy(slots[i].path, o->tmp, sizeof(slots[i].path));
			__atomic_store_n(&slots[i].owner, my_pid(), __ATOMIC_SEQ_CST);
			return i;
		}
	}
	errno = EMFILE;
	return -1;
}

static void slot_release(int i)
{
	if (i >= 0)
		__atomic_store_n(&slots[i].owner, 0, __ATOMIC_SEQ_CST);
}

void outfile_cleanup_signal(void)
{
	pid_t self = getpid();
	int i;

	for (i = 0; i < NSLOTS; i++)
		if (slots[i].owner == self)
			unlink(slots[i].path);
}

int outfile_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * The temporary name is ".BASE.PID.N.tmp" in PATH's directory: hidden, so a
 * later "parimg load DIR" skips it, and unique per process, so workers
 * writing into one directory never collide. O_EXCL guards against a stale
 * file left by a crash with the same pid.
 */
int outfile_open_quiet(struct outfile *o, const char *path)
{
	static unsigned long counter;
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int tries, n, saved;

	o->fd = -1;
	o->slot = -1;
	o->path = path;
	o->head = NULL;
	o->headlen = 0;
	for (tries = 0; tries < 100; tries++) {
		n = snprintf(o->tmp, sizeof(o->tmp), "%.*s.%s.%ld.%lu.tmp", dirlen,
			     path, path + dirlen, (long)my_pid(), counter++);
		if (n < 0 || n >= (int)sizeof(o->tmp)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		/* Registered before it exists, so no signal can come between
		 * creating the file and knowing to remove it; a name carrying
		 * our pid is ours or a dead run's, and removing either is fine. */
		if ((o->slot = slot_claim(o)) < 0)
			return -1;
		o->fd = open(o->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (o->fd >= 0)
			return 0;
		saved = errno;
		slot_release(o->slot);
		o->slot = -1;
		errno = saved;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int outfile_write_quiet(struct outfile *o, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Move the finished temporary file to its final name. Without FORCE,
 * renameat2(RENAME_NOREPLACE) refuses an existing target atomically; on a
 * filesystem without it, link(2) gives the same guarantee. */
static int install(const char *tmp, const char *path, int force)
{
	if (force)
		return rename(tmp, path);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(tmp, path) < 0)
		return -1;
	unlink(tmp);
	return 0;
}

int outfile_pin_head(struct outfile *o, const void *buf, size_t len)
{
	free(o->head);
	if (!(o->head = malloc(len ? len : 1))) {
		error_errno("%s", o->path);
		outfile_abort(o);
		return -1;
	}
	memcpy(o->head, buf, len);
	o->headlen = len;
	return 0;
}

/* Write the pinned head (if any) back over the start of O's file. */
static int restore_head(struct outfile *o)
{
	size_t done = 0;

	while (o->head && done < o->headlen) {
		ssize_t n = pwrite(o->fd, (char *)o->head + done, o->headlen - done, (off_t)done);

		if (n < 0 && errno != EINTR)
			return -1;
		done += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

static void unpin(struct outfile *o)
{
	free(o->head);
	o->head = NULL;
	o->headlen = 0;
}

int outfile_commit_quiet(struct outfile *o, int force)
{
	int fd = o->fd, saved, r = restore_head(o);

	o->fd = -1;
	unpin(o);
	if (r < 0) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	if (r < 0 || close(fd) < 0 || install(o->tmp, o->path, force) < 0) {
		saved = errno;
		unlink(o->tmp);
		slot_release(o->slot);
		o->slot = -1;
		errno = saved;
		return -1;
	}
	slot_release(o->slot);
	o->slot = -1;
	return 0;
}

void outfile_abort(struct outfile *o)
{
	int saved = errno;

	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	unpin(o);
	if (o->slot >= 0) {
		unlink(o->tmp);
		slot_release(o->slot);
		o->slot = -1;
	}
	errno = saved;
}

int outfile_open(struct outfile *o, const char *path)
{
	if (outfile_open_quiet(o, path) < 0)
		return error_errno("%s", path);
	return 0;
}

int outfile_write(struct outfile *o, const void *buf, size_t len)
{
	if (outfile_write_quiet(o, buf, len) < 0) {
		error_errno("%s", o->path);
		outfile_abort(o);
		return -1;
	}
	return 0;
}

int outfile_commit(struct outfile *o, int force)
{
	if (outfile_commit_quiet(o, force) < 0) {
		if (errno == EEXIST)
			return error("%s: file exists (use -f to replace it)", o->path);
		return error_errno("%s", o->path);
	}
	return 0;
}

int outfile_commit_all(struct outfile **o, int n, int force)
{
	sigset_t fatal, old;
	int i, r = 0;

	sigemptyset(&fatal);
	sigaddset(&fatal, SIGINT);
	sigaddset(&fatal, SIGTERM);
	sigaddset(&fatal, SIGHUP);
	sigprocmask(SIG_BLOCK, &fatal, &old);
	for (i = 0; i < n; i++) {
		if (o[i]->fd < 0)
			continue;	/* never opened: no such output */
		if (outfile_commit(o[i], force) < 0) {
			r = -1;
			break;
		}
	}
	if (r < 0) {
		while (--i >= 0)
			if (o[i]->path && o[i]->slot < 0)
				unlink(o[i]->path);
		for (i = 0; i < n; i++)
			outfile_abort(o[i]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

int outfile_mkdirs(const char *dir, int *created)
{
	char path[4096];
	struct stat st;
	size_t i, len = strlen(dir);

	*created = 0;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return error("%s: not a directory", dir);
		return 0;
	}
	if (len >= sizeof(path))
		return error("%s: %s", dir, strerror(ENAMETOOLONG));
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0777) < 0 && errno != EEXIST)
			return error_errno("%s", path);
		path[i] = dir[i];
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return error("%s: not a directory", dir);
	*created = 1;
	return 0;
}

/* Temporary names are ".BASE.PID.N.tmp": match the PID and the shape. */
void outfile_remove_orphans(const char *dir, pid_t pid)
{
	char mark[32], path[4096];
	struct dirent *de;
	DIR *d = opendir(dir ? dir : ".");
	int n = snprintf(mark, sizeof(mark), ".%ld.", (long)pid);

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *name = de->d_name, *at = strstr(name, mark);
		size_t len = strlen(name);

		if (name[0] != '.' || !at || len < 4 || strcmp(name + len - 4, ".tmp") != 0 ||
		    strspn(at + n, "0123456789") != (size_t)(name + len - 4 - (at + n)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", name);
		unlink(path);
	}
	closedir(d);
}
