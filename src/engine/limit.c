/* limit.c - RLIMIT_DATA for the workers that decode untrusted files (load's
 * and check's): the heap the largest allowed image needs, and no more. */
#include "engine/limit.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#endif

/*
 * Cap a decoding worker's heap (RLIMIT_DATA: private writable memory, which
 * leaves out the shared mappings of the output) at what the largest allowed
 * image needs, 16 bytes a pixel (a 16-bit RGBA decode, a conversion and a
 * resize) plus 256 MiB: a file that slips past the header checks, a zlib
 * bomb say, then fails with ENOMEM instead of taking the machine's memory.
 * Not under a sanitizer, whose shadow memory counts against the limit.
 */
void limit_worker_memory(uint64_t max_pixels)
{
#ifndef UNDER_SANITIZER
	static int done;	/* per worker: each is a fresh fork of the parent */
	unsigned long long pages = 0, data = 0;
	uint64_t budget;
	struct rlimit rl;
	FILE *f;

	if (done)
		return;
	done = 1;
	if ((f = fopen("/proc/self/statm", "re"))) {
		if (fscanf(f, "%*u %*u %*u %*u %*u %llu", &pages) == 1)
			data = pages * (unsigned long long)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
	if (__builtin_mul_overflow(max_pixels, 16, &budget) ||
	    __builtin_add_overflow(budget, data + (256ULL << 20), &budget))
		return;
	if (getrlimit(RLIMIT_DATA, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > budget)) {
		rl.rlim_cur = budget;
		setrlimit(RLIMIT_DATA, &rl);
	}
#else
	(void)max_pixels;
#endif
}
