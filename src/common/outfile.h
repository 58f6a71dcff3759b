/* outfile.h - output that appears whole or not at all: write a temporary file
 * beside the destination, then rename it over (or, without force, next to)
 * the final name. Temporary files are registered so that a fatal signal
 * removes them; each is owned by the process that created it. */
#ifndef PARIMG_OUTFILE_H
#define PARIMG_OUTFILE_H

#include <stddef.h>
#include <sys/types.h>

struct outfile {
	int fd;			/* open on tmp, or -1 */
	int slot;		/* index in the cleanup registry */
	const char *path;	/* final name (borrowed) */
	char tmp[4096];		/* temporary name in the same directory */
	void *head;		/* outfile_pin_head's copy, or NULL */
	size_t headlen;
};

/* Create a temporary file for PATH. 0, or -1 with a message printed. */
int outfile_open(struct outfile *o, const char *path);
/* Write all of BUF. 0, or -1 with a message naming the final path. */
int outfile_write(struct outfile *o, const void *buf, size_t len);
/* Keep a copy of the LEN bytes at BUF, which are the start of O's file, and
 * write them there again just before the commit: for a file whose head
 * others may have written meanwhile (load's array, whose workers map it
 * header and all). 0, or -1 with a message printed. */
int outfile_pin_head(struct outfile *o, const void *buf, size_t len);
/* Close and rename onto the final name. Without FORCE an existing file is
 * left alone and this fails with EEXIST. 0, or -1 with a message printed;
 * on failure the temporary file is removed. */
int outfile_commit(struct outfile *o, int force);
/* Commit the N outfiles of O that are open, in order, all or none: SIGINT,
 * SIGTERM and SIGHUP are held off meanwhile (and acted on after), and when
 * one fails the files already renamed are removed again and the rest
 * aborted. For outputs that belong together (an array and its labels).
 * 0, or -1 with a message printed. */
int outfile_commit_all(struct outfile **o, int n, int force);
/* Close and remove the temporary file; safe to call twice. */
void outfile_abort(struct outfile *o);

/* Quiet variants for workers, which report through the pool: they return
 * -1 with errno set and print nothing. */
int outfile_open_quiet(struct outfile *o, const char *path);
int outfile_write_quiet(struct outfile *o, const void *buf, size_t len);
int outfile_commit_quiet(struct outfile *o, int force);

/* Remove every registered temporary file owned by the calling process.
 * Async-signal-safe: for signal handlers. */
void outfile_cleanup_signal(void);

/* Remove the temporary files that process PID left in DIR (NULL: the
 * current directory) when it was killed before it could clean up. */
void outfile_remove_orphans(const char *dir, pid_t pid);

/* 1 when PATH exists (as anything, a dangling symlink included), else 0. */
int outfile_exists(const char *path);

#endif

/* Create directory DIR and any missing parents (mkdir -p). *CREATED is set
 * when DIR itself did not exist. 0, or -1 with a message printed. */
int outfile_mkdirs(const char *dir, int *created);
