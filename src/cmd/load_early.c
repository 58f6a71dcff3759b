/* load_early.c - decoding an archive's members while the parent lists it.
 *
 * A tar's rows are known only once it is listed whole: they are in
 * natural order of the member names (then shuffled, split, labelled), and
 * a .tar.gz must be inflated whole first. That listing is serial. While it
 * runs, "speculators" decode members into rows of their own: -j minus one
 * processes (at most the processors online minus one, the parent's), each
 * confined as a worker is, each reading the archive from its own
 * descriptor through libarchive and decoding every K-th image member in
 * archive order into a slot of a shared scratch area (EARLY_BYTES a
 * speculator, EARLY_TOTAL in all, and a quarter of the archive memory
 * budget at most), its cleaned name beside it. Once the listing ends the parent
 * stops them (between two members), indexes the slots by name, and the
 * load's workers copy a row that a speculator finished instead of
 * decoding it again; any other row, and any member a speculator failed
 * on, is decoded as always, its errors reported as always. The copy is
 * the documented cost (a memcpy of the row); the result is byte for byte
 * the same, as the same bytes go through the same row_decode.
 *
 * Only where the row's shape is fixed by the options (-c and --resize,
 * not --ragged), with one archive (not a zip: its central directory lists
 * it at once) as the only INPUT, no --shard, --stats, --stats-from or
 * --masks, and -j 2 or more; not for a compressed tar larger than the
 * archive memory budget, which is streamed. PARIMG_EARLY=off turns it off; =wait has the
 * parent wait for the speculators to reach the archive's end (or fill the
 * slots) before it stops them, so that tests see every row speculated.
 */
#define _GNU_SOURCE
#include "cmd/load.h"
#include "cmd/opt.h"
#include "inputs/arch.h"
#include "inputs/filelist.h"
#include "inputs/input.h"
#include "image/row.h"
#include "engine/limit.h"
#include "engine/sandbox.h"
#include "common/buf.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#define EARLY_BYTES (64u << 20)	/* the rows a speculator makes, at most */
#define EARLY_TOTAL (1u << 30)	/* and all of them */
#define EARLY_SLOTS 65536	/* and their count */
#define EARLY_PATH 232		/* a slot's name, NUL included (longer: not taken) */
#define EARLY_MAX 64		/* speculators */

enum { SLOT_FREE, SLOT_NAMED, SLOT_DONE, SLOT_FAILED };

struct slot {
	uint32_t state;		/* SLOT_*: NAMED once NAME and LEN are written */
	uint64_t len;		/* the member's bytes */
	char name[EARLY_PATH];	/* cleaned, as the listing names it */
};

struct shared {
	uint32_t stop;		/* set by the parent: no member after this one */
	uint32_t next;		/* slots claimed so far */
	uint64_t used;		/* rows the workers took from them */
	struct slot slot[];
};

struct early {
	struct shared *sh;
	size_t shlen;
	unsigned char *rows;	/* NSLOTS rows of ROW_BYTES */
	size_t rows_len, row_bytes, nslots;
	pid_t pid[EARLY_MAX];	/* 0 once reaped */
	unsigned n;
	int wait;		/* PARIMG_EARLY=wait: to the archive's end */
	int fd;			/* the archive, read by the speculators */
	size_t prefix;		/* strlen("ARCHIVE:") of the rows' names */
	uint32_t *tab;		/* by name: slot + 1, 0 empty (after the stop) */
	size_t claimed;		/* slots taken when they were stopped */
	size_t tabmask;
};

static uint64_t hash_name(const char *s, size_t n)
{
	return XXH3_64bits(s, n);
}

/* ---- in a speculator ---- */

/* The speculators share the parent's open file description of the
 * archive, so each reads at offsets of its own (pread), never read(2)'s
 * shared one: hence not archive_read_open_fd. */
struct reader {
	int fd;
	off_t off, size;
	unsigned char buf[1 << 16];
};

static la_ssize_t rd_read(struct archive *a, void *ctx, const void **out)
{
	struct reader *r = ctx;
	ssize_t n;

	while ((n = pread(r->fd, r->buf, sizeof(r->buf), r->off)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		archive_set_error(a, errno, "read");
		return -1;
	}
	r->off += n;
	*out = r->buf;
	return n;
}

static la_int64_t rd_skip(struct archive *a, void *ctx, la_int64_t n)
{
	struct reader *r = ctx;

	(void)a;
	if (n > r->size - r->off)
		n = r->size - r->off;
	if (n < 0)
		n = 0;
	r->off += n;
	return n;
}

/* ENT's cleaned name into NAME (EARLY_PATH bytes) if it is an image
 * member the listing takes as it is (a regular file, not a link, not
 * sparse, not encrypted, of a known size within MAX): its length, else 0. */
static size_t member_name(struct archive_entry *ent, uint64_t max, char *name)
{
	const char *raw = archive_entry_pathname(ent), *base;
	size_t n;

	if (archive_entry_filetype(ent) != AE_IFREG || archive_entry_hardlink(ent) ||
	    archive_entry_sparse_count(ent) > 0 || archive_entry_is_encrypted(ent) ||
	    !archive_entry_size_is_set(ent) || archive_entry_size(ent) <= 0 ||
	    (uint64_t)archive_entry_size(ent) > max || !raw || strlen(raw) >= EARLY_PATH)
		return 0;
	strcpy(name, raw);
	if (arch_clean_name(name) != 0 || arch_is_hidden(name))
		return 0;
	base = strrchr(name, '/');
	if (!filelist_is_image_name(base ? base + 1 : name))
		return 0;
	n = strlen(name);
	return n;
}

/* Speculator K of E->N: decode every K-th image member into a slot of its
 * own until told to stop, the slots run out or the archive ends. Never
 * returns. */
static void speculate(struct early *e, struct load *l, unsigned k, int confine, pid_t parent)
{
	static struct reader rd;
	static volatile int blocked;
	static char name[EARLY_PATH];
	struct shared *sh = e->sh;
	struct row_scratch scratch = { 0 };
	struct buf data = { 0 };
	struct archive *a;
	struct archive_entry *ent;
	struct stat st;
	uint64_t max = l->spec.max_pixels * 8 + (1 << 20), idx = 0;
	char why[256];
	int sv[2];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);	/* it died before the line above */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	rd.fd = e->fd;
	if (fstat(rd.fd, &st) < 0)
		_exit(0);
	rd.size = st.st_size;
	limit_worker_memory(l->spec.max_pixels);
	if (!(a = arch_reader(0)))
		_exit(0);
	if (confine) {
		/* A channel it never uses: the sandbox keeps one. */
		struct sandbox_spec s = { .output = -1, .max_fds = 2, .keep = &rd.fd, .nkeep = 1,
					  .blocked = &blocked };

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			_exit(0);
		s.channel = sv[0];
		if (sandbox_enter(&s, why, sizeof(why)) < 0)
			_exit(0);
	}
	archive_read_set_read_callback(a, rd_read);
	archive_read_set_skip_callback(a, rd_skip);
	archive_read_set_callback_data(a, &rd);
	if (archive_read_open1(a) != ARCHIVE_OK)
		_exit(0);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		int h = archive_read_next_header(a, &ent);
		struct slot *s;
		uint32_t at;
		size_t n, got = 0;
		la_ssize_t r;

		if (h == ARCHIVE_EOF || h < ARCHIVE_WARN)
			break;
		if (idx++ % e->n != k || !(n = member_name(ent, max, name)))
			continue;
		if ((at = __atomic_fetch_add(&sh->next, 1, __ATOMIC_RELAXED)) >= e->nslots)
			break;
		s = &sh->slot[at];
		memcpy(s->name, name, n + 1);
		s->len = (uint64_t)archive_entry_size(ent);
		__atomic_store_n(&s->state, SLOT_NAMED, __ATOMIC_RELEASE);
		if (!buf_grow(&data, (size_t)s->len + 1))
			break;
		while (got < s->len && (r = archive_read_data(a, data.p + got, s->len - got)) > 0)
			got += (size_t)r;
		__atomic_store_n(&s->state,
				 got == s->len && row_decode(&l->spec, data.p, got,
							     e->rows + (size_t)at * e->row_bytes,
							     &scratch, why, sizeof(why)) == 0
				 ? SLOT_DONE : SLOT_FAILED, __ATOMIC_RELEASE);
	}
	_exit(0);
}

/* ---- in the parent ---- */

/* Reap speculator K, killed first if KILL_IT. */
static void reap(struct early *e, unsigned k, int kill_it)
{
	if (e->pid[k] <= 0)
		return;
	if (kill_it)
		kill(e->pid[k], SIGKILL);
	while (waitpid(e->pid[k], NULL, __WCLONE) < 0 && errno == EINTR)
		;
	e->pid[k] = 0;
}

/* Whether L's rows can be decoded before they are known: see the top. */
static int eligible(const struct load *l, const struct opt_common *c)
{
	const char *env = getenv("PARIMG_EARLY");

	return !(env && strcmp(env, "off") == 0) && c->jobs >= 2 &&
	       l->spec.resize && l->spec.channels && !l->spec.ragged && !l->spec.norm.from_stats &&
	       !l->stats && !l->masks_dir && l->shard.n <= 1;
}

void load_early_start(struct load *l, const struct opt_common *c, char *const *inputs,
		      int ninputs)
{
	struct early *e;
	unsigned char head[512] = { 0 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = c->jobs - 1, k;
	size_t bytes;
	ssize_t got;
	const char *env;
	uint64_t budget;
	struct stat st;
	int confine = l->sandbox != SANDBOX_OFF;
	pid_t self = getpid();

	l->early = NULL;
	if (ninputs != 1 || !eligible(l, c) || cpus < 2)
		return;
	if (n > (unsigned)cpus - 1)
		n = (unsigned)cpus - 1;
	if (n > EARLY_MAX)
		n = EARLY_MAX;
	if (!(e = calloc(1, sizeof(*e))))
		return;
	e->fd = open(inputs[0], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	/* A tar, compressed or not: not a zip (nor a list, a folder). */
	if (e->fd < 0 || (got = pread(e->fd, head, sizeof(head), 0)) <= 0 ||
	    !arch_sniff_bytes(head, (size_t)got) || memcmp(head, "PK", 2) == 0)
		goto fail;
	/* Within the archive memory budget: a quarter of it at most; and
	 * none for a compressed tar larger than it, which is streamed (its
	 * members are larger still), where the rows would go unused. */
	if (((env = getenv("PARIMG_ARCHIVE_MEMORY")) && arch_parse_size(env, &budget) < 0) ||
	    fstat(e->fd, &st) < 0 || !(budget = arch_memory_budget()) ||
	    (memcmp(head + 257, "ustar", 5) != 0 && (uint64_t)st.st_size > budget))
		goto fail;
	e->prefix = strlen(inputs[0]) + 1;
	e->row_bytes = row_bytes(&l->spec);
	bytes = (size_t)n * EARLY_BYTES < EARLY_TOTAL ? (size_t)n * EARLY_BYTES : EARLY_TOTAL;
	if (budget / 4 < bytes)
		bytes = (size_t)(budget / 4);
	e->nslots = e->row_bytes ? bytes / e->row_bytes : 0;
	if (e->nslots > EARLY_SLOTS)
		e->nslots = EARLY_SLOTS;
	if (e->nslots < 2 * n)
		goto fail;
	e->shlen = sizeof(struct shared) + e->nslots * sizeof(struct slot);
	e->rows_len = e->nslots * e->row_bytes;
	/* Pages only as written: shared memory, counted as it is touched. */
	e->sh = mmap(NULL, e->shlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
		     -1, 0);
	e->rows = mmap(NULL, e->rows_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (e->sh == MAP_FAILED || e->rows == MAP_FAILED)
		goto fail;
	e->n = n;
	e->wait = (env = getenv("PARIMG_EARLY")) && strcmp(env, "wait") == 0;
	fflush(NULL);
	for (k = 0; k < n; k++) {
		/* A child whose end sends no SIGCHLD: the pools' waits for any
		 * child pass it by; load_early_end waits for it by pid. */
		pid_t pid = (pid_t)syscall(SYS_clone, 0UL, NULL, NULL, NULL, NULL);

		if (pid == 0)
			speculate(e, l, k, confine, self);
		if (pid < 0)
			break;
		e->pid[k] = pid;
	}
	l->early = e;
	return;
fail:
	if (e->fd >= 0)
		close(e->fd);
	if (e->sh && e->sh != MAP_FAILED)
		munmap(e->sh, e->shlen);
	if (e->rows && e->rows != MAP_FAILED)
		munmap(e->rows, e->rows_len);
	free(e);
}

void load_early_stop(struct load *l)
{
	struct early *e = l->early;
	size_t n, s, size = 16;
	uint32_t at;
	unsigned k;

	if (!e || e->tab)
		return;
	/* For the tests: every member the slots hold decoded first. */
	for (k = 0; e->wait && k < e->n; k++)
		reap(e, k, 0);
	__atomic_store_n(&e->sh->stop, 1, __ATOMIC_RELEASE);
	/* An archive streamed for its members' size (stream.c) reads its
	 * rows from the ring: the slots go unused. */
	n = __atomic_load_n(&e->sh->next, __ATOMIC_ACQUIRE);
	if (n > e->nslots)
		n = e->nslots;
	e->claimed = n;
	if (arch_any_streamed() || !n)
		return;
	while (size < 2 * n)
		size *= 2;
	if (!(e->tab = calloc(size, sizeof(*e->tab))))
		return;
	e->tabmask = size - 1;
	for (at = 0; at < n; at++) {
		struct slot *sl = &e->sh->slot[at];
		char name[EARLY_PATH];
		size_t len;

		if (__atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) == SLOT_FREE)
			continue;
		/* A speculator is confined, not trusted: its name is copied
		 * before it is measured, never read past the slot. */
		memcpy(name, sl->name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		len = strlen(name);
		for (s = hash_name(name, len) & e->tabmask; e->tab[s]; s = (s + 1) & e->tabmask)
			;
		e->tab[s] = at + 1;
	}
}

int load_early_row(struct load *l, size_t i, void *row)
{
	const struct early *e = l->early;
	const char *name = l->files.paths[i];
	uint64_t len;
	size_t n = strlen(name), s;

	if (!e || !e->tab || l->row_bytes != e->row_bytes || n <= e->prefix)
		return 0;
	name += e->prefix;
	if ((n -= e->prefix) >= EARLY_PATH)
		return 0;	/* never speculated */
	for (s = hash_name(name, n) & e->tabmask; e->tab[s]; s = (s + 1) & e->tabmask) {
		const struct slot *sl = &e->sh->slot[e->tab[s] - 1];

		if (memcmp(sl->name, name, n + 1) != 0)	/* its NUL too: within the slot */
			continue;
		/* Its bytes must be the listed member's, and decoded. */
		if (__atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) != SLOT_DONE ||
		    !arch_member_len(l->files.paths[i], &len) || len != sl->len)
			return 0;
		memcpy(row, e->rows + (size_t)(e->tab[s] - 1) * e->row_bytes, e->row_bytes);
		__atomic_fetch_add(&e->sh->used, 1, __ATOMIC_RELAXED);
		input_skip_item(i);
		return 1;
	}
	return 0;
}

uint64_t load_early_used(const struct load *l, uint64_t *slots)
{
	*slots = l->early ? l->early->claimed : 0;
	return l->early ? __atomic_load_n(&l->early->sh->used, __ATOMIC_RELAXED) : 0;
}

void load_early_end(struct load *l)
{
	struct early *e = l->early;
	unsigned k;

	if (!e)
		return;
	__atomic_store_n(&e->sh->stop, 1, __ATOMIC_RELEASE);
	for (k = 0; k < e->n; k++)
		reap(e, k, 1);
	close(e->fd);
	munmap(e->sh, e->shlen);
	munmap(e->rows, e->rows_len);
	free(e->tab);
	free(e);
	l->early = NULL;
}
