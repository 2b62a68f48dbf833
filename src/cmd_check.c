/* SPDX-License-Identifier: MIT */
/* `vigia check`: parses the command line into check options, runs the
 * checks once (exit 0/1/2/3 as a monitoring plugin) or, with --wait, polls
 * them until all are OK (then execs the command after --), feeds every
 * output, and maps the outcome to an exit status. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "cli_opts.h"
#include "commands.h"
#include "cli_output.h"
#include "vigia/check.h"
#include "vigia/options.h"
#include "vigia_config.h"

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

static bool is_om(const struct out_spec *o);
static bool om_atomic(const struct out_spec *o);
static FILE *om_open_tmp(struct out_spec *o);
static int om_commit(struct out_spec *o);

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
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
        return usage_error("too many outputs (at most 8): '%s'", spec);
    o = &c->outs[c->nouts];
    why = cli_output_split(spec, fmt, sizeof(fmt), &o->path);
    if(why)
        return usage_error("bad output '%s': %s", spec, why);
    o->out = vg_output_new(fmt, VG_OUTPUT_CHECK, stdout, NULL, &err);
    if(!o->out)
        return usage_error("%s", err.msg);
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

/* Returns 0, -1 for --help, or an exit status. */
static int parse_args(struct check_cli *c, int argc, char **argv)
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
        return usage_error("%s", err.msg);
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
        return usage_error("no targets given");
    if(c->ntargets && c->file)
        return usage_error("give targets either on the command line or with -f, not both");
    if(c->watch_ms && c->wait)
        return usage_error("--watch and --wait cannot be combined");
    if(c->cmd && !c->wait)
        return usage_error("a command after -- needs --wait");
    if(c->cmd && !c->cmd[0])
        return usage_error("no command after --");
    if(!c->wait && (c->interval_ms || c->check_timeout_ms))
        return usage_error("--interval and --check-timeout need --wait");
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

static int open_outputs(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!o->path || !strcmp(o->path, "-")) {
            o->fp = stdout;
            o->is_stdout = true;
        }
        else {
            o->fp = om_atomic(o) ? om_open_tmp(o) : fopen(o->path, "w");
            if(!o->fp) {
                fprintf(stderr, PROG " check: cannot write '%s': %s\n", o->path, strerror(errno));
                return EXIT_CHECK_UNKNOWN;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        o->out->opts.verbose = c->verbose;
    }
    return 0;
}

static void output_failed(struct check_cli *c, struct out_spec *o)
{
    if(o->is_stdout)
        c->stdout_broken = true;
    else if(!c->io_error) {
        fprintf(stderr, PROG " check: writing '%s' failed: %s\n", o->path, strerror(errno));
        c->io_error = true;
    }
}

static void emit_result(struct check_cli *c, const vg_check_result *r)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(cli_check_result(o->out, r) || vg_output_flush(o->out))
            output_failed(c, o);
    }
}

static void on_result(const vg_check_result *r, void *ud)
{
    struct check_cli *c = ud;
    if(r->state >= 0 && r->state <= 3)
        c->sum.count[r->state]++;
    emit_result(c, r);
}

/* A reader that went away (`vigia check ... | head -1`) shows as POLLERR on
 * our end of the pipe; notice it without waiting for the next record. */
static void watch_stdout(struct check_cli *c)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    bool uses = false;
    for(int i = 0; i < c->nouts; i++)
        uses = uses || c->outs[i].is_stdout;
    if(uses && !c->stdout_broken && poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)))
        c->stdout_broken = true;
}

static int exit_for(const vg_check_summary *s)
{
    if(s->count[VG_CHECK_CRITICAL])
        return EXIT_CHECK_CRITICAL;
    if(s->count[VG_CHECK_WARNING])
        return EXIT_CHECK_WARNING;
    if(s->count[VG_CHECK_UNKNOWN])
        return EXIT_CHECK_UNKNOWN;
    return EXIT_CHECK_OK;
}

/* Builds a checker for the targets with keep[i] set. */
static int build_checker(struct check_cli *c, vg_checker **out, const bool *want, vg_error *err)
{
    vg_checker_opts co = {.concurrency = c->concurrency};
    int rc = vg_checker_new(out, &co, err);
    if(rc)
        return rc;
    for(int i = 0; i < c->ntargets; i++) {
        if(want && !want[i])
            continue;
        rc = vg_checker_add_named(*out, c->names ? c->names[i] : NULL, c->targets[i],
                                  c->item_opts ? c->item_opts[i] : &c->opts, NULL, err);
        if(rc)
            return rc;
    }
    return VG_OK;
}

static void begin_outputs(struct check_cli *c, const char *mode)
{
    vg_check_info info = {
        .version = VIGIA_VERSION,
        .mode = mode,
        .n_checks = (size_t)c->ntargets,
        .timeout_ms = c->wait ? (uint32_t)c->wait_timeout_ms : c->opts.timeout_ms,
        .start_time = cli_unix_time(),
    };
    for(int i = 0; i < c->nouts; i++)
        if(cli_check_begin(c->outs[i].out, &info) || vg_output_flush(c->outs[i].out))
            output_failed(c, &c->outs[i]);
}

static void end_outputs(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(c->watch_ms && is_om(o))
            continue; /* --watch wrote it after each round */
        if(cli_check_end(o->out, &c->sum) || vg_output_flush(o->out))
            output_failed(c, o);
        else if(o->tmp_path && om_commit(o))
            output_failed(c, o);
    }
}

/* A run cut short: 128 + the signal that stopped it (SIGPIPE when stdout's
 * reader went away), named in the summary. */
static int stop_status(struct check_cli *c)
{
    int sig = cli_stop_signal(c->stdout_broken);
    c->sum.signal = cli_signal_name(sig);
    return 128 + sig;
}

static int run_once(struct check_cli *c)
{
    vg_checker *ck = NULL;
    vg_error err = {0};
    int rc;
    bool stopped = false;
    double t0 = cli_unix_time();

    rc = build_checker(c, &ck, NULL, &err);
    if(rc) {
        vg_checker_free(ck);
        return usage_error("%s", err.msg);
    }
    rc = vg_checker_start(ck, &err);
    if(rc) {
        vg_checker_free(ck);
        fprintf(stderr, PROG " check: %s\n", err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "once");
    for(;;) {
        rc = vg_checker_poll(ck, 100, on_result, c, &err);
        if(rc < 0) {
            fprintf(stderr, PROG " check: %s\n", err.msg);
            vg_checker_stop(ck);
            stopped = true;
            continue;
        }
        if(rc == 1)
            break;
        watch_stdout(c);
        if(!stopped && (cli_interrupted || c->stdout_broken)) {
            vg_checker_stop(ck);
            stopped = true;
        }
    }
    vg_checker_free(ck);
    c->sum.interrupted = stopped && (cli_interrupted || c->stdout_broken);
    c->sum.elapsed_s = cli_unix_time() - t0;
    c->sum.end_time = cli_unix_time();
    c->sum.exit_code = c->sum.interrupted ? stop_status(c) : exit_for(&c->sum);
    end_outputs(c);
    return c->sum.exit_code;
}

/* --- --wait ------------------------------------------------------------------ */

struct wait_slot {
    vg_check_result last;
    char target[2048];
    char kind[16];
    char host[256];
    char name[256];             /* -f */
    bool have;
    bool ok;
};

struct wait_round {
    struct check_cli *c;
    struct wait_slot *slots;
    int *map;                   /* checker index -> target index */
};

static void wait_on_result(const vg_check_result *r, void *ud)
{
    struct wait_round *w = ud;
    struct wait_slot *s = &w->slots[w->map[r->index]];
    s->last = *r;
    snprintf(s->target, sizeof(s->target), "%s", r->target);
    snprintf(s->kind, sizeof(s->kind), "%s", r->kind);
    snprintf(s->host, sizeof(s->host), "%s", r->host);
    s->last.target = s->target;
    s->last.kind = s->kind;
    s->last.host = s->host;
    snprintf(s->name, sizeof(s->name), "%s", r->name ? r->name : "");
    s->last.name = r->name ? s->name : NULL;
    s->have = true;
    s->ok = r->state == VG_CHECK_OK;
}

static void wait_progress(struct check_cli *c, struct wait_slot *slots, double elapsed, bool tty, bool final,
                          bool timed_out)
{
    int ready = 0, first_bad = -1;
    char target[120];
    for(int i = 0; i < c->ntargets; i++) {
        if(slots[i].ok)
            ready++;
        else if(first_bad < 0)
            first_bad = i;
    }
    if(c->quiet)
        return;
    if(tty)
        fputs("\r\033[K", stderr);
    if(final && !timed_out && ready == c->ntargets) {
        fprintf(stderr, PROG " check: all %d ready after %.1fs\n", c->ntargets, elapsed);
        return;
    }
    if(first_bad >= 0) {
        const vg_check_result *r = &slots[first_bad].last;
        vg_escape(target, sizeof(target), c->targets[first_bad], strlen(c->targets[first_bad]));
        fprintf(stderr, "%s%d/%d ready after %.1fs; waiting for %s (%s)%s",
                final ? PROG " check: gave up: " : "waiting: ", ready, c->ntargets, elapsed, target,
                slots[first_bad].have ? vg_check_reason_name(r->reason) : "not checked yet",
                final || !tty ? "\n" : "");
    }
    fflush(stderr);
}

static bool sleep_interruptible(uint64_t ms)
{
    uint64_t end = (uint64_t)(cli_unix_time() * 1000) + ms;
    while(!cli_interrupted) {
        uint64_t now = (uint64_t)(cli_unix_time() * 1000);
        if(now >= end)
            return true;
        poll(NULL, 0, (int)(end - now > 100 ? 100 : end - now));
    }
    return false;
}

static int run_wait(struct check_cli *c)
{
    struct wait_slot *slots = calloc((size_t)c->ntargets, sizeof(*slots));
    bool *want = calloc((size_t)c->ntargets, sizeof(*want));
    int *map = calloc((size_t)c->ntargets, sizeof(*map));
    double t0 = cli_unix_time();
    bool tty = isatty(STDERR_FILENO);
    bool timed_out = false, interrupted = false, all_ok = false;
    int status;
    char last_line[64] = "";

    if(!slots || !want || !map) {
        free(slots);
        free(want);
        free(map);
        fprintf(stderr, PROG " check: out of memory\n");
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "wait");
    for(;;) {
        vg_checker *ck = NULL;
        vg_error err = {0};
        struct wait_round w = {c, slots, map};
        double elapsed = cli_unix_time() - t0;
        double left_ms = (double)c->wait_timeout_ms - elapsed * 1000.0;
        int n = 0, rc;

        if(left_ms <= 0) {
            timed_out = true;
            break;
        }
        for(int i = 0; i < c->ntargets; i++) {
            want[i] = !slots[i].ok;
            if(want[i])
                map[n++] = i;
        }
        /* Each attempt ends by the overall deadline. */
        c->opts.timeout_ms = (uint32_t)(c->check_timeout_ms < (uint64_t)left_ms ? c->check_timeout_ms
                                                                                : (uint64_t)left_ms + 1);
        for(int i = 0; c->item_opts && i < c->ntargets; i++) /* -f */
            c->item_opts[i]->timeout_ms = c->opts.timeout_ms;
        rc = build_checker(c, &ck, want, &err);
        if(!rc)
            rc = vg_checker_start(ck, &err);
        if(rc) {
            vg_checker_free(ck);
            fprintf(stderr, PROG " check: %s\n", err.msg);
            free(slots);
            free(want);
            free(map);
            return EXIT_CHECK_UNKNOWN;
        }
        for(;;) {
            rc = vg_checker_poll(ck, 100, wait_on_result, &w, &err);
            if(rc != 0)
                break;
            if(cli_interrupted)
                vg_checker_stop(ck);
        }
        vg_checker_free(ck);
        if(cli_interrupted) {
            interrupted = true;
            break;
        }
        all_ok = true;
        for(int i = 0; i < c->ntargets; i++)
            all_ok = all_ok && slots[i].ok;
        if(all_ok)
            break;
        elapsed = cli_unix_time() - t0;
        if(tty)
            wait_progress(c, slots, elapsed, true, false, false);
        else {
            /* Without a terminal, a line only when the picture changes. */
            char line[64];
            int ready = 0, first = -1;
            for(int i = 0; i < c->ntargets; i++) {
                ready += slots[i].ok;
                if(!slots[i].ok && first < 0)
                    first = i;
            }
            snprintf(line, sizeof(line), "%d/%d/%d", ready, first, first >= 0 ? slots[first].last.reason : 0);
            if(strcmp(line, last_line)) {
                wait_progress(c, slots, elapsed, false, false, false);
                snprintf(last_line, sizeof(last_line), "%s", line);
            }
        }
        left_ms = (double)c->wait_timeout_ms - elapsed * 1000.0;
        if(left_ms <= 0) {
            timed_out = true;
            break;
        }
        if(!sleep_interruptible(c->interval_ms < (uint64_t)left_ms ? c->interval_ms : (uint64_t)left_ms)) {
            interrupted = true;
            break;
        }
    }
    interrupted = interrupted || cli_interrupted; /* a signal as the last check passed */
    wait_progress(c, slots, cli_unix_time() - t0, tty, true, timed_out || interrupted);
    for(int i = 0; i < c->ntargets; i++) {
        if(!slots[i].have)
            continue;
        c->sum.count[slots[i].last.state]++;
        slots[i].last.index = (size_t)i;
        emit_result(c, &slots[i].last);
    }
    c->sum.timed_out = timed_out;
    c->sum.interrupted = interrupted;
    c->sum.signal = interrupted ? cli_signal_name(cli_stop_signal(false)) : NULL;
    c->sum.elapsed_s = cli_unix_time() - t0;
    c->sum.end_time = cli_unix_time();
    status = interrupted ? cli_interrupt_status() : timed_out ? EXIT_CHECK_WAIT_TIMEOUT : EXIT_CHECK_OK;
    c->sum.exit_code = status;
    end_outputs(c);
    free(slots);
    free(want);
    free(map);
    return status;
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

static int load_checks_file(struct check_cli *c)
{
    vg_error err = {0};
    size_t len = 0, nextra = 0;
    int e = 0, rc;
    char *buf = read_whole_file(c->file, VG_CHECKFILE_MAX_BYTES, &len, &e);
    vg_opt_arg *extra;

    if(!buf)
        return usage_error("-f '%s': %s", c->file, strerror(e));
    extra = calloc(c->parser.nseen + 1, sizeof(*extra));
    if(!extra) {
        free(buf);
        return usage_error("out of memory");
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
        return usage_error("out of memory");
    for(size_t i = 0; i < c->list->n; i++) {
        c->targets[i] = c->list->items[i].target;
        c->names[i] = c->list->items[i].name;
        c->item_opts[i] = &c->list->items[i].opts;
    }
    c->ntargets = (int)c->list->n;
    return 0;
}

static void free_file_state(struct check_cli *c)
{
    if(c->list)
        free(c->targets); /* without -f it points into argv */
    free(c->names);
    free(c->item_opts);
    vg_check_list_free(c->list);
}
/* --- end of checks files --- */


/* --- openmetrics=FILE, written atomically ----------------------------------- */

static bool is_om(const struct out_spec *o)
{
    return o->out && !strcmp(o->out->type->name, "openmetrics");
}

/* openmetrics=FILE is replaced atomically (FILE.tmp renamed over it) when
 * FILE is a regular file or does not exist yet; anything else (/dev/null,
 * a FIFO, a terminal) is written in place: renaming over it would replace
 * the device or pipe with a file. */
static bool om_atomic(const struct out_spec *o)
{
    struct stat st;
    if(!is_om(o) || !o->path)
        return false;
    if(stat(o->path, &st) != 0)
        return errno == ENOENT;
    return S_ISREG(st.st_mode);
}

/* FILE.tmp next to FILE, so that the rename stays on one file system. */
static FILE *om_open_tmp(struct out_spec *o)
{
    if(!o->tmp_path && asprintf(&o->tmp_path, "%s.tmp", o->path) < 0) {
        o->tmp_path = NULL;
        errno = ENOMEM;
        return NULL;
    }
    return fopen(o->tmp_path, "w");
}

/* FILE.tmp is complete: flush, fsync, rename over FILE. A reader (node
 * exporter's textfile collector) sees the old file or the new one, never a
 * half-written one. */
static int om_commit(struct out_spec *o)
{
    int rc = 0;
    if(!o->fp)
        return -1;
    if(fflush(o->fp) != 0 || fsync(fileno(o->fp)) != 0)
        rc = -1;
    if(fclose(o->fp) != 0)
        rc = -1;
    o->fp = NULL;
    o->out->fp = NULL; /* no stream till the next round opens FILE.tmp */
    o->owns_fp = false;
    if(!rc && rename(o->tmp_path, o->path) != 0)
        rc = -1;
    if(rc)
        unlink(o->tmp_path);
    return rc;
}

/* After a --watch round: each openmetrics output writes the round's records. */
static void om_round(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!is_om(o) || (o->is_stdout && c->stdout_broken))
            continue;
        if(o->tmp_path && !o->fp) {
            o->fp = om_open_tmp(o);
            if(!o->fp) {
                output_failed(c, o);
                continue;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        if(cli_check_end(o->out, &c->sum) || vg_output_flush(o->out) ||
           (o->tmp_path && om_commit(o)))
            output_failed(c, o);
    }
}

/* A run that ended early leaves no FILE.tmp behind. */
static void om_cleanup(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->tmp_path && o->fp) {
            fclose(o->fp);
            o->fp = NULL;
            o->owns_fp = false;
            unlink(o->tmp_path);
        }
        free(o->tmp_path);
        o->tmp_path = NULL;
    }
}

/* --- --watch ---------------------------------------------------------------------
 * One unordered checker for the whole run: every INTERVAL each check that
 * has finished is re-run on the same loop (a round; a slow round delays the
 * next rather than overlapping it). Text and NDJSON get state changes only;
 * openmetrics gets every round. On Ctrl-C: a summary per check and the
 * worst current state as the exit status. */

#define WATCH_RESERVOIR 1024 /* samples per phase kept for the p95 */

struct watch_phase {
    unsigned n;
    int64_t min, max;
    double sum;
    int64_t *sample;            /* reservoir, WATCH_RESERVOIR */
};

struct watch_check {
    int state;                  /* -1: no result yet */
    int reason;
    double since;               /* when the current state began */
    double state_s[4];
    unsigned runs;
    struct watch_phase ph[VG_PHASE__COUNT];
};

struct watch_run {
    struct check_cli *c;
    struct watch_check *w;
    const char **kinds;         /* per check, for the summary (copied) */
    char **kind_buf;
    bool stopping;
    uint64_t rng;
};

static uint64_t watch_rand(struct watch_run *wr)
{
    /* xorshift64: reservoir sampling needs no quality beyond this */
    wr->rng ^= wr->rng << 13;
    wr->rng ^= wr->rng >> 7;
    wr->rng ^= wr->rng << 17;
    return wr->rng;
}

static void watch_sample(struct watch_run *wr, struct watch_phase *ph, int64_t v)
{
    if(!ph->sample && !(ph->sample = malloc(WATCH_RESERVOIR * sizeof(*ph->sample))))
        return;
    if(!ph->n || v < ph->min)
        ph->min = v;
    if(!ph->n || v > ph->max)
        ph->max = v;
    ph->sum += (double)v;
    if(ph->n < WATCH_RESERVOIR)
        ph->sample[ph->n] = v;
    else {
        uint64_t j = watch_rand(wr) % ((uint64_t)ph->n + 1);
        if(j < WATCH_RESERVOIR)
            ph->sample[j] = v;
    }
    ph->n++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t watch_p95(const struct watch_phase *ph)
{
    unsigned n = ph->n < WATCH_RESERVOIR ? ph->n : WATCH_RESERVOIR;
    int64_t tmp[WATCH_RESERVOIR], idx;
    if(!n || !ph->sample)
        return -1;
    memcpy(tmp, ph->sample, n * sizeof(*tmp));
    qsort(tmp, n, sizeof(*tmp), cmp_i64);
    idx = (int64_t)((n * 95 + 99) / 100) - 1; /* nearest rank */
    return tmp[idx < 0 ? 0 : idx];
}

static void watch_on_result(const vg_check_result *r, void *ud)
{
    struct watch_run *wr = ud;
    struct check_cli *c = wr->c;
    struct watch_check *w = &wr->w[r->index];
    double now = cli_unix_time();
    int previous = w->state;

    /* Ctrl-C ends checks in flight: that is no state of the service. */
    if(wr->stopping && r->reason == VG_CR_INTERRUPTED)
        return;
    if(!wr->kind_buf[r->index])
        wr->kind_buf[r->index] = strdup(r->kind);
    w->runs++;
    for(int p = 0; p < VG_PHASE__COUNT; p++)
        if(r->phase_us[p] >= 0)
            watch_sample(wr, &w->ph[p], r->phase_us[p]);
    if(previous >= 0)
        w->state_s[previous] += now - w->since;
    w->since = now;
    w->state = r->state;
    w->reason = r->reason;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        int rc;
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(is_om(o))
            rc = cli_check_result(o->out, r);
        else if(previous != r->state)
            rc = cli_check_change(o->out, r, previous) || vg_output_flush(o->out);
        else
            continue;
        if(rc)
            output_failed(c, o);
    }
}

static int run_watch(struct check_cli *c)
{
    vg_checker_opts co = {.concurrency = c->concurrency, .unordered = true};
    struct watch_run wr = {.c = c, .rng = 0x9e3779b97f4a7c15ull};
    vg_checker *ck = NULL;
    vg_error err = {0};
    double t0 = cli_unix_time(), next_round = t0, end;
    bool stopped = false, in_round = false;
    unsigned rounds = 0;
    int rc, worst = -1, status;

    wr.w = calloc((size_t)c->ntargets, sizeof(*wr.w));
    wr.kind_buf = calloc((size_t)c->ntargets, sizeof(*wr.kind_buf));
    if(!wr.w || !wr.kind_buf) {
        free(wr.w);
        free(wr.kind_buf);
        fprintf(stderr, PROG " check: out of memory\n");
        return EXIT_CHECK_UNKNOWN;
    }
    for(int i = 0; i < c->ntargets; i++)
        wr.w[i].state = -1;
    rc = vg_checker_new(&ck, &co, &err);
    for(int i = 0; !rc && i < c->ntargets; i++)
        rc = vg_checker_add_named(ck, c->names ? c->names[i] : NULL, c->targets[i],
                                  c->item_opts ? c->item_opts[i] : &c->opts, NULL, &err);
    if(rc) {
        vg_checker_free(ck);
        free(wr.w);
        free(wr.kind_buf);
        return usage_error("%s", err.msg);
    }
    rc = vg_checker_start(ck, &err);
    if(rc) {
        vg_checker_free(ck);
        free(wr.w);
        free(wr.kind_buf);
        fprintf(stderr, PROG " check: %s\n", err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "watch");
    for(;;) {
        double now = cli_unix_time();
        int wait_ms = 100;
        watch_stdout(c);
        if(!stopped && (cli_interrupted || c->stdout_broken)) {
            wr.stopping = true;
            vg_checker_stop(ck);
            stopped = true;
        }
        if(!stopped && !in_round && now >= next_round) {
            for(int i = 0; rounds && i < c->ntargets; i++)
                vg_checker_rerun(ck, (size_t)i, NULL);
            rounds++;
            in_round = true;
            next_round += (double)c->watch_ms / 1000.0;
            if(next_round < now)
                next_round = now + (double)c->watch_ms / 1000.0;
        }
        if(!in_round && !stopped) {
            double left = (next_round - now) * 1000.0;
            wait_ms = left < 100 ? (left < 1 ? 1 : (int)left) : 100;
        }
        rc = vg_checker_poll(ck, wait_ms, watch_on_result, &wr, &err);
        if(rc < 0) {
            fprintf(stderr, PROG " check: %s\n", err.msg);
            if(!stopped) {
                wr.stopping = true;
                vg_checker_stop(ck);
                stopped = true;
            }
            continue;
        }
        if(rc == 1 && in_round) {
            in_round = false;
            if(!stopped)
                om_round(c);
        }
        if(stopped && rc == 1)
            break;
        if(rc == 1 && !in_round)
            poll(NULL, 0, wait_ms); /* nothing in flight: sleep till the next round */
    }
    vg_checker_free(ck);
    end = cli_unix_time();
    for(int i = 0; i < c->ntargets; i++) {
        struct watch_check *w = &wr.w[i];
        vg_check_watch_stats st;
        memset(&st, 0, sizeof(st));
        if(w->state >= 0) {
            w->state_s[w->state] += end - w->since;
            worst = worst < 0 ? w->state : vg_check_state_worst(worst, w->state);
            c->sum.count[w->state]++;
        }
        else {
            worst = worst < 0 ? VG_CHECK_UNKNOWN : vg_check_state_worst(worst, VG_CHECK_UNKNOWN);
            c->sum.count[VG_CHECK_UNKNOWN]++;
        }
        st.index = (size_t)i;
        st.name = c->names ? c->names[i] : NULL;
        st.target = c->targets[i];
        st.kind = wr.kind_buf[i] ? wr.kind_buf[i] : "";
        st.runs = w->runs;
        st.state = w->state;
        st.reason = w->reason;
        memcpy(st.state_s, w->state_s, sizeof(st.state_s));
        for(int p = 0; p < VG_PHASE__COUNT; p++) {
            const struct watch_phase *ph = &w->ph[p];
            st.phase[p].n = ph->n;
            if(ph->n) {
                st.phase[p].min_us = ph->min;
                st.phase[p].avg_us = (int64_t)(ph->sum / ph->n);
                st.phase[p].p95_us = watch_p95(ph);
            }
        }
        for(int k = 0; k < c->nouts; k++) {
            struct out_spec *o = &c->outs[k];
            if((o->is_stdout && c->stdout_broken) || is_om(o))
                continue;
            if(cli_check_watch_summary(o->out, &st) || vg_output_flush(o->out))
                output_failed(c, o);
        }
        for(int p = 0; p < VG_PHASE__COUNT; p++)
            free(w->ph[p].sample);
        free(wr.kind_buf[i]);
    }
    free(wr.w);
    free(wr.kind_buf);
    c->sum.interrupted = stopped && (cli_interrupted || c->stdout_broken);
    status = c->sum.interrupted ? stop_status(c) : worst < 0 ? EXIT_CHECK_UNKNOWN : worst;
    c->sum.elapsed_s = end - t0;
    c->sum.end_time = end;
    c->sum.exit_code = status;
    end_outputs(c);
    return status;
}

int cmd_check(int argc, char **argv)
{
    struct check_cli c;
    int status, rc;

    memset(&c, 0, sizeof(c));
    vg_check_opts_default(&c.opts);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = parse_args(&c, argc, argv);
    if(!rc && c.file)
        rc = load_checks_file(&c);
    if(rc) {
        status = rc < 0 ? EXIT_CHECK_OK : rc;
        goto out;
    }
    cli_signals_defer();
    rc = open_outputs(&c);
    if(rc) {
        status = rc;
        goto out;
    }
    cli_raise_nofile();
    status = c.watch_ms ? run_watch(&c) : c.wait ? run_wait(&c) : run_once(&c);
    if(c.io_error && status == EXIT_CHECK_OK)
        status = EXIT_CHECK_UNKNOWN;

out:
    om_cleanup(&c);
    for(int i = 0; i < c.nouts; i++) {
        vg_output_free(c.outs[i].out);
        if(c.outs[i].owns_fp && fclose(c.outs[i].fp) != 0 && status == EXIT_CHECK_OK) {
            fprintf(stderr, PROG " check: writing '%s' failed: %s\n", c.outs[i].path, strerror(errno));
            status = EXIT_CHECK_UNKNOWN;
        }
    }
    if(c.wait && status == EXIT_CHECK_OK && c.cmd && cli_interrupted)
        status = cli_interrupt_status(); /* stopped after the summary: no command */
    if(c.wait && status == EXIT_CHECK_OK && c.cmd) {
        fflush(NULL);
        curl_global_cleanup();
        /* The command gets a normal SIGPIPE, not our "ignore". */
        signal(SIGPIPE, SIG_DFL);
        execvp(c.cmd[0], c.cmd);
        fprintf(stderr, PROG " check: cannot run '%s': %s\n", c.cmd[0], strerror(errno));
        status = EXIT_CHECK_EXEC_FAILED;
    }
    free_file_state(&c);
    cli_opts_free(&c.parser);
    curl_global_cleanup();
    if(c.stdout_broken && !cli_interrupted) {
        cli_exit_broken_pipe(); /* as scan does */
    }
    return status;
}
