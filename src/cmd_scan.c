/* SPDX-License-Identifier: MIT */
/* `vigia scan`: parses the command line, builds targets and ports, runs the
 * scan, feeds every output, shows progress, and maps the end to an exit
 * status. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "scan_cli.h"
#include "vigia/output.h"
#include "util/oui.h"
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
        o->out->opts.targets = c->targets;
        o->out->opts.services = svc;
        o->out->opts.oui = oui;
    }
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

static void add_known_mac(const struct scan_cli *c, vg_result *res);

/* Writes one port record (with its check, under --check) to every output. */
static void emit_result(const vg_result *res, const vg_check_result *chk, void *ud)
{
    struct scan_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_result_check(o->out, res, chk))
            output_failed(c, o);
    }
}

static void host_record(const vg_result *host, void *ud)
{
    struct scan_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_host(o->out, host))
            output_failed(c, o);
    }
}

static void port_result(const vg_result *res, void *ud);

static void on_result(const vg_result *res, void *ud)
{
    struct scan_cli *c = ud;
    if(c->life) {
        vg_result host;
        bool first;
        if(vg_liveness_feed(c->life, res, &host, &first) == VG_LIVE_HELD)
            return;
        if(first)
            host_record(&host, c);
    }
    port_result(res, ud);
}

static void port_result(const vg_result *res, void *ud)
{
    struct scan_cli *c = ud;
    vg_result r = *res;
    if(!r.has_mac && c->nmacs)
        add_known_mac(c, &r);
    if(c->checks)
        vg_scan_checks_result(c->checks, &r); /* open ports wait for their check */
    else
        emit_result(&r, NULL, c);
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


/* --- host discovery (-sn; and before a raw port scan unless -Pn) ---------- */

/* Packets discovery sends to each host: ICMP echo, SYN 443, ACK 80, and
 * ARP or a neighbour solicitation on-link. */
#define DISCOVERY_PROBES_PER_HOST 4
/* Below this many targets discovery is cheap whatever it costs per host,
 * and its records keep their place before every port record. */
#define LIVENESS_MIN_TARGETS 256

/* Probes the port scan sends to each host (before retries). */
static uint64_t scan_ports_per_host(const struct scan_cli *c)
{
    bool tcp = c->opts.engine != VG_ENGINE_UDP;
    bool udp = c->opts.engine == VG_ENGINE_UDP || c->opts.engine == VG_ENGINE_SYN_UDP;
    return (tcp ? vg_ports_count_proto(c->ports, IPPROTO_TCP) : 0) +
           (udp ? vg_ports_count_proto(c->ports, IPPROTO_UDP) : 0);
}



struct discovery {
    struct scan_cli *cli;
    uint8_t *live;   /* bit per target index: up; NULL with -sn */
    uint64_t up, down;
};

/* Index of addr in the sorted target set (results carry addresses). */

static void remember_mac(struct scan_cli *c, const vg_result *res)
{
    if(c->nmacs == c->capmacs) {
        size_t cap = c->capmacs ? c->capmacs * 2 : 64;
        struct host_mac *m = realloc(c->macs, cap * sizeof(*m));
        if(!m)
            return; /* a nicety: the port records just lack the MAC */
        c->macs = m;
        c->capmacs = cap;
    }
    c->macs[c->nmacs].addr = res->addr;
    memcpy(c->macs[c->nmacs].mac, res->mac, 6);
    c->nmacs++;
}

static int mac_cmp(const void *a, const void *b)
{
    return vg_addr_cmp(&((const struct host_mac *)a)->addr, &((const struct host_mac *)b)->addr);
}

/* Every output sees every discovery result (the formats decide what to
 * write); a port scan after it probes only the hosts found up. */
static void on_host(const vg_result *res, void *ud)
{
    struct discovery *d = ud;
    struct scan_cli *c = d->cli;

    if(res->state == VG_STATE_OPEN) {
        d->up++;
        uint64_t i = vg_targets_index(c->targets, &res->addr);
        if(i != UINT64_MAX && d->live)
            d->live[i / 8] |= (uint8_t)(1u << (i % 8));
        if(d->live && res->has_mac)
            remember_mac(c, res);
    }
    else
        d->down++;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_host(o->out, res))
            output_failed(c, o);
    }
}

/* Runs a discovery scan (prepared, privileges dropped) to its end. */
static int run_discovery(vg_scan *ping, struct discovery *d)
{
    struct scan_cli *c = d->cli;
    vg_error err = {0};
    bool stopped = false;
    int rc;

    if(vg_scan_start(ping, &err))
        return scan_lib_error(&err);
    for(;;) {
        rc = vg_scan_poll(ping, 100, on_host, d, &err);
        flush_outputs(c);
        if(rc < 0) {
            fprintf(stderr, PROG " scan: %s\n", err.msg);
            return EXIT_SCAN_RUNTIME;
        }
        if(rc == 1)
            break;
        if(!stopped && (cli_interrupted || c->stdout_broken || c->io_error)) {
            vg_scan_stop(ping);
            stopped = true;
        }
    }
    if(c->nmacs)
        qsort(c->macs, c->nmacs, sizeof(*c->macs), mac_cmp);
    return cli_interrupted ? cli_interrupt_status() : EXIT_SCAN_OK;
}

/* The MAC discovery saw for a port result's host, when the reply itself
 * did not show one (a filtered port, a reply through a router). */
static void add_known_mac(const struct scan_cli *c, vg_result *res)
{
    size_t lo = 0, hi = c->nmacs;
    while(lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = vg_addr_cmp(&c->macs[mid].addr, &res->addr);
        if(!cmp) {
            res->has_mac = 1;
            memcpy(res->mac, c->macs[mid].mac, 6);
            return;
        }
        if(cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
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
        if(vg_output_begin(c->outs[i].out, info))
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
        if(vg_output_end(o->out, end) || vg_output_flush(o->out))
            output_failed(c, o);
    }
}

/* -sn: discovery is the whole job; its results are host records in every
 * output format. */
static int ping_only(struct scan_cli *c, vg_scan *ping, struct discovery *d, const vg_oui *oui)
{
    vg_error err = {0};
    cli_signals_defer();
    int rc = open_outputs(c, NULL, oui);
    if(rc)
        return rc;
    if(vg_scan_prepare(ping, &err) || vg_drop_privileges(c->user, &err))
        return scan_lib_error(&err);
    vg_scan_stats st;
    vg_scan_get_stats(ping, &st);
    vg_scan_opts eff = c->opts;
    eff.concurrency = st.concurrency;
    eff.threads = st.threads;
    vg_scan_info info = {
        .version = VIGIA_VERSION,
        .engine = vg_scan_engine_name(ping),
        .targets = c->targets_desc,
        .ports = "",
        .n_targets = vg_targets_count(c->targets),
        .n_ports = 0,
        .opts = &eff,
        .start_time = cli_unix_time(),
        .kind = VG_ENGINE_PING,
    };
    begin_outputs(c, &info);
    int status = run_discovery(ping, d);
    if(status != EXIT_SCAN_OK && !(cli_interrupted && status == cli_interrupt_status()))
        return status;
    vg_scan_end end = {.interrupted = cli_interrupted || c->stdout_broken, .end_time = cli_unix_time(),
                       .signal = cli_signal_name(cli_stop_signal(c->stdout_broken))};
    vg_scan_get_stats(ping, &end.stats);
    end_outputs(c, &end);
    if(status == EXIT_SCAN_OK && c->io_error)
        status = EXIT_SCAN_RUNTIME;
    return status;
}

int cmd_scan(int argc, char **argv)
{
    struct scan_cli c = {0};
    vg_scan *scan = NULL;
    vg_services *svc = NULL;
    vg_oui *oui = NULL;
    vg_error err = {0};
    int rc, status = EXIT_SCAN_OK;
    bool stopped = false;
    vg_ports *ping_ports = NULL; /* host discovery */
    vg_scan *ping = NULL;
    struct discovery disc = {.cli = &c};
    bool discovery_interrupted = false;

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
    /* Discovery sends about four packets per host; when the port scan sends
     * no more, a port's answer is proof of life enough: scan every host
     * and let the answers say which are up. On an attached segment ARP
     * answers for hosts that answer nothing else, so discovery runs. */
    if(c.opts.engine != VG_ENGINE_PING && c.opts.engine != VG_ENGINE_CONNECT && !c.no_ping &&
       !c.dry_run && scan_ports_per_host(&c) <= DISCOVERY_PROBES_PER_HOST &&
       vg_targets_count(c.targets) >= LIVENESS_MIN_TARGETS && !vg_targets_onlink(c.targets)) {
        if(vg_liveness_new(&c.life, c.targets, &err)) {
            status = scan_lib_error(&err);
            goto out;
        }
        c.no_ping = true;
    }
    /* Host discovery walks the targets once: one "port" per host. */
    if(c.opts.engine == VG_ENGINE_PING || (c.opts.engine != VG_ENGINE_CONNECT && !c.no_ping &&
                                            !c.dry_run)) {
        vg_scan_opts po = c.opts;
        po.engine = VG_ENGINE_PING;
        po.shard_count = 0; /* every host of this shard's elements may be needed */
        po.shard_index = 0;
        ping_ports = vg_ports_new();
        if(!ping_ports || vg_ports_add(ping_ports, "1", &err) ||
           vg_scan_new(&ping, c.targets, ping_ports, &po, &err)) {
            status = scan_lib_error(&err);
            goto out;
        }
    }
    /* MAC vendors: only raw scans see MACs; read before privileges go. */
    if(c.opts.engine != VG_ENGINE_CONNECT && !c.dry_run)
        oui = vg_oui_load(NULL);
    if(c.opts.engine == VG_ENGINE_PING) {
        status = c.dry_run ? dry_run(&c, ping) : ping_only(&c, ping, &disc, oui);
        goto out;
    }
    if(vg_scan_new(&scan, c.targets, c.ports, &c.opts, &err)) {
        status = scan_lib_error(&err);
        goto out;
    }
    if(c.dry_run) {
        status = dry_run(&c, scan);
        goto out;
    }
    svc = vg_services_load();
    cli_signals_defer();
    rc = open_outputs(&c, svc, oui);
    if(rc) {
        status = rc;
        goto out;
    }
    /* Raw engines: open the raw and capture sockets now that every file is
     * open, then give up root and capabilities before any reply is read. */
    if(c.opts.engine != VG_ENGINE_CONNECT) {
        if((ping && vg_scan_prepare(ping, &err)) || vg_scan_prepare(scan, &err) ||
           (ping && vg_scan_follow_discovery(scan, ping, &err)) ||
           vg_drop_privileges(c.user, &err)) {
            status = scan_lib_error(&err);
            goto out;
        }
    }

    vg_scan_stats st;
    vg_scan_get_stats(scan, &st);
    vg_scan_opts eff = c.opts;
    eff.concurrency = st.concurrency;
    eff.threads = st.threads;
    vg_scan_info info = {
        .version = VIGIA_VERSION,
        .engine = vg_scan_engine_name(scan),
        .targets = c.targets_desc,
        .ports = c.ports_desc ? c.ports_desc : "",
        .n_targets = vg_targets_count(c.targets),
        .n_ports = vg_ports_count(c.ports),
        .opts = &eff,
        .start_time = cli_unix_time(),
        .kind = c.opts.engine,
        .check_timeout_ms = c.check ? c.check_timeout_ms : 0,
    };
    vg_scan_port_counts(scan, &info.n_tcp_ports, &info.n_udp_ports);
    /* --check: the checker runs on this thread, polled from the loop below;
     * created after privileges are gone. The banner wait is 1 s at most. */
    if(c.check && vg_scan_checks_new(&c.checks, c.check_timeout_ms, 1000, emit_result, &c, &err)) {
        status = scan_lib_error(&err);
        goto out;
    }
    begin_outputs(&c, &info);

    /* Raw port scans skip the hosts that discovery did not find up; the
     * outputs get a host record for each live one first. */
    if(ping) {
        uint64_t n = vg_targets_count(c.targets);
        disc.live = n < (UINT64_C(1) << 35) ? calloc((size_t)(n / 8 + 1), 1) : NULL;
        if(!disc.live) {
            fprintf(stderr, PROG " scan: too many targets for host discovery; use -Pn\n");
            status = EXIT_SCAN_USAGE;
            goto out;
        }
        double t0 = cli_unix_time();
        status = run_discovery(ping, &disc);
        if((cli_interrupted && status == cli_interrupt_status()) ||
           (status == EXIT_SCAN_OK && (c.stdout_broken || c.io_error)))
            discovery_interrupted = true;
        else if(status != EXIT_SCAN_OK)
            goto out;
        status = EXIT_SCAN_OK;
        if(!discovery_interrupted && !c.quiet && isatty(STDERR_FILENO))
            fprintf(stderr, PROG " scan: host discovery: %" PRIu64 " of %" PRIu64
                    " host%s up (%.2f s); -Pn scans all\n", disc.up, n, n == 1 ? "" : "s",
                    cli_unix_time() - t0);
        if(vg_scan_set_live(scan, disc.live, &err)) {
            status = scan_lib_error(&err);
            goto out;
        }
    }

    if(discovery_interrupted) {
        /* Stopped during discovery: no port scan, but a summary. */
        stopped = true;
    }
    else if(vg_scan_start(scan, &err)) {
        status = scan_lib_error(&err);
        goto out;
    }

    bool show_progress = !c.quiet && isatty(STDERR_FILENO);
    uint64_t last_progress = 0;
    bool checks_stopped = false;
    while(!discovery_interrupted) {
        rc = vg_scan_poll(scan, c.checks ? 10 : 100, on_result, &c, &err);
        if(rc >= 0 && c.checks && vg_scan_checks_poll(c.checks, 0, &err) < 0)
            rc = -1;
        flush_outputs(&c);
        if(rc < 0) {
            if(show_progress)
                progress(&st, true);
            fprintf(stderr, PROG " scan: %s\n", err.msg);
            status = EXIT_SCAN_RUNTIME;
            break;
        }
        if(rc == 1)
            break;
        if(!stopped && (cli_interrupted || c.stdout_broken || c.io_error)) {
            vg_scan_stop(scan);
            stopped = true;
            if(c.checks) {
                vg_scan_checks_stop(c.checks); /* held ports come out as interrupted */
                checks_stopped = true;
            }
        }
        if(show_progress) {
            uint64_t now = (uint64_t)(cli_unix_time() * 1000);
            if(now - last_progress >= 250) {
                vg_scan_get_stats(scan, &st);
                progress(&st, false);
                progress_raw(scan, &st);
                last_progress = now;
            }
        }
    }
    /* --check: the scan is over; wait for the checks of the ports it held.
     * Each check has a deadline (banner wait + two check timeouts at most
     * per port), so this ends; the extra deadline only guards the loop. */
    if(c.checks) {
        double give_up = cli_unix_time() + 1.0 + 2.0 * c.check_timeout_ms / 1000.0 + 5.0;
        for(;;) {
            long held = vg_scan_checks_poll(c.checks, 50, &err);
            flush_outputs(&c);
            if(held < 0) {
                fprintf(stderr, PROG " scan: %s\n", err.msg);
                status = EXIT_SCAN_RUNTIME;
                break;
            }
            if(held == 0)
                break;
            if(!checks_stopped && (cli_interrupted || c.stdout_broken || c.io_error ||
                                   cli_unix_time() > give_up)) {
                vg_scan_checks_stop(c.checks);
                checks_stopped = true;
                stopped = stopped || cli_interrupted;
            }
            if(show_progress)
                fprintf(stderr, "\r\033[Kchecking %ld open port%s", held, held == 1 ? "" : "s");
        }
    }
    if(show_progress)
        progress(&st, true);

    vg_scan_end end = {.interrupted = stopped && (cli_interrupted || c.stdout_broken),
                       .end_time = cli_unix_time()};
    end.signal = end.interrupted ? cli_signal_name(cli_stop_signal(c.stdout_broken)) : NULL;
    vg_scan_get_stats(scan, &end.stats);
    if(c.life) {
        /* Silent ports of hosts that never answered: skipped, host down. */
        uint64_t sk = vg_liveness_finish(c.life, port_result, host_record, &c);
        flush_outputs(&c);
        end.stats.skipped += sk;
        end.stats.done -= sk < end.stats.done ? sk : end.stats.done;
        end.stats.total -= sk < end.stats.total ? sk : end.stats.total;
        end.stats.filtered -= sk < end.stats.filtered ? sk : end.stats.filtered;
    }
    vg_path_report paths[16];
    end.npaths = vg_scan_get_paths(scan, paths, 16);
    if(end.npaths > 16)
        end.npaths = 16;
    end.paths = paths;
    end.max_tries = vg_scan_max_tries(scan);
    end.tries_policy = vg_scan_tries_policy(scan);
    if(strcmp(vg_scan_engine_name(scan), "connect")) {
        vg_raw_stats rs;
        vg_scan_get_raw_stats(scan, &rs);
        end.raw = true;
        end.replies_rejected = rs.invalid;
        end.replies_late = rs.late;
    }
    if(c.checks) {
        end.checked = true;
        vg_scan_checks_counts(c.checks, end.check_count);
    }
    end_outputs(&c, &end);
    if(status == EXIT_SCAN_OK) {
        if(end.interrupted && cli_interrupted)
            status = cli_interrupt_status();
        else if(c.io_error)
            status = EXIT_SCAN_RUNTIME;
    }

out:
    vg_liveness_free(c.life);
    vg_scan_checks_free(c.checks);
    vg_scan_free(scan);
    vg_scan_free(ping);
    vg_ports_free(ping_ports);
    free(disc.live);
    free(c.macs);
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
