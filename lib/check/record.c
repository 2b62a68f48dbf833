/* SPDX-License-Identifier: MIT */
/* The check side's adapter to the record (vigia/record.h): a check
 * result, or a --watch summary, as the record the output formats read.
 * Names of reasons and DNS rcodes are resolved here, so the formats need
 * nothing of lib/check. */
#include <stdio.h>
#include <string.h>

#include "check/dns_msg.h"
#include "vigia/check.h"

_Static_assert(VG_CHECK_MAX_CHAIN == VG_REC_MAX_CHAIN, "certificate chain sizes differ");
_Static_assert(VG_CHECK_MAX_ANSWERS == VG_REC_MAX_ANSWERS, "DNS answer counts differ");
_Static_assert(sizeof(((vg_check_result *)0)->reasons) == VG_REC_MAX_REASONS, "reason counts differ");
_Static_assert(sizeof(((vg_check_result *)0)->addr_results) / sizeof(struct vg_check_addr_result) ==
               VG_REC_MAX_ADDRS, "address counts differ");

void vg_check_record(vg_rec_check *out, vg_rec_limits *lim, const vg_check_result *r)
{
    memset(out, 0, sizeof(*out));
    out->index = r->index;
    out->name = r->name;
    out->target = r->target;
    out->kind = r->kind;
    /* A result made outside the checker (scan --check's stand-ins for
     * checks that never ran) is a plain connection check. */
    out->label = r->label ? r->label : "TCP";
    out->detail = (vg_rec_detail)r->detail;
    out->host = r->host;
    out->port = r->port;
    out->have_addr = r->have_addr;
    out->addr = r->addr;
    out->state = r->state;
    out->reason = vg_check_reason_name(r->reason);
    out->nreasons = r->nreasons < VG_REC_MAX_REASONS ? r->nreasons : VG_REC_MAX_REASONS;
    for(unsigned i = 0; i < out->nreasons; i++)
        out->reasons[i] = vg_check_reason_name(r->reasons[i]);
    out->message = r->message;
    memcpy(out->phase_us, r->phase_us, sizeof(out->phase_us));
    out->elapsed_us = r->elapsed_us;
    out->attempts = r->attempts;
    out->start_time = r->start_time;
    if(r->opts && lim) {
        const vg_check_opts *op = r->opts;
        lim->timeout_ms = op->timeout_ms;
        memcpy(lim->warn_us, op->warn_us, sizeof(lim->warn_us));
        memcpy(lim->crit_us, op->crit_us, sizeof(lim->crit_us));
        lim->cert_warn_days = op->cert_warn_days;
        lim->cert_crit_days = op->cert_crit_days;
        lim->warn_loss_pct = op->warn_loss_pct;
        lim->crit_loss_pct = op->crit_loss_pct;
        out->limits = lim;
    }
    out->http_status = r->http_status;
    out->status_line = r->status_line;
    out->body_bytes = r->body_bytes;
    out->body_truncated = r->body_truncated;
    out->redirects = r->redirects;
    out->reuse_asked = r->opts && r->opts->reuse_connections;
    out->conn_reused = r->conn_reused;
    out->tls_version = r->tls_version;
    out->tls_cipher = r->tls_cipher;
    out->ncerts = r->ncerts < VG_REC_MAX_CHAIN ? r->ncerts : VG_REC_MAX_CHAIN;
    for(unsigned i = 0; i < out->ncerts; i++) {
        const vg_check_cert *c = &r->certs[i];
        out->certs[i] = (vg_rec_cert){.subject = c->subject, .issuer = c->issuer,
                                      .not_before = c->not_before, .not_after = c->not_after,
                                      .days_left = c->days_left};
    }
    out->banner = r->banner;
    out->bytes_read = r->bytes_read;
    out->hostkey_type = r->hostkey_type;
    out->hostkey_fp = r->hostkey_fp;
    out->ssh_kex = r->ssh_kex;
    out->hostkey_alg = r->hostkey_alg;
    out->hostkey_verified = r->hostkey_verified;
    out->dns_rcode = r->dns_rcode;
    if(r->dns_rcode >= 0) {
        char buf[16];
        snprintf(out->dns_rcode_name, sizeof(out->dns_rcode_name), "%s",
                 dnsmsg_rcode_name(r->dns_rcode, buf, sizeof(buf)));
    }
    out->dns_aa = r->dns_aa;
    out->dns_tc = r->dns_tc;
    out->dns_nanswers = r->dns_nanswers;
    for(unsigned i = 0; i < r->dns_nanswers && i < VG_REC_MAX_ANSWERS; i++)
        out->dns_answers[i] = r->dns_answers[i];
    out->mysql_protocol = r->mysql_protocol;
    out->mysql_caps = r->mysql_caps;
    out->mysql_conn_id = r->mysql_conn_id;
    out->mysql_error = r->mysql_error;
    out->mysql_sqlstate = r->mysql_sqlstate;
    out->icmp_sent = r->icmp_sent;
    out->icmp_received = r->icmp_received;
    out->rtt_min_us = r->rtt_min_us;
    out->rtt_avg_us = r->rtt_avg_us;
    out->rtt_max_us = r->rtt_max_us;
    out->icmp_raw = r->icmp_raw;
    out->naddr_results = r->naddr_results < VG_REC_MAX_ADDRS ? r->naddr_results : VG_REC_MAX_ADDRS;
    for(unsigned i = 0; i < out->naddr_results; i++) {
        const struct vg_check_addr_result *x = &r->addr_results[i];
        out->addr_results[i] = (struct vg_rec_addr_result){
            .addr = x->addr, .state = x->state, .reason = vg_check_reason_name(x->reason),
            .total_us = x->total_us};
    }
}

void vg_check_watch_record(vg_rec_watch *out, const vg_check_watch_stats *st)
{
    memset(out, 0, sizeof(*out));
    out->index = st->index;
    out->name = st->name;
    out->target = st->target;
    out->kind = st->kind;
    out->runs = st->runs;
    out->state = st->state;
    out->reason = st->state >= 0 ? vg_check_reason_name(st->reason) : NULL;
    memcpy(out->state_s, st->state_s, sizeof(out->state_s));
    for(int p = 0; p < VG_PHASE__COUNT; p++)
        out->phase[p] = (vg_rec_watch_phase){.n = st->phase[p].n, .min_us = st->phase[p].min_us,
                                             .avg_us = st->phase[p].avg_us, .p95_us = st->phase[p].p95_us};
}
