/* SPDX-License-Identifier: MIT */
/* Port scanning: options, the result record, and the scan handle. */
#ifndef VIGIA_SCAN_H
#define VIGIA_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "vigia/addr.h"
#include "vigia/error.h"
#include "vigia/ports.h"
#include "vigia/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_state {
    VG_STATE_UNKNOWN = 0,
    VG_STATE_OPEN,
    VG_STATE_CLOSED,
    VG_STATE_FILTERED,
    VG_STATE_OPEN_FILTERED,
    VG_STATE__COUNT
} vg_state;

/* The evidence behind a state. Names are part of the output schema. */
typedef enum vg_reason {
    VG_REASON_NONE = 0,
    VG_REASON_SYN_ACK,          /* "syn-ack": handshake completed */
    VG_REASON_CONN_REFUSED,     /* "conn-refused": RST to our SYN */
    VG_REASON_NO_RESPONSE,      /* "no-response": nothing after all tries */
    VG_REASON_HOST_UNREACH,     /* "host-unreach": ICMP host unreachable */
    VG_REASON_NET_UNREACH,      /* "net-unreach" */
    VG_REASON_ADMIN_PROHIBITED, /* "admin-prohibited": ICMP communication administratively prohibited (EACCES/EPERM) */
    VG_REASON_PROTO_UNREACH,    /* "proto-unreach" */
    VG_REASON_PORT_UNREACH,     /* "port-unreach" */
    VG_REASON_TTL_EXCEEDED,     /* "ttl-exceeded" */
    VG_REASON_RESET,            /* "reset": RST after the handshake began */
    VG_REASON_UDP_RESPONSE,     /* "udp-response" */
    VG_REASON__COUNT
} vg_reason;

const char *vg_state_name(int state);
const char *vg_reason_name(int reason);

typedef enum vg_engine {
    VG_ENGINE_CONNECT = 1, /* unprivileged connect() scan (-sT) */
} vg_engine;

/* One port's result. rtt_us is -1 when nothing answered. */
typedef struct vg_result {
    vg_addr addr;
    uint16_t port;
    uint8_t proto;  /* IPPROTO_TCP or IPPROTO_UDP */
    uint8_t state;  /* vg_state */
    uint8_t reason; /* vg_reason */
    uint8_t tries;  /* probes sent for this port, >= 1 */
    int64_t rtt_us;
} vg_result;

typedef struct vg_scan_opts {
    int engine;                 /* vg_engine */
    unsigned retries;           /* extra tries for unanswered probes; default 2 */
    uint32_t timeout_ms;        /* fixed probe timeout; 0 = adaptive per host */
    uint32_t min_rtt_timeout_ms;/* floor of the adaptive timeout; default 100 */
    uint32_t max_rtt_timeout_ms;/* ceiling; default 3000 */
    uint32_t init_rtt_timeout_ms;/* before any answer; default 1000 */
    double rate;                /* cap on new probes per second; 0 = none */
    unsigned concurrency;       /* probes in flight; 0 = from RLIMIT_NOFILE */
    unsigned threads;           /* worker threads; 0 = two per CPU, at most 4 */
    uint64_t seed;              /* order of the walk; same seed, same order */
    uint32_t shard_index;       /* this run scans shard_index of shard_count */
    uint32_t shard_count;       /* 0 or 1: no sharding */
} vg_scan_opts;

void vg_scan_opts_default(vg_scan_opts *opts);

typedef struct vg_scan_stats {
    uint64_t total;     /* (target, port) pairs this run will report */
    uint64_t done;      /* reported so far */
    uint64_t sent;      /* probes sent, retries included */
    uint64_t open, closed, filtered;
    uint64_t in_flight;
    uint64_t deferred;  /* connect attempts put back for local resource limits */
    unsigned concurrency; /* the limit in effect */
    unsigned threads;
    double elapsed_s;
} vg_scan_stats;

typedef struct vg_scan vg_scan;

/* Called on the thread that calls vg_scan_poll(), once per finished port.
 * The record is only valid during the call. */
typedef void (*vg_result_fn)(const vg_result *res, void *ud);

/* targets must be finalized; targets and ports must outlive the scan. */
int vg_scan_new(vg_scan **out, const vg_targets *targets, const vg_ports *ports,
                const vg_scan_opts *opts, vg_error *err);

/* Starts the worker threads (with all signals blocked in them). */
int vg_scan_start(vg_scan *scan, vg_error *err);

/* Waits up to timeout_ms for results and delivers them to fn. Returns 1 when
 * the scan is complete (every result delivered), 0 when it is still running,
 * or a negative vg_rc when a worker failed (err says why). */
int vg_scan_poll(vg_scan *scan, int timeout_ms, vg_result_fn fn, void *ud, vg_error *err);

/* Asks the workers to stop: no new probes; probes in flight are abandoned.
 * Results already delivered stay valid. vg_scan_poll then returns 1 soon. */
void vg_scan_stop(vg_scan *scan);

void vg_scan_get_stats(vg_scan *scan, vg_scan_stats *stats);

/* Joins the workers and frees everything. */
void vg_scan_free(vg_scan *scan);

#ifdef __cplusplus
}
#endif
#endif
