/* load.c - "parimg load": decode a set of images straight into one packed .npy.
 * The parent probes the first image for the shape, sizes a temporary file
 * beside OUT, writes the header and maps the file MAP_SHARED; workers decode
 * their rows into that mapping; the parent renames it onto OUT only if every
 * row is accounted for. There is no copy of the dataset in between. */
#define _GNU_SOURCE
#include "parimg.h"
#include "codec.h"
#include "err.h"
#include "filelist.h"
#include "npy.h"
#include "opt.h"
#include "outfile.h"
#include "pool.h"
#include "progress.h"
#include "row.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_PIXELS (1ULL << 28)

struct load {
	struct filelist files;
	const char *out;
	const char *manifest;
	struct row_spec spec;	/* channels 0 and w 0 until probed */
	int keep_going;
	struct opt_shard shard;
	size_t row0, nrows;	/* this shard's inputs: [row0, row0 + nrows) */
	size_t row_bytes;
	unsigned char *map;	/* the output file, mapped */
	int fd;			/* and open */
	unsigned char *rows;	/* its data, row 0 first */
	/* Per worker: */
	struct buf file;	/* the encoded file being decoded */
	struct row_scratch scratch;
};

static const char usage_text[] =
	"usage: parimg load [options] -o OUT.npy INPUT...\n"
	"\n"
	"Decode images into one packed NumPy .npy array, (N,H,W) or (N,H,W,C).\n"
	"INPUT is a directory (its png, jpg, jpeg, webp, gif, bmp, tga, pgm, ppm\n"
	"and pnm files, not recursing, hidden files skipped), an image file, or -\n"
	"for newline-separated paths on standard input. A file's first bytes,\n"
	"not its name, say what format it is.\n"
	"\n"
	"  -o, --output OUT.npy    the array to write (required)\n"
	"      --order natural|name|none\n"
	"                          row order: natural sort of the paths, so\n"
	"                          image_2 comes before image_10 (default);\n"
	"                          bytewise; or as given\n"
	"      --manifest FILE     write the path of each row, one per line\n"
	"  -c, --channels 1|2|3|4  convert every image to C channels\n"
	"                          (default: the first image's)\n"
	"  -t, --dtype u1|u2|f4|f8 sample type (default u1); u2 keeps 16-bit\n"
	"                          samples, f4/f8 hold 8-bit sample values\n"
	"      --scale             f4/f8 only: samples in [0,1] (16-bit exact)\n"
	"      --resize WxH        resize every image to W x H\n"
	"      --draft             with --resize to at most half a JPEG's size,\n"
	"                          decode it at 1/2, 1/4 or 1/8 scale first, as\n"
	"                          Pillow's draft() does: faster, pixels differ\n"
	"      --no-draft          decode at full size, then resize (default)\n"
	"      --max-pixels N      refuse images over N pixels (default 268435456)\n"
"      --shard K/N         decode only part K of N (0-based) of the sorted\n"
	"                          inputs, or 'slurm' to take K and N from a job array\n"
	"  -k, --keep-going        report a bad file, leave its row zero, go on;\n"
	"                          exit status 3 when rows were skipped\n"
	"  -f, --force             replace an existing OUT (and manifest)\n"
	OPT_COMMON_HELP;

/* Read PATH whole into B. 0, or -1 with the reason in WHY. */
static int read_file(const char *path, struct buf *b, char *why, size_t whylen)
{
	struct stat st;
	size_t want;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	want = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	b->len = 0;
	for (;;) {
		ssize_t n;

		if (b->cap - b->len < want) {
			size_t cap = b->len + want;
			unsigned char *p = realloc(b->p, cap);

			if (!p) {
				errno = ENOMEM;
				goto fail;
			}
			b->p = p;
			b->cap = cap;
		}
		n = read(fd, b->p + b->len, b->cap - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		b->len += (size_t)n;
		/* A regular file is read once its size is in: no read for EOF. */
		if (S_ISREG(st.st_mode) && b->len == (size_t)st.st_size)
			break;
		want = b->cap - b->len ? 1 : b->cap;
	}
	close(fd);
	return 0;
fail:
	snprintf(why, whylen, "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static const char *row_name(void *ctx, size_t i)
{
	return ((struct load *)ctx)->files.paths[i];
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#endif

/*
 * Cap a decoding worker's heap (RLIMIT_DATA: private writable memory, which
 * leaves out the shared mapping of the output) at what the largest allowed
 * image needs, 16 bytes a pixel (a 16-bit RGBA decode, a conversion and a
 * resize) plus 256 MiB: a file that slips past the header checks, a zlib
 * bomb say, then fails with ENOMEM instead of taking the machine's memory.
 * Not under a sanitizer, whose shadow memory counts against the limit.
 */
static void limit_memory(const struct load *l)
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
	if (__builtin_mul_overflow(l->spec.max_pixels, 16, &budget) ||
	    __builtin_add_overflow(budget, data + (256ULL << 20), &budget))
		return;
	if (getrlimit(RLIMIT_DATA, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > budget)) {
		rl.rlim_cur = budget;
		setrlimit(RLIMIT_DATA, &rl);
	}
#else
	(void)l;
#endif
}

/*
 * A worker is about to decode rows [BEGIN, END). Reserve their space in the
 * file (fallocate: a full disk is an error here, not a SIGBUS when a row is
 * written) and map their pages in one call instead of a page fault every
 * 4 KiB. Done by the workers, in parallel, since on tmpfs both mean zeroing
 * the pages; the parent only sets the file's size. MADV_POPULATE_WRITE is a
 * hint: before Linux 5.14 it says EINVAL and the faults happen as usual.
 */
static int load_range(void *ctx, size_t begin, size_t end, char *why, size_t whylen)
{
	struct load *l = ctx;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned char *first = l->rows + (begin - l->row0) * l->row_bytes;
	size_t len = (end - begin) * l->row_bytes;
	uintptr_t a = (uintptr_t)first & ~(page - 1);

	if (len == 0)
		return 0;
	if (fallocate(l->fd, 0, (off_t)(first - l->map), (off_t)len) < 0 && errno != EOPNOTSUPP) {
		snprintf(why, whylen, "%s: %s", l->out, strerror(errno));
		return -1;
	}
	madvise((void *)a, (uintptr_t)first + len - a, MADV_POPULATE_WRITE);
	return 0;
}

/* Decode image I into its row of the mapping. */
static int load_one(void *ctx, size_t i, char *why, size_t whylen)
{
	struct load *l = ctx;

	limit_memory(l);
	if (read_file(l->files.paths[i], &l->file, why, whylen) < 0)
		return -1;
	return row_decode(&l->spec, l->file.p, l->file.len, l->rows + (i - l->row0) * l->row_bytes,
			  &l->scratch, why, whylen);
}

/* Fix the array's shape from the first image that can be probed (with -k,
 * bad files before it are left to the workers to report). Always from the
 * whole list, never the shard's part, so that every shard agrees. */
static int probe_shape(struct load *l)
{
	char why[1024];
	struct codec_info info;
	size_t i;

	for (i = 0; i < l->files.n; i++) {
		if (read_file(l->files.paths[i], &l->file, why, sizeof(why)) == 0 &&
		    codec_probe(l->file.p, l->file.len, l->spec.max_pixels, &info, why,
				sizeof(why)) == 0)
			break;
		if (!l->keep_going)
			return error("%s: %s", l->files.paths[i], why);
	}
	if (i == l->files.n)
		return error("%s: no input could be read", l->out);
	l->spec.size_from = l->files.paths[i];
	if (!l->spec.resize) {
		l->spec.w = (uint32_t)info.w;
		l->spec.h = (uint32_t)info.h;
	}
	if (!l->spec.channels)
		l->spec.channels = info.channels;
	return 0;
}

/* Create OUT's temporary file, sized for the header and the shard's rows
 * (a sparse file: each worker reserves its rows' space, see load_range),
 * write the header and map it all. */
static int create_array(struct load *l, struct outfile *o, void **map, size_t *maplen)
{
	const struct row_spec *s = &l->spec;
	struct npy_header hdr = { .ndim = 0 };
	char head[4096];
	uint64_t data, total;
	int le = 1;

	snprintf(hdr.descr, sizeof(hdr.descr), "%c%s",
		 s->dtype == ROW_U1 ? '|' : *(char *)&le ? '<' : '>', row_dtype_names[s->dtype]);
	hdr.shape[hdr.ndim++] = l->nrows;
	hdr.shape[hdr.ndim++] = s->h;
	hdr.shape[hdr.ndim++] = s->w;
	if (s->channels > 1)
		hdr.shape[hdr.ndim++] = (uint64_t)s->channels;
	data = npy_data_size(&hdr);
	if (!npy_format_header(&hdr, head, sizeof(head)) || (data == 0 && errno == EOVERFLOW) ||
	    __builtin_add_overflow(data, (uint64_t)hdr.header_len, &total) ||
	    total > (uint64_t)INT64_MAX || total > SIZE_MAX)
		return error("%s: array of %zu x %ux%u x %d x %zu bytes is too large", l->out,
			     l->nrows, s->w, s->h, s->channels, row_sample_size(s->dtype));
	l->row_bytes = row_bytes(s);
	if (outfile_open(o, l->out) < 0)
		return -1;
	/* Only the size: the workers reserve their rows' space (load_range). */
	if (ftruncate(o->fd, (off_t)total) < 0 || outfile_write(o, head, hdr.header_len) < 0) {
		error_errno("%s", l->out);
		outfile_abort(o);
		return -1;
	}
	*maplen = (size_t)total;
	*map = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (*map == MAP_FAILED) {
		error_errno("%s: mmap", l->out);
		outfile_abort(o);
		return -1;
	}
	l->map = *map;
	l->fd = o->fd;
	l->rows = (unsigned char *)*map + hdr.header_len;
	return 0;
}

/* The manifest, one path per row, into a temporary file (committed later). */
static int write_manifest(struct load *l, struct outfile *o)
{
	size_t i;

	if (outfile_open(o, l->manifest) < 0)
		return -1;
	for (i = l->row0; i < l->row0 + l->nrows; i++) {
		if (outfile_write(o, l->files.paths[i], strlen(l->files.paths[i])) < 0 ||
		    outfile_write(o, "\n", 1) < 0)
			return -1;
	}
	return 0;
}

/* Long-only options. */
enum {
	OPT_DRAFT = 0x200, OPT_MANIFEST, OPT_MAX_PIXELS, OPT_NO_DRAFT, OPT_ORDER, OPT_RESIZE,
	OPT_SCALE, OPT_SHARD
};

static const struct option longopts[] = {
	{ "channels", required_argument, NULL, 'c' },
	{ "draft", no_argument, NULL, OPT_DRAFT },
	{ "dtype", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "manifest", required_argument, NULL, OPT_MANIFEST },
	{ "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },
	{ "no-draft", no_argument, NULL, OPT_NO_DRAFT },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "output", required_argument, NULL, 'o' },
	{ "resize", required_argument, NULL, OPT_RESIZE },
	{ "scale", no_argument, NULL, OPT_SCALE },
	{ "shard", required_argument, NULL, OPT_SHARD },
	OPT_COMMON_LONG,
	{ NULL, 0, NULL, 0 }
};

static const char *const order_names[] = { "natural", "name", "none", NULL };

/* Parse argv; -1 to go on, else an exit status. Inputs are left in argv
 * from optind. */
static int parse(int argc, char **argv, struct load *l, struct opt_common *c,
		 enum filelist_order *order)
{
	uint64_t v;
	int ch, r;

	while ((ch = getopt_long(argc, argv, ":c:fhj:ko:qt:v", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(c, ch, optarg, "load")) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case OPT_DRAFT:
		case OPT_NO_DRAFT:
			l->spec.draft = ch == OPT_DRAFT;
			break;
		case OPT_SCALE:
			l->spec.scale = 1;
			break;
		case OPT_SHARD:
			if (opt_shard(optarg, &l->shard, "load") < 0)
				return EXIT_USAGE;
			break;
		case OPT_MANIFEST:
			l->manifest = optarg;
			break;
		case OPT_ORDER:
			if ((r = opt_choice(optarg, order_names)) < 0)
				return usage_error("load", "invalid --order '%s' (natural, name or none)", optarg);
			*order = (enum filelist_order)r;
			break;
		case OPT_MAX_PIXELS:
			if (opt_u64(optarg, 1, UINT64_MAX, &l->spec.max_pixels) < 0)
				return usage_error("load", "invalid --max-pixels '%s'", optarg);
			break;
		case OPT_RESIZE:
			if (opt_size(optarg, 1u << 24, &l->spec.w, &l->spec.h) < 0)
				return usage_error("load", "invalid --resize '%s' (WxH, 1 to 16777216)", optarg);
			l->spec.resize = 1;
			break;
		case 'c':
			if (opt_u64(optarg, 1, 4, &v) < 0)
				return usage_error("load", "invalid --channels '%s' (1 to 4)", optarg);
			l->spec.channels = (int)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'k':
			l->keep_going = 1;
			break;
		case 'o':
			l->out = optarg;
			break;
		case 't':
			if ((r = opt_choice(optarg, row_dtype_names)) < 0)
				return usage_error("load", "invalid --dtype '%s' (u1, u2, f4 or f8)", optarg);
			l->spec.dtype = (enum row_dtype)r;
			break;
		default:
			return opt_bad(ch, argv, "load");
		}
	}
	if (!l->out)
		return usage_error("load", "no output given (-o OUT.npy)");
	if (optind == argc)
		return usage_error("load", "no input given (a directory, files, or - for stdin)");
	if (l->spec.draft && !l->spec.resize)
		return usage_error("load", "--draft needs --resize");
	if (l->spec.scale && l->spec.dtype != ROW_F4 && l->spec.dtype != ROW_F8)
		return usage_error("load", "--scale needs --dtype f4 or f8");
	if (l->manifest && strcmp(l->manifest, l->out) == 0)
		return usage_error("load", "--manifest and --output name the same file");
	return -1;
}

/* Decode every row into the mapping; commit OUT (and the manifest) only if
 * the pool succeeded. Returns the exit status. */
static int run(struct load *l, struct opt_common *c)
{
	struct outfile out, man = { .fd = -1, .slot = -1 };
	struct pool_result res;
	struct pool_task task;
	struct progress prog;
	size_t maplen = 0;
	void *map = NULL;
	int ok;

	if (create_array(l, &out, &map, &maplen) < 0)
		return EXIT_FAIL;
	if (l->manifest && write_manifest(l, &man) < 0) {
		munmap(map, maplen);
		outfile_abort(&out);
		return EXIT_FAIL;
	}
	progress_init(&prog, c->quiet, "images");
	task = (struct pool_task){
		.first = l->row0, .count = l->nrows, .jobs = c->jobs, .schedule = c->schedule,
		.keep_going = l->keep_going, .verbose = c->verbose, .run = load_one,
		.range = load_range,
		.name = row_name, .ctx = l, .progress = progress_update,
		.progress_ctx = &prog,
	};
	ok = pool_run(&task, &res) == 0;
	if (munmap(map, maplen) < 0 && ok)
		ok = error_errno("%s", l->out) == 0;
	if (!ok) {
		outfile_abort(&out);
		outfile_abort(&man);
		return EXIT_FAIL;
	}
	if (outfile_commit(&out, c->force) < 0) {
		outfile_abort(&man);
		return EXIT_FAIL;
	}
	if (l->manifest && outfile_commit(&man, c->force) < 0)
		return EXIT_FAIL;
	if (res.skipped) {
		warnx("%s: %zu of %zu rows skipped (left zero)", l->out, res.skipped, l->nrows);
		return EXIT_SKIPPED;
	}
	return EXIT_OK;
}

int cmd_load(int argc, char **argv)
{
	struct load l = { .spec = { .max_pixels = DEFAULT_MAX_PIXELS, .dtype = ROW_U1 },
			  .shard = { 0, 1 } };
	size_t end;
	enum filelist_order order = ORDER_NATURAL;
	struct opt_common c;
	int r, i;

	opt_common_init(&c);
	if ((r = parse(argc, argv, &l, &c, &order)) >= 0)
		return r;
	/* Refuse to clobber before any work is done. */
	if (!c.force && outfile_exists(l.out))
		return error("%s: file exists (use -f to replace it)", l.out), EXIT_FAIL;
	if (!c.force && l.manifest && outfile_exists(l.manifest))
		return error("%s: file exists (use -f to replace it)", l.manifest), EXIT_FAIL;
	r = EXIT_FAIL;
	for (i = optind; i < argc; i++)
		if (filelist_add(&l.files, argv[i]) < 0)
			goto out;
	if (l.files.n == 0) {
		error("%s: no image files in the input", argv[optind]);
		goto out;
	}
	filelist_sort(&l.files, order);
	pool_range(l.files.n, l.shard.n, l.shard.k, &l.row0, &end);
	l.nrows = end - l.row0;
	if (probe_shape(&l) == 0)
		r = run(&l, &c);
out:
	filelist_free(&l.files);
	free(l.file.p);
	return r;
}
