/* check_report.c - "parimg check"'s report of what check.c summarized: a
 * table for people, JSON for scripts (its keys fixed, see parimg(1)), CSV
 * with one row a file, or the broken paths alone. Every path and reason is
 * printed made printable, except the raw paths of --list-broken -0. */
#include "cmd/check.h"
#include "image/resize.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The formats, as the decoders name themselves (codec_name), and the file
 * name extensions that belong to each; "other" for a decoder added to
 * codec.c's table and not yet to this list. */
const char *const check_format_names[] = { "JPEG", "PNG", "WebP", "GIF", "BMP", "TGA", "PNM",
					   "TIFF", "JPEG2000", "HEIF", "AVIF", "JXL", "SGI", "ICO",
					   "other", NULL };
static const char *const format_exts[] = { "jpg jpeg", "png", "webp", "gif", "bmp dib", "tga",
					   "pgm ppm pnm", "tif tiff", "jp2 j2k j2c jpc jpf jpx",
					   "heic heif hif", "avif", "jxl", "sgi rgb rgba bw",
					   "ico", "" };
const char *const check_mode_names[] = { "gray", "gray+alpha", "RGB", "RGBA", "palette",
					 "CMYK", "16-bit" };

enum mode check_mode_of(const struct check_rec *r)
{
	if (r->flags & F_PALETTE)
		return MODE_PALETTE;
	if (r->flags & F_CMYK)
		return MODE_CMYK;
	if (r->flags & F_16BIT)
		return MODE_16BIT;
	return (enum mode)(MODE_GRAY + r->channels - 1);
}

/* Whether PATH's extension is one of FORMAT's, or none that says a format:
 * a file "load DIR" would not pick up by name raises no note. */
static int name_fits(const char *path, int format)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	char ext[8];
	int k;

	if (!dot || (slash && dot < slash) || strlen(dot + 1) >= sizeof(ext) - 1)
		return 1;
	for (k = 0; dot[1 + k]; k++)
		ext[k] = (char)(dot[1 + k] | 0x20);
	ext[k] = '\0';
	if (!filelist_is_image_name(path))
		return 1;
	for (k = 0; k < FORMAT_OTHER; k++) {
		const char *e = format_exts[k];
		size_t n = strlen(ext);

		while ((e = strstr(e, ext))) {
			if ((e == format_exts[k] || e[-1] == ' ') && (e[n] == ' ' || e[n] == '\0'))
				return k == format;
			e += n;
		}
	}
	return 1;
}

static int class_small(const struct check_summary *s, size_t c)
{
	return s->class_n[c] && (double)s->class_n[c] * SMALL_CLASS_DIVISOR < s->class_median;
}

/* S made printable (err_printable), in one of two rotating buffers. */
static const char *pr(const char *s)
{
	static char buf[2][8192];
	static int n;

	n = !n;
	err_printable(buf[n], sizeof(buf[n]), s);
	return buf[n];
}

const char *check_printable(const char *s)
{
	return pr(s);
}

/* "PNG data in a .jpg file", for a file whose name says another format. */
static const char *note_of(const struct check *k, size_t i)
{
	static char note[128];
	const struct check_rec *r = &k->recs[i];

	if (k->reasons[i] || name_fits(k->files.paths[i], r->format))
		return NULL;
	snprintf(note, sizeof(note), "%s data in a .%s file (load reads it as %s)",
		 check_format_names[r->format], pr(strrchr(k->files.paths[i], '.') + 1),
		 check_format_names[r->format]);
	return note;
}

static int cross_class(const struct check *k, size_t g)
{
	size_t i;
	int64_t label = -1;

	if (!k->labels)
		return 0;
	for (i = 0; i < k->files.n; i++) {
		if (k->sum.group[i] != g)
			continue;
		if (label >= 0 && k->ds.labels[i] != label)
			return 1;
		label = k->ds.labels[i];
	}
	return 0;
}

static const char *fmt_med(double v)
{
	static char buf[2][32];
	static int n;

	n = !n;
	snprintf(buf[n], sizeof(buf[n]), v == (double)(long long)v ? "%.0f" : "%.1f", v);
	return buf[n];
}

static void print_load_table(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	const struct row_spec *sp = &k->spec;

	printf("\nwhat load would do (%d channel%s%s):\n", s->channels,
	       s->channels > 1 ? "s" : "", sp->channels ? ""
	       : s->channels == 3 ? ", load's choice: some images are colour"
	       : ", load's choice: every image is gray");
	printf("  %-28s %8zu\n", "converted from CMYK", s->from_cmyk);
	printf("  %-28s %8zu\n", "palette expanded", s->from_palette);
	printf("  %-28s %8zu\n", "colour made gray", s->to_gray);
	printf("  %-28s %8zu\n", "gray made colour", s->to_colour);
	printf("  %-28s %8zu\n", "alpha dropped", s->alpha_dropped);
	printf("  %-28s %8zu\n", "alpha added (opaque)", s->alpha_added);
	printf("  %-28s %8zu\n", "16-bit to 8-bit (u1)", s->to8);
	if (sp->resize) {
		printf("  resized to %ux%u, --fit %s:\n", sp->w, sp->h, resize_fit_names[sp->fit]);
		printf("  %-28s %8zu\n", "upscaled", s->upscaled);
		printf("  %-28s %8zu\n", "downscaled", s->downscaled);
		printf("  %-28s %8zu\n", "already that size", s->same_size);
		if (sp->fit == RESIZE_COVER)
			printf("  %-28s %8zu\n", "cropped", s->cropped);
		if (sp->fit == RESIZE_CONTAIN)
			printf("  %-28s %8zu\n", "padded", s->padded);
		if (sp->fit == RESIZE_STRETCH)
			printf("  %-28s %8zu\n", "aspect ratio changed", s->aspect);
	} else {
		printf("  %-28s %8zu%s\n", "size differs from the first", s->size_differs,
		       s->size_differs ? " (load refuses them without --resize)" : "");
	}
}

/* -c's channel statistics, on the [0,1] scale, as load --stats gives them. */
static void print_stats_table(const struct chanstats *cs)
{
	static const char *const what[] = { "mean", "std", "min", "max" };
	const double *v[] = { cs->mean, cs->std, cs->min, cs->max };
	int i, ch;

	printf("\nchannel statistics ([0,1], as load --stats):\n  %-8s", "channel");
	for (ch = 0; ch < cs->channels; ch++)
		printf(" %10d", ch);
	putchar('\n');
	for (i = 0; i < 4; i++) {
		printf("  %-8s", what[i]);
		for (ch = 0; ch < cs->channels; ch++)
			printf(" %10.6f", v[i][ch]);
		putchar('\n');
	}
}

/* The same as JSON: null without -c. Numbers round-trip (%.17g). */
static void json_stats(const struct check *k)
{
	const struct chanstats *cs = &k->cstats;
	static const char *const what[] = { "mean", "std", "min", "max" };
	const double *v[] = { cs->mean, cs->std, cs->min, cs->max };
	int i, ch;

	if (!k->have_cstats) {
		printf("null");
		return;
	}
	printf("{\"channels\":%d,\"pixels\":%llu", cs->channels,
	       (unsigned long long)cs->acc.pixels);
	for (i = 0; i < 4; i++) {
		printf(",\"%s\":[", what[i]);
		for (ch = 0; ch < cs->channels; ch++)
			printf("%s%.17g", ch ? "," : "", v[i][ch]);
		putchar(']');
	}
	putchar('}');
}

static void print_table(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	size_t i, g, c;
	int f, first;

	printf("parimg check: %zu file%s, %zu image%s decoded, %zu broken\n", k->files.n,
	       k->files.n == 1 ? "" : "s", s->ok, s->ok == 1 ? "" : "s", s->broken);
	if (k->lo.table)
		printf("labels table %s: %zu problem%s%s\n", pr(k->lo.table), k->table_problems,
		       k->table_problems == 1 ? "" : "s", k->table_problems
		       ? " matching its rows to the images (listed on stderr)"
		       : ": one row for each image");
	if (s->broken) {
		printf("\nbroken:\n");
		for (i = 0; i < k->files.n; i++)
			if (k->reasons[i])
				printf("%s: %s\n", pr(k->files.paths[i]), pr(k->reasons[i]));
	}
	for (first = 1, i = 0; i < k->files.n; i++) {
		const char *note = note_of(k, i);

		if (!note)
			continue;
		if (first)
			printf("\nnotes:\n");
		first = 0;
		printf("%s: note: %s\n", pr(k->files.paths[i]), note);
	}
	printf("\n%-30s %8s\n", "format", "images");
	for (f = 0; f < NFORMATS; f++)
		if (s->format[f])
			printf("  %-28s %8zu\n", check_format_names[f], s->format[f]);
	printf("%-30s %8s\n", "mode", "images");
	for (f = 0; f < NMODES; f++)
		if (s->mode[f])
			printf("  %-28s %8zu\n", check_mode_names[f], s->mode[f]);
	printf("  %-28s %8zu\n", "animated (first frame read)", s->animated);
	printf("  %-28s %8zu\n", "EXIF orientation not 1", s->rotated);
	if (s->have_size) {
		printf("%-30s %8s %8s %8s\n", "size", "min", "median", "max");
		printf("  %-28s %8d %8s %8d\n", "width", s->wmin, fmt_med(s->wmed), s->wmax);
		printf("  %-28s %8d %8s %8d\n", "height", s->hmin, fmt_med(s->hmed), s->hmax);
	}
	if (k->labels) {
		printf("%-30s %8s %8s\n", "class", "images", "broken");
		for (c = 0; c < k->ds.nclasses; c++)
			printf("  %-28s %8zu %8zu%s\n", pr(k->ds.classes[c]), s->class_n[c],
			       s->class_broken[c], !s->class_n[c] ? "  EMPTY"
			       : class_small(s, c) ? "  SMALL" : "");
	}
	if (k->spec.channels || k->spec.resize)
		print_load_table(k);
	if (k->have_cstats)
		print_stats_table(&k->cstats);
	check_leaks_table(k);
	if (k->near)
		check_near_table(k);
	if (k->quality)
		check_quality_table(k);
	if (k->no_dups)
		return;
	check_pixels_table(k);
	printf("\nduplicates: %zu group%s\n", s->ngroups, s->ngroups == 1 ? "" : "s");
	for (g = 1; g <= s->ngroups; g++) {
		printf("group %zu%s:\n", g, cross_class(k, g) ? " (across classes)" : "");
		for (i = 0; i < k->files.n; i++)
			if (s->group[i] == g)
				printf("  %s\n", pr(k->files.paths[i]));
	}
}

/* S (made printable) as a JSON string. */
static void json_str(const char *s)
{
	const char *p = pr(s);

	putchar('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
	putchar('"');
}

void check_json_str(const char *s)
{
	json_str(s);
}

static void json_count_map(const char *const *names, const size_t *n, int count)
{
	int f;

	putchar('{');
	for (f = 0; f < count; f++) {
		printf("%s", f ? "," : "");
		json_str(names[f]);
		printf(":%zu", n[f]);
	}
	putchar('}');
}

static void json_load(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	const struct row_spec *sp = &k->spec;

	if (!sp->channels && !sp->resize) {
		printf("null");
		return;
	}
	printf("{\"channels\":%d,\"from_cmyk\":%zu,\"palette_expanded\":%zu,\"colour_to_gray\":%zu,"
	       "\"gray_to_colour\":%zu,\"alpha_dropped\":%zu,\"alpha_added\":%zu,"
	       "\"depth_16_to_8\":%zu,", s->channels, s->from_cmyk, s->from_palette, s->to_gray,
	       s->to_colour, s->alpha_dropped, s->alpha_added, s->to8);
	if (sp->resize)
		printf("\"resize\":{\"width\":%u,\"height\":%u,\"fit\":\"%s\",\"upscaled\":%zu,"
		       "\"downscaled\":%zu,\"same_size\":%zu,\"cropped\":%zu,\"padded\":%zu,"
		       "\"aspect_changed\":%zu},\"size_differs\":null}", sp->w, sp->h,
		       resize_fit_names[sp->fit], s->upscaled, s->downscaled, s->same_size,
		       s->cropped, s->padded, s->aspect);
	else
		printf("\"resize\":null,\"size_differs\":%zu}", s->size_differs);
}

static void print_json(const struct check *k)
{
	const struct check_summary *s = &k->sum;
	size_t i, g, c;
	int first;

	printf("{\"files\":%zu,\"images\":%zu,\"broken\":%zu,", k->files.n, s->ok, s->broken);
	if (k->lo.table) {
		printf("\"labels_table\":");
		json_str(k->lo.table);
		printf(",\"table_problems\":%zu,", k->table_problems);
	}
	printf("\"broken_files\":[");
	for (first = 1, i = 0; i < k->files.n; i++) {
		if (!k->reasons[i])
			continue;
		printf("%s{\"path\":", first ? "" : ",");
		json_str(k->files.paths[i]);
		printf(",\"reason\":");
		json_str(k->reasons[i]);
		putchar('}');
		first = 0;
	}
	printf("],\"notes\":[");
	for (first = 1, i = 0; i < k->files.n; i++) {
		const char *note = note_of(k, i);

		if (!note)
			continue;
		printf("%s{\"path\":", first ? "" : ",");
		json_str(k->files.paths[i]);
		printf(",\"note\":");
		json_str(note);
		putchar('}');
		first = 0;
	}
	printf("],\"formats\":");
	json_count_map(check_format_names, s->format, NFORMATS);
	printf(",\"modes\":");
	json_count_map(check_mode_names, s->mode, NMODES);
	printf(",\"animated\":%zu,\"orientation_not_1\":%zu,", s->animated, s->rotated);
	if (s->have_size)
		printf("\"width\":{\"min\":%d,\"median\":%s,\"max\":%d},"
		       "\"height\":{\"min\":%d,\"median\":%s,\"max\":%d},", s->wmin, fmt_med(s->wmed),
		       s->wmax, s->hmin, fmt_med(s->hmed), s->hmax);
	else
		printf("\"width\":null,\"height\":null,");
	printf("\"classes\":");
	if (!k->labels) {
		printf("null");
	} else {
		putchar('[');
		for (c = 0; c < k->ds.nclasses; c++) {
			printf("%s{\"name\":", c ? "," : "");
			json_str(k->ds.classes[c]);
			printf(",\"images\":%zu,\"broken\":%zu,\"empty\":%s,\"small\":%s}",
			       s->class_n[c], s->class_broken[c], s->class_n[c] ? "false" : "true",
			       class_small(s, c) ? "true" : "false");
		}
		putchar(']');
	}
	printf(",\"duplicates\":");
	if (k->no_dups) {
		printf("null");
	} else {
		putchar('[');
		for (g = 1; g <= s->ngroups; g++) {
			printf("%s{\"cross_class\":%s,\"paths\":[", g > 1 ? "," : "",
			       cross_class(k, g) ? "true" : "false");
			for (first = 1, i = 0; i < k->files.n; i++) {
				if (s->group[i] != g)
					continue;
				printf("%s", first ? "" : ",");
				json_str(k->files.paths[i]);
				first = 0;
			}
			printf("]}");
		}
		putchar(']');
	}
	printf(",\"pixel_duplicates\":");
	check_pixels_json(k);
	printf(",\"near_duplicates\":");
	check_near_json(k);
	printf(",\"leaks\":");
	check_leaks_json(k);
	printf(",\"flagged\":");
	check_quality_json(k);
	printf(",\"load\":");
	json_load(k);
	printf(",\"channel_stats\":");
	json_stats(k);
	printf("}\n");
}

/* S (made printable) as a CSV field, quoted. */
static void csv_str(const char *s)
{
	const char *p = pr(s);

	putchar('"');
	for (; *p; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

static void print_csv(const struct check *k)
{
	size_t i;

	printf("path,class,status,format,mode,width,height,animated,orientation,bytes,"
	       "duplicate_group,reason,pixel_group,near_group,dhash,phash,flags,brightness,blurriness,"
	       "grayscale_std,entropy\n");
	for (i = 0; i < k->files.n; i++) {
		const struct check_rec *r = &k->recs[i];
		const char *note = note_of(k, i);

		csv_str(k->files.paths[i]);
		putchar(',');
		if (k->labels)
			csv_str(k->ds.classes[k->ds.labels[i]]);
		if (k->reasons[i]) {
			printf(",broken,,,,,,,%llu,", (unsigned long long)r->size);
		} else {
			printf(",ok,%s,%s,%d,%d,%d,%d,%llu,", check_format_names[r->format],
			       check_mode_names[check_mode_of(r)], r->w, r->h, (r->flags & F_ANIMATED) != 0,
			       r->orientation, (unsigned long long)r->size);
		}
		if (!k->no_dups && k->sum.group[i])
			printf("%zu", k->sum.group[i]);
		putchar(',');
		if (k->reasons[i])
			csv_str(k->reasons[i]);
		else if (note)
			csv_str(note);
		putchar(',');
		if (!k->no_dups && k->sum.pix_group[i])
			printf("%zu", k->sum.pix_group[i]);
		check_near_csv(k, i);
		check_quality_csv(k, i);
		putchar('\n');
	}
}

/* Whether file I is one --list prints; SEEN marks the groups whose first
 * member (in row order: the files are walked in it) has gone by. */
static int listed(const struct check *k, size_t i, unsigned char *seen)
{
	const size_t *g = NULL;

	switch (k->list) {
	case LIST_BROKEN:
		return k->reasons[i] != NULL;
	case LIST_LEAKS:
		return k->leak_kind && k->leak_kind[i] >= 0;
	case LIST_FLAGGED:
		return k->sum.qflags && k->sum.qflags[i];
	case LIST_DUPLICATES:
		g = k->sum.group;
		break;
	case LIST_PIXEL:
		g = k->sum.pix_group;
		break;
	case LIST_NEAR:
		g = k->sum.near_group;
		break;
	case LIST_NONE:
		return 0;
	}
	if (!g || !g[i])
		return 0;
	if (!seen[g[i]]) {
		seen[g[i]] = 1;
		return 0;
	}
	return 1;
}

/* --list KIND: the paths alone, escaped one a line, or as they are with
 * -0 (a NUL can be in no path). */
static void print_list(const struct check *k)
{
	size_t n = k->list == LIST_DUPLICATES ? k->sum.ngroups
		   : k->list == LIST_PIXEL ? k->sum.pix_ngroups
		   : k->list == LIST_NEAR ? k->sum.near_ngroups : 0;
	unsigned char *seen = calloc(n + 1, 1);
	size_t i;

	if (!seen)
		die("out of memory");
	for (i = 0; i < k->files.n; i++) {
		if (!listed(k, i, seen))
			continue;
		if (k->nul)
			fwrite(k->files.paths[i], 1, strlen(k->files.paths[i]) + 1, stdout);
		else
			printf("%s\n", pr(k->files.paths[i]));
	}
	free(seen);
}

void check_report(const struct check *k)
{
	if (k->list)
		print_list(k);
	else if (k->format == FMT_JSON)
		print_json(k);
	else if (k->format == FMT_CSV)
		print_csv(k);
	else
		print_table(k);
}
