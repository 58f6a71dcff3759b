/* fuzz_archive.c - libFuzzer target for the archive reader (arch.c): any
 * bytes listed as an archive, plain and as a class tree or webdataset shard
 * (--labels) reading archives in archives, then every member read back
 * whole, with the tables kept as load --labels-from ARCHIVE:MEMBER and
 * Hugging Face's metadata keep them; never a crash, a leak, a read out of
 * bounds, or a member or table longer than its limit. */
#define _GNU_SOURCE
#include "inputs/arch.h"
#include "codec/codec.h"
#include "inputs/dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEMBER_MAX (4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const struct filelist *fl)
{
	struct buf b = { 0 };
	char why[256];
	size_t k;

	for (k = 0; k < fl->n; k++) {
		if (!arch_is_member(fl->paths[k]))
			abort();
		if (arch_read(fl->paths[k], -2, &b, why, sizeof(why)) == 0 && b.len > MEMBER_MAX)
			abort();
	}
	free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("fuzz", 0), pass;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	arch_set_member_max(MEMBER_MAX);
	/* A small memory budget: a bomb is refused early, not after filling
	 * half the memory (arch_free makes it whole again each pass). */
	setenv("PARIMG_ARCHIVE_MEMORY", "64M", 0);
	for (pass = 0; pass < 2; pass++) {
		struct filelist fl = { 0 };
		struct dataset ds = { .allow_empty = pass };

		arch_set_recurse(pass);		/* the second pass: archives in archives */
		/* Tables kept whole while listing (load --labels-from
		 * ARCHIVE:MEMBER, Hugging Face's metadata): the first pass
		 * keeps a named member, the second the metadata files. */
		if (arch_keep_tables(pass ? NULL : "t.csv", pass) < 0)
			abort();

		if ((pass ? arch_scan(&ds, &fl, path, ORDER_NATURAL) : arch_add(&fl, path)) == 0) {
			const struct arch_table *kt;
			size_t n, k;

			read_all(&fl);
			kt = arch_kept(&n);
			for (k = 0; k < n; k++)
				if (kt[k].len > ARCH_TABLE_MAX || kt[k].text[kt[k].len] != '\0')
					abort();
		}
		filelist_free(&fl);
		dataset_free(&ds);
		arch_free();
	}
	close(fd);
	return 0;
}
