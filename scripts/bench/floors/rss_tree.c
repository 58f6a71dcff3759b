/* rss_tree.c - peak memory of each process of a command, for the benchmark.
 * GNU time's "Maximum resident set size" is the largest of the whole tree
 * (wait4 folds the children's peak in), so it cannot tell parimg's parent
 * from its workers. This runs the command under ptrace, follows every fork,
 * and reads each process's VmHWM from /proc as it exits.
 *
 *   rss_tree CMD [ARG...]   prints "parent_kib P children N max_child_kib C
 *                           sum_kib S" (S: every process's peak, added up)
 *                           then "parent_cpu_s PC children_cpu_s CC
 *                           parent_minflt PF children_minflt CF
 *                           children_majflt CM" (user + system time and
 *                           page faults, each task's own as it exits: the
 *                           parent's apart from its workers', which
 *                           getrusage cannot tell) on stderr; exits with
 *                           CMD's status
 *
 * VmHWM counts every resident page the process mapped, shared ones (a
 * MAP_SHARED output, a shared array) included. Ptrace slows the command:
 * measure time elsewhere. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXP 4096

static struct {
	pid_t tgid;		/* process (threads are folded into it) */
	long hwm_kib;		/* the largest VmHWM seen for it */
	long long ticks;	/* its tasks' utime + stime, in clock ticks */
	long long minflt, majflt;
} procs[MAXP];
static int nprocs;
static pid_t seen[MAXP];	/* tasks already past their first stop */
static int nseen;

/* Task TID's own minor and major faults and CPU ticks (/proc/TID/stat's
 * fields 10, 12, 14 and 15, counted after the command's name). */
static void task_stat(pid_t tid, long long *minflt, long long *majflt, long long *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long v[13] = { 0 };
	FILE *f;
	size_t n;
	int k;

	*minflt = *majflt = *ticks = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	if (!(f = fopen(path, "r")))
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')))
		return;
	p += 2;			/* field 3, the state */
	for (k = 0; k < 13 && *p; k++) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
		v[k] = strtoull(p, NULL, 10);	/* v[k]: field 4 + k */
	}
	*minflt = (long long)v[6];
	*majflt = (long long)v[8];
	*ticks = (long long)(v[10] + v[11]);
}

/* Fold task TID's current VmHWM, faults and CPU into its process's entry. */
static void record(pid_t tid)
{
	char path[64], line[256];
	long hwm = -1, tgid = -1;
	long long minflt, majflt, ticks;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Tgid:", 5) == 0)
			tgid = strtol(line + 5, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			hwm = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	if (hwm < 0 || tgid < 0)
		return;
	for (i = 0; i < nprocs && procs[i].tgid != tgid; i++)
		;
	if (i == nprocs) {
		if (nprocs == MAXP)
			return;
		procs[nprocs++].tgid = (pid_t)tgid;
	}
	if (hwm > procs[i].hwm_kib)
		procs[i].hwm_kib = hwm;
	task_stat(tid, &minflt, &majflt, &ticks);
	procs[i].minflt += minflt;
	procs[i].majflt += majflt;
	procs[i].ticks += ticks;
}

/* 1 the first time TID is seen (its initial SIGSTOP is ours to swallow). */
static int first_stop(pid_t tid)
{
	for (int i = 0; i < nseen; i++)
		if (seen[i] == tid)
			return 0;
	if (nseen < MAXP)
		seen[nseen++] = tid;
	return 1;
}

int main(int argc, char **argv)
{
	long opts = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
		    PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
	int st, status = 1, live = 1;
	pid_t root, pid;
	long maxc = 0, sum = 0;
	long long cticks = 0, cmin = 0, cmaj = 0;
	double hz = (double)sysconf(_SC_CLK_TCK);

	if (argc < 2) {
		fprintf(stderr, "usage: rss_tree CMD [ARG...]\n");
		return 2;
	}
	root = fork();
	if (root < 0)
		return perror("rss_tree: fork"), 1;
	if (root == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "rss_tree: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	if (waitpid(root, &st, 0) < 0 || !WIFSTOPPED(st))
		return perror("rss_tree: waitpid"), 1;
	first_stop(root);
	if (ptrace(PTRACE_SETOPTIONS, root, NULL, (void *)opts) < 0) {
		perror("rss_tree: ptrace");	/* not allowed here: no stopped orphan */
		kill(root, SIGKILL);
		waitpid(root, &st, 0);
		return 1;
	}
	ptrace(PTRACE_CONT, root, NULL, NULL);

	while (live > 0 && (pid = waitpid(-1, &st, __WALL)) > 0) {
		int sig = 0, event = st >> 16;

		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			live--;
			if (pid == root)
				status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
		    event == PTRACE_EVENT_CLONE)
			live++;		/* the new task reports itself */
		else if (event == PTRACE_EVENT_EXIT)
			record(pid);
		else if (event == 0 && WSTOPSIG(st) == SIGSTOP && first_stop(pid))
			sig = 0;
		else if (event == 0 && WSTOPSIG(st) != SIGTRAP)
			sig = WSTOPSIG(st);	/* a real signal: deliver it */
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
	}
	for (int i = 0; i < nprocs; i++) {
		sum += procs[i].hwm_kib;
		if (procs[i].tgid != root && procs[i].hwm_kib > maxc)
			maxc = procs[i].hwm_kib;
		if (procs[i].tgid != root) {
			cticks += procs[i].ticks;
			cmin += procs[i].minflt;
			cmaj += procs[i].majflt;
		}
	}
	for (int i = 0; i < nprocs; i++)
		if (procs[i].tgid == root) {
			fprintf(stderr, "parent_kib %ld children %d max_child_kib %ld sum_kib %ld\n",
				procs[i].hwm_kib, nprocs - 1, maxc, sum);
			fprintf(stderr, "parent_cpu_s %.3f children_cpu_s %.3f parent_minflt %lld "
				"children_minflt %lld children_majflt %lld\n", (double)procs[i].ticks / hz,
				(double)cticks / hz, procs[i].minflt, cmin, cmaj);
		}
	return status;
}
