/* stream.h - load's compressed tars past the memory budget, decoded from a
 * bounded ring while a decompressor process streams them again (listing
 * kept only their members' offsets: arch_set_stream). */
#ifndef PARIMG_STREAM_H
#define PARIMG_STREAM_H

#include "engine/pool.h"

#include <stddef.h>
#include <stdint.h>

/* pool_run for a task whose items may be members of streamed archives:
 * its other items run in one pool as before; for each streamed archive, a
 * forked decompressor writes the task's members, in archive order, into a
 * ring of two slots (each the larger of half the ring and the largest
 * such member; the ring is the memory budget, at most 256 MiB), and one
 * pool runs over them in archive order (dynamic chunks), each worker
 * waiting for its item's window while the other slot is read. T's hooks
 * see the items' own indices. Same result as pool_run; -1 too when the
 * archive cannot be streamed again (message printed, naming it). */
int stream_pool_run(const struct pool_task *t, struct pool_result *r);

/* --- pure parts, for the unit tests --- */

/* Windows of members of lengths LEN[0..N) (in archive order) for a ring of
 * RING bytes: WIN[k] the window of member k, POS[k] its place in its
 * slot; the slot size (the larger of RING / 2, at least 64 KiB, and the
 * longest member) in *SLOT. Returns the number of windows. */
unsigned stream_windows(const uint64_t *len, size_t n, uint64_t ring, unsigned *win,
			uint64_t *pos, uint64_t *slot);

#endif
