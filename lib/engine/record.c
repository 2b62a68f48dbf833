/* SPDX-License-Identifier: MIT */
/* The scan side's adapter to the record (vigia/scan_record.h): results,
 * header and summary of a scan as records, with the names of states and
 * reasons, the targets' names, services and MAC vendors resolved, so
 * that the output formats need nothing of the engine. */
#include <netinet/in.h>
#include <string.h>

#include "util/oui.h"
#include "vigia/scan_record.h"

void vg_scan_record_header(vg_rec_scan *out, const vg_scan_info *info)
{
    const vg_scan_opts *op = info->opts;

    memset(out, 0, sizeof(*out));
    out->version = info->version;
    out->engine = info->engine;
    out->targets = info->targets;
    out->ports = info->ports;
    out->n_targets = info->n_targets;
    out->n_ports = info->n_ports;
    out->n_tcp_ports = info->n_tcp_ports;
    out->n_udp_ports = info->n_udp_ports;
    out->discovery_only = info->kind == VG_ENGINE_PING;
    out->start_time = info->start_time;
    out->check_timeout_ms = info->check_timeout_ms;
    if(op)
        out->opts = (vg_rec_scan_opts){
            .adaptive_tries = op->retries == VG_RETRIES_ADAPTIVE,
            .retries = op->retries, .max_retries = op->max_retries,
            .timeout_ms = op->timeout_ms, .rate = op->rate, .min_rate = op->min_rate,
            .concurrency = op->concurrency, .threads = op->threads, .seed = op->seed,
            .shard_index = op->shard_index, .shard_count = op->shard_count,
        };
}

static vg_rec_port_state port_state(int state)
{
    switch(state) {
    case VG_STATE_OPEN: return VG_REC_PORT_OPEN;
    case VG_STATE_CLOSED: return VG_REC_PORT_CLOSED;
    case VG_STATE_FILTERED: return VG_REC_PORT_FILTERED;
    case VG_STATE_OPEN_FILTERED: return VG_REC_PORT_OPEN_FILTERED;
    default: return VG_REC_PORT_OTHER;
    }
}

static const char *name_of(const vg_scan_names *n, const vg_addr *a)
{
    return n && n->targets ? vg_targets_name(n->targets, a) : NULL;
}

static const char *vendor_of(const vg_scan_names *n, const vg_result *r)
{
    return r->has_mac && n ? vg_oui_vendor(n->oui, r->mac) : NULL;
}

void vg_scan_record_port(vg_rec_port *out, const vg_result *r, const vg_scan_names *names)
{
    memset(out, 0, sizeof(*out));
    out->addr = r->addr;
    out->name = name_of(names, &r->addr);
    out->port = r->port;
    out->proto = r->proto;
    out->state = port_state(r->state);
    out->state_name = vg_state_name(r->state);
    out->reason = vg_reason_name(r->reason);
    out->rtt_us = r->rtt_us;
    out->tries = r->tries;
    out->service = names ? vg_services_name(names->services, r->port, r->proto) : NULL;
    out->has_mac = r->has_mac;
    memcpy(out->mac, r->mac, sizeof(out->mac));
    out->vendor = vendor_of(names, r);
}

void vg_scan_record_host(vg_rec_host *out, const vg_result *r, const vg_scan_names *names)
{
    memset(out, 0, sizeof(*out));
    out->addr = r->addr;
    out->name = name_of(names, &r->addr);
    out->up = r->state == VG_STATE_OPEN;
    out->reason = vg_reason_name(r->reason);
    out->rtt_us = r->rtt_us;
    out->tries = r->tries;
    out->has_mac = r->has_mac;
    memcpy(out->mac, r->mac, sizeof(out->mac));
    out->vendor = vendor_of(names, r);
}

void vg_scan_record_summary(vg_rec_scan_summary *out, vg_rec_path *paths, const vg_scan_end *e)
{
    const vg_scan_stats *st = &e->stats;

    memset(out, 0, sizeof(*out));
    out->done = st->done;
    out->total = st->total;
    out->open = st->open;
    out->closed = st->closed;
    out->filtered = st->filtered;
    out->sent = st->sent;
    out->skipped = st->skipped;
    out->deferred = st->deferred;
    out->elapsed_s = st->elapsed_s;
    out->interrupted = e->interrupted;
    out->signal = e->signal;
    out->end_time = e->end_time;
    for(unsigned i = 0; i < e->npaths; i++) {
        const vg_path_report *p = &e->paths[i];
        paths[i] = (vg_rec_path){
            .source = p->source, .ipv6 = p->family == AF_INET6, .sent = p->sent,
            .answered = p->answered, .rate_pps = p->rate_pps, .peak_pps = p->peak_pps,
            .replies_pps = p->replies_pps, .min_rtt_us = p->min_rtt_us,
            .median_rtt_us = p->median_rtt_us, .loss = p->loss, .congestive = p->congestive,
            .rounds_clean = p->rounds_clean, .rounds_congested = p->rounds_congested,
            .cuts = p->cuts, .local_cuts = p->local_cuts, .local_drops = p->local_drops,
            .cap_drops = p->cap_drops,
            .silent_congested = p->silent_congested, .rst_limit_pps = p->rst_limit_pps,
        };
    }
    out->paths = e->npaths ? paths : NULL;
    out->npaths = e->npaths;
    out->max_tries = e->max_tries;
    out->tries_policy = e->tries_policy;
    out->checked = e->checked;
    memcpy(out->check_count, e->check_count, sizeof(out->check_count));
    out->raw = e->raw;
    out->replies_rejected = e->replies_rejected;
    out->replies_late = e->replies_late;
}
