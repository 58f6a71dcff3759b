/* parimg.h - the subcommands, one file each, dispatched from main.c. */
#ifndef PARIMG_H
#define PARIMG_H

#define PARIMG_VERSION "0.1.0"

int cmd_gen(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif
