/* sandbox.h - confinement of the decoding workers: no-new-privs, rlimits,
 * Landlock where the kernel has it, and a seccomp allow-list. A confined
 * worker can read the descriptors it is handed (and, given roots, open
 * files beneath them read-only), use memory, talk to its parent over one
 * socket and touch its output file's space; nothing else. */
#ifndef PARIMG_SANDBOX_H
#define PARIMG_SANDBOX_H

#include <stddef.h>

/* --sandbox: confine when the kernel can (warn once if not), confine or
 * fail, or never confine. */
enum sandbox_mode { SANDBOX_AUTO, SANDBOX_REQUIRE, SANDBOX_OFF };
extern const char *const sandbox_mode_names[];	/* "auto", "require", "off", NULL */

/* The exit status of a worker stopped by the filter (its SIGSYS handler
 * recorded the call first). Out of the range the workers otherwise use. */
#define SANDBOX_EXIT_BLOCKED 125

/* In the parent, before starting workers: 1 if they are to be confined, 0
 * if not (OFF, or AUTO on a kernel without seccomp filters, after one
 * warning), -1 after an error (REQUIRE without them). */
int sandbox_resolve(enum sandbox_mode m);

/* What a worker keeps once confined. */
#define SANDBOX_KEEP_MAX 32	/* kept descriptors, at most */

struct sandbox_spec {
	int channel;		/* its socket to the parent: send, recv, write */
	int output;		/* fallocate allowed on it (mode 0, within its
				 * size: RLIMIT_FSIZE); -1 for none */
	unsigned max_fds;	/* descriptors it may be handed at once */
	/* Descriptors it keeps, readable (read, pread, lseek) like the ones
	 * handed over: NKEEP of them at KEEP (at most SANDBOX_KEEP_MAX),
	 * moved down beside the channel, their new numbers written back. */
	int *keep;
	size_t nkeep;
	volatile int *blocked;	/* the SIGSYS handler stores the call's number + 1 here */
	/* Directories beneath which it may open files itself, read-only
	 * (Landlock's READ_FILE), or none (NROOTS 0). Only where
	 * sandbox_landlock_abi() says Landlock is there: without it,
	 * sandbox_enter refuses roots rather than leave opens unguarded. */
	const char *const *roots;
	size_t nroots;
	int dirfd;		/* set by sandbox_enter: with roots, the working
				 * directory (O_PATH), the only dirfd its openat
				 * may name; else -1 */
};

/* The Landlock ABI this kernel has (1 and up), or 0 without Landlock. */
int sandbox_landlock_abi(void);

/* In a worker, after its setup and before the first untrusted byte: close
 * every descriptor above 2 but S's, move those down from 3 on, updating
 * S->channel, S->output and S->keep (with roots, open S->dirfd), set no-new-privs,
 * RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE and RLIMIT_FSIZE (the output's
 * size), add a Landlock ruleset that allows no file access but reading
 * beneath S's roots (skipped quietly where the kernel has none and there
 * are no roots) and load the seccomp filter, which with roots allows
 * openat(S->dirfd, ..., read-only flags). A call outside it raises SIGSYS, whose handler records the call
 * and _exits with SANDBOX_EXIT_BLOCKED. 0, or -1 with WHY. */
int sandbox_enter(struct sandbox_spec *s, char *why, size_t whylen);

/* The name of system call NR of this architecture, e.g. "openat", into
 * BUF; "number NR" when it has none. */
void sandbox_syscall_name(long nr, char *buf, size_t len);

#endif
