/* SPDX-License-Identifier: MIT */
/* The CLI side of the option tables (include/vigia/options.h): getopt_long
 * arrays built from the rows, the parse loop, and --help. */
#ifndef VIGIA_CLI_OPTS_H
#define VIGIA_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "vigia/options.h"

#define CLI_MAX_TABLES 3

/* Rows and the struct they fill. */
struct cli_table {
    const vg_opt *rows;
    size_t n;
    void *base;
};

/* One option as given, in command-line order. */
struct cli_seen {
    const vg_opt *opt;
    const char *arg;
};

struct cli_opts {
    struct cli_table tab[CLI_MAX_TABLES];
    int ntab;
    vg_optstore store;          /* what parsed values point into */
    struct cli_seen *seen;      /* every option given (malloc'ed) */
    size_t nseen;
    int first_operand;          /* argv index after the parse */
    bool stopped;               /* a VG_OPTF_STOP row (--help) ended the parse */
};

void cli_opts_add(struct cli_opts *p, const vg_opt *rows, size_t n, void *base);

/* Parses argv[1..argc) with every table. Returns 0; a negative vg_rc with
 * "unknown option '--x'" or the row's message in err; or a positive status
 * a callback returned. */
int cli_opts_parse(struct cli_opts *p, int argc, char **argv, vg_error *err);

/* Whether the row with this long name was given. */
bool cli_opts_given(const struct cli_opts *p, const char *name);

/* --help lines of every table, in order. */
void cli_opts_help(FILE *fp, const struct cli_opts *p, int width);

void cli_opts_free(struct cli_opts *p);

#endif
