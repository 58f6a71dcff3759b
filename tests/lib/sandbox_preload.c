/* sandbox_preload.c - an LD_PRELOAD shim for tests/cli_sandbox_test.py only.
 * It makes a confined worker behave as an exploited decoder would: after the
 * lock-down (its seccomp_load returned) and in the middle of decoding a
 * marked JPEG (in jpeg_read_scanlines; or a marked file of another decoder's
 * library, in the call that decodes it, listed at the end), it tries what its
 * file's name says:
 *   "SBX_openat"   open /etc/passwd        "SBX_socket"  a TCP socket
 *   "SBX_connect"  connect fd 0 somewhere  "SBX_execve"  exec /bin/sh
 *   "SBX_fork"     fork                    "SBX_ptrace"  PTRACE_TRACEME
 *   "SBX_kill"     SIGTERM to the parent   "SBX_stdout"  write to stdout
 *   "SBX_newfile"  create a file           "SBX_mmapfile" map its input file
 *   "SBX_mmapexec" executable memory       "SBX_punch"   punch a hole in the output
 *   "SBX_madvremove" MADV_REMOVE           "SBX_grow"    grow the output by 1 GiB
 * the same with an int argument's upper 32 bits set, which the kernel drops:
 *   "SBX_readhi"   read fd (1 << 32) | 0 (stdin)   "SBX_preadhi" pread64 likewise
 *   "SBX_lseekhi"  lseek fd (1 << 32) | 0
 *   "SBX_madvhi"   madvise (1 << 32) | MADV_REMOVE over the array's header
 * or against the memory cap (with SBX_UNCONFINED too, where a mapping that
 * succeeds prints "pwned"):
 *   "SBX_bigshm"   map 64 GiB of shared anonymous memory (never touched)
 * or against the memory it shares with the parent (the pool's slots, found
 * by their content: SBX_ITEM in the environment is the item in hand):
 *   "SBX_forgeslot" overwrite the pool's mapping below its own slot (the
 *                  other workers' slots): must fault
 *   "SBX_lowerpos" move its slot's pos back to its range's first item and
 *                  crash (under -k the parent would hand it the same items
 *                  again and again)
 * or against the output array (mapped by the parent before the fork):
 *   "SBX_zerohead" zero the array's .npy header
 *   "SBX_picklehead" rewrite it as an object array's (pickle)
 *   "SBX_otherpart" with --split, in the first part: scribble over the rows
 *                  of every later part's array it can reach (none: each
 *                  pool maps only its own part's; the parent maps them all
 *                  before the first pool starts), which show where a later
 *                  part's row is skipped
 * or, against the parent's checks of its channel (the layout mirrors
 * pool.c's struct msg):
 *   "SBX_badindex" ask for the inputs of items far outside its range
 *   "SBX_longmsg"  send an over-long message
 *   "SBX_forged"   report a failure of an item that is not its own
 *   "SBX_badtype"  send a message of no known type
 *   "SBX_badopen"  ask to be handed an item far outside its range
 * or, in a worker that opens its inputs itself (Landlock; relative to the
 * directory descriptor its filter allows, the one its own opens used):
 *   "SBX_beneath"  open /etc/passwd through that descriptor (Landlock's
 *                  EACCES; the outcome is printed by the parent at exit)
 *   "SBX_linkout"  open the link zz_link beside its input, which leads out
 *                  of the input root (likewise)
 *   "SBX_writeinput" open its own input for writing
 *   "SBX_creat"    create a file beside its input, opened read-only
 *   "SBX_opath"    open the input root's parent with O_PATH
 * where an open that succeeds writes "pwned" to stdout (a call the filter
 * traps when confined: the test would see it).
 * With SBX_UNCONFINED=1 in the environment it attacks in an unconfined
 * worker too (--sandbox off), to show the attacks are real; with
 * SBX_NO_SECCOMP=1, seccomp_api_get() says the kernel has no filters, with
 * SBX_NO_LANDLOCK=1 the kernel has no Landlock (syscall(2) says ENOSYS).
 * The parent opens the inputs (pool_input), so the shim learns which file
 * is which there: its open wrappers record a marked file's device and
 * inode in a table shared with the workers, and the workers' fstat, which
 * input_read_fd calls on each input, looks them up. Built by the test:
 * cc -shared -fPIC -o sandbox_preload.so tests/sandbox_preload.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define NMARKS 64

/* What the open attacks got, shared, printed by the parent at exit. */
struct outcome {
	char action[24];
	int err;		/* errno, 0 if it opened */
};
static struct outcome *outcomes;
static int self_dirfd = -1;	/* a worker's own opens' directory descriptor */
static char last_path[4096];	/* the last marked path this worker opened */

/* The library calls interposed, as their headers would declare them. */
int seccomp_api_get(void);
int seccomp_load(void *ctx);
unsigned jpeg_read_scanlines(void *ci, unsigned char **rows, unsigned max);

struct mark {
	dev_t dev;
	ino_t ino;
	char action[24];
};

static struct mark *marks;	/* shared: the parent writes, workers read */
static pid_t parent;		/* the process the shim was loaded into */
static int locked;		/* this worker's filter is loaded */
static int channel = -1;	/* its socket, from its first sendmsg */
static const char *armed;	/* the marked input in hand: its action */
static int armed_fd = -1;
static int output_fd = -1;	/* the output, from the worker's fallocate of its
				 * rows (load_range) before its first item */

/* What the parent mapped before forking, recorded by the mmap wrapper. */
#define NMAPS 16
static struct {
	char *addr;
	size_t len;
} arrays[NMAPS];		/* shared, writable file mappings: the arrays, in order */
static int narrays;
static char *shared_anon;	/* the latest shared anonymous mapping: the pool's */
static size_t shared_anon_len;

__attribute__((constructor)) static void init(void)
{
	parent = getpid();
	marks = mmap(NULL, sizeof(struct mark) * NMARKS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (marks == MAP_FAILED)
		marks = NULL;
	else
		memset(marks, 0, sizeof(struct mark) * NMARKS);
	outcomes = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (outcomes == MAP_FAILED)
		outcomes = NULL;
}

__attribute__((destructor)) static void report_outcomes(void)
{
	int k;

	if (getpid() != parent || !outcomes)
		return;
	for (k = 0; k < 4096 / (int)sizeof(*outcomes) && outcomes[k].action[0]; k++)
		fprintf(stderr, "sbx: %s: %s\n", outcomes[k].action,
			outcomes[k].err ? strerror(outcomes[k].err) : "opened");
}

/* Record that ACTION's open got ERR (0: it opened). */
static void outcome(const char *action, int err)
{
	int k;

	for (k = 0; outcomes && k < 4096 / (int)sizeof(*outcomes); k++)
		if (!outcomes[k].action[0]) {
			outcomes[k].err = err;
			strncpy(outcomes[k].action, action, sizeof(outcomes[k].action) - 1);
			return;
		}
}

long syscall(long nr, ...)
{
	long (*real)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	va_list ap;
	long a[6];
	int k;

	va_start(ap, nr);
	for (k = 0; k < 6; k++)
		a[k] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_landlock_create_ruleset && getenv("SBX_NO_LANDLOCK")) {
		errno = ENOSYS;
		return -1;
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Remember the file FD if PATH is marked (in the parent, or in an
 * unconfined worker, which opens its own inputs). */
static void note(const char *path, int fd)
{
	const char *m = path ? strstr(path, "SBX_") : NULL;
	struct stat st;
	size_t k, n;

	if (!m || fd < 0 || !marks || fstat(fd, &st) < 0)
		return;
	if (getpid() != parent)
		snprintf(last_path, sizeof(last_path), "%s", path);
	m += 4;
	for (n = 0; m[n] && m[n] != '.' && m[n] != '_' && n < sizeof(marks[0].action) - 1; n++)
		;
	for (k = 0; k < NMARKS; k++) {
		if (marks[k].ino == 0 || (marks[k].ino == st.st_ino && marks[k].dev == st.st_dev)) {
			marks[k].dev = st.st_dev;
			marks[k].ino = st.st_ino;
			memcpy(marks[k].action, m, n);
			marks[k].action[n] = '\0';
			return;
		}
	}
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(fn)                                                          \
	int fn(const char *path, int flags, ...)                                  \
	{                                                                         \
		int (*real)(const char *, int, ...) =                             \
			(int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #fn);   \
		va_list ap;                                                       \
		mode_t mode;                                                      \
		int fd;                                                           \
                                                                                  \
		va_start(ap, flags);                                              \
		mode = mode_arg(flags, ap);                                       \
		va_end(ap);                                                       \
		fd = real(path, flags, mode);                                     \
		note(path, fd);                                                   \
		return fd;                                                        \
	}
#define OPENAT_WRAPPER(fn)                                                        \
	int fn(int dirfd, const char *path, int flags, ...)                       \
	{                                                                         \
		int (*real)(int, const char *, int, ...) =                        \
			(int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, #fn); \
		va_list ap;                                                       \
		mode_t mode;                                                      \
		int fd;                                                           \
                                                                                  \
		va_start(ap, flags);                                              \
		mode = mode_arg(flags, ap);                                       \
		va_end(ap);                                                       \
		fd = real(dirfd, path, flags, mode);                              \
		if (dirfd >= 0 && getpid() != parent)                             \
			self_dirfd = dirfd;                                       \
		note(path, fd);                                                   \
		return fd;                                                        \
	}
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

int seccomp_api_get(void)
{
	int (*real)(void) = (int (*)(void))dlsym(RTLD_NEXT, "seccomp_api_get");

	return getenv("SBX_NO_SECCOMP") ? 0 : real();
}

int seccomp_load(void *ctx)
{
	int (*real)(void *) = (int (*)(void *))dlsym(RTLD_NEXT, "seccomp_load");
	int r = real(ctx);

	locked = r == 0;
	return r;
}

ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
	ssize_t (*real)(int, const struct msghdr *, int) =
		(ssize_t(*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");

	if (locked && channel < 0)
		channel = fd;
	return real(fd, mh, flags);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	int (*real)(int, int, off_t, off_t) =
		(int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");

	output_fd = fd;
	return real(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	int (*real)(int, int, off_t, off_t) =
		(int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate64");

	output_fd = fd;
	return real(fd, mode, off, len);
}

/* The parent reserves --masks' file whole: not the output, but the
 * worker's own fallocate of its rows comes later and wins. */
int posix_fallocate(int fd, off_t off, off_t len)
{
	int (*real)(int, off_t, off_t) =
		(int (*)(int, off_t, off_t))dlsym(RTLD_NEXT, "posix_fallocate");

	output_fd = fd;
	return real(fd, off, len);
}

int posix_fallocate64(int fd, off_t off, off_t len)
{
	int (*real)(int, off_t, off_t) =
		(int (*)(int, off_t, off_t))dlsym(RTLD_NEXT, "posix_fallocate64");

	output_fd = fd;
	return real(fd, off, len);
}

/* Record the parent's mappings (the worker inherits the record). A
 * system call: dlsym itself may allocate. */
static void *map_and_note(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);

	if (p == MAP_FAILED || getpid() != parent || !(flags & MAP_SHARED) ||
	    !(prot & PROT_WRITE))
		return p;
	if ((flags & MAP_ANONYMOUS) || fd < 0) {
		shared_anon = p;
		shared_anon_len = len;
	} else if (off == 0 && narrays < NMAPS) {
		arrays[narrays].addr = p;
		arrays[narrays++].len = len;
	}
	return p;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map_and_note(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map_and_note(addr, len, prot, flags, fd, off);
}

/* In a worker: is the input FD marked? */
int fstat(int fd, struct stat *st)
{
	int (*real)(int, struct stat *) = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
	int r = real(fd, st);
	size_t k;

	if (r == 0 && (locked || getenv("SBX_UNCONFINED")) && marks && getpid() != parent) {
		armed = NULL;
		for (k = 0; k < NMARKS && marks[k].ino; k++)
			if (marks[k].ino == st->st_ino && marks[k].dev == st->st_dev) {
				armed = marks[k].action;
				armed_fd = fd;
			}
	}
	return r;
}

/* pool.c's struct msg and its types. */
struct msg {
	uint32_t type, len;
	uint64_t begin, end;
};
enum { MSG_FDS = 1, MSG_CHUNK, MSG_WARN, MSG_OPEN };

/* Send M (and TEXT) on the channel, then wait: the parent is to kill us. */
static void forge(struct msg m, const char *text, size_t len)
{
	char buf[16384];

	m.len = (uint32_t)len;
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), text, len);
	syscall(SYS_sendto, channel, buf, sizeof(m) + len, MSG_NOSIGNAL, NULL, 0);
	for (;;)
		syscall(SYS_recvfrom, channel, buf, sizeof(buf), 0, NULL, 0);
}

/* Whether [P, P + LEN) is mapped, without touching it: mprotect (which the
 * filter allows) fails with ENOMEM on a hole. */
static int mapped(void *p, size_t len)
{
	uintptr_t page = 4096, a = (uintptr_t)p & ~(page - 1);

	return syscall(SYS_mprotect, a, (uintptr_t)p + len - a, PROT_READ | PROT_WRITE) == 0;
}

/* An array mapping of the parent's this worker still has (its header is
 * there), or NULL. */
static char *array_at(int k)
{
	if (k < 0 || k >= narrays || !mapped(arrays[k].addr, 4096) ||
	    memcmp(arrays[k].addr, "\x93NUMPY", 6) != 0)
		return NULL;
	return arrays[k].addr;
}

/* This worker's slot in the pool's mapping, found by its content (pool.c's
 * struct slot from its begin field: begin, pos, end, done, skipped, busy),
 * scanning only the pages it has mapped. Points at begin, or NULL. */
static size_t *own_slot(void)
{
	const char *e = getenv("SBX_ITEM");
	size_t item = e ? strtoul(e, NULL, 10) : 0, off, pg;

	for (pg = 0; shared_anon && pg < shared_anon_len; pg += 4096) {
		if (!mapped(shared_anon + pg, 4096))
			continue;
		for (off = 0; off + 6 * sizeof(size_t) <= 4096; off += sizeof(size_t)) {
			size_t *q = (size_t *)(shared_anon + pg + off);

			if (q[0] <= item && q[1] == item && q[2] > item && q[2] <= 4096 &&
			    *(int *)&q[5] == 1)
				return q;
		}
	}
	return NULL;
}

/* An open attack's call: its outcome recorded; "pwned" on stdout if it
 * opened (the filter traps that write in a confined worker). */
static void try_open(const char *a, const char *path, int flags)
{
	long fd = syscall(SYS_openat, self_dirfd >= 0 ? self_dirfd : AT_FDCWD, path, flags, 0600);

	outcome(a, fd < 0 ? errno : 0);
	if (fd >= 0)
		syscall(SYS_write, 1, "pwned\n", 6);
}

/* PATH's directory joined with NAME into BUF. */
static const char *beside(const char *path, const char *name, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n = slash ? (int)(slash - path) : 1;

	snprintf(buf, len, "%.*s/%s", n, slash ? path : ".", name);
	return buf;
}

static void attack(const char *a)
{
	char where[4200];

	static char *const argv[] = { "/bin/sh", "-c", "echo pwned", NULL };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	char big[9000];

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!strcmp(a, "openat"))
		syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	else if (!strcmp(a, "beneath"))
		try_open(a, "/etc/passwd", O_RDONLY);
	else if (!strcmp(a, "linkout"))
		try_open(a, beside(last_path, "zz_link", where, sizeof(where)), O_RDONLY);
	else if (!strcmp(a, "writeinput"))
		try_open(a, last_path, O_RDWR);
	else if (!strcmp(a, "creat"))
		try_open(a, beside(last_path, "zz_created", where, sizeof(where)),
			 O_RDONLY | O_CREAT);
	else if (!strcmp(a, "opath"))
		try_open(a, beside(last_path, "..", where, sizeof(where)), O_PATH);
	else if (!strcmp(a, "socket"))
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (!strcmp(a, "connect"))
		syscall(SYS_connect, 0, &sin, sizeof(sin));
	else if (!strcmp(a, "execve"))
		syscall(SYS_execve, "/bin/sh", argv, NULL);
	else if (!strcmp(a, "fork"))
		fork();
	else if (!strcmp(a, "ptrace"))
		syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
	else if (!strcmp(a, "kill"))
		syscall(SYS_kill, parent, SIGTERM);
	else if (!strcmp(a, "stdout"))
		syscall(SYS_write, 1, "pwned\n", 6);
	else if (!strcmp(a, "newfile"))
		syscall(SYS_openat, AT_FDCWD, "/tmp/parimg_sandbox_pwned",
			O_WRONLY | O_CREAT | O_TRUNC, 0600);
	else if (!strcmp(a, "mmapfile"))
		mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, armed_fd, 0);
	else if (!strcmp(a, "mmapexec"))
		mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	else if (!strcmp(a, "punch"))
		syscall(SYS_fallocate, output_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			4096);
	else if (!strcmp(a, "grow"))
		syscall(SYS_fallocate, output_fd, 0, 0, 1L << 30);
	else if (!strcmp(a, "madvremove"))
		syscall(SYS_madvise, big + 4096 - ((uintptr_t)big & 4095), 4096, MADV_REMOVE);
	else if (!strcmp(a, "readhi")) {
		long n = syscall(SYS_read, (1ULL << 32) | 0, big, 16);

		if (n > 0)	/* what it stole, shown (unconfined) */
			syscall(SYS_write, 1, big, n);
	}
	else if (!strcmp(a, "preadhi"))
		syscall(SYS_pread64, (1ULL << 32) | 0, big, 16, 0);
	else if (!strcmp(a, "lseekhi"))
		syscall(SYS_lseek, (1ULL << 32) | 0, 0, SEEK_CUR);
	else if (!strcmp(a, "madvhi")) {
		char *arr = array_at(narrays - 1);

		syscall(SYS_madvise, arr ? arr : big + 4096 - ((uintptr_t)big & 4095), 4096,
			(1ULL << 32) | MADV_REMOVE);
	} else if (!strcmp(a, "bigshm")) {
		if (syscall(SYS_mmap, NULL, 64ULL << 30, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != -1)
			syscall(SYS_write, 1, "pwned: 64 GiB mapped\n", 21);
	} else if (!strcmp(a, "forgeslot")) {
		size_t *own = own_slot();

		/* The first byte first: the pool's header, then slot 0. The
		 * fault's default action, whatever handler a sanitizer set. */
		signal(SIGSEGV, SIG_DFL);
		if (own)
			memset(shared_anon, 'A', (size_t)((char *)own - shared_anon));
	} else if (!strcmp(a, "lowerpos")) {
		size_t *own = own_slot();

		if (own) {
			__atomic_store_n(&own[1], own[0], __ATOMIC_SEQ_CST);
			signal(SIGSEGV, SIG_DFL);
			syscall(SYS_kill, getpid(), SIGSEGV);
		}
	} else if (!strcmp(a, "zerohead")) {
		char *arr = array_at(narrays - 1);

		if (arr)
			memset(arr, 0, 128);
	} else if (!strcmp(a, "picklehead")) {
		static const char head[] = "\x93NUMPY\x01\x00\x76\x00"
			"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
		static const char pickle[] = "cos\nsystem\n(S'echo pwned'\ntR.";
		char *arr = array_at(narrays - 1);

		if (arr) {
			memset(arr, ' ', 128);
			memcpy(arr, head, sizeof(head) - 1);
			arr[127] = '\n';
			/* cos.system("echo pwned"), protocol 0 */
			memcpy(arr + 128, pickle, sizeof(pickle) - 1);
		}
	} else if (!strcmp(a, "otherpart")) {
		int k;

		for (k = 1; k < narrays; k++) {
			char *arr = array_at(k);

			if (!arr)
				continue;

			/* Its rows, past the (version 1) header. */
			size_t head = 10 + (unsigned char)arr[8] + 256 * (unsigned char)arr[9];

			if (arrays[k].len > head)
				memset(arr + head, 0xAA, arrays[k].len - head);
		}
	} else if (!strcmp(a, "badindex"))
		forge((struct msg){ .type = MSG_FDS, .begin = 1ULL << 40, .end = (1ULL << 40) + 1 },
		      NULL, 0);
	else if (!strcmp(a, "longmsg")) {
		memset(big, 'A', sizeof(big));
		forge((struct msg){ .type = MSG_WARN, .begin = 0 }, big, sizeof(big));
	} else if (!strcmp(a, "forged"))
		forge((struct msg){ .type = MSG_WARN, .begin = 1ULL << 40 }, "forged", 6);
	else if (!strcmp(a, "badopen"))
		forge((struct msg){ .type = MSG_OPEN, .begin = 1ULL << 40, .end = (1ULL << 40) + 1 },
		      NULL, 0);
	else if (!strcmp(a, "badtype"))
		forge((struct msg){ .type = 77 }, NULL, 0);
}

/* libjpeg's row loop: the middle of decoding a real file. */
unsigned jpeg_read_scanlines(void *ci, unsigned char **rows, unsigned max)
{
	unsigned (*real)(void *, unsigned char **, unsigned) =
		(unsigned (*)(void *, unsigned char **, unsigned))dlsym(RTLD_NEXT,
									  "jpeg_read_scanlines");
	unsigned got = real(ci, rows, max);
	const char *a = armed;

	if (a) {
		armed = NULL;
		attack(a);
	}
	return got;
}

/*
 * The other libraries' decode calls, for the death tests of their decoders:
 * the attack once the library has decoded (its state live, as an exploit's
 * would be). Each is declared by its shape only: the shim builds without
 * their headers.
 */
int opj_decode(void *codec, void *stream, void *image);
struct heif_error_shape {
	int code, subcode;
	const char *message;
};
struct heif_error_shape heif_decode_image(const void *handle, void **out, int colorspace,
					  int chroma, const void *options);
int avifDecoderNextImage(void *decoder);
int JxlDecoderProcessInput(void *dec);

int opj_decode(void *codec, void *stream, void *image)
{
	int (*real)(void *, void *, void *) =
		(int (*)(void *, void *, void *))dlsym(RTLD_NEXT, "opj_decode");
	int got = real(codec, stream, image);
	const char *a = armed;

	if (a) {
		armed = NULL;
		attack(a);
	}
	return got;
}

struct heif_error_shape heif_decode_image(const void *handle, void **out, int colorspace,
					  int chroma, const void *options)
{
	struct heif_error_shape (*real)(const void *, void **, int, int, const void *) =
		(struct heif_error_shape(*)(const void *, void **, int, int, const void *))dlsym(
			RTLD_NEXT, "heif_decode_image");
	struct heif_error_shape got = real(handle, out, colorspace, chroma, options);
	const char *a = armed;

	if (a) {
		armed = NULL;
		attack(a);
	}
	return got;
}

int avifDecoderNextImage(void *decoder)
{
	int (*real)(void *) = (int (*)(void *))dlsym(RTLD_NEXT, "avifDecoderNextImage");
	int got = real(decoder);
	const char *a = armed;

	if (a) {
		armed = NULL;
		attack(a);
	}
	return got;
}

int JxlDecoderProcessInput(void *dec)
{
	int (*real)(void *) = (int (*)(void *))dlsym(RTLD_NEXT, "JxlDecoderProcessInput");
	int got = real(dec);
	const char *a = armed;

	if (a) {
		armed = NULL;
		attack(a);
	}
	return got;
}
