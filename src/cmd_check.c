/* SPDX-License-Identifier: MIT */
/* `vigia check`: runs the checks of the command line (check_opts.c) once
 * (exit 0/1/2/3 as a monitoring plugin), with --wait until all are OK
 * (then execs the command after --), or with --watch each interval until
 * stopped, through the library's runners (vigia/watch.h); feeds every
 * output (check_outputs.c) and maps the outcome to an exit status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check_cli.h"
#include "cli.h"
#include "cli_opts.h"
#include "commands.h"
#include "cli_output.h"
#include "vigia/check.h"
#include "vigia/options.h"
#include "vigia/watch.h"
#include "vigia_config.h"

static void on_result(const vg_check_result *r, void *ud)
{
    struct check_cli *c = ud;
    if(r->state >= 0 && r->state <= 3)
        c->sum.count[r->state]++;
    emit_result(c, r);
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

/* The checks of the command line or of -f. */
static int build_checker(struct check_cli *c, vg_checker **out, vg_error *err)
{
    vg_checker_opts co = {.concurrency = c->concurrency};
    int rc = vg_checker_new(out, &co, err);
    for(int i = 0; !rc && i < c->ntargets; i++)
        rc = vg_checker_add_named(*out, c->names ? c->names[i] : NULL, c->targets[i],
                                  c->item_opts ? c->item_opts[i] : &c->opts, NULL, err);
    return rc;
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

    rc = build_checker(c, &ck, &err);
    if(rc) {
        vg_checker_free(ck);
        return check_usage_error("%s", err.msg);
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

struct wait_ui {
    struct check_cli *c;
    bool tty;
    char last_line[64];         /* without a terminal: the picture last printed */
};

static void wait_progress(struct check_cli *c, const vg_wait_progress *p, bool tty, bool final, bool timed_out)
{
    char target[120];
    if(c->quiet)
        return;
    if(tty)
        fputs("\r\033[K", stderr);
    if(final && !timed_out && p->ready == p->total) {
        fprintf(stderr, PROG " check: all %d ready after %.1fs\n", c->ntargets, p->elapsed_s);
        return;
    }
    if(p->first_waiting >= 0) {
        const char *t = c->targets[p->first_waiting];
        vg_escape(target, sizeof(target), t, strlen(t));
        fprintf(stderr, "%s%d/%d ready after %.1fs; waiting for %s (%s)%s",
                final ? PROG " check: gave up: " : "waiting: ", (int)p->ready, c->ntargets, p->elapsed_s, target,
                p->first_last ? vg_check_reason_name(p->first_last->reason) : "not checked yet",
                final || !tty ? "\n" : "");
    }
    fflush(stderr);
}

static void wait_on_round(const vg_wait_progress *p, void *ud)
{
    struct wait_ui *u = ud;
    char line[64];
    if(u->tty) {
        wait_progress(u->c, p, true, false, false);
        return;
    }
    /* Without a terminal, a line only when the picture changes. */
    snprintf(line, sizeof(line), "%zu/%ld/%d", p->ready, p->first_waiting,
             p->first_last ? p->first_last->reason : 0);
    if(strcmp(line, u->last_line)) {
        wait_progress(u->c, p, false, false, false);
        snprintf(u->last_line, sizeof(u->last_line), "%s", line);
    }
}

static int run_wait(struct check_cli *c)
{
    vg_wait_opts wo = {.timeout_ms = c->wait_timeout_ms, .interval_ms = c->interval_ms,
                       .check_timeout_ms = c->check_timeout_ms, .concurrency = c->concurrency};
    struct wait_ui u = {.c = c, .tty = isatty(STDERR_FILENO)};
    vg_wait_callbacks cb = {.round = wait_on_round, .ud = &u};
    vg_wait *w = NULL;
    vg_wait_progress p;
    vg_error err = {0};
    double t0 = cli_unix_time();
    bool timed_out, interrupted;
    int rc, status;

    if(vg_wait_new(&w, &wo, &cb, &err)) {
        fprintf(stderr, PROG " check: %s\n", err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "wait");
    rc = VG_OK;
    for(int i = 0; !rc && i < c->ntargets; i++)
        rc = vg_wait_add(w, c->names ? c->names[i] : NULL, c->targets[i],
                         c->item_opts ? c->item_opts[i] : &c->opts, &err);
    while(!rc) {
        rc = vg_wait_step(w, 100, &err);
        if(rc == 1)
            break;
        if(rc < 0 && vg_wait_result(w) != VG_WAIT_FAILED) {
            fprintf(stderr, PROG " check: %s\n", err.msg); /* that poll ended; the wait goes on */
            rc = 0;
        }
        if(cli_interrupted)
            vg_wait_stop(w);
    }
    if(rc < 0) {
        fprintf(stderr, PROG " check: %s\n", err.msg);
        vg_wait_free(w);
        return EXIT_CHECK_UNKNOWN;
    }
    timed_out = vg_wait_result(w) == VG_WAIT_TIMEOUT;
    /* cli_interrupted too: a signal as the last check passed */
    interrupted = vg_wait_result(w) == VG_WAIT_STOPPED || cli_interrupted;
    vg_wait_get_progress(w, &p);
    wait_progress(c, &p, u.tty, true, timed_out || interrupted);
    for(size_t i = 0; i < vg_wait_count(w); i++) {
        const vg_check_result *r = vg_wait_last(w, i);
        if(!r)
            continue;
        c->sum.count[r->state]++;
        emit_result(c, r);
    }
    c->sum.timed_out = timed_out;
    c->sum.interrupted = interrupted;
    c->sum.signal = interrupted ? cli_signal_name(cli_stop_signal(false)) : NULL;
    c->sum.elapsed_s = cli_unix_time() - t0;
    c->sum.end_time = cli_unix_time();
    status = interrupted ? cli_interrupt_status() : timed_out ? EXIT_CHECK_WAIT_TIMEOUT : EXIT_CHECK_OK;
    c->sum.exit_code = status;
    end_outputs(c);
    vg_wait_free(w);
    return status;
}

/* --- --watch ---------------------------------------------------------------------
 * The library re-runs every check each INTERVAL (vg_watch). Text and
 * NDJSON get state changes only; openmetrics gets every round. On Ctrl-C:
 * a summary per check and the worst current state as the exit status. */

static void watch_on_result(const vg_check_result *r, void *ud)
{
    struct check_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!is_om(o) || (o->is_stdout && c->stdout_broken))
            continue;
        if(cli_check_result(o->out, r))
            output_failed(c, o);
    }
}

static void watch_on_change(const vg_check_result *r, int previous, void *ud)
{
    struct check_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(is_om(o) || (o->is_stdout && c->stdout_broken))
            continue;
        if(cli_check_change(o->out, r, previous) || vg_output_flush(o->out))
            output_failed(c, o);
    }
}

static void watch_on_round(const vg_watch_round *rd, void *ud)
{
    (void)rd;
    om_round(ud);
}

static int run_watch(struct check_cli *c)
{
    vg_watch_opts wo = {.interval_ms = c->watch_ms, .concurrency = c->concurrency};
    vg_watch_callbacks cb = {watch_on_result, watch_on_change, watch_on_round, c};
    vg_watch *w = NULL;
    vg_error err = {0};
    double t0 = cli_unix_time(), end;
    bool stopped = false;
    int rc, worst = -1, status;

    rc = vg_watch_new(&w, &wo, &cb, &err);
    for(int i = 0; !rc && i < c->ntargets; i++)
        rc = vg_watch_add(w, c->names ? c->names[i] : NULL, c->targets[i],
                          c->item_opts ? c->item_opts[i] : &c->opts, &err);
    if(rc) {
        vg_watch_free(w);
        return check_usage_error("%s", err.msg);
    }
    rc = vg_watch_start(w, &err);
    if(rc) {
        vg_watch_free(w);
        fprintf(stderr, PROG " check: %s\n", err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "watch");
    for(;;) {
        watch_stdout(c);
        if(!stopped && (cli_interrupted || c->stdout_broken)) {
            vg_watch_stop(w);
            stopped = true;
        }
        rc = vg_watch_step(w, 100, &err);
        if(rc == 1)
            break;
        if(rc < 0) {
            fprintf(stderr, PROG " check: %s\n", err.msg); /* the watch stopped itself */
            stopped = true;
        }
    }
    end = cli_unix_time();
    for(size_t i = 0; i < vg_watch_count(w); i++) {
        vg_check_watch_stats st;
        vg_watch_stats(w, i, &st);
        if(st.state >= 0) {
            worst = worst < 0 ? st.state : vg_check_state_worst(worst, st.state);
            c->sum.count[st.state]++;
        }
        else {
            worst = worst < 0 ? VG_CHECK_UNKNOWN : vg_check_state_worst(worst, VG_CHECK_UNKNOWN);
            c->sum.count[VG_CHECK_UNKNOWN]++;
        }
        for(int k = 0; k < c->nouts; k++) {
            struct out_spec *o = &c->outs[k];
            if((o->is_stdout && c->stdout_broken) || is_om(o))
                continue;
            if(cli_check_watch_summary(o->out, &st) || vg_output_flush(o->out))
                output_failed(c, o);
        }
    }
    vg_watch_free(w);
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
    rc = check_parse_args(&c, argc, argv);
    if(!rc && c.file)
        rc = check_load_file(&c);
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
    check_free_file(&c);
    cli_opts_free(&c.parser);
    curl_global_cleanup();
    if(c.stdout_broken && !cli_interrupted) {
        cli_exit_broken_pipe(); /* as scan does */
    }
    return status;
}

