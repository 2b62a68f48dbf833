/* SPDX-License-Identifier: MIT */
/* The state of one `vigia scan` run, shared by the command (cmd_scan.c)
 * and its option table (scan_opts.c). */
#ifndef VIGIA_SCAN_CLI_H
#define VIGIA_SCAN_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vigia/output.h"
#include "vigia/scan_record.h"
#include "vigia/scan.h"

#define MAX_OUTPUTS 8

struct out_spec {
    vg_output *out;
    FILE *fp;
    bool is_stdout;
    bool owns_fp;
    const char *path;
};

struct scan_cli {
    vg_targets *targets;
    vg_ports *ports;
    vg_scan_opts opts;
    vg_resolve_opts ropts;
    struct out_spec outs[MAX_OUTPUTS];
    int nouts;
    vg_scan_names names;        /* what the records' names come from */
    int verbose;
    bool quiet;
    bool open_only;
    bool stdout_broken;
    int io_error;
    char *targets_desc;
    size_t targets_desc_len;
    char *ports_desc;
    size_t ports_desc_len;
    /* raw engines (-sS, -sU): chosen kinds, and what runs unprivileged */
    bool want_syn, want_udp, want_connect, dry_run;
    const char *user;
    /* host discovery: -sn lists live hosts; -Pn skips discovery */
    bool ping_only, no_ping;
    /* --check: a service check on every open port (vigia/scancheck.h) */
    bool check;
    uint32_t check_timeout_ms;
    /* parsing: -T's template (-1: none), whether -p was given */
    int tmpl;
    bool have_ports;
};

/* Parses argv into c (targets, ports, options, outputs); returns 0, -1
 * after --help, or an exit status (the message is printed). */
int scan_parse_args(struct scan_cli *c, int argc, char **argv);

/* Prints a library error; its exit status (usage for bad input). */
int scan_lib_error(const vg_error *err);

#endif
