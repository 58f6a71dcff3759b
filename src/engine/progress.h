/* progress.h - the one-line progress display on a terminal's stderr:
 * done/total, percent, rate and ETA, drawn from the pool's shared counters. */
#ifndef PARIMG_PROGRESS_H
#define PARIMG_PROGRESS_H

#include <stddef.h>
#include <time.h>

struct progress {
	int on;			/* stderr is a terminal and not -q */
	int drawn;		/* a line is on screen */
	const char *unit;	/* "images" */
	struct timespec t0;
};

/* Start the clock; the display is on when stderr is a terminal and !QUIET. */
void progress_init(struct progress *p, int quiet, const char *unit);
/* A pool_task.progress callback; CTX is the struct progress. */
void progress_update(void *ctx, size_t done, size_t total, int final);

#endif
