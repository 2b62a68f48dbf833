/* SPDX-License-Identifier: MIT */
/* The scan side's adapter to the record (vigia/record.h): what a scan
 * run says at its start and end, and its results, as the records the
 * output formats read (lib/engine/record.c). */
#ifndef VIGIA_SCAN_RECORD_H
#define VIGIA_SCAN_RECORD_H

#include "vigia/record.h"
#include "vigia/scan.h"
#include "vigia/services.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The IEEE OUI registry (vg_oui_load(), lib/util/oui.h): MAC vendors. */
struct vg_oui;

typedef struct vg_scan_info {
    const char *version;  /* vigia's version */
    const char *engine;   /* "connect", "syn", "udp", "syn+udp", "ping" */
    const char *targets;  /* the target specs as given, joined by spaces */
    const char *ports;    /* the port spec as given */
    uint64_t n_targets;
    uint64_t n_ports;
    const vg_scan_opts *opts; /* effective options (concurrency, threads resolved) */
    double start_time;    /* Unix time, seconds */
    int kind;             /* vg_engine of the run; VG_ENGINE_PING: host
                             discovery only (-sn), records are hosts; 0:
                             not said (a port scan) */
    uint64_t n_tcp_ports; /* ports probed per host over TCP and over UDP */
    uint64_t n_udp_ports; /* (vg_scan_port_counts()); both 0: not said */
    uint32_t check_timeout_ms; /* scan --check: each check's budget; 0: no checks */
} vg_scan_info;

typedef struct vg_scan_end {
    vg_scan_stats stats;
    bool interrupted;           /* stopped early: a signal, or stdout's reader left */
    const char *signal;         /* what stopped it ("SIGINT", "SIGTERM", "SIGHUP",
                                   "SIGPIPE"); NULL: not said */
    double end_time;
    /* What limited the scan: one report per network path, and the tries. */
    const vg_path_report *paths;
    unsigned npaths;
    unsigned max_tries;         /* the most tries any port got */
    const char *tries_policy;   /* "adaptive" or "fixed"; NULL: not said */
    bool checked;               /* scan --check ran: check_count is meaningful */
    uint64_t check_count[4];    /* port records per check verdict (vg_check_state) */
    /* Raw engines (vg_scan_get_raw_stats()): replies to our source ports
     * whose cookie did not validate (forged, or answers to another
     * scanner), and valid answers to probes already finished (duplicates,
     * retransmitted SYN-ACKs). */
    bool raw;                   /* a raw engine ran: the two counts are meaningful */
    uint64_t replies_rejected;
    uint64_t replies_late;
} vg_scan_end;

/* Where the names in host and port records come from; each may be NULL
 * (no names the user gave, no service names, no vendors). They must
 * outlive the outputs the records go to. */
typedef struct vg_scan_names {
    const vg_targets *targets;
    const vg_services *services;
    const struct vg_oui *oui;
} vg_scan_names;

void vg_scan_record_header(vg_rec_scan *out, const vg_scan_info *info);
/* A port result; a host discovery result (a VG_ENGINE_PING result: state
 * VG_STATE_OPEN = up). */
void vg_scan_record_port(vg_rec_port *out, const vg_result *res, const vg_scan_names *names);
void vg_scan_record_host(vg_rec_host *out, const vg_result *host, const vg_scan_names *names);
/* paths: room for end->npaths entries, which out->paths then points to. */
void vg_scan_record_summary(vg_rec_scan_summary *out, vg_rec_path *paths, const vg_scan_end *end);

#ifdef __cplusplus
}
#endif
#endif
