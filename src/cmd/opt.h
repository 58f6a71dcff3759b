/* opt.h - parsing of option values shared by the subcommands: counts, sizes,
 * ranges. Each returns 0 on success and -1 on a malformed or out-of-range value,
 * leaving the message to the caller, which knows the option's name. */
#ifndef PARIMG_OPT_H
#define PARIMG_OPT_H

#include <stdint.h>

/* A decimal number in [MIN, MAX]; no sign, no trailing characters. */
int opt_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "WxH" with 1 <= W, H <= MAX. */
int opt_size(const char *s, uint64_t max, uint32_t *w, uint32_t *h);
/* Look S up in the NULL-terminated NAMES; the index, or -1. */
int opt_choice(const char *s, const char *const *names);
/* The number of online CPUs, at least 1. */
unsigned opt_cpus(void);


/* Options every pool-running subcommand shares. */
struct opt_common {
	unsigned jobs;		/* -j, default: online CPUs */
	int schedule;		/* enum pool_schedule */
	int force;		/* -f */
	int quiet;		/* -q */
	int verbose;		/* -v */
};

/* Defaults for the common options. */
void opt_common_init(struct opt_common *c);
/* Handle a common option (getopt's C with OPTARG); 1 if it was one, 0 if
 * not, -1 for a bad value (message printed). */
int opt_common_parse(struct opt_common *c, int ch, const char *arg, const char *cmd);

/* The common options' getopt_long entries, and their --help lines. */
#define OPT_SCHEDULE 0x100
#define OPT_COMMON_LONG                                                   \
	{ "force", no_argument, NULL, 'f' },                              \
	{ "jobs", required_argument, NULL, 'j' },                         \
	{ "quiet", no_argument, NULL, 'q' },                              \
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },            \
	{ "verbose", no_argument, NULL, 'v' }
#define OPT_COMMON_HELP                                                   \
	"  -j, --jobs N            worker processes (default: online CPUs)\n" \
	"      --schedule dynamic|static\n"                                    \
	"                          hand out chunks as workers free up\n"      \
	"                          (default), or split items in equal ranges\n" \
	"  -q, --quiet             no progress display\n"                     \
	"  -v, --verbose           print each worker's range and time\n"      \
	"  -h, --help              show this help and exit\n"

/*
 * Usage errors, one convention: usage_error prints "parimg: MESSAGE" and a
 * hint to CMD's --help and returns -1, as error() does, so that a parser
 * can "return usage_error(...)". Each subcommand's parse returns 0 to go
 * on, -1 after a usage message, 1 when it is done (--help printed), and
 * the subcommand returns opt_status of that: EXIT_USAGE (2) or EXIT_OK.
 */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The exit status for a parse's R, -1 or 1. */
int opt_status(int r);
/* Report what getopt_long returned CH for (':' a missing value, '?' an
 * unknown option; the option strings start with ':' and opterr is 0) as a
 * usage error of CMD; returns -1. */
int opt_bad(int ch, char **argv, const char *cmd);

/* The options that say how load makes each row of its array (row.h):
 * load takes them, and bench passes them on to the loads it times. */
enum {
	OPT_DRAFT = 0x180, OPT_EXIF_TRANSPOSE, OPT_FILTER, OPT_FIT, OPT_LAYOUT, OPT_MAX_PIXELS,
	OPT_MAX_SIDE, OPT_NO_DRAFT, OPT_NO_EXIF_TRANSPOSE, OPT_NORMALIZE, OPT_PAD, OPT_RAGGED,
	OPT_RESIZE, OPT_SCALE
};
#define OPT_ROW_LONG                                                      \
	{ "channels", required_argument, NULL, 'c' },                     \
	{ "draft", no_argument, NULL, OPT_DRAFT },                        \
	{ "dtype", required_argument, NULL, 't' },                        \
	{ "exif-transpose", no_argument, NULL, OPT_EXIF_TRANSPOSE },      \
	{ "filter", required_argument, NULL, OPT_FILTER },                \
	{ "fit", required_argument, NULL, OPT_FIT },                      \
	{ "layout", required_argument, NULL, OPT_LAYOUT },                \
	{ "max-pixels", required_argument, NULL, OPT_MAX_PIXELS },        \
	{ "max-side", required_argument, NULL, OPT_MAX_SIDE },            \
	{ "no-draft", no_argument, NULL, OPT_NO_DRAFT },                  \
	{ "normalize", required_argument, NULL, OPT_NORMALIZE },          \
	{ "no-exif-transpose", no_argument, NULL, OPT_NO_EXIF_TRANSPOSE }, \
	{ "pad", required_argument, NULL, OPT_PAD },                      \
	{ "ragged", no_argument, NULL, OPT_RAGGED },                      \
	{ "resize", required_argument, NULL, OPT_RESIZE },                \
	{ "scale", no_argument, NULL, OPT_SCALE }

struct row_spec;
/* Which of --filter, --fit, --pad and -t were given, for opt_row_check. */
struct opt_row {
	int filter, fit, pad, dtype;
};

/* Handle a row option (getopt's CH with ARG) into S, noting it in GIVEN;
 * 1 if it was one, 0 if not, -1 for a bad value (usage message for CMD). */
int opt_row_parse(struct row_spec *s, struct opt_row *given, int ch, const char *arg,
		  const char *cmd);
/* The row options must fit together: --filter, --fit, --pad and --draft
 * go with --resize, --pad with --fit contain, --scale with f4 or f8;
 * --resize S and --max-side need --ragged, which refuses --resize WxH,
 * --fit and --pad; --normalize makes f4 unless -t f8 is given, and its
 * values must match -c when -c is given. 0, or -1 after a usage message
 * for CMD. */
int opt_row_check(struct row_spec *s, const struct opt_row *given, const char *cmd);

enum sandbox_mode;
/* --sandbox's value for CMD (load, check): auto, require or off into *M.
 * 0, or -1 with a usage message. */
int opt_sandbox(const char *s, enum sandbox_mode *m, const char *cmd);

/* A shard: this run does part K of N of the index space. */
struct opt_shard {
	uint64_t k, n;		/* 0 <= k < n; 0/1 when not sharded */
};

/* "K/N", or "slurm" for K and N from SLURM_ARRAY_TASK_ID, _MIN, _COUNT
 * (and _STEP, _MAX when set). 0, or -1 with a usage message for CMD. */
int opt_shard(const char *s, struct opt_shard *sh, const char *cmd);

#endif
