/* SPDX-License-Identifier: MIT */
/* NDJSON for checks: a "check-run" line first, one "check" line per check
 * (streamed, in the order the checks were given), a "summary" line last.
 * The schema is vigia.check/1, documented in docs/schema.md. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "check/output_formats.h"
#include "vigia/output.h"

static void iso_time(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;
    int ms;
    size_t n;
    gmtime_r(&secs, &tm);
    ms = (int)((t - (double)secs) * 1000);
    if(ms < 0 || ms > 999)
        ms = 0;
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", ms);
}

static void iso_secs(int64_t t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void key_str(FILE *fp, const char *key, const char *val)
{
    fprintf(fp, ",\"%s\":", key);
    vg_json_string(fp, val);
}

static int nd_begin(vg_check_output *o, const vg_check_info *info)
{
    char ts[64];
    iso_time(info->start_time, ts, sizeof(ts));
    fprintf(o->fp, "{\"type\":\"check-run\",\"schema\":\"%s\"", VG_CHECK_SCHEMA);
    key_str(o->fp, "version", info->version);
    key_str(o->fp, "mode", info->mode);
    fprintf(o->fp, ",\"start\":\"%s\",\"checks\":%zu,\"timeout_ms\":%" PRIu32 "}\n", ts, info->n_checks,
            info->timeout_ms);
    return VG_OK;
}

static int nd_result(vg_check_output *o, const vg_check_result *r)
{
    FILE *fp = o->fp;
    char ts[64], a[VG_ADDR_STRLEN];
    bool http = !strcmp(r->kind, "http") || !strcmp(r->kind, "https");

    iso_time(r->start_time, ts, sizeof(ts));
    fprintf(fp, "{\"type\":\"check\",\"index\":%zu", r->index);
    key_str(fp, "target", r->target);
    key_str(fp, "kind", r->kind);
    key_str(fp, "host", r->host);
    fprintf(fp, ",\"port\":%u,\"ip\":", r->port);
    if(r->have_addr)
        vg_json_string(fp, vg_addr_format(&r->addr, a, sizeof(a)));
    else
        fputs("null", fp);
    key_str(fp, "state", vg_check_state_name(r->state));
    key_str(fp, "reason", vg_check_reason_name(r->reason));
    fputs(",\"reasons\":[", fp);
    for(unsigned i = 0; i < r->nreasons; i++)
        fprintf(fp, "%s\"%s\"", i ? "," : "", vg_check_reason_name(r->reasons[i]));
    fputc(']', fp);
    key_str(fp, "message", r->message);
    fprintf(fp, ",\"start\":\"%s\",\"attempts\":%u,\"elapsed_us\":%" PRId64 ",\"phases_us\":{", ts,
            r->attempts, r->elapsed_us);
    for(int p = 0; p < VG_PHASE__COUNT; p++) {
        fprintf(fp, "%s\"%s\":", p ? "," : "", vg_phase_name(p));
        if(r->phase_us[p] >= 0)
            fprintf(fp, "%" PRId64, r->phase_us[p]);
        else
            fputs("null", fp);
    }
    fputc('}', fp);
    if(http) {
        fputs(",\"http\":{\"status\":", fp);
        if(r->http_status)
            fprintf(fp, "%d", r->http_status);
        else
            fputs("null", fp);
        key_str(fp, "status_line", r->status_line);
        fprintf(fp, ",\"body_bytes\":%" PRIu64 ",\"body_truncated\":%s,\"redirects\":%ld}", r->body_bytes,
                r->body_truncated ? "true" : "false", r->redirects);
    }
    if(r->tls_version[0] || r->ncerts) {
        fputs(",\"tls\":{\"version\":", fp);
        vg_json_string(fp, r->tls_version);
        key_str(fp, "cipher", r->tls_cipher);
        fputs(",\"chain\":[", fp);
        for(unsigned i = 0; i < r->ncerts; i++) {
            const vg_check_cert *c = &r->certs[i];
            char nb[32], na[32];
            iso_secs(c->not_before, nb, sizeof(nb));
            iso_secs(c->not_after, na, sizeof(na));
            fprintf(fp, "%s{\"depth\":%u", i ? "," : "", i);
            key_str(fp, "subject", c->subject);
            key_str(fp, "issuer", c->issuer);
            fprintf(fp, ",\"not_before\":\"%s\",\"not_after\":\"%s\",\"days_left\":%d}", nb, na, c->days_left);
        }
        fputs("]}", fp);
    }
    if(!strcmp(r->kind, "ssh")) {
        fputs(",\"ssh\":{\"banner\":", fp);
        vg_json_string(fp, r->banner);
        fputs(",\"hostkey_type\":", fp);
        if(r->hostkey_type[0])
            vg_json_string(fp, r->hostkey_type);
        else
            fputs("null", fp);
        fputs(",\"hostkey_fingerprint\":", fp);
        if(r->hostkey_fp[0])
            vg_json_string(fp, r->hostkey_fp);
        else
            fputs("null", fp);
        fprintf(fp, ",\"hostkey_verified\":%s}", r->hostkey_verified ? "true" : "false");
    }
    else if(r->banner[0] || r->bytes_read) {
        key_str(fp, "banner", r->banner);
        fprintf(fp, ",\"bytes_read\":%" PRIu64, r->bytes_read);
    }
    fputs("}\n", fp);
    return VG_OK;
}

static int nd_end(vg_check_output *o, const vg_check_summary *s)
{
    char ts[64];
    size_t total = s->count[0] + s->count[1] + s->count[2] + s->count[3];
    iso_time(s->end_time, ts, sizeof(ts));
    fprintf(o->fp,
            "{\"type\":\"summary\",\"end\":\"%s\",\"checks\":%zu,\"ok\":%zu,\"warning\":%zu,\"critical\":%zu,"
            "\"unknown\":%zu,\"exit_code\":%d,\"interrupted\":%s,\"timed_out\":%s,\"elapsed_s\":%.3f}\n",
            ts, total, s->count[0], s->count[1], s->count[2], s->count[3], s->exit_code,
            s->interrupted ? "true" : "false", s->timed_out ? "true" : "false", s->elapsed_s);
    return VG_OK;
}

const vg_check_output_type vg_check_output_ndjson = {
    .name = "ndjson",
    .help = "one JSON record per check (schema vigia.check/1)",
    .begin = nd_begin,
    .result = nd_result,
    .end = nd_end,
};
