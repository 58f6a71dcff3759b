/* pool_test.c - unit tests of the process pool (pool.h): static ranges, every
 * item run exactly once, failures and crashes reported, keep_going, stopping. */
#define _GNU_SOURCE
#include "engine/pool.h"
#include "common/rng.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What run() does with an item. */
enum action {
	ACT_OK,
	ACT_FAIL,		/* return -1 with "boom" */
	ACT_SIGKILL,		/* raise(SIGKILL) */
	ACT_ABORT,		/* abort() */
	ACT_SEGV,		/* raise(SIGSEGV) */
	ACT_SLOW,		/* sleep 10 s */
	ACT_SLOW_NOTERM,	/* ignore SIGTERM, then sleep 10 s */
	ACT_FAIL_AFTER,		/* set ready, wait until item AFTER's worker
				 * is reaped, then fail */
	ACT_NAP,		/* sleep 20 ms */
	ACT_FAIL_READY,		/* wait until item READY is ready, then fail */
	/* Confined tasks only (run_input): */
	ACT_NO_INPUT,		/* do not take the item's input */
	ACT_BLOCKED,		/* make a call the filter stops (getppid) */
	ACT_BAD_INDEX,		/* ask for the input of an item past the end */
};

/* One item's record, in memory shared with the workers. */
struct item {
	unsigned hits;		/* times run() saw the item */
	int in_worker;		/* pool_in_worker() inside run() */
	pid_t pid;		/* the worker that ran it */
	int ready;		/* ACT_FAIL_AFTER has started */
	unsigned char act;	/* enum action, set by the test */
};

struct fixture {
	size_t first, count;	/* items first..first+count-1 */
	struct item *item;	/* MAP_SHARED, indexed from first */
	size_t maplen;
	size_t after;		/* ACT_FAIL_AFTER waits for this item's worker */
	size_t ready;		/* ACT_FAIL_READY waits for this item */
	char name[128];		/* name()'s buffer */
};

struct progress_log {
	size_t calls, finals;
	size_t last_done, last_total;
	int last_final;
	int monotonic;		/* done never went down */
};

static void *shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);

	cr_assert_neq(p, MAP_FAILED, "mmap: %s", strerror(errno));
	memset(p, 0, len);
	return p;
}

static void fixture_init(struct fixture *f, size_t first, size_t count)
{
	memset(f, 0, sizeof(*f));
	f->first = first;
	f->count = count;
	f->maplen = (count ? count : 1) * sizeof(struct item);
	f->item = shared_alloc(f->maplen);
}

static void fixture_free(struct fixture *f)
{
	munmap(f->item, f->maplen);
}

/* Wait (5 s at most) until PID is gone: exited and reaped by the pool. */
static void wait_reaped(pid_t pid)
{
	char path[64];
	int k;

	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	for (k = 0; k < 5000 && access(path, F_OK) == 0; k++)
		usleep(1000);
}

static int run_item(void *ctx, size_t i, char *why, size_t whylen)
{
	struct fixture *f = ctx;
	struct item *it = &f->item[i - f->first];
	struct item *other;

	__atomic_fetch_add(&it->hits, 1, __ATOMIC_SEQ_CST);
	it->in_worker = pool_in_worker();
	__atomic_store_n(&it->pid, getpid(), __ATOMIC_SEQ_CST);
	switch (it->act) {
	case ACT_FAIL:
		snprintf(why, whylen, "boom");
		return -1;
	case ACT_SIGKILL:
		raise(SIGKILL);
		break;
	case ACT_ABORT:
		abort();
	case ACT_SEGV:
		/* The default action, whatever handler a sanitizer installed:
		 * the death of a crashed decoder. */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		break;
	case ACT_SLOW_NOTERM:
		signal(SIGTERM, SIG_IGN);
		/* fall through */
	case ACT_SLOW:
		sleep(10);
		break;
	case ACT_NAP:
		usleep(20000);
		break;
	case ACT_FAIL_AFTER:
		__atomic_store_n(&it->ready, 1, __ATOMIC_SEQ_CST);
		other = &f->item[f->after - f->first];
		while (__atomic_load_n(&other->pid, __ATOMIC_SEQ_CST) == 0)
			usleep(1000);
		wait_reaped(other->pid);
		snprintf(why, whylen, "boom");
		return -1;
	case ACT_FAIL_READY:
		other = &f->item[f->ready - f->first];
		while (!__atomic_load_n(&other->ready, __ATOMIC_SEQ_CST))
			usleep(1000);
		snprintf(why, whylen, "boom");
		return -1;
	}
	return 0;
}

static const char *name_item(void *ctx, size_t i)
{
	struct fixture *f = ctx;

	snprintf(f->name, sizeof(f->name), "item-%zu", i);
	return f->name;
}

static void log_progress(void *pctx, size_t done, size_t total, int final)
{
	struct progress_log *p = pctx;

	if (p->calls && done < p->last_done)
		p->monotonic = 0;
	p->calls++;
	p->finals += final != 0;
	p->last_done = done;
	p->last_total = total;
	p->last_final = final;
}

static struct pool_task task_for(struct fixture *f, unsigned jobs,
				 enum pool_schedule sched)
{
	struct pool_task t = {
		.first = f->first,
		.count = f->count,
		.jobs = jobs,
		.schedule = sched,
		.run = run_item,
		.name = name_item,
		.ctx = f,
	};

	return t;
}

/* Every item was run exactly once. */
static void assert_each_once(const struct fixture *f, const char *what)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		cr_assert_eq(f->item[i].hits, 1, "%s: item %zu run %u times", what,
			     f->first + i, f->item[i].hits);
}

static void assert_no_children(void)
{
	errno = 0;
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
	cr_assert_eq(errno, ECHILD, "waitpid: %s", strerror(errno));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A pool that hangs fails the test rather than the whole suite. */
TestSuite(pool_run, .timeout = 60);

/* Check pool_range's promise for N items over J workers: contiguous,
 * in order, covering [0, N), sizes within one of each other. */
static void check_ranges(size_t n, unsigned jobs)
{
	size_t prev_end = 0, min = SIZE_MAX, max = 0;
	unsigned w;

	for (w = 0; w < jobs; w++) {
		size_t b, e;

		pool_range(n, jobs, w, &b, &e);
		cr_assert_eq(b, prev_end, "n=%zu j=%u w=%u: begin %zu, previous end %zu",
			     n, jobs, w, b, prev_end);
		cr_assert_leq(b, e, "n=%zu j=%u w=%u: begin %zu > end %zu", n, jobs, w,
			      b, e);
		if (e - b < min)
			min = e - b;
		if (e - b > max)
			max = e - b;
		prev_end = e;
	}
	cr_assert_eq(prev_end, n, "n=%zu j=%u: ranges end at %zu", n, jobs, prev_end);
	cr_assert_leq(max - min, 1, "n=%zu j=%u: range sizes %zu to %zu", n, jobs,
		      min, max);
}


/* Run T with stderr captured: *RET is pool_run's result, the return value
 * what it printed (malloc'd). */
static char *run_captured(const struct pool_task *t, struct pool_result *r, int *ret)
{
	struct ut_capture c;

	ut_capture_begin(&c);
	*ret = pool_run(t, r);
	return ut_capture_end(&c);
}

Test(pool_range, covers_every_item_once_in_order)
{
	static const size_t ns[] = { 0, 1, 2, 3, 5, 7, 10, 16, 100, 1000, 1023,
				     1024, 1025, 12345, 2000000 };
	static const unsigned js[] = { 1, 2, 3, 4, 5, 7, 8, 16, 17, 64, 100,
				       1000, POOL_MAX_JOBS };
	size_t i, k;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (k = 0; k < sizeof(js) / sizeof(js[0]); k++)
			check_ranges(ns[i], js[k]);
}

Test(pool_range, fewer_items_than_workers)
{
	size_t b, e, total = 0;
	unsigned w;

	check_ranges(3, 8);
	for (w = 0; w < 8; w++) {
		pool_range(3, 8, w, &b, &e);
		cr_assert_leq(e - b, 1);
		total += e - b;
	}
	cr_assert_eq(total, 3);
}

Test(pool_range, one_worker_gets_everything)
{
	size_t b, e;

	pool_range(12345, 1, 0, &b, &e);
	cr_assert_eq(b, 0);
	cr_assert_eq(e, 12345);
	pool_range(0, 1, 0, &b, &e);
	cr_assert_eq(b, 0);
	cr_assert_eq(e, 0);
}

Test(pool_range, large_counts_do_not_overflow)
{
	size_t b, e;

	check_ranges((size_t)1 << 40, 7);
	check_ranges(SIZE_MAX, 7);
	check_ranges(SIZE_MAX, POOL_MAX_JOBS);
	check_ranges(SIZE_MAX - 1, 3);
	/* Shards: many more parts than items, and parts near 2^62. */
	pool_range(10, (size_t)1 << 62, ((size_t)1 << 62) - 1, &b, &e);
	cr_assert_eq(b, 9);
	cr_assert_eq(e, 10);
	pool_range(SIZE_MAX, (size_t)1 << 62, ((size_t)1 << 62) - 1, &b, &e);
	cr_assert_eq(e, SIZE_MAX);
	cr_assert_eq(b, SIZE_MAX - 4, "begin %zu", b);
	pool_range((size_t)1 << 40, 7, 3, &b, &e);
	cr_assert_eq(b, (size_t)(((unsigned __int128)1 << 40) * 3 / 7));
	cr_assert_eq(e, (size_t)(((unsigned __int128)1 << 40) * 4 / 7));
	pool_range(SIZE_MAX, 2, 1, &b, &e);
	cr_assert_eq(b, SIZE_MAX / 2);
	cr_assert_eq(e, SIZE_MAX);
}

/* Run N items over J workers with SCHED; each item must be run once, in a
 * worker, and pool_run must succeed. */
static void run_all_once(size_t n, unsigned jobs, enum pool_schedule sched)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	size_t i;

	fixture_init(&f, 0, n);
	t = task_for(&f, jobs, sched);
	cr_assert_eq(pool_run(&t, &r), 0, "n=%zu j=%u sched=%d", n, jobs, sched);
	cr_assert_eq(r.done, n, "n=%zu j=%u sched=%d: done %zu", n, jobs, sched, r.done);
	cr_assert_eq(r.skipped, 0);
	assert_each_once(&f, "run_all_once");
	for (i = 0; i < n; i++)
		cr_assert_eq(f.item[i].in_worker, 1, "item %zu not run in a worker", i);
	cr_assert_eq(pool_in_worker(), 0);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, static_every_item_once)
{
	static const size_t ns[] = { 1, 2, 5, 10, 97, 1000 };
	static const unsigned js[] = { 1, 2, 3, 7, 16 };
	size_t i, k;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (k = 0; k < sizeof(js) / sizeof(js[0]); k++)
			run_all_once(ns[i], js[k], POOL_STATIC);
}

Test(pool_run, dynamic_every_item_once)
{
	static const size_t ns[] = { 1, 2, 5, 10, 97, 1000, 20000 };
	static const unsigned js[] = { 1, 2, 3, 7, 16 };
	size_t i, k;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (k = 0; k < sizeof(js) / sizeof(js[0]); k++)
			run_all_once(ns[i], js[k], POOL_DYNAMIC);
}

/* The longest dynamic chunk a range hook was handed, across workers. */
static size_t *longest_chunk;

static int note_chunk(void *ctx, size_t begin, size_t end, char *why, size_t whylen)
{
	size_t len = end - begin, had = __atomic_load_n(longest_chunk, __ATOMIC_RELAXED);

	(void)ctx, (void)why, (void)whylen;
	while (len > had && !__atomic_compare_exchange_n(longest_chunk, &had, len, 0,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return 0;
}

/* A task's CHUNK sets the dynamic claims' size (a stream's, a fraction of
 * a ring window), confined or not; 0 keeps the pool's own. */
Test(pool_run, dynamic_chunk_is_the_tasks)
{
	static const size_t chunks[] = { 1, 5, 0 };
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	size_t k;

	longest_chunk = shared_alloc(sizeof(*longest_chunk));
	for (k = 0; k < 3; k++) {
		*longest_chunk = 0;
		fixture_init(&f, 0, 1000);
		t = task_for(&f, 3, POOL_DYNAMIC);
		t.chunk = chunks[k];
		t.range = note_chunk;
		cr_assert_eq(pool_run(&t, &r), 0);
		cr_assert_eq(r.done, 1000);
		assert_each_once(&f, "dynamic_chunk_is_the_tasks");
		cr_assert_eq(*longest_chunk, chunks[k] ? chunks[k] : 1000 / (3 * 16),
			     "chunk %zu: longest claim %zu", chunks[k], *longest_chunk);
		fixture_free(&f);
	}
	munmap(longest_chunk, sizeof(*longest_chunk));
	assert_no_children();
}

Test(pool_run, more_workers_than_items)
{
	run_all_once(3, 8, POOL_STATIC);
	run_all_once(3, 8, POOL_DYNAMIC);
	run_all_once(1, 64, POOL_STATIC);
	run_all_once(1, 64, POOL_DYNAMIC);
}

Test(pool_run, no_items)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r = { 7, 7 };
	struct progress_log p = { .monotonic = 1 };

	fixture_init(&f, 0, 0);
	t = task_for(&f, 4, POOL_STATIC);
	t.progress = log_progress;
	t.progress_ctx = &p;
	cr_assert_eq(pool_run(&t, &r), 0);
	cr_assert_eq(r.done, 0);
	cr_assert_eq(r.skipped, 0);
	cr_assert_eq(p.finals, 1);
	cr_assert_eq(p.last_final, 1);
	cr_assert_eq(p.last_done, 0);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, progress_ends_with_final_call)
{
	static const enum pool_schedule scheds[] = { POOL_STATIC, POOL_DYNAMIC };
	size_t k;

	for (k = 0; k < 2; k++) {
		struct fixture f;
		struct pool_task t;
		struct pool_result r;
		struct progress_log p = { .monotonic = 1 };

		fixture_init(&f, 0, 500);
		t = task_for(&f, 3, scheds[k]);
		t.progress = log_progress;
		t.progress_ctx = &p;
		cr_assert_eq(pool_run(&t, &r), 0);
		cr_assert_geq(p.calls, 1);
		cr_assert_eq(p.finals, 1, "final progress calls: %zu", p.finals);
		cr_assert_eq(p.last_final, 1, "the last progress call is not final");
		cr_assert_eq(p.last_done, 500, "final done %zu", p.last_done);
		cr_assert_eq(p.last_total, 500);
		cr_assert(p.monotonic, "progress went backwards");
		fixture_free(&f);
	}
}

Test(pool_run, failing_item_is_named_with_worker_range)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	size_t i;
	int ret;

	fixture_init(&f, 0, 10);
	f.item[7].act = ACT_FAIL;
	t = task_for(&f, 2, POOL_STATIC);
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, -1);
	cr_assert_not_null(strstr(err, "parimg: item-7: boom [worker 1/2 (items 5-9)]"),
			   "stderr: %s", err);
	/* Items after the failing one in its worker were never reached;
	 * all those before it were run. */
	cr_assert_eq(f.item[8].hits, 0);
	cr_assert_eq(f.item[9].hits, 0);
	for (i = 0; i <= 7; i++)
		cr_assert_eq(f.item[i].hits, 1, "item %zu run %u times", i, f.item[i].hits);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, failing_item_dynamic)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 0, 100);
	f.item[42].act = ACT_FAIL;
	t = task_for(&f, 3, POOL_DYNAMIC);
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, -1);
	cr_assert_not_null(strstr(err, "item-42: boom ["), "stderr: %s", err);
	{
		/* The chunk the worker had in hand, which holds the item. */
		const char *at = strstr(err, "(chunk ");
		size_t a, b;

		cr_assert_not_null(at, "stderr: %s", err);
		cr_assert_eq(sscanf(at, "(chunk %zu-%zu)]", &a, &b), 2, "stderr: %s", err);
		cr_assert(a <= 42 && 42 <= b, "chunk %zu-%zu lacks item 42", a, b);
	}
	free(err);
	fixture_free(&f);
	assert_no_children();
}

/* The failure of the lowest item is the one reported, even when a higher
 * one failed, and was reaped, first: item 1's worker, being before item 3,
 * is not stopped, and fails only once item 3's worker is reaped. */
Test(pool_run, lowest_failing_item_is_reported)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 0, 4);
	f.item[1].act = ACT_FAIL_AFTER;
	f.after = 3;
	f.item[3].act = ACT_FAIL_READY;
	f.ready = 1;
	t = task_for(&f, 4, POOL_STATIC);
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, -1);
	cr_assert_not_null(strstr(err, "item-1: boom [worker 1/4 (items 1-1)]"),
			   "stderr: %s", err);
	cr_assert_null(strstr(err, "item-3"), "stderr: %s", err);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

/* A shard's pool: run() and name() see absolute indices, messages show
 * absolute ranges. */
Test(pool_run, first_offsets_indices)
{
	static const enum pool_schedule scheds[] = { POOL_STATIC, POOL_DYNAMIC };
	size_t k;

	for (k = 0; k < 2; k++) {
		struct fixture f;
		struct pool_task t;
		struct pool_result r;

		fixture_init(&f, 1000, 37);
		t = task_for(&f, 4, scheds[k]);
		cr_assert_eq(pool_run(&t, &r), 0);
		cr_assert_eq(r.done, 37);
		assert_each_once(&f, "first_offsets_indices");
		fixture_free(&f);
	}
}

Test(pool_run, first_in_failure_message)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 100, 10);
	f.item[7].act = ACT_FAIL;
	t = task_for(&f, 2, POOL_STATIC);
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, -1);
	cr_assert_not_null(strstr(err, "parimg: item-107: boom [worker 1/2 (items 105-109)]"),
			   "stderr: %s", err);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, first_with_crash_under_keep_going)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 50, 10);
	f.item[2].act = ACT_SEGV;
	f.item[6].act = ACT_FAIL;
	t = task_for(&f, 2, POOL_STATIC);
	t.keep_going = 1;
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, 0, "stderr: %s", err);
	cr_assert_eq(r.skipped, 2);
	assert_each_once(&f, "first_with_crash_under_keep_going");
	cr_assert_not_null(strstr(err, "item-52: worker 0/2 (items 50-54) crashed with SIGSEGV"),
			   "stderr: %s", err);
	cr_assert_not_null(strstr(err, "parimg: item-56: boom\n"), "stderr: %s", err);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

/* Workers still before a failing item go on up to it, however slow, so
 * that the first failing item in order is known; nothing is run twice. */
static void before_failure_all_run(enum pool_schedule sched, size_t n, unsigned jobs,
				   size_t bad)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err, want[64];
	size_t i;
	int ret;

	fixture_init(&f, 0, n);
	for (i = 0; i < bad; i++)
		f.item[i].act = i % 7 == 0 ? ACT_NAP : ACT_OK;
	f.item[bad].act = ACT_FAIL;
	t = task_for(&f, jobs, sched);
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, -1);
	snprintf(want, sizeof(want), "parimg: item-%zu: boom [", bad);
	cr_assert_not_null(strstr(err, want), "stderr: %s", err);
	for (i = 0; i <= bad; i++)
		cr_assert_eq(f.item[i].hits, 1, "sched=%d: item %zu, before the failure, run %u times",
			     sched, i, f.item[i].hits);
	for (; i < n; i++)
		cr_assert_leq(f.item[i].hits, 1, "item %zu run %u times", i, f.item[i].hits);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, items_before_a_failure_all_run)
{
	before_failure_all_run(POOL_STATIC, 10, 2, 7);
	before_failure_all_run(POOL_STATIC, 40, 4, 25);
	before_failure_all_run(POOL_DYNAMIC, 200, 4, 100);
	before_failure_all_run(POOL_DYNAMIC, 50, 3, 49);
}

static void killed_worker(enum action act, const char *sig)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 0, 10);
	f.item[3].act = (unsigned char)act;
	t = task_for(&f, 2, POOL_STATIC);
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, -1);
	cr_assert_not_null(strstr(err, "item-3: worker 0/2 (items 0-4) killed by signal"),
			   "stderr: %s", err);
	cr_assert_not_null(strstr(err, sig), "no %s in stderr: %s", sig, err);
	cr_assert_eq(f.item[4].hits, 0, "the dead worker's next item was run");
	free(err);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, worker_killed_by_sigkill)
{
	killed_worker(ACT_SIGKILL, "(SIGKILL)");
}

Test(pool_run, worker_aborts)
{
	killed_worker(ACT_ABORT, "(SIGABRT)");
}

/* Without keep_going a crash is fatal too. */
Test(pool_run, worker_segfaults)
{
	killed_worker(ACT_SEGV, "(SIGSEGV)");
}

static void crash_kept_going(enum pool_schedule sched, unsigned jobs)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 0, 20);
	f.item[4].act = ACT_SEGV;
	t = task_for(&f, jobs, sched);
	t.keep_going = 1;
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, 0, "sched=%d j=%u stderr: %s", sched, jobs, err);
	cr_assert_eq(r.skipped, 1, "sched=%d j=%u skipped %zu", sched, jobs, r.skipped);
	cr_assert_eq(r.done, 20, "sched=%d j=%u done %zu", sched, jobs, r.done);
	/* Item 4 was tried once, not retried; the rest of its range ran in a
	 * fresh worker. */
	assert_each_once(&f, "crash_kept_going");
	cr_assert_not_null(strstr(err, "item-4: "), "stderr: %s", err);
	cr_assert_not_null(strstr(err, "SIGSEGV"), "stderr: %s", err);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, keep_going_survives_a_crash)
{
	crash_kept_going(POOL_STATIC, 3);
	crash_kept_going(POOL_STATIC, 1);
	crash_kept_going(POOL_DYNAMIC, 3);
	crash_kept_going(POOL_DYNAMIC, 1);
}

/* The crash is the last item of a worker's range: nothing to restart. */
Test(pool_run, keep_going_crash_at_range_end)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 0, 10);
	f.item[4].act = ACT_SEGV;
	f.item[9].act = ACT_ABORT;
	t = task_for(&f, 2, POOL_STATIC);
	t.keep_going = 1;
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, 0, "stderr: %s", err);
	cr_assert_eq(r.skipped, 2);
	cr_assert_eq(r.done, 10);
	assert_each_once(&f, "keep_going_crash_at_range_end");
	free(err);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, keep_going_counts_failed_items)
{
	static const enum pool_schedule scheds[] = { POOL_STATIC, POOL_DYNAMIC };
	size_t k;

	for (k = 0; k < 2; k++) {
		struct fixture f;
		struct pool_task t;
		struct pool_result r;
		struct ut_capture c;
		char *err;
		int ret;

		fixture_init(&f, 0, 30);
		f.item[0].act = ACT_FAIL;
		f.item[13].act = ACT_FAIL;
		f.item[29].act = ACT_FAIL;
		t = task_for(&f, 4, scheds[k]);
		t.keep_going = 1;
		ut_capture_begin(&c);
		ret = pool_run(&t, &r);
		err = ut_capture_end(&c);
		cr_assert_eq(ret, 0, "stderr: %s", err);
		cr_assert_eq(r.skipped, 3, "skipped %zu", r.skipped);
		cr_assert_eq(r.done, 30);
		assert_each_once(&f, "keep_going_counts_failed_items");
		cr_assert_not_null(strstr(err, "parimg: item-0: boom\n"), "stderr: %s", err);
		cr_assert_not_null(strstr(err, "parimg: item-13: boom\n"), "stderr: %s", err);
		cr_assert_not_null(strstr(err, "parimg: item-29: boom\n"), "stderr: %s", err);
		free(err);
		fixture_free(&f);
		assert_no_children();
	}
}

/* A worker that would take 10 s is stopped once another fails. */
static void slow_worker_stopped(enum action slow)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	struct ut_capture c;
	double t0, secs;
	char *err;
	int ret;

	fixture_init(&f, 0, 2);
	f.item[0].act = ACT_FAIL;
	f.item[1].act = (unsigned char)slow;
	t = task_for(&f, 2, POOL_STATIC);
	ut_capture_begin(&c);
	t0 = now();
	ret = pool_run(&t, &r);
	secs = now() - t0;
	err = ut_capture_end(&c);
	cr_assert_eq(ret, -1);
	cr_assert_not_null(strstr(err, "item-0: boom"), "stderr: %s", err);
	/* Generous: SIGTERM at once, SIGKILL after a grace period. */
	cr_assert_lt(secs, 6.0, "pool_run took %.1f s", secs);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

Test(pool_run, slow_worker_is_stopped)
{
	slow_worker_stopped(ACT_SLOW);
}

Test(pool_run, worker_ignoring_sigterm_is_killed)
{
	slow_worker_stopped(ACT_SLOW_NOTERM);
}

/* ---------------------------------------------------------------- confined */

/* name() of a confined task: item I's input, ut_scratch/item-I. */
static const char *path_item(void *ctx, size_t i)
{
	struct fixture *f = ctx;

	snprintf(f->name, sizeof(f->name), "%s/item-%zu", ut_scratch, i);
	return f->name;
}

/* A confined item: take its input from the parent and check it holds
 * "item-I", then do what run_item does. */
static int run_input(void *ctx, size_t i, char *why, size_t whylen)
{
	struct fixture *f = ctx;
	struct item *it = &f->item[i - f->first];
	char want[32], got[32] = "";
	ssize_t n;
	int fd;

	if (it->act == ACT_BAD_INDEX)
		pool_input(f->first + f->count + 5);
	if (it->act == ACT_BLOCKED)
		syscall(SYS_getppid);
	if (it->act != ACT_NO_INPUT) {
		if ((fd = pool_input(i)) < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			__atomic_fetch_add(&it->hits, 1, __ATOMIC_SEQ_CST);
			return -1;
		}
		n = read(fd, got, sizeof(got) - 1);
		close(fd);
		snprintf(want, sizeof(want), "item-%zu", i);
		if (n < 0 || strcmp(got, want) != 0) {
			snprintf(why, whylen, "wrong input '%s'", got);
			__atomic_fetch_add(&it->hits, 1, __ATOMIC_SEQ_CST);
			return -1;
		}
	}
	return run_item(ctx, i, why, whylen);
}

/* F's items as files, and a confined task over them. */
static struct pool_task confined_task(struct fixture *f, unsigned jobs, enum pool_schedule sched)
{
	struct pool_task t = task_for(f, jobs, sched);
	size_t i;

	ut_scratch_make();
	for (i = 0; i < f->count; i++) {
		FILE *fp = fopen(path_item(f, f->first + i), "w");

		cr_assert_not_null(fp);
		fprintf(fp, "item-%zu", f->first + i);
		fclose(fp);
	}
	t.run = run_input;
	t.name = path_item;
	t.confine = 1;
	t.confine_fd = -1;
	return t;
}

Test(pool_confined, every_item_gets_its_own_input, .fini = ut_scratch_remove)
{
	static const enum pool_schedule scheds[] = { POOL_STATIC, POOL_DYNAMIC };
	static const unsigned jobs[] = { 1, 3 };
	size_t k, j;

	for (k = 0; k < 2; k++)
		for (j = 0; j < 2; j++) {
			struct fixture f;
			struct pool_task t;
			struct pool_result r;
			char *err;
			int ret;

			/* Over 32 items a worker: more than one batch. */
			fixture_init(&f, 5, 200);
			t = confined_task(&f, jobs[j], scheds[k]);
			err = run_captured(&t, &r, &ret);
			cr_assert_eq(ret, 0, "sched=%d j=%u stderr: %s", scheds[k], jobs[j], err);
			cr_assert_eq(r.done, 200);
			cr_assert_eq(r.skipped, 0);
			assert_each_once(&f, "confined");
			free(err);
			fixture_free(&f);
			ut_scratch_remove();
			assert_no_children();
		}
}

Test(pool_confined, missing_input_is_the_open_error, .fini = ut_scratch_remove)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 0, 10);
	t = confined_task(&f, 2, POOL_STATIC);
	t.keep_going = 1;
	unlink(path_item(&f, 6));
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, 0, "stderr: %s", err);
	cr_assert_eq(r.skipped, 1);
	cr_assert_not_null(strstr(err, "/item-6: No such file or directory"), "stderr: %s", err);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

/* The kept hook: items whose I % 50 is 10 or more (runs of 40, longer
 * than a batch, between runs of 10 handed over) are read from the one
 * kept descriptor, ut_scratch/kept, item I's 16 bytes at I * 16. */
static int kept_fd[1] = { -1 };

static int kept_item(void *ctx, size_t i)
{
	(void)ctx;
	return i % 50 >= 10;
}

/* A confined item whose input is kept or handed over, as kept_item says:
 * pool_input gives -2 exactly for a kept one, which is then read from the
 * kept descriptor by the number the sandbox gave it; ACT_BLOCKED here
 * writes to that descriptor instead (read-only: the filter stops it). */
static int run_kept(void *ctx, size_t i, char *why, size_t whylen)
{
	struct fixture *f = ctx;
	struct item *it = &f->item[i - f->first];
	char want[32], got[32] = "";
	int fd = pool_input(i);
	ssize_t n;

	if (it->act == ACT_BLOCKED)
		n = write(kept_fd[0], "x", 1);
	if ((fd == -2) != kept_item(ctx, i)) {
		snprintf(why, whylen, "pool_input gave %d", fd);
		__atomic_fetch_add(&it->hits, 1, __ATOMIC_SEQ_CST);
		return -1;
	}
	n = fd == -2 ? pread(kept_fd[0], got, 16, (off_t)i * 16) : read(fd, got, sizeof(got) - 1);
	if (fd >= 0)
		close(fd);
	snprintf(want, sizeof(want), fd == -2 ? "kept-%011zu" : "item-%zu", i);
	if (n < 0 || strcmp(got, want) != 0) {
		snprintf(why, whylen, "wrong input '%s'", got);
		__atomic_fetch_add(&it->hits, 1, __ATOMIC_SEQ_CST);
		return -1;
	}
	return run_item(ctx, i, why, whylen);
}

/* F's items, each in a file and in ut_scratch/kept, and a confined task
 * that keeps the latter's descriptor (kept_fd, opened here). */
static struct pool_task kept_task(struct fixture *f, unsigned jobs, enum pool_schedule sched)
{
	struct pool_task t = confined_task(f, jobs, sched);
	char path[96];
	FILE *fp;
	size_t i;

	snprintf(path, sizeof(path), "%s/kept", ut_scratch);
	cr_assert_not_null(fp = fopen(path, "w"));
	for (i = 0; i < f->first + f->count; i++)
		fprintf(fp, "kept-%011zu", i);
	fclose(fp);
	cr_assert_geq(kept_fd[0] = open(path, O_RDONLY | O_CLOEXEC), 0);
	t.run = run_kept;
	t.keep = kept_fd;
	t.nkeep = 1;
	t.kept = kept_item;
	return t;
}

/* Items read from a kept descriptor come with none handed over, in spans
 * past a batch and mixed with handed ones, static and dynamic; the worker
 * may not write to it. */
Test(pool_confined, kept_items_read_from_the_kept_descriptor, .fini = ut_scratch_remove)
{
	static const enum pool_schedule scheds[] = { POOL_STATIC, POOL_DYNAMIC };
	static const unsigned jobs[] = { 1, 3 };
	size_t k, j;

	for (k = 0; k < 2; k++)
		for (j = 0; j < 3; j++) {
			struct fixture f;
			struct pool_task t;
			struct pool_result r;
			char *err;
			int ret;

			fixture_init(&f, 0, 400);
			if (j == 2)
				f.item[123].act = ACT_BLOCKED;
			t = kept_task(&f, jobs[j % 2], scheds[k]);
			err = run_captured(&t, &r, &ret);
			if (j == 2) {
				cr_assert_eq(ret, -1);
				cr_assert_not_null(strstr(err, "/item-123: worker stopped: blocked "
							  "system call write"), "stderr: %s", err);
			} else {
				cr_assert_eq(ret, 0, "sched=%d j=%u stderr: %s", scheds[k],
					     jobs[j], err);
				cr_assert_eq(r.done, 400);
				assert_each_once(&f, "kept");
			}
			close(kept_fd[0]);
			free(err);
			fixture_free(&f);
			ut_scratch_remove();
			assert_no_children();
		}
}

/* The pair hook: item I's second input, ut_scratch/pair-I, opened in the
 * parent (-1 with ENOENT where that file is not there). */
static int open_pair(void *ctx, size_t i)
{
	char path[96];

	(void)ctx;
	snprintf(path, sizeof(path), "%s/pair-%zu", ut_scratch, i);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* A confined item with a pair: its input, then its second, each holding
 * its own name. */
static int run_pair(void *ctx, size_t i, char *why, size_t whylen)
{
	char want[32], got[32] = "";
	ssize_t n;
	int fd;

	if (run_input(ctx, i, why, whylen) < 0)
		return -1;
	if ((fd = pool_pair(i)) < 0) {
		snprintf(why, whylen, "pair: %s", strerror(errno));
		return -1;
	}
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	snprintf(want, sizeof(want), "pair-%zu", i);
	if (n < 0 || strcmp(got, want) != 0) {
		snprintf(why, whylen, "wrong pair '%s'", got);
		return -1;
	}
	return 0;
}

/* load --masks's path: every item gets its own two descriptors, over more
 * than one batch, static and dynamic; a pair the hook cannot open fails
 * its item with the hook's errno. */
Test(pool_confined, pair_hook_hands_a_second_input, .fini = ut_scratch_remove)
{
	static const enum pool_schedule scheds[] = { POOL_STATIC, POOL_DYNAMIC };
	size_t k, i;

	for (k = 0; k < 2; k++) {
		struct fixture f;
		struct pool_task t;
		struct pool_result r;
		char *err, path[96];
		int ret;

		fixture_init(&f, 3, 150);
		t = confined_task(&f, 2, scheds[k]);
		t.run = run_pair;
		t.pair = open_pair;
		t.keep_going = 1;
		for (i = f.first; i < f.first + f.count; i++) {
			FILE *fp;

			snprintf(path, sizeof(path), "%s/pair-%zu", ut_scratch, i);
			if (i == 77)
				continue;	/* no pair */
			cr_assert_not_null(fp = fopen(path, "w"));
			fprintf(fp, "pair-%zu", i);
			fclose(fp);
		}
		err = run_captured(&t, &r, &ret);
		cr_assert_eq(ret, 0, "sched=%d stderr: %s", scheds[k], err);
		cr_assert_eq(r.done, 150);
		cr_assert_eq(r.skipped, 1, "sched=%d stderr: %s", scheds[k], err);
		cr_assert_not_null(strstr(err, "/item-77: pair: No such file or directory"),
				   "stderr: %s", err);
		free(err);
		fixture_free(&f);
		ut_scratch_remove();
		assert_no_children();
	}
}

/* A call outside the filter: named, the item failed; under keep_going the
 * rest goes on in a fresh worker. */
Test(pool_confined, blocked_call_is_named, .fini = ut_scratch_remove)
{
	int kg;

	for (kg = 0; kg < 2; kg++) {
		struct fixture f;
		struct pool_task t;
		struct pool_result r;
		char *err;
		int ret;

		fixture_init(&f, 0, 10);
		f.item[3].act = ACT_BLOCKED;
		t = confined_task(&f, 2, POOL_STATIC);
		t.keep_going = kg;
		err = run_captured(&t, &r, &ret);
		cr_assert_eq(ret, kg ? 0 : -1, "stderr: %s", err);
		cr_assert_not_null(strstr(err, "/item-3: worker stopped: blocked system call getppid "
					  "(possible exploit or a bug in parimg)"), "stderr: %s", err);
		if (kg) {
			cr_assert_eq(r.skipped, 1);
			cr_assert_eq(f.item[4].hits, 1, "the rest of the range did not run");
		}
		free(err);
		fixture_free(&f);
		ut_scratch_remove();
		assert_no_children();
	}
}

/* A confined pool of N items on JOBS workers whose item BAD does ACT must
 * fail under schedule SCHED, naming item BAD and saying WANT. */
static void expect_broken(size_t n, unsigned jobs, enum pool_schedule sched, size_t bad,
			  enum action act, const char *want)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char name[32], *err;
	int ret;

	fixture_init(&f, 0, n);
	f.item[bad].act = act;
	t = confined_task(&f, jobs, sched);
	err = run_captured(&t, &r, &ret);
	snprintf(name, sizeof(name), "/item-%zu: worker ", bad);
	cr_assert_eq(ret, -1, "stderr: %s", err);
	cr_assert_not_null(strstr(err, name), "stderr: %s", err);
	cr_assert_not_null(strstr(err, want), "stderr: %s", err);
	free(err);
	fixture_free(&f);
	ut_scratch_remove();
	assert_no_children();
}

/* The parent checks a worker's request against the range it gave it, and
 * kills a worker that asks for another's input. */
Test(pool_confined, request_outside_the_range_is_killed, .fini = ut_scratch_remove)
{
	static const char want[] = "broke the protocol (asked for items 15-15, not its own) "
				   "and was killed";

	expect_broken(10, 2, POOL_STATIC, 2, ACT_BAD_INDEX, want);
	expect_broken(10, 2, POOL_DYNAMIC, 2, ACT_BAD_INDEX, want);
}

/* A worker that exits 0 without taking all its items' inputs has not done
 * its work: the parent does not take its word for it. Dynamic: caught as it
 * asks for the next chunk. */
Test(pool_confined, exit_before_taking_all_items_fails, .fini = ut_scratch_remove)
{
	expect_broken(1, 1, POOL_STATIC, 0, ACT_NO_INPUT,
		      "broke the protocol (exited before taking all its items)");
	expect_broken(1, 1, POOL_DYNAMIC, 0, ACT_NO_INPUT,
		      "broke the protocol (asked for a chunk with items 0-0 still to take)");
}

/* The crash tests, confined: a crash is still a crash. */
Test(pool_confined, crash_under_keep_going, .fini = ut_scratch_remove)
{
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	int ret;

	fixture_init(&f, 0, 20);
	f.item[4].act = ACT_SEGV;
	f.item[11].act = ACT_FAIL;
	t = confined_task(&f, 3, POOL_DYNAMIC);
	t.keep_going = 1;
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, 0, "stderr: %s", err);
	cr_assert_eq(r.skipped, 2, "skipped %zu, stderr: %s", r.skipped, err);
	cr_assert_eq(r.done, 20);
	assert_each_once(&f, "confined crash");
	cr_assert_not_null(strstr(err, "/item-4: "), "stderr: %s", err);
	cr_assert_not_null(strstr(err, "SIGSEGV"), "stderr: %s", err);
	cr_assert_not_null(strstr(err, "/item-11: boom"), "stderr: %s", err);
	free(err);
	fixture_free(&f);
	assert_no_children();
}

static size_t lost_items[4], nlost;

static void note_lost(void *ctx, size_t i)
{
	(void)ctx;
	if (nlost < 4)
		lost_items[nlost] = i;
	nlost++;
}

/* Under keep_going, lost() hears of each item a worker died on, in the
 * parent, confined or not; a plain failure is not one. */
Test(pool_run, lost_hook_names_the_items_workers_died_on, .fini = ut_scratch_remove)
{
	int confined;

	for (confined = 0; confined < 2; confined++) {
		struct fixture f;
		struct pool_task t;
		struct pool_result r;
		char *err;
		int ret;

		fixture_init(&f, 100, 10);
		f.item[3].act = ACT_SEGV;
		f.item[5].act = ACT_FAIL;
		f.item[7].act = confined ? ACT_BLOCKED : ACT_ABORT;
		t = confined ? confined_task(&f, 2, POOL_STATIC) : task_for(&f, 2, POOL_STATIC);
		t.keep_going = 1;
		t.lost = note_lost;
		nlost = 0;
		err = run_captured(&t, &r, &ret);
		cr_assert_eq(ret, 0, "stderr: %s", err);
		cr_assert_eq(r.skipped, 3, "stderr: %s", err);
		cr_assert_eq(nlost, 2, "lost() called %zu times", nlost);
		cr_assert(lost_items[0] + lost_items[1] == 210 &&
			  (lost_items[0] == 103 || lost_items[0] == 107),
			  "lost items %zu, %zu", lost_items[0], lost_items[1]);
		free(err);
		fixture_free(&f);
		if (confined)
			ut_scratch_remove();
		assert_no_children();
	}
}

/* Random streams in forked workers (rng.h): each item's stream is keyed by
 * (seed, index), so what the workers make is what a serial loop makes, and
 * no two items share bytes (the recipe's workers shared one state). */
#define STREAM 64

static void rng_stream(uint64_t seed, uint64_t index, unsigned char *out, size_t len)
{
	struct rng r;

	rng_init(&r, seed, index);
	rng_fill(&r, out, len);
}

static int cmp_stream(const void *a, const void *b)
{
	return memcmp(a, b, STREAM);
}

struct rng_ctx {
	unsigned char *out;	/* MAP_SHARED: COUNT streams */
};

static int rng_fill_item(void *ctx, size_t i, char *why, size_t whylen)
{
	struct rng_ctx *c = ctx;

	(void)why;
	(void)whylen;
	rng_stream(99, i, c->out + i * STREAM, STREAM);
	return 0;
}

static const char *rng_item_name(void *ctx, size_t i)
{
	(void)ctx;
	(void)i;
	return "item";
}

Test(pool, forked_rng_streams_match_serial)
{
	enum { N = 500 };
	static unsigned char serial[N * STREAM];
	struct rng_ctx c;
	struct pool_task t = {
		.count = N, .jobs = 4, .schedule = POOL_DYNAMIC,
		.run = rng_fill_item, .name = rng_item_name, .ctx = &c,
	};
	struct pool_result res;
	size_t i;

	c.out = mmap(NULL, N * STREAM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	cr_assert_neq(c.out, MAP_FAILED, "mmap: %s", strerror(errno));
	cr_assert_eq(pool_run(&t, &res), 0);
	for (i = 0; i < N; i++)
		rng_stream(99, i, serial + i * STREAM, STREAM);
	cr_assert_eq(memcmp(c.out, serial, sizeof(serial)), 0);
	qsort(c.out, N, STREAM, cmp_stream);
	for (i = 1; i < N; i++)
		cr_assert_neq(memcmp(c.out + (i - 1) * STREAM, c.out + i * STREAM, STREAM), 0);
	munmap(c.out, N * STREAM);
}

/* Confined, static, more than a batch: after a crash the fresh worker
 * starts at the next item and is handed again the rest of the batch the
 * dead one held (it never decoded them); each crash is skipped once, every
 * other item run once. Two crashes in a row, and one at a batch's end. */
Test(pool_confined, crash_mid_batch_rehands_the_rest, .fini = ut_scratch_remove)
{
	static const size_t crash[] = { 5, 40, 41, 63, 95 };
	struct fixture f;
	struct pool_task t;
	struct pool_result r;
	char *err;
	size_t k;
	int ret;

	fixture_init(&f, 0, 100);
	for (k = 0; k < 5; k++)
		f.item[crash[k]].act = ACT_SEGV;
	t = confined_task(&f, 1, POOL_STATIC);
	t.keep_going = 1;
	err = run_captured(&t, &r, &ret);
	cr_assert_eq(ret, 0, "stderr: %s", err);
	cr_assert_eq(r.skipped, 5, "skipped %zu, stderr: %s", r.skipped, err);
	cr_assert_eq(r.done, 100, "done %zu", r.done);
	assert_each_once(&f, "crash mid-batch");
	free(err);
	fixture_free(&f);
	assert_no_children();
}
