/* arch.c - tar and zip archives as load's inputs. libarchive lists them in
 * the parent; the members of a plain tar and a zip's stored and deflated
 * ones are read by the workers in place (one pread at the data offset
 * libarchive's reader reached; a deflated one inflated by the worker), every
 * other kind's (compressed tars) are decompressed once, while listing, into
 * one sealed memory file per archive, which the workers then pread alike;
 * a .tar.gz is inflated whole by libdeflate into memory of the parent's
 * own, in huge pages where the kernel gives them, which the workers inherit
 * read-only and copy from (inflate_whole). Past the memory budget,
 * load's compressed tars are streamed (arch_set_stream, stream.c) and
 * others' spilled to disk. --labels: arch_labels.c. */
#define _GNU_SOURCE
#include "inputs/arch.h"
#include "inputs/arch_list.h"
#include "engine/sandbox.h"
#include "common/buf.h"
#include "common/err.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <xxhash.h>

#define CLS_MAX 64		/* longest .cls member read */
#define META_CSV "metadata.csv"
#define META_JSONL "metadata.jsonl"
#define ENTRIES_MAX (1 << 24)	/* entries of one archive, at every level */

/* An archive whose members are rows: where their bytes are. */
struct source {
	char *path;
	int fd;			/* the archive itself (plain tar) or its memory file;
				 * streamed: the ring while a window is bound, else -1 */
	int streamed;		/* members at offsets of a copy never kept (stream.c) */
	int file;		/* streamed or inflated: the archive's own descriptor
				 * (not owned) */
	const unsigned char *mem;	/* inflated: its bytes, FD -1 */
	uint64_t mem_size;	/* of them */
	size_t map_len;		/* their mapping's length */
	int keep;		/* its slot in keep_fd, or -1 */
};

/* A member, by its row name "ARCHIVE:MEMBER", in an open-addressed table. */
struct entry {
	char *name;		/* NULL: free slot */
	uint64_t hash;
	uint32_t src;
	int deflated;		/* CLEN bytes at OFF inflate to LEN */
	uint64_t off, len, clen;
};


static struct source *srcs;
static size_t nsrcs;
/* Sources' descriptors a confined worker keeps (arch_keep_fds); a worker's
 * sandbox rewrites them with its own numbers. */
static int keep_fd[SANDBOX_KEEP_MAX];
static size_t nkeep;
static struct entry *tab;
static size_t tab_cap, tab_n;
static uint64_t member_max = (1ULL << 28) * 8 + (1 << 20);

/* Tables to keep while listing (arch_keep_tables), and those kept. */
static char *keep_member;
static int keep_meta;
static struct arch_table *kept;
static size_t nkept;

int arch_keep_tables(const char *member, int meta)
{
	char *m = member ? strdup(member) : NULL;

	if (member && !m)
		return error("out of memory");
	free(keep_member);
	keep_member = m;
	keep_meta = meta;
	return 0;
}

struct arch_table *arch_kept(size_t *n)
{
	*n = nkept;
	return kept;
}

void arch_set_member_max(uint64_t bytes)
{
	member_max = bytes;
}

/* ---- the memory budget ---- */

/*
 * Everything decompressed into memory files in one run, across archives and
 * nesting levels, is charged to one budget: those pages are shared memory,
 * not in parimg's RSS, so without it a 1 KB .tar.bz2 could fill the machine
 * and the OOM killer would pick some other process.
 */
static uint64_t mem_budget, mem_used;
static int mem_known;
static int stream_on;		/* arch_set_stream */

/* The window of a streamed source bound for the next pool (stream.c):
 * members at offsets WIN_OFF[k] of the copy are at WIN_POS[k] of its fd. */
static const uint64_t *win_off, *win_pos;
static size_t win_n;

int arch_parse_size(const char *s, uint64_t *v)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	unsigned long long x;
	int shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end && (u = strchr(units, toupper((unsigned char)*end)))) {
		shift = 10 * (int)(u - units + 1);
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
	}
	if (*end || (shift && x > UINT64_MAX >> shift))
		return -1;
	*v = (uint64_t)x << shift;
	return 0;
}

/* The memory limit of this process's cgroup (v2), or UINT64_MAX: a job
 * under Slurm or in a container has less than the machine. */
static uint64_t cgroup_limit(void)
{
	char line[4096] = "", path[4200];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		if (strncmp(line, "0::", 3) != 0)
			continue;
		if (n && line[n - 1] == '\n')
			line[n - 1] = '\0';
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", line + 3);
		break;
	}
	fclose(f);
	if (strncmp(line, "0::", 3) != 0 || !(f = fopen(path, "re")))
		return v;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (arch_parse_size(line, &v) < 0)
			v = UINT64_MAX;		/* "max" */
	}
	fclose(f);
	return v;
}

/* The budget: PARIMG_ARCHIVE_MEMORY, or half the memory (the machine's, or
 * the cgroup's where less). 0, or -1 with a message printed. */
static int budget_init(void)
{
	const char *env = getenv("PARIMG_ARCHIVE_MEMORY");

	if (mem_known)
		return 0;
	if (env) {
		if (arch_parse_size(env, &mem_budget) < 0)
			return error("PARIMG_ARCHIVE_MEMORY: not a size: '%s' (bytes, or with a "
				     "suffix K, M, G or T)", env);
	} else {
		uint64_t ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t cg = cgroup_limit();

		mem_budget = (cg < ram ? cg : ram) / 2;
	}
	mem_known = 1;
	return 0;
}

/* What the budget has left. */
static uint64_t budget_left(void)
{
	return mem_used < mem_budget ? mem_budget - mem_used : 0;
}

/* Charge N more bytes of ARCHIVE's decompressed into a memory file. 0, or -1
 * with a message naming it: the archive is refused. */
static int charge(const char *archive, uint64_t n)
{
	if (n > budget_left())
		return error("%s: decompresses to more than the archive memory budget (%" PRIu64
			     " %s, PARIMG_ARCHIVE_MEMORY): refused as a bomb", archive,
			     mem_budget >= 1 << 20 ? mem_budget >> 20 : mem_budget,
			     mem_budget >= 1 << 20 ? "MiB" : "bytes");
	mem_used += n;
	return 0;
}

/* ---- the spill: a compressed tar larger than the budget, on disk ---- */

/*
 * Where a compressed tar's members go once the memory budget cannot hold
 * them: an unnamed file (O_TMPFILE: nothing is left behind, whatever
 * happens) in the spill directory, beside load's output (arch_set_spill_dir),
 * else $TMPDIR or /var/tmp. The file's pages are the page cache's, which
 * the kernel writes back and drops under pressure: what stays resident is
 * bounded whatever the archive's size. Only for an archive that does not
 * look like a bomb: its members so far at most SPILL_RATIO times its
 * compressed size (images hardly compress; a bomb is refused as
 * before, by the budget), and at most half the spill file system's free
 * space.
 */
#define SPILL_RATIO 32
static const char *spill_dir;

void arch_set_spill_dir(const char *out)
{
	static char dir[4096];
	const char *slash = strrchr(out, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == out)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - out), out);
	spill_dir = dir;
}

static const char *spill_where(void)
{
	const char *t = getenv("TMPDIR");

	return spill_dir ? spill_dir : t && *t ? t : "/var/tmp";
}

/*
 * Move LS's memory file, FILLED bytes so far, to a file in the spill
 * directory, under the same descriptor number (an inner archive's region
 * names it), and give its memory back to the budget. 0, or -1 with a
 * message naming the archive.
 */
static int spill(struct listing *ls, uint64_t filled)
{
	const char *dir = spill_where();
	static unsigned char buf[1 << 20];
	struct statvfs vfs;
	uint64_t at = 0;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 || fstatvfs(fd, &vfs) < 0) {
		error("%s: past the archive memory budget, and no file for it in %s: %s",
		      ls->archive, dir, strerror(errno));
		goto fail;
	}
	ls->disk_left = (uint64_t)vfs.f_bavail * vfs.f_frsize / 2;
	while (at < filled) {
		ssize_t n = pread(ls->mfd, buf, filled - at < sizeof(buf) ? filled - at : sizeof(buf),
				  (off_t)at);

		if (n <= 0 || pwrite(fd, buf, (size_t)n, (off_t)at) != n) {
			error_errno("%s: spilling to %s", ls->archive, dir);
			goto fail;
		}
		at += (uint64_t)n;
	}
	if (dup2(fd, ls->mfd) < 0) {
		error_errno("%s: spilling to %s", ls->archive, dir);
		goto fail;
	}
	close(fd);
	mem_used -= ls->charged;
	ls->charged = 0;
	ls->on_disk = 1;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Charge N more bytes of LS's copy, FILLED bytes written so far: to the
 * memory budget while it holds them, else (not a bomb) to the spill's
 * disk. 0, or -1 with a message naming the archive: refused. */
static int store_charge(struct listing *ls, uint64_t n, uint64_t filled)
{
	/* An archive larger than the budget itself has members (images
	 * hardly compress) larger too: streamed from its first byte, so
	 * that the listing holds none of it. */
	int big = stream_on && ls->streamable && ls->csize > budget_left() + ls->charged;

	if (!ls->on_disk && !ls->streamed && !big && n <= budget_left()) {
		mem_used += n;
		ls->charged += n;
		return 0;
	}
	if (filled + n > ls->csize * SPILL_RATIO) {
		if (!ls->on_disk && !ls->streamed)
			return charge(ls->archive, n);	/* the bomb's message */
		return error("%s: decompresses to more than the archive memory budget (%" PRIu64
			     " MiB, PARIMG_ARCHIVE_MEMORY) and to more than %d times its size: "
			     "refused as a bomb", ls->archive, mem_budget >> 20, SPILL_RATIO);
	}
	if (ls->streamed)
		return 0;
	if (stream_on && ls->streamable) {
		/* Streamed instead (stream.c): the copy so far is dropped, its
		 * offsets kept; from here on members are only counted. */
		if (ftruncate(ls->mfd, 0) < 0)
			return error_errno("%s: memory file", ls->archive);
		mem_used -= ls->charged;
		ls->charged = 0;
		ls->streamed = 1;
		return 0;
	}
	if (!ls->on_disk && spill(ls, filled) < 0)
		return -1;
	if (n > ls->disk_left)
		return error("%s: decompresses to more than half the free space of %s: refused",
			     ls->archive, spill_where());
	ls->disk_left -= n;
	return 0;
}

/* ---- pure parts ---- */

int arch_clean_name(char *p)
{
	char *out = p, *s = p;

	if (*p == '/')
		return -1;
	if (!*p || filelist_line_break(p))
		return -2;
	while (*s) {
		char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return -1;
		if (n && !(n == 1 && s[0] == '.')) {
			if (out != p)
				*out++ = '/';
			memmove(out, s, n);
			out += n;
		}
		s += n + (e != NULL);
	}
	*out = '\0';
	return out == p ? -2 : 0;
}

int arch_is_hidden(const char *p)
{
	for (;;) {
		if (*p == '.')
			return 1;
		if (!(p = strchr(p, '/')))
			return 0;
		p++;
	}
}

size_t arch_wds_key(const char *p)
{
	const char *base = strrchr(p, '/');
	const char *dot;

	base = base ? base + 1 : p;
	dot = strchr(base, '.');
	return dot && dot > base ? (size_t)(dot - p) : 0;
}

int arch_parse_cls(const unsigned char *s, size_t len, int64_t *v)
{
	size_t i = 0;
	int64_t x = 0;

	while (i < len && isspace(s[i]))
		i++;
	if (i == len || !isdigit(s[i]))
		return -1;
	for (; i < len && isdigit(s[i]); i++) {
		if (x > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	while (i < len && isspace(s[i]))
		i++;
	if (i != len)
		return -1;
	*v = x;
	return 0;
}

/* ---- the member table ---- */

static struct entry *slot_for(const char *name, uint64_t h)
{
	size_t k = (size_t)h & (tab_cap - 1);

	while (tab[k].name && (tab[k].hash != h || strcmp(tab[k].name, name) != 0))
		k = (k + 1) & (tab_cap - 1);
	return &tab[k];
}

static const struct entry *find(const char *name)
{
	struct entry *e;

	if (!tab_n)
		return NULL;
	e = slot_for(name, XXH3_64bits(name, strlen(name)));
	return e->name ? e : NULL;
}

/* Add NAME; 1 if it was there already, 0, or -1 out of memory. */
static int insert(const char *name, uint32_t src, const struct member *m)
{
	uint64_t h = XXH3_64bits(name, strlen(name));
	struct entry *e;

	if ((tab_n + 1) * 2 > tab_cap) {
		size_t cap = tab_cap ? tab_cap * 2 : 1024, old_cap = tab_cap, k;
		struct entry *old = tab, *t = calloc(cap, sizeof(*t));

		if (!t)
			return -1;
		tab = t;
		tab_cap = cap;
		for (k = 0; k < old_cap; k++)
			if (old[k].name)
				*slot_for(old[k].name, old[k].hash) = old[k];
		free(old);
	}
	e = slot_for(name, h);
	if (e->name)
		return 1;
	if (!(e->name = strdup(name)))
		return -1;
	e->hash = h;
	e->src = src;
	e->off = m->off;
	e->len = m->len;
	e->clen = m->clen;
	e->deflated = m->deflated;
	tab_n++;
	return 0;
}

void arch_free(void)
{
	size_t k;

	for (k = 0; k < tab_cap; k++)
		free(tab[k].name);
	free(tab);
	tab = NULL;
	tab_cap = tab_n = 0;
	for (k = 0; k < nsrcs; k++) {
		if (srcs[k].fd >= 0)
			close(srcs[k].fd);
		if (srcs[k].map_len)
			munmap((void *)srcs[k].mem, srcs[k].map_len);
		free(srcs[k].path);
	}
	free(srcs);
	srcs = NULL;
	nsrcs = 0;
	nkeep = 0;
	mem_used = 0;	/* the memory files are closed */
	for (k = 0; k < nkept; k++) {
		free(kept[k].member);
		free(kept[k].text);
	}
	free(kept);
	kept = NULL;
	nkept = 0;
	arch_keep_tables(NULL, 0);
}

/* ---- streamed sources (stream.c drives them) ---- */

int arch_set_stream(int on)
{
	int was = stream_on;

	stream_on = on;
	return was;
}

int arch_any_streamed(void)
{
	size_t k;

	for (k = 0; k < nsrcs; k++)
		if (srcs[k].streamed)
			return 1;
	return 0;
}

uint64_t arch_memory_budget(void)
{
	return budget_init() < 0 ? 0 : mem_budget;
}

int arch_stream_member(const char *name, int *src, uint64_t *off, uint64_t *len)
{
	const struct entry *e = find(name);

	if (!e || !srcs[e->src].streamed)
		return 0;
	*src = (int)e->src;
	*off = e->off;
	*len = e->len;
	return 1;
}

const char *arch_source_path(int src)
{
	return srcs[src].path;
}

int arch_source_file(int src)
{
	return srcs[src].file;
}

void arch_stream_bind(int src, int fd, const uint64_t *off, const uint64_t *pos, size_t n)
{
	srcs[src].fd = fd;
	win_off = off;
	win_pos = pos;
	win_n = n;
}

/* Where the member at offset OFF of a streamed copy is in the bound
 * window: 0 with *POS set, or -1 when it is not there. */
static int arch_window_pos(uint64_t off, uint64_t *pos)
{
	size_t lo = 0, hi = win_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (win_off[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == win_n || win_off[lo] != off)
		return -1;
	*pos = win_pos[lo];
	return 0;
}

int arch_is_member(const char *name)
{
	return find(name) != NULL;
}

int *arch_keep_fds(size_t *n)
{
	size_t k;

	for (k = 0; k < nsrcs; k++)
		if (srcs[k].keep < 0 && !srcs[k].streamed && !srcs[k].mem && srcs[k].fd >= 0 &&
		    nkeep < SANDBOX_KEEP_MAX) {
			srcs[k].keep = (int)nkeep;
			keep_fd[nkeep++] = srcs[k].fd;
		}
	*n = nkeep;
	for (k = 0; k < nsrcs; k++)
		if (srcs[k].keep >= 0 || srcs[k].mem)
			return keep_fd;
	return NULL;	/* no member is read without a handover */
}

int arch_member_kept(const char *name)
{
	const struct entry *e = find(name);

	return e && (srcs[e->src].mem || srcs[e->src].keep >= 0);
}

int arch_member_len(const char *name, uint64_t *len)
{
	const struct entry *e = find(name);

	if (!e)
		return 0;
	*len = e->len;
	return 1;
}

int arch_open(const char *name)
{
	const struct entry *e = find(name);

	if (!e)
		return -2;
	/* An inflated member needs none: the archive's, read by nobody. */
	return fcntl(srcs[e->src].mem ? srcs[e->src].file : srcs[e->src].fd, F_DUPFD_CLOEXEC, 3);
}

/* LEN bytes at OFF of source S (of FD, unless S is in memory) into P; 0,
 * or -1 with the reason in WHY. */
static int read_at(const struct source *s, int fd, unsigned char *p, uint64_t len, uint64_t off,
		   char *why, size_t whylen)
{
	uint64_t got = 0;

	if (s->mem) {
		if (off > s->mem_size || len > s->mem_size - off) {
			snprintf(why, whylen, "the archive is truncated");
			return -1;
		}
		memcpy(p, s->mem + off, len);
		return 0;
	}
	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "%s", n ? strerror(errno) : "the archive is truncated");
			return -1;
		}
		got += (uint64_t)n;
	}
	return 0;
}

/*
 * A deflated zip member, inflated by the worker that decodes it: its raw
 * deflate stream (which ends itself) is within E->clen bytes at E->off, and
 * must give exactly the E->len bytes the central directory declares, no
 * more (a bomb stops there) and no fewer. B has room for E->len + 1.
 */
static int inflate_member(const struct entry *e, int fd, struct buf *b, char *why,
			  size_t whylen)
{
	static struct libdeflate_decompressor *d;
	static unsigned char *in;
	static size_t in_cap;
	size_t out = 0, used = 0;
	enum libdeflate_result r;

	if (!d && !(d = libdeflate_alloc_decompressor())) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (in_cap < e->clen) {
		unsigned char *p = realloc(in, e->clen);

		if (!p) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		in = p;
		in_cap = e->clen;
	}
	if (read_at(&srcs[e->src], fd, in, e->clen, e->off, why, whylen) < 0)
		return -1;
	r = libdeflate_deflate_decompress_ex(d, in, e->clen, b->p, e->len + 1, &used, &out);
	if (r == LIBDEFLATE_SUCCESS && out == e->len) {
		b->len = out;
		return 0;
	}
	if (r == LIBDEFLATE_SUCCESS && out < e->len)
		snprintf(why, whylen, "inflates to %zu bytes, not its declared %" PRIu64, out, e->len);
	else if (r == LIBDEFLATE_SUCCESS || r == LIBDEFLATE_INSUFFICIENT_SPACE)
		snprintf(why, whylen, "inflates past its declared size (%" PRIu64 " bytes): refused "
			 "as a bomb", e->len);
	else
		snprintf(why, whylen, "corrupt deflate data in the archive");
	return -1;
}

int arch_read(const char *name, int fd, struct buf *b, char *why, size_t whylen)
{
	const struct entry *e = find(name);
	int own = fd == -2;
	uint64_t off;

	if (!e) {
		snprintf(why, whylen, "not an archive member");
		goto fail;
	}
	off = e->off;
	if (srcs[e->src].streamed && arch_window_pos(e->off, &off) < 0) {
		snprintf(why, whylen, "not in the streamed window (the archive changed?)");
		goto fail;
	}
	if (own)
		fd = srcs[e->src].keep >= 0 ? keep_fd[srcs[e->src].keep] : srcs[e->src].fd;
	if (fd < 0 && !srcs[e->src].mem) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (b->cap < e->len + 1) {
		unsigned char *p = realloc(b->p, e->len + 1);

		if (!p) {
			snprintf(why, whylen, "out of memory");
			goto fail;
		}
		b->p = p;
		b->cap = e->len + 1;
	}
	if (e->deflated) {
		if (inflate_member(e, fd, b, why, whylen) < 0)
			goto fail;
	} else {
		if (read_at(&srcs[e->src], fd, b->p, e->len, off, why, whylen) < 0)
			goto fail;
		b->len = e->len;
	}
	if (!own)
		close(fd);
	return 0;
fail:
	if (!own && fd >= 0)
		close(fd);
	return -1;
}

/* ---- sniffing and listing ---- */

int arch_sniff_bytes(const unsigned char *head, size_t n)
{
	static const struct {
		size_t at, len;
		const char *magic;
	} m[] = {
		{ 0, 2, "\x1f\x8b" },			/* gzip */
		{ 0, 3, "BZh" },			/* bzip2 */
		{ 0, 6, "\xfd" "7zXZ\0" },		/* xz */
		{ 0, 4, "\x28\xb5\x2f\xfd" },		/* zstd */
		{ 0, 4, "PK\3\4" },			/* zip */
		{ 0, 4, "PK\5\6" },			/* an empty zip */
		{ 257, 5, "ustar" },			/* POSIX and GNU tar */
	};
	size_t k;

	for (k = 0; k < sizeof(m) / sizeof(m[0]); k++)
		if (n >= m[k].at + m[k].len && memcmp(head + m[k].at, m[k].magic, m[k].len) == 0)
			return 1;
	return 0;
}

int arch_sniff(const char *path)
{
	unsigned char head[512];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	return n > 0 && arch_sniff_bytes(head, (size_t)n);
}


/* The bytes an archive (or, with --recurse-archives, an inner archive) is
 * listed from: SIZE bytes at BASE of FD, the archive file or the memory
 * file, or of MEM, the inflated .tar.gz; its members' paths start with
 * PREFIX. */
struct region {
	int fd;
	const unsigned char *mem;	/* set: FD is -1 */
	int in_memory;		/* IN_FILE, IN_MEMFILE or IN_INFLATED */
	off_t base, size;
	const char *prefix;	/* "" or the inner archive's folder, with '/' */
	int depth;
};

static int recurse_archives;
#define DEPTH_MAX 4		/* archives in archives, at most */

void arch_set_recurse(int on)
{
	recurse_archives = on;
}

static int push_member(struct member **v, size_t *n, size_t *cap, char *path, uint64_t off,
		       uint64_t len)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct member *p = realloc(*v, c * sizeof(*p));

		if (!p) {
			free(path);
			return error("out of memory");
		}
		*v = p;
		*cap = c;
	}
	(*v)[*n].path = path;
	(*v)[*n].off = off;
	(*v)[*n].len = len;
	(*n)++;
	return 0;
}

void arch_listing_free(struct listing *ls)
{
	size_t k;

	for (k = 0; k < ls->n; k++)
		free(ls->m[k].path);
	for (k = 0; k < ls->ncls; k++)
		free(ls->cls[k].path);
	free(ls->m);
	free(ls->cls);
	filelist_free(&ls->dirs);
}

/* Record the folders PATH names among the first two levels ("a" and
 * "a/b" for "a/b/c.jpg"; a folder entry names itself): where the classes
 * are found. */
static int note_dir(struct listing *ls, const char *path, int is_dir)
{
	size_t len = strlen(path), n = 0;
	int level;

	for (level = 0; level < 2; level++) {
		const char *slash = strchr(path + n, '/');
		size_t m = slash ? (size_t)(slash - path) : is_dir ? len : 0;
		size_t k;
		int seen = 0;

		if (!m || m == n)
			return 0;
		/* Consecutive members share folders: keep the list short. */
		for (k = ls->dirs.n; k > 0 && k + 4 > ls->dirs.n && !seen; k--)
			seen = strlen(ls->dirs.paths[k - 1]) == m &&
			       memcmp(ls->dirs.paths[k - 1], path, m) == 0;
		if (!seen && filelist_push(&ls->dirs, strndup(path, m)) < 0)
			return -1;
		if (!slash)
			return 0;
		n = m + 1;
	}
	return 0;
}

/* Copy the current entry's data into memory file MFD at *END, at most MAX
 * bytes, GOT of them already there, each charged to the memory budget. Its
 * length, or -1 with a message naming the member (or, over the budget, the
 * archive). */
static int64_t copy_data(struct listing *ls, struct archive *a, const char *name, int mfd,
			 uint64_t *end, uint64_t max, uint64_t got)
{
	const char *archive = ls->archive;

	for (;;) {
		const void *p;
		size_t size;
		la_int64_t at;
		int r = archive_read_data_block(a, &p, &size, &at);

		if (r == ARCHIVE_EOF)
			return (int64_t)got;
		if (r != ARCHIVE_OK)
			return error("%s:%s: %s", archive, name, archive_error_string(a)), -1;
		if ((uint64_t)at != got)
			return error("%s:%s: a sparse member (holes are not read)", archive, name), -1;
		if (got + size > max)
			return error("%s:%s: inflates past %s (%" PRIu64 " bytes): refused as a bomb",
				     archive, name, max == member_max ? "the member limit"
				     : "its declared size", max), -1;
		if (store_charge(ls, size, *end + got) < 0)
			return -1;
		if (ls->streamed) {
			got += size;	/* counted, not kept */
			continue;
		}
		while (size) {
			ssize_t n = pwrite(mfd, p, size, (off_t)(*end + got));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return error_errno("%s: memory file", archive), -1;
			p = (const char *)p + n;
			size -= (size_t)n;
			got += (uint64_t)n;
		}
	}
}

/* Read a .cls member's text and record its class under KEY. */
static int take_cls(struct listing *ls, struct archive *a, const char *name, size_t keylen)
{
	unsigned char text[CLS_MAX];
	la_ssize_t n = archive_read_data(a, text, sizeof(text));
	int64_t v;
	char *key;

	if (n < 0)
		return error("%s:%s: %s", ls->archive, name, archive_error_string(a));
	if ((size_t)n == sizeof(text) || arch_parse_cls(text, (size_t)n, &v) < 0)
		return error("%s:%s: not a decimal class number", ls->archive, name);
	if (!(key = strndup(name, keylen)))
		return error("out of memory");
	return push_member(&ls->cls, &ls->ncls, &ls->clscap, key, (uint64_t)v, 0);
}

/* Whether member path P is a table to keep (arch_keep_tables). */
static int is_kept_table(const char *p)
{
	const char *slash = strchr(p, '/'), *base = strrchr(p, '/');

	if (keep_member && strcmp(p, keep_member) == 0)
		return 1;
	base = base ? base + 1 : p;
	return keep_meta && (!slash || slash == strrchr(p, '/')) &&
		(strcmp(base, META_CSV) == 0 || strcmp(base, META_JSONL) == 0);
}

/* Keep member P's bytes (ENT, the reader at its data), a table: whole, at
 * most ARCH_TABLE_MAX bytes, NUL-ended. Takes P. */
static int keep_table(struct listing *ls, struct archive *a, struct archive_entry *ent, char *p)
{
	struct arch_table *grown, *t;
	char *text = NULL, *more;
	size_t len = 0, cap = 0, k;
	la_ssize_t n;

	for (k = 0; k < nkept; k++)
		if (strcmp(kept[k].member, p) == 0) {
			error("%s:%s: a duplicate member name (refused: which is the table?)",
			      ls->archive, p);
			free(p);
			return -1;
		}
	if (archive_entry_is_encrypted(ent) ||
	    (archive_entry_size_is_set(ent) && archive_entry_size(ent) > (la_int64_t)ARCH_TABLE_MAX)) {
		error("%s:%s: %s", ls->archive, p, archive_entry_is_encrypted(ent)
		      ? "an encrypted member" : "a table over 1 GiB (refused)");
		free(p);
		return -1;
	}
	/* In one piece when its size is known (no regrowing copies). */
	if (archive_entry_size_is_set(ent) && !(text = malloc((cap = (size_t)archive_entry_size(ent) +
								  65536 + 1))))
		goto oom;
	do {
		if (cap - len < 65536 + 1) {
			cap = cap ? 2 * cap : 65536 * 2;
			if (!(more = realloc(text, cap)))
				goto oom;
			text = more;
		}
		n = archive_read_data(a, text + len, cap - len - 1);
		if (n < 0) {
			error("%s:%s: %s", ls->archive, p, archive_error_string(a));
			goto fail;
		}
		len += (size_t)n;
		if (len > ARCH_TABLE_MAX) {
			error("%s:%s: a table over 1 GiB (refused)", ls->archive, p);
			goto fail;
		}
	} while (n > 0);
	text[len] = '\0';
	if (!(grown = realloc(kept, (nkept + 1) * sizeof(*kept))))
		goto oom;
	kept = grown;
	t = &kept[nkept++];
	*t = (struct arch_table){ .member = p, .text = text, .len = len };
	return 0;
oom:
	error("out of memory");
fail:
	free(text);
	free(p);
	return -1;
}

/* The entry's clean path (malloc'd), or NULL: skipped (*bad 0) or refused
 * (*bad -1, message printed). */
static char *entry_path(const struct listing *ls, struct archive_entry *ent, const char *prefix,
			int *bad)
{
	const char *raw = archive_entry_pathname(ent);
	char *p;
	int r;

	*bad = 0;
	if (!raw)
		raw = archive_entry_pathname_utf8(ent);
	if (!raw) {
		*bad = error("%s: a member name that cannot be read", ls->archive);
		return NULL;
	}
	if (!(p = strdup(raw))) {
		*bad = error("out of memory");
		return NULL;
	}
	r = arch_clean_name(p);
	if (r == 0 && *prefix) {
		char *full = malloc(strlen(prefix) + strlen(p) + 1);

		if (!full) {
			free(p);
			*bad = error("out of memory");
			return NULL;
		}
		strcpy(stpcpy(full, prefix), p);
		free(p);
		return full;
	}
	if (r == 0)
		return p;
	if (r == -1)
		*bad = error("%s:%s: an absolute or ../ member name (refused: it names no place in "
			     "the tree)", ls->archive, raw);
	else if (filelist_line_break(raw))
		*bad = error("%s:%s: a member name with a newline or other line break cannot be "
			     "listed", ls->archive, raw);
	free(p);
	return NULL;
}

/* How an archive's members are read. */
enum kind {
	IN_PLACE_TAR,		/* a plain tar: every member in place */
	ZIP,			/* stored and deflated members in place, others copied */
	STREAM,			/* a compressed tar: every member copied */
};

/* Where entry ENT's bytes are, now that libarchive's reader is at its data:
 * in place in region R, or copied into the memory file (made on first use).
 * 0, or -1 with a message printed. */
static int place(struct listing *ls, struct archive *a, struct archive_entry *ent,
		 enum kind kind, const struct region *rg, struct member *m)
{
	const char *fmt = archive_format_name(a);

	m->in_memory = rg->in_memory;
	m->deflated = 0;
	if (kind == ZIP && fmt && archive_entry_size_is_set(ent))
		m->deflated = strstr(fmt, "(deflation)") != NULL;
	if (kind == IN_PLACE_TAR ||
	    (kind == ZIP && fmt && archive_entry_size_is_set(ent) &&
	     (m->deflated || strstr(fmt, "(uncompressed)")))) {
		/* libarchive gives no member's data offset, but its reader,
		 * just past the member's headers, is at it. */
		uint64_t at = (uint64_t)archive_filter_bytes(a, 0);
		uint64_t room = (uint64_t)rg->size;

		if (archive_entry_sparse_count(ent) > 0)
			return error("%s:%s: a sparse member (holes are not read)", ls->archive,
				     m->path);
		if (at > room || (!m->deflated && m->len > room - at))
			return error("%s:%s: claims %" PRIu64 " bytes, past the archive's end "
				     "(truncated?)", ls->archive, m->path, m->len);
		m->off = (uint64_t)rg->base + at;
		/* A deflate stream ends itself: read at most what a stream
		 * of LEN bytes can take, up to the next entry (see take_entry). */
		m->clen = room - at;
		if (m->deflated && m->clen > m->len + m->len / 256 + 4096)
			m->clen = m->len + m->len / 256 + 4096;
		return 0;
	}
	if (ls->mfd < 0 && (ls->mfd = memfd_create("parimg-archive", MFD_CLOEXEC |
						   MFD_ALLOW_SEALING)) < 0)
		return error_errno("%s: memfd_create", ls->archive);
	{
		int64_t got = copy_data(ls, a, m->path, ls->mfd, &ls->end, m->len, m->off);

		if (got < 0)
			return -1;
		m->off = ls->end;
		m->len = (uint64_t)got;
		m->in_memory = IN_MEMFILE;
		ls->end += m->len;
	}
	return 0;
}

static int list_region(struct listing *ls, const struct region *rg);

/* Inner archive member P (--recurse-archives): listed in turn, as the
 * folder its name names less an archive extension. 1 when P was an
 * archive and listed, 0 when it is no archive, -1 after an error. */
static int take_inner(struct listing *ls, struct archive *a, struct archive_entry *ent,
		      enum kind kind, const struct region *rg, char *p)
{
	static const char *const exts[] = { ".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tgz",
					    ".tzst", ".txz", ".tbz2", ".tbz", ".tar", ".zip",
					    NULL };
	unsigned char head[512];
	struct member m = { .path = p };
	struct region in = { .depth = rg->depth + 1 };
	size_t n = strlen(p), k;
	char *folder;
	int r;

	/* In place: its declared size, checked against the archive's. */
	m.len = archive_entry_size_is_set(ent) ? (uint64_t)archive_entry_size(ent) : UINT64_MAX;
	if (kind == IN_PLACE_TAR) {
		/* In place: look at its first bytes there. */
		uint64_t at = (uint64_t)archive_filter_bytes(a, 0);

		if (at >= (uint64_t)rg->size)
			return 0;
		if (rg->mem) {
			uint64_t left = (uint64_t)rg->size - at;

			if (left < 262)
				return 0;
			memset(head, 0, sizeof(head));
			memcpy(head, rg->mem + rg->base + at, left < sizeof(head) ? left : sizeof(head));
		} else if (pread(rg->fd, head, sizeof(head), rg->base + (off_t)at) < 262) {
			return 0;
		}
		if (!arch_sniff_bytes(head, sizeof(head)))
			return 0;
	} else {
		/* Its first block tells; kept, as the start of its copy. */
		const void *blk;
		size_t size;
		la_int64_t at;
		int h = archive_read_data_block(a, &blk, &size, &at);

		if (h == ARCHIVE_EOF)
			return 0;
		if (h != ARCHIVE_OK)
			return error("%s:%s: %s", ls->archive, p, archive_error_string(a));
		if (at != 0 || !arch_sniff_bytes(blk, size))
			return 0;
		/* Copied: at most the member limit, as an image member (an
		 * unset size stops there too), and charged to the budget. */
		if (m.len != UINT64_MAX && m.len > member_max)
			return error("%s:%s: %" PRIu64 " bytes, over the member limit (%" PRIu64
				     ", from --max-pixels)", ls->archive, p, m.len, member_max);
		if (m.len == UINT64_MAX)
			m.len = member_max;
		if (ls->mfd < 0 && (ls->mfd = memfd_create("parimg-archive", MFD_CLOEXEC |
							   MFD_ALLOW_SEALING)) < 0)
			return error_errno("%s: memfd_create", ls->archive);
		if (size > m.len)
			return error("%s:%s: inflates past its declared size", ls->archive, p);
		if (store_charge(ls, size, ls->end) < 0)
			return -1;
		if (pwrite(ls->mfd, blk, size, (off_t)ls->end) != (ssize_t)size)
			return error_errno("%s: memory file", ls->archive);
		m.off = size;	/* already copied */
		kind = STREAM;
	}
	if (rg->depth + 1 >= DEPTH_MAX)
		return error("%s:%s: archives nested deeper than %d", ls->archive, p, DEPTH_MAX);
	if (place(ls, a, ent, kind, rg, &m) < 0)
		return -1;
	for (k = 0; exts[k]; k++) {
		size_t e = strlen(exts[k]);

		if (n > e && strcasecmp(p + n - e, exts[k]) == 0) {
			n -= e;
			break;
		}
	}
	if (!(folder = malloc(n + 2)))
		return error("out of memory");
	memcpy(folder, p, n);
	folder[n] = '/';
	folder[n + 1] = '\0';
	in.fd = m.in_memory == IN_MEMFILE ? ls->mfd : m.in_memory == IN_FILE ? rg->fd : -1;
	in.mem = m.in_memory == IN_INFLATED ? rg->mem : NULL;
	in.in_memory = m.in_memory;
	in.base = (off_t)m.off;
	in.size = (off_t)m.len;
	in.prefix = folder;
	r = note_dir(ls, folder, 0) < 0 ? -1 : list_region(ls, &in);
	free(folder);
	return r < 0 ? -1 : 1;
}

/* Take entry ENT: a folder, an image member, a .cls, an inner archive, or
 * nothing. */
static int take_entry(struct listing *ls, struct archive *a, struct archive_entry *ent,
		      enum kind kind, const struct region *rg)
{
	mode_t type = archive_entry_filetype(ent);
	int bad;
	char *p;
	const char *base;
	struct member m = { 0 };
	size_t key;

	if (ls->pending) {
		/* The deflated member before ends before this entry's data. */
		struct member *prev = &ls->m[ls->n - 1];
		uint64_t here = (uint64_t)rg->base + (uint64_t)archive_filter_bytes(a, 0);

		if (here > prev->off && here - prev->off < prev->clen)
			prev->clen = here - prev->off;
		ls->pending = 0;
	}
	if (!(p = entry_path(ls, ent, rg->prefix, &bad)))
		return bad;
	if (arch_is_hidden(p) || (type != AE_IFREG && type != AE_IFDIR)) {
		free(p);
		return 0;	/* hidden, or a link or device: not a row */
	}
	if (note_dir(ls, p, type == AE_IFDIR) < 0) {
		free(p);
		return -1;
	}
	if (type == AE_IFREG && is_kept_table(p))
		return keep_table(ls, a, ent, p);
	base = strrchr(p, '/');
	base = base ? base + 1 : p;
	key = arch_wds_key(p);
	if (type == AE_IFREG && key && strcmp(p + key, ".cls") == 0) {
		int r = take_cls(ls, a, p, key);

		free(p);
		return r;
	}
	if (type == AE_IFREG && recurse_archives && !filelist_is_image_name(base)) {
		int r = take_inner(ls, a, ent, kind, rg, p);

		free(p);
		return r < 0 ? -1 : 0;
	}
	if (type == AE_IFDIR || !filelist_is_image_name(base)) {
		free(p);
		return 0;
	}
	m.path = p;
	m.len = archive_entry_size_is_set(ent) ? (uint64_t)archive_entry_size(ent) : member_max;
	if (archive_entry_size_is_set(ent) && m.len > member_max) {
		error("%s:%s: %" PRIu64 " bytes, over the member limit (%" PRIu64 ", from "
		      "--max-pixels)", ls->archive, p, m.len, member_max);
		free(p);
		return -1;
	}
	if (archive_entry_is_encrypted(ent)) {
		error("%s:%s: an encrypted member", ls->archive, p);
		free(p);
		return -1;
	}
	if (place(ls, a, ent, kind, rg, &m) < 0) {
		free(p);
		return -1;
	}
	if (push_member(&ls->m, &ls->n, &ls->cap, p, 0, 0) < 0)
		return -1;
	ls->m[ls->n - 1] = m;
	ls->pending = m.deflated;
	return 0;
}

struct archive *arch_reader(int with_zip)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	/* The filters by name, never _all: no external program is run. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (with_zip)
		archive_read_support_format_zip(a);
	return a;
}

static int add_source(const char *path, int fd)
{
	struct source *s = realloc(srcs, (nsrcs + 1) * sizeof(*s));

	if (!s)
		return error("out of memory");
	srcs = s;
	if (!(srcs[nsrcs].path = strdup(path)))
		return error("out of memory");
	srcs[nsrcs].fd = fd;
	srcs[nsrcs].streamed = 0;
	srcs[nsrcs].file = -1;
	srcs[nsrcs].mem = NULL;
	srcs[nsrcs].mem_size = 0;
	srcs[nsrcs].map_len = 0;
	srcs[nsrcs].keep = -1;
	nsrcs++;
	return 0;
}

/*
 * libarchive's reader on our own descriptor: reads with pread, skips and
 * seeks without reading. A plain tar is read in small blocks, so that
 * listing reads little more than its headers (a block holds a header and a
 * member's first bytes; the rest of the member is skipped, not read): a
 * 100,000-member tar of 10 KiB files was listed in 250 ms with 64 KiB
 * reads, most of it copying member data nobody looks at.
 */
struct feed {
	int fd;
	const unsigned char *mem;	/* or these bytes, handed over whole */
	off_t base;		/* where the archive starts in FD (MEM) */
	off_t pos, size;
	size_t block;
	unsigned char *buf;
};

static la_ssize_t feed_read(struct archive *a, void *ctx, const void **out)
{
	struct feed *f = ctx;
	ssize_t n;

	size_t want = f->pos < f->size && (uint64_t)(f->size - f->pos) < f->block
		      ? (size_t)(f->size - f->pos) : f->block;

	if (f->pos >= f->size)
		want = 0;
	if (f->mem) {
		/* The rest at once: libarchive reads it in place, no copy. */
		*out = f->mem + f->base + f->pos;
		n = f->size - f->pos;
		f->pos = f->size;
		return n;
	}
	while ((n = pread(f->fd, f->buf, want, f->base + f->pos)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	f->pos += n;
	*out = f->buf;
	return n;
}

static la_int64_t feed_skip(struct archive *a, void *ctx, la_int64_t n)
{
	struct feed *f = ctx;

	(void)a;
	if (n > f->size - f->pos)
		n = f->size - f->pos;	/* libarchive then finds the archive short */
	if (n < 0)
		n = 0;
	f->pos += n;
	return n;
}

static la_int64_t feed_seek(struct archive *a, void *ctx, la_int64_t off, int whence)
{
	struct feed *f = ctx;
	la_int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->size;

	if (off > INT64_MAX - base || base + off < 0) {
		archive_set_error(a, EINVAL, "seek out of range");
		return ARCHIVE_FATAL;
	}
	f->pos = base + off;
	return f->pos;
}

/* Little-endian fields of a zip's headers. */
static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* A zip entry's bytes: its local header, name, extra field and data. */
struct span {
	uint64_t from, to;
};

static int cmp_span(const void *x, const void *y)
{
	const struct span *a = x, *b = y;

	return (a->from > b->from) - (a->from < b->from);
}

/* Where the zip's end of central directory record is in P[0..SIZE) (the
 * last one in its final 64 KiB that points back into the file), or -1. */
static int64_t zip_eocd(const unsigned char *p, uint64_t size)
{
	uint64_t k, low = size > 22 + 65535 ? size - 22 - 65535 : 0;

	if (size < 22)
		return -1;
	for (k = size - 22 + 1; k-- > low;)
		if (memcmp(p + k, "PK\5\6", 4) == 0 && le(p + k + 12, 4) <= k)
			return (int64_t)k;
	return -1;
}

/*
 * Read zip P[0..SIZE)'s central directory (libarchive's reader has found it
 * sound) for what libarchive does not check: that no two entries share
 * bytes (the "better zip bomb" makes thousands of entries of one deflate
 * stream, and a central directory may name one local header twice), and
 * that the stored and deflated entries declare in all no more than deflate
 * can give from the archive (1032 to 1, plus 1 MiB). NAME names it. 0, or
 * -1 with a message printed.
 */
static int zip_spans(const char *name, const unsigned char *p, uint64_t size)
{
	int64_t eocd = zip_eocd(p, size);
	uint64_t n, cd_size, cd_off, cd_at, end, fix, k, at, total = 0;
	struct span *v = NULL;
	int r = -1;

	if (eocd < 0)
		return 0;	/* read as a stream: each entry after the one before */
	n = le(p + eocd + 10, 2);
	cd_size = le(p + eocd + 12, 4);
	cd_off = le(p + eocd + 16, 4);
	end = (uint64_t)eocd;
	if ((n == 0xffff || cd_size == 0xffffffff || cd_off == 0xffffffff) && eocd >= 20 &&
	    memcmp(p + eocd - 20, "PK\6\7", 4) == 0) {
		uint64_t z = le(p + eocd - 20 + 8, 8);

		if (size < 56 || z > size - 56 || memcmp(p + z, "PK\6\6", 4) != 0)
			return error("%s: a bad zip64 end of central directory", name);
		n = le(p + z + 32, 8);
		cd_size = le(p + z + 40, 8);
		cd_off = le(p + z + 48, 8);
		end = z;
	}
	/* Offsets count from the first entry, which may follow a stub. */
	if (cd_size > end || cd_off > end - cd_size || n > cd_size / 46)
		return error("%s: a bad zip central directory", name);
	cd_at = end - cd_size;
	fix = cd_at - cd_off;
	if (n && !(v = malloc(n * sizeof(*v))))
		return error("out of memory");
	for (k = 0, at = cd_at; k < n; k++) {
		const unsigned char *c = p + at;
		uint64_t method, csize, usize, lho, nl, el, x;

		if (at + 46 > end || memcmp(c, "PK\1\2", 4) != 0)
			goto bad;
		method = le(c + 10, 2);
		csize = le(c + 20, 4);
		usize = le(c + 24, 4);
		lho = le(c + 42, 4);
		nl = le(c + 28, 2);
		el = le(c + 30, 2);
		if (at + 46 + nl + el + le(c + 32, 2) > end)
			goto bad;
		/* zip64: the fields set to all ones follow, in this order. */
		for (x = 46 + nl; x + 4 <= 46 + nl + el; x += 4 + le(c + x + 2, 2)) {
			const unsigned char *f = c + x + 4, *fend = f + le(c + x + 2, 2);

			if (le(c + x, 2) != 1 || fend > c + 46 + nl + el)
				continue;
			if (usize == 0xffffffff && f + 8 <= fend)
				usize = le(f, 8), f += 8;
			if (csize == 0xffffffff && f + 8 <= fend)
				csize = le(f, 8), f += 8;
			if (lho == 0xffffffff && f + 8 <= fend)
				lho = le(f, 8);
		}
		if (size < 30 || lho > size - 30 - fix || memcmp(p + lho + fix, "PK\3\4", 4) != 0)
			goto bad;
		v[k].from = lho + fix;
		v[k].to = v[k].from + 30 + le(p + v[k].from + 26, 2) + le(p + v[k].from + 28, 2);
		if (v[k].to > size || csize > size - v[k].to) {
			free(v);
			return error("%s: a zip entry past the archive's end (truncated?)", name);
		}
		v[k].to += csize;
		if (method == 0 || method == 8)
			total += usize > UINT64_MAX / 2 ? UINT64_MAX / 2 : usize;
		at += 46 + nl + el + le(c + 32, 2);
	}
	if (total / 1032 > size + (1 << 10)) {
		error("%s: its zip entries declare %" PRIu64 " bytes, more than deflate gives from %"
		      PRIu64 ": refused as a bomb", name, total, size);
		goto out;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_span);
	for (k = 1; k < n; k++)
		if (v[k].from < v[k - 1].to) {
			error("%s: zip entries overlap (at byte %" PRIu64 "): refused as a bomb",
			      name, v[k].from);
			goto out;
		}
	r = 0;
	goto out;
bad:
	error("%s: a bad zip central directory", name);
out:
	free(v);
	return r;
}

/* zip_spans on region RG, mapped (its bytes are not in memory otherwise). */
static int zip_check(const struct listing *ls, const struct region *rg)
{
	char name[PATH_MAX + 64];
	uint64_t skew = (uint64_t)rg->base % (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned char *map;
	int r;

	snprintf(name, sizeof(name), "%s%s%.*s", ls->archive, rg->depth ? ":" : "",
		 (int)(rg->depth ? strlen(rg->prefix) - 1 : 0), rg->prefix);
	if (rg->mem)
		return zip_spans(name, rg->mem + rg->base, (uint64_t)rg->size);
	map = mmap(NULL, (size_t)rg->size + skew, PROT_READ, MAP_PRIVATE, rg->fd,
		   rg->base - (off_t)skew);
	if (map == MAP_FAILED)
		return error_errno("%s", name);
	r = zip_spans(name, map + skew, (uint64_t)rg->size);
	munmap(map, (size_t)rg->size + skew);
	return r;
}

/* List region RG's archive into LS. 0, or -1 with a message printed. */
static int list_region(struct listing *ls, const struct region *rg)
{
	struct archive *a = arch_reader(1);
	struct archive_entry *ent;
	enum kind kind = STREAM;
	struct feed feed = { .fd = rg->fd, .mem = rg->mem, .base = rg->base, .size = rg->size,
			     .block = 1 << 16 };
	unsigned char head[512];
	int first = 1, r = 0;

	if (!a)
		return error("out of memory");
	if (rg->size >= (off_t)sizeof(head) &&
	    (rg->mem ? (memcpy(head, rg->mem + rg->base, sizeof(head)), 1)
		     : pread(rg->fd, head, sizeof(head), rg->base) == (ssize_t)sizeof(head)) &&
	    memcmp(head + 257, "ustar", 5) == 0)
		feed.block = 1024;	/* two headers: a pax one and its member's */
	if (!(feed.buf = malloc(feed.block))) {
		r = error("out of memory");
		goto out;
	}
	archive_read_set_read_callback(a, feed_read);
	archive_read_set_skip_callback(a, feed_skip);
	archive_read_set_seek_callback(a, feed_seek);
	archive_read_set_callback_data(a, &feed);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		r = error("%s%s%.*s: %s", ls->archive, rg->depth ? ":" : "",
			  (int)(rg->depth ? strlen(rg->prefix) - 1 : 0), rg->prefix,
			  archive_error_string(a));
		goto out;
	}
	for (;;) {
		int h = archive_read_next_header(a, &ent);

		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			r = error("%s%s%.*s: %s", ls->archive, rg->depth ? ":" : "",
				  (int)(rg->depth ? strlen(rg->prefix) - 1 : 0), rg->prefix,
				  archive_error_string(a));
			goto out;
		}
		if (first) {
			int fmt = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;

			if (archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE)
				kind = fmt == ARCHIVE_FORMAT_TAR ? IN_PLACE_TAR
				       : fmt == ARCHIVE_FORMAT_ZIP ? ZIP : STREAM;
			if (rg->depth == 0)
				ls->streamable = kind == STREAM && fmt == ARCHIVE_FORMAT_TAR &&
						 !recurse_archives;
			first = 0;
			if (kind == ZIP && (r = zip_check(ls, rg)) < 0)
				goto out;
		}
		if (++ls->entries > ENTRIES_MAX) {
			r = error("%s: more than %d entries: refused", ls->archive, ENTRIES_MAX);
			goto out;
		}
		if ((r = take_entry(ls, a, ent, kind, rg)) < 0)
			goto out;
	}
out:
	archive_read_free(a);
	free(feed.buf);
	return r;
}

/*
 * A gzip stream (a .tar.gz), inflated whole by libdeflate into memory of
 * the parent's own, where it is then read as a plain tar, in place:
 * libdeflate inflates JPEG-laden data about twice as fast as the zlib
 * behind libarchive's gzip filter, and this is the one step a .tar.gz's
 * load waits for (see bench.sh section o). The memory is private and
 * anonymous, address space for the largest output allowed with pages only
 * as written, and in huge pages where the kernel gives them (MADV_HUGEPAGE):
 * into a memory file's small pages the same inflate took 116 ms against
 * 79 ms here, a third of it faulting the pages in, the rest their TLB
 * misses. Made read-only, it is inherited by the workers, which copy a
 * member out as they would pread it (no descriptor, no seals needed: a
 * worker's writes would land in its own copy). Only while the output stays
 * within a quarter of the memory, 32 times the input plus 64 MiB (the
 * trailer's size, a lower bound, only saves a vain try) and what the
 * memory budget has left (it
 * is charged); else, or when libdeflate finds the stream bad, 0 is
 * returned, with nothing kept, and the stream goes through libarchive
 * instead, which keeps only the image members and reports what is wrong.
 * RG becomes the inflated bytes' region. 1 when done, 0 to stream
 * instead, -1 after an error (printed).
 */
static int inflate_whole(struct listing *ls, struct region *rg)
{
	uint64_t cap = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) / 4;
	uint64_t ratio = (uint64_t)rg->size * 32 + (64 << 20);	/* a bomb's output, bounded */
	uint64_t isize;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), in_at = 0, have = 0, len, keep;
	unsigned char *in = MAP_FAILED, *out = MAP_FAILED;
	struct libdeflate_decompressor *d = NULL;
	int r = 0;

	if (ratio < cap)
		cap = ratio;
	if (budget_left() < cap)
		cap = budget_left();
	if (rg->size < 18 || cap > SIZE_MAX / 2)
		return 0;
	len = ((size_t)cap + page - 1) / page * page;
	in = mmap(NULL, (size_t)rg->size, PROT_READ, MAP_PRIVATE, rg->fd, 0);
	if (in == MAP_FAILED || in[0] != 0x1f || in[1] != 0x8b || !len)
		goto out;
	/* ISIZE, the last member's length mod 2^32: at most the whole's, so
	 * one past the cap is streamed without a byte inflated here. */
	isize = (uint64_t)in[rg->size - 4] | (uint64_t)in[rg->size - 3] << 8 |
		(uint64_t)in[rg->size - 2] << 16 | (uint64_t)in[rg->size - 1] << 24;
	if (isize > cap || !(d = libdeflate_alloc_decompressor()))
		goto out;
	out = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (out == MAP_FAILED)
		goto out;	/* no room for it (strict overcommit, a ulimit): streamed */
	madvise(out, len, MADV_HUGEPAGE);	/* a hint */
	while (in_at < (size_t)rg->size) {
		size_t used = 0, got = 0;

		/* Too large to hold (LIBDEFLATE_INSUFFICIENT_SPACE): streamed;
		 * bad: libarchive's reading will say what is wrong. */
		if (libdeflate_gzip_decompress_ex(d, in + in_at, (size_t)rg->size - in_at,
						  out + have, len - have, &used,
						  &got) != LIBDEFLATE_SUCCESS)
			goto out;
		have += got;
		in_at += used;	/* gzip members follow one another */
		if (in_at < (size_t)rg->size && in[in_at] != 0x1f)
			goto out;	/* trailing bytes: libarchive's rules apply */
	}
	keep = have ? (have + page - 1) / page * page : page;
	if (keep < len)
		munmap(out + keep, len - keep);
	len = keep;
	if (mprotect(out, len, PROT_READ) < 0) {
		r = error_errno("%s: inflated archive", ls->archive);
		goto out;
	}
	if ((r = charge(ls->archive, have)) < 0)
		goto out;	/* within the cap: cannot fail */
	ls->inflated = out;
	ls->inflated_len = len;
	ls->inflated_size = have;
	out = MAP_FAILED;
	rg->fd = -1;
	rg->mem = ls->inflated;
	rg->in_memory = IN_INFLATED;
	rg->base = 0;
	rg->size = (off_t)have;
	r = 1;
out:
	if (out != MAP_FAILED)
		munmap(out, len);
	if (in != MAP_FAILED)
		munmap(in, (size_t)ls->csize);	/* not RG's size: now the output's */
	libdeflate_free_decompressor(d);
	return r;
}

/* List ARCHIVE into LS, its members' bytes made readable for arch_read. */
int arch_list(struct listing *ls, const char *archive)
{
	struct region rg = { .fd = -1, .prefix = "" }, file = { .fd = -1 };
	struct stat st;
	int r;

	memset(ls, 0, sizeof(*ls));
	ls->archive = archive;
	ls->src = ls->src_mem = ls->src_inflated = ls->mfd = -1;
	if (budget_init() < 0)
		return -1;
	file.fd = rg.fd = open(archive, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (rg.fd < 0 || fstat(rg.fd, &st) < 0) {
		r = error_errno("%s", archive);
		goto out;
	}
	rg.size = st.st_size;
	ls->csize = (uint64_t)st.st_size;
	if ((r = inflate_whole(ls, &rg)) < 0 || (r = list_region(ls, &rg)) < 0)
		goto out;
	if (ls->streamed) {
		close(ls->mfd);
		ls->mfd = -1;
	}
	if (ls->mfd >= 0 && !ls->on_disk &&
	    fcntl(ls->mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		r = error_errno("%s: sealing its memory file", archive);
		goto out;
	}
	if (ls->mfd >= 0 && ls->on_disk) {
		/* No seals on a file: kept read-only instead. */
		char self[64];
		int ro;

		snprintf(self, sizeof(self), "/proc/self/fd/%d", ls->mfd);
		if ((ro = open(self, O_RDONLY | O_CLOEXEC)) >= 0) {
			dup2(ro, ls->mfd);
			close(ro);
		}
	}
	/* Kept open for the workers: the archive, and the memory file. */
	ls->src = (int)nsrcs;
	if ((r = add_source(archive, file.fd)) < 0)
		goto out;
	file.fd = -1;
	if (ls->inflated) {
		ls->src_inflated = (int)nsrcs;
		if ((r = add_source(archive, -1)) < 0)
			goto out;
		srcs[ls->src_inflated].mem = ls->inflated;
		srcs[ls->src_inflated].mem_size = ls->inflated_size;
		srcs[ls->src_inflated].map_len = ls->inflated_len;
		srcs[ls->src_inflated].file = srcs[ls->src].fd;
		ls->inflated = NULL;
	}
	if (ls->mfd >= 0) {
		ls->src_mem = (int)nsrcs;
		if ((r = add_source(archive, ls->mfd)) < 0)
			goto out;
		ls->mfd = -1;
	} else if (ls->streamed) {
		ls->src_mem = (int)nsrcs;
		if ((r = add_source(archive, -1)) < 0)
			goto out;
		srcs[ls->src_mem].streamed = 1;
		srcs[ls->src_mem].file = srcs[ls->src].fd;
	}
out:
	if (file.fd >= 0)
		close(file.fd);
	if (ls->mfd >= 0)
		close(ls->mfd);
	if (ls->inflated)
		munmap(ls->inflated, ls->inflated_len);
	ls->inflated = NULL;
	return r;
}

/* Enter member M of LS into the table under its row name (malloc'd). */
char *arch_enter(const struct listing *ls, const struct member *m)
{
	size_t al = strlen(ls->archive), ml = strlen(m->path);
	char *name = malloc(al + 1 + ml + 1);
	int r;

	if (!name) {
		error("out of memory");
		return NULL;
	}
	memcpy(name, ls->archive, al);
	name[al] = ':';
	memcpy(name + al + 1, m->path, ml + 1);
	r = insert(name, (uint32_t)(m->in_memory == IN_INFLATED ? ls->src_inflated
				    : m->in_memory == IN_MEMFILE ? ls->src_mem : ls->src), m);
	if (r != 0) {
		if (r > 0)
			error("%s: a duplicate member name (refused: which is the row?)", name);
		else
			error("out of memory");
		free(name);
		return NULL;
	}
	return name;
}

int arch_add(struct filelist *fl, const char *archive)
{
	struct listing ls;
	size_t k;
	int r = arch_list(&ls, archive);

	for (k = 0; r == 0 && k < ls.n; k++) {
		char *name = arch_enter(&ls, &ls.m[k]);

		r = name ? filelist_push(fl, name) : -1;
	}
	arch_listing_free(&ls);
	return r;
}
