/* SPDX-License-Identifier: MIT */
/* The record: what every output format prints, for `scan` and `check`
 * alike. A producer (the scan adapter in lib/engine/record.c, the check
 * adapter in lib/check/record.c) turns its own state into records; the
 * formats (lib/output) read records and nothing else. Names that the
 * schema fixes (port states, reasons, check states, phases) are already
 * strings here, so a format needs no table of the producer's. */
#ifndef VIGIA_RECORD_H
#define VIGIA_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vigia/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Versions of the NDJSON record schemas (docs/schema.md). */
#define VG_SCAN_SCHEMA "vigia.scan/1"
#define VG_CHECK_SCHEMA "vigia.check/1"

typedef enum vg_record_kind {
    /* vigia scan */
    VG_REC_SCAN = 0,        /* the header: what is scanned, with which options */
    VG_REC_HOST,            /* host discovery: one host probed */
    VG_REC_PORT,            /* one port's verdict (with its check under scan --check) */
    VG_REC_SCAN_SUMMARY,    /* the end of the scan */
    /* vigia check */
    VG_REC_CHECK_RUN,       /* the header: mode, checks, timeout */
    VG_REC_CHECK,           /* one check's verdict */
    VG_REC_CHANGE,          /* --watch: a check's verdict that changed its state */
    VG_REC_WATCH_SUMMARY,   /* --watch: one check over the whole run, at exit */
    VG_REC_CHECK_SUMMARY,   /* the end of a check run (under --watch: of a round) */
    VG_REC__COUNT
} vg_record_kind;

/* --- scan records ---------------------------------------------------------- */

/* The options a scan header shows. */
typedef struct vg_rec_scan_opts {
    bool adaptive_tries;        /* tries chosen from the evidence (else fixed) */
    unsigned retries;           /* fixed: extra tries */
    unsigned max_retries;       /* adaptive: cap on extra tries */
    uint32_t timeout_ms;        /* 0: adaptive per host */
    double rate, min_rate;      /* pps; 0: none / default */
    unsigned concurrency, threads;
    uint64_t seed;
    uint32_t shard_index, shard_count; /* count 0 or 1: no sharding */
} vg_rec_scan_opts;

typedef struct vg_rec_scan {
    const char *version;        /* vigia's version */
    const char *engine;         /* "connect", "syn", "udp", "syn+udp", "ping" */
    const char *targets;        /* the target specs as given */
    const char *ports;          /* the port spec as given */
    uint64_t n_targets, n_ports;
    uint64_t n_tcp_ports, n_udp_ports; /* both 0: not said */
    bool discovery_only;        /* -sn: the records are hosts, not ports */
    vg_rec_scan_opts opts;
    double start_time;          /* Unix seconds */
    uint32_t check_timeout_ms;  /* scan --check: each check's budget; 0: no checks */
} vg_rec_scan;

/* What a port state means to a view: tables count by it. */
typedef enum vg_rec_port_state {
    VG_REC_PORT_OTHER = 0,      /* unknown, closed|filtered */
    VG_REC_PORT_OPEN,
    VG_REC_PORT_CLOSED,
    VG_REC_PORT_FILTERED,
    VG_REC_PORT_OPEN_FILTERED,
    VG_REC_PORT__COUNT
} vg_rec_port_state;

/* String fields of host and port records other than the address come
 * from tables that outlive the run (state and reason names, the targets'
 * names, the services table, the OUI registry): a format may keep the
 * pointers until it is freed. The record itself is the caller's and only
 * valid during the call. */
typedef struct vg_rec_host {
    vg_addr addr;
    const char *name;           /* the name the user gave; NULL: none */
    bool up;
    const char *reason;         /* what answered ("echo-reply", ...) */
    int64_t rtt_us;             /* -1: no answer */
    unsigned tries;
    bool has_mac;
    uint8_t mac[6];
    const char *vendor;         /* of the MAC; NULL: unknown */
} vg_rec_host;

struct vg_rec_check;

typedef struct vg_rec_port {
    vg_addr addr;
    const char *name;           /* the name the user gave; NULL: none */
    uint16_t port;
    uint8_t proto;              /* IPPROTO_TCP or IPPROTO_UDP */
    vg_rec_port_state state;
    const char *state_name;     /* "open", "closed", "filtered", "open|filtered", ... */
    const char *reason;         /* "syn-ack", "conn-refused", ... */
    int64_t rtt_us;             /* -1: no answer */
    unsigned tries;
    const char *service;        /* NULL: not in the services table */
    bool has_mac;
    uint8_t mac[6];
    const char *vendor;         /* of the MAC; NULL: unknown */
    const struct vg_rec_check *check; /* scan --check: the port's check; NULL: none */
} vg_rec_port;

/* One network path: what the path controller saw. */
typedef struct vg_rec_path {
    vg_addr source;             /* family 0: no single source */
    bool ipv6;
    uint64_t sent, answered;
    double rate_pps, peak_pps, replies_pps;
    int64_t min_rtt_us, median_rtt_us; /* -1: no answer */
    double loss;
    bool congestive;
    uint32_t rounds_clean, rounds_congested, cuts, local_cuts;
    uint64_t local_drops, cap_drops;
    uint64_t silent_congested; /* silent ports with tries lost to congestion */
    double rst_limit_pps;       /* > 0: the target rate-limits its resets */
} vg_rec_path;

typedef struct vg_rec_scan_summary {
    /* the scan's counters: with host discovery, of the live hosts' ports */
    uint64_t done, total, open, closed, filtered, sent, skipped, deferred;
    double elapsed_s;
    bool interrupted;           /* stopped early: a signal, or stdout's reader left */
    const char *signal;         /* "SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE"; NULL: not said */
    double end_time;            /* Unix seconds */
    const vg_rec_path *paths;
    unsigned npaths;
    unsigned max_tries;
    const char *tries_policy;   /* "adaptive" or "fixed"; NULL: not said */
    bool checked;               /* scan --check ran: check_count is meaningful */
    uint64_t check_count[4];    /* port records per check verdict */
    bool raw;                   /* a raw engine ran: the two counts are meaningful */
    uint64_t replies_rejected, replies_late;
} vg_rec_scan_summary;

/* --- check records ----------------------------------------------------------- */

/* Verdicts; the numbers are the monitoring-plugin exit codes. */
typedef enum vg_check_state {
    VG_CHECK_OK = 0,
    VG_CHECK_WARNING = 1,
    VG_CHECK_CRITICAL = 2,
    VG_CHECK_UNKNOWN = 3,
} vg_check_state;

/* "ok", "warning", "critical", "unknown". */
const char *vg_check_state_name(int state);

/* Phases timed for every protocol. Each is a duration (not cumulative):
 * dns = name resolution, connect = TCP handshake, tls = TLS handshake,
 * firstbyte = from the connection being ready (after TLS) to the first byte
 * of the answer, total = everything from the start of the attempt,
 * resolution included. */
typedef enum vg_phase {
    VG_PHASE_DNS = 0,
    VG_PHASE_CONNECT,
    VG_PHASE_TLS,
    VG_PHASE_FIRSTBYTE,
    VG_PHASE_TOTAL,
    VG_PHASE__COUNT
} vg_phase;

const char *vg_phase_name(int phase);

typedef struct vg_rec_check_run {
    const char *version;
    const char *mode;           /* "once" or "wait" */
    size_t n_checks;
    uint32_t timeout_ms;
    double start_time;
} vg_rec_check_run;

/* Which protocol's block a check record has (the kind says, not its name). */
typedef enum vg_rec_detail {
    VG_REC_DETAIL_NONE = 0,     /* a banner and the bytes read, when any */
    VG_REC_DETAIL_HTTP,         /* status, body, redirects (and the banner rule) */
    VG_REC_DETAIL_SSH,
    VG_REC_DETAIL_DNS,
    VG_REC_DETAIL_MYSQL,
    VG_REC_DETAIL_ICMP,
} vg_rec_detail;

typedef struct vg_rec_cert {
    const char *subject, *issuer;
    int64_t not_before, not_after; /* Unix seconds */
    int days_left;
} vg_rec_cert;

#define VG_REC_MAX_CHAIN 8
#define VG_REC_MAX_REASONS 8
#define VG_REC_MAX_ANSWERS 8
#define VG_REC_MAX_ADDRS 8

/* The limits a check was judged by (perfdata shows them); 0 / -1: none. */
typedef struct vg_rec_limits {
    uint32_t timeout_ms;
    uint32_t warn_us[VG_PHASE__COUNT], crit_us[VG_PHASE__COUNT];
    int cert_warn_days, cert_crit_days;
    int warn_loss_pct, crit_loss_pct;
} vg_rec_limits;

/* One check's verdict. Every string is printable (bytes from the wire
 * were escaped when the check stored them) and borrowed from the
 * producer: valid only during the call. */
typedef struct vg_rec_check {
    size_t index;               /* order the checks were given in */
    const char *name;           /* checks files: the check's name; NULL: none */
    const char *target;         /* the spec as given */
    const char *kind;           /* "tcp", "http", "https", "tls", "ssh", ... */
    const char *label;          /* the kind for text output: "TCP", "HTTP", ... */
    vg_rec_detail detail;
    const char *host;
    uint16_t port;
    bool have_addr;
    vg_addr addr;
    int state;                  /* vg_check_state */
    const char *reason;         /* of the worst finding */
    unsigned nreasons;          /* all findings, worst first */
    const char *reasons[VG_REC_MAX_REASONS];
    const char *message;
    int64_t phase_us[VG_PHASE__COUNT]; /* -1: not reached */
    int64_t elapsed_us;
    unsigned attempts;
    double start_time;          /* Unix seconds */
    const vg_rec_limits *limits; /* NULL: none known */
    /* HTTP */
    int http_status;            /* 0: none */
    const char *status_line;
    uint64_t body_bytes;
    bool body_truncated;
    long redirects;
    bool reuse_asked;           /* --reuse-connections: connection_reused says ... */
    bool conn_reused;           /* ... whether this check took over a connection */
    /* TLS ("" / 0 when none) */
    const char *tls_version, *tls_cipher;
    unsigned ncerts;
    vg_rec_cert certs[VG_REC_MAX_CHAIN];
    /* banner (SSH: the version line; MySQL: the server version) */
    const char *banner;
    uint64_t bytes_read;
    /* SSH ("" when not known) */
    const char *hostkey_type, *hostkey_fp, *ssh_kex, *hostkey_alg;
    bool hostkey_verified;
    /* DNS */
    int dns_rcode;              /* -1: no answer */
    char dns_rcode_name[16];    /* "NOERROR", "NXDOMAIN", ..., "RCODE11"; "" when none */
    bool dns_aa, dns_tc;
    unsigned dns_nanswers;      /* records of the asked type (may exceed the kept ones) */
    const char *dns_answers[VG_REC_MAX_ANSWERS];
    /* MySQL */
    int mysql_protocol;         /* 0: no greeting */
    uint32_t mysql_caps, mysql_conn_id;
    int mysql_error;            /* 0: none */
    const char *mysql_sqlstate;
    /* ICMP */
    unsigned icmp_sent, icmp_received;
    int64_t rtt_min_us, rtt_avg_us, rtt_max_us;
    bool icmp_raw;
    /* --all-addresses */
    unsigned naddr_results;
    struct vg_rec_addr_result {
        vg_addr addr;
        int state;
        const char *reason;
        int64_t total_us;
    } addr_results[VG_REC_MAX_ADDRS];
} vg_rec_check;

typedef struct vg_rec_change {
    const vg_rec_check *check;  /* the verdict that changed the state */
    int previous;               /* the state it left; -1 at a check's first result */
    struct timespec time;       /* when it was seen (CLOCK_REALTIME) */
} vg_rec_change;

typedef struct vg_rec_watch_phase {
    unsigned n;                 /* runs that reached the phase */
    int64_t min_us, avg_us, p95_us;
} vg_rec_watch_phase;

typedef struct vg_rec_watch {
    size_t index;
    const char *name;           /* NULL: none */
    const char *target;
    const char *kind;
    unsigned runs;
    int state;                  /* the last state; -1: never finished */
    const char *reason;         /* of the last result; NULL when state is -1 */
    double state_s[4];          /* seconds spent in each vg_check_state */
    vg_rec_watch_phase phase[VG_PHASE__COUNT];
} vg_rec_watch;

typedef struct vg_rec_check_summary {
    size_t count[4];            /* checks per final state */
    int exit_code;              /* what the CLI exits with */
    bool interrupted;           /* stopped early: a signal, or stdout's reader left */
    const char *signal;         /* "SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE"; NULL: not said */
    bool timed_out;             /* --wait gave up */
    double elapsed_s;
    double end_time;
} vg_rec_check_summary;

/* --- the record ----------------------------------------------------------- */

/* A tagged record: kind says which pointer is set. What it points to is
 * the producer's, valid during the call only (but see vg_rec_port). */
typedef struct vg_record {
    vg_record_kind kind;
    union {
        const vg_rec_scan *scan;
        const vg_rec_host *host;
        const vg_rec_port *port;
        const vg_rec_scan_summary *scan_summary;
        const vg_rec_check_run *check_run;
        const vg_rec_check *check;
        const vg_rec_change *change;
        const vg_rec_watch *watch;
        const vg_rec_check_summary *check_summary;
    };
} vg_record;

#ifdef __cplusplus
}
#endif
#endif
