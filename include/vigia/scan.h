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
    VG_STATE_CLOSED_FILTERED, /* silent while the target rate-limited its
                                 resets (--defeat-rst-ratelimit) */
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
    VG_REASON_ECHO_REPLY,       /* "echo-reply": host discovery, ICMP(v6) echo */
    VG_REASON_ARP_RESPONSE,     /* "arp-response": host discovery, ARP */
    VG_REASON_ND_RESPONSE,      /* "nd-response": host discovery, neighbour advertisement */
    VG_REASON_HOST_TIMEOUT,     /* "host-timeout": --host-timeout ended the port's tries
                                   before it had its answer; state unknown */
    VG_REASON__COUNT
} vg_reason;

const char *vg_state_name(int state);
const char *vg_reason_name(int reason);

typedef enum vg_engine {
    VG_ENGINE_CONNECT = 1, /* unprivileged connect() scan (-sT) */
    VG_ENGINE_SYN,         /* raw TCP SYN scan (-sS); needs CAP_NET_RAW */
    VG_ENGINE_UDP,         /* raw UDP scan (-sU); needs CAP_NET_RAW */
    VG_ENGINE_SYN_UDP,     /* both at once (-sS -sU): ports without a prefix over
                              TCP and UDP, "T:" ports over TCP, "U:" over UDP */
    VG_ENGINE_PING,        /* host discovery only (-sn): one result per host, port 0;
                              state open = up (reason: what answered), filtered = down */
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
    /* Host discovery on the local segment: the host's link-layer address. */
    uint8_t has_mac;
    uint8_t mac[6];
} vg_result;

/* vg_scan_opts.retries: choose the tries from the evidence. */
#define VG_RETRIES_ADAPTIVE UINT32_MAX

typedef struct vg_scan_opts {
    int engine;                 /* vg_engine */
    unsigned retries;           /* fixed extra tries for unanswered probes
                                   (--retries); VG_RETRIES_ADAPTIVE (default):
                                   chosen from the measured loss */
    unsigned max_retries;       /* cap on adaptive extra tries; default 10 */
    double min_rate;            /* floor of the adaptive rate (pps); 0 = 50 */
    uint64_t host_timeout_ms;   /* after this long, a host's silent ports get
                                   no more tries; 0 = no limit */
    bool defeat_rst_ratelimit;  /* report ports a target's RST limit kept
                                   silent as closed|filtered, not waiting */
    uint32_t timeout_ms;        /* fixed probe timeout; 0 = adaptive per host */
    uint32_t min_rtt_timeout_ms;/* floor of the adaptive timeout; default 100 */
    uint32_t max_rtt_timeout_ms;/* ceiling; default 3000 */
    uint32_t init_rtt_timeout_ms;/* before any answer; default 1000 */
    double rate;                /* cap on probes per second (--max-rate); 0 = none */
    unsigned concurrency;       /* probes in flight; 0 = from RLIMIT_NOFILE */
    unsigned threads;           /* worker threads; 0 = the engine's default, at
                                   most 4: two per CPU for connect, one per CPU
                                   for the raw engines (syn, udp, ping) */
    uint64_t seed;              /* order of the walk; same seed, same order */
    uint32_t shard_index;       /* this run scans shard_index of shard_count */
    uint32_t shard_count;       /* 0 or 1: no sharding */
    /* Raw engines (syn, udp) only. */
    const char *iface;          /* -e: send and capture on this interface only;
                                   NULL: wherever the kernel routes */
    vg_addr source;             /* -S: source address; family 0: the route's */
    uint16_t source_port;       /* --source-port; 0: derived from the probe cookie */
} vg_scan_opts;

void vg_scan_opts_default(vg_scan_opts *opts);

typedef struct vg_scan_stats {
    uint64_t total;     /* (target, port) pairs this run will report: those
                           of hosts that vg_scan_set_live() skips are taken
                           out as the walk meets them (exact at the end) */
    uint64_t done;      /* reported so far */
    uint64_t sent;      /* probes sent, retries included */
    uint64_t open, closed, filtered;
    uint64_t in_flight;
    uint64_t deferred;  /* connect attempts put back for local resource limits */
    unsigned concurrency; /* the limit in effect */
    unsigned threads;
    double elapsed_s;
    uint64_t skipped;   /* pairs not probed because their host is not in
                           vg_scan_set_live()'s set (down); not in total */
} vg_scan_stats;

typedef struct vg_scan vg_scan;

/* Called on the thread that calls vg_scan_poll(), once per finished port.
 * The record is only valid during the call. */
typedef void (*vg_result_fn)(const vg_result *res, void *ud);

/* targets must be finalized; targets and ports must outlive the scan.
 * Which ports go over which protocol: a TCP engine (connect, syn) probes
 * vg_ports_get_proto(IPPROTO_TCP), udp the UDP view, syn+udp both views
 * (so a port given without a prefix is probed twice); "U:" ports with a
 * TCP-only engine, or "T:" ports with udp, are VG_EINVAL. */
int vg_scan_new(vg_scan **out, const vg_targets *targets, const vg_ports *ports,
                const vg_scan_opts *opts, vg_error *err);

/* Starts the worker threads (with all signals blocked in them). */
int vg_scan_start(vg_scan *scan, vg_error *err);

/* Waits up to timeout_ms for results and delivers them to fn. Returns 1 when
 * the scan is complete (every result delivered), 0 when it is still running,
 * or a negative vg_rc when a worker failed (err says why). */
int vg_scan_poll(vg_scan *scan, int timeout_ms, vg_result_fn fn, void *ud, vg_error *err);

/* Opens what the engine needs privileges for (raw send and capture
 * sockets) without starting to scan, so that the caller can drop its
 * privileges before any reply is parsed (see vg_drop_privileges()).
 * vg_scan_start() calls it when the caller did not. */
int vg_scan_prepare(vg_scan *scan, vg_error *err);

/* The engine's name: "connect", "syn", "udp", "syn+udp". */
const char *vg_scan_engine_name(const vg_scan *scan);

/* The i-th probe of this run (0 <= i < stats.total) in the order the walk
 * visits it, for --dry-run. Sends nothing. */
void vg_scan_probe_at(const vg_scan *scan, uint64_t i, vg_addr *addr, uint16_t *port);

/* Same, with the probe's protocol (IPPROTO_TCP or IPPROTO_UDP). */
void vg_scan_probe_at_proto(const vg_scan *scan, uint64_t i, vg_addr *addr, uint16_t *port,
                            uint8_t *proto);

/* Ports probed per host over TCP and over UDP (see vg_scan_new()). */
void vg_scan_port_counts(const vg_scan *scan, uint64_t *tcp, uint64_t *udp);

/* Raw engines: probe only the targets whose bit is set in live (bit i of
 * byte i / 8 for target index i, as vg_targets_get() numbers them), e.g.
 * the hosts a VG_ENGINE_PING scan found up; the others get no results.
 * Call between vg_scan_prepare() and vg_scan_start(); live must outlive the
 * scan. VG_EINVAL for the connect engine. */
int vg_scan_set_live(vg_scan *scan, const uint8_t *live, vg_error *err);

/* Raw engines: discovery is the host discovery scan (VG_ENGINE_PING) run
 * before scan over the same source ports; replies to its probes that reach
 * scan afterwards count as late answers, not as rejected ones. Call after
 * both vg_scan_prepare(); discovery may be freed afterwards. */
int vg_scan_follow_discovery(vg_scan *scan, const vg_scan *discovery, vg_error *err);

/* What the raw engines saw on the wire; all zero for the connect engine. */
typedef struct vg_raw_stats {
    uint64_t replies;   /* packets that answered one of our probes */
    uint64_t invalid;   /* packets aimed at our ports whose cookie did not validate */
    uint64_t late;      /* valid answers to probes already finished (duplicates) */
    uint64_t cap_drops; /* packets the capture ring dropped (kernel's count) */
    uint64_t send_errors; /* probes the kernel refused to send */
} vg_raw_stats;

void vg_scan_get_raw_stats(vg_scan *scan, vg_raw_stats *st);

/* What one network path did during the scan: the rate the path
 * controller held, the RTT and loss it measured, and what limited it.
 * Paths are told apart by the source address the probes left from (the
 * connect engine: by address family only, source family 0). */
typedef struct vg_path_report {
    vg_addr source;        /* egress address; family 0 with .family set: any */
    int family;            /* AF_INET or AF_INET6 */
    uint64_t sent;         /* probes sent on it, retries included */
    uint64_t answered;     /* answers received */
    double rate_pps;       /* the rate it held: probes sent per second of sending */
    double peak_pps;       /* the highest rate a round reached */
    double replies_pps;    /* answers per second while it was in use */
    int64_t min_rtt_us;    /* -1: no answer */
    int64_t median_rtt_us; /* -1: no answer */
    double loss;           /* estimated per-try loss (both directions) */
    bool congestive;       /* the answered share fell as the rate rose */
    uint32_t rounds_clean, rounds_congested, cuts;
    uint32_t local_cuts;   /* cuts for our own full send queue or capture ring */
    uint64_t local_drops;  /* sends the kernel had no room for */
    uint64_t cap_drops;    /* replies the capture ring dropped */
    uint64_t silent_congested; /* ports reported silent (filtered, open|filtered)
                              although some of their tries were lost in rounds
                              judged congested: a fixed --retries, or the cap
                              of --max-retries, gave them no more */
    double rst_limit_pps;  /* > 0: the target seems to rate-limit its resets
                              (or ICMP errors) to about this many per second */
} vg_path_report;

/* After the scan: up to max path reports in out; returns how many paths
 * there were. */
unsigned vg_scan_get_paths(vg_scan *scan, vg_path_report *out, unsigned max);

/* After the scan: the most tries any port got, and whether the tries were
 * chosen from the evidence ("adaptive") or fixed by --retries ("fixed"). */
unsigned vg_scan_max_tries(vg_scan *scan);
const char *vg_scan_tries_policy(const vg_scan *scan);

/* Runs the rest of the process unprivileged: when root, switches to user
 * (NULL: "nobody"), its group and no supplementary groups; in every case
 * clears all capabilities. Call after vg_scan_prepare() and after opening
 * every file, before vg_scan_start(). Process-wide, so the library never
 * calls it by itself. */
int vg_drop_privileges(const char *user, vg_error *err);

/* True when the process may open raw sockets (root or CAP_NET_RAW). */
bool vg_have_raw_privileges(void);

/* Proof of life from port answers, for scans that skip host discovery
 * because it would cost more probes than the scan itself: a host is up
 * when one of its ports answered (open or closed); the silent ports of
 * hosts that never answered are held back and at the end counted as
 * skipped, with the host down, as if discovery had run. */
typedef struct vg_liveness vg_liveness;

enum { VG_LIVE_EMIT = 0, VG_LIVE_HELD = 1 };

/* True when the targets are on an attached ethernet segment (first and
 * last of them), where discovery's ARP or neighbour solicitation is the
 * cheapest proof of life and worth running first. */
bool vg_targets_onlink(const vg_targets *targets);

int vg_liveness_new(vg_liveness **out, const vg_targets *targets, vg_error *err);
/* One port result: VG_LIVE_EMIT (pass it on now) or VG_LIVE_HELD (kept
 * for vg_liveness_finish). *first: this is its host's first answer, and
 * *host is the host's record (up) to pass on before the result. */
int vg_liveness_feed(vg_liveness *l, const vg_result *res, vg_result *host, bool *first);
/* The end: held results of hosts that turned out up go to emit; for each
 * host that never answered, one down record goes to host_down. Returns
 * how many port results were skipped (their host is down). */
uint64_t vg_liveness_finish(vg_liveness *l, vg_result_fn emit, vg_result_fn host_down, void *ud);
void vg_liveness_free(vg_liveness *l);

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
