/*
 * stream.c - a compressed tar past the memory budget, decoded in bounded
 * memory. Listing it (arch.c, arch_set_stream) decompressed and discarded
 * it, keeping each image member's offset in the copy it did not make; rows
 * were assigned as for any archive. For a pool over some of those rows,
 * a decompressor process streams the archive again and writes the wanted
 * members, in archive order, into a ring: a memory file of two slots,
 * window after window. For each window the parent binds the slot
 * (arch_stream_bind: the workers, forked then, read their members there)
 * and runs the pool over exactly that window's rows, while the
 * decompressor fills the other slot; a window is handed back once its
 * pool is over. The two talk over a socket pair: "window W is ready"
 * (the decompressor) and "window W is free" (the parent), 4 bytes each.
 *
 * Memory: the ring's two slots, each the larger of half the ring (the
 * memory budget, at most 256 MiB) and the largest member the pool wants,
 * plus the decompressor's own buffers: about 256 MiB plus twice the
 * largest member, whatever the archive's size and -j. The cost: one more
 * decompression per pool over the archive's rows (the shape probe's reads
 * only up to the rows it probes; --split's parts, a speculative gray pass
 * and --ragged's header pass each stream it once more).
 *
 * The decompressor parses the archive as listing did in the parent: with
 * libarchive, unconfined but in a process of its own, with nothing but
 * the ring and its socket to write to. A member that is not where the
 * listing put it (the archive changed) or a stream that now fails stops
 * it with a message naming the archive, and the pool with it.
 */
#define _GNU_SOURCE
#include "inputs/stream.h"
#include "inputs/arch.h"
#include "engine/pool.h"
#include "common/err.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* ---- a pool over some of a task's items ---- */

struct wrap {
	const struct pool_task *t;
	const size_t *rows;	/* ascending */
	size_t done0;		/* done before this pool, for progress */
	int last;		/* the task's last pool */
};

static int w_run(void *ctx, size_t k, char *why, size_t whylen)
{
	const struct wrap *w = ctx;

	return w->t->run(w->t->ctx, w->rows[k], why, whylen);
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

	w->t->orphaned(w->t->ctx, pid);
}

static void w_lost(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	w->t->lost(w->t->ctx, w->rows[k]);
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

static int w_own(void *ctx, size_t k)
{
	const struct wrap *w = ctx;

	return w->t->own(w->t->ctx, w->rows[k]);
}

static void w_progress(void *pctx, size_t done, size_t total, int final)
{
	const struct wrap *w = pctx;

	(void)total;
	w->t->progress(w->t->progress_ctx, w->done0 + done, w->t->count,
		       final && w->last);
}

/* T over its items ROWS[0..N) (ascending), results added to R. */
static int run_rows(const struct pool_task *t, const size_t *rows, size_t n, int last,
		    struct pool_result *r)
{
	struct wrap w = { .t = t, .rows = rows, .done0 = r->done, .last = last };
	struct pool_task s = *t;
	struct pool_result got = { 0 };
	int rc;

	if (!n)
		return 0;
	s.first = 0;
	s.count = n;
	s.ctx = &w;
	s.progress_ctx = &w;
	s.run = w_run;
	s.name = w_name;
	s.range = t->range ? w_range : NULL;
	s.orphaned = t->orphaned ? w_orphaned : NULL;
	s.lost = t->lost ? w_lost : NULL;
	s.setup = t->setup ? w_setup : NULL;
	s.open = t->open ? w_open : NULL;
	s.own = t->own ? w_own : NULL;
	s.progress = t->progress ? w_progress : NULL;
	pool_map_items(rows, n);
	rc = pool_run(&s, &got);
	pool_map_items(NULL, 0);
	r->done += got.done;
	r->skipped += got.skipped;
	return rc;
}

/* ---- the decompressor ---- */

static int send4(int fd, uint32_t v)
{
	return send(fd, &v, sizeof(v), MSG_NOSIGNAL) == (ssize_t)sizeof(v) ? 0 : -1;
}

static int recv4(int fd, uint32_t *v)
{
	size_t got = 0;

	while (got < sizeof(*v)) {
		ssize_t n = recv(fd, (char *)v + got, sizeof(*v) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static struct archive *reader(void)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	/* As listing's (arch.c): the filters by name, no external program. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	return a;
}

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

/* In the decompressor: write IT[0..N)'s data, window W[k] at POS[k] of
 * slot W[k] % 2 of RING, telling SOCK each window ready and waiting for
 * each to be freed before its slot is used again. Exits. */
static void decompress(const char *archive, const struct item *it, size_t n,
		       const unsigned *win, const uint64_t *pos, uint64_t slot, int ring, int sock)
{
	struct archive *a = reader();
	struct archive_entry *ent;
	uint32_t freed = 0, f;
	size_t next = 0;
	char self[64];

	/* The file listed, opened afresh (an offset of its own). */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", arch_source_file(it[0].src));
	if (!a || archive_read_open_filename(a, self, 1 << 17) != ARCHIVE_OK) {
		error("%s: %s", archive, a ? archive_error_string(a) : "out of memory");
		_exit(1);
	}
	while (next < n) {
		int h = archive_read_next_header(a, &ent);
		uint64_t got = 0, base;
		ssize_t k;

		if (h == ARCHIVE_EOF) {
			error("%s: ends before its member %" PRIu64 " bytes in (not the archive it "
			      "was when listed)", archive, it[next].off);
			_exit(1);
		}
		if (h < ARCHIVE_WARN) {
			error("%s: %s", archive, archive_error_string(a));
			_exit(1);
		}
		if ((k = which(archive, ent, it, next, n)) < 0)
			_exit(1);
		if ((size_t)k == n)
			continue;
		/* Its slot's window before last must have been freed. */
		while (win[k] >= 2 && freed < win[k] - 1) {
			if (recv4(sock, &f) < 0)
				_exit(1);	/* the parent stopped */
			freed = f + 1;
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
				_exit(1);
			}
			if ((uint64_t)at != got || size > it[k].len - got) {
				error("%s: not the archive it was when listed (a member changed): "
				      "refused", archive);
				_exit(1);
			}
			while (size) {
				ssize_t w = pwrite(ring, p, size, (off_t)(base + got));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					error_errno("%s: the stream's memory file", archive);
					_exit(1);
				}
				p = (const char *)p + w;
				size -= (size_t)w;
				got += (uint64_t)w;
			}
		}
		if (got != it[k].len) {
			error("%s: not the archive it was when listed (a member shrank): refused",
			      archive);
			_exit(1);
		}
		next++;
		if ((next == n || win[next] != win[k]) && send4(sock, win[k]) < 0)
			_exit(1);
	}
	_exit(0);
}

/* ---- one streamed archive ---- */

static int cmp_row(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return (a > b) - (a < b);
}

/* Stop the decompressor PID (if not already reaped) and reap it. Its exit
 * status: 0 when it ended well. */
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

/* T over IT[0..N), the wanted members of one streamed archive in archive
 * order, through the ring; LAST: T's last pool. */
static int run_stream(const struct pool_task *t, const struct item *it, size_t n, int last,
		      struct pool_result *r)
{
	const char *archive = arch_source_path(it[0].src);
	uint64_t budget = arch_memory_budget(), slot, *len, *pos, *off_w, *pos_w;
	unsigned *win, nwin = 0, w;
	size_t *rows, k, first = 0;
	int sv[2] = { -1, -1 }, ring = -1, rc = -1, started = 0, pr;
	pid_t pid = -1;

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
	if ((ring = memfd_create("parimg-stream", MFD_CLOEXEC)) < 0 ||
	    ftruncate(ring, (off_t)(2 * slot)) < 0) {
		error_errno("%s: the stream's memory file", archive);
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		error_errno("socketpair");
		goto out;
	}
	fflush(NULL);
	/* A fork whose end sends no SIGCHLD: the pools' waits for any child
	 * (the workers') pass it by; reap() waits for it by name. */
	if ((pid = (pid_t)syscall(SYS_clone, 0UL, NULL, NULL, NULL, NULL)) < 0) {
		error_errno("fork");
		goto out;
	}
	if (pid == 0) {
		static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

		for (k = 0; k < sizeof(fatal) / sizeof(fatal[0]); k++)
			signal(fatal[k], SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		close(sv[0]);
		decompress(archive, it, n, win, pos, slot, ring, sv[1]);
	}
	started = 1;
	close(sv[1]);
	sv[1] = -1;
	for (w = 0; w < nwin; w++) {
		uint32_t ready;
		size_t m;

		if (recv4(sv[0], &ready) < 0 || ready != w) {
			int st = reap(pid, 0);

			started = 0;
			if (st == 0)
				error("%s: its decompressor stopped early", archive);
			goto out;
		}
		for (m = 0; first + m < n && win[first + m] == w; m++) {
			off_w[m] = it[first + m].off;
			pos_w[m] = (uint64_t)(w % 2) * slot + pos[first + m];
			rows[m] = it[first + m].row;
		}
		qsort(rows, m, sizeof(*rows), cmp_row);
		arch_stream_bind(it[0].src, ring, off_w, pos_w, m);
		pr = run_rows(t, rows, m, last && w + 1 == nwin, r);
		arch_stream_bind(it[0].src, -1, NULL, NULL, 0);
		if (pr != 0)
			goto out;
		/* Its pages given back: the slot is written afresh. */
		fallocate(ring, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)((w % 2) * slot), (off_t)slot);
		if (w + 2 < nwin)
			send4(sv[0], w);	/* if it died, the next recv says so */
		first += m;
	}
	if (w == nwin) {
		started = 0;
		if (reap(pid, 0) != 0)
			goto out;
		rc = 0;
	}
out:
	if (started)
		reap(pid, 1);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (ring >= 0)
		close(ring);
	free(len);
	free(pos);
	free(off_w);
	free(pos_w);
	free(win);
	free(rows);
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
	if (run_rows(t, rest, nrest, 0, r) != 0)
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
