/* pool.c - fork/waitpid worker pool. The parent forks one process per index
 * range, shares a MAP_SHARED array of per-worker slots with them (progress,
 * the item in hand, the first error) and waits for SIGCHLD with a timeout, so
 * it notices a dead worker at once and can still draw progress. */
#define _GNU_SOURCE
#include "pool.h"
#include "err.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 200		/* progress period */
#define GRACE_MS 1000		/* SIGTERM to SIGKILL when stopping workers */

/* One worker's shared state. Written by the worker, read by the parent
 * (while running for progress; after its death for the rest). */
struct slot {
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
} __attribute__((aligned(64)));	/* one cache line apart: no false sharing */

struct shared {
	size_t next;		/* dynamic schedule: first unclaimed item */
	size_t stop_at;		/* no worker starts an item at or past this */
	struct slot slot[];
};

/* The parent's view of one worker. */
struct worker {
	pid_t pid;		/* 0 when not running */
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

unsigned pool_worker_index(void)
{
	return worker_index;
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

	if (b >= count || b >= __atomic_load_n(&sh->stop_at, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_store_n(&s->begin, b, __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->pos, b, __ATOMIC_SEQ_CST);
	__atomic_store_n(&s->end, b + chunk < count ? b + chunk : count,
			 __ATOMIC_SEQ_CST);
	return 1;
}

static size_t chunk_size(const struct pool_task *t)
{
	size_t c = t->count / ((size_t)t->jobs * 16);

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

/* The body of a worker process: work through its range (and, dynamic, the
 * chunks it claims), then _exit. Never returns. */
static void __attribute__((noreturn))
worker_main(const struct pool_task *t, struct shared *sh, unsigned w)
{
	struct slot *s = &sh->slot[w];
	size_t piece = chunk_size(t), hooked = 0;
	char why[sizeof(s->err_msg)];

	for (;;) {
		while (s->pos < s->end) {
			size_t i = s->pos;

			if (i >= __atomic_load_n(&sh->stop_at, __ATOMIC_SEQ_CST))
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
				warnx("%s: %s", t->name(t->ctx, t->first + i), why);
				s->skipped++;
			}
			__atomic_store_n(&s->busy, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&s->pos, i + 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_add(&s->done, 1, __ATOMIC_RELAXED);
		}
		if (t->schedule != POOL_DYNAMIC ||
		    !claim(sh, s, t->count, chunk_size(t)))
			break;
	}
	_exit(EXIT_OK);
}

/* Fork worker W over its slot's current range. */
static int spawn(const struct pool_task *t, struct shared *sh, struct worker *wk,
		 unsigned w, const sigset_t *oldmask)
{
	sigset_t fatal, before;
	pid_t pid;

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
		worker_main(t, sh, w);
	}
	if (pid > 0) {
		wk[w].pid = pid;
		live_pids[w] = pid;
	}
	sigprocmask(SIG_SETMASK, &before, NULL);
	if (pid < 0)
		return error_errno("fork");
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

	if (stop < rs->sh->stop_at)
		__atomic_store_n(&rs->sh->stop_at, stop, __ATOMIC_SEQ_CST);
	for (w = 0; w < rs->t->jobs; w++)
		if (rs->wk[w].pid > 0 && __atomic_load_n(&rs->sh->slot[w].pos, __ATOMIC_SEQ_CST) >= stop)
			stop_worker(rs, w);
	if (rs->failing && index >= rs->fail_index)
		return;
	rs->failing = 1;
	rs->fail_index = index;
	va_start(ap, fmt);
	vsnprintf(rs->fail_msg, sizeof(rs->fail_msg), fmt, ap);
	va_end(ap);
}

/* Decide what worker W's death with wait status ST means. */
static void reaped(struct run_state *rs, unsigned w, int st)
{
	const struct pool_task *t = rs->t;
	struct worker *wk = rs->wk;
	struct slot *s = &rs->sh->slot[w];
	char who[128];
	int busy = __atomic_load_n(&s->busy, __ATOMIC_SEQ_CST);

	if (WIFSIGNALED(st) && t->orphaned)
		t->orphaned(t->ctx, wk[w].pid);
	wk[w].pid = 0;
	live_pids[w] = 0;
	wk[w].seconds = elapsed(&wk[w].t0);
	describe(who, sizeof(who), t, s, w);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	if (WIFEXITED(st) && s->failed == FAILED_RANGE) {
		record_failure(rs, s->err_index, 1, "%s [%s]", s->err_msg, who);
		return;
	}
	if (WIFEXITED(st) && s->failed) {
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
	if (WIFSIGNALED(st) && busy && t->keep_going && is_crash(WTERMSIG(st))) {
		/* A decoder crash is the file's fault: skip it, carry on
		 * with a fresh worker from the next item. */
		warnx("%s: %s crashed with SIG%s on this file", t->name(t->ctx, t->first + s->pos),
		      who, sigabbrev_np(WTERMSIG(st)));
		rs->crashed++;
		s->busy = 0;
		s->pos++;
		s->done++;
		if ((s->pos < s->end || t->schedule == POOL_DYNAMIC) &&
		    spawn(t, rs->sh, wk, w, rs->oldmask) < 0)
			record_failure(rs, SIZE_MAX, 1, "cannot restart %s", who);
		return;
	}
	/* A crash on an item is that item's failure; any other signal came
	 * from outside, and ends the whole run. */
	if (busy)
		record_failure(rs, s->pos, !is_crash(WTERMSIG(st)), "%s: %s killed by signal %d (SIG%s)",
			       t->name(t->ctx, t->first + s->pos), who, WTERMSIG(st),
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
		n += __atomic_load_n(&rs->sh->slot[w].done, __ATOMIC_RELAXED);
	return n;
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

/* Wait for every worker, reacting to each death as it happens. */
static void monitor(struct run_state *rs, unsigned alive)
{
	const struct pool_task *t = rs->t;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (alive > 0) {
		struct timespec tick = { 0, TICK_MS * 1000000L };
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
		if (t->progress && !rs->failing)
			t->progress(t->progress_ctx, total_done(rs), t->count, 0);
		if (sigtimedwait(&chld, NULL, &tick) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			die_errno("sigtimedwait");
	}
}

static void report_verbose(const struct run_state *rs)
{
	const struct pool_task *t = rs->t;
	unsigned w;

	for (w = 0; w < t->jobs; w++) {
		const struct slot *s = &rs->sh->slot[w];

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
	size_t maplen = sizeof(struct shared) + (size_t)t->jobs * sizeof(struct slot);
	struct run_state rs = { .t = t, .fail_index = SIZE_MAX };
	sigset_t chld, oldmask;
	unsigned w, alive = 0;
	int ret = 0;

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
	rs.sh->stop_at = SIZE_MAX;
	rs.wk = calloc(t->jobs, sizeof(*rs.wk));
	live_pids = calloc(t->jobs, sizeof(*live_pids));
	if (!rs.wk || !live_pids)
		die("out of memory");
	live_n = t->jobs;
	parent_pid = getpid();

	/* SIGCHLD stays blocked so that sigtimedwait() can wait for it. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask);
	rs.oldmask = &oldmask;

	for (w = 0; w < t->jobs; w++) {
		struct slot *s = &rs.sh->slot[w];

		if (t->schedule == POOL_DYNAMIC) {
			if (w >= t->count)
				break;
			s->begin = s->pos = s->end = 0;
		} else {
			pool_range(t->count, t->jobs, w, &s->pos, &s->end);
			s->begin = s->pos;
			if (s->pos == s->end)
				continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &rs.wk[w].t0);
		if (spawn(t, rs.sh, rs.wk, w, &oldmask) < 0) {
			record_failure(&rs, SIZE_MAX, 1, "cannot start worker %u", w);
			break;
		}
		alive++;
	}
	monitor(&rs, alive);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);

	for (w = 0; w < t->jobs; w++) {
		r->done += rs.sh->slot[w].done;
		r->skipped += rs.sh->slot[w].skipped;
	}
	r->skipped += rs.crashed;
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
