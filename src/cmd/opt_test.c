/* opt_test.c - unit tests of option-value parsing (opt.h): strict decimal
 * numbers, WxH sizes, choices, the common options and shards. */
#include "cmd/opt.h"
#include "image/row.h"
#include "engine/pool.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void accept_u64(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	uint64_t v = 12345;

	cr_assert_eq(opt_u64(s, min, max, &v), 0, "'%s' in [%llu, %llu] refused", s,
		     (unsigned long long)min, (unsigned long long)max);
	cr_assert_eq(v, want, "'%s' gave %llu", s, (unsigned long long)v);
}

static void reject_u64(const char *s, uint64_t min, uint64_t max)
{
	uint64_t v = 12345;

	cr_assert_eq(opt_u64(s, min, max, &v), -1, "'%s' in [%llu, %llu] accepted", s,
		     (unsigned long long)min, (unsigned long long)max);
	cr_assert_eq(v, 12345, "'%s' refused but *out changed", s);
}

Test(opt_u64, accepts_plain_decimals)
{
	accept_u64("0", 0, 10, 0);
	accept_u64("2000", 0, UINT64_MAX, 2000);
	accept_u64("10", 0, 10, 10);
	accept_u64("1", 1, 1, 1);
	accept_u64("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	accept_u64("1024", 1, POOL_MAX_JOBS, 1024);
}

Test(opt_u64, rejects_malformed)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "12x", "1e3", "0x10", "1.0", "1,000",
		"-0", "\t1", "1\n", "x", "--1", NULL,
	};
	size_t i;

	for (i = 0; bad[i]; i++)
		reject_u64(bad[i], 0, UINT64_MAX);
}

Test(opt_u64, rejects_out_of_range)
{
	reject_u64("0", 1, 10);
	reject_u64("11", 1, 10);
	reject_u64("2001", 0, 2000);
	reject_u64("1025", 1, POOL_MAX_JOBS);
	/* 2^64 and beyond overflow instead of wrapping. */
	reject_u64("18446744073709551616", 0, UINT64_MAX);
	reject_u64("99999999999999999999999", 0, UINT64_MAX);
	reject_u64("36893488147419103232", 0, UINT64_MAX);
}

static void accept_size(const char *s, uint64_t max, uint32_t ww, uint32_t wh)
{
	uint32_t w = 0, h = 0;

	cr_assert_eq(opt_size(s, max, &w, &h), 0, "'%s' (max %llu) refused", s,
		     (unsigned long long)max);
	cr_assert_eq(w, ww, "'%s': width %u", s, w);
	cr_assert_eq(h, wh, "'%s': height %u", s, h);
}

static void reject_size(const char *s, uint64_t max)
{
	uint32_t w = 0, h = 0;

	cr_assert_eq(opt_size(s, max, &w, &h), -1, "'%s' (max %llu) accepted as %ux%u",
		     s, (unsigned long long)max, w, h);
}

Test(opt_size, accepts_w_x_h)
{
	accept_size("100x100", UINT32_MAX, 100, 100);
	accept_size("1X2", UINT32_MAX, 1, 2);
	accept_size("640x480", 1u << 24, 640, 480);
	accept_size("16777216x1", 1u << 24, 1u << 24, 1);
	accept_size("4294967295x4294967295", UINT32_MAX, UINT32_MAX, UINT32_MAX);
}

Test(opt_size, rejects_malformed)
{
	static const char *const bad[] = {
		"0x5", "5x0", "x5", "5x", "5", "5x5x5", "-1x5", "5x-1", "+5x5",
		"100 x 100", " 100x100", "100x100 ", "", "x", "5*5", "5xx5",
		"0x0", "5x+5", "5.0x5", "5x5.0", NULL,
	};
	size_t i;

	for (i = 0; bad[i]; i++)
		reject_size(bad[i], UINT32_MAX);
}

Test(opt_size, respects_max)
{
	reject_size("16777217x1", 1u << 24);
	reject_size("1x16777217", 1u << 24);
	reject_size("101x100", 100);
	accept_size("100x100", 100, 100, 100);
	reject_size("4294967296x1", UINT32_MAX);
	reject_size("99999999999999999999x1", UINT32_MAX);
}

Test(opt_choice, finds_exact_names)
{
	static const char *const names[] = { "static", "dynamic", NULL };
	static const char *const none[] = { NULL };

	cr_assert_eq(opt_choice("static", names), 0);
	cr_assert_eq(opt_choice("dynamic", names), 1);
	cr_assert_eq(opt_choice("Static", names), -1);
	cr_assert_eq(opt_choice("stat", names), -1);
	cr_assert_eq(opt_choice("dynamic ", names), -1);
	cr_assert_eq(opt_choice("", names), -1);
	cr_assert_eq(opt_choice("static", none), -1);
}

Test(opt_cpus, at_least_one)
{
	cr_assert_geq(opt_cpus(), 1);
}

Test(opt_common, parses_shared_options)
{
	struct opt_common c;

	opt_common_init(&c);
	cr_assert_geq(c.jobs, 1);
	cr_assert_eq(c.schedule, POOL_DYNAMIC, "dynamic is the default");
	cr_assert_eq(c.force + c.quiet + c.verbose, 0);
	cr_assert_eq(opt_common_parse(&c, 'j', "7", "gen"), 1);
	cr_assert_eq(c.jobs, 7);
	cr_assert_eq(opt_common_parse(&c, 'j', "1024", "gen"), 1);
	cr_assert_eq(c.jobs, POOL_MAX_JOBS);
	cr_assert_eq(opt_common_parse(&c, OPT_SCHEDULE, "static", "gen"), 1);
	cr_assert_eq(c.schedule, POOL_STATIC);
	cr_assert_eq(opt_common_parse(&c, OPT_SCHEDULE, "dynamic", "gen"), 1);
	cr_assert_eq(c.schedule, POOL_DYNAMIC);
	cr_assert_eq(opt_common_parse(&c, 'f', NULL, "gen"), 1);
	cr_assert_eq(opt_common_parse(&c, 'q', NULL, "gen"), 1);
	cr_assert_eq(opt_common_parse(&c, 'v', NULL, "gen"), 1);
	cr_assert_eq(c.force + c.quiet + c.verbose, 3);
	cr_assert_eq(opt_common_parse(&c, 'n', "5", "gen"), 0, "not a common option");
}

Test(opt_common, rejects_bad_values_with_message)
{
	struct opt_common c;
	struct ut_capture cap;
	char *err;
	int r1, r2, r3;

	opt_common_init(&c);
	c.jobs = 3;
	ut_capture_begin(&cap);
	r1 = opt_common_parse(&c, 'j', "0", "gen");
	r2 = opt_common_parse(&c, 'j', "1025", "load");
	r3 = opt_common_parse(&c, OPT_SCHEDULE, "guided", "gen");
	err = ut_capture_end(&cap);
	cr_assert_eq(r1, -1);
	cr_assert_eq(r2, -1);
	cr_assert_eq(r3, -1);
	cr_assert_eq(c.jobs, 3, "a refused --jobs changed jobs");
	cr_assert_not_null(strstr(err, "parimg: invalid --jobs '0' (1 to 1024)\n"), "%s", err);
	cr_assert_not_null(strstr(err, "Try 'parimg load --help' for more information.\n"),
			   "%s", err);
	cr_assert_not_null(strstr(err, "parimg: invalid --schedule 'guided'"), "%s", err);
	free(err);
}

Test(opt_row, parses_load_row_options)
{
	struct row_spec s = { .filter = RESIZE_BILINEAR };
	struct opt_row given = { 0 };

	cr_assert_eq(opt_row_parse(&s, &given, OPT_RESIZE, "12x9", "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_FILTER, "lanczos", "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_FIT, "contain", "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_PAD, "255", "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_DRAFT, NULL, "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, 'c', "4", "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, 't', "f8", "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_SCALE, NULL, "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_MAX_PIXELS, "99", "bench"), 1);
	cr_assert_eq(opt_row_parse(&s, &given, 'j', "2", "bench"), 0, "not a row option");
	cr_assert(s.resize && s.w == 12 && s.h == 9 && s.filter == RESIZE_LANCZOS);
	cr_assert(s.fit == RESIZE_CONTAIN && s.pad == 255 && s.draft && s.channels == 4);
	cr_assert(s.dtype == TENSOR_F8 && s.scale && s.max_pixels == 99);
	cr_assert(given.filter && given.fit && given.pad);
	cr_assert_eq(opt_row_check(&s, &given, "bench"), 0);
	cr_assert_eq(opt_row_parse(&s, &given, OPT_NO_DRAFT, NULL, "bench"), 1);
	cr_assert_eq(s.draft, 0, "--no-draft after --draft");
}

/* Each of ARGS (CH, ARG pairs) parses; then opt_row_check says MSG. */
static void row_conflict(const char *msg, int n, const int *ch, const char *const *arg)
{
	struct row_spec s = { .filter = RESIZE_BILINEAR };
	struct opt_row given = { 0 };
	struct ut_capture cap;
	char *err;
	int i, r;

	for (i = 0; i < n; i++)
		cr_assert_eq(opt_row_parse(&s, &given, ch[i], arg[i], "load"), 1);
	ut_capture_begin(&cap);
	r = opt_row_check(&s, &given, "load");
	err = ut_capture_end(&cap);
	cr_assert_eq(r, -1, "%s: accepted", msg);
	cr_assert_not_null(strstr(err, msg), "%s", err);
	free(err);
}

Test(opt_row, refuses_bad_values_and_conflicts)
{
	struct row_spec s = { .pad = 7 };
	struct opt_row given = { 0 };
	struct ut_capture cap;
	char *err;
	int r1, r2, r3;

	ut_capture_begin(&cap);
	r1 = opt_row_parse(&s, &given, OPT_PAD, "256", "bench");
	r2 = opt_row_parse(&s, &given, OPT_FILTER, "cubic", "bench");
	r3 = opt_row_parse(&s, &given, 't', "i4", "bench");
	err = ut_capture_end(&cap);
	cr_assert(r1 == -1 && r2 == -1 && r3 == -1);
	cr_assert(s.pad == 7 && !given.pad && !given.filter, "a refused value was kept");
	cr_assert_not_null(strstr(err, "parimg: invalid --pad '256' (0 to 255)\n"), "%s", err);
	cr_assert_not_null(strstr(err, "Try 'parimg bench --help'"), "%s", err);
	free(err);
	row_conflict("--filter needs --resize", 1, (int[]){ OPT_FILTER }, (const char *[]){ "box" });
	row_conflict("--draft needs --resize", 1, (int[]){ OPT_DRAFT }, (const char *[]){ NULL });
	row_conflict("--pad needs --fit contain", 2, (int[]){ OPT_RESIZE, OPT_PAD },
		     (const char *[]){ "4x4", "1" });
	row_conflict("--scale needs --dtype f4 or f8", 2, (int[]){ 't', OPT_SCALE },
		     (const char *[]){ "u2", NULL });
}

static void accept_shard(const char *s, uint64_t k, uint64_t n)
{
	struct opt_shard sh = { 99, 99 };
	struct ut_capture cap;
	char *err;
	int r;

	ut_capture_begin(&cap);
	r = opt_shard(s, &sh, "gen");
	err = ut_capture_end(&cap);
	cr_assert_eq(r, 0, "'%s' refused: %s", s, err);
	cr_assert_eq(sh.k, k, "'%s': k %llu", s, (unsigned long long)sh.k);
	cr_assert_eq(sh.n, n, "'%s': n %llu", s, (unsigned long long)sh.n);
	cr_assert_str_empty(err);
	free(err);
}

static void reject_shard(const char *s)
{
	struct opt_shard sh = { 0, 1 };
	struct ut_capture cap;
	char *err;
	int r;

	ut_capture_begin(&cap);
	r = opt_shard(s, &sh, "gen");
	err = ut_capture_end(&cap);
	cr_assert_eq(r, -1, "'%s' accepted as %llu/%llu", s, (unsigned long long)sh.k,
		     (unsigned long long)sh.n);
	cr_assert_not_null(strstr(err, "parimg: "), "no message for '%s'", s);
	cr_assert_not_null(strstr(err, "--help"), "no hint for '%s': %s", s, err);
	free(err);
}

Test(opt_shard, k_of_n)
{
	static const char *const bad[] = {
		"1/1", "4/4", "5/4", "0/0", "1/0", "-1/2", "1/-2", "/2", "1/", "1",
		"a/b", "1/2/3", "1 /2", "1/2 ", "", "0x1/2", NULL,
	};
	size_t i;

	accept_shard("0/1", 0, 1);
	accept_shard("3/4", 3, 4);
	accept_shard("0/1000", 0, 1000);
	for (i = 0; bad[i]; i++)
		reject_shard(bad[i]);
}

static void slurm_env(const char *id, const char *min, const char *count,
		      const char *step, const char *max)
{
	static const char *const names[] = {
		"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT",
		"SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_MAX",
	};
	const char *vals[] = { id, min, count, step, max };
	size_t i;

	for (i = 0; i < 5; i++) {
		if (vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	}
}

Test(opt_shard, slurm_job_array)
{
	slurm_env("5", "1", "10", NULL, NULL);
	accept_shard("slurm", 4, 10);
	slurm_env("7", "3", "3", "2", "7");
	accept_shard("slurm", 2, 3);
	slurm_env("0", "0", "1", NULL, "0");
	accept_shard("slurm", 0, 1);

	slurm_env(NULL, NULL, NULL, NULL, NULL);
	reject_shard("slurm");
	slurm_env("5", "1", NULL, NULL, NULL);
	reject_shard("slurm");
	slurm_env("0", "1", "10", NULL, NULL);	/* id below min */
	reject_shard("slurm");
	slurm_env("11", "1", "10", NULL, NULL);	/* id past the last task */
	reject_shard("slurm");
	slurm_env("4", "1", "10", "2", NULL);	/* not on the step */
	reject_shard("slurm");
	slurm_env("3", "1", "10", "0", NULL);
	reject_shard("slurm");
	slurm_env("3", "1", "10", "x", NULL);
	reject_shard("slurm");
	slurm_env("3", "1", "10", NULL, "9");	/* max != min + count - 1 */
	reject_shard("slurm");
	slurm_env("3", "1", "0", NULL, NULL);
	reject_shard("slurm");
	slurm_env("-3", "1", "10", NULL, NULL);
	reject_shard("slurm");
}

/* The row options as load parses them: --normalize makes f4 unless f8 is
 * asked for, and refuses integer types, --scale and a count off -c. */
static int row_opts(struct row_spec *s, const char *norm, int dtype, int scale, int channels)
{
	struct opt_row given = { 0 };
	struct ut_capture cap;
	int r = -1;

	memset(s, 0, sizeof(*s));
	ut_capture_begin(&cap);
	if (opt_row_parse(s, &given, OPT_NORMALIZE, norm, "load") == 1 &&
	    (dtype < 0 || opt_row_parse(s, &given, 't', tensor_dtype_names[dtype], "load") == 1)) {
		s->scale = scale;
		s->channels = channels;
		r = opt_row_check(s, &given, "load");
	}
	free(ut_capture_end(&cap));
	return r;
}

Test(opt, normalize_options)
{
	struct row_spec s;

	cr_assert_eq(row_opts(&s, "imagenet", -1, 0, 0), 0);
	cr_assert_eq(s.dtype, TENSOR_F4);
	cr_assert_eq(row_opts(&s, "imagenet", TENSOR_F8, 0, 3), 0);
	cr_assert_eq(s.dtype, TENSOR_F8);
	cr_assert_eq(row_opts(&s, "imagenet", TENSOR_U1, 0, 0), -1);
	cr_assert_eq(row_opts(&s, "imagenet", TENSOR_U2, 0, 0), -1);
	cr_assert_eq(row_opts(&s, "imagenet", TENSOR_F4, 1, 0), -1);
	cr_assert_eq(row_opts(&s, "imagenet", -1, 0, 1), -1);
	cr_assert_eq(row_opts(&s, "0.5:0.5", -1, 0, 1), 0);
	cr_assert_eq(row_opts(&s, "stats", -1, 0, 1), 0);
	cr_assert_eq(row_opts(&s, "1:0", -1, 0, 1), -1);
}
