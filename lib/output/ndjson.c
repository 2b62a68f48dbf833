/* SPDX-License-Identifier: MIT */
/* NDJSON: one JSON object per line, streamed as records arrive. For a
 * scan, a "scan" line first, a "host" line per live host when host
 * discovery ran, a "port" line per result, a "summary" line last; the
 * check records are in ndjson_check.c. The schemas are in docs/schema.md. */
#include <inttypes.h>
#include <netinet/in.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "output/formats.h"

struct ndjson_ctx {
    bool discovery_only;   /* the header said -sn */
    uint64_t up, down;     /* host records seen */
};

static int ndjson_begin(vg_output *o, const vg_record *rec)
{
    FILE *fp = o->fp;
    const vg_rec_scan *info = rec->scan;
    const vg_rec_scan_opts *op = &info->opts;
    struct ndjson_ctx *c = o->ctx;
    char ts[64];

    c->discovery_only = info->discovery_only;
    json_iso_time(info->start_time, ts, sizeof(ts));
    fprintf(fp, "{\"type\":\"scan\",\"schema\":\"%s\",\"version\":", VG_SCAN_SCHEMA);
    vg_json_string(fp, info->version);
    fprintf(fp, ",\"start\":\"%s\",\"engine\":", ts);
    vg_json_string(fp, info->engine);
    fputs(",\"targets\":", fp);
    vg_json_string(fp, info->targets);
    fputs(",\"ports\":", fp);
    vg_json_string(fp, info->ports);
    fprintf(fp, ",\"n_targets\":%" PRIu64 ",\"n_ports\":%" PRIu64, info->n_targets, info->n_ports);
    if(info->n_tcp_ports || info->n_udp_ports)
        fprintf(fp, ",\"n_tcp_ports\":%" PRIu64 ",\"n_udp_ports\":%" PRIu64, info->n_tcp_ports,
                info->n_udp_ports);
    if(op->adaptive_tries)
        fprintf(fp, ",\"tries_policy\":\"adaptive\",\"retries\":null,\"max_retries\":%u",
                op->max_retries);
    else
        fprintf(fp, ",\"tries_policy\":\"fixed\",\"retries\":%u", op->retries);
    fputs(",\"timeout_ms\":", fp);
    if(op->timeout_ms)
        fprintf(fp, "%u", op->timeout_ms);
    else
        fputs("null", fp);
    fputs(",\"rate\":", fp);
    if(op->rate > 0)
        fprintf(fp, "%.0f", op->rate);
    else
        fputs("null", fp);
    fputs(",\"min_rate\":", fp);
    if(op->min_rate > 0)
        fprintf(fp, "%.0f", op->min_rate);
    else
        fputs("null", fp);
    fprintf(fp, ",\"concurrency\":%u,\"threads\":%u,\"seed\":%" PRIu64 ",\"shard\":\"%u/%u\"",
            op->concurrency, op->threads, op->seed,
            op->shard_count > 1 ? op->shard_index : 0,
            op->shard_count > 1 ? op->shard_count : 1);
    if(info->check_timeout_ms) /* scan --check */
        fprintf(fp, ",\"check\":true,\"check_timeout_ms\":%" PRIu32, info->check_timeout_ms);
    fputs("}\n", fp);
    return VG_OK;
}

/* "mac" and "vendor", only when known. */
static void ndjson_mac(vg_output *o, bool has_mac, const uint8_t m[6], const char *vendor)
{
    char mac[24];

    if(!has_mac)
        return;
    vg_mac_format(m, mac, sizeof(mac));
    fprintf(o->fp, ",\"mac\":\"%s\"", mac);
    if(vendor) {
        fputs(",\"vendor\":", o->fp);
        vg_json_string(o->fp, vendor);
    }
}

/* One line per live host; down hosts are only counted (the summary). */
static int ndjson_host(vg_output *o, const vg_record *rec)
{
    struct ndjson_ctx *c = o->ctx;
    const vg_rec_host *r = rec->host;
    FILE *fp = o->fp;
    char ip[VG_ADDR_STRLEN];
    const char *name = r->name;

    if(!r->up) {
        c->down++;
        return VG_OK;
    }
    c->up++;
    vg_addr_format(&r->addr, ip, sizeof(ip));
    fputs("{\"type\":\"host\",\"ip\":", fp);
    vg_json_string(fp, ip);
    if(name) {
        fputs(",\"host\":", fp);
        vg_json_string(fp, name);
    }
    fprintf(fp, ",\"state\":\"up\",\"reason\":\"%s\",\"rtt_us\":", r->reason);
    if(r->rtt_us >= 0)
        fprintf(fp, "%" PRId64, r->rtt_us);
    else
        fputs("null", fp);
    fprintf(fp, ",\"tries\":%u", r->tries);
    ndjson_mac(o, r->has_mac, r->mac, r->vendor);
    fputs("}\n", fp);
    return VG_OK;
}

/* A port record; with scan --check, chk is nested as "check". */
static int ndjson_port(vg_output *o, const vg_record *rec)
{
    const vg_rec_port *r = rec->port;
    FILE *fp = o->fp;
    char ip[VG_ADDR_STRLEN];
    const char *name = r->name;
    const char *proto = r->proto == IPPROTO_UDP ? "udp" : "tcp";
    const char *service;

    if(o->opts.open_only && r->state != VG_REC_PORT_OPEN)
        return VG_OK;
    vg_addr_format(&r->addr, ip, sizeof(ip));
    fputs("{\"type\":\"port\",\"ip\":", fp);
    vg_json_string(fp, ip);
    if(name) {
        fputs(",\"host\":", fp);
        vg_json_string(fp, name);
    }
    fprintf(fp, ",\"port\":%u,\"proto\":\"%s\",\"state\":\"%s\",\"reason\":\"%s\",\"rtt_us\":",
            r->port, proto, r->state_name, r->reason);
    if(r->rtt_us >= 0)
        fprintf(fp, "%" PRId64, r->rtt_us);
    else
        fputs("null", fp);
    fprintf(fp, ",\"tries\":%u,\"service\":", r->tries);
    service = r->service;
    if(service)
        vg_json_string(fp, service);
    else
        fputs("null", fp);
    ndjson_mac(o, r->has_mac, r->mac, r->vendor);
    if(r->check) {
        fputs(",\"check\":", fp);
        ndjson_check_object(fp, r->check, true);
    }
    fputs("}\n", fp);
    return VG_OK;
}

/* With host discovery, "results" and "planned" count ports of the hosts
 * found up ("skipped": the pairs of the hosts found down); with -sn they
 * count hosts, and there are no port counts to give. */
static void json_num(FILE *fp, const char *key, double v, int decimals)
{
    fprintf(fp, ",\"%s\":", key);
    if(isfinite(v))
        fprintf(fp, "%.*f", decimals, v);
    else
        fputs("null", fp);
}

static void json_rtt(FILE *fp, const char *key, int64_t us)
{
    fprintf(fp, ",\"%s\":", key);
    if(us >= 0)
        fprintf(fp, "%" PRId64, us);
    else
        fputs("null", fp);
}

/* One path of the summary: what the path controller saw. */
static void ndjson_path(FILE *fp, const vg_rec_path *p, bool comma)
{
    char src[VG_ADDR_STRLEN];
    if(comma)
        fputc(',', fp);
    fputs("{\"source\":", fp);
    if(p->source.family) {
        vg_addr_format(&p->source, src, sizeof(src));
        vg_json_string(fp, src);
    }
    else
        fputs("null", fp);
    fprintf(fp, ",\"family\":\"%s\",\"sent\":%" PRIu64 ",\"answered\":%" PRIu64,
            p->ipv6 ? "ipv6" : "ipv4", p->sent, p->answered);
    json_num(fp, "rate_pps", p->rate_pps, 0);
    json_num(fp, "peak_pps", p->peak_pps, 0);
    json_num(fp, "replies_pps", p->replies_pps, 0);
    json_rtt(fp, "min_rtt_us", p->min_rtt_us);
    json_rtt(fp, "median_rtt_us", p->median_rtt_us);
    json_num(fp, "loss", p->loss, 4);
    fprintf(fp, ",\"loss_kind\":\"%s\",\"rounds_clean\":%u,\"rounds_congested\":%u"
            ",\"rate_cuts\":%u,\"local_cuts\":%u,\"local_drops\":%" PRIu64
            ",\"capture_drops\":%" PRIu64,
            p->congestive ? "congestive" : "random", p->rounds_clean, p->rounds_congested,
            p->cuts, p->local_cuts, p->local_drops, p->cap_drops);
    fprintf(fp, ",\"silent_congested\":%" PRIu64, p->silent_congested);
    fputs(",\"rst_rate_limit_pps\":", fp);
    if(p->rst_limit_pps > 0)
        fprintf(fp, "%.0f", p->rst_limit_pps);
    else
        fputs("null", fp);
    fputc('}', fp);
}

static int ndjson_end(vg_output *o, const vg_record *rec)
{
    struct ndjson_ctx *c = o->ctx;
    const vg_rec_scan_summary *e = rec->scan_summary, *st = e;
    bool ping = c->discovery_only;
    char ts[64];
    double pps = st->elapsed_s > 0 ? (double)st->sent / st->elapsed_s : 0.0;

    json_iso_time(e->end_time, ts, sizeof(ts));
    fprintf(o->fp,
            "{\"type\":\"summary\",\"end\":\"%s\",\"complete\":%s,\"interrupted\":%s,"
            "\"elapsed_s\":%.3f,\"results\":%" PRIu64 ",\"planned\":%" PRIu64
            ",\"open\":%" PRIu64 ",\"closed\":%" PRIu64 ",\"filtered\":%" PRIu64
            ",\"probes_sent\":%" PRIu64 ",\"pps\":%.0f",
            ts, st->done == st->total ? "true" : "false", e->interrupted ? "true" : "false",
            st->elapsed_s, st->done, st->total, ping ? 0 : st->open, ping ? 0 : st->closed,
            ping ? 0 : st->filtered, st->sent, isfinite(pps) ? pps : 0.0);
    if(e->interrupted && e->signal) {
        fputs(",\"signal\":", o->fp);
        vg_json_string(o->fp, e->signal);
    }
    if(ping || c->up || c->down) {
        fprintf(o->fp, ",\"hosts_up\":%" PRIu64 ",\"hosts_down\":%" PRIu64, c->up, c->down);
        if(!ping)
            fprintf(o->fp, ",\"skipped\":%" PRIu64, st->skipped);
    }
    if(e->tries_policy)
        fprintf(o->fp, ",\"tries_policy\":\"%s\",\"max_tries\":%u", e->tries_policy,
                e->max_tries);
    if(e->raw)
        fprintf(o->fp, ",\"replies_rejected\":%" PRIu64 ",\"replies_late\":%" PRIu64,
                e->replies_rejected, e->replies_late);
    else if(!ping)
        fprintf(o->fp, ",\"deferred\":%" PRIu64, st->deferred);
    if(e->npaths) {
        fputs(",\"paths\":[", o->fp);
        for(unsigned i = 0; i < e->npaths; i++)
            ndjson_path(o->fp, &e->paths[i], i > 0);
        fputc(']', o->fp);
    }
    if(e->checked)
        fprintf(o->fp, ",\"checks\":{\"ok\":%" PRIu64 ",\"warning\":%" PRIu64 ",\"critical\":%" PRIu64
                ",\"unknown\":%" PRIu64 "}", e->check_count[VG_CHECK_OK], e->check_count[VG_CHECK_WARNING],
                e->check_count[VG_CHECK_CRITICAL], e->check_count[VG_CHECK_UNKNOWN]);
    fputs("}\n", o->fp);
    return VG_OK;
}

const vg_output_type vg_output_ndjson = {
    .name = "ndjson",
    .help = "one JSON record per line, streamed (docs/schema.md)",
    .runs = VG_OUTPUT_SCAN | VG_OUTPUT_CHECK,
    .ctx_size = sizeof(struct ndjson_ctx),
    .write = {
        [VG_REC_SCAN] = ndjson_begin,
        [VG_REC_HOST] = ndjson_host,
        [VG_REC_PORT] = ndjson_port,
        [VG_REC_SCAN_SUMMARY] = ndjson_end,
        [VG_REC_CHECK_RUN] = ndjson_check_run,
        [VG_REC_CHECK] = ndjson_check,
        [VG_REC_CHANGE] = ndjson_change,
        [VG_REC_WATCH_SUMMARY] = ndjson_watch,
        [VG_REC_CHECK_SUMMARY] = ndjson_check_summary,
    },
};
