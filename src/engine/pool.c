/* pool.c - fork/waitpid worker pool. The parent forks one process per index
 * range, shares a MAP_SHARED page with each (its slot: progress, the item in
 * hand, the first error; a worker keeps only its own mapped) and waits for
 * SIGCHLD with a timeout, so it notices a dead worker at once and can still
 * draw progress. */
#define _GNU_SOURCE
#include "engine/pool.h"
#include "engine/sandbox.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 200		/* progress period */
#define GRACE_MS 1000		/* SIGTERM to SIGKILL when stopping workers */
#define BATCH 32		/* inputs handed to a confined worker at a time */
#define SPAN 1024		/* self-open: items handed at a time when all are
				 * ones it opens itself (no descriptor to pass) */
#define WARN_MAX 1024		/* longest warning text a confined worker sends */

/* One worker's shared state. Written by the worker, read by the parent
 * (while running for progress; after its death for the rest); stop_at
 * written by the parent. Each slot has pages of its own, and a worker
 * unmaps every other slot as it starts (worker_unmap_others): a worker
 * taken over can write its own slot and no other. */
struct slot {
	size_t stop_at;		/* no item at or past this is to be started */
	size_t begin;		/* first item of the range or chunk in hand */
	size_t pos;		/* item in hand when busy, else the next one */
	size_t end;		/* end of the range being worked through */
	size_t done;		/* items finished, failed ones included */
	size_t skipped;		/* items failed under keep_going */
	int busy;		/* 1 while run() is on item pos */
	int failed;		/* err_* hold the worker's fatal error: */
#define FAILED_ITEM 1		/* run() failed on item err_index */
#define FAILED_RANGE 2		/* range() failed; err_msg is the whole message */
	size_t err_index;	/* item that failed */
	char err_msg[1024];	/* its reason */
	int blocked;		/* confined: the call the filter stopped, + 1 */
};

/* The mapping: this header on its own pages (unmapped in confined workers,
 * which never use it), then slot w at (w + 1) * stride. */
struct shared {
	size_t next;		/* dynamic, unconfined: first unclaimed item */
	size_t stride;		/* a slot's size rounded up to whole pages */
};

static size_t slot_stride(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct slot) + page - 1) / page * page;
}

static struct slot *slot_at(const struct shared *sh, unsigned w)
{
	return (struct slot *)((char *)sh + sh->stride * (w + 1));
}

/*
 * A confined worker's channel (SOCK_SEQPACKET, one message per request).
 * The worker asks; the parent checks the request against what it alone
 * recorded of the worker's range, never against the shared slots, and
 * answers. A request that breaks a rule gets the worker killed.
 */
enum {
	MSG_FDS = 1,		/* inputs of items [begin, end): begin at or past
				 * those already handed, end within the range,
				 * at most BATCH (self-open: SPAN, and a reply
				 * past BATCH is all SELF_OPEN) */
	MSG_CHUNK,		/* dynamic: the next chunk, once the range is done */
	MSG_WARN,		/* keep_going: item begin failed, LEN bytes of
				 * reason follow; items in increasing order */
	MSG_OPEN,		/* self-open: the input of item begin, of the
				 * last batch and marked SELF_OPEN there, whose
				 * own open the kernel refused (EACCES: out of
				 * the roots, e.g. a link); in increasing order */
};
/* A reply's err for an item the worker opens itself (pool_task's own). */
#define SELF_OPEN (-1)
struct msg {			/* worker to parent */
	uint32_t type, len;
	uint64_t begin, end;	/* relative to the task's first */
};
struct reply {			/* parent to worker */
	uint64_t begin, end;	/* the batch, or the chunk (empty: none left) */
	int32_t err[BATCH];	/* per item: 0 with its descriptor next in the
				 * SCM_RIGHTS array, the open's errno, or
				 * SELF_OPEN */
	int32_t perr[BATCH];	/* with the task's pair hook: per item, 0 with
				 * its second descriptor next after its first,
				 * or the pair hook's errno */
};

/* The parent's view of one worker. */
struct worker {
	pid_t pid;		/* 0 when not running */
	size_t floor;		/* the item it started from: never on one below */
	/* Confined workers only, kept in the parent, trusted: */
	int ch;			/* the parent's end of its channel, -1 if none */
	int hup;		/* the channel is closed or no longer read */
	size_t begin, end;	/* the range or chunk it was given */
	size_t handed;		/* inputs handed out: up to this item */
	size_t batch;		/* the first item of the last batch handed */
	size_t warned;		/* items it may no longer report failed: below this */
	size_t opened;		/* self-open: items it may no longer ask MSG_OPEN for */
	int drained;		/* dynamic: it was told no chunk is left */
	char violation[160];	/* why it was killed, if for breaking the rules */
	int stopping;		/* we sent it SIGTERM: its death is expected */
	struct timespec stop_t;	/* when, for the SIGKILL after the grace period */
	struct timespec t0;	/* fork time, for --verbose */
	double seconds;		/* run time, once reaped */
};

/* For the fatal-signal handler: the pids of live workers (0 when reaped). */
static volatile pid_t *live_pids;
static volatile unsigned live_n;
/* The pool's parent. A worker is any other process: this holds from the
 * instant of fork, before the child has run a line, so a signal arriving
 * then never makes a worker act as the parent. */
static volatile pid_t parent_pid;

int pool_in_worker(void)
{
	return parent_pid != 0 && getpid() != parent_pid;
}

/* This process's worker number, set in the child as it starts. */
static unsigned worker_index;

/* Set by the parent for the run, before the workers start: confined
 * workers open the items own() says beneath the task's roots themselves
 * (Landlock is there). */
static int self_open;

unsigned pool_worker_index(void)
{
	return worker_index;
}

/* In a confined worker: the task's confine_fd as sandbox_enter moved it
 * down; -1 elsewhere. */
static int worker_output = -1;

int pool_output_fd(int fd)
{
	return worker_output >= 0 ? worker_output : fd;
}

void pool_range(size_t n, size_t parts, size_t k, size_t *begin, size_t *end)
{
	*begin = (size_t)((unsigned __int128)n * k / parts);
	*end = (size_t)((unsigned __int128)n * (k + 1) / parts);
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Sleep MS milliseconds; async-signal-safe. */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void pool_stop_signal(void)
{
	unsigned i, left;
	int k;

	if (pool_in_worker() || !live_pids)
		return;
	for (i = 0; i < live_n; i++)
		if (live_pids[i] > 0)
			kill(live_pids[i], SIGTERM);
	for (k = 0; k < GRACE_MS / 10; k++) {
		for (left = 0, i = 0; i < live_n; i++) {
			if (live_pids[i] > 0 && waitpid(live_pids[i], NULL, WNOHANG) != 0)
				live_pids[i] = 0;
			left += live_pids[i] > 0;
		}
		if (!left)
			return;
		sleep_ms(10);
	}
	for (i = 0; i < live_n; i++) {
		if (live_pids[i] > 0) {
			kill(live_pids[i], SIGKILL);
			while (waitpid(live_pids[i], NULL, 0) < 0 && errno == EINTR)
				;
			live_pids[i] = 0;
		}
	}
}

/* Dynamic schedule: claim the next chunk into S. 0 when none is left.
 * pos moves first so that a crash in between never shows a range that is
 * not this worker's. */
static int claim(struct shared *sh, struct slot *s, size_t count, size_t chunk)
{
	size_t b = __atomic_fetch_add(&sh->next, chunk, __ATOMIC_RELAXED);

	if (b >= count || b >= __atomic_load_n(&s->stop_at, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_store_n(&s->begin, b, __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->pos, b, __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->end, b + chunk < count ? b + chunk : count,
			 __ATOMIC_SEQ_CST);
	return 1;
}

static size_t chunk_size(const struct pool_task *t)
{
	size_t c = t->chunk ? t->chunk : t->count / ((size_t)t->jobs * 16);

	return c ? c : 1;
}

/* Record a worker's fatal error in its slot, for the parent, and exit. */
static void __attribute__((noreturn))
worker_fail(struct slot *s, size_t index, int kind, const char *why)
{
	s->err_index = index;
	memcpy(s->err_msg, why, sizeof(s->err_msg));
	__atomic_store_n(&s->failed, kind, __ATOMIC_SEQ_CST);
	_exit(EXIT_FAIL);
}

/* A confined worker's own side of its channel. */
static struct {
	int ch;			/* -1 when not confined */
	size_t first;		/* the task's first item */
	size_t end;		/* end of the range or chunk in hand */
	size_t b, e;		/* the batch of inputs in hand: items [b, e) */
	int fd[SPAN];		/* their descriptors, -1 once taken */
	int err[SPAN];		/* or why the parent could not open them, or
				 * SELF_OPEN */
	int pfd[BATCH], perr[BATCH];	/* the pair hook's, likewise */
	int dirfd;		/* self-open: what its openat names */
	const struct pool_task *t;
} wch = { .ch = -1, .dirfd = -1 };

/* Send M (and LEN bytes of TEXT) to the parent and wait for its reply into
 * RP, with any descriptors into FDS. The parent gone, the worker goes. */
static size_t ask(const struct msg *m, const char *text, struct reply *rp, int *fds)
{
	struct iovec out[2] = { { (void *)m, sizeof(*m) }, { (void *)text, m->len } };
	struct msghdr mh = { .msg_iov = out, .msg_iovlen = text ? 2 : 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2 * BATCH)];
		struct cmsghdr align;
	} cm;
	struct iovec in = { rp, sizeof(*rp) };
	struct cmsghdr *c;
	size_t n = 0;
	ssize_t r;

	while ((r = sendmsg(wch.ch, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (r < 0)
		_exit(EXIT_FAIL);
	if (m->type == MSG_WARN)
		return 0;	/* no reply */
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &in;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	while ((r = recvmsg(wch.ch, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (r != (ssize_t)sizeof(*rp))
		_exit(EXIT_FAIL);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		}
	return n;
}

/* Ask for the inputs of items [r, ...) (relative), as many as a batch
 * holds within the range in hand, closing what is left of the last. */
static void fetch(size_t r)
{
	/* A pair hook's second inputs come from the parent: batches only. */
	size_t most = (wch.dirfd >= 0 || wch.t->kept) && !wch.t->pair ? SPAN : BATCH;
	struct msg m = { .type = MSG_FDS, .begin = r, .end = r + most };
	struct reply rp;
	int fds[2 * BATCH];
	size_t k, n, used = 0;

	for (k = 0; k < wch.e - wch.b; k++) {
		if (wch.fd[k] >= 0)
			close(wch.fd[k]);
		if (k < BATCH && wch.pfd[k] >= 0)
			close(wch.pfd[k]);
	}
	if (r < wch.end && m.end > wch.end)
		m.end = wch.end;
	if (r >= wch.end)
		m.end = r + 1;	/* out of the range: the parent says no */
	n = ask(&m, NULL, &rp, fds);
	wch.b = r;
	wch.e = r + (rp.end - rp.begin <= most ? rp.end - rp.begin : 0);
	for (k = 0; k < wch.e - wch.b; k++) {
		/* Past a batch, every item is one it opens itself. */
		wch.err[k] = wch.e - wch.b > BATCH ? SELF_OPEN : rp.err[k];
		wch.fd[k] = wch.err[k] == 0 && used < n ? fds[used++] : -1;
		if (k < BATCH) {	/* a span (no pair hook) has no pairs */
			wch.perr[k] = wch.t->pair ? rp.perr[k] : EBADF;
			wch.pfd[k] = wch.t->pair && rp.perr[k] == 0 && used < n ? fds[used++] : -1;
		}
	}
	for (; used < n; used++)	/* more than it asked for: not kept */
		close(fds[used]);
}

/*
 * Item R (relative) of the batch, marked SELF_OPEN: open it here, relative
 * to the directory descriptor the filter allows (any other open traps),
 * read-only and without blocking (input_open_file's flags). Landlock
 * refuses a file out of the roots with EACCES, such as a listed link that
 * leads out of them: the parent is then asked for it, and opens it as for
 * a worker without self-open (the task's open hook, which checks a link's
 * target), or says why not. Once per item (the parent checks).
 */
static int open_self(size_t r)
{
	struct msg m = { .type = MSG_OPEN, .begin = r, .end = r + 1 };
	struct reply rp;
	int fd = openat(wch.dirfd, wch.t->name(wch.t->ctx, wch.first + r),
			O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), fds[2 * BATCH];

	if (fd >= 0 || errno != EACCES)
		return fd;
	if (ask(&m, NULL, &rp, fds) == 1 && rp.begin == r && rp.end == r + 1 && rp.err[0] == 0)
		return fds[0];
	errno = rp.begin == r && rp.err[0] > 0 ? rp.err[0] : EACCES;
	return -1;
}

/* pool_map_items: item I of the larger list is the task's INV[I - FIRST]. */
static const size_t *item_inv;
static size_t item_first, item_n;

void pool_map_items(const size_t *inv, size_t first, size_t n)
{
	item_inv = inv;
	item_first = first;
	item_n = n;
}

/* I, an item's own index, as the task's (pool_map_items); 0, or -1 with
 * errno for an item the task does not have. */
static int map_item(size_t *i)
{
	if (!item_inv)
		return 0;
	if (*i < item_first || *i - item_first >= item_n ||
	    item_inv[*i - item_first] == (size_t)-1) {
		errno = ECANCELED;
		return -1;
	}
	*i = item_inv[*i - item_first];
	return 0;
}

int pool_input(size_t i)
{
	size_t r;
	int fd;

	if (map_item(&i) < 0)
		return -1;
	r = i - wch.first;

	if (wch.ch < 0)
		return -2;
	if (r < wch.b || r >= wch.e)
		fetch(r);
	if (r < wch.b || r >= wch.e) {
		errno = ECANCELED;
		return -1;
	}
	fd = wch.fd[r - wch.b];
	wch.fd[r - wch.b] = -1;
	if (fd < 0 && wch.err[r - wch.b] == SELF_OPEN && wch.t->kept &&
	    wch.t->kept(wch.t->ctx, wch.first + r)) {
		wch.err[r - wch.b] = EBADF;	/* taken */
		return -2;	/* read from what it keeps */
	}
	if (fd < 0 && wch.err[r - wch.b] == SELF_OPEN && wch.dirfd >= 0) {
		wch.err[r - wch.b] = EBADF;	/* taken */
		return open_self(r);
	}
	if (fd < 0)
		errno = wch.err[r - wch.b] > 0 ? wch.err[r - wch.b] : EBADF;
	return fd;
}

int pool_pair(size_t i)
{
	size_t r;
	int fd;

	if (wch.ch < 0)
		return -2;
	if (map_item(&i) < 0)
		return -1;
	r = i - wch.first;
	if (r < wch.b || r >= wch.e || r - wch.b >= BATCH) {
		errno = ECANCELED;	/* not after pool_input(i) */
		return -1;
	}
	fd = wch.pfd[r - wch.b];
	wch.pfd[r - wch.b] = -1;
	if (fd < 0) {
		errno = wch.perr[r - wch.b] > 0 ? wch.perr[r - wch.b] : EBADF;
		wch.perr[r - wch.b] = EBADF;	/* taken */
	}
	return fd;
}

/* Report that item I (relative) failed under keep_going: a confined worker
 * has its parent print it. */
static void worker_warn(const struct pool_task *t, size_t i, const char *why)
{
	struct msg m = { .type = MSG_WARN, .begin = i };

	if (wch.ch < 0) {
		warnx("%s: %s", t->name(t->ctx, t->first + i), why);
		return;
	}
	m.len = (uint32_t)strnlen(why, WARN_MAX);
	ask(&m, why, NULL, NULL);
}

/* Dynamic, confined: the parent hands out the chunks. */
static int claim_confined(struct slot *s)
{
	struct msg m = { .type = MSG_CHUNK };
	struct reply rp;

	ask(&m, NULL, &rp, NULL);
	if (rp.begin >= rp.end)
		return 0;
	__atomic_store_n(&s->begin, rp.begin, __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->pos, rp.begin, __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->end, rp.end, __ATOMIC_SEQ_CST);
	wch.end = rp.end;
	return 1;
}

/* Set worker W up and, if the task says so, lock it down on channel CH. */
static void worker_init(const struct pool_task *t, struct slot *s, int ch)
{
	struct sandbox_spec sp = { .channel = ch, .output = t->confine_fd,
				   .max_fds = t->pair ? 2 * BATCH : BATCH,
				   .keep = t->keep, .nkeep = t->keep ? t->nkeep : 0,
				   .blocked = &s->blocked, .roots = self_open ? t->roots : NULL,
				   .nroots = self_open ? t->nroots : 0 };
	char why[sizeof(s->err_msg)];

	if (t->setup)
		t->setup(t->ctx);
	if (!t->confine)
		return;
	wch.first = t->first;
	wch.end = s->end;
	wch.b = wch.e = 0;
	if (sandbox_enter(&sp, why, sizeof(why)) < 0)
		worker_fail(s, s->pos, FAILED_RANGE, why);
	wch.ch = sp.channel;	/* moved down by sandbox_enter */
	worker_output = sp.output;	/* likewise */
	wch.dirfd = sp.dirfd;
	wch.t = t;
}

/* The body of a worker process: work through its range (and, dynamic, the
 * chunks it claims), then _exit. Never returns. */
static void __attribute__((noreturn))
worker_main(const struct pool_task *t, struct shared *sh, struct slot *s, int ch)
{
	size_t piece = chunk_size(t), hooked = 0;
	char why[sizeof(s->err_msg)];

	worker_init(t, s, ch);
	for (;;) {
		while (s->pos < s->end) {
			size_t i = s->pos;

			if (i >= __atomic_load_n(&s->stop_at, __ATOMIC_SEQ_CST))
				_exit(EXIT_OK);	/* the parent has what it needs */
			/* range() a piece at a time, a dynamic chunk's size:
			 * what it prepares is used while still in cache. */
			if (t->range && i >= hooked) {
				hooked = i + piece < s->end ? i + piece : s->end;
				if (t->range(t->ctx, t->first + i, t->first + hooked, why,
					     sizeof(why)) < 0)
					worker_fail(s, i, FAILED_RANGE, why);
			}
			__atomic_store_n(&s->busy, 1, __ATOMIC_SEQ_CST);
			why[0] = '\0';
			if (t->run(t->ctx, t->first + i, why, sizeof(why)) < 0) {
				if (!t->keep_going)
					worker_fail(s, i, FAILED_ITEM, why);
				worker_warn(t, i, why);
				s->skipped++;
			}
			__atomic_store_n(&s->busy, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&s->pos, i + 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_add(&s->done, 1, __ATOMIC_RELAXED);
		}
		if (t->schedule != POOL_DYNAMIC ||
		    !(t->confine ? claim_confined(s) : claim(sh, s, t->count, chunk_size(t))))
			break;
	}
	_exit(EXIT_OK);
}

/* In worker W as it starts: unmap the other workers' slots and, confined,
 * the header too (only the unconfined dynamic schedule uses it). */
static void worker_unmap_others(const struct pool_task *t, struct shared *sh, unsigned w)
{
	size_t stride = sh->stride;
	char *base = (char *)sh, *end = base + stride * ((size_t)t->jobs + 1);
	char *own = base + stride * ((size_t)w + 1), *from = t->confine ? base : base + stride;

	if (own > from)
		munmap(from, (size_t)(own - from));
	if (own + stride < end)
		munmap(own + stride, (size_t)(end - own - stride));
}

/* Fork worker W over its slot's current range (confined: the range the
 * parent recorded in WK[W], which it copies into the slot first), told to
 * start no item at or past STOP_AT. */
static int spawn(const struct pool_task *t, struct shared *sh, struct worker *wk,
		 unsigned w, const sigset_t *oldmask, size_t stop_at)
{
	struct slot *s = slot_at(sh, w);
	sigset_t fatal, before;
	int sv[2] = { -1, -1 };
	pid_t pid;

	if (t->confine) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return error_errno("socketpair");
		s->begin = wk[w].begin;
		s->pos = wk[w].handed;
		s->end = wk[w].end;
		s->busy = s->failed = s->blocked = 0;
		wk[w].ch = sv[0];
		wk[w].hup = wk[w].drained = 0;
		wk[w].violation[0] = '\0';
	}
	/* It starts here: it can never be on an item below. */
	wk[w].floor = s->pos;
	s->stop_at = stop_at;

	/* No fatal signal between fork and the pid's entry in live_pids, or
	 * the handler could miss a worker that then runs on alone. */
	sigemptyset(&fatal);
	sigaddset(&fatal, SIGINT);
	sigaddset(&fatal, SIGTERM);
	sigaddset(&fatal, SIGHUP);
	sigprocmask(SIG_BLOCK, &fatal, &before);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		worker_index = w;
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		worker_unmap_others(t, sh, w);
		worker_main(t, t->confine ? NULL : sh, s, sv[1]);
	}
	if (sv[1] >= 0)
		close(sv[1]);
	if (pid > 0) {
		wk[w].pid = pid;
		live_pids[w] = pid;
	}
	sigprocmask(SIG_SETMASK, &before, NULL);
	if (pid < 0) {
		error_errno("fork");
		if (sv[0] >= 0)
			close(sv[0]);
		wk[w].ch = -1;
		return -1;
	}
	return 0;
}

static int is_crash(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
	       sig == SIGILL || sig == SIGABRT || sig == SIGSYS;
}

/* "worker 1/2 (items 1000-1999)" for messages: a static worker's range,
 * or the chunk a dynamic one had in hand. */
static void describe(char *buf, size_t len, const struct pool_task *t,
		     const struct slot *s, unsigned w)
{
	if (s->end > s->begin)
		snprintf(buf, len, "worker %u/%u (%s %zu-%zu)", w, t->jobs,
			 t->schedule == POOL_STATIC ? "items" : "chunk",
			 t->first + s->begin, t->first + s->end - 1);
	else
		snprintf(buf, len, "worker %u/%u (no chunk yet)", w, t->jobs);
}

struct run_state {
	const struct pool_task *t;
	struct shared *sh;
	struct worker *wk;
	const sigset_t *oldmask;
	int failing;		/* a failure was seen: stopping the rest */
	size_t fail_index;	/* item of the reported failure, SIZE_MAX if none */
	char fail_msg[1400];	/* the failure, reported once at the end */
	size_t crashed;		/* items skipped because their worker crashed */
	/* Confined workers: the parent's own copies, which no worker can touch. */
	size_t stop_at;		/* the slots' stop_at as the parent set it */
	size_t next;		/* dynamic: first chunk not handed out */
};

/* Stop worker W with SIGTERM (once), starting its grace period. */
static void stop_worker(struct run_state *rs, unsigned w)
{
	if (rs->wk[w].pid <= 0 || rs->wk[w].stopping)
		return;
	rs->wk[w].stopping = 1;
	clock_gettime(CLOCK_MONOTONIC, &rs->wk[w].stop_t);
	kill(rs->wk[w].pid, SIGTERM);
}

/*
 * Record a failure. An item's failure (INDEX, not ALL) stops the work past
 * that item at once, while workers still before it go on up to it: if one
 * of them fails too, its lower item is the one reported, so the report is
 * the first failing item in order, whatever the timing. Any other failure
 * (ALL: a worker killed from outside, a fork failure) stops everything.
 */
static void record_failure(struct run_state *rs, size_t index, int all, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
static void record_failure(struct run_state *rs, size_t index, int all, const char *fmt, ...)
{
	size_t stop = all ? 0 : index;
	va_list ap;
	unsigned w;

	if (stop < rs->stop_at) {
		rs->stop_at = stop;
		for (w = 0; w < rs->t->jobs; w++)
			__atomic_store_n(&slot_at(rs->sh, w)->stop_at, stop, __ATOMIC_SEQ_CST);
	}
	for (w = 0; w < rs->t->jobs; w++)
		if (rs->wk[w].pid > 0 &&
		    __atomic_load_n(&slot_at(rs->sh, w)->pos, __ATOMIC_SEQ_CST) >= stop)
			stop_worker(rs, w);
	if (rs->failing && index >= rs->fail_index)
		return;
	rs->failing = 1;
	rs->fail_index = index;
	va_start(ap, fmt);
	vsnprintf(rs->fail_msg, sizeof(rs->fail_msg), fmt, ap);
	va_end(ap);
}

/* Kill confined worker W for breaking the channel's rules (the reason in
 * FMT); its death is then reported as its item's failure. */
static void violation(struct run_state *rs, unsigned w, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void violation(struct run_state *rs, unsigned w, const char *fmt, ...)
{
	struct worker *wk = &rs->wk[w];
	va_list ap;

	if (wk->violation[0])
		return;
	va_start(ap, fmt);
	vsnprintf(wk->violation, sizeof(wk->violation), fmt, ap);
	va_end(ap);
	wk->hup = 1;
	if (wk->pid > 0)
		kill(wk->pid, SIGKILL);
}

/* Whether a confined worker gets item I without a descriptor from the
 * parent: it opens it itself, or reads it from what it keeps. */
static int served(const struct pool_task *t, size_t i)
{
	return (t->kept && t->kept(t->ctx, i)) || (self_open && t->own(t->ctx, i));
}

/* Open the inputs of items [B, E) for worker W and send them over; asked
 * for more than a batch (self-open), the run of items from B it opens
 * itself when that is longer than a batch (a reply with no descriptor, a
 * message per SPAN items instead of per BATCH: the parent's CPU), else a
 * batch. */
static void hand_inputs(struct run_state *rs, unsigned w, size_t b, size_t e)
{
	const struct pool_task *t = rs->t;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2 * BATCH)];
		struct cmsghdr align;
	} cm;
	struct reply rp = { .begin = b, .end = e };
	struct iovec iov = { &rp, sizeof(rp) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[2 * BATCH];
	size_t k, n = 0;

	if (rs->wk[w].pid <= 0)
		return;		/* dead: its request is moot */
	if (e - b > BATCH) {
		for (k = 0; b + k < e && served(t, t->first + b + k); k++)
			;
		rp.end = e = k > BATCH ? b + k : b + BATCH;
	}
	for (k = 0; e - b <= BATCH && k < e - b; k++) {
		size_t i = t->first + b + k;
		int fd;

		if (served(t, i)) {
			rp.err[k] = SELF_OPEN;	/* no call at all: the point */
		} else {
			fd = t->open ? t->open(t->ctx, i)
				     : open(t->name(t->ctx, i), O_RDONLY | O_CLOEXEC | O_NOCTTY);
			rp.err[k] = fd < 0 ? (errno ? errno : EIO) : 0;
			if (fd >= 0)
				fds[n++] = fd;
		}
		if (t->pair) {	/* its second input, after the first */
			errno = 0;
			fd = t->pair(t->ctx, i);
			rp.perr[k] = fd < 0 ? (errno ? errno : EIO) : 0;
			if (fd >= 0)
				fds[n++] = fd;
		}
	}
	if (n) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	rs->wk[w].batch = b;
	rs->wk[w].handed = e;
	/* Never blocks: a worker that does not read its replies is broken. */
	if (sendmsg(rs->wk[w].ch, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EAGAIN)
		violation(rs, w, "does not read its replies");
	/* Opened one after another, they are mostly consecutive: one call. */
	if (n && fds[n - 1] - fds[0] == (int)n - 1 &&
	    syscall(SYS_close_range, fds[0], fds[n - 1], 0) == 0)
		return;
	for (k = 0; k < n; k++)
		close(fds[k]);
}

/* Self-open: item R (relative) of worker W's batch, whose own open the
 * kernel refused: open it as hand_inputs would without self-open (the
 * task's open hook: a link's target checked) and send it over. */
static void hand_open(struct run_state *rs, unsigned w, size_t r)
{
	const struct pool_task *t = rs->t;
	struct worker *wk = &rs->wk[w];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct reply rp = { .begin = r, .end = r + 1 };
	struct iovec iov = { &rp, sizeof(rp) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd;

	if (!self_open || r < wk->opened || r < wk->batch || r >= wk->handed ||
	    !t->own(t->ctx, t->first + r))
		return violation(rs, w, "asked to be handed item %zu, not one it opens",
				 t->first + r);
	wk->opened = r + 1;
	fd = t->open ? t->open(t->ctx, t->first + r)
		     : open(t->name(t->ctx, t->first + r), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	rp.err[0] = fd < 0 ? (errno ? errno : EIO) : 0;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(wk->ch, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EAGAIN)
		violation(rs, w, "does not read its replies");
	if (fd >= 0)
		close(fd);
}

/* Dynamic: hand worker W the next chunk, or none once they are gone (or
 * the run is stopping). */
static void hand_chunk(struct run_state *rs, unsigned w)
{
	const struct pool_task *t = rs->t;
	struct worker *wk = &rs->wk[w];
	struct reply rp = { 0 };
	size_t b = rs->next;

	if (wk->pid <= 0)
		return;		/* dead: its request is moot */
	if (wk->handed < wk->end)
		return violation(rs, w, "asked for a chunk with items %zu-%zu still to take",
				 t->first + wk->handed, t->first + wk->end - 1);
	if (b < t->count && b < rs->stop_at) {
		rs->next += chunk_size(t);
		rp.begin = b;
		rp.end = rs->next < t->count ? rs->next : t->count;
		wk->begin = wk->handed = wk->warned = wk->batch = b;
		wk->end = rp.end;
	} else {
		wk->drained = 1;
	}
	if (send(wk->ch, &rp, sizeof(rp), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EAGAIN)
		violation(rs, w, "does not read its replies");
}

/* A confined worker's text made harmless for a terminal, in place: its
 * control characters (escape sequences) become '?'; UTF-8 stays. */
static void defang(char *text, size_t len)
{
	size_t k;

	for (k = 0; k < len && text[k]; k++)
		if ((unsigned char)text[k] < 0x20 || text[k] == 0x7f)
			text[k] = '?';
}

/* Print a warning text from a worker. */
static void print_warning(const char *name, char *text, size_t len)
{
	text[len] = '\0';
	defang(text, len);
	warnx("%s: %s", name, text);
}

/* Read and answer one request of confined worker W, checking it first.
 * 1 if there was one, 0 if none was waiting. */
static int serve(struct run_state *rs, unsigned w)
{
	const struct pool_task *t = rs->t;
	struct worker *wk = &rs->wk[w];
	char buf[sizeof(struct msg) + WARN_MAX + 1];
	struct msg m;
	ssize_t n = recv(wk->ch, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			wk->hup = 1;
		return 0;
	}
	if (n == 0) {
		wk->hup = 1;	/* it closed its end, or died */
		return 0;
	}
	if ((size_t)n < sizeof(m) || (size_t)n >= sizeof(buf)) {
		violation(rs, w, "sent a message of %zd bytes", n);
		return 1;
	}
	memcpy(&m, buf, sizeof(m));
	if ((m.type == MSG_WARN) != ((size_t)n > sizeof(m)) || m.len != (size_t)n - sizeof(m))
		violation(rs, w, "sent a message whose length is not its own");
	else if (m.type == MSG_FDS) {
		if (m.begin < wk->handed || m.begin >= m.end || m.end > wk->end ||
		    m.end - m.begin > ((self_open || t->kept) && !t->pair ? SPAN : BATCH))
			violation(rs, w, "asked for items %llu-%llu, not its own",
				  (unsigned long long)(t->first + m.begin),
				  (unsigned long long)(t->first + m.end - 1));
		else
			hand_inputs(rs, w, (size_t)m.begin, (size_t)m.end);
	} else if (m.type == MSG_OPEN) {
		if (m.end != m.begin + 1 || m.begin >= wk->end)
			violation(rs, w, "asked to be handed items %llu-%llu, not one it opens",
				  (unsigned long long)(t->first + m.begin),
				  (unsigned long long)(t->first + m.end - 1));
		else
			hand_open(rs, w, (size_t)m.begin);
	} else if (m.type == MSG_CHUNK) {
		if (t->schedule != POOL_DYNAMIC)
			violation(rs, w, "asked for a chunk in a static schedule");
		else
			hand_chunk(rs, w);
	} else if (m.type == MSG_WARN) {
		if (!t->keep_going || m.begin < wk->warned || m.begin >= wk->end) {
			violation(rs, w, "reported a failure of item %llu, not one it had",
				  (unsigned long long)(t->first + m.begin));
		} else {
			wk->warned = (size_t)m.begin + 1;
			print_warning(t->name(t->ctx, t->first + m.begin), buf + sizeof(m), m.len);
		}
	} else {
		violation(rs, w, "sent a message of unknown type %u", m.type);
	}
	return 1;
}

static size_t max3(size_t a, size_t b, size_t c)
{
	return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

/*
 * The item worker W had in hand, as its slot says, or SIZE_MAX when that is
 * not one it can be on. Never below the item it started from (a worker that
 * moved its pos back would otherwise be handed the same items again and
 * again). A confined worker's word is checked against what the parent
 * handed it: an item of its last batch, or the next one (not yet asked
 * for), and none it already reported failed.
 */
static size_t item_in_hand(const struct run_state *rs, unsigned w)
{
	const struct slot *s = slot_at(rs->sh, w);
	const struct worker *wk = &rs->wk[w];
	size_t pos = __atomic_load_n(&s->pos, __ATOMIC_SEQ_CST);
	size_t lo = rs->t->confine ? max3(wk->begin, wk->batch, wk->warned) : s->begin;
	size_t hi = rs->t->confine ? (wk->handed < wk->end ? wk->handed + 1 : wk->end) : s->end;

	if (lo < wk->floor)
		lo = wk->floor;
	return pos >= lo && pos < hi && pos < rs->t->count ? pos : SIZE_MAX;
}

/* Worker W died on item I, the file's fault: under keep_going skip it (MSG
 * printed) and carry on with a fresh worker from the next item; else it is
 * the item's failure. I is at or past the item the dead worker started
 * from (item_in_hand), so each restart starts further on: at most one per
 * item. A confined worker's new start may be below what was handed to the
 * dead one (the rest of its batch, which it never decoded): those inputs
 * are handed again. */
static void item_died(struct run_state *rs, unsigned w, size_t i, const char *msg)
{
	const struct pool_task *t = rs->t;
	struct slot *s = slot_at(rs->sh, w);
	char who[128];

	if (!t->keep_going) {
		record_failure(rs, i, 0, "%s", msg);
		return;
	}
	warnx("%s", msg);
	if (t->lost)
		t->lost(t->ctx, t->first + i);
	rs->crashed++;
	s->busy = 0;
	s->pos = i + 1;
	s->done++;
	if (t->confine) {
		rs->wk[w].handed = rs->wk[w].warned = i + 1;
	}
	describe(who, sizeof(who), t, s, w);
	if ((s->pos < s->end || t->schedule == POOL_DYNAMIC) &&
	    spawn(t, rs->sh, rs->wk, w, rs->oldmask, rs->stop_at) < 0)
		record_failure(rs, SIZE_MAX, 1, "cannot restart %s", who);
}

/* A confined worker's death that is its own doing: a call the filter
 * stopped, or a broken rule. 1 if ST was one (and is now dealt with). */
static int confined_death(struct run_state *rs, unsigned w, int st, const char *who)
{
	const struct pool_task *t = rs->t;
	struct worker *wk = &rs->wk[w];
	size_t i = item_in_hand(rs, w), subject = i != SIZE_MAX ? i : wk->begin;
	int busy = __atomic_load_n(&slot_at(rs->sh, w)->busy, __ATOMIC_SEQ_CST) == 1;
	const char *name = subject < t->count ? t->name(t->ctx, t->first + subject) : "(none)";
	char msg[1024], call[64];

	if (wk->violation[0]) {
		snprintf(msg, sizeof(msg), "%s: %s broke the protocol (%s) and was killed", name,
			 who, wk->violation);
	} else if ((WIFEXITED(st) && WEXITSTATUS(st) == SANDBOX_EXIT_BLOCKED) ||
		   (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)) {
		int nr = __atomic_load_n(&slot_at(rs->sh, w)->blocked, __ATOMIC_SEQ_CST) - 1;

		if (WIFSIGNALED(st) || nr < 0)
			snprintf(call, sizeof(call), "(unknown)");
		else
			sandbox_syscall_name(nr, call, sizeof(call));
		snprintf(msg, sizeof(msg),
			 "%s: worker stopped: blocked system call %s (possible exploit or a bug in parimg)",
			 name, call);
	} else if (i == SIZE_MAX && busy && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		snprintf(msg, sizeof(msg), "%s: %s broke the protocol (item in hand outside its "
			 "range) and died", name, who);
		busy = 0;
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !rs->failing &&
		   (wk->handed < wk->end || (t->schedule == POOL_DYNAMIC && !wk->drained))) {
		snprintf(msg, sizeof(msg), "%s: %s broke the protocol (exited before taking "
			 "all its items) and died", name, who);
		busy = 0;
	} else {
		return 0;
	}
	if (busy && i != SIZE_MAX)
		item_died(rs, w, i, msg);
	else
		record_failure(rs, SIZE_MAX, 1, "%s", msg);
	return 1;
}

/* Decide what worker W's death with wait status ST means. */
static void reaped(struct run_state *rs, unsigned w, int st)
{
	const struct pool_task *t = rs->t;
	struct worker *wk = rs->wk;
	struct slot *s = slot_at(rs->sh, w);
	char who[128];
	int busy = __atomic_load_n(&s->busy, __ATOMIC_SEQ_CST);
	int failed = __atomic_load_n(&s->failed, __ATOMIC_SEQ_CST);
	size_t i;

	if (WIFSIGNALED(st) && t->orphaned)
		t->orphaned(t->ctx, wk[w].pid);
	wk[w].pid = 0;
	live_pids[w] = 0;
	wk[w].seconds = elapsed(&wk[w].t0);
	if (wk[w].ch >= 0) {
		/* What it sent before dying is read still: its warnings, and
		 * any rule it broke. */
		while (!wk[w].violation[0] && serve(rs, w))
			;
		close(wk[w].ch);
		wk[w].ch = -1;
	}
	if (t->confine) {	/* its range as the parent recorded it */
		s->begin = wk[w].begin;
		s->end = wk[w].end;
	}
	describe(who, sizeof(who), t, s, w);
	s->err_msg[sizeof(s->err_msg) - 1] = '\0';	/* its word, bounded */
	if (t->confine)
		defang(s->err_msg, sizeof(s->err_msg));
	if (t->confine && !wk[w].stopping && confined_death(rs, w, st, who))
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	if (WIFEXITED(st) && failed == FAILED_RANGE) {
		record_failure(rs, s->err_index, 1, "%s [%s]", s->err_msg, who);
		return;
	}
	if (WIFEXITED(st) && failed == FAILED_ITEM &&
	    (!t->confine || (s->err_index >= wk[w].begin && s->err_index < wk[w].end))) {
		record_failure(rs, s->err_index, 0, "%s: %s [%s]",
			       t->name(t->ctx, t->first + s->err_index), s->err_msg, who);
		return;
	}
	if (WIFEXITED(st)) {
		record_failure(rs, SIZE_MAX, 1, "%s exited with status %d", who,
			       WEXITSTATUS(st));
		return;
	}
	if (wk[w].stopping)
		return;
	i = item_in_hand(rs, w);
	if (busy && i == SIZE_MAX)
		busy = 0;
	if (WIFSIGNALED(st) && busy && t->keep_going && is_crash(WTERMSIG(st))) {
		/* A decoder crash is the file's fault: skip it, carry on
		 * with a fresh worker from the next item. */
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s: %s crashed with SIG%s on this file",
			 t->name(t->ctx, t->first + i), who, sigabbrev_np(WTERMSIG(st)));
		item_died(rs, w, i, msg);
		return;
	}
	/* A crash on an item is that item's failure; any other signal came
	 * from outside, and ends the whole run. */
	if (busy)
		record_failure(rs, i, !is_crash(WTERMSIG(st)), "%s: %s killed by signal %d (SIG%s)",
			       t->name(t->ctx, t->first + i), who, WTERMSIG(st),
			       sigabbrev_np(WTERMSIG(st)));
	else
		record_failure(rs, SIZE_MAX, 1, "%s killed by signal %d (SIG%s)", who,
			       WTERMSIG(st), sigabbrev_np(WTERMSIG(st)));
}

static size_t total_done(const struct run_state *rs)
{
	size_t n = 0;
	unsigned w;

	for (w = 0; w < rs->t->jobs; w++)
		n += __atomic_load_n(&slot_at(rs->sh, w)->done, __ATOMIC_RELAXED);
	return n < rs->t->count ? n : rs->t->count;	/* a worker's word */
}

/* SIGKILL the workers still alive a grace period after their SIGTERM. */
static void kill_stragglers(struct run_state *rs)
{
	unsigned w;

	for (w = 0; w < rs->t->jobs; w++)
		if (rs->wk[w].pid > 0 && rs->wk[w].stopping &&
		    elapsed(&rs->wk[w].stop_t) * 1000 > GRACE_MS)
			kill(rs->wk[w].pid, SIGKILL);
}

/* Wait up to a tick for a worker's death (SIGCHLD on SFD) or a confined
 * worker's request, and answer the requests. */
static void wait_events(struct run_state *rs, int sfd)
{
	struct pollfd pf[POOL_MAX_JOBS + 1];
	unsigned idx[POOL_MAX_JOBS + 1], n = 1, k, w;
	struct signalfd_siginfo si;

	pf[0].fd = sfd;
	pf[0].events = POLLIN;
	for (w = 0; w < rs->t->jobs; w++) {
		if (rs->wk[w].pid > 0 && rs->wk[w].ch >= 0 && !rs->wk[w].hup) {
			pf[n].fd = rs->wk[w].ch;
			pf[n].events = POLLIN;
			idx[n++] = w;
		}
	}
	if (poll(pf, n, TICK_MS) < 0) {
		if (errno != EINTR)
			die_errno("poll");
		return;
	}
	if (pf[0].revents & POLLIN)
		while (read(sfd, &si, sizeof(si)) > 0)
			;
	for (k = 1; k < n; k++) {
		if (pf[k].revents & POLLIN)
			serve(rs, idx[k]);
		else if (pf[k].revents & (POLLHUP | POLLERR | POLLNVAL))
			rs->wk[idx[k]].hup = 1;
	}
}

/* Wait for every worker, reacting to each death as it happens. */
static void monitor(struct run_state *rs, unsigned alive, int sfd)
{
	const struct pool_task *t = rs->t;
	double next_draw = 0;	/* progress: at most once a TICK_MS */

	while (alive > 0) {
		struct timespec now;
		pid_t pid;
		int st;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			unsigned w;

			for (w = 0; w < t->jobs && rs->wk[w].pid != pid; w++)
				;
			if (w == t->jobs)
				continue;	/* not ours */
			alive--;
			reaped(rs, w, st);
			alive += rs->wk[w].pid > 0;	/* restarted */
		}
		if (pid < 0 && errno != EINTR && errno != ECHILD)
			die_errno("waitpid");
		if (alive == 0)
			break;
		kill_stragglers(rs);
		/* The loop turns on every message from a worker, many times a
		 * tick: a terminal that is not read would fill and block us. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (t->progress && !rs->failing &&
		    now.tv_sec + now.tv_nsec / 1e9 >= next_draw) {
			t->progress(t->progress_ctx, total_done(rs), t->count, 0);
			next_draw = now.tv_sec + now.tv_nsec / 1e9 + TICK_MS / 1e3;
		}
		wait_events(rs, sfd);
	}
}

static void report_verbose(const struct run_state *rs)
{
	const struct pool_task *t = rs->t;
	unsigned w;

	for (w = 0; w < t->jobs; w++) {
		const struct slot *s = slot_at(rs->sh, w);

		if (rs->wk[w].t0.tv_sec == 0 && rs->wk[w].t0.tv_nsec == 0)
			continue;
		if (t->schedule == POOL_DYNAMIC)
			warnx("worker %u: %zu items (dynamic), %.3f s", w, s->done,
			      rs->wk[w].seconds);
		else
			warnx("worker %u: items %zu-%zu, %.3f s", w, t->first + s->begin,
			      t->first + s->end - 1, rs->wk[w].seconds);
	}
}

int pool_run(const struct pool_task *t, struct pool_result *r)
{
	size_t maplen = slot_stride() * ((size_t)t->jobs + 1);
	struct run_state rs = { .t = t, .fail_index = SIZE_MAX, .stop_at = SIZE_MAX };
	sigset_t chld, oldmask;
	unsigned w, alive = 0;
	int ret = 0, sfd;

	memset(r, 0, sizeof(*r));
	if (t->count == 0 || t->jobs == 0) {
		if (t->progress)
			t->progress(t->progress_ctx, 0, 0, 1);
		return 0;
	}
	rs.sh = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (rs.sh == MAP_FAILED)
		return error_errno("mmap");
	rs.sh->stride = slot_stride();
	rs.wk = calloc(t->jobs, sizeof(*rs.wk));
	live_pids = calloc(t->jobs, sizeof(*live_pids));
	if (!rs.wk || !live_pids)
		die("out of memory");
	for (w = 0; w < t->jobs; w++)
		rs.wk[w].ch = -1;
	live_n = t->jobs;
	self_open = t->confine && t->nroots && t->own && sandbox_landlock_abi() >= 1;
	parent_pid = getpid();

	/* SIGCHLD stays blocked for the signalfd below. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask);
	rs.oldmask = &oldmask;
	/* It wakes the parent's poll on a worker's death, as a confined
	 * worker's request does. */
	if ((sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die_errno("signalfd");

	for (w = 0; w < t->jobs; w++) {
		struct slot *s = slot_at(rs.sh, w);

		if (t->schedule == POOL_DYNAMIC) {
			if (w >= t->count)
				break;
			s->begin = s->pos = s->end = 0;
		} else {
			pool_range(t->count, t->jobs, w, &s->pos, &s->end);
			s->begin = s->pos;
			if (s->pos == s->end)
				continue;
			rs.wk[w].begin = rs.wk[w].handed = rs.wk[w].warned = s->begin;
			rs.wk[w].end = s->end;
		}
		clock_gettime(CLOCK_MONOTONIC, &rs.wk[w].t0);
		if (spawn(t, rs.sh, rs.wk, w, &oldmask, rs.stop_at) < 0) {
			record_failure(&rs, SIZE_MAX, 1, "cannot start worker %u", w);
			break;
		}
		alive++;
	}
	monitor(&rs, alive, sfd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);

	for (w = 0; w < t->jobs; w++) {	/* the workers' word, bounded */
		const struct slot *s = slot_at(rs.sh, w);

		r->done += s->done < t->count ? s->done : t->count;
		r->skipped += s->skipped < t->count ? s->skipped : t->count;
	}
	r->skipped += rs.crashed;
	if (r->done > t->count)
		r->done = t->count;
	if (r->skipped > r->done)
		r->skipped = r->done;
	if (t->progress)
		t->progress(t->progress_ctx, r->done, t->count, 1);
	if (t->verbose)
		report_verbose(&rs);
	if (rs.failing) {
		warnx("%s", rs.fail_msg);
		ret = -1;
	}
	live_n = 0;
	free((void *)live_pids);
	live_pids = NULL;
	free(rs.wk);
	munmap(rs.sh, maplen);
	return ret;
}
