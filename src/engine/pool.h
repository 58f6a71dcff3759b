/* pool.h - the fork/waitpid process pool under every subcommand.
 * Workers get contiguous index ranges (or claim chunks from a shared counter),
 * report progress and their first error through a MAP_SHARED mapping, and are
 * reaped, checked and, on the first failure, stopped by the parent. */
#ifndef PARIMG_POOL_H
#define PARIMG_POOL_H

#include <stddef.h>
#include <sys/types.h>

enum pool_schedule {
	POOL_STATIC,		/* worker w gets [w*N/J, (w+1)*N/J) */
	POOL_DYNAMIC,		/* workers claim chunks from an atomic counter */
};

/* The most workers one pool runs. */
#define POOL_MAX_JOBS 1024

struct pool_task {
	size_t first;			/* index of the first item (a shard's start) */
	size_t count;			/* items first..first+count-1 */
	unsigned jobs;			/* worker processes, >= 1 */
	enum pool_schedule schedule;
	size_t chunk;			/* dynamic: items a chunk; 0: count / (jobs * 16) */
	int keep_going;			/* report a failed item and go on */
	int verbose;			/* print each worker's range and time */
	/* Process item I (an absolute index) in a worker. 0 on success, or -1 with WHY holding
	 * the reason (no subject: the pool prefixes the item's name). */
	int (*run)(void *ctx, size_t i, char *why, size_t whylen);
	/* The name of item I, the subject of its messages. */
	const char *(*name)(void *ctx, size_t i);
	/* Optional, in the parent a few times a second and once at the end
	 * (FINAL set): items done so far. */
	void (*progress)(void *pctx, size_t done, size_t total, int final);
	/* Optional, in a worker as it takes items [begin, end) (absolute
	 * indices), before the first of them: its whole static range, or each
	 * dynamic chunk. For work done once per range, such as reserving the
	 * output space the items will fill. 0, or -1 with WHY holding the
	 * whole message (subject included): the worker then fails. */
	int (*range)(void *ctx, size_t begin, size_t end, char *why, size_t whylen);
	/* Optional, in the parent after a worker died without running its own
	 * cleanup (killed by a signal): remove what it may have left, such as
	 * temporary files carrying its pid. */
	void (*orphaned)(void *ctx, pid_t pid);
	/* Optional, in the parent when keep_going skips item I because its
	 * worker died on it (a crash, a blocked call, a broken rule): undo
	 * what the worker may have half done, such as clearing its row. */
	void (*lost)(void *ctx, size_t i);
	/* Confinement (sandbox.h), for tasks that parse untrusted input. With
	 * CONFINE set, each worker runs SETUP, then is locked down before its
	 * first item: from then on it cannot open files, and takes item I's
	 * input with pool_input(I), a descriptor the parent opened read-only
	 * from name(I), which must then be the input's path. run() must take
	 * the input of every item it is given (the parent counts on it), and
	 * the parent checks every request and every number a confined worker
	 * leaves in the shared slots: one that breaks the rules is killed and
	 * its item fails as on a crash. */
	int confine;
	int confine_fd;			/* with confine: a descriptor the worker keeps and
					 * may fallocate (the output), or -1 */
	/* Optional, in a worker once, before it is confined (or before its
	 * first item): what needs the calls denied later, such as reading
	 * /proc or setting rlimits. */
	void (*setup)(void *ctx);
	/* Optional, in the parent, with CONFINE: the descriptor to hand over
	 * as item I's input (an archive member's archive, see input_open),
	 * or -1 with errno; without it, name(I) opened read-only. */
	int (*open)(void *ctx, size_t i);
	/* Optional, with CONFINE, where the kernel has Landlock
	 * (sandbox_landlock_abi): directories beneath which the workers may
	 * open their inputs themselves, read-only, and OWN(I), in the parent:
	 * 1 if item I's name(I) is a plain file beneath them, which its
	 * worker is then told to open (no call in the parent at all), 0 if it
	 * is to be handed over as above (an archive member, a file of a list).
	 * A worker whose own open the kernel refuses (a link that leads out
	 * of the roots) asks the parent, which opens it as above. */
	const char *const *roots;
	size_t nroots;
	int (*own)(void *ctx, size_t i);
	/* Optional, with CONFINE: NKEEP descriptors (at most
	 * SANDBOX_KEEP_MAX) every worker keeps, readable, such as the
	 * archives whose members are rows; in each worker KEEP is rewritten
	 * with the numbers it keeps them under. KEPT(I), in the parent and in
	 * the worker: 1 if item I's input is read from them (or from memory
	 * the workers inherit), which is then neither opened nor handed over:
	 * pool_input(I) gives -2, as unconfined. */
	int *keep;
	size_t nkeep;
	int (*kept)(void *ctx, size_t i);
	/* Optional, in the parent, with CONFINE: a second input of item I (a
	 * mask beside an image), handed over with its first in the same
	 * batch, whether or not the worker opens the first itself; or -1 with
	 * errno. The worker takes it with pool_pair(I). */
	int (*pair)(void *ctx, size_t i);
	void *ctx;			/* for run, name, range, setup, open, own, kept,
					 * pair and orphaned */
	void *progress_ctx;		/* for progress */
};

struct pool_result {
	size_t done;			/* items processed, failed ones included */
	size_t skipped;			/* items that failed under keep_going */
};

/* Run T to completion. 0 when every worker succeeded (under keep_going,
 * failed items are counted in R->skipped); -1 after a failure, reported on
 * stderr, once every worker has been stopped and reaped. */
int pool_run(const struct pool_task *t, struct pool_result *r);

/* Part K of N items split into PARTS contiguous ranges: [*begin, *end),
 * [K*N/PARTS, (K+1)*N/PARTS). Worker ranges and shards both use it. */
void pool_range(size_t n, size_t parts, size_t k, size_t *begin, size_t *end);

/* In a confined worker: item I's input (absolute index), opened
 * read-only by the parent, or by the worker itself where the task's own()
 * said so; the caller owns the descriptor and closes it.
 * -1 with errno set when the parent could not open it; -2 in a worker that
 * is not confined, which opens its inputs itself. Inputs come over in
 * batches, in increasing order: ask for the items in the order given. */
int pool_input(size_t i);

/* In a confined worker, after pool_input(I): item I's second input, what
 * the task's pair hook opened in the parent; the caller owns it. -1 with
 * errno when the hook failed (or pool_input(I) was not called first), -2
 * in a worker that is not confined. */
int pool_pair(size_t i);

/* In the parent, before pool_run: the next task's items stand for some
 * of a larger list's, whose indices its run() is given (a wrapper's
 * doing, see inputs/stream.c): pool_input(I) and pool_pair(I) then take
 * item I of the larger list, the task's item INV[I - FIRST] (N entries;
 * (size_t)-1 for none). NULL to clear. The workers inherit it. */
void pool_map_items(const size_t *inv, size_t first, size_t n);

/* 1 in a pool worker, 0 in the parent. */
int pool_in_worker(void);
/* In a worker, its number w, 0 <= w < jobs (a worker restarted after a
 * crash keeps its number), for per-worker slots of shared memory; 0 in
 * the parent. */
unsigned pool_worker_index(void);

/* In a worker, for the task's confine_fd FD: the descriptor it is now
 * (a confined worker's sandbox moved it down, closing the one inherited);
 * FD itself where the worker is not confined, and in the parent. */
int pool_output_fd(int fd);

/* Stop and reap all live workers (SIGTERM, then SIGKILL after a grace
 * period). Async-signal-safe: for the parent's fatal-signal handler. */
void pool_stop_signal(void);

#endif
