/* SPDX-License-Identifier: MIT */
/* NDJSON: one JSON object per line, streamed as results arrive. A "scan"
 * line first, a "port" line per result, a "summary" line last. The schema
 * is in docs/schema.md. */
#include <inttypes.h>
#include <math.h>
#include <time.h>

#include "output/formats.h"

static void iso_time(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    int ms = (int)((t - (double)secs) * 1000);
    if(ms < 0 || ms > 999)
        ms = 0;
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", ms);
}

static int ndjson_begin(vg_output *o, const vg_scan_info *info)
{
    FILE *fp = o->fp;
    const vg_scan_opts *op = info->opts;
    char ts[64];

    iso_time(info->start_time, ts, sizeof(ts));
    fprintf(fp, "{\"type\":\"scan\",\"schema\":\"%s\",\"version\":", VG_SCAN_SCHEMA);
    vg_json_string(fp, info->version);
    fprintf(fp, ",\"start\":\"%s\",\"engine\":", ts);
    vg_json_string(fp, info->engine);
    fputs(",\"targets\":", fp);
    vg_json_string(fp, info->targets);
    fputs(",\"ports\":", fp);
    vg_json_string(fp, info->ports);
    fprintf(fp, ",\"n_targets\":%" PRIu64 ",\"n_ports\":%" PRIu64, info->n_targets, info->n_ports);
    fprintf(fp, ",\"retries\":%u,\"timeout_ms\":", op->retries);
    if(op->timeout_ms)
        fprintf(fp, "%u", op->timeout_ms);
    else
        fputs("null", fp);
    fputs(",\"rate\":", fp);
    if(op->rate > 0)
        fprintf(fp, "%.0f", op->rate);
    else
        fputs("null", fp);
    fprintf(fp, ",\"concurrency\":%u,\"threads\":%u,\"seed\":%" PRIu64 ",\"shard\":\"%u/%u\"}\n",
            op->concurrency, op->threads, op->seed,
            op->shard_count > 1 ? op->shard_index : 0,
            op->shard_count > 1 ? op->shard_count : 1);
    return VG_OK;
}

static int ndjson_result(vg_output *o, const vg_result *r)
{
    FILE *fp = o->fp;
    char ip[VG_ADDR_STRLEN];
    const char *name = o->opts.targets ? vg_targets_name(o->opts.targets, &r->addr) : NULL;
    const char *proto = r->proto == 17 ? "udp" : "tcp";
    const char *service;

    if(o->opts.open_only && r->state != VG_STATE_OPEN)
        return VG_OK;
    vg_addr_format(&r->addr, ip, sizeof(ip));
    fputs("{\"type\":\"port\",\"ip\":", fp);
    vg_json_string(fp, ip);
    if(name) {
        fputs(",\"host\":", fp);
        vg_json_string(fp, name);
    }
    fprintf(fp, ",\"port\":%u,\"proto\":\"%s\",\"state\":\"%s\",\"reason\":\"%s\",\"rtt_us\":",
            r->port, proto, vg_state_name(r->state), vg_reason_name(r->reason));
    if(r->rtt_us >= 0)
        fprintf(fp, "%" PRId64, r->rtt_us);
    else
        fputs("null", fp);
    fprintf(fp, ",\"tries\":%u,\"service\":", r->tries);
    service = vg_services_name(o->opts.services, r->port, r->proto);
    if(service)
        vg_json_string(fp, service);
    else
        fputs("null", fp);
    fputs("}\n", fp);
    return VG_OK;
}

static int ndjson_end(vg_output *o, const vg_scan_end *e)
{
    const vg_scan_stats *st = &e->stats;
    char ts[64];
    double pps = st->elapsed_s > 0 ? (double)st->sent / st->elapsed_s : 0.0;

    iso_time(e->end_time, ts, sizeof(ts));
    fprintf(o->fp,
            "{\"type\":\"summary\",\"end\":\"%s\",\"complete\":%s,\"interrupted\":%s,"
            "\"elapsed_s\":%.3f,\"results\":%" PRIu64 ",\"planned\":%" PRIu64
            ",\"open\":%" PRIu64 ",\"closed\":%" PRIu64 ",\"filtered\":%" PRIu64
            ",\"probes_sent\":%" PRIu64 ",\"pps\":%.0f}\n",
            ts, st->done == st->total ? "true" : "false", e->interrupted ? "true" : "false",
            st->elapsed_s, st->done, st->total, st->open, st->closed, st->filtered, st->sent,
            isfinite(pps) ? pps : 0.0);
    return VG_OK;
}

const vg_output_type vg_output_ndjson = {
    .name = "ndjson",
    .help = "one JSON record per line, streamed (docs/schema.md)",
    .begin = ndjson_begin,
    .result = ndjson_result,
    .end = ndjson_end,
};
