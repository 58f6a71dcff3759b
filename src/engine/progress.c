/* progress.c - "\r 1234/2000 images  61%  25300/s  ETA 0:01", rewritten in
 * place a few times a second and ended with a newline, only on a terminal. */
#include "engine/progress.h"

#include <stdio.h>
#include <unistd.h>

void progress_init(struct progress *p, int quiet, const char *unit)
{
	p->on = !quiet && isatty(STDERR_FILENO);
	p->drawn = 0;
	p->unit = unit;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

void progress_update(void *ctx, size_t done, size_t total, int final)
{
	struct progress *p = ctx;
	struct timespec t;
	double secs, rate;
	unsigned long eta;
	char line[160];
	int n;

	if (!p->on || (final && !p->drawn))
		return;	/* a run too short to show anything leaves no trace */
	clock_gettime(CLOCK_MONOTONIC, &t);
	secs = (double)(t.tv_sec - p->t0.tv_sec) + (t.tv_nsec - p->t0.tv_nsec) / 1e9;
	rate = secs > 0 ? (double)done / secs : 0;
	eta = rate > 0 ? (unsigned long)((double)(total - done) / rate + 0.5) : 0;
	n = snprintf(line, sizeof(line), "\rparimg: %zu/%zu %s %3.0f%%  %.0f/s  ETA %lu:%02lu\033[K%s",
		     done, total, p->unit, total ? 100.0 * (double)done / (double)total : 100.0,
		     rate, eta / 60, eta % 60, final ? "\n" : "");
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) == n)
		p->drawn = 1;
}
