/* convert_test.c - unit tests of convert's shard names (convert.h): the
 * pattern's one %d with its flag and width, %s for a part, %% as %, and
 * every other shape refused rather than handed to printf. */
#include "cmd/convert.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void is(const char *pattern, const char *part, uint64_t k, const char *want)
{
	char *got = convert_shard_name(pattern, part, k);

	if (!want) {
		cr_assert_null(got, "%s gave %s", pattern, got);
		return;
	}
	cr_assert_not_null(got, "%s refused", pattern);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(convert, shard_names)
{
	is("out/train-%06d.tar", NULL, 42, "out/train-000042.tar");
	is("%d.tar", NULL, 1234567, "1234567.tar");
	is("a%%b-%3d.tar", NULL, 7, "a%b-  7.tar");
	is("out/%s-%04d.tar", "val", 3, "out/val-0003.tar");
	is("%05d/%s.tar", "train", 12, "00012/train.tar");
}

Test(convert, shard_names_refused)
{
	is("out/train.tar", NULL, 0, NULL);		/* no %d */
	is("%d-%d.tar", NULL, 0, NULL);			/* two */
	is("%s-%d.tar", NULL, 0, NULL);			/* %s without --split */
	is("%d.tar", "train", 0, NULL);			/* --split without %s */
	is("%s-%s-%d.tar", "a", 0, NULL);
	is("%x.tar", NULL, 0, NULL);
	is("%n%d.tar", NULL, 0, NULL);
	is("%-5d.tar", NULL, 0, NULL);
	is("%999d.tar", NULL, 0, NULL);
	is("%d.tar%", NULL, 0, NULL);
}
