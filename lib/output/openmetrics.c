/* SPDX-License-Identifier: MIT */
/* The openmetrics format: OpenMetrics text for checks (`-o openmetrics[=FILE]`), the format
 * Prometheus scrapes and node_exporter's textfile collector reads. A metric
 * family's samples must be contiguous, so each record's samples are
 * appended to one in-memory buffer per family and the whole exposition is
 * written by end(), which then starts over (--watch calls it per round).
 * Names follow blackbox_exporter where one exists (probe_success,
 * probe_duration_seconds, probe_http_status_code, ...); only gauges, so
 * that the Prometheus text parser (which skips "# EOF" as a comment)
 * reads the same file. Label values are
 * made valid UTF-8 with vg_escape() and then escaped per the spec
 * (backslash, double quote, newline). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/formats.h"

enum {
    OM_SUCCESS,
    OM_DURATION,
    OM_DNS_LOOKUP,
    OM_HTTP_STATUS,
    OM_HTTP_REDIRECTS,
    OM_CERT_EARLIEST,
    OM_CERT_EXPIRY,
    OM_STATE,
    OM_REASON,
    OM_ATTEMPTS,
    OM_DNS_ANSWERS,
    OM__COUNT
};

static const struct {
    const char *name, *type, *help;
} om_families[OM__COUNT] = {
    [OM_SUCCESS] = {"probe_success", "gauge", "Whether the check passed (1: OK, 0: WARNING, CRITICAL or UNKNOWN)"},
    [OM_DURATION] = {"probe_duration_seconds", "gauge", "Duration of each phase of the check's last attempt"},
    [OM_DNS_LOOKUP] = {"probe_dns_lookup_time_seconds", "gauge", "Time spent resolving the target's name"},
    [OM_HTTP_STATUS] = {"probe_http_status_code", "gauge", "HTTP status code of the response (0: none)"},
    [OM_HTTP_REDIRECTS] = {"probe_http_redirects", "gauge", "Redirects followed"},
    [OM_CERT_EARLIEST] = {"probe_ssl_earliest_cert_expiry", "gauge",
                          "Unix time at which the first certificate of the chain expires"},
    [OM_CERT_EXPIRY] = {"vigia_cert_not_after_timestamp_seconds", "gauge",
                        "Unix time at which each certificate of the chain expires (depth 0: the server's)"},
    /* Gauges, not OpenMetrics' stateset/info: node_exporter's textfile
     * collector parses the Prometheus text format, which has neither. */
    [OM_STATE] = {"vigia_check_state", "gauge", "1 for the check's verdict, 0 for the other states"},
    [OM_REASON] = {"vigia_check_reason", "gauge", "Why the check ended the way it did (the worst finding); always 1"},
    [OM_ATTEMPTS] = {"vigia_check_attempts", "gauge", "Attempts the check made (retries + 1)"},
    [OM_DNS_ANSWERS] = {"probe_dns_answer_rrs", "gauge", "Records of the asked type in the DNS answer"},
};

struct om_ctx {
    FILE *mem[OM__COUNT];
    char *buf[OM__COUNT];
    size_t len[OM__COUNT];
    bool failed;
};

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid:
 * no overlong forms, surrogates or code points above U+10FFFF. */
static size_t om_utf8_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len;
    if(s[0] < 0x80)
        return 1;
    if(s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if(s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if(s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if(len > n)
        return 0;
    for(size_t i = 1; i < len; i++) {
        if((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Writes s as an OpenMetrics label value (without the quotes): backslash,
 * double quote and newline escaped as the spec says; other control bytes
 * and invalid UTF-8 (the value must be UTF-8) as the text \xNN. Capped. */
static void om_label_value(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strnlen(str, 4096), i = 0;
    while(i < n) {
        size_t len = om_utf8_len(s + i, n - i);
        if(s[i] == '\\')
            fputs("\\\\", fp);
        else if(s[i] == '"')
            fputs("\\\"", fp);
        else if(s[i] == '\n')
            fputs("\\n", fp);
        else if(!len || s[i] < 0x20 || s[i] == 0x7f) {
            fprintf(fp, "\\\\x%02X", s[i]);
            len = 1;
        }
        else
            fwrite(s + i, 1, len, fp);
        i += len ? len : 1;
    }
}

static FILE *om_fam(struct om_ctx *x, int fam)
{
    if(!x->mem[fam]) {
        x->mem[fam] = open_memstream(&x->buf[fam], &x->len[fam]);
        if(!x->mem[fam])
            x->failed = true;
    }
    return x->mem[fam];
}

/* Starts a sample: NAME{name="..",target="..",kind=".."  (the caller adds
 * its own labels, then om_value). Returns NULL when out of memory. */
static FILE *om_sample(struct om_ctx *x, int fam, const char *suffix, const vg_rec_check *r)
{
    FILE *fp = om_fam(x, fam);
    if(!fp)
        return NULL;
    fprintf(fp, "%s%s{", om_families[fam].name, suffix);
    if(r->name) {
        fputs("name=\"", fp);
        om_label_value(fp, r->name);
        fputs("\",", fp);
    }
    fputs("target=\"", fp);
    om_label_value(fp, r->target);
    fputs("\",kind=\"", fp);
    om_label_value(fp, r->kind);
    fputc('"', fp);
    return fp;
}

static void om_label(FILE *fp, const char *key, const char *val)
{
    fprintf(fp, ",%s=\"", key);
    om_label_value(fp, val);
    fputc('"', fp);
}

static void om_int(struct om_ctx *x, int fam, const vg_rec_check *r, int64_t v)
{
    FILE *fp = om_sample(x, fam, "", r);
    if(fp)
        fprintf(fp, "} %" PRId64 "\n", v);
}

static void om_secs(FILE *fp, int64_t us)
{
    fprintf(fp, "} %" PRId64 ".%06" PRId64 "\n", us / 1000000, us % 1000000);
}

static int om_result(vg_output *o, const vg_record *rec)
{
    const vg_rec_check *r = rec->check;
    struct om_ctx *x = o->ctx;
    FILE *fp;
    bool http = r->detail == VG_REC_DETAIL_HTTP;

    om_int(x, OM_SUCCESS, r, r->state == VG_CHECK_OK);
    for(int p = 0; p < VG_PHASE__COUNT; p++) {
        if(r->phase_us[p] < 0)
            continue;
        if((fp = om_sample(x, OM_DURATION, "", r))) {
            om_label(fp, "phase", vg_phase_name(p));
            om_secs(fp, r->phase_us[p]);
        }
    }
    if(r->phase_us[VG_PHASE_DNS] >= 0 && (fp = om_sample(x, OM_DNS_LOOKUP, "", r)))
        om_secs(fp, r->phase_us[VG_PHASE_DNS]);
    if(http) {
        om_int(x, OM_HTTP_STATUS, r, r->http_status);
        om_int(x, OM_HTTP_REDIRECTS, r, r->redirects);
    }
    if(r->ncerts) {
        int64_t earliest = r->certs[0].not_after;
        for(unsigned i = 0; i < r->ncerts && i < VG_REC_MAX_CHAIN; i++) {
            char depth[16];
            if(r->certs[i].not_after < earliest)
                earliest = r->certs[i].not_after;
            if((fp = om_sample(x, OM_CERT_EXPIRY, "", r))) {
                snprintf(depth, sizeof(depth), "%u", i);
                om_label(fp, "depth", depth);
                om_label(fp, "subject", r->certs[i].subject);
                fprintf(fp, "} %" PRId64 "\n", r->certs[i].not_after);
            }
        }
        om_int(x, OM_CERT_EARLIEST, r, earliest);
    }
    if(r->detail == VG_REC_DETAIL_DNS && r->dns_rcode >= 0)
        om_int(x, OM_DNS_ANSWERS, r, r->dns_nanswers);
    for(int s = 0; s < 4; s++) {
        if((fp = om_sample(x, OM_STATE, "", r))) {
            om_label(fp, "state", vg_check_state_name(s));
            fprintf(fp, "} %d\n", r->state == s);
        }
    }
    if((fp = om_sample(x, OM_REASON, "", r))) {
        om_label(fp, "reason", r->reason);
        fputs("} 1\n", fp);
    }
    om_int(x, OM_ATTEMPTS, r, r->attempts);
    return x->failed ? VG_EIO : VG_OK;
}

static void om_reset(struct om_ctx *x)
{
    for(int f = 0; f < OM__COUNT; f++) {
        if(x->mem[f])
            fclose(x->mem[f]);
        free(x->buf[f]);
        x->mem[f] = NULL;
        x->buf[f] = NULL;
        x->len[f] = 0;
    }
    x->failed = false;
}

/* Writes the exposition collected since the last end(), then starts over. */
static int om_end(vg_output *o, const vg_record *rec)
{
    struct om_ctx *x = o->ctx;
    int rc = x->failed ? VG_EIO : VG_OK;
    (void)rec;
    for(int f = 0; f < OM__COUNT; f++) {
        if(!x->mem[f])
            continue;
        if(fclose(x->mem[f]) != 0)
            rc = VG_EIO;
        x->mem[f] = NULL;
        if(!x->len[f])
            continue;
        fprintf(o->fp, "# TYPE %s %s\n# HELP %s %s\n", om_families[f].name, om_families[f].type,
                om_families[f].name, om_families[f].help);
        fwrite(x->buf[f], 1, x->len[f], o->fp);
    }
    fputs("# EOF\n", o->fp);
    om_reset(x);
    return rc;
}

static void om_cleanup(vg_output *o)
{
    om_reset(o->ctx);
}

const vg_output_type vg_output_openmetrics = {
    .name = "openmetrics",
    .help = "OpenMetrics text for Prometheus (node_exporter textfile collector); FILE written atomically",
    .runs = VG_OUTPUT_CHECK,
    .ctx_size = sizeof(struct om_ctx),
    .write = {
        [VG_REC_CHECK] = om_result,
        [VG_REC_CHECK_SUMMARY] = om_end,
    },
    .cleanup = om_cleanup,
};
