/* SPDX-License-Identifier: MIT */
/* The ndjson format's check records: a "check-run" line first, one
 * "check" line per check (streamed, in the order the checks were given),
 * a "summary" line last; under --watch "change" and "watch-summary"
 * lines. The schema is vigia.check/1, documented in docs/schema.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/formats.h"

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

int ndjson_check_run(vg_output *o, const vg_record *rec)
{
    const vg_rec_check_run *info = rec->check_run;
    char ts[64];
    json_iso_time(info->start_time, ts, sizeof(ts));
    fprintf(o->fp, "{\"type\":\"check-run\",\"schema\":\"%s\"", VG_CHECK_SCHEMA);
    key_str(o->fp, "version", info->version);
    key_str(o->fp, "mode", info->mode);
    fprintf(o->fp, ",\"start\":\"%s\",\"checks\":%zu,\"timeout_ms\":%" PRIu32 "}\n", ts, info->n_checks,
            info->timeout_ms);
    return VG_OK;
}

/* The record's object, shared with scan --check (nested in port records). */
void ndjson_check_object(FILE *fp, const vg_rec_check *r, bool verdict)
{
    char ts[64], a[VG_ADDR_STRLEN];
    bool http = r->detail == VG_REC_DETAIL_HTTP;

    json_iso_time(r->start_time, ts, sizeof(ts));
    fprintf(fp, "{\"type\":\"check\",\"index\":%zu", r->index);
    fputs(",\"name\":", fp); /* -f: the check's name, else null */
    if(r->name)
        vg_json_string(fp, r->name);
    else
        fputs("null", fp);
    key_str(fp, "target", r->target);
    key_str(fp, "kind", r->kind);
    key_str(fp, "host", r->host);
    fprintf(fp, ",\"port\":%u,\"ip\":", r->port);
    if(r->have_addr)
        vg_json_string(fp, vg_addr_format(&r->addr, a, sizeof(a)));
    else
        fputs("null", fp);
    key_str(fp, "state", vg_check_state_name(r->state));
    if(verdict)
        key_str(fp, "verdict", vg_check_state_name(r->state));
    key_str(fp, "reason", r->reason);
    fputs(",\"reasons\":[", fp);
    for(unsigned i = 0; i < r->nreasons; i++)
        fprintf(fp, "%s\"%s\"", i ? "," : "", r->reasons[i]);
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
        fprintf(fp, ",\"body_bytes\":%" PRIu64 ",\"body_truncated\":%s,\"redirects\":%ld", r->body_bytes,
                r->body_truncated ? "true" : "false", r->redirects);
        if(r->reuse_asked)
            fprintf(fp, ",\"connection_reused\":%s", r->conn_reused ? "true" : "false");
        fputc('}', fp);
    }
    if(r->tls_version[0] || r->ncerts) {
        fputs(",\"tls\":{\"version\":", fp);
        vg_json_string(fp, r->tls_version);
        key_str(fp, "cipher", r->tls_cipher);
        fputs(",\"chain\":[", fp);
        for(unsigned i = 0; i < r->ncerts; i++) {
            const vg_rec_cert *c = &r->certs[i];
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
    if(r->detail == VG_REC_DETAIL_SSH) {
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
        fprintf(fp, ",\"hostkey_verified\":%s", r->hostkey_verified ? "true" : "false");
        fputs(",\"kex\":", fp);
        if(r->ssh_kex[0])
            vg_json_string(fp, r->ssh_kex);
        else
            fputs("null", fp);
        fputs(",\"hostkey_algorithm\":", fp);
        if(r->hostkey_alg[0])
            vg_json_string(fp, r->hostkey_alg);
        else
            fputs("null", fp);
        fputc('}', fp);
    }
    else if(r->detail == VG_REC_DETAIL_DNS) {
        /* dns://: the answer */
        fputs(",\"dns\":{\"rcode\":", fp);
        if(r->dns_rcode >= 0 && r->phase_us[VG_PHASE_FIRSTBYTE] >= 0) /* an answer came */
            vg_json_string(fp, r->dns_rcode_name);
        else
            fputs("null", fp);
        fprintf(fp, ",\"authoritative\":%s,\"truncated\":%s,\"answers\":[", r->dns_aa ? "true" : "false",
                r->dns_tc ? "true" : "false");
        for(unsigned i = 0; i < r->dns_nanswers && i < VG_REC_MAX_ANSWERS; i++) {
            if(i)
                fputc(',', fp);
            vg_json_string(fp, r->dns_answers[i]);
        }
        fprintf(fp, "],\"answer_count\":%u}", r->dns_nanswers);
    }
    else if(r->detail == VG_REC_DETAIL_MYSQL) {
        fputs(",\"mysql\":{\"protocol\":", fp);
        if(r->mysql_protocol)
            fprintf(fp, "%d", r->mysql_protocol);
        else
            fputs("null", fp);
        fputs(",\"server_version\":", fp);
        if(r->mysql_protocol)
            vg_json_string(fp, r->banner);
        else
            fputs("null", fp);
        fprintf(fp, ",\"capabilities\":%" PRIu32 ",\"connection_id\":%" PRIu32 ",\"error_code\":", r->mysql_caps,
                r->mysql_conn_id);
        if(r->mysql_error)
            fprintf(fp, "%d", r->mysql_error);
        else
            fputs("null", fp);
        fputs(",\"sqlstate\":", fp);
        if(r->mysql_sqlstate[0])
            vg_json_string(fp, r->mysql_sqlstate);
        else
            fputs("null", fp);
        fputc('}', fp);
    }
    else if(r->detail == VG_REC_DETAIL_ICMP) {
        fprintf(fp, ",\"icmp\":{\"socket\":\"%s\",\"sent\":%u,\"received\":%u,\"loss_pct\":", r->icmp_raw ? "raw" : "ping",
                r->icmp_sent, r->icmp_received);
        if(r->icmp_sent)
            fprintf(fp, "%.1f", (double)(r->icmp_sent - r->icmp_received) * 100.0 / r->icmp_sent);
        else
            fputs("null", fp);
        if(r->icmp_received)
            fprintf(fp, ",\"rtt_min_us\":%" PRId64 ",\"rtt_avg_us\":%" PRId64 ",\"rtt_max_us\":%" PRId64 "}",
                    r->rtt_min_us, r->rtt_avg_us, r->rtt_max_us);
        else
            fputs(",\"rtt_min_us\":null,\"rtt_avg_us\":null,\"rtt_max_us\":null}", fp);
    }
    else if(r->banner[0] || r->bytes_read) {
        key_str(fp, "banner", r->banner);
        fprintf(fp, ",\"bytes_read\":%" PRIu64, r->bytes_read);
    }
    if(r->naddr_results) { /* --all-addresses */
        fputs(",\"addresses\":[", fp);
        for(unsigned i = 0; i < r->naddr_results; i++) {
            const struct vg_rec_addr_result *x = &r->addr_results[i];
            fputs(i ? ",{\"ip\":" : "{\"ip\":", fp);
            vg_json_string(fp, vg_addr_format(&x->addr, a, sizeof(a)));
            key_str(fp, "state", vg_check_state_name(x->state));
            key_str(fp, "reason", x->reason);
            fprintf(fp, ",\"total_us\":%" PRId64 "}", x->total_us);
        }
        fputc(']', fp);
    }
    fputc('}', fp);
}

int ndjson_check(vg_output *o, const vg_record *rec)
{
    ndjson_check_object(o->fp, rec->check, false);
    fputc('\n', o->fp);
    return VG_OK;
}

int ndjson_check_summary(vg_output *o, const vg_record *rec)
{
    const vg_rec_check_summary *s = rec->check_summary;
    char ts[64];
    size_t total = s->count[0] + s->count[1] + s->count[2] + s->count[3];
    json_iso_time(s->end_time, ts, sizeof(ts));
    fprintf(o->fp,
            "{\"type\":\"summary\",\"end\":\"%s\",\"checks\":%zu,\"ok\":%zu,\"warning\":%zu,\"critical\":%zu,"
            "\"unknown\":%zu,\"exit_code\":%d,\"interrupted\":%s,\"timed_out\":%s,\"elapsed_s\":%.3f",
            ts, total, s->count[0], s->count[1], s->count[2], s->count[3], s->exit_code,
            s->interrupted ? "true" : "false", s->timed_out ? "true" : "false", s->elapsed_s);
    if(s->interrupted && s->signal) {
        fputs(",\"signal\":", o->fp);
        vg_json_string(o->fp, s->signal);
    }
    fputs("}\n", o->fp);
    return VG_OK;
}

/* --- --watch ----------------------------------------------------- */

/* A "change" record: the check record, typed "change", with the state it
 * left ("previous", null at a check's first result) and the time. */
int ndjson_change(vg_output *o, const vg_record *rec)
{
    static const char pre[] = "{\"type\":\"check\"";
    const vg_rec_change *ch = rec->change;
    char *buf = NULL, ts[64];
    size_t len = 0;
    FILE *fp = o->fp, *mem = open_memstream(&buf, &len);
    int rc = VG_OK;

    if(!mem)
        return VG_EIO;
    ndjson_check_object(mem, ch->check, false);
    fputc('\n', mem);
    if(fclose(mem) != 0 || len < sizeof(pre) - 1 || memcmp(buf, pre, sizeof(pre) - 1)) {
        free(buf);
        return VG_EIO;
    }
    json_iso_time((double)ch->time.tv_sec + (double)ch->time.tv_nsec / 1e9, ts, sizeof(ts));
    fputs("{\"type\":\"change\",\"previous\":", fp);
    if(ch->previous >= 0)
        fprintf(fp, "\"%s\"", vg_check_state_name(ch->previous));
    else
        fputs("null", fp);
    fprintf(fp, ",\"time\":\"%s\"", ts);
    if(fwrite(buf + sizeof(pre) - 1, 1, len - (sizeof(pre) - 1), fp) != len - (sizeof(pre) - 1))
        rc = VG_EIO;
    free(buf);
    return rc;
}

int ndjson_watch(vg_output *o, const vg_record *rec)
{
    const vg_rec_watch *st = rec->watch;
    FILE *fp = o->fp;
    fprintf(fp, "{\"type\":\"watch-summary\",\"index\":%zu,\"name\":", st->index);
    if(st->name)
        vg_json_string(fp, st->name);
    else
        fputs("null", fp);
    key_str(fp, "target", st->target);
    key_str(fp, "kind", st->kind);
    fprintf(fp, ",\"runs\":%u,\"state\":", st->runs);
    if(st->state >= 0)
        fprintf(fp, "\"%s\",\"reason\":\"%s\"", vg_check_state_name(st->state), st->reason);
    else
        fputs("null,\"reason\":null", fp);
    fputs(",\"time_in_state_s\":{", fp);
    for(int i = 0; i < 4; i++)
        fprintf(fp, "%s\"%s\":%.3f", i ? "," : "", vg_check_state_name(i), st->state_s[i]);
    fputs("},\"phases_us\":{", fp);
    for(int p = 0; p < VG_PHASE__COUNT; p++) {
        const vg_rec_watch_phase *ph = &st->phase[p];
        fprintf(fp, "%s\"%s\":", p ? "," : "", vg_phase_name(p));
        if(ph->n)
            fprintf(fp, "{\"n\":%u,\"min\":%" PRId64 ",\"avg\":%" PRId64 ",\"p95\":%" PRId64 "}", ph->n, ph->min_us,
                    ph->avg_us, ph->p95_us);
        else
            fputs("null", fp);
    }
    fputs("}}\n", fp);
    return VG_OK;
}
