/* convert.c - "parimg convert"'s interface: its help, its options (load's
 * row options among them, parsed by opt.c as load parses them), the rows
 * its INPUTs name, and each row's output: a path in a tree that mirrors
 * the inputs, or a member of a webdataset shard. What it then does with
 * them is convert_run.c's. */
#define _GNU_SOURCE
#include "cmd/convert.h"
#include "cmd/opt.h"
#include "cmd/parimg.h"
#include "inputs/arch.h"
#include "inputs/scan.h"
#include "common/err.h"
#include "common/outfile.h"
#include "common/split.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAX_PIXELS (1ULL << 28)
#define DEFAULT_SHARD_SIZE 10000

static const char usage_text[] =
	"usage: parimg convert [options] -o DIR INPUT...\n"
	"       parimg convert [options] --shards 'DIR/NAME-%06d.tar' INPUT...\n"
	"\n"
	"Write each input image again, resized and re-encoded as load would read it:\n"
	"into a tree under DIR that mirrors the inputs' relative paths (archive\n"
	"members under the archive's name less its extension), or into webdataset tar\n"
	"shards of KEY.EXT (+ KEY.cls, KEY.json) samples. INPUT is what load takes:\n"
	"directories, image files, archives, - for a list; with --labels one class\n"
	"tree (or webdataset shard). Workers decode, resize and encode; only this\n"
	"process creates files, each under a temporary name renamed when whole.\n"
	"\n"
	"  -o, --output DIR        the tree to write (DIR/REL with the new extension)\n"
	"      --shards PATTERN    write tar shards instead, named by PATTERN's one\n"
	"                          %d (with flags and width, e.g. %06d) and, with\n"
	"                          --split, its one %s (the part's name)\n"
	"      --shard-size N      samples a shard (default 10000): shard k holds the\n"
	"                          rows [k*N, (k+1)*N) of its part\n"
	"      --shard-bytes B     instead: a new shard when the next sample would\n"
	"                          take one over B bytes (K, M, G suffixes)\n"
	"      --json              shards: a KEY.json beside each image (source\n"
	"                          path, its size, its class)\n"
	"      --format jpeg|png|webp|same\n"
	"                          the output's format (default same: a JPEG, PNG or\n"
	"                          WebP stays one; other formats become PNG when an\n"
	"                          option changes them)\n"
	"      --quality Q         JPEG quality 1-100 (default 75) or WebP 0-100\n"
	"                          (default 80), as Pillow's save(quality=Q)\n"
	"      --lossless          WebP: lossless (Pillow's lossless=True)\n"
	"      --resume            skip outputs that exist (whole: every file and\n"
	"                          shard appears by a rename), and remove the\n"
	"                          temporary files of runs that were killed\n"
	"  -r, --recursive         a directory's image files at any depth\n"
	"      --recurse-archives  read archives inside archives\n"
	"      --order natural|name|none\n"
	"                          row order (default natural), as load's\n"
	"      --labels            INPUT is a class tree (folders are classes, as\n"
	"                          load --labels): the tree keeps the classes'\n"
	"                          folders; shards get KEY.cls, the class number\n"
	"      --shuffle, --seed S, --split NAME=F,...\n"
	"                          as load's: the (shuffled) rows in parts, each\n"
	"                          to DIR/NAME/ or its own shards\n"
	"  -c, --channels 1|2|3|4  convert every image to C channels (default: each\n"
	"                          keeps its own; JPEG drops alpha, WebP stores\n"
	"                          gray as RGB)\n"
	"      --resize WxH        resize to W x H as Pillow's resize() (--fit,\n"
	"                          --pad, --filter as load's)\n"
	"      --resize S          the shorter side becomes S, as torchvision's\n"
	"                          Resize(S)\n"
	"      --max-side L        shrink images whose longer side is over L to L\n"
	"      --filter, --fit, --pad, --draft, --exif-transpose, --max-pixels\n"
	"                          as load's (see parimg load --help)\n"
	"  -k, --keep-going        report a bad file, write nothing for it, go on;\n"
	"                          exit status 3 when images were skipped\n"
	"      --sandbox auto|require|off\n"
	"                          confine the workers, as load's\n"
	"  -f, --force             replace existing outputs\n"
	OPT_COMMON_HELP;

enum { OPT_FORMAT = 0x200, OPT_QUALITY, OPT_LOSSLESS, OPT_SHARDS, OPT_SHARD_SIZE,
       OPT_SHARD_BYTES, OPT_JSON, OPT_RESUME, OPT_ORDER, OPT_SANDBOX, OPT_LABELS, OPT_SEED,
       OPT_SHUFFLE, OPT_SPLIT, OPT_RECURSE_ARCHIVES };

static const struct option longopts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "keep-going", no_argument, NULL, 'k' },
	{ "labels", no_argument, NULL, OPT_LABELS },
	{ "lossless", no_argument, NULL, OPT_LOSSLESS },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "output", required_argument, NULL, 'o' },
	{ "quality", required_argument, NULL, OPT_QUALITY },
	{ "recurse-archives", no_argument, NULL, OPT_RECURSE_ARCHIVES },
	{ "recursive", no_argument, NULL, 'r' },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "shard-bytes", required_argument, NULL, OPT_SHARD_BYTES },
	{ "shard-size", required_argument, NULL, OPT_SHARD_SIZE },
	{ "shards", required_argument, NULL, OPT_SHARDS },
	{ "shuffle", no_argument, NULL, OPT_SHUFFLE },
	{ "split", required_argument, NULL, OPT_SPLIT },
	OPT_COMMON_LONG,
	OPT_ROW_LONG,
	{ NULL, 0, NULL, 0 }
};

static const char *const order_names[] = { "natural", "name", "none", NULL };
static const char *const format_names[] = { "jpeg", "png", "webp", "same", NULL };

/* A byte count with an optional K, M or G (powers of 1024). */
static int parse_bytes(const char *s, uint64_t *out)
{
	char num[32];
	size_t len = strlen(s);
	int shift = 0;

	if (len == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	}
	if (shift)
		num[len - 1] = '\0';
	if (opt_u64(num, 1, UINT64_MAX >> 31, out) < 0)
		return -1;
	*out <<= shift;
	return 0;
}

/* Written here, not by printf, so that no other conversion of a
 * user's PATTERN can reach printf. */
char *convert_shard_name(const char *pattern, const char *part, uint64_t k)
{
	char out[PATH_MAX], num[32];
	size_t n = 0, len;
	int d = 0, s = 0;
	const char *p, *add;

	for (p = pattern; *p; p++) {
		char one[2] = { *p, 0 };

		add = one;
		if (*p == '%') {
			const char *q = p + 1;
			int zero = 0, width = 0;

			if (*q == '%') {
				p = q;
			} else if (*q == 's') {
				if (!part || s++)
					return NULL;
				add = part;
				p = q;
			} else {
				if (*q == '0')
					zero = 1, q++;
				while (*q >= '0' && *q <= '9' && width < 64)
					width = width * 10 + (*q++ - '0');
				if (*q != 'd' || d++ || width >= 64)
					return NULL;
				snprintf(num, sizeof(num), zero ? "%0*llu" : "%*llu", width,
					 (unsigned long long)k);
				add = num;
				p = q;
			}
		}
		len = strlen(add);
		if (n + len >= sizeof(out))
			return NULL;
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = '\0';
	if (!d || (part && !s))
		return NULL;
	return strdup(out);
}

/* Parse argv: 0 to go on, -1 after a usage message, 1 when done. */
static int parse(int argc, char **argv, struct conv *c, struct opt_common *o,
		 enum filelist_order *order)
{
	struct opt_row given = { 0 };
	int ch, r, quality = -1;
	uint64_t v;

	while ((ch = getopt_long(argc, argv, ":c:fhj:ko:qrt:v", longopts, NULL)) != -1) {
		if ((r = opt_common_parse(o, ch, optarg, "convert")) != 0 ||
		    (r = opt_row_parse(&c->spec, &given, ch, optarg, "convert")) != 0) {
			if (r < 0)
				return -1;
			continue;
		}
		switch (ch) {
		case OPT_FORMAT:
			if ((r = opt_choice(optarg, format_names)) < 0 &&
			    strcmp(optarg, "jpg") != 0)
				return usage_error("convert", "invalid --format '%s' (jpeg, png, "
						   "webp or same)", optarg);
			c->same = r == 3;
			c->save.format = r < 0 ? SAVE_JPEG : r == 3 ? SAVE_PNG : (enum save_format)r;
			break;
		case OPT_QUALITY:
			if (opt_u64(optarg, 0, 100, &v) < 0)
				return usage_error("convert", "invalid --quality '%s' (0 to 100)", optarg);
			quality = (int)v;
			break;
		case OPT_LOSSLESS:
			c->save.lossless = 1;
			break;
		case OPT_SHARDS:
			c->shards = optarg;
			break;
		case OPT_SHARD_SIZE:
			if (opt_u64(optarg, 1, UINT64_MAX >> 1, &c->shard_size) < 0)
				return usage_error("convert", "invalid --shard-size '%s'", optarg);
			break;
		case OPT_SHARD_BYTES:
			if (parse_bytes(optarg, &c->shard_bytes) < 0 || c->shard_bytes < 4096)
				return usage_error("convert", "invalid --shard-bytes '%s' (4096 or "
						   "more, K, M or G allowed)", optarg);
			break;
		case OPT_JSON:
			c->json = 1;
			break;
		case OPT_RESUME:
			c->resume = 1;
			break;
		case OPT_ORDER:
			if ((r = opt_choice(optarg, order_names)) < 0)
				return usage_error("convert", "invalid --order '%s' (natural, name or "
						   "none)", optarg);
			*order = (enum filelist_order)r;
			break;
		case OPT_SANDBOX:
			if (opt_sandbox(optarg, &c->sandbox, "convert") < 0)
				return -1;
			break;
		case OPT_LABELS:
			c->labels = 1;
			break;
		case OPT_RECURSE_ARCHIVES:
			arch_set_recurse(1);
			break;
		case OPT_SEED:
			if (opt_u64(optarg, 0, UINT64_MAX, &c->seed) < 0)
				return usage_error("convert", "invalid --seed '%s'", optarg);
			c->seed_given = 1;
			break;
		case OPT_SHUFFLE:
			c->shuffle = 1;
			break;
		case OPT_SPLIT:
			if (split_parse(optarg, &c->split) < 0)
				return usage_error("convert", "invalid --split '%s' (NAME=FRACTION,... "
						   "adding up to 1, e.g. train=0.9,val=0.1)", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'k':
			c->keep_going = 1;
			break;
		case 'o':
			c->out = optarg;
			break;
		case 'r':
			c->recursive = 1;
			break;
		default:
			return opt_bad(ch, argv, "convert");
		}
	}
	if (!c->out == !c->shards)
		return usage_error("convert", c->out ? "-o and --shards cannot go together"
				   : "no output given (-o DIR or --shards PATTERN)");
	if (optind == argc)
		return usage_error("convert", "no input given (a directory, files, or - for stdin)");
	/* Load's row options, as load --ragged takes them unless --resize WxH
	 * gives every image one size; nothing of the array's own. */
	if (c->spec.ragged || c->spec.dtype != TENSOR_U1 || c->spec.layout != TENSOR_NHWC ||
	    c->spec.norm.on || c->spec.scale)
		return usage_error("convert", "%s is load's, for arrays: convert writes 8-bit "
				   "images", c->spec.ragged ? "--ragged" : c->spec.norm.on ?
				   "--normalize" : c->spec.scale ? "--scale" : c->spec.dtype !=
				   TENSOR_U1 ? "--dtype" : "--layout");
	if (!c->spec.resize && (given.fit || given.pad))
		return usage_error("convert", "%s needs --resize WxH", given.fit ? "--fit" : "--pad");
	c->spec.ragged = !c->spec.resize;
	if (opt_row_check(&c->spec, &given, "convert") < 0)
		return -1;
	c->spec.ragged = 0;
	if (c->save.format == SAVE_JPEG && !c->same && (c->spec.channels == 2 ||
							c->spec.channels == 4))
		return usage_error("convert", "JPEG has no alpha: -c 1 or 3 with --format jpeg");
	if (c->save.lossless && (c->same || c->save.format != SAVE_WEBP))
		return usage_error("convert", "--lossless needs --format webp");
	if (quality >= 0 && !c->same && c->save.format == SAVE_PNG)
		return usage_error("convert", "--quality is JPEG's and WebP's, not PNG's");
	if (quality == 0 && c->save.format == SAVE_JPEG)
		return usage_error("convert", "invalid --quality '0' (JPEG: 1 to 100)");
	c->save.quality = quality;
	if (!c->shards && (c->shard_size || c->shard_bytes || c->json))
		return usage_error("convert", "%s needs --shards", c->json ? "--json" : c->shard_size
				   ? "--shard-size" : "--shard-bytes");
	if (c->shard_size && c->shard_bytes)
		return usage_error("convert", "--shard-size and --shard-bytes cannot go together");
	if (c->shards && !c->shard_bytes && !c->shard_size)
		c->shard_size = DEFAULT_SHARD_SIZE;
	if (c->shards) {
		char *t = convert_shard_name(c->shards, c->split.n ? "x" : NULL, 0);

		if (!t)
			return usage_error("convert", "invalid --shards '%s': one %%d (e.g. %%06d)%s, "
					   "and no other %% but %%%%", c->shards, c->split.n ?
					   " and, with --split, one %s" : "");
		free(t);
	}
	if (c->resume && o->force)
		return usage_error("convert", "--resume keeps what is there, -f replaces it: not both");
	if (c->seed_given && !c->shuffle)
		return usage_error("convert", "--seed needs --shuffle");
	if (c->labels && (argc - optind != 1 || strcmp(argv[optind], "-") == 0))
		return usage_error("convert", "--labels takes one INPUT, the directory or archive "
				   "of class folders");
	c->args = argv + optind;
	c->nargs = argc - optind;
	return 0;
}

/* The format a name's extension says, for --format same: -1 for none of
 * JPEG, PNG and WebP. */
static int format_of_name(const char *name)
{
	const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');

	if (!dot || (slash && dot < slash))
		return -1;
	if (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"))
		return SAVE_JPEG;
	if (!strcasecmp(dot, ".png"))
		return SAVE_PNG;
	if (!strcasecmp(dot, ".webp"))
		return SAVE_WEBP;
	return -1;
}

/* PATH with no trailing slash (but "/"), as a prefix to match. */
static size_t trimmed(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	return n;
}

/* The last component of PATH less its last extension: an archive's
 * folder in the tree ("a/b.tar.gz" gives "b.tar": only .tar.* twice). */
static char *stem(const char *path, size_t len)
{
	const char *base = path, *p;
	char *s, *dot;

	for (p = path; p < path + len; p++)
		if (*p == '/')
			base = p + 1;
	if (!(s = strndup(base, (size_t)(path + len - base))))
		return NULL;
	if ((dot = strrchr(s, '.')) && dot > s)
		*dot = '\0';
	if ((dot = strrchr(s, '.')) && dot > s && strcmp(dot, ".tar") == 0)
		*dot = '\0';
	return s;
}

/* Join A (LA bytes), "/" and B into a new string; NULL when out of memory. */
static char *join(const char *a, size_t la, const char *b)
{
	char *s;

	if (asprintf(&s, "%.*s%s%s", (int)la, a, la ? "/" : "", b) < 0)
		return NULL;
	return s;
}

/*
 * Row I's path relative to the tree: under the INPUT it came from (the
 * longest that holds it), an archive's members under the archive's stem,
 * a file INPUT by its base name, a listed path as given (less a leading
 * "/" or "./"). Under --labels, from the class's folder on (a webdataset
 * input's images under CLASS/). Allocated, or NULL with *WHY set.
 */
static char *relative(const struct conv *c, size_t i, const char **why)
{
	const char *path = c->files.paths[i], *best = NULL;
	size_t blen = 0, k;
	int bkind = 0;

	*why = "out of memory";
	for (k = 0; k < (size_t)c->nargs; k++) {
		const char *a = c->args[k];
		size_t n = trimmed(a);

		if (strcmp(a, "-") == 0 || strncmp(path, a, n) != 0 || n < blen)
			continue;
		if (path[n] == '/' || path[n] == ':') {
			best = a, blen = n, bkind = path[n];
		} else if (path[n] == '\0') {
			best = a, blen = n, bkind = 0;
		}
	}
	if (c->labels) {
		const char *cls = c->ds.classes[c->ds.labels[i]], *m = path + blen + 1, *p;
		size_t cl = strlen(cls);

		if (!best || bkind == 0)
			return *why = "not under the class tree", NULL;
		for (p = m; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
			if (strncmp(p, cls, cl) == 0 && p[cl] == '/')
				return strdup(p);
		p = strrchr(m, '/');
		return join(cls, cl, p ? p + 1 : m);
	}
	if (best && bkind == '/')
		return strdup(path + blen + 1);
	if (best && bkind == ':') {
		char *s = stem(best, blen), *r;

		if (!s)
			return NULL;
		r = join(s, strlen(s), path + blen + 1);
		free(s);
		return r;
	}
	if (best) {
		const char *slash = strrchr(path, '/');

		return strdup(slash ? slash + 1 : path);
	}
	while (*path == '/' || strncmp(path, "./", 2) == 0)
		path += *path == '/' ? 1 : 2;
	if (strchr(path, ':') && arch_is_member(path)) {
		/* A listed archive member: the archive is the longest prefix
		 * before a ':' that is a file. */
		const char *p;
		struct stat st;

		for (p = strrchr(path, ':'); p; ) {
			char *a = strndup(path, (size_t)(p - path));

			if (!a)
				return NULL;
			if (stat(a, &st) == 0 && S_ISREG(st.st_mode)) {
				char *s = stem(a, strlen(a)), *r = s ? join(s, strlen(s), p + 1) : NULL;

				free(a);
				free(s);
				return r;
			}
			free(a);
			while (--p > path && *p != ':')
				;
			if (p == path)
				break;
		}
	}
	return strdup(path);
}

/* A relative name fit for the tree: no empty, "." or ".." component. */
static int safe_relative(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/')
		return 0;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

/* REL with its extension made EXT's (appended when it has none). */
static char *with_ext(const char *rel, const char *ext)
{
	const char *dot = strrchr(rel, '.'), *slash = strrchr(rel, '/');
	size_t n = dot && (!slash || dot > slash + 1) ? (size_t)(dot - rel) : strlen(rel);
	char *s;

	if (asprintf(&s, "%.*s.%s", (int)n, rel, ext) < 0)
		return NULL;
	return s;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Which part row I belongs to. */
static int part_of(const struct conv *c, size_t i)
{
	int p = 0;

	while (p + 1 < c->nparts && i >= c->part_start[p + 1])
		p++;
	return p;
}

/*
 * Each row's format and name: --format's, or under same the one its
 * name's extension says (kept, and the bytes copied when nothing changes
 * the image; other formats become PNG unless nothing changes any image).
 * Tree: DIR[/PART]/REL with the format's extension; two rows to one name
 * are refused. Shards: the member's extension. 0, or -1 after a message.
 */
static int name_rows(struct conv *c)
{
	size_t i, n = c->files.n;
	char **sorted;
	const char *why;

	c->pass_all = c->same && !c->spec.resize && !c->spec.short_side && !c->spec.max_side &&
		      !c->spec.channels && !c->spec.exif_transpose;
	if (!(c->fmt = calloc(n + 1, 1)) || !(c->keep = calloc(n + 1, 1)) ||
	    !(c->names = calloc(n + 1, sizeof(char *))))
		return error("out of memory");
	for (i = 0; i < n; i++) {
		int f = c->same ? format_of_name(c->files.paths[i]) : (int)c->save.format;
		char *rel = relative(c, i, &why), *full;
		const char *ext;

		if (!rel)
			return error("%s: %s", c->files.paths[i], why);
		c->keep[i] = c->same && (f >= 0 || c->pass_all);
		c->fmt[i] = (unsigned char)(f < 0 ? SAVE_PNG : f);
		if (!safe_relative(rel)) {
			free(rel);
			return error("%s: no place for it in the output (a '..' or empty name)",
				     c->files.paths[i]);
		}
		if (c->shards) {
			/* The member's extension: the name's own when kept. */
			const char *dot = strrchr(rel, '.');

			ext = c->keep[i] && dot && !strchr(dot, '/') ? dot + 1 : save_ext[c->fmt[i]];
			c->names[i] = strdup(ext);
			for (full = c->names[i]; full && *full; full++)
				if (*full >= 'A' && *full <= 'Z')
					*full = (char)(*full - 'A' + 'a');
			free(rel);
			if (!c->names[i])
				return error("out of memory");
			continue;
		}
		full = c->keep[i] ? strdup(rel) : with_ext(rel, save_ext[c->fmt[i]]);
		free(rel);
		if (!full)
			return error("out of memory");
		rel = full;
		if (c->split.n)
			full = join(c->split.name[part_of(c, i)], strlen(c->split.name[part_of(c, i)]),
				    rel), free(rel), rel = full;
		c->names[i] = rel ? join(c->out, trimmed(c->out), rel) : NULL;
		free(rel);
		if (!c->names[i])
			return error("out of memory");
	}
	if (c->shards)
		return 0;
	if (!(sorted = malloc((n + 1) * sizeof(char *))))
		return error("out of memory");
	memcpy(sorted, c->names, n * sizeof(char *));
	qsort(sorted, n, sizeof(char *), cmp_name);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i], sorted[i - 1]) == 0) {
			size_t a, b;

			for (a = 0; strcmp(c->names[a], sorted[i]) != 0; a++)
				;
			for (b = a + 1; strcmp(c->names[b], sorted[i]) != 0; b++)
				;
			error("%s: the output of both %s and %s", sorted[i], c->files.paths[a],
			      c->files.paths[b]);
			free(sorted);
			return -1;
		}
	free(sorted);
	return 0;
}

/* PATH made absolute with its links resolved, as far as it exists (the
 * rest appended as written). Allocated; NULL when out of memory. */
static char *resolved(const char *path)
{
	char *r = realpath(path, NULL), *dir, *slash, *s;

	if (r || errno == ENOMEM)
		return r;
	if (!(dir = strdup(path)))
		return NULL;
	slash = strrchr(dir, '/');
	while (slash && slash > dir && slash[1] == '\0') {
		*slash = '\0';
		slash = strrchr(dir, '/');
	}
	if (!slash) {
		r = realpath(".", NULL);
		s = r ? join(r, strlen(r), dir) : NULL;
	} else {
		*slash = '\0';
		r = resolved(slash == dir ? "/" : dir);
		s = r ? join(r, strcmp(r, "/") == 0 ? 0 : strlen(r), slash + 1) : NULL;
	}
	free(r);
	free(dir);
	return s;
}

/* The output's directory must not be in an INPUT directory: a second run
 * would read the first's output. 0, or -1 after a message. */
static int refuse_inside(const struct conv *c)
{
	char *dir = c->out ? strdup(c->out) : strdup(c->shards), *out, *slash;
	struct stat st;
	int k, r = 0;

	if (!dir)
		return error("out of memory");
	if (c->shards) {
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
	}
	out = resolved(dir);
	free(dir);
	if (!out)
		return error("out of memory");
	for (k = 0; r == 0 && k < c->nargs; k++) {
		char *in;
		size_t n;

		if (stat(c->args[k], &st) < 0 || !S_ISDIR(st.st_mode) || !(in = resolved(c->args[k])))
			continue;
		n = strlen(in);
		if (strncmp(out, in, n) == 0 && (out[n] == '\0' || out[n] == '/' || n == 1))
			r = error("%s: the output is inside the input %s (write it elsewhere)",
				  c->out ? c->out : c->shards, c->args[k]);
		free(in);
	}
	free(out);
	return r;
}

/* nftw's callback for remove_stale: a ".BASE.PID.N.tmp" whose PID is gone. */
static int stale_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	const char *name = path + f->base, *end;
	size_t len = strlen(name);
	long pid;

	(void)st;
	if (type != FTW_F || name[0] != '.' || len < 8 || strcmp(name + len - 4, ".tmp") != 0)
		return 0;
	end = name + len - 4;
	while (end > name && end[-1] >= '0' && end[-1] <= '9')
		end--;
	if (end == name + len - 4 || end[-1] != '.')
		return 0;
	end--;
	while (end > name && end[-1] >= '0' && end[-1] <= '9')
		end--;
	if (end[-1] != '.' || (pid = strtol(end, NULL, 10)) <= 0)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		unlink(path);
	return 0;
}

/* --resume: the temporary files of killed runs (whose pids are gone) in
 * the output's directory, and, for a tree, below it. */
static void remove_stale(const struct conv *c)
{
	char *dir;
	const char *slash;

	if (c->out) {
		nftw(c->out, stale_one, 16, FTW_PHYS);
		return;
	}
	slash = strrchr(c->shards, '/');
	dir = slash ? strndup(c->shards, (size_t)(slash - c->shards)) : strdup(".");
	if (dir)
		nftw(dir, stale_one, 1, FTW_PHYS);	/* its files, and its folders' */
	free(dir);
}

/*
 * Tree: without -f, an output that exists is refused before any work
 * (--resume: marked done, to be skipped). Shards are checked by
 * convert_run, which knows their names. 0, or -1 after a message.
 */
static int check_existing(struct conv *c, int force)
{
	size_t i;

	if (!(c->done = calloc(c->files.n + 1, 1)))
		return error("out of memory");
	if (force || c->shards)
		return 0;
	for (i = 0; i < c->files.n; i++) {
		if (!outfile_exists(c->names[i]))
			continue;
		if (!c->resume)
			return error("%s: file exists (use -f to replace it, or --resume to keep "
				     "it and go on)", c->names[i]);
		c->done[i] = 1;
	}
	return 0;
}

/* The rows: as load collects them, then shuffled if asked, then cut into
 * the parts of --split. 0, or -1 after a message. */
static int collect(struct conv *c, enum filelist_order order)
{
	struct scan_opts so = {
		.recursive = c->recursive, .labels = c->labels, .order = order,
		.member_max = c->spec.max_pixels * 8 + (1 << 20), .hint = "--labels",
	};
	size_t sizes[SPLIT_MAX];
	int p;

	if (scan_collect(&c->files, &c->ds, c->args, c->nargs, &so) < 0)
		return -1;
	if (c->shuffle && dataset_shuffle(&c->ds, &c->files, c->seed) < 0)
		return -1;
	c->nparts = c->split.n ? c->split.n : 1;
	if (c->split.n)
		split_sizes(&c->split, c->files.n, sizes);
	else
		sizes[0] = c->files.n;
	c->part_start[0] = 0;
	for (p = 0; p < c->nparts; p++)
		c->part_start[p + 1] = c->part_start[p] + sizes[p];
	return 0;
}

static void conv_free(struct conv *c)
{
	size_t i;

	for (i = 0; c->names && i < c->files.n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->fmt);
	free(c->keep);
	free(c->done);
	dataset_free(&c->ds);
	filelist_leave(&c->files);	/* at exit */
	arch_free();
	free(c->file.p);
	free(c->enc.p);
	free(c->pix.p);
}

int cmd_convert(int argc, char **argv)
{
	struct conv c = { .spec = { .max_pixels = DEFAULT_MAX_PIXELS, .dtype = TENSOR_U1,
				    .filter = RESIZE_BILINEAR },
			  .same = 1, .save = { .format = SAVE_PNG, .quality = -1 } };
	enum filelist_order order = ORDER_NATURAL;
	struct opt_common o;
	int r;

	opt_common_init(&o);
	if ((r = parse(argc, argv, &c, &o, &order)) != 0)
		return opt_status(r);
	r = EXIT_FAIL;
	if (refuse_inside(&c) == 0 && collect(&c, order) == 0 && name_rows(&c) == 0) {
		if (c.resume)
			remove_stale(&c);
		if (check_existing(&c, o.force) == 0)
			r = convert_run(&c, &o);
	}
	conv_free(&c);
	return r;
}
