/* SPDX-License-Identifier: MIT */
/* The text format. For a scan, the human table: results are gathered per
 * host while the scan runs and printed sorted at the end, like nmap's
 * report but with the evidence (reason, RTT, tries) in columns; with -sn
 * it is the list of live hosts, sorted the same way. For checks, one
 * monitoring-plugin line per check (text_check.c). */
#include <ctype.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/formats.h"
#include "util/alloc.h"

/* The strings of rows and hosts are the long-lived ones of the records
 * (vigia/record.h): names from tables that outlive the output. */
struct port_row {
    uint16_t port;
    uint8_t proto, tries;
    const char *state, *reason, *service;
    int64_t rtt_us;
    char *check;      /* scan --check: the verdict line (owned), or NULL */
};

struct host_rec {
    vg_addr addr;
    const char *name; /* the name the user gave, or NULL */
    uint64_t count[VG_REC_PORT__COUNT];
    struct port_row *rows;
    size_t nrows, caprows;
    /* host discovery */
    bool discovered, up;
    const char *reason;
    int64_t rtt_us;
    /* link-layer address, from discovery or any reply */
    bool has_mac;
    uint8_t mac[6];
    const char *vendor;
};

struct text_ctx {
    struct host_rec *hosts;
    size_t nhosts, caphosts;
    uint32_t *index;  /* open addressing: host position + 1; 0 = empty */
    size_t index_cap; /* power of two */
    bool oom;
    uint64_t n_targets;
    bool discovery_only;   /* the header said -sn */
    uint64_t up, down;     /* host discovery */
};

static uint64_t addr_hash(const vg_addr *a)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ a->family;
    for(int i = 0; i < 16; i++)
        h = (h ^ a->a[i]) * 0x100000001b3ULL;
    return h ^ a->scope_id;
}

static int index_rebuild(struct text_ctx *c, size_t cap)
{
    uint32_t *idx = vg_calloc(cap, sizeof(*idx));
    if(!idx)
        return VG_ENOMEM;
    for(size_t i = 0; i < c->nhosts; i++) {
        size_t j = addr_hash(&c->hosts[i].addr) & (cap - 1);
        while(idx[j])
            j = (j + 1) & (cap - 1);
        idx[j] = (uint32_t)i + 1;
    }
    free(c->index);
    c->index = idx;
    c->index_cap = cap;
    return VG_OK;
}

static struct host_rec *host_get(struct text_ctx *c, const vg_addr *a, const char *name)
{
    if((c->nhosts + 1) * 2 > c->index_cap &&
       index_rebuild(c, c->index_cap ? c->index_cap * 2 : 64))
        return NULL;
    size_t j = addr_hash(a) & (c->index_cap - 1);
    while(c->index[j]) {
        struct host_rec *h = &c->hosts[c->index[j] - 1];
        if(!vg_addr_cmp(&h->addr, a))
            return h;
        j = (j + 1) & (c->index_cap - 1);
    }
    if(c->nhosts == c->caphosts) {
        size_t cap = c->caphosts ? c->caphosts * 2 : 16;
        struct host_rec *hs = vg_realloc(c->hosts, cap * sizeof(*hs));
        if(!hs)
            return NULL;
        c->hosts = hs;
        c->caphosts = cap;
    }
    struct host_rec *h = &c->hosts[c->nhosts];
    memset(h, 0, sizeof(*h));
    h->addr = *a;
    h->name = name;
    c->index[j] = (uint32_t)++c->nhosts;
    return h;
}

static void fmt_time(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int text_begin(vg_output *o, const vg_record *rec)
{
    struct text_ctx *c = o->ctx;
    const vg_rec_scan *info = rec->scan;
    char ts[64];

    c->n_targets = info->n_targets;
    c->discovery_only = info->discovery_only;
    fmt_time(info->start_time, ts, sizeof(ts));
    if(info->discovery_only) {
        fprintf(o->fp, "vigia %s host discovery, %" PRIu64 " host%s, started %s\n",
                info->version, info->n_targets, info->n_targets == 1 ? "" : "s", ts);
        return VG_OK;
    }
    fprintf(o->fp, "vigia %s %s scan, %" PRIu64 " host%s x ", info->version, info->engine,
            info->n_targets, info->n_targets == 1 ? "" : "s");
    if(info->n_tcp_ports && info->n_udp_ports)
        fprintf(o->fp, "%" PRIu64 " tcp + %" PRIu64 " udp ports", info->n_tcp_ports,
                info->n_udp_ports);
    else
        fprintf(o->fp, "%" PRIu64 " port%s", info->n_ports, info->n_ports == 1 ? "" : "s");
    fprintf(o->fp, ", started %s\n", ts);
    return VG_OK;
}

static bool listed(const vg_output *o, vg_rec_port_state state)
{
    if(state == VG_REC_PORT_OPEN)
        return true;
    return o->opts.verbose > 0 && !o->opts.open_only;
}

/* scan --check: one line under the port, "check KIND: STATE (reason)
 * message"; the message is already escaped (vigia/check.h). */
static char *check_line(const vg_rec_check *chk)
{
    char buf[1200], state[16]; /* kind, state, reason and the whole message */
    snprintf(state, sizeof(state), "%s", vg_check_state_name(chk->state));
    for(char *p = state; *p; p++)
        *p = (char)toupper((unsigned char)*p); /* OK, CRITICAL: as vigia check prints them */
    snprintf(buf, sizeof(buf), "check %.16s: %s (%s) %s", chk->kind ? chk->kind : "?", state,
             chk->reason, chk->message);
    return vg_strdup(buf);
}

static int text_port(vg_output *o, const vg_record *rec)
{
    struct text_ctx *c = o->ctx;
    const vg_rec_port *r = rec->port;
    const vg_rec_check *chk = r->check;
    struct host_rec *h = host_get(c, &r->addr, r->name);

    if(!h) {
        c->oom = true;
        return VG_OK;
    }
    h->count[(unsigned)r->state < VG_REC_PORT__COUNT ? r->state : 0]++;
    if(r->has_mac && !h->has_mac) {
        h->has_mac = true;
        memcpy(h->mac, r->mac, 6);
        h->vendor = r->vendor;
    }
    if(!listed(o, r->state))
        return VG_OK;
    if(h->nrows == h->caprows) {
        size_t cap = h->caprows ? h->caprows * 2 : 8;
        struct port_row *rows = vg_realloc(h->rows, cap * sizeof(*rows));
        if(!rows) {
            c->oom = true;
            return VG_OK;
        }
        h->rows = rows;
        h->caprows = cap;
    }
    h->rows[h->nrows++] = (struct port_row){
        .port = r->port, .proto = r->proto, .state = r->state_name, .reason = r->reason,
        .service = r->service, .tries = (uint8_t)r->tries, .rtt_us = r->rtt_us,
        .check = chk ? check_line(chk) : NULL,
    };
    if(chk && !h->rows[h->nrows - 1].check)
        c->oom = true;
    return VG_OK;
}

/* Live hosts get a record (their MAC shows in the table); down ones are
 * only counted, unless -sn -v lists them. */
static int text_host(vg_output *o, const vg_record *rec)
{
    struct text_ctx *c = o->ctx;
    const vg_rec_host *r = rec->host;
    bool up = r->up;

    if(up)
        c->up++;
    else
        c->down++;
    if(!up && !(c->discovery_only && o->opts.verbose && !o->opts.open_only))
        return VG_OK;
    struct host_rec *h = host_get(c, &r->addr, r->name);
    if(!h) {
        c->oom = true;
        return VG_OK;
    }
    h->discovered = true;
    h->up = up;
    h->reason = r->reason;
    h->rtt_us = r->rtt_us;
    if(r->has_mac) {
        h->has_mac = true;
        memcpy(h->mac, r->mac, 6);
        h->vendor = r->vendor;
    }
    return VG_OK;
}

static int host_cmp(const void *a, const void *b)
{
    return vg_addr_cmp(&((const struct host_rec *)a)->addr, &((const struct host_rec *)b)->addr);
}

static int row_cmp(const void *a, const void *b)
{
    const struct port_row *x = a, *y = b;
    if(x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    return (x->port > y->port) - (x->port < y->port);
}

static void fmt_rtt(int64_t us, char *buf, size_t len)
{
    if(us < 0)
        snprintf(buf, len, "-");
    else if(us < 10000)
        snprintf(buf, len, "%.2f ms", (double)us / 1000.0);
    else
        snprintf(buf, len, "%.0f ms", (double)us / 1000.0);
}

static void print_host(vg_output *o, const struct host_rec *h)
{
    FILE *fp = o->fp;
    char ip[VG_ADDR_STRLEN];
    const char *name = h->name;

    vg_addr_format(&h->addr, ip, sizeof(ip));
    if(name)
        fprintf(fp, "\n%s (%s)\n", name, ip);
    else
        fprintf(fp, "\n%s\n", ip);
    if(h->has_mac) {
        char mac[24];
        const char *vendor = h->vendor;
        vg_mac_format(h->mac, mac, sizeof(mac));
        fprintf(fp, "  MAC %s (%s)\n", mac, vendor ? vendor : "unknown vendor");
    }
    if(h->nrows) {
        fprintf(fp, "  %-11s %-14s %-14s %-17s %-10s %s\n", "PORT", "STATE", "SERVICE",
                "REASON", "RTT", "TRIES");
        for(size_t i = 0; i < h->nrows; i++) {
            const struct port_row *r = &h->rows[i];
            char port[16], rtt[32];
            const char *svc = r->service;
            snprintf(port, sizeof(port), "%u/%s", r->port, r->proto == IPPROTO_UDP ? "udp" : "tcp");
            fmt_rtt(r->rtt_us, rtt, sizeof(rtt));
            fprintf(fp, "  %-11s %-14s %-14s %-17s %-10s %u\n", port, r->state,
                    svc ? svc : "-", r->reason, rtt, r->tries);
            if(r->check)
                fprintf(fp, "  %-11s %s\n", "", r->check);
        }
    }
    fprintf(fp, "  %" PRIu64 " open, %" PRIu64 " closed, %" PRIu64 " filtered",
            h->count[VG_REC_PORT_OPEN], h->count[VG_REC_PORT_CLOSED],
            h->count[VG_REC_PORT_FILTERED] + h->count[VG_REC_PORT_OPEN_FILTERED]);
    if(!o->opts.verbose && (h->count[VG_REC_PORT_CLOSED] || h->count[VG_REC_PORT_FILTERED]))
        fputs(" (-v lists them)", fp);
    fputc('\n', fp);
}

static void text_path(FILE *fp, const vg_rec_path *p, const vg_rec_scan_summary *e);

/* -sn: one line per host, address order. */
static int text_end_ping(vg_output *o, const vg_rec_scan_summary *e)
{
    struct text_ctx *c = o->ctx;

    if(c->nhosts)
        qsort(c->hosts, c->nhosts, sizeof(*c->hosts), host_cmp);
    if(c->nhosts)
        fputc('\n', o->fp);
    for(size_t i = 0; i < c->nhosts; i++) {
        const struct host_rec *h = &c->hosts[i];
        char ip[VG_ADDR_STRLEN], rtt[32] = "-";
        vg_addr_format(&h->addr, ip, sizeof(ip));
        if(h->rtt_us >= 0)
            snprintf(rtt, sizeof(rtt), "%.2f ms", (double)h->rtt_us / 1000.0);
        fprintf(o->fp, "%-40s %-5s %-14s %10s", ip, h->up ? "up" : "down",
                h->reason ? h->reason : "unknown", rtt);
        if(h->has_mac) {
            char mac[24];
            const char *vendor = h->vendor;
            vg_mac_format(h->mac, mac, sizeof(mac));
            fprintf(o->fp, "  %s (%s)", mac, vendor ? vendor : "unknown vendor");
        }
        fputc('\n', o->fp);
    }
    fputc('\n', o->fp);
    if(c->oom)
        fputs("warning: out of memory while collecting results; the list is incomplete\n", o->fp);
    for(unsigned i = 0; i < e->npaths; i++)
        text_path(o->fp, &e->paths[i], e);
    fprintf(o->fp, "%s: %" PRIu64 " of %" PRIu64 " host%s up in %.2f s\n",
            e->interrupted ? "Interrupted" : "Done", c->up, c->n_targets,
            c->n_targets == 1 ? "" : "s", e->elapsed_s);
    return VG_OK;
}

static void fmt_rate(char *buf, size_t len, double pps)
{
    if(pps >= 1000)
        snprintf(buf, len, "%.1f kpps", pps / 1000.0);
    else
        snprintf(buf, len, "%.0f pps", pps);
}

/* One line per path: what limited the scan, in words. */
static void text_path(FILE *fp, const vg_rec_path *p, const vg_rec_scan_summary *e)
{
    char src[VG_ADDR_STRLEN], rate[32], peak[32], minr[32], medr[32];
    if(p->source.family)
        vg_addr_format(&p->source, src, sizeof(src));
    else
        snprintf(src, sizeof(src), "%s", p->ipv6 ? "IPv6" : "IPv4");
    fmt_rate(rate, sizeof(rate), p->rate_pps);
    fmt_rate(peak, sizeof(peak), p->peak_pps);
    fmt_rtt(p->min_rtt_us, minr, sizeof(minr));
    fmt_rtt(p->median_rtt_us, medr, sizeof(medr));
    fprintf(fp, "Path from %s: held %s (peak %s), RTT %s (median %s), loss %.1f%% per try (%s)",
            src, rate, peak, minr, medr, p->loss * 100.0,
            p->congestive ? "congestion: the rate was lowered to what the path delivers"
                          : "random: no rise with the rate");
    if(e->max_tries)
        fprintf(fp, ", up to %u tr%s", e->max_tries, e->max_tries == 1 ? "y" : "ies");
    if(p->cap_drops)
        fprintf(fp, ", %" PRIu64 " replies dropped by the capture ring", p->cap_drops);
    if(p->local_drops)
        fprintf(fp, ", %" PRIu64 " sends refused by a full kernel queue", p->local_drops);
    if(p->local_cuts)
        fprintf(fp, "; the rate was lowered %u time%s for this machine's own queues",
                p->local_cuts, p->local_cuts == 1 ? "" : "s");
    fputc('\n', fp);
    if(p->rst_limit_pps > 0)
        fprintf(fp, "  The target rate-limits its RSTs (or ICMP errors) to about %.0f/s\n",
                p->rst_limit_pps);
    if(p->silent_congested)
        fprintf(fp,
                "  warning: %" PRIu64 " port%s reported without an answer lost tries to congestion;"
                " %s\n",
                p->silent_congested, p->silent_congested == 1 ? "" : "s",
                e->tries_policy && !strcmp(e->tries_policy, "fixed")
                    ? "without --retries the tries follow the evidence"
                    : "a higher --max-retries or a lower --max-rate would give them more");
}

static int text_end(vg_output *o, const vg_record *rec)
{
    struct text_ctx *c = o->ctx;
    const vg_rec_scan_summary *e = rec->scan_summary, *st = e;
    uint64_t silent = 0;
    double pps = st->elapsed_s > 0 ? (double)st->sent / st->elapsed_s : 0.0;

    if(c->discovery_only)
        return text_end_ping(o, e);
    if(c->nhosts)
        qsort(c->hosts, c->nhosts, sizeof(*c->hosts), host_cmp);
    for(size_t i = 0; i < c->nhosts; i++) {
        struct host_rec *h = &c->hosts[i];
        /* A host that answered nothing is noise in a big scan; one that
         * discovery found up did answer, so it is listed. */
        if(!h->count[VG_REC_PORT_OPEN] && !h->count[VG_REC_PORT_CLOSED] && !o->opts.verbose &&
           !h->up) {
            silent++;
            continue;
        }
        if(h->nrows)
            qsort(h->rows, h->nrows, sizeof(*h->rows), row_cmp);
        print_host(o, h);
    }
    fputc('\n', o->fp);
    if(silent)
        fprintf(o->fp, "%" PRIu64 " host%s answered nothing (every port filtered; -v lists them)\n",
                silent, silent == 1 ? "" : "s");
    if(c->oom)
        fputs("warning: out of memory while collecting results; the table is incomplete\n", o->fp);
    /* Ports of hosts found down are neither scanned nor missing: the
     * count below is of the live hosts' ports only. */
    if(c->up || c->down) {
        fprintf(o->fp, "Host discovery: %" PRIu64 " of %" PRIu64 " host%s up", c->up,
                c->up + c->down, c->up + c->down == 1 ? "" : "s");
        if(c->down)
            fprintf(o->fp, "; %" PRIu64 " down, not scanned (%" PRIu64 " port%s skipped;"
                    " -Pn scans every host)", c->down, st->skipped, st->skipped == 1 ? "" : "s");
        fputc('\n', o->fp);
    }
    for(unsigned i = 0; i < e->npaths; i++)
        text_path(o->fp, &e->paths[i], e);
    if(e->raw && e->replies_rejected)
        fprintf(o->fp, "%" PRIu64 " repl%s rejected (wrong cookie: not answers to our probes)\n",
                e->replies_rejected, e->replies_rejected == 1 ? "y" : "ies");
    fprintf(o->fp, "%s: %" PRIu64 "/%" PRIu64 " ports scanned in %.2f s, %.0f probes/s (%" PRIu64
            " sent): %" PRIu64 " open, %" PRIu64 " closed, %" PRIu64 " filtered\n",
            e->interrupted ? "Interrupted" : "Done", st->done, st->total, st->elapsed_s, pps,
            st->sent, st->open, st->closed, st->filtered);
    if(e->checked)
        fprintf(o->fp, "Checks: %" PRIu64 " ok, %" PRIu64 " warning, %" PRIu64 " critical, %" PRIu64
                " unknown\n", e->check_count[VG_CHECK_OK], e->check_count[VG_CHECK_WARNING],
                e->check_count[VG_CHECK_CRITICAL], e->check_count[VG_CHECK_UNKNOWN]);
    return VG_OK;
}

static void text_cleanup(vg_output *o)
{
    struct text_ctx *c = o->ctx;
    for(size_t i = 0; i < c->nhosts; i++) {
        for(size_t j = 0; j < c->hosts[i].nrows; j++)
            free(c->hosts[i].rows[j].check);
        free(c->hosts[i].rows);
    }
    free(c->hosts);
    free(c->index);
}

const vg_output_type vg_output_text = {
    .name = "text",
    .help = "scans: a table per host, sorted, printed when the scan ends (default); "
            "checks: one monitoring-plugin line per check, with perfdata",
    .runs = VG_OUTPUT_SCAN | VG_OUTPUT_CHECK,
    .ctx_size = sizeof(struct text_ctx),
    .write = {
        [VG_REC_SCAN] = text_begin,
        [VG_REC_HOST] = text_host,
        [VG_REC_PORT] = text_port,
        [VG_REC_SCAN_SUMMARY] = text_end,
        [VG_REC_CHECK] = text_check,
        [VG_REC_CHANGE] = text_change,
        [VG_REC_WATCH_SUMMARY] = text_watch,
    },
    .cleanup = text_cleanup,
};
