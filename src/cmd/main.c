/* main.c - "parimg SUBCOMMAND [options]": look the subcommand up in a table,
 * run it, and check that stdout was written out (git's run_builtin). */
#include "cmd/parimg.h"
#include "engine/sig.h"
#include "common/err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;	/* one line for "parimg --help" */
};

static const struct cmd commands[] = {
	{ "gen", cmd_gen, "write N random-noise images" },
	{ "load", cmd_load, "decode images into one packed .npy file" },
	{ "convert", cmd_convert, "resize and re-encode images into a tree or webdataset shards" },
	{ "check", cmd_check, "find broken files, describe a dataset, find duplicates" },
	{ "merge", cmd_merge, "concatenate .npy parts along the first axis" },
	{ "bench", cmd_bench, "time serial against parallel runs of gen and load" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: parimg COMMAND [options]\n"
		   "       parimg --help | --version\n\n"
		   "Make and load image datasets in parallel.\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-7s  %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'parimg COMMAND --help' for a command's options; "
		   "see parimg(1).\n");
}

/* A full disk or closed pipe on stdout is a failure too. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno == EPIPE)
			return status;
		error_errno("standard output");
		return status ? status : EXIT_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return finish_stdout(EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("parimg %s\n", PARIMG_VERSION);
		return finish_stdout(EXIT_OK);
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			opterr = 0;	/* the subcommands word their own messages */
			sig_init();
			return finish_stdout(commands[i].fn(argc - 1, argv + 1));
		}
	}
	error("'%s' is not a parimg command", argv[1]);
	fprintf(stderr, "Try 'parimg --help' for more information.\n");
	return EXIT_USAGE;
}
