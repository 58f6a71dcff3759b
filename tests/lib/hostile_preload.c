/* hostile_preload.c - an LD_PRELOAD shim for tests/cli_hostile_test.py: it
 * says on stderr, without changing what happens, when
 *   - the process it was loaded into (parimg's parent, which parses no
 *     untrusted file) enters a decoder library: libjpeg, libtiff, libwebp
 *     and its demuxer, libdeflate's zlib and raw inflate (a PNG's text
 *     chunks, a zip member);
 *   - a pool worker reads bytes holding PARIMG-SECRET, which only a file
 *     outside the dataset holds (a link to it must never reach a worker).
 * With PARIMG_SHIM_WORKERS set, a worker's entry into a decoder library is
 * said too ("a worker called NAME"): the test's proof that the shim sees
 * the calls it is there to see.
 * Workers are told apart by a fork handler, with no system call: a confined
 * worker may make none but those it needs, and may not write to stderr. So
 * every line goes into a shared page, which the parent prints as it exits.
 * Every call goes on to the real function (dlsym(RTLD_NEXT)).
 * Built by the test: cc -shared -fPIC -o hostile_preload.so
 * tests/lib/hostile_preload.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>	/* before jpeglib.h, which needs FILE */
#include <jpeglib.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <tiffio.h>
#include <unistd.h>
#include <webp/decode.h>
#include <webp/demux.h>

#define LOG_SIZE 65536

static int in_worker, workers_too;
static struct log {
	size_t len;		/* taken with an atomic add */
	char text[LOG_SIZE];
} *lg;			/* shared by the parent and its workers */

static void child(void)
{
	in_worker = 1;
}

__attribute__((constructor)) static void init(void)
{
	pthread_atfork(NULL, NULL, child);
	workers_too = getenv("PARIMG_SHIM_WORKERS") != NULL;
	lg = mmap(NULL, sizeof(*lg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (lg == MAP_FAILED)
		lg = NULL;
}

/* In the parent, as it exits: everything said, on stderr. */
__attribute__((destructor)) static void fini(void)
{
	size_t n;

	if (in_worker || !lg)
		return;
	n = lg->len < LOG_SIZE ? lg->len : LOG_SIZE;
	if (n && write(2, lg->text, n) < 0)
		return;
}

static void say(const char *what)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "parimg-shim: %s\n", what);
	size_t at;

	if (!lg || n <= 0)
		return;
	at = __atomic_fetch_add(&lg->len, (size_t)n, __ATOMIC_RELAXED);
	if (at + (size_t)n <= LOG_SIZE)
		memcpy(lg->text + at, line, (size_t)n);
}

/* In the parent: NAME was entered. */
static void entered(const char *name)
{
	char what[128];

	if (in_worker && !workers_too)
		return;
	snprintf(what, sizeof(what), "%s called %s", in_worker ? "a worker" : "the parent", name);
	say(what);
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int jpeg_read_header(j_decompress_ptr cinfo, boolean require_image)
{
	entered("jpeg_read_header");
	return REAL(jpeg_read_header)(cinfo, require_image);
}

TIFF *TIFFClientOpen(const char *name, const char *mode, thandle_t h, TIFFReadWriteProc rd,
		     TIFFReadWriteProc wr, TIFFSeekProc sk, TIFFCloseProc cl, TIFFSizeProc sz,
		     TIFFMapFileProc map, TIFFUnmapFileProc unmap)
{
	entered("TIFFClientOpen");
	return REAL(TIFFClientOpen)(name, mode, h, rd, wr, sk, cl, sz, map, unmap);
}

TIFF *TIFFClientOpenExt(const char *name, const char *mode, thandle_t h, TIFFReadWriteProc rd,
			TIFFReadWriteProc wr, TIFFSeekProc sk, TIFFCloseProc cl, TIFFSizeProc sz,
			TIFFMapFileProc map, TIFFUnmapFileProc unmap, TIFFOpenOptions *o)
{
	entered("TIFFClientOpenExt");
	return REAL(TIFFClientOpenExt)(name, mode, h, rd, wr, sk, cl, sz, map, unmap, o);
}

VP8StatusCode WebPGetFeaturesInternal(const uint8_t *d, size_t n, WebPBitstreamFeatures *f,
				      int version)
{
	entered("WebPGetFeatures");
	return REAL(WebPGetFeaturesInternal)(d, n, f, version);
}

VP8StatusCode WebPDecode(const uint8_t *d, size_t n, WebPDecoderConfig *config)
{
	entered("WebPDecode");
	return REAL(WebPDecode)(d, n, config);
}

WebPDemuxer *WebPDemuxInternal(const WebPData *d, int partial, WebPDemuxState *st, int version)
{
	entered("WebPDemux");
	return REAL(WebPDemuxInternal)(d, partial, st, version);
}

enum libdeflate_result libdeflate_zlib_decompress(struct libdeflate_decompressor *z,
						   const void *in, size_t n, void *out,
						   size_t avail, size_t *actual)
{
	entered("libdeflate_zlib_decompress");
	return REAL(libdeflate_zlib_decompress)(z, in, n, out, avail, actual);
}

enum libdeflate_result libdeflate_deflate_decompress_ex(struct libdeflate_decompressor *z,
							 const void *in, size_t n, void *out,
							 size_t avail, size_t *in_actual,
							 size_t *actual)
{
	entered("libdeflate_deflate_decompress_ex");
	return REAL(libdeflate_deflate_decompress_ex)(z, in, n, out, avail, in_actual, actual);
}

/* In a worker: did the bytes just read hold the secret? */
static void check_read(const void *buf, ssize_t n)
{
	if (in_worker && n > 0 && memmem(buf, (size_t)n, "PARIMG-SECRET", 13))
		say("a worker read the secret");
}

ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t r = REAL(read)(fd, buf, n);

	check_read(buf, r);
	return r;
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r = REAL(pread64)(fd, buf, n, off);

	check_read(buf, r);
	return r;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r = REAL(pread)(fd, buf, n, off);

	check_read(buf, r);
	return r;
}
