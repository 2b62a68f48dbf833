/* SPDX-License-Identifier: MIT */
/* `vigia scan`: parses the command line, builds targets and ports, runs the
 * scan pipeline (vigia/pipeline.h), feeds every output, shows progress,
 * and maps the end to an exit status. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "scan_cli.h"
#include "cli_output.h"
#include "util/oui.h"
#include "vigia/pipeline.h"
#include "vigia/scan.h"
#include "vigia_config.h"

static int open_outputs(struct scan_cli *c, const vg_services *svc, const vg_oui *oui)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!o->path || !strcmp(o->path, "-")) {
            o->fp = stdout;
            o->is_stdout = true;
        }
        else {
            o->fp = fopen(o->path, "w");
            if(!o->fp) {
                fprintf(stderr, PROG " scan: cannot write '%s': %s\n", o->path, strerror(errno));
                return EXIT_SCAN_RUNTIME;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        o->out->opts.verbose = c->verbose;
        o->out->opts.open_only = c->open_only;
    }
    c->names = (vg_scan_names){.targets = c->targets, .services = svc, .oui = oui};
    return 0;
}

/* A write failed: on stdout that means the reader went away (`| head`),
 * which ends the scan quietly; on a file it is an error worth saying. */
static void output_failed(struct scan_cli *c, struct out_spec *o)
{
    if(o->is_stdout)
        c->stdout_broken = true;
    else if(!c->io_error) {
        fprintf(stderr, PROG " scan: writing '%s' failed: %s\n", o->path, strerror(errno));
        c->io_error = 1;
    }
}

/* Writes one port record (with its check, under --check) to every output. */
static void emit_result(const vg_result *res, const vg_check_result *chk, void *ud)
{
    struct scan_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(cli_scan_port(o->out, &c->names, res, chk))
            output_failed(c, o);
    }
}

/* Writes one host record (discovery's, or proof of life's) to every
 * output: the formats decide what to show. */
static void host_record(const vg_result *host, void *ud)
{
    struct scan_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(cli_scan_host(o->out, &c->names, host))
            output_failed(c, o);
    }
}

static void flush_outputs(struct scan_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_flush(o->out))
            output_failed(c, o);
    }
}

static void progress(const vg_scan_stats *st, bool final)
{
    double pct = st->total ? 100.0 * (double)st->done / (double)st->total : 100.0;
    double pps = st->elapsed_s > 0 ? (double)st->sent / st->elapsed_s : 0;
    double rate_done = st->elapsed_s > 0 ? (double)st->done / st->elapsed_s : 0;
    double eta = rate_done > 0 ? (double)(st->total - st->done) / rate_done : 0;
    if(final) {
        fputs("\r\033[K", stderr);
        return;
    }
    fprintf(stderr, "\r\033[K%5.1f%%  %" PRIu64 "/%" PRIu64 "  %.0f probes/s  %" PRIu64
            " open  %" PRIu64 " in flight  ETA %.0fs",
            pct, st->done, st->total, pps, st->open, st->in_flight, eta);
}

/* Raw engines: what the wire shows, appended to the progress line. */
static void progress_raw(vg_scan *scan, const vg_scan_stats *st)
{
    vg_raw_stats rs;
    vg_scan_get_raw_stats(scan, &rs);
    if(!rs.replies && !rs.invalid && !rs.cap_drops && !rs.send_errors)
        return;
    double rps = st->elapsed_s > 0 ? (double)rs.replies / st->elapsed_s : 0;
    fprintf(stderr, "  %.0f replies/s  %" PRIu64 " dropped by capture  %" PRIu64 " invalid",
            rps, rs.cap_drops, rs.invalid);
}

/* Discovery before a port scan is over: how many hosts are up, on a
 * terminal. */
static void discovered(uint64_t up, uint64_t down, double elapsed_s, void *ud)
{
    struct scan_cli *c = ud;
    uint64_t n = vg_targets_count(c->targets);
    (void)down;
    if(!c->quiet && isatty(STDERR_FILENO))
        fprintf(stderr, PROG " scan: host discovery: %" PRIu64 " of %" PRIu64
                " host%s up (%.2f s); -Pn scans all\n", up, n, n == 1 ? "" : "s", elapsed_s);
}

/* --dry-run: the probes in the order the walk visits them. Nothing is
 * sent, DNS queries included: names that only DNS could resolve come first,
 * each with a line per probe kind that says so (their probes cannot be
 * listed). scan is NULL when no target resolved. */
static int dry_run(struct scan_cli *c, vg_scan *scan)
{
    vg_scan_stats st = {0};
    char buf[VG_ADDR_STRLEN];
    const char *tcp = c->opts.engine == VG_ENGINE_CONNECT ? "tcp-connect"
                    : c->opts.engine == VG_ENGINE_PING ? "ping" : "tcp-syn";
    bool has_tcp = c->opts.engine != VG_ENGINE_UDP;
    bool has_udp = c->opts.engine == VG_ENGINE_UDP || c->opts.engine == VG_ENGINE_SYN_UDP;

    cli_signals_defer(); /* stdout gets whole lines up to the signal */
    for(size_t i = 0; i < vg_targets_unresolved_count(c->targets); i++) {
        bool exclude = false;
        const char *name = vg_targets_unresolved(c->targets, i, &exclude);
        if(exclude) {
            fprintf(stderr, PROG " scan: note: --exclude %s is not resolved (--dry-run sends no DNS"
                    " queries), so the probes below may include its addresses\n", name);
            continue;
        }
        if((has_tcp && printf("%s %s (not resolved: --dry-run sends no DNS queries)\n", tcp, name) < 0) ||
           (has_udp && printf("udp %s (not resolved: --dry-run sends no DNS queries)\n", name) < 0))
            return EXIT_SCAN_RUNTIME;
    }
    if(scan)
        vg_scan_get_stats(scan, &st);
    for(uint64_t i = 0; i < st.total && !cli_interrupted; i++) {
        vg_addr a;
        uint16_t port;
        uint8_t proto;
        vg_scan_probe_at_proto(scan, i, &a, &port, &proto);
        vg_addr_format(&a, buf, sizeof(buf));
        int n = c->opts.engine == VG_ENGINE_PING ? printf("ping %s\n", buf)
              : printf("%s %s %u\n", proto == IPPROTO_UDP ? "udp" : tcp, buf, port);
        if(n < 0)
            return EXIT_SCAN_RUNTIME;
    }
    if(fflush(stdout) != 0)
        return EXIT_SCAN_RUNTIME;
    return cli_interrupted ? cli_interrupt_status() : EXIT_SCAN_OK;
}

/* Writes the scan line of every output. */
static void begin_outputs(struct scan_cli *c, const vg_scan_info *info)
{
    for(int i = 0; i < c->nouts; i++) {
        if(cli_scan_begin(c->outs[i].out, info))
            output_failed(c, &c->outs[i]);
    }
    flush_outputs(c);
}

/* Writes the summary line of every output. */
static void end_outputs(struct scan_cli *c, const vg_scan_end *end)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(cli_scan_end(o->out, end) || vg_output_flush(o->out))
            output_failed(c, o);
    }
}

/* Runs the pipeline to its end, every record to every output, and writes
 * the summary. -sn: discovery is the whole job; its results are host
 * records in every output format. */
static int run(struct scan_cli *c, vg_pipeline *pipe)
{
    vg_error err = {0};
    vg_scan *scan = vg_pipeline_scan(pipe);
    bool ping = c->opts.engine == VG_ENGINE_PING;
    bool show_progress = !ping && !c->quiet && isatty(STDERR_FILENO);
    bool stop_asked = false, stopped = false;
    uint64_t last_progress = 0;
    int rc, status = EXIT_SCAN_OK;

    vg_scan_stats st;
    vg_scan_get_stats(scan, &st);
    vg_scan_opts eff = c->opts;
    eff.concurrency = st.concurrency;
    eff.threads = st.threads;
    vg_scan_info info = {
        .version = VIGIA_VERSION,
        .engine = vg_scan_engine_name(scan),
        .targets = c->targets_desc,
        .ports = ping || !c->ports_desc ? "" : c->ports_desc,
        .n_targets = vg_targets_count(c->targets),
        .n_ports = ping ? 0 : vg_ports_count(c->ports),
        .opts = &eff,
        .start_time = cli_unix_time(),
        .kind = c->opts.engine,
        .check_timeout_ms = c->check ? c->check_timeout_ms : 0,
    };
    if(!ping)
        vg_scan_port_counts(scan, &info.n_tcp_ports, &info.n_udp_ports);
    begin_outputs(c, &info);
    /* --check: the checker runs on this thread, created now that
     * privileges are gone; raw port scans skip the hosts that discovery
     * did not find up, and the outputs get a host record for each first. */
    if(vg_pipeline_start(pipe, &err))
        return scan_lib_error(&err);
    for(;;) {
        int phase = vg_pipeline_phase(pipe);
        rc = vg_pipeline_poll(pipe, phase == VG_PIPELINE_CHECKS ? 50 : 100, &err);
        flush_outputs(c);
        if(rc < 0) {
            if(show_progress && phase == VG_PIPELINE_SCAN)
                progress(&st, true);
            fprintf(stderr, PROG " scan: %s\n", err.msg);
            if(phase == VG_PIPELINE_DISCOVERY)
                return EXIT_SCAN_RUNTIME; /* no port scan, no summary */
            status = EXIT_SCAN_RUNTIME;
            continue; /* what the checks still hold comes out */
        }
        if(rc == 1)
            break;
        phase = vg_pipeline_phase(pipe);
        if(!stop_asked && (cli_interrupted || c->stdout_broken || c->io_error)) {
            /* A run that finished scanning and only waits on checks is
             * not reported as interrupted by a broken stdout. */
            stopped = phase != VG_PIPELINE_CHECKS || cli_interrupted;
            vg_pipeline_stop(pipe);
            stop_asked = true;
        }
        if(!show_progress)
            continue;
        size_t held = vg_pipeline_held(pipe);
        uint64_t now = (uint64_t)(cli_unix_time() * 1000);
        if(phase == VG_PIPELINE_CHECKS && held)
            fprintf(stderr, "\r\033[Kchecking %zu open port%s", held, held == 1 ? "" : "s");
        else if(phase == VG_PIPELINE_SCAN && now - last_progress >= 250) {
            vg_scan_get_stats(scan, &st);
            progress(&st, false);
            progress_raw(scan, &st);
            last_progress = now;
        }
    }
    if(show_progress)
        progress(&st, true);

    bool cut = cli_interrupted || c->stdout_broken;
    vg_scan_end end = {.interrupted = ping ? cut : stopped && cut, .end_time = cli_unix_time()};
    end.signal = end.interrupted ? cli_signal_name(cli_stop_signal(c->stdout_broken)) : NULL;
    vg_pipeline_get_stats(pipe, &end.stats);
    vg_path_report paths[16];
    end.npaths = vg_scan_get_paths(scan, paths, 16);
    if(end.npaths > 16)
        end.npaths = 16;
    end.paths = paths;
    end.max_tries = vg_scan_max_tries(scan);
    end.tries_policy = vg_scan_tries_policy(scan);
    if(!ping && strcmp(vg_scan_engine_name(scan), "connect")) {
        vg_raw_stats rs;
        vg_scan_get_raw_stats(scan, &rs);
        end.raw = true;
        end.replies_rejected = rs.invalid;
        end.replies_late = rs.late;
    }
    end.checked = vg_pipeline_check_counts(pipe, end.check_count);
    end_outputs(c, &end);
    if(status == EXIT_SCAN_OK) {
        if(end.interrupted && cli_interrupted)
            status = cli_interrupt_status();
        else if(c->io_error)
            status = EXIT_SCAN_RUNTIME;
    }
    return status;
}

int cmd_scan(int argc, char **argv)
{
    struct scan_cli c = {0};
    vg_pipeline *pipe = NULL;
    vg_services *svc = NULL;
    vg_oui *oui = NULL;
    vg_error err = {0};
    int rc, status = EXIT_SCAN_OK;

    vg_scan_opts_default(&c.opts);
    c.targets = vg_targets_new();
    c.ports = vg_ports_new();
    if(!c.targets || !c.ports) {
        fprintf(stderr, PROG " scan: out of memory\n");
        status = EXIT_SCAN_RUNTIME;
        goto out;
    }
    rc = scan_parse_args(&c, argc, argv);
    if(rc) {
        status = rc < 0 ? EXIT_SCAN_OK : rc;
        goto out;
    }
    c.ropts.hosts_only = c.dry_run; /* a dry run sends no DNS query either */
    if(vg_targets_finalize(c.targets, &c.ropts, &err)) {
        status = scan_lib_error(&err);
        goto out;
    }
    if(c.dry_run && !vg_targets_count(c.targets)) {
        status = dry_run(&c, NULL); /* only names that DNS would have to resolve */
        goto out;
    }
    if(vg_targets_special_skipped(c.targets) && !c.quiet)
        fprintf(stderr, PROG " scan: note: skipping %" PRIu64 " multicast, reserved, broadcast or"
                " 0.0.0.0/8 addresses inside the given ranges (--allow-special scans them)\n",
                vg_targets_special_skipped(c.targets));
    cli_raise_nofile();
    /* The library decides between discovery, proof of life from port
     * answers and neither; a dry run sends nothing, so it has none. */
    vg_pipeline_opts po;
    vg_pipeline_opts_default(&po);
    po.scan = c.opts;
    po.no_discovery = c.no_ping || c.dry_run;
    po.check = c.check;
    po.check_timeout_ms = c.check_timeout_ms;
    po.banner_ms = 1000; /* the banner wait is 1 s at most */
    vg_pipeline_cb cb = {.host = host_record, .port = emit_result, .discovered = discovered, .ud = &c};
    if(vg_pipeline_new(&pipe, c.targets, c.ports, &po, &cb, &err)) {
        status = scan_lib_error(&err);
        goto out;
    }
    if(c.dry_run) {
        status = dry_run(&c, vg_pipeline_scan(pipe));
        goto out;
    }
    /* MAC vendors: only raw scans see MACs; read before privileges go. */
    if(c.opts.engine != VG_ENGINE_CONNECT)
        oui = vg_oui_load(NULL);
    if(c.opts.engine != VG_ENGINE_PING)
        svc = vg_services_load();
    cli_signals_defer();
    rc = open_outputs(&c, svc, oui);
    if(rc) {
        status = rc;
        goto out;
    }
    /* Raw engines: open the raw and capture sockets now that every file is
     * open, then give up root and capabilities before any reply is read. */
    if(vg_pipeline_prepare(pipe, &err) ||
       (c.opts.engine != VG_ENGINE_CONNECT && vg_drop_privileges(c.user, &err))) {
        status = scan_lib_error(&err);
        goto out;
    }
    status = run(&c, pipe);

out:
    vg_pipeline_free(pipe);
    vg_oui_free(oui);
    for(int i = 0; i < c.nouts; i++) {
        vg_output_free(c.outs[i].out);
        if(c.outs[i].owns_fp && fclose(c.outs[i].fp) != 0 && status == EXIT_SCAN_OK) {
            fprintf(stderr, PROG " scan: writing '%s' failed: %s\n", c.outs[i].path, strerror(errno));
            status = EXIT_SCAN_RUNTIME;
        }
    }
    vg_services_free(svc);
    vg_targets_free(c.targets);
    vg_ports_free(c.ports);
    free(c.targets_desc);
    free(c.ports_desc);
    if(c.stdout_broken && !cli_interrupted && status == EXIT_SCAN_OK) {
        cli_exit_broken_pipe();
    }
    return status;
}
