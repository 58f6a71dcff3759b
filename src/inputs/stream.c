/*
 * stream.c - a compressed tar past the memory budget, decoded in bounded
 * memory. Listing it (arch.c, arch_set_stream) decompressed and discarded
 * it, keeping each image member's offset in the copy it did not make; rows
 * were assigned as for any archive. For a pool over some of those rows,
 * a decompressor process streams the archive again and writes the wanted
 * members, in archive order, into a ring: a memory file of two slots,
 * window after window, the workers reading their members there
 * (arch_stream_bind). One pool runs over all of them, its items in
 * archive order and claimed a chunk at a time (POOL_DYNAMIC): a worker
 * whose item's window is not written yet waits for it (a futex on
 * READY), and the decompressor, before it writes a window into a slot,
 * waits until every item of the window that slot held has been run (a
 * futex on DONE). Since items are claimed in order and run in order by
 * each worker, every item of that earlier window is in some worker's
 * hands, none of them waiting: no deadlock, and no barrier between
 * windows (a pool per window cost 15 to 20 ms each in forks and tails).
 *
 * Memory: the ring's two slots, each the larger of half the ring (the
 * memory budget, at most 256 MiB) and the largest member the pool wants,
 * plus the decompressor's own buffers: at most 256 MiB or twice the
 * largest member, whatever the archive's size and -j. The cost: one more
 * decompression per pool over the archive's rows (the shape probe's reads
 * only up to the rows it probes; --split's parts, a speculative gray pass
 * and --ragged's header pass each stream it once more).
 *
 * The decompressor parses the archive as listing did in the parent: with
 * libarchive, unconfined but in a process of its own (no-new-privs, gone
 * with its parent), with nothing but the ring and the shared page to
 * write to. A member that is not where the listing put it (the archive
 * changed) or a stream that now fails stops it with a message naming the
 * archive; it sets FAILED, and the workers waiting give up their items.
 */
#define _GNU_SOURCE
#include "inputs/stream.h"
#include "inputs/arch.h"
#include "inputs/input.h"
#include "engine/pool.h"
#include "common/err.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING_MAX (256ULL << 20)
#define SLOT_MIN (64ULL << 10)

/* A wanted member of a streamed archive. */
struct item {
	int src;
	uint64_t off, len;	/* in the copy listing did not make */
	size_t row;		/* the task's item */
};

/* ---- windows ---- */

unsigned stream_windows(const uint64_t *len, size_t n, uint64_t ring, unsigned *win,
			uint64_t *pos, uint64_t *slot)
{
	uint64_t half = ring / 2 > SLOT_MIN ? ring / 2 : SLOT_MIN, fill = 0;
	unsigned w = 0;
	size_t k;

	*slot = half;
	for (k = 0; k < n; k++) {
		if (len[k] > *slot)
			*slot = len[k];
		/* A member that does not fit what is left starts a window; one
		 * larger than half the ring has a window of its own. */
		if (k && fill + len[k] > half) {
			w++;
			fill = 0;
		}
		win[k] = w;
		pos[k] = fill;
		fill += len[k];
	}
	return n ? w + 1 : 0;
}

/* ---- what the decompressor and the workers share ---- */

/*
 * In a MAP_SHARED page made before the forks: READY, the windows written
 * so far (the decompressor's; workers wait on it), DONE[w], window w's
 * items run so far (the workers'; the decompressor waits on it before it
 * writes the slot again), and FAILED, set by the decompressor before it
 * exits on an error (or by the parent when it died), which stops the
 * workers' waits. Waits are futexes, with a timeout.
 */
struct shared {
	uint32_t ready;
	uint32_t failed;
	uint32_t done[];
};

static void futex_wait(uint32_t *p, uint32_t v)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	syscall(SYS_futex, p, FUTEX_WAIT, v, &ts, NULL, 0);
}

static void futex_wake(uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* One streamed archive's run. */
struct ring {
	struct shared *sh;
	size_t shlen;
	const unsigned *win;	/* each item's window */
	const uint32_t *count;	/* each window's items */
	pid_t pid;		/* the decompressor, until reaped */
	int status;		/* its exit status once reaped */
};

/* ---- a pool over some of a task's items ---- */

struct wrap {
	const struct pool_task *t;
	const size_t *rows;	/* the task's items, in the order run */
	size_t done0;		/* done before this pool, for progress */
	int last;		/* the task's last pool */
	struct ring *ring;	/* streamed: RING's windows */
};

static int w_run(void *ctx, size_t k, char *why, size_t whylen)
{
	const struct wrap *w = ctx;
	struct shared *sh;
	unsigned win;
	int r;

	if (!w->ring)
		return w->t->run(w->t->ctx, w->rows[k], why, whylen);
	sh = w->ring->sh;
	win = w->ring->win[k];
	for (;;) {
		uint32_t ready = __atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE);

		if (ready > win)
			break;
		if (__atomic_load_n(&sh->failed, __ATOMIC_ACQUIRE)) {
			input_skip_item(w->rows[k]);
			snprintf(why, whylen, "the archive's stream failed");
			return -1;
		}
		futex_wait(&sh->ready, ready);
	}
	r = w->t->run(w->t->ctx, w->rows[k], why, whylen);
	if (__atomic_add_fetch(&sh->done[win], 1, __ATOMIC_ACQ_REL) == w->ring->count[win])
		futex_wake(&sh->done[win]);
	return r;
}

static const char *w_name(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	return w->t->name(w->t->ctx, w->rows[k]);
}

static int w_range(void *ctx, size_t begin, size_t end, char *why, size_t whylen)
{
	const struct wrap *w = ctx;
	size_t k;

	for (k = begin; k < end; k++)
		if (w->t->range(w->t->ctx, w->rows[k], w->rows[k] + 1, why, whylen) < 0)
			return -1;
	return 0;
}

static void w_orphaned(void *ctx, pid_t pid)
{
	const struct wrap *w = ctx;

	if (w->t->orphaned)
		w->t->orphaned(w->t->ctx, pid);
}

/* A worker died on item K: it counts as run, or its window would never
 * be handed back. */
static void w_lost(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	if (w->t->lost)
		w->t->lost(w->t->ctx, w->rows[k]);
	if (w->ring) {
		unsigned win = w->ring->win[k];

		if (__atomic_add_fetch(&w->ring->sh->done[win], 1, __ATOMIC_ACQ_REL) ==
		    w->ring->count[win])
			futex_wake(&w->ring->sh->done[win]);
	}
}

static void w_setup(void *ctx)
{
	const struct wrap *w = ctx;

	w->t->setup(w->t->ctx);
}

static int w_open(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	return w->t->open(w->t->ctx, w->rows[k]);
}

static int w_pair(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	return w->t->pair(w->t->ctx, w->rows[k]);
}

static int w_own(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	return w->t->own(w->t->ctx, w->rows[k]);
}

static int w_kept(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	return w->t->kept(w->t->ctx, w->rows[k]);
}

/* Stop the decompressor PID and reap it (KILL_IT: kill it first). Its
 * exit status: 0 when it ended well. */
static int reap(pid_t pid, int kill_it)
{
	int st;

	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, __WCLONE) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A few times a second in the parent: a decompressor that died (a signal,
 * an error) stops the workers' waits. */
static void w_progress(void *pctx, size_t done, size_t total, int final)
{
	const struct wrap *w = pctx;
	struct ring *g = w->ring;
	int st;

	(void)total;
	if (g && g->pid > 0 && waitpid(g->pid, &st, WNOHANG | __WCLONE) == g->pid) {
		g->pid = -1;
		g->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (g->status) {
			__atomic_store_n(&g->sh->failed, 1, __ATOMIC_RELEASE);
			futex_wake(&g->sh->ready);
		}
	}
	if (w->t->progress)
		w->t->progress(w->t->progress_ctx, w->done0 + done, w->t->count,
			       final && w->last);
}

/* T over its items ROWS[0..N), in that order (streamed: RING's), results
 * added to R. */
static int run_rows(const struct pool_task *t, const size_t *rows, size_t n, int last,
		    struct ring *ring, struct pool_result *r)
{
	struct wrap w = { .t = t, .rows = rows, .done0 = r->done, .last = last, .ring = ring };
	struct pool_task s = *t;
	struct pool_result got = { 0 };
	size_t *inv, k;
	int rc;

	if (!n)
		return 0;
	if (!(inv = malloc(t->count * sizeof(*inv))))
		return error("out of memory");
	for (k = 0; k < t->count; k++)
		inv[k] = (size_t)-1;
	for (k = 0; k < n; k++)
		inv[rows[k] - t->first] = k;
	s.first = 0;
	s.count = n;
	s.ctx = &w;
	s.progress_ctx = &w;
	s.run = w_run;
	s.name = w_name;
	s.range = t->range ? w_range : NULL;
	s.orphaned = t->orphaned || ring ? w_orphaned : NULL;
	s.lost = t->lost || ring ? w_lost : NULL;
	s.setup = t->setup ? w_setup : NULL;
	s.open = t->open ? w_open : NULL;
	s.own = t->own ? w_own : NULL;
	s.kept = t->kept ? w_kept : NULL;
	s.pair = t->pair ? w_pair : NULL;
	s.progress = t->progress || ring ? w_progress : NULL;
	if (ring) {
		/* Claimed in archive order, a chunk at a time: no worker waits
		 * for a window while one before it has items left unclaimed.
		 * A chunk is an eighth of a window's share for each worker: the
		 * pool's own (a sixteenth of a worker's share of every item)
		 * spanned 8 windows of a 1.37 million-member archive, so one
		 * worker ran them while the other waited for the window after
		 * (half the CPU idle; bench.sh section v). */
		size_t windows = ring->win[n - 1] + 1;

		s.schedule = POOL_DYNAMIC;
		s.chunk = n / windows / ((size_t)t->jobs * 8);
		if (!s.chunk)
			s.chunk = 1;
	}
	pool_map_items(inv, t->first, t->count);
	rc = pool_run(&s, &got);
	pool_map_items(NULL, 0, 0);
	free(inv);
	r->done += got.done;
	r->skipped += got.skipped;
	return rc;
}

/* ---- the decompressor ---- */

/* Which of IT[NEXT..N) entry ENT is: its index, or N when none (a member
 * not wanted, or no member). -1 with a message when it is a wanted one out
 * of place. */
static ssize_t which(const char *archive, struct archive_entry *ent, const struct item *it,
		     size_t next, size_t n)
{
	const char *raw = archive_entry_pathname(ent);
	char *name;
	uint64_t off, len;
	int src, r;

	if (archive_entry_filetype(ent) != AE_IFREG)
		return (ssize_t)n;
	if (!raw)
		raw = archive_entry_pathname_utf8(ent);
	if (!raw || asprintf(&name, "%s:%s", archive, raw) < 0)
		return (ssize_t)n;
	r = arch_clean_name(name + strlen(archive) + 1);
	r = r == 0 && arch_stream_member(name, &src, &off, &len);
	free(name);
	if (!r || src != it[next].src || off < it[next].off)
		return (ssize_t)n;
	if (off > it[next].off || len != it[next].len)
		return error("%s: not the archive it was when listed (a member moved): "
			     "refused", archive), -1;
	return (ssize_t)next;
}

static void __attribute__((noreturn)) fail(struct shared *sh)
{
	__atomic_store_n(&sh->failed, 1, __ATOMIC_RELEASE);
	futex_wake(&sh->ready);
	_exit(1);
}

/* In the decompressor: write IT[0..N)'s data, window W[k] at POS[k] of
 * slot W[k] % 2 of RING, each window once its slot's window before last
 * has been run. Exits. */
static void __attribute__((noreturn))
decompress(const char *archive, const struct item *it, size_t n, const unsigned *win,
	   const uint64_t *pos, const uint32_t *count, uint64_t slot, int ring, struct shared *sh)
{
	struct archive *a = arch_reader(0);
	struct archive_entry *ent;
	size_t next = 0;
	char self[64];

	/* The file listed, opened afresh (an offset of its own). */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", arch_source_file(it[0].src));
	if (!a || archive_read_open_filename(a, self, 1 << 17) != ARCHIVE_OK) {
		error("%s: %s", archive, a ? archive_error_string(a) : "out of memory");
		fail(sh);
	}
	while (next < n) {
		int h = archive_read_next_header(a, &ent);
		uint64_t got = 0, base;
		ssize_t k;

		if (h == ARCHIVE_EOF) {
			error("%s: ends before its member %" PRIu64 " bytes in (not the archive it "
			      "was when listed)", archive, it[next].off);
			fail(sh);
		}
		if (h < ARCHIVE_WARN) {
			error("%s: %s", archive, archive_error_string(a));
			fail(sh);
		}
		if ((k = which(archive, ent, it, next, n)) < 0)
			fail(sh);
		if ((size_t)k == n)
			continue;
		/* Its slot's window before last must have been run. */
		if (win[k] >= 2 && (k == 0 || win[k - 1] != win[k])) {
			uint32_t d;

			while ((d = __atomic_load_n(&sh->done[win[k] - 2], __ATOMIC_ACQUIRE)) <
			       count[win[k] - 2])
				futex_wait(&sh->done[win[k] - 2], d);
		}
		base = (uint64_t)(win[k] % 2) * slot + pos[k];
		for (;;) {
			const void *p;
			size_t size;
			la_int64_t at;
			int r = archive_read_data_block(a, &p, &size, &at);

			if (r == ARCHIVE_EOF)
				break;
			if (r != ARCHIVE_OK) {
				error("%s: %s", archive, archive_error_string(a));
				fail(sh);
			}
			if ((uint64_t)at != got || size > it[k].len - got) {
				error("%s: not the archive it was when listed (a member changed): "
				      "refused", archive);
				fail(sh);
			}
			while (size) {
				ssize_t w = pwrite(ring, p, size, (off_t)(base + got));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					error_errno("%s: the stream's memory file", archive);
					fail(sh);
				}
				p = (const char *)p + w;
				size -= (size_t)w;
				got += (uint64_t)w;
			}
		}
		if (got != it[k].len) {
			error("%s: not the archive it was when listed (a member shrank): refused",
			      archive);
			fail(sh);
		}
		next++;
		if (next == n || win[next] != win[k]) {
			__atomic_store_n(&sh->ready, win[k] + 1, __ATOMIC_RELEASE);
			futex_wake(&sh->ready);
		}
	}
	_exit(0);
}

/* ---- one streamed archive ---- */

/* T over IT[0..N), the wanted members of one streamed archive in archive
 * order, through the ring; LAST: T's last pool. */
static int run_stream(const struct pool_task *t, const struct item *it, size_t n, int last,
		      struct pool_result *r)
{
	const char *archive = arch_source_path(it[0].src);
	uint64_t budget = arch_memory_budget(), slot, *len, *pos, *off_w, *pos_w;
	unsigned *win, nwin;
	uint32_t *count = NULL;
	size_t *rows, k;
	struct ring g = { .sh = MAP_FAILED, .pid = -1 };
	int ring = -1, rc = -1;

	len = malloc(n * sizeof(*len));
	pos = malloc(n * sizeof(*pos));
	off_w = malloc(n * sizeof(*off_w));
	pos_w = malloc(n * sizeof(*pos_w));
	win = malloc(n * sizeof(*win));
	rows = malloc(n * sizeof(*rows));
	if (!len || !pos || !off_w || !pos_w || !win || !rows) {
		error("out of memory");
		goto out;
	}
	for (k = 0; k < n; k++)
		len[k] = it[k].len;
	nwin = stream_windows(len, n, budget < RING_MAX ? budget : RING_MAX, win, pos, &slot);
	if (!(count = calloc(nwin, sizeof(*count)))) {
		error("out of memory");
		goto out;
	}
	for (k = 0; k < n; k++) {
		count[win[k]]++;
		off_w[k] = it[k].off;
		pos_w[k] = (uint64_t)(win[k] % 2) * slot + pos[k];
		rows[k] = it[k].row;
	}
	g.win = win;
	g.count = count;
	g.shlen = sizeof(struct shared) + nwin * sizeof(uint32_t);
	g.sh = mmap(NULL, g.shlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g.sh == MAP_FAILED) {
		error_errno("mmap");
		goto out;
	}
	if ((ring = memfd_create("parimg-stream", MFD_CLOEXEC)) < 0 ||
	    ftruncate(ring, (off_t)(2 * slot)) < 0) {
		error_errno("%s: the stream's memory file", archive);
		goto out;
	}
	fflush(NULL);
	/* A fork whose end sends no SIGCHLD: the pool's waits for any child
	 * (its workers) pass it by; reap() waits for it by name. */
	if ((g.pid = (pid_t)syscall(SYS_clone, 0UL, NULL, NULL, NULL, NULL)) < 0) {
		error_errno("fork");
		goto out;
	}
	if (g.pid == 0) {
		static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

		for (k = 0; k < sizeof(fatal) / sizeof(fatal[0]); k++)
			signal(fatal[k], SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		decompress(archive, it, n, win, pos, count, slot, ring, g.sh);
	}
	arch_stream_bind(it[0].src, ring, off_w, pos_w, n);
	k = run_rows(t, rows, n, last, &g, r) == 0;
	arch_stream_bind(it[0].src, -1, NULL, NULL, 0);
	if (g.pid > 0) {
		g.status = reap(g.pid, !k);
		g.pid = -1;
	}
	if (k && g.status == 0)
		rc = 0;
	else if (k)
		error("%s: its decompressor stopped (exit status %d)", archive, g.status);
out:
	if (g.pid > 0)
		reap(g.pid, 1);
	if (g.sh != MAP_FAILED)
		munmap(g.sh, g.shlen);
	if (ring >= 0)
		close(ring);
	free(len);
	free(pos);
	free(off_w);
	free(pos_w);
	free(win);
	free(rows);
	free(count);
	return rc;
}

static int cmp_item(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->src != b->src)
		return (a->src > b->src) - (a->src < b->src);
	return (a->off > b->off) - (a->off < b->off);
}

int stream_pool_run(const struct pool_task *t, struct pool_result *r)
{
	struct item *it = NULL;
	size_t *rest = NULL, nit = 0, nrest = 0, i, k;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!arch_any_streamed())
		return pool_run(t, r);
	for (i = 0; i < t->count; i++) {
		struct item x = { .row = t->first + i };

		if (arch_stream_member(t->name(t->ctx, x.row), &x.src, &x.off, &x.len)) {
			if (!it && !(it = malloc(t->count * sizeof(*it))))
				goto oom;
			it[nit++] = x;
		}
	}
	if (!nit)
		return pool_run(t, r);
	if (!(rest = malloc(t->count * sizeof(*rest))))
		goto oom;
	for (i = 0, k = 0; i < t->count; i++) {
		if (k < nit && it[k].row == t->first + i)
			k++;
		else
			rest[nrest++] = t->first + i;
	}
	qsort(it, nit, sizeof(*it), cmp_item);
	if (run_rows(t, rest, nrest, 0, NULL, r) != 0)
		goto out;
	for (i = 0; i < nit; i = k) {
		for (k = i; k < nit && it[k].src == it[i].src; k++)
			;
		if (run_stream(t, it + i, k - i, k == nit, r) != 0)
			goto out;
	}
	rc = 0;
	goto out;
oom:
	error("out of memory");
out:
	free(it);
	free(rest);
	return rc;
}
