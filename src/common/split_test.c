/* split_test.c - unit tests of load --split's pieces (split.h): what
 * split_parse accepts, the sizes against Keras's arithmetic, the names. */
#include "common/split.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(split_parse, named_and_bare)
{
	struct split sp;

	cr_assert_eq(split_parse("train=0.9,val=0.1", &sp), 0);
	cr_assert_eq(sp.n, 2);
	cr_assert_str_eq(sp.name[0], "train");
	cr_assert_str_eq(sp.name[1], "val");
	cr_assert_eq(sp.frac[1], 0.1);
	cr_assert_eq(split_parse("0.8,0.1,0.1", &sp), 0);
	cr_assert_eq(sp.n, 3);
	cr_assert_str_eq(sp.name[2], "test");
	cr_assert_eq(split_parse("a=.25,B_2=0.25,c-3=0.5", &sp), 0);
	cr_assert_str_eq(sp.name[1], "B_2");
	cr_assert_eq(split_parse("a=0.125,b=0.125,c=0.125,d=0.125,e=0.125,f=0.125,g=0.125,h=0.125",
				 &sp), 0);
	cr_assert_eq(sp.n, 8);
}

Test(split_parse, refusals)
{
	static const char *const bad[] = {
		"", "0.9", "1", "x=1", "0.5,0.6", "0.5,0.4", "0,1", "a=0.5,a=0.5", "a=0.5,0.5",
		"a b=0.5,c=0.5", "=0.5,b=0.5", "a.b=0.5,c=0.5", "0.5,,0.5", "0.5,0.5,",
		"0.25,0.25,0.25,0.25", "-0.5,1.5", "+0.5,0.5", " 0.5,0.5", "nan,0.5", "inf,0",
		"0.5x,0.5", "1e-1,0.9x", "a=0.5,b", "abcdefghijklmnopqrstuvwxyzabcdef=0.5,b=0.5",
		"a=0.1,b=0.1,c=0.1,d=0.1,e=0.1,f=0.1,g=0.1,h=0.1,i=0.2", NULL,
	};
	struct split sp;
	size_t i;

	for (i = 0; bad[i]; i++)
		cr_assert_eq(split_parse(bad[i], &sp), -1, "'%s' accepted", bad[i]);
}

/* Keras: num_val = int(validation_split * n); training the rest, first. */
Test(split_sizes, keras_validation_split)
{
	static const double fracs[] = { 0.1, 0.2, 0.25, 0.29, 0.3, 0.5, 0.7, 0.9 };
	struct split sp = { .n = 2 };
	size_t sizes[2], n, k;

	for (k = 0; k < sizeof(fracs) / sizeof(fracs[0]); k++) {
		sp.frac[1] = fracs[k];
		sp.frac[0] = 1 - fracs[k];
		for (n = 0; n < 1000; n++) {
			size_t val = (size_t)(fracs[k] * (double)n);

			split_sizes(&sp, n, sizes);
			cr_assert(sizes[1] == val && sizes[0] == n - val, "%g of %zu: %zu+%zu",
				  fracs[k], n, sizes[0], sizes[1]);
		}
	}
	/* 0.29 * 100 is 28.999999999999996 in double, as in Python: 28. */
	sp.frac[1] = 0.29;
	split_sizes(&sp, 100, sizes);
	cr_assert_eq(sizes[1], 28);
}

Test(split_sizes, three_parts_cover_all)
{
	struct split sp;
	size_t sizes[3], n;

	cr_assert_eq(split_parse("0.7,0.2,0.1", &sp), 0);
	for (n = 0; n < 500; n++) {
		split_sizes(&sp, n, sizes);
		cr_assert_eq(sizes[0] + sizes[1] + sizes[2], n);
		cr_assert_eq(sizes[1], (size_t)floor(0.2 * (double)n));
		cr_assert_eq(sizes[2], (size_t)floor(0.1 * (double)n));
	}
}

Test(split_path, name_before_the_extension)
{
	static const char *const cases[][2] = {
		{ "x.npy", "x.train.npy" }, { "dir/x.npy", "dir/x.train.npy" },
		{ "a.b/x", "a.b/x.train" }, { "rows", "rows.train" }, { ".hidden", ".hidden.train" },
		{ "d/.h.npy", "d/.h.train.npy" }, { "x.tar.gz", "x.tar.train.gz" },
		{ "/abs/y.npy", "/abs/y.train.npy" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = split_path(cases[i][0], "train");

		cr_assert_str_eq(p, cases[i][1]);
		free(p);
	}
}
