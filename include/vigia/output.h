/* SPDX-License-Identifier: MIT */
/* Output formats: each is a view of the same scan records, written to a
 * stream the caller opened. */
#ifndef VIGIA_OUTPUT_H
#define VIGIA_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "vigia/scan.h"
#include "vigia/services.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the NDJSON record schema (docs/schema.md). */
#define VG_SCAN_SCHEMA "vigia.scan/1"

/* The IEEE OUI registry (vg_oui_load(), lib/util/oui.h): MAC vendors. */
struct vg_oui;
/* A service check's record (vigia/check.h): scan --check. */
struct vg_check_result;

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

typedef struct vg_output_opts {
    int verbose;                /* text: also list closed and filtered ports */
    bool open_only;             /* list only open ports (counts stay complete) */
    const vg_targets *targets;  /* to show the names users gave; may be NULL */
    const vg_services *services;/* port names; may be NULL */
    const struct vg_oui *oui;   /* MAC vendors; may be NULL (no vendor names) */
} vg_output_opts;

typedef struct vg_output vg_output;

/* The vtable of one format. Callbacks return VG_OK or VG_EIO when the
 * stream failed (closed pipe, full disk). */
typedef struct vg_output_type {
    const char *name;
    const char *help;
    size_t ctx_size; /* private state, zeroed, at vg_output.ctx */
    int (*begin)(vg_output *o, const vg_scan_info *info);
    /* Called for every delivered result, in the order found; res is only
     * valid during the call. */
    int (*result)(vg_output *o, const vg_result *res);
    int (*end)(vg_output *o, const vg_scan_end *end);
    void (*cleanup)(vg_output *o);
    /* Host discovery: called once per host that discovery probed, before
     * the port results (if any): a VG_ENGINE_PING result, port 0, state
     * VG_STATE_OPEN = up (reason: what answered), anything else = down.
     * host is only valid during the call. NULL: the format ignores hosts. */
    int (*host)(vg_output *o, const vg_result *host);
    /* scan --check: a result with the verdict of the check run on its port
     * (chk never NULL; both only valid during the call). NULL: the format
     * gets result() and ignores the check. */
    int (*result_check)(vg_output *o, const vg_result *res, const struct vg_check_result *chk);
} vg_output_type;

struct vg_output {
    const vg_output_type *type;
    FILE *fp;                   /* not owned */
    vg_output_opts opts;
    void *ctx;
};

/* The registered formats, NULL-terminated. */
const vg_output_type *const *vg_output_types(void);

/* NULL with err filled for an unknown name. fp stays the caller's. */
vg_output *vg_output_new(const char *format, FILE *fp, const vg_output_opts *opts,
                         vg_error *err);
int vg_output_begin(vg_output *o, const vg_scan_info *info);
int vg_output_result(vg_output *o, const vg_result *res);
/* A result with its check (scan --check); chk NULL: same as vg_output_result. */
int vg_output_result_check(vg_output *o, const vg_result *res, const struct vg_check_result *chk);
/* A host discovery result (see vg_output_type.host). */
int vg_output_host(vg_output *o, const vg_result *host);
int vg_output_end(vg_output *o, const vg_scan_end *end);
/* Pushes buffered bytes to the stream's file; VG_EIO on failure. */
int vg_output_flush(vg_output *o);
void vg_output_free(vg_output *o);

/* Writes s as a JSON string literal (quotes included), escaping control
 * characters and invalid UTF-8 bytes as \u00XX. */
void vg_json_string(FILE *fp, const char *s);

/* Writes mac as "00:00:0c:12:34:56" into buf (at least 18 bytes). */
void vg_mac_format(const uint8_t mac[6], char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
