/* opt.c - strict parsing of numeric option values (strtoull with the end
 * pointer checked, as OpenBSD's style(9) asks): "12x" or "-3" is an error. */
#include "cmd/opt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parse a decimal run at S; set *END past it. Refuses signs and spaces,
 * which strtoull would otherwise accept ("-1" wraps to 2^64-1). */
static int parse_decimal(const char *s, char **end, uint64_t *out)
{
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int opt_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;

	if (parse_decimal(s, &end, &v) < 0 || *end != '\0')
		return -1;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int opt_size(const char *s, uint64_t max, uint32_t *w, uint32_t *h)
{
	char *end;
	uint64_t a, b;

	if (parse_decimal(s, &end, &a) < 0 || (*end != 'x' && *end != 'X'))
		return -1;
	if (parse_decimal(end + 1, &end, &b) < 0 || *end != '\0')
		return -1;
	if (a < 1 || b < 1 || a > max || b > max)
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

int opt_choice(const char *s, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

unsigned opt_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

#include "image/row.h"
#include "engine/pool.h"
#include "engine/sandbox.h"
#include "common/err.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

static const char *const schedules[] = { "static", "dynamic", NULL };

void opt_common_init(struct opt_common *c)
{
	c->jobs = opt_cpus();
	c->schedule = POOL_DYNAMIC;	/* never slower in our measurements */
	c->force = c->quiet = c->verbose = 0;
}

int opt_common_parse(struct opt_common *c, int ch, const char *arg, const char *cmd)
{
	uint64_t v;

	switch (ch) {
	case 'f':
		c->force = 1;
		return 1;
	case 'j':
		if (opt_u64(arg, 1, POOL_MAX_JOBS, &v) < 0) {
			return usage_error(cmd, "invalid --jobs '%s' (1 to %d)", arg, POOL_MAX_JOBS);
		}
		c->jobs = (unsigned)v;
		return 1;
	case 'q':
		c->quiet = 1;
		return 1;
	case 'v':
		c->verbose = 1;
		return 1;
	case OPT_SCHEDULE:
		if ((ch = opt_choice(arg, schedules)) < 0) {
			return usage_error(cmd, "invalid --schedule '%s' (static or dynamic)", arg);
		}
		c->schedule = ch;
		return 1;
	}
	return 0;
}

int opt_row_parse(struct row_spec *s, struct opt_row *given, int ch, const char *arg,
		  const char *cmd)
{
	char why[256];
	uint64_t v;
	int r;

	switch (ch) {
	case OPT_DRAFT:
	case OPT_NO_DRAFT:
		s->draft = ch == OPT_DRAFT;
		return 1;
	case OPT_EXIF_TRANSPOSE:
	case OPT_NO_EXIF_TRANSPOSE:
		s->exif_transpose = ch == OPT_EXIF_TRANSPOSE;
		return 1;
	case OPT_FILTER:
		if ((r = opt_choice(arg, resize_filter_names)) < 0)
			return usage_error(cmd, "invalid --filter '%s' (nearest, box, bilinear, "
					   "hamming, bicubic or lanczos)", arg);
		s->filter = (enum resize_filter)r;
		given->filter = 1;
		return 1;
	case OPT_FIT:
		if ((r = opt_choice(arg, resize_fit_names)) < 0)
			return usage_error(cmd, "invalid --fit '%s' (stretch, cover or contain)", arg);
		s->fit = (enum resize_fit)r;
		given->fit = 1;
		return 1;
	case OPT_MAX_SIDE:
		if (opt_u64(arg, 1, 1u << 24, &v) < 0)
			return usage_error(cmd, "invalid --max-side '%s' (1 to 16777216)", arg);
		s->max_side = (uint32_t)v;
		return 1;
	case OPT_LAYOUT:
		if ((r = opt_choice(arg, tensor_layout_names)) < 0)
			return usage_error(cmd, "invalid --layout '%s' (nhwc or nchw)", arg);
		s->layout = (enum tensor_layout)r;
		return 1;
	case OPT_MAX_PIXELS:
		if (opt_u64(arg, 1, UINT64_MAX, &s->max_pixels) < 0)
			return usage_error(cmd, "invalid --max-pixels '%s'", arg);
		return 1;
	case OPT_NORMALIZE:
		if (tensor_norm_parse(arg, &s->norm, why, sizeof(why)) < 0)
			return usage_error(cmd, "invalid --normalize '%s': %s", arg, why);
		return 1;
	case OPT_PAD:
		if (opt_u64(arg, 0, 255, &v) < 0)
			return usage_error(cmd, "invalid --pad '%s' (0 to 255)", arg);
		s->pad = (unsigned)v;
		given->pad = 1;
		return 1;
	case OPT_RAGGED:
		s->ragged = 1;
		return 1;
	case OPT_RESIZE:
		/* One number: the shorter side, for --ragged (opt_row_check). */
		if (!strpbrk(arg, "xX") && opt_u64(arg, 1, 1u << 24, &v) == 0) {
			s->short_side = (uint32_t)v;
			s->resize = 0;
			return 1;
		}
		if (opt_size(arg, 1u << 24, &s->w, &s->h) < 0)
			return usage_error(cmd, "invalid --resize '%s' (WxH or, with --ragged, S; "
					   "1 to 16777216)", arg), -1;
		s->resize = 1;
		s->short_side = 0;
		return 1;
	case OPT_SCALE:
		s->scale = 1;
		return 1;
	case 'c':
		if (opt_u64(arg, 1, 4, &v) < 0)
			return usage_error(cmd, "invalid --channels '%s' (1 to 4)", arg);
		s->channels = (int)v;
		return 1;
	case 't':
		if ((r = opt_choice(arg, tensor_dtype_names)) < 0)
			return usage_error(cmd, "invalid --dtype '%s' (u1, u2, f4 or f8)", arg);
		s->dtype = (enum tensor_dtype)r;
		given->dtype = 1;
		return 1;
	}
	return 0;
}

int opt_row_check(struct row_spec *s, const struct opt_row *given, const char *cmd)
{
	const char *lone = given->filter ? "--filter" : given->fit ? "--fit"
			   : given->pad ? "--pad" : s->draft ? "--draft" : NULL;
	char why[256];

	if (s->ragged && s->resize)
		return usage_error(cmd, "--ragged keeps each image's aspect ratio: use --resize %u "
				   "(the shorter side) or --max-side %u (the longer), not --resize "
				   "%ux%u", s->w < s->h ? s->w : s->h, s->w < s->h ? s->h : s->w,
				   s->w, s->h);
	if (s->ragged && (given->fit || given->pad))
		return usage_error(cmd, "%s cannot go with --ragged", given->fit ? "--fit" : "--pad");
	if (!s->ragged && s->short_side && strcmp(cmd, "check") == 0)
		return usage_error(cmd, "--resize takes WxH: for torchvision's Resize(%u) + "
				   "CenterCrop(%u), --resize %ux%u --fit cover", s->short_side,
				   s->short_side, s->short_side, s->short_side);
	if (!s->ragged && s->short_side)
		return usage_error(cmd, "--resize %u needs --ragged: for torchvision's Resize(%u) + "
				   "CenterCrop(%u) use --resize %ux%u --fit cover; for Resize(%u) "
				   "alone, --ragged --resize %u", s->short_side, s->short_side,
				   s->short_side, s->short_side, s->short_side, s->short_side,
				   s->short_side);
	if (!s->ragged && s->max_side)
		return usage_error(cmd, "--max-side needs --ragged");
	if (s->short_side && s->max_side)
		return usage_error(cmd, "--resize S and --max-side cannot go together");
	if (!s->resize && !s->short_side && !s->max_side && lone)
		return usage_error(cmd, "%s needs --resize%s", lone, s->ragged ? " or --max-side" : "");
	if (given->pad && s->fit != RESIZE_CONTAIN)
		return usage_error(cmd, "--pad needs --fit contain");
	if (s->scale && s->dtype != TENSOR_F4 && s->dtype != TENSOR_F8)
		return usage_error(cmd, "--scale needs --dtype f4 or f8");
	if (!s->norm.on)
		return 0;
	/* Normalize(ToTensor(img)) is a float tensor. */
	if (s->scale)
		return usage_error(cmd, "--normalize scales as ToTensor does: leave out --scale");
	if (given->dtype && s->dtype != TENSOR_F4 && s->dtype != TENSOR_F8)
		return usage_error(cmd, "--normalize needs --dtype f4 or f8 (the default with it: f4)");
	if (!given->dtype)
		s->dtype = TENSOR_F4;
	if (s->channels && !s->norm.from_stats &&
	    tensor_norm_check(&s->norm, s->channels, s->dtype == TENSOR_F4, why, sizeof(why)) < 0)
		return usage_error(cmd, "invalid --normalize: %s", why);
	return 0;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vreport(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'parimg %s --help' for more information.\n", cmd);
	return -1;
}

int opt_status(int r)
{
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}

/* An environment variable holding a decimal number. */
static int env_u64(const char *name, uint64_t *out)
{
	const char *v = getenv(name);

	return v && opt_u64(v, 0, UINT64_MAX / 2, out) == 0 ? 0 : -1;
}

/*
 * Slurm numbers array tasks MIN, MIN+STEP, ..., MAX (COUNT of them); shard K
 * is the task's position in that sequence. Anything that does not fit that
 * picture is refused rather than guessed at.
 */
static int slurm_shard(struct opt_shard *sh, const char *cmd)
{
	uint64_t id, min, count, step = 1, max;

	if (env_u64("SLURM_ARRAY_TASK_ID", &id) < 0 || env_u64("SLURM_ARRAY_TASK_MIN", &min) < 0 ||
	    env_u64("SLURM_ARRAY_TASK_COUNT", &count) < 0) {
		usage_error(cmd, "--shard slurm needs SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN "
			    "and SLURM_ARRAY_TASK_COUNT (run it in a job array, or use --shard K/N)");
		return -1;
	}
	if (getenv("SLURM_ARRAY_TASK_STEP") && env_u64("SLURM_ARRAY_TASK_STEP", &step) < 0)
		step = 0;	/* refused below, like a step of 0 */
	if (step == 0 || count == 0 || id < min || (id - min) % step != 0 ||
	    (id - min) / step >= count ||
	    (getenv("SLURM_ARRAY_TASK_MAX") &&
	     (env_u64("SLURM_ARRAY_TASK_MAX", &max) < 0 || max != min + (count - 1) * step))) {
		usage_error(cmd, "--shard slurm: inconsistent SLURM_ARRAY_TASK_* variables "
			    "(task %s, min %s, count %s); use --shard K/N",
			    getenv("SLURM_ARRAY_TASK_ID"), getenv("SLURM_ARRAY_TASK_MIN"),
			    getenv("SLURM_ARRAY_TASK_COUNT"));
		return -1;
	}
	sh->k = (id - min) / step;
	sh->n = count;
	return 0;
}

int opt_sandbox(const char *s, enum sandbox_mode *m, const char *cmd)
{
	int r = opt_choice(s, sandbox_mode_names);

	if (r < 0)
		return usage_error(cmd, "invalid --sandbox '%s' (auto, require or off)", s);
	*m = (enum sandbox_mode)r;
	return 0;
}

int opt_shard(const char *s, struct opt_shard *sh, const char *cmd)
{
	const char *slash = strchr(s, '/');
	char k[32];

	if (strcmp(s, "slurm") == 0)
		return slurm_shard(sh, cmd);
	if (!slash || slash - s >= (long)sizeof(k))
		goto bad;
	memcpy(k, s, (size_t)(slash - s));
	k[slash - s] = '\0';
	if (opt_u64(k, 0, UINT64_MAX / 2, &sh->k) < 0 ||
	    opt_u64(slash + 1, 1, UINT64_MAX / 2, &sh->n) < 0 || sh->k >= sh->n)
		goto bad;
	return 0;
bad:
	usage_error(cmd, "invalid --shard '%s' (K/N with 0 <= K < N, or slurm)", s);
	return -1;
}

int opt_bad(int ch, char **argv, const char *cmd)
{
	const char *arg = argv[optind - 1];
	int len = (int)strcspn(arg, "=");

	if (arg[0] == '-' && arg[1] == '-') {
		/* A long option: getopt's optopt then holds our internal code. */
		if (ch == ':')
			return usage_error(cmd, "option '%s' needs a value", arg);
		if (optopt && arg[len] == '=')
			return usage_error(cmd, "option '%.*s' takes no value", len, arg);
		return usage_error(cmd, "unknown option '%.*s'", len, arg);
	}
	if (ch == ':')
		return usage_error(cmd, "option '-%c' needs a value", optopt);
	return usage_error(cmd, "unknown option '-%c'", optopt);
}
