/* SPDX-License-Identifier: MIT */
/* The scan pipeline (vigia/pipeline.h): host discovery -> live set -> port
 * scan -> MAC join -> service checks, driven by the caller's polls. It
 * holds no engine of its own: it sequences vg_scan handles, vg_liveness
 * and vg_scan_checks, and routes their records to the caller. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/alloc.h"
#include "util/fdclose.h"
#include "vigia/pipeline.h"

/* Packets discovery sends to each host: ICMP echo, SYN 443, ACK 80, and
 * ARP or a neighbour solicitation on-link. */
#define DISCOVERY_PROBES_PER_HOST 4
/* Below this many targets discovery is cheap whatever it costs per host,
 * and its records keep their place before every port record. */
#define LIVENESS_MIN_TARGETS 256
/* Poll wait of the scan while checks run beside it on the same thread. */
#define SCAN_WAIT_WITH_CHECKS_MS 10

struct host_mac {
    vg_addr addr;
    uint8_t mac[6];
};

struct vg_pipeline {
    const vg_targets *targets;
    vg_pipeline_opts opts;
    vg_pipeline_cb cb;
    int phase;
    vg_ports *ping_ports;    /* discovery walks one "port" per host */
    vg_scan *ping;           /* discovery; NULL without */
    vg_scan *scan;           /* the port scan; NULL with VG_ENGINE_PING */
    vg_liveness *life;       /* proof of life from port answers; NULL without */
    vg_scan_checks *checks;  /* NULL without opts.check */
    uint8_t *live;           /* bit per target index: up (discovery before a scan) */
    uint64_t up, down;
    /* MACs that discovery saw, sorted by address once it ended */
    struct host_mac *macs;
    size_t nmacs, capmacs;
    bool discovered;         /* discovery ended; the port scan starts next poll */
    bool stopped;            /* vg_pipeline_stop() was called */
    bool checks_stopped;
    double t0;               /* discovery's start, monotonic seconds */
    double give_up;          /* CHECKS: when held checks are stopped */
    uint64_t skipped;        /* proof of life: ports of down hosts */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vg_pipeline_opts_default(vg_pipeline_opts *o)
{
    memset(o, 0, sizeof(*o));
    vg_scan_opts_default(&o->scan);
}

/* Probes the port scan sends to each host (before retries). */
static uint64_t ports_per_host(const vg_ports *ports, int engine)
{
    bool tcp = engine != VG_ENGINE_UDP;
    bool udp = engine == VG_ENGINE_UDP || engine == VG_ENGINE_SYN_UDP;
    return (tcp ? vg_ports_count_proto(ports, IPPROTO_TCP) : 0) +
           (udp ? vg_ports_count_proto(ports, IPPROTO_UDP) : 0);
}

int vg_pipeline_new(vg_pipeline **out, const vg_targets *targets, const vg_ports *ports,
                    const vg_pipeline_opts *opts, const vg_pipeline_cb *cb, vg_error *err)
{
    int engine = opts->scan.engine;
    bool discovery = false;
    int rc = VG_OK;

    *out = NULL;
    if(opts->check && engine == VG_ENGINE_PING)
        return vg_error_set(err, VG_EINVAL, "service checks need a port scan, not host discovery alone");
    vg_pipeline *p = vg_calloc(1, sizeof(*p));
    if(!p)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    p->targets = targets;
    p->opts = *opts;
    p->cb = *cb;
    if(!p->opts.check_timeout_ms)
        p->opts.check_timeout_ms = 5000;
    if(!p->opts.banner_ms)
        p->opts.banner_ms = 1000;
    /* Discovery sends about four packets per host; when the port scan sends
     * no more, a port's answer is proof of life enough: scan every host
     * and let the answers say which are up. On an attached segment ARP
     * answers for hosts that answer nothing else, so discovery runs. */
    if(engine == VG_ENGINE_PING)
        discovery = true;
    else if(engine != VG_ENGINE_CONNECT && !opts->no_discovery) {
        if(ports_per_host(ports, engine) <= DISCOVERY_PROBES_PER_HOST &&
           vg_targets_count(targets) >= LIVENESS_MIN_TARGETS && !vg_targets_onlink(targets))
            rc = vg_liveness_new(&p->life, targets, err);
        else
            discovery = true;
    }
    /* Host discovery walks the targets once: one "port" per host, over
     * every host of this shard's elements. */
    if(!rc && discovery) {
        vg_scan_opts po = opts->scan;
        po.engine = VG_ENGINE_PING;
        po.shard_count = 0;
        po.shard_index = 0;
        p->ping_ports = vg_ports_new();
        if(!p->ping_ports)
            rc = vg_error_set(err, VG_ENOMEM, "out of memory");
        if(!rc)
            rc = vg_ports_add(p->ping_ports, "1", err);
        if(!rc)
            rc = vg_scan_new(&p->ping, targets, p->ping_ports, &po, err);
    }
    if(!rc && engine != VG_ENGINE_PING)
        rc = vg_scan_new(&p->scan, targets, ports, &opts->scan, err);
    if(rc) {
        vg_pipeline_free(p);
        return rc;
    }
    *out = p;
    return VG_OK;
}

int vg_pipeline_prepare(vg_pipeline *p, vg_error *err)
{
    int rc = VG_OK;
    if(p->opts.scan.engine == VG_ENGINE_CONNECT)
        return VG_OK;
    if(p->ping)
        rc = vg_scan_prepare(p->ping, err);
    if(!rc && p->scan)
        rc = vg_scan_prepare(p->scan, err);
    if(!rc && p->ping && p->scan)
        rc = vg_scan_follow_discovery(p->scan, p->ping, err);
    return rc;
}

int vg_pipeline_start(vg_pipeline *p, vg_error *err)
{
    int rc;

    if(p->phase != VG_PIPELINE_IDLE)
        return vg_error_set(err, VG_EINVAL, "pipeline already started");
    if(p->opts.check) {
        rc = vg_scan_checks_new(&p->checks, p->opts.check_timeout_ms, p->opts.banner_ms,
                                p->cb.port, p->cb.ud, err);
        if(rc)
            return rc;
    }
    if(p->ping && p->scan) {
        uint64_t n = vg_targets_count(p->targets);
        p->live = n < (UINT64_C(1) << 35) ? vg_calloc((size_t)(n / 8 + 1), 1) : NULL;
        if(!p->live && n >= (UINT64_C(1) << 35))
            return vg_error_set(err, VG_EINVAL, "too many targets for host discovery; use -Pn");
        if(!p->live)
            return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    if(p->ping) {
        p->t0 = now_s();
        rc = vg_scan_start(p->ping, err);
        if(rc)
            return rc;
        p->phase = VG_PIPELINE_DISCOVERY;
        return VG_OK;
    }
    rc = vg_scan_start(p->scan, err);
    if(rc)
        return rc;
    p->phase = VG_PIPELINE_SCAN;
    return VG_OK;
}

/* --- discovery ------------------------------------------------------------ */

static void remember_mac(vg_pipeline *p, const vg_result *res)
{
    if(p->nmacs == p->capmacs) {
        size_t cap = p->capmacs ? p->capmacs * 2 : 64;
        struct host_mac *m = vg_realloc(p->macs, cap * sizeof(*m));
        if(!m)
            return; /* a nicety: the port records just lack the MAC */
        p->macs = m;
        p->capmacs = cap;
    }
    p->macs[p->nmacs].addr = res->addr;
    memcpy(p->macs[p->nmacs].mac, res->mac, 6);
    p->nmacs++;
}

static int mac_cmp(const void *a, const void *b)
{
    return vg_addr_cmp(&((const struct host_mac *)a)->addr, &((const struct host_mac *)b)->addr);
}

/* The MAC discovery saw for a port result's host, when the reply itself
 * did not show one (a filtered port, a reply through a router). */
static void add_known_mac(const vg_pipeline *p, vg_result *res)
{
    size_t lo = 0, hi = p->nmacs;
    while(lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = vg_addr_cmp(&p->macs[mid].addr, &res->addr);
        if(!cmp) {
            res->has_mac = 1;
            memcpy(res->mac, p->macs[mid].mac, 6);
            return;
        }
        if(cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
}

static void host_record(const vg_result *host, void *ud)
{
    vg_pipeline *p = ud;
    if(p->cb.host)
        p->cb.host(host, p->cb.ud);
}

/* Every discovery result is a host record; a port scan after it probes
 * only the hosts found up. */
static void on_host(const vg_result *res, void *ud)
{
    vg_pipeline *p = ud;

    if(res->state == VG_STATE_OPEN) {
        p->up++;
        uint64_t i = vg_targets_index(p->targets, &res->addr);
        if(i != UINT64_MAX && p->live)
            p->live[i / 8] |= (uint8_t)(1u << (i % 8));
        if(p->live && res->has_mac)
            remember_mac(p, res);
    }
    else
        p->down++;
    host_record(res, p);
}

/* --- the port scan -------------------------------------------------------- */

static void port_record(const vg_result *res, void *ud)
{
    vg_pipeline *p = ud;
    vg_result r = *res;
    if(!r.has_mac && p->nmacs)
        add_known_mac(p, &r);
    if(p->checks)
        vg_scan_checks_result(p->checks, &r); /* open ports wait for their check */
    else if(p->cb.port)
        p->cb.port(&r, NULL, p->cb.ud);
}

static void on_result(const vg_result *res, void *ud)
{
    vg_pipeline *p = ud;
    if(p->life) {
        vg_result host;
        bool first;
        if(vg_liveness_feed(p->life, res, &host, &first) == VG_LIVE_HELD)
            return;
        if(first)
            host_record(&host, p);
    }
    port_record(res, p);
}

/* Silent ports of hosts that never answered: skipped, host down. */
static int finish(vg_pipeline *p)
{
    if(p->life)
        p->skipped = vg_liveness_finish(p->life, port_record, host_record, p);
    p->phase = VG_PIPELINE_DONE;
    return 1;
}

/* The scan is over (or failed): wait for the checks of the ports it held.
 * Each check has a deadline (banner wait + two check timeouts at most per
 * port), so this ends; the extra deadline only guards the loop. */
static int scan_over(vg_pipeline *p)
{
    if(!p->checks)
        return finish(p);
    p->phase = VG_PIPELINE_CHECKS;
    p->give_up = now_s() + p->opts.banner_ms / 1000.0 + 2.0 * p->opts.check_timeout_ms / 1000.0 + 5.0;
    return 0;
}

static int poll_discovery(vg_pipeline *p, int timeout_ms, vg_error *err)
{
    int rc = vg_scan_poll(p->ping, timeout_ms, on_host, p, err);
    if(rc <= 0) {
        if(rc < 0)
            p->phase = VG_PIPELINE_DONE;
        return rc;
    }
    if(p->nmacs)
        qsort(p->macs, p->nmacs, sizeof(*p->macs), mac_cmp);
    if(!p->scan)
        return finish(p);
    rc = vg_scan_set_live(p->scan, p->live, err);
    if(rc) {
        p->phase = VG_PIPELINE_DONE;
        return rc;
    }
    p->discovered = true;
    return 0;
}

/* Discovery ended in an earlier poll: the port scan, unless stopped. */
static int start_scan(vg_pipeline *p, vg_error *err)
{
    if(p->stopped)
        return finish(p);
    if(p->cb.discovered)
        p->cb.discovered(p->up, p->down, now_s() - p->t0, p->cb.ud);
    int rc = vg_scan_start(p->scan, err);
    if(rc) {
        p->phase = VG_PIPELINE_DONE;
        return rc;
    }
    p->phase = VG_PIPELINE_SCAN;
    return 0;
}

static int poll_scan(vg_pipeline *p, int timeout_ms, vg_error *err)
{
    int wait = p->checks && timeout_ms > SCAN_WAIT_WITH_CHECKS_MS ? SCAN_WAIT_WITH_CHECKS_MS : timeout_ms;
    int rc = vg_scan_poll(p->scan, wait, on_result, p, err);
    if(rc >= 0 && p->checks) {
        long held = vg_scan_checks_poll(p->checks, 0, err);
        if(held < 0)
            rc = (int)held;
    }
    if(rc < 0) {
        scan_over(p);
        return rc;
    }
    return rc == 1 ? scan_over(p) : 0;
}

static int poll_checks(vg_pipeline *p, int timeout_ms, vg_error *err)
{
    long held = vg_scan_checks_poll(p->checks, timeout_ms, err);
    if(held < 0) {
        finish(p);
        return (int)held;
    }
    if(held == 0)
        return finish(p);
    if(!p->checks_stopped && now_s() > p->give_up) {
        vg_scan_checks_stop(p->checks);
        p->checks_stopped = true;
    }
    return 0;
}

int vg_pipeline_poll(vg_pipeline *p, int timeout_ms, vg_error *err)
{
    switch(p->phase) {
    case VG_PIPELINE_IDLE:
        return vg_error_set(err, VG_EINVAL, "pipeline not started");
    case VG_PIPELINE_DISCOVERY:
        /* the poll that starts the port scan does nothing else, so an
         * error in it is the start's */
        return p->discovered ? start_scan(p, err) : poll_discovery(p, timeout_ms, err);
    case VG_PIPELINE_SCAN:
        return poll_scan(p, timeout_ms, err);
    case VG_PIPELINE_CHECKS:
        return poll_checks(p, timeout_ms, err);
    default:
        return 1;
    }
}

void vg_pipeline_stop(vg_pipeline *p)
{
    p->stopped = true;
    if(p->phase == VG_PIPELINE_DISCOVERY && !p->discovered)
        vg_scan_stop(p->ping);
    else if(p->phase == VG_PIPELINE_SCAN)
        vg_scan_stop(p->scan);
    /* held ports come out as interrupted */
    if(p->checks && !p->checks_stopped &&
       (p->phase == VG_PIPELINE_SCAN || p->phase == VG_PIPELINE_CHECKS)) {
        vg_scan_checks_stop(p->checks);
        p->checks_stopped = true;
    }
}

int vg_pipeline_phase(const vg_pipeline *p)
{
    return p->phase;
}

vg_scan *vg_pipeline_scan(vg_pipeline *p)
{
    return p->scan ? p->scan : p->ping;
}

void vg_pipeline_get_stats(vg_pipeline *p, vg_scan_stats *st)
{
    uint64_t sk = p->skipped;
    vg_scan_get_stats(vg_pipeline_scan(p), st);
    st->skipped += sk;
    st->done -= sk < st->done ? sk : st->done;
    st->total -= sk < st->total ? sk : st->total;
    st->filtered -= sk < st->filtered ? sk : st->filtered;
}

size_t vg_pipeline_held(const vg_pipeline *p)
{
    return p->checks ? vg_scan_checks_held(p->checks) : 0;
}

bool vg_pipeline_check_counts(const vg_pipeline *p, uint64_t count[4])
{
    if(!p->checks)
        return false;
    vg_scan_checks_counts(p->checks, count);
    return true;
}

static void scan_free_cb(void *s)
{
    vg_scan_free(s);
}

void vg_pipeline_free(vg_pipeline *p)
{
    if(!p)
        return;
    vg_liveness_free(p->life);
    vg_scan_checks_free(p->checks);
    /* Both may hold packet sockets, whose close waits for the kernel. */
    if(p->scan && p->ping) {
        vg_run_pair(scan_free_cb, p->scan, scan_free_cb, p->ping);
    }
    else {
        vg_scan_free(p->scan);
        vg_scan_free(p->ping);
    }
    vg_ports_free(p->ping_ports);
    free(p->live);
    free(p->macs);
    free(p);
}
