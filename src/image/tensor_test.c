/* tensor_test.c - unit tests of the store step (tensor.h): --normalize's
 * parsing and checks, NCHW planes, and the normalized values against the
 * float32 operations torchvision performs, written out here. */
#include "image/tensor.h"
#include "common/unit_test.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(tensor, normalize_imagenet_is_torchvisions)
{
	struct tensor_norm n;
	char why[256];

	cr_assert_eq(tensor_norm_parse("imagenet", &n, why, sizeof(why)), 0);
	cr_assert(n.on && !n.from_stats && n.n == 3);
	cr_assert_eq(n.mean[0], 0.485);
	cr_assert_eq(n.mean[2], 0.406);
	cr_assert_eq(n.std[1], 0.224);
}

Test(tensor, normalize_lists_and_stats)
{
	struct tensor_norm n;
	char why[256];

	cr_assert_eq(tensor_norm_parse("0.5:0.25", &n, why, sizeof(why)), 0);
	cr_assert(n.n == 1 && n.mean[0] == 0.5 && n.std[0] == 0.25);
	cr_assert_eq(tensor_norm_parse("1,2,3,4:5,6,7,-8", &n, why, sizeof(why)), 0);
	cr_assert(n.n == 4 && n.std[3] == -8);
	cr_assert_eq(tensor_norm_parse("stats", &n, why, sizeof(why)), 0);
	cr_assert(n.on && n.from_stats);
}

Test(tensor, normalize_refuses_bad_values)
{
	static const char *const bad[] = {
		"", ":", "0.5", "0.5:", ":0.5", "0.5,:0.5", "0.5:0.5,", "1,2:3",
		"1:0", "1,2:3,0", "1,2,3,4,5:1,1,1,1,1", "x:1", "1:1x", "nan:1", "1:inf",
		"1e999:1", " 1:1", "imagenet2", NULL,
	};
	struct tensor_norm n;
	char why[256];
	int i;

	for (i = 0; bad[i]; i++)
		cr_expect_eq(tensor_norm_parse(bad[i], &n, why, sizeof(why)), -1, "%s", bad[i]);
	tensor_norm_parse("1,2:3", &n, why, sizeof(why));
	cr_assert_str_eq(why, "2 means but 1 stds");
}

Test(tensor, normalize_check_counts_channels_and_float_zero)
{
	struct tensor_norm n;
	char why[256];

	cr_assert_eq(tensor_norm_parse("imagenet", &n, why, sizeof(why)), 0);
	cr_assert_eq(tensor_norm_check(&n, 3, 1, why, sizeof(why)), 0);
	cr_assert_eq(tensor_norm_check(&n, 1, 1, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "3 values for 1 channel");
	cr_assert_eq(tensor_norm_parse("0:1e-50", &n, why, sizeof(why)), 0);
	cr_assert_eq(tensor_norm_check(&n, 1, 0, why, sizeof(why)), 0);
	cr_assert_eq(tensor_norm_check(&n, 1, 1, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "channel 0: std is zero as a float32");
}

/* A 3 x 2 RGB image whose samples are their own index. */
static const uint8_t pix8[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };

Test(tensor, nchw_u1_planes)
{
	struct tensor_fmt s = { .channels = 3, .dtype = TENSOR_U1,
			      .layout = TENSOR_NCHW };
	uint8_t out[18];
	int c, p;

	tensor_store(&s, out, pix8, 3, 2, 0);
	for (c = 0; c < 3; c++)
		for (p = 0; p < 6; p++)
			cr_assert_eq(out[c * 6 + p], pix8[p * 3 + c]);
}

Test(tensor, nhwc_u2_as_decoded_nchw_u2_planes)
{
	uint16_t pix[8] = { 1, 2, 300, 400, 5000, 6000, 65534, 65535 }, out[8];
	struct tensor_fmt s = { .channels = 2, .dtype = TENSOR_U2 };

	tensor_store(&s, out, pix, 2, 2, 1);
	cr_assert_arr_eq(out, pix, sizeof(out));
	s.layout = TENSOR_NCHW;
	tensor_store(&s, out, pix, 2, 2, 1);
	cr_assert(out[0] == 1 && out[1] == 300 && out[3] == 65534 && out[4] == 2 && out[7] == 65535);
}

Test(tensor, scaled_f4_nchw_is_value_over_255)
{
	struct tensor_fmt s = { .channels = 3, .dtype = TENSOR_F4, .scale = 1,
			      .layout = TENSOR_NCHW };
	float out[18];
	int c, p;

	tensor_store(&s, out, pix8, 3, 2, 0);
	for (c = 0; c < 3; c++)
		for (p = 0; p < 6; p++)
			cr_assert_eq(out[c * 6 + p], (float)pix8[p * 3 + c] / 255.0f);
}

Test(tensor, plain_floats_every_value)
{
	struct tensor_fmt s = { .channels = 1 };
	static uint8_t pix[256];
	static float f[256];
	static double d[256];
	int v, scale;

	for (v = 0; v < 256; v++)
		pix[v] = (uint8_t)v;
	for (scale = 0; scale < 2; scale++) {
		s.scale = scale;
		s.dtype = TENSOR_F4;
		tensor_store(&s, f, pix, 256, 1, 0);
		s.dtype = TENSOR_F8;
		tensor_store(&s, d, pix, 256, 1, 0);
		for (v = 0; v < 256; v++) {
			cr_assert_eq(f[v], scale ? (float)v / 255.0f : (float)v);
			cr_assert_eq(d[v], scale ? v / 255.0 : v);
		}
	}
}

/* What torch computes for one sample, operation by operation: ToTensor's
 * img.float().div(255), Normalize's sub_(mean) then div_(std), in float32
 * (volatile: each result rounded to float, whatever the compiler does). */
static float torch_f4(unsigned v, double mean, double std)
{
	volatile float x = (float)v, m = (float)mean, sd = (float)std;

	x = x / 255.0f;
	x = x - m;
	x = x / sd;
	return x;
}

Test(tensor, normalize_f4_every_value_both_layouts)
{
	struct tensor_norm norm = { 0 };
	struct tensor_fmt s = { .channels = 3, .dtype = TENSOR_F4, .norm = &norm };
	static uint8_t pix[256 * 3];
	static float out[256 * 3];
	char why[256];
	int v, c, nchw;

	cr_assert_eq(tensor_norm_parse("imagenet", &norm, why, sizeof(why)), 0);
	for (v = 0; v < 256; v++)
		for (c = 0; c < 3; c++)
			pix[v * 3 + c] = (uint8_t)(c == 1 ? 255 - v : v);
	for (nchw = 0; nchw < 2; nchw++) {
		s.layout = nchw ? TENSOR_NCHW : TENSOR_NHWC;
		tensor_store(&s, out, pix, 256, 1, 0);
		for (v = 0; v < 256; v++)
			for (c = 0; c < 3; c++) {
				float want = torch_f4(pix[v * 3 + c], norm.mean[c], norm.std[c]);
				float got = out[nchw ? c * 256 + v : v * 3 + c];

				cr_assert(memcmp(&got, &want, sizeof(got)) == 0,
					  "value %d channel %d: %.9g, want %.9g", v, c, got, want);
			}
	}
}

Test(tensor, normalize_f8_in_double)
{
	struct tensor_norm norm = { 0 };
	struct tensor_fmt s = { .channels = 1, .dtype = TENSOR_F8, .layout = TENSOR_NCHW,
				.norm = &norm };
	uint8_t pix[6] = { 0, 1, 127, 128, 254, 255 };
	double out[6];
	char why[256];
	int k;

	cr_assert_eq(tensor_norm_parse("0.3:0.7", &norm, why, sizeof(why)), 0);
	tensor_store(&s, out, pix, 6, 1, 0);
	for (k = 0; k < 6; k++) {
		volatile double x = pix[k] / 255.0;

		x = x - 0.3;
		cr_assert_eq(out[k], x / 0.7);
	}
}
