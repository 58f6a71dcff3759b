/* limit.h - the memory cap of a decoding worker: what the largest allowed
 * image needs, so that a file slipping past the header checks fails with
 * ENOMEM instead of taking the machine's memory. */
#ifndef PARIMG_LIMIT_H
#define PARIMG_LIMIT_H

#include <stdint.h>

/* Cap this worker's heap and address space for images of at most
 * MAX_PIXELS (RLIMIT_DATA, RLIMIT_AS); once per
 * process, later calls do nothing. Not under a sanitizer. */
void limit_worker_memory(uint64_t max_pixels);

#endif
