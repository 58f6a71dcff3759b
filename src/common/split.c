/* split.c - parsing "--split", the size of each part, and the names of the
 * files a part is written to. The sizes use the same double arithmetic as
 * Keras's int(validation_split * len(samples)), so a split of N rows into
 * train and val cuts where Keras cuts. */
#define _GNU_SOURCE
#include "common/split.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const default_names[] = { "train", "val", "test" };

/* A fraction in (0, 1] from the whole of S. */
static int parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || strchr("+- \t", *s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0) || v > 1)
		return -1;
	*out = v;
	return 0;
}

static int valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SPLIT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", s[i]))
			return 0;
	return 1;
}

/* One "NAME=FRACTION" or "FRACTION" item into part I; *NAMED says which. */
static int parse_item(char *item, struct split *sp, int i, int *named)
{
	char *eq = strchr(item, '=');

	if (*named == -1)
		*named = eq != NULL;
	if ((eq != NULL) != *named)
		return -1;	/* named and bare mixed */
	if (!eq)
		return parse_fraction(item, &sp->frac[i]);
	if (!valid_name(item, (size_t)(eq - item)))
		return -1;
	memcpy(sp->name[i], item, (size_t)(eq - item));
	sp->name[i][eq - item] = '\0';
	return parse_fraction(eq + 1, &sp->frac[i]);
}

int split_parse(const char *s, struct split *sp)
{
	char copy[1024], *p = copy, *comma;
	double sum = 0;
	int i, j, named = -1;

	memset(sp, 0, sizeof(*sp));
	if (strlen(s) >= sizeof(copy))
		return -1;
	strcpy(copy, s);
	for (;;) {
		if ((comma = strchr(p, ',')))
			*comma = '\0';
		if (sp->n == SPLIT_MAX || parse_item(p, sp, sp->n, &named) < 0)
			return -1;
		sum += sp->frac[sp->n++];
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!named) {
		if (sp->n < 2 || sp->n > 3)
			return -1;
		for (i = 0; i < sp->n; i++)
			strcpy(sp->name[i], default_names[i]);
	}
	for (i = 0; i < sp->n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(sp->name[i], sp->name[j]) == 0)
				return -1;
	if (sp->n < 2 || fabs(sum - 1) > 1e-9)
		return -1;
	return 0;
}

void split_sizes(const struct split *sp, size_t n, size_t *sizes)
{
	size_t rest = n;
	int i;

	for (i = sp->n - 1; i > 0; i--) {
		double v = floor(sp->frac[i] * (double)n);

		sizes[i] = v < (double)rest ? (size_t)v : rest;
		rest -= sizes[i];
	}
	sizes[0] = rest;
}

char *split_path(const char *path, const char *name)
{
	const char *base = strrchr(path, '/'), *dot;
	char *out;
	int len;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	len = (int)(dot - path);
	if (asprintf(&out, "%.*s.%s%s", len, path, name, dot) < 0)
		return NULL;
	return out;
}
