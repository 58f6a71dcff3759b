/* limit.c - RLIMIT_DATA and RLIMIT_AS for the workers that decode untrusted
 * files (load's and check's): the memory the largest allowed image needs,
 * and no more. */
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

#ifndef UNDER_SANITIZER
/* Lower resource RES's soft limit to V (never raise it). */
static void lower(int res, uint64_t v)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > v)) {
		rl.rlim_cur = v;
		setrlimit(res, &rl);
	}
}
#endif

/*
 * Cap a decoding worker's heap (RLIMIT_DATA: private writable memory, which
 * leaves out the shared mappings of the output) at what the largest allowed
 * image needs, 16 bytes a pixel (a 16-bit RGBA decode, a conversion and a
 * resize) plus 256 MiB: a file that slips past the header checks, a zlib
 * bomb say, then fails with ENOMEM instead of taking the machine's memory.
 * RLIMIT_DATA does not count shared anonymous memory, so the address space
 * (RLIMIT_AS) gets the same allowance above what is mapped now (the output
 * included): a worker taken over cannot map 64 GiB of it, even with
 * --sandbox off (the filter refuses MAP_SHARED anonymous memory besides).
 * Not under a sanitizer, whose shadow memory counts against the limits.
 */
void limit_worker_memory(uint64_t max_pixels)
{
#ifndef UNDER_SANITIZER
	static int done;	/* per worker: each is a fresh fork of the parent */
	unsigned long long size = 0, data = 0, page = (unsigned long long)sysconf(_SC_PAGESIZE);
	uint64_t allow, budget, space;
	FILE *f;

	if (done)
		return;
	done = 1;
	if ((f = fopen("/proc/self/statm", "re"))) {
		if (fscanf(f, "%llu %*u %*u %*u %*u %llu", &size, &data) != 2)
			size = data = 0;
		fclose(f);
	}
	if (__builtin_mul_overflow(max_pixels, 16, &allow) ||
	    __builtin_add_overflow(allow, 256ULL << 20, &allow))
		return;
	if (!__builtin_add_overflow(allow, data * page, &budget))
		lower(RLIMIT_DATA, budget);
	if (size && !__builtin_add_overflow(allow, size * page, &space))
		lower(RLIMIT_AS, space);
#else
	(void)max_pixels;
#endif
}
