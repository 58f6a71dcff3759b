/* sig.c - the fatal-signal handler, shared by parent and workers. It does only
 * async-signal-safe work (kill, waitpid, unlink), then restores the default
 * action and re-raises, so the exit status is 128+n as the shell expects. */
#include "engine/sig.h"
#include "engine/pool.h"
#include "common/outfile.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static const int fatal[] = { SIGINT, SIGTERM, SIGHUP };

static void on_fatal(int sig)
{
	int saved = errno;

	pool_stop_signal();		/* no-op in a worker */
	outfile_cleanup_signal();	/* only this process's own files */
	signal(sig, SIG_DFL);
	raise(sig);			/* delivered when the handler returns */
	errno = saved;
}

void sig_init(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sigfillset(&sa.sa_mask);	/* one handler at a time */
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		struct sigaction old;

		/* A signal ignored by whoever started us (nohup) stays ignored. */
		if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(fatal[i], &sa, NULL);
	}
	signal(SIGXFSZ, SIG_IGN);
}
