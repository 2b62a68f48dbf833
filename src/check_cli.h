/* SPDX-License-Identifier: MIT */
/* `vigia check`'s state shared by the command (cmd_check.c) and its
 * outputs (check_outputs.c): the parsed command line, the outputs and what
 * happened to them, and the run's summary. */
#ifndef VIGIA_CHECK_CLI_H
#define VIGIA_CHECK_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_opts.h"
#include "vigia/check.h"
#include "vigia/options.h"
#include "vigia/output.h"

enum {
    EXIT_CHECK_OK = 0,
    EXIT_CHECK_WARNING = 1,
    EXIT_CHECK_CRITICAL = 2,
    EXIT_CHECK_UNKNOWN = 3, /* also usage errors */
    EXIT_CHECK_WAIT_TIMEOUT = 124,
    EXIT_CHECK_EXEC_FAILED = 127,
};

#define MAX_OUTPUTS 8

struct out_spec {
    vg_output *out;
    FILE *fp;
    bool is_stdout;
    bool owns_fp;
    const char *path;
    char *tmp_path;             /* openmetrics=FILE: written here, then renamed */
};

struct check_cli {
    vg_check_opts opts;
    unsigned concurrency;
    bool wait;
    uint64_t wait_timeout_ms;   /* --timeout in --wait mode */
    uint64_t check_timeout_ms;  /* per attempt in --wait mode */
    bool have_timeout;
    uint64_t interval_ms;
    char **targets;
    int ntargets;
    char **cmd;                 /* after --, for --wait */
    struct out_spec outs[MAX_OUTPUTS];
    int nouts;
    int verbose;
    bool quiet;
    bool stdout_broken;
    bool io_error;
    vg_check_summary sum;
    struct cli_opts parser;     /* the options given; values point into it */
    /* --- -f checks files, --watch ------------------------------------------ */
    const char *file;           /* -f FILE */
    uint64_t watch_ms;          /* --watch INTERVAL; 0: off */
    vg_check_list *list;        /* with -f: the checks, and ... */
    const char **names;         /* ... per check its name, ... */
    vg_check_opts **item_opts;  /* ... and options (NULL: &opts for all) */
};

/* --- check_opts.c: the command line and -f -------------------------------- */

/* "vigia check: MESSAGE (try 'vigia check --help')" on stderr; returns
 * EXIT_CHECK_UNKNOWN. */
__attribute__((format(printf, 1, 2))) int check_usage_error(const char *fmt, ...);
/* Fills c from argv (c->opts defaulted first). Returns 0, -1 after
 * --help, or an exit status. */
int check_parse_args(struct check_cli *c, int argc, char **argv);
/* -f FILE: loads the checks into c->targets, names and item_opts; 0 or an
 * exit status (the message is printed). */
int check_load_file(struct check_cli *c);
void check_free_file(struct check_cli *c);

/* --- check_outputs.c: opening and feeding the -o outputs ------------------- */

/* Opens every output's file (stdout for none or '-'); an exit status on failure. */
int open_outputs(struct check_cli *c);
/* Writing o failed: a broken stdout is noted, a file is named once on stderr. */
void output_failed(struct check_cli *c, struct out_spec *o);
/* One record to every output that still works, flushed. */
void emit_result(struct check_cli *c, const vg_check_result *r);
/* Notices a stdout whose reader went away. */
void watch_stdout(struct check_cli *c);
void begin_outputs(struct check_cli *c, const char *mode);
/* The summary to every output (with --watch, not openmetrics: it wrote each round). */
void end_outputs(struct check_cli *c);

/* openmetrics=FILE, written atomically. */
bool is_om(const struct out_spec *o);
/* After a --watch round: each openmetrics output writes the round's records. */
void om_round(struct check_cli *c);
/* A run that ended early leaves no FILE.tmp behind. */
void om_cleanup(struct check_cli *c);

#endif
