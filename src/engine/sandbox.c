/* sandbox.c - lock a decoding worker down once it is set up (as arcan's
 * aloadimage, file(1)'s enable_sandbox_full and xz's sandbox.c do): what is
 * left is reading the descriptors its parent hands it (and, where Landlock
 * is there, opening files beneath its input roots read-only), memory, its
 * socket to the parent, its output file's space, and exit. The one file
 * that includes libseccomp's and Landlock's headers. */
#define _GNU_SOURCE
#include "engine/sandbox.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define UNDER_SANITIZER 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#endif

const char *const sandbox_mode_names[] = { "auto", "require", "off", NULL };

int sandbox_resolve(enum sandbox_mode m)
{
	if (m == SANDBOX_OFF)
		return 0;
	/* A kernel with seccomp filters fails a NULL filter with EFAULT, one
	 * without them with EINVAL; libseccomp must see them too. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0) < 0 && errno == EFAULT &&
	    seccomp_api_get() >= 1)
		return 1;
	if (m == SANDBOX_REQUIRE)
		return error("--sandbox=require: this kernel has no seccomp filters; "
			     "the workers cannot be confined");
	warnx("warning: this kernel has no seccomp filters: the workers run unconfined "
	      "(--sandbox=off to silence this, --sandbox=require to refuse)");
	return 0;
}

static volatile int *blocked_out;

/* SIGSYS from the filter: record which call it was, for the parent's
 * report, and go. Async-signal-safe: one store and _exit. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (blocked_out)
		__atomic_store_n(blocked_out, si->si_syscall + 1, __ATOMIC_SEQ_CST);
	_exit(SANDBOX_EXIT_BLOCKED);
}

/* Close every descriptor above 2 except the N at KEEP (-1s ignored). */
static void close_others(const int *keep, size_t n)
{
	int from = 3;
	size_t k;

	for (;;) {
		int next = INT_MAX, to;

		for (k = 0; k < n; k++)	/* the lowest kept one from FROM on */
			if (keep[k] >= from && keep[k] < next)
				next = keep[k];
		to = next == INT_MAX ? INT_MAX : next - 1;
		if (to >= from && syscall(SYS_close_range, from, to, 0) < 0) {
			int fd, top = to < 65536 ? to : 65536;	/* no close_range: by hand */

			for (fd = from; fd <= top; fd++)
				close(fd);
		}
		if (next == INT_MAX)
			break;
		from = next + 1;
	}
}

/* Landlock's ruleset attribute as of ABI 6; a kernel takes the prefix its
 * ABI knows. Debian 12's header stops at ABI 2, so the later bits are
 * spelled out here. */
struct ll_ruleset {
	uint64_t fs, net, scoped;
};
#define LL_FS_ABI1 ((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)	/* ABI 3 */
#define LL_NET_TCP 3ULL			/* ABI 4: BIND_TCP, CONNECT_TCP */
#define LL_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5 */
#define LL_SCOPED 3ULL			/* ABI 6: abstract Unix sockets, signals */

int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 1 ? 0 : (int)abi;
}

/* Allow reading regular files beneath directory ROOT in ruleset FD. */
static int add_root(int fd, const char *root, char *why, size_t whylen)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE };
	int r;

	if ((pb.parent_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "landlock: %s: %s", root, strerror(errno));
		return -1;
	}
	r = (int)syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	if (r < 0)
		snprintf(why, whylen, "landlock: %s: %s", root, strerror(errno));
	close(pb.parent_fd);
	return r;
}

/* A Landlock ruleset that handles every access the kernel knows and allows
 * none but reading files beneath S's roots: no other path can be opened,
 * no TCP port bound or connected to, no signal sent out of the worker and
 * no abstract socket reached, even if the filter had a hole. Quietly
 * nothing on a kernel without Landlock (gVisor, Linux before 5.13, or
 * Landlock not enabled), except with roots, which must not go unguarded:
 * an error then (the parent gives roots only where it saw Landlock). */
static int add_landlock(const struct sandbox_spec *s, char *why, size_t whylen)
{
	struct ll_ruleset attr = { LL_FS_ABI1, 0, 0 };
	long abi = sandbox_landlock_abi();
	size_t len = sizeof(attr.fs), k;
	int fd;

	if (abi < 1 && s->nroots) {
		snprintf(why, whylen, "landlock: not available, and inputs to open");
		return -1;
	}
	if (abi < 1)
		return 0;
	if (abi >= 2)
		attr.fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.fs |= LL_FS_TRUNCATE;
	if (abi >= 4) {
		attr.net = LL_NET_TCP;
		len = 2 * sizeof(uint64_t);
	}
	if (abi >= 5)
		attr.fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6) {
		attr.scoped = LL_SCOPED;
		len = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, len, 0);
	for (k = 0; fd >= 0 && k < s->nroots; k++)
		if (add_root(fd, s->roots[k], why, whylen) < 0) {
			close(fd);
			return -1;
		}
	if (fd < 0 || syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		snprintf(why, whylen, "landlock: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The flags a worker's own open may carry besides O_RDONLY (0). */
#define OPEN_OK (O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_LARGEFILE)

#define ALLOW(ctx, call, ...) \
	seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(call), __VA_ARGS__)

/*
 * An int argument equal to V as the kernel reads it: its low 32 bits. The
 * filter sees the whole 64-bit register, and the kernel drops the upper
 * half, so an order or inequality test over 64 bits (fd > 2, advice !=
 * MADV_REMOVE) is passed by (1 << 32) | 0 and (1 << 32) | MADV_REMOVE.
 * libseccomp 2.5's SCMP_A0_32 only truncates the datum and still compares
 * the upper half (libseccomp issue 383): a mask does what it cannot.
 */
#define INT_IS(arg, v) SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, (uint32_t)(v))

/* The madvise advice values a worker may give: hints about its own memory.
 * glibc's malloc (DONTNEED trimming, HUGEPAGE with its tunable), load's
 * range hook (POPULATE_WRITE); never REMOVE, which frees a shared
 * mapping's file pages (a hole in the output), nor any advice added later. */
static const int advice_ok[] = {
	MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
	MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_POPULATE_READ,
	MADV_POPULATE_WRITE,
};

/*
 * The allow-list. Everything else traps. Argument filters where they
 * narrow a call: reads only from the descriptors it can hold (3 up to
 * NOFILE, RLIMIT_NOFILE: each by exact match, never stdin), writes only to
 * the channel, private anonymous memory only and never executable, a few
 * madvise hints, signals only to itself. An argument the kernel reads as
 * an int is only ever compared for equality: over 64 bits (SCMP_CMP_EQ)
 * that is stricter than the kernel, or on its low half (INT_IS).
 */
static int add_rules(scmp_filter_ctx ctx, const struct sandbox_spec *s, int nofile)
{
	scmp_datum_t ch = (scmp_datum_t)s->channel, self = (scmp_datum_t)getpid();
	int r = 0, fd;
	size_t k;

	/* Its own opens, with roots (Landlock then says where): relative to
	 * its directory descriptor only (an open from AT_FDCWD, open(2),
	 * openat2 and creat trap), and read-only: no write access, no
	 * creating, truncating, O_PATH or O_TMPFILE (the mask is every bit of
	 * the int but the harmless ones, so a flag added later traps too). */
	if (s->dirfd >= 0)
		r |= ALLOW(ctx, openat, 2, INT_IS(0, s->dirfd),
			   SCMP_CMP(2, SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)OPEN_OK & 0xffffffffULL, 0));
	/* Its inputs, handed over by the parent, below its RLIMIT_NOFILE. */
	for (fd = 3; fd < nofile; fd++) {
		r |= ALLOW(ctx, read, 1, INT_IS(0, fd));
		r |= ALLOW(ctx, pread64, 1, INT_IS(0, fd));
		r |= ALLOW(ctx, lseek, 1, INT_IS(0, fd));
	}
	r |= ALLOW(ctx, close, 0);
	r |= ALLOW(ctx, fstat, 0);
	/* glibc's fstat(): newfstatat(fd, "", AT_EMPTY_PATH). */
	r |= ALLOW(ctx, newfstatat, 1, SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	/* The channel to the parent. */
	r |= ALLOW(ctx, sendmsg, 1, SCMP_A0(SCMP_CMP_EQ, ch, 0));
	r |= ALLOW(ctx, recvmsg, 1, SCMP_A0(SCMP_CMP_EQ, ch, 0));
	r |= ALLOW(ctx, sendto, 1, SCMP_A0(SCMP_CMP_EQ, ch, 0));
	r |= ALLOW(ctx, recvfrom, 1, SCMP_A0(SCMP_CMP_EQ, ch, 0));
	r |= ALLOW(ctx, write, 1, SCMP_A0(SCMP_CMP_EQ, ch, 0));
#ifdef UNDER_SANITIZER
	/* The sanitizers' reports. */
	r |= ALLOW(ctx, write, 1, SCMP_A0(SCMP_CMP_EQ, 2, 0));
	r |= ALLOW(ctx, sigaltstack, 0);
	r |= ALLOW(ctx, sched_yield, 0);
#else
	/* Standard error: refused (EBADF), not trapped, so that nothing
	 * reaches it and a library's message about a bad file is not taken
	 * for an attack: Debian's libjxl 0.7 prints a line there for every
	 * corrupt stream (JXL_DEBUG_ON_ERROR), and the file must be reported
	 * as corrupt. The worker's own messages go over the channel. */
	r |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EBADF), SCMP_SYS(write), 1,
			      SCMP_A0(SCMP_CMP_EQ, 2, 0));
#endif
	/* Memory: private and anonymous (RLIMIT_DATA counts it; shared
	 * anonymous memory it does not), never executable. MAP_SHARED_VALIDATE
	 * has the MAP_SHARED bit. The output was mapped before the lock-down. */
	r |= ALLOW(ctx, mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
		   SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_SHARED | MAP_PRIVATE,
			   MAP_ANONYMOUS | MAP_PRIVATE));
	r |= ALLOW(ctx, mprotect, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	r |= ALLOW(ctx, munmap, 0);
	r |= ALLOW(ctx, mremap, 0);
	r |= ALLOW(ctx, brk, 0);
	for (k = 0; k < sizeof(advice_ok) / sizeof(advice_ok[0]); k++)
		r |= ALLOW(ctx, madvise, 1, INT_IS(2, advice_ok[k]));
	/* Its output rows' space (load_range): plain allocation only, no
	 * hole punching; growing the file is RLIMIT_FSIZE's to refuse. */
	if (s->output >= 0)
		r |= ALLOW(ctx, fallocate, 2, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)s->output, 0),
			   SCMP_A1(SCMP_CMP_EQ, 0, 0));
	/* Signals to itself (raise, abort, the fatal-signal handler). */
	r |= ALLOW(ctx, rt_sigaction, 0);
	r |= ALLOW(ctx, rt_sigprocmask, 0);
	r |= ALLOW(ctx, rt_sigreturn, 0);
	r |= ALLOW(ctx, tgkill, 1, SCMP_A0(SCMP_CMP_EQ, self, 0));
	r |= ALLOW(ctx, kill, 1, SCMP_A0(SCMP_CMP_EQ, self, 0));
	/* Trivia. */
	r |= ALLOW(ctx, getpid, 0);
	r |= ALLOW(ctx, gettid, 0);
	r |= ALLOW(ctx, clock_gettime, 0);
	r |= ALLOW(ctx, clock_nanosleep, 0);
	r |= ALLOW(ctx, nanosleep, 0);
	r |= ALLOW(ctx, futex, 0);
	r |= ALLOW(ctx, getrandom, 0);
	/* glibc's sysconf(_SC_PHYS_PAGES), which libtiff asks to size its
	 * allocations: the machine's memory and uptime, nothing of the user's. */
	r |= ALLOW(ctx, sysinfo, 0);
	r |= ALLOW(ctx, restart_syscall, 0);
	r |= ALLOW(ctx, exit, 0);
	r |= ALLOW(ctx, exit_group, 0);
	return r;
}

static int set_limit(int res, rlim_t v)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		return -1;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > v)
		rl.rlim_cur = v;
	return setrlimit(res, &rl);
}

/* Move *FD (if >= 0) to the lowest free descriptor above 2 when that is
 * lower: the descriptors kept are then 3 and 4, and the ones handed over
 * come right after them. */
static int move_low(int *fd)
{
	int to;

	if (*fd < 0)
		return 0;
	if ((to = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return -1;
	if (to < *fd) {
		close(*fd);
		*fd = to;
	} else {
		close(to);
	}
	return 0;
}

int sandbox_enter(struct sandbox_spec *s, char *why, size_t whylen)
{
	struct sigaction sa;
	struct stat st;
	struct rlimit nofile;
	scmp_filter_ctx ctx;
	int kept[SANDBOX_KEEP_MAX + 2], top, r;
	size_t k;

	if (s->nkeep > SANDBOX_KEEP_MAX) {
		snprintf(why, whylen, "sandbox: %zu descriptors to keep, over %d", s->nkeep,
			 SANDBOX_KEEP_MAX);
		return -1;
	}
	kept[0] = s->channel;
	kept[1] = s->output;
	for (k = 0; k < s->nkeep; k++)
		kept[k + 2] = s->keep[k];
	close_others(kept, s->nkeep + 2);
	s->dirfd = -1;
	if (move_low(&s->channel) < 0 || move_low(&s->output) < 0) {
		snprintf(why, whylen, "sandbox: %s", strerror(errno));
		return -1;
	}
	top = s->channel > s->output ? s->channel : s->output;
	for (k = 0; k < s->nkeep; k++) {
		if (move_low(&s->keep[k]) < 0) {
			snprintf(why, whylen, "sandbox: %s", strerror(errno));
			return -1;
		}
		if (s->keep[k] > top)
			top = s->keep[k];
	}
	if (s->nroots && (s->dirfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "sandbox: %s", strerror(errno));
		return -1;
	}
	if (s->dirfd > top)
		top = s->dirfd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	blocked_out = s->blocked;
	if (sigaction(SIGSYS, &sa, NULL) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    set_limit(RLIMIT_NOFILE, (rlim_t)top + 1 + s->max_fds) < 0 ||
	    set_limit(RLIMIT_NPROC, 0) < 0 || set_limit(RLIMIT_CORE, 0) < 0 ||
	    (s->output >= 0 && (fstat(s->output, &st) < 0 ||
				set_limit(RLIMIT_FSIZE, (rlim_t)st.st_size) < 0)) ||
	    getrlimit(RLIMIT_NOFILE, &nofile) < 0) {
		snprintf(why, whylen, "sandbox: %s", strerror(errno));
		return -1;
	}
	/* The filter allows reads from each descriptor below the limit (it
	 * cannot raise it: no setrlimit or prlimit64). */
	if (nofile.rlim_cur > (rlim_t)top + 1 + s->max_fds)
		nofile.rlim_cur = (rlim_t)top + 1 + s->max_fds;
	if (add_landlock(s, why, whylen) < 0)
		return -1;
	/* The default traps rather than kills: the handler can say which call
	 * it was, and gVisor's KILL_PROCESS kills only the thread. */
	if (!(ctx = seccomp_init(SCMP_ACT_TRAP))) {
		snprintf(why, whylen, "sandbox: seccomp_init failed");
		return -1;
	}
	/* A binary tree of the calls, not a list: a decoding worker makes a
	 * few calls an image, and each pays for the filter's length. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (add_rules(ctx, s, (int)nofile.rlim_cur) != 0 || (r = seccomp_load(ctx)) < 0) {
		snprintf(why, whylen, "sandbox: cannot load the seccomp filter");
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

void sandbox_syscall_name(long nr, char *buf, size_t len)
{
	char *name = nr >= 0 && nr < 4096
		     ? seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr) : NULL;

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "number %ld", nr);
	free(name);
}
