/* SPDX-License-Identifier: MIT */
/* The command line of `vigia check`: the run-wide option rows (the
 * per-check ones are the library's), --help and the man page's list, the
 * checks between them and the command after --, and -f: a checks file
 * loaded by the library with the command line's per-check options applied
 * to each of its checks. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_cli.h"
#include "cli.h"
#include "cli_output.h"
#include "cli_opts.h"
#include "commands.h"
#include "vigia/check.h"
#include "vigia/options.h"

__attribute__((format(printf, 1, 2)))
int check_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG " check: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '" PROG " check --help')\n");
    return EXIT_CHECK_UNKNOWN;
}

static int add_output(struct check_cli *c, const char *spec)
{
    char fmt[32];
    struct out_spec *o;
    vg_error err = {0};
    const char *why;

    if(c->nouts == MAX_OUTPUTS)
        return check_usage_error("too many outputs (at most 8): '%s'", spec);
    o = &c->outs[c->nouts];
    why = cli_output_split(spec, fmt, sizeof(fmt), &o->path);
    if(why)
        return check_usage_error("bad output '%s': %s", spec, why);
    o->out = vg_output_new(fmt, VG_OUTPUT_CHECK, stdout, NULL, &err);
    if(!o->out)
        return check_usage_error("%s", err.msg);
    c->nouts++;
    return 0;
}

static int opt_output(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    (void)o, (void)st, (void)err;
    return add_output(base, arg);
}

#define C(field) VG_OPT_FIELD(struct check_cli, field)
#define DUR_EXPECT "expected a duration such as 500ms, 2s or 1m"

/* Options of the whole run (not per check, so not in checks files); the
 * per-check ones are the library's (vg_check_options()). */
static const vg_opt run_rows[] = {
    {.name = "concurrency", .type = VG_OPT_UINT, C(concurrency), .min = 1, .max = 100000, .arg = "N",
     .help = "checks in flight (default 256)", .expect = "expected 1 to 100000"},
    {.type = VG_OPT_NOTE, .help = "  Durations take units: 500ms, 2s, 1m; a bare number means seconds."},
    {.type = VG_OPT_NOTE, .help = "\nModes:\n  (default)                 run every check once"},
    {.name = "wait", .type = VG_OPT_FLAG, C(wait),
     .help = "poll until every check is OK, then run COMMAND (after --)"},
    {.name = "interval", .type = VG_OPT_DURATION, C(interval_ms), .min = 1, .max = 86400000, .arg = "D",
     .help = "pause between polls (default 1s)", .expect = DUR_EXPECT},
    {.name = "check-timeout", .type = VG_OPT_DURATION, C(check_timeout_ms), .min = 1, .max = 86400000,
     .arg = "D", .help = "with --wait: timeout of each attempt (default 5s)", .expect = DUR_EXPECT},
    {.name = "watch", .type = VG_OPT_DURATION, C(watch_ms), .min = 10, .max = 86400000, .arg = "INTERVAL",
     .help = "run every check each INTERVAL until Ctrl-C; print state\n"
             "changes, then a summary per check (exit: worst current state)",
     .expect = "expected an interval such as 10s or 1m"},
    {.name = "file", .letter = 'f', .type = VG_OPT_STRING, C(file), .arg = "FILE",
     .help = "checks from a YAML file (docs/check.md); options on the\n"
             "command line apply to each of its checks"},
    {.type = VG_OPT_NOTE, .help = "\nOutput:"},
    {.name = "output", .letter = 'o', .type = VG_OPT_CALLBACK, .parse = opt_output, .arg = "FMT[=FILE]",
     .help = "text (default), ndjson or openmetrics; repeatable; FILE '-'\n"
             "is stdout; openmetrics=FILE is replaced atomically\n"
             "With --wait only what -o asks for is written."},
    {.name = "verbose", .letter = 'v', .type = VG_OPT_INCR, C(verbose),
     .help = "text: certificate and host key details"},
    {.name = "quiet", .letter = 'q', .type = VG_OPT_FLAG, C(quiet), .help = "no --wait progress on stderr"},
    {.name = "help", .letter = 'h', .type = VG_OPT_FLAG, .flags = VG_OPTF_STOP, .help = "this text"},
};

static void add_tables(struct cli_opts *p, struct check_cli *c)
{
    size_t n;
    const vg_opt *rows = vg_check_options(&n);
    cli_opts_add(p, rows, n, &c->opts);
    cli_opts_add(p, run_rows, sizeof(run_rows) / sizeof(run_rows[0]), c);
}

static void check_usage(FILE *fp, const struct cli_opts *p)
{
    fputs("Usage: " PROG " check [OPTIONS] TARGET... [--wait [-- COMMAND ARGS...]]\n"
          "\n"
          "Says whether each service is reachable and healthy, why not if not, and how\n"
          "long each phase took (dns, connect, tls, firstbyte, total).\n"
          "\n"
          "Targets: tcp://HOST:PORT  HOST:PORT  [::1]:PORT  http://URL  https://URL\n"
          "         tls://HOST:PORT  ssh://HOST[:PORT]   (mixed kinds run concurrently)\n"
          "\n", fp);
    cli_opts_help(fp, p, 28);
    fputs("\n"
          "Exit status (monitoring-plugin convention): 0 OK, 1 WARNING, 2 CRITICAL,\n"
          "3 UNKNOWN (also usage errors) - the worst of all checks. With --wait: 0 when\n"
          "all are OK (or COMMAND's status), 124 on timeout, 127 when COMMAND cannot run.\n"
          "A signal ends any mode with 130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP).\n", fp);
}

/* `vigia --help-man`: the man page's list of check options (docs/vigia.1). */
void check_write_man(FILE *fp)
{
    struct check_cli c;
    struct cli_opts p = {0};
    memset(&c, 0, sizeof(c));
    add_tables(&p, &c);
    for(int t = 0; t < p.ntab; t++)
        vg_opt_write_man(fp, p.tab[t].rows, p.tab[t].n);
}

int check_parse_args(struct check_cli *c, int argc, char **argv)
{
    vg_error err = {0};
    int rc;

    /* Everything after a bare "--" is the command to run after --wait. */
    for(int i = 1; i < argc; i++) {
        if(!strcmp(argv[i], "--")) {
            c->cmd = argv + i + 1;
            argc = i;
            break;
        }
    }
    add_tables(&c->parser, c);
    rc = cli_opts_parse(&c->parser, argc, argv, &err);
    if(rc < 0)
        return check_usage_error("%s", err.msg);
    if(rc)
        return rc;
    if(c->parser.stopped) {
        check_usage(stdout, &c->parser);
        return -1;
    }
    if(cli_opts_given(&c->parser, "timeout")) {
        c->wait_timeout_ms = c->opts.timeout_ms;
        c->have_timeout = true;
    }
    c->targets = argv + c->parser.first_operand;
    c->ntargets = argc - c->parser.first_operand;
    if(!c->ntargets && !c->file)
        return check_usage_error("no targets given");
    if(c->ntargets && c->file)
        return check_usage_error("give targets either on the command line or with -f, not both");
    if(c->watch_ms && c->wait)
        return check_usage_error("--watch and --wait cannot be combined");
    if(c->cmd && !c->wait)
        return check_usage_error("a command after -- needs --wait");
    if(c->cmd && !c->cmd[0])
        return check_usage_error("no command after --");
    if(!c->wait && (c->interval_ms || c->check_timeout_ms))
        return check_usage_error("--interval and --check-timeout need --wait");
    if(c->wait) {
        if(!c->have_timeout)
            c->wait_timeout_ms = 60000;
        if(!c->interval_ms)
            c->interval_ms = 1000;
        if(!c->check_timeout_ms)
            c->check_timeout_ms = 5000;
        c->opts.timeout_ms = (uint32_t)(c->check_timeout_ms < c->wait_timeout_ms ? c->check_timeout_ms
                                                                                   : c->wait_timeout_ms);
    }
    if(!c->nouts && !c->wait)
        return add_output(c, "text");
    return 0;
}

/* --- checks files (-f) -------------------------------------------------------
 * The library loads the file (vg_check_list_load): its keys are the rows of
 * the check option table. The per-check options given on the command line
 * are handed over to apply to each check after the file's own. */

static char *read_whole_file(const char *path, size_t max, size_t *len, int *err)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    size_t n;
    if(!fp) {
        *err = errno;
        return NULL;
    }
    buf = malloc(max + 1);
    if(!buf) {
        fclose(fp);
        *err = ENOMEM;
        return NULL;
    }
    n = fread(buf, 1, max + 1, fp);
    *err = ferror(fp) ? EIO : 0;
    fclose(fp);
    if(*err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int check_load_file(struct check_cli *c)
{
    vg_error err = {0};
    size_t len = 0, nextra = 0;
    int e = 0, rc;
    char *buf = read_whole_file(c->file, VG_CHECKFILE_MAX_BYTES, &len, &e);
    vg_opt_arg *extra;

    if(!buf)
        return check_usage_error("-f '%s': %s", c->file, strerror(e));
    extra = calloc(c->parser.nseen + 1, sizeof(*extra));
    if(!extra) {
        free(buf);
        return check_usage_error("out of memory");
    }
    for(size_t i = 0; i < c->parser.nseen; i++)
        if(c->parser.seen[i].opt->flags & VG_OPTF_FILE)
            extra[nextra++] = (vg_opt_arg){c->parser.seen[i].opt, c->parser.seen[i].arg};
    rc = vg_check_list_load(&c->list, buf, len, extra, nextra, &err);
    free(buf);
    free(extra);
    if(rc) {
        fprintf(stderr, PROG " check: %s:%s\n", c->file, err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    c->targets = calloc(c->list->n + 1, sizeof(*c->targets));
    c->names = calloc(c->list->n + 1, sizeof(*c->names));
    c->item_opts = calloc(c->list->n + 1, sizeof(*c->item_opts));
    if(!c->targets || !c->names || !c->item_opts)
        return check_usage_error("out of memory");
    for(size_t i = 0; i < c->list->n; i++) {
        c->targets[i] = c->list->items[i].target;
        c->names[i] = c->list->items[i].name;
        c->item_opts[i] = &c->list->items[i].opts;
    }
    c->ntargets = (int)c->list->n;
    return 0;
}

void check_free_file(struct check_cli *c)
{
    if(c->list)
        free(c->targets); /* without -f it points into argv */
    free(c->names);
    free(c->item_opts);
    vg_check_list_free(c->list);
}
