/* SPDX-License-Identifier: MIT */
/* Service checks: given a target spec (tcp://, http(s)://, tls://, ssh://,
 * host:port) and expectations, say whether the service is reachable and
 * healthy, why not if not, and how long each phase took. Many checks run
 * concurrently on one event loop owned by a vg_checker. */
#ifndef VIGIA_CHECK_H
#define VIGIA_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vigia/addr.h"
#include "vigia/error.h"
#include "vigia/record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Verdicts (vg_check_state), phases (vg_phase), their names and
 * VG_CHECK_SCHEMA are part of the record: vigia/record.h. */

/* The reverse of vg_check_state_name(), case-insensitive; -1 for anything else. */
int vg_check_state_parse(const char *s);
/* The worse of two states: CRITICAL > WARNING > UNKNOWN > OK (the order
 * monitoring-plugins' max_state_alt uses). */
int vg_check_state_worst(int a, int b);

int vg_phase_parse(const char *s); /* -1 when unknown */

/* Why a check ended the way it did: a fixed list whose names are part of
 * the schema (docs/check.md lists them with their meaning). */
typedef enum vg_check_reason {
    VG_CR_OK = 0,           /* "ok" */
    VG_CR_DNS_NXDOMAIN,     /* "dns-nxdomain": the name does not exist / has no address */
    VG_CR_DNS_TIMEOUT,      /* "dns-timeout" */
    VG_CR_DNS_ERROR,        /* "dns-error": any other resolver failure */
    VG_CR_CONN_REFUSED,     /* "conn-refused": RST to our SYN */
    VG_CR_CONN_TIMEOUT,     /* "conn-timeout": no answer to the SYN in time */
    VG_CR_CONN_RESET,       /* "conn-reset": RST after the connection was up */
    VG_CR_CONN_CLOSED,      /* "conn-closed": orderly close before the expected answer */
    VG_CR_HOST_UNREACH,     /* "host-unreach" */
    VG_CR_NET_UNREACH,      /* "net-unreach" */
    VG_CR_CONN_ERROR,       /* "conn-error": any other socket error */
    VG_CR_TLS_TIMEOUT,      /* "tls-timeout": the TLS handshake did not finish in time */
    VG_CR_TLS_HANDSHAKE,    /* "tls-handshake": the TLS handshake failed */
    VG_CR_CERT_EXPIRED,     /* "cert-expired": a certificate of the chain has expired */
    VG_CR_CERT_EXPIRING,    /* "cert-expiring": one expires within the warn/crit days */
    VG_CR_CERT_NOT_YET_VALID, /* "cert-not-yet-valid" */
    VG_CR_CERT_UNTRUSTED,   /* "cert-untrusted": the chain does not verify */
    VG_CR_CERT_HOSTNAME,    /* "cert-hostname": the certificate does not name the host */
    VG_CR_READ_TIMEOUT,     /* "read-timeout": connected, but the answer did not come in time */
    VG_CR_STATUS_MISMATCH,  /* "status-mismatch": HTTP status not in the expected set */
    VG_CR_BODY_MISMATCH,    /* "body-mismatch": HTTP body does not match the regex */
    VG_CR_TOO_MANY_REDIRECTS, /* "too-many-redirects" */
    VG_CR_PROTOCOL_ERROR,   /* "protocol-error": the peer does not speak the protocol */
    VG_CR_PROXY_ERROR,      /* "proxy-error" */
    VG_CR_HTTP_ERROR,       /* "http-error": any other HTTP transfer failure */
    VG_CR_EXPECT_MISMATCH,  /* "expect-mismatch": --expect did not match what was read */
    VG_CR_BANNER_MISMATCH,  /* "banner-mismatch": SSH version line does not match --expect-version */
    VG_CR_HOSTKEY_MISMATCH, /* "hostkey-mismatch" */
    VG_CR_SLOW_DNS,         /* "slow-dns": a phase passed its --warn/--crit limit */
    VG_CR_SLOW_CONNECT,     /* "slow-connect" */
    VG_CR_SLOW_TLS,         /* "slow-tls" */
    VG_CR_SLOW_FIRSTBYTE,   /* "slow-firstbyte" */
    VG_CR_SLOW_TOTAL,       /* "slow-total" */
    VG_CR_RETRIED,          /* "retried": passed, but only after a retry (--retry-is-warning) */
    VG_CR_CONFIG_ERROR,     /* "config-error": a local file or option could not be used */
    VG_CR_INTERRUPTED,      /* "interrupted": stopped before it finished */
    VG_CR_INTERNAL,         /* "internal-error": out of memory, out of file descriptors, ... */
    /* dns://, mysql://, icmp://, udp:// and STARTTLS kinds */
    VG_CR_DNS_SERVFAIL,     /* "dns-servfail": the DNS server answered SERVFAIL */
    VG_CR_RCODE_MISMATCH,   /* "rcode-mismatch": the DNS rcode is not one of --expect-rcode */
    VG_CR_ANSWER_MISMATCH,  /* "answer-mismatch": no (or not all) --expect-answer values, or no records */
    VG_CR_NOT_AUTHORITATIVE,/* "not-authoritative": --expect-authoritative, but the AA bit is clear */
    VG_CR_SERVER_ERROR,     /* "server-error": the server answered with an error (MySQL error packet) */
    VG_CR_PORT_UNREACH,     /* "port-unreach": ICMP port unreachable (udp://) */
    VG_CR_PACKET_LOSS,      /* "packet-loss": icmp:// lost more than --warn-loss/--crit-loss */
    VG_CR_STARTTLS,         /* "starttls-refused": the server would not start TLS */
    VG_CR_HOSTKEY_UNVERIFIED, /* "hostkey-unverified": a pinned SSH host key, but no valid KEX signature */
    VG_CR__COUNT
} vg_check_reason;

const char *vg_check_reason_name(int reason);
/* True for the *-timeout reasons (what --on-timeout remaps). */
bool vg_check_reason_is_timeout(int reason);

/* A set of HTTP status codes: "200-299,401". */
#define VG_STATUS_SET_MAX 16
typedef struct vg_status_set {
    unsigned n;
    uint16_t lo[VG_STATUS_SET_MAX], hi[VG_STATUS_SET_MAX];
} vg_status_set;

/* Parses "200", "200-299", "200-299,301,401" (100..999). */
int vg_status_set_parse(vg_status_set *set, const char *s, vg_error *err);
bool vg_status_set_has(const vg_status_set *set, long status);

/* --all-addresses: how the addresses' verdicts combine. */
enum { VG_POLICY_ALL = 0, VG_POLICY_ANY = 1 };

/* Options of a check. All pointers are borrowed: they must outlive the
 * checker. Zero means "default" unless noted; vg_check_opts_default() fills
 * the defaults explicitly. The same opts may be shared by many checks. */
typedef struct vg_check_opts {
    uint32_t timeout_ms;        /* overall, per check, retries included; default 10000 */
    uint32_t warn_us[VG_PHASE__COUNT]; /* per-phase WARNING limits; 0 = none */
    uint32_t crit_us[VG_PHASE__COUNT]; /* per-phase CRITICAL limits; 0 = none */
    unsigned retries;           /* extra attempts after a CRITICAL/UNKNOWN one */
    uint32_t retry_delay_ms;    /* pause between attempts; default 1000 */
    bool retry_is_warning;      /* a pass that needed a retry is WARNING */
    int on_timeout;             /* state for *-timeout reasons; -1 = as is */
    int on_refused;             /* state for conn-refused; -1 = as is */

    /* resolution */
    int family;                 /* 0, AF_INET or AF_INET6 */
    const char *dns_servers;    /* "ADDR[:PORT],..." or NULL for the system's */
    const char *const *resolve; /* "host:port:addr" overrides, like curl --resolve; NULL-terminated or NULL */

    /* HTTP */
    const char *method;         /* NULL: GET, or POST when data is set */
    const char *data;           /* request body (may hold NULs: see data_len) or NULL */
    size_t data_len;
    const char *const *headers; /* "Name: value", NULL-terminated, or NULL */
    vg_status_set expect_status;/* n == 0: 200-399 */
    const char *expect_body;    /* POSIX extended regex or NULL */
    bool follow;                /* follow redirects */
    long max_redirects;         /* with follow; default 10 */
    size_t max_body;            /* bytes of the body kept and matched; default 1 MiB */
    const char *proxy;          /* proxy URL or NULL */
    bool proxy_from_env;        /* honour http_proxy & co (ignored otherwise) */
    const char *user_agent;     /* NULL: "vigia/VERSION" */
    bool reuse_connections;     /* checks of one origin may share a connection */

    /* TLS */
    bool insecure;              /* do not verify trust and host name */
    const char *cacert;         /* PEM bundle of trusted CAs; NULL: the system's */
    const char *client_cert;    /* PEM client certificate */
    const char *client_key;     /* its key (PEM); NULL: in client_cert */
    const char *sni;            /* server name to send and verify; NULL: the host */
    int cert_warn_days;         /* WARNING when a chain cert expires within; 0 = off */
    int cert_crit_days;         /* CRITICAL when within; 0 = off */

    /* SSH */
    const char *expect_version; /* regex over the SSH version line */
    const char *const *expect_hostkey; /* "SHA256:base64", any may match; NULL-terminated or NULL */

    /* generic send/expect on tcp:// and tls:// */
    const char *send;           /* bytes to send once connected (may hold NULs) */
    size_t send_len;
    const char *expect;         /* regex the answer must match */
    size_t max_read;            /* bytes read for expect/banners; default 64 KiB */

    /* dns:// */
    const char *const *expect_answer; /* values or CIDRs; NULL-terminated or NULL */
    bool expect_all;            /* every expect_answer item must be answered (default: any) */
    uint32_t expect_rcodes;     /* bit N: rcode N passes; 0: NOERROR only */
    bool expect_authoritative;  /* the AA bit must be set */
    /* icmp:// */
    unsigned icmp_count;        /* echo requests; default 5 */
    uint32_t icmp_interval_ms;  /* between requests; default 200 */
    int warn_loss_pct;          /* WARNING above this loss (0..100); -1 = off */
    int crit_loss_pct;          /* CRITICAL above; -1 = off (100% loss is always CRITICAL) */
    /* multi-step exchange on tcp://, tls://, udp:// (instead of send/expect):
     * "send:TEXT" (escapes as vg_unescape; ${1}..${9} insert the capture
     * groups of the last matched expect step) and "expect:REGEX" items, in
     * order; NULL-terminated or NULL */
    const char *const *steps;
    /* every address of a name */
    bool all_addresses;         /* probe each A/AAAA address in turn */
    int policy;                 /* VG_POLICY_ALL (default) or VG_POLICY_ANY */
} vg_check_opts;

void vg_check_opts_default(vg_check_opts *opts);

/* What a check's target spec says. */
typedef struct vg_check_target {
    char scheme[16];            /* "tcp", "http", "https", "tls", "ssh", "dns", "mysql", ... */
    char host[256];             /* name or address literal, without brackets */
    uint16_t port;
    char url[2048];             /* http(s): the normalized URL; else "scheme://host:port" */
    char dns_name[256];         /* dns://: the name asked for (no trailing dot needed) */
    uint16_t dns_qtype;         /* dns://: the record type (1 A, 28 AAAA, ...) */
} vg_check_target;

/* Parses "tcp://host:port", "http://...", "https://[::1]:8443/x",
 * "tls://host:port", "ssh://host[:port]", "host:port", "[::1]:port".
 * Returns VG_EINVAL with a message for anything else. */
int vg_check_target_parse(vg_check_target *t, const char *spec, vg_error *err);

/* One certificate of the chain the server presented (depth 0 = its own). */
#define VG_CHECK_MAX_CHAIN 8
typedef struct vg_check_cert {
    char subject[192];          /* one line, escaped */
    char issuer[192];
    int64_t not_before;         /* Unix seconds */
    int64_t not_after;
    int days_left;              /* whole days until not_after (negative: expired) */
} vg_check_cert;

/* One check's record. Every string is printable: bytes from the wire were
 * escaped (control characters and invalid UTF-8 as \xNN) when stored. */
typedef struct vg_check_result {
    size_t index;               /* order of vg_checker_add() */
    const vg_check_opts *opts;  /* the check's options (thresholds for perfdata) */
    const char *target;         /* the spec as given */
    const char *kind;           /* "tcp", "http", "https", "tls", "ssh" */
    const char *label;          /* the kind for text output: "TCP", "HTTP", ... */
    int detail;                 /* vg_rec_detail: which protocol block the record has */
    const char *host;           /* from the spec */
    uint16_t port;
    bool have_addr;             /* addr holds the address probed */
    vg_addr addr;
    int state;                  /* vg_check_state */
    int reason;                 /* vg_check_reason of the worst finding */
    unsigned nreasons;          /* all findings, worst first */
    uint8_t reasons[8];
    char message[1024];         /* human: says plainly whether the service is reachable */
    int64_t phase_us[VG_PHASE__COUNT]; /* -1: phase not reached or not applicable */
    int64_t elapsed_us;         /* whole check: all attempts and delays */
    unsigned attempts;
    double start_time;          /* Unix seconds */

    /* HTTP */
    int http_status;            /* 0 when none */
    char status_line[160];
    uint64_t body_bytes;        /* bytes received (the kept part is capped) */
    bool body_truncated;
    long redirects;
    bool conn_reused;           /* http(s) with reuse_connections: no connect of its own */

    /* TLS */
    char tls_version[16];
    char tls_cipher[64];
    unsigned ncerts;
    vg_check_cert certs[VG_CHECK_MAX_CHAIN];

    /* tcp --expect: the first line read; SSH: the version line */
    char banner[256];
    uint64_t bytes_read;

    /* SSH */
    char hostkey_type[32];
    char hostkey_fp[64];        /* "SHA256:..." as ssh-keygen -l prints it */
    bool hostkey_verified;      /* the server proved it holds the key (KEX signature) */
    char ssh_kex[40];           /* the key exchange negotiated, "" before KEXINIT */
    char hostkey_alg[32];       /* the host key (signature) algorithm negotiated */

    /* dns:// */
    int dns_rcode;              /* -1: no answer */
    bool dns_aa;                /* authoritative answer */
    bool dns_tc;                /* the UDP answer was truncated (TCP was used) */
    unsigned dns_nanswers;      /* records of the asked type in the answer section */
#define VG_CHECK_MAX_ANSWERS 8
    char dns_answers[VG_CHECK_MAX_ANSWERS][160]; /* presentation form, escaped */
    /* mysql:// (server version in banner) */
    int mysql_protocol;         /* 0: no greeting */
    uint32_t mysql_caps;        /* capability flags */
    uint32_t mysql_conn_id;
    int mysql_error;            /* error packet code; 0: none */
    char mysql_sqlstate[6];
    /* icmp:// */
    unsigned icmp_sent, icmp_received;
    int64_t rtt_min_us, rtt_avg_us, rtt_max_us; /* -1 when nothing came back */
    bool icmp_raw;              /* raw socket (else an unprivileged ping socket) */
    /* --all-addresses: one entry per address probed, in resolver order */
    unsigned naddr_results;
    struct vg_check_addr_result {
        vg_addr addr;
        int state;
        int reason;
        int64_t total_us;       /* that address' probe */
    } addr_results[8];

    /* checks files (-f): the check's name; NULL when it has none */
    const char *name;
} vg_check_result;

/* --- running checks ---------------------------------------------------- */

typedef struct vg_checker vg_checker;

typedef struct vg_checker_opts {
    unsigned concurrency;       /* checks in flight; 0: 256 */
    int max_fds;                /* highest fd + 1 the loop can watch; 0: RLIMIT_NOFILE */
    /* Deliver each check as soon as it finishes (not in the order added);
     * then checks may also be added after start and re-run once delivered
     * (--watch, scan --check). */
    bool unordered;
} vg_checker_opts;

/* Called once per check, in the order the checks were added. The record is
 * only valid during the call. */
typedef void (*vg_check_result_fn)(const vg_check_result *res, void *ud);

int vg_checker_new(vg_checker **out, const vg_checker_opts *opts, vg_error *err);

/* Adds a check of spec (copied) with opts (borrowed). Bad specs and option
 * combinations that cannot work (e.g. --expect-body on ssh://, a bad
 * regex) are VG_EINVAL. */
int vg_checker_add(vg_checker *c, const char *spec, const vg_check_opts *opts, vg_error *err);

/* What vg_checker_add() would refuse (a bad target, options its kind does
 * not take), said without adding a check. */
int vg_check_validate(const char *spec, const vg_check_opts *opts, vg_error *err);

/* The same with a name (copied; NULL for none) that every record of the
 * check carries; *index (if not NULL) receives the check's index. With
 * vg_checker_opts.unordered, checks may be added after start (they are
 * prepared at once: TLS files, resolver). */
int vg_checker_add_named(vg_checker *c, const char *name, const char *spec, const vg_check_opts *opts,
                         size_t *index, vg_error *err);

/* Unordered checkers only: runs a delivered check again, from scratch (a
 * new deadline, attempts counted from 1). VG_EINVAL when the check has not
 * been delivered yet or the checker was stopped. */
int vg_checker_rerun(vg_checker *c, size_t index, vg_error *err);

size_t vg_checker_count(const vg_checker *c);

/* Prepares the run: TLS contexts and resolvers; it does not block (names
 * are resolved on the loop, per attempt). Errors only for local failures
 * (bad --dns-servers, TLS files that cannot be loaded: VG_EINVAL). The
 * first vg_checker_poll() starts the checks. */
int vg_checker_start(vg_checker *c, vg_error *err);

/* Runs the loop for up to max_wait_ms, delivering finished checks to fn.
 * Returns 1 when every check has been delivered, 0 while some run, or a
 * negative vg_rc on a system failure. */
int vg_checker_poll(vg_checker *c, int max_wait_ms, vg_check_result_fn fn, void *ud,
                    vg_error *err);

/* Ends every unfinished check now (reason "interrupted", UNKNOWN); the
 * next vg_checker_poll delivers them. */
void vg_checker_stop(vg_checker *c);

/* Counts of finished checks. */
void vg_checker_progress(const vg_checker *c, size_t *done, size_t *total);

void vg_checker_free(vg_checker *c);

/* --- records (lib/check/record.c) ------------------------------------------- */

/* The run's header and end are records as they stand. */
typedef vg_rec_check_run vg_check_info;
typedef vg_rec_check_summary vg_check_summary;

/* --watch: what one check did over the whole run. */
typedef struct vg_check_watch_phase {
    unsigned n;                 /* runs that reached the phase */
    int64_t min_us, avg_us, p95_us;
} vg_check_watch_phase;

typedef struct vg_check_watch_stats {
    size_t index;
    const char *name;           /* NULL when none */
    const char *target;
    const char *kind;
    unsigned runs;
    int state;                  /* the current (last) state; -1: never finished */
    int reason;                 /* of the last result */
    double state_s[4];          /* seconds spent in each vg_check_state */
    vg_check_watch_phase phase[VG_PHASE__COUNT];
} vg_check_watch_stats;

/* The record of a check result (for the output formats, vigia/output.h);
 * out and lim are the caller's; out borrows res's strings, so it is valid
 * while res is. lim receives the thresholds out->limits points to (NULL
 * when res has no options). */
void vg_check_record(vg_rec_check *out, vg_rec_limits *lim, const vg_check_result *res);
/* The record of a --watch summary; out borrows st's strings. */
void vg_check_watch_record(vg_rec_watch *out, const vg_check_watch_stats *st);

/* --- helpers other code may reuse (pure functions) ------------------------ */

/* Copies len bytes of src into dst (size dstlen, always NUL-terminated)
 * so that a terminal cannot be driven by them: printable ASCII and valid
 * UTF-8 pass (except C1 controls and bidi/line-separator code points), a
 * backslash becomes \\, CR LF TAB become \r \n \t, any other byte \xNN.
 * Truncates on a character boundary (adding "..." when it cut). Returns dst. */
char *vg_escape(char *dst, size_t dstlen, const void *src, size_t len);

/* DNS record type names of dns:// targets: "A" <-> 1, "AAAA" <-> 28, ...
 * (A NS CNAME SOA PTR MX TXT AAAA SRV); "?" / -1 for others. */
const char *vg_dns_type_name(unsigned type);
int vg_dns_type_parse(const char *s);
/* DNS rcode names: "NOERROR" <-> 0, "NXDOMAIN" <-> 3, ...; -1 when unknown. */
int vg_dns_rcode_parse(const char *s);

/* Decodes \r \n \t \0 \\ \xNN escapes of a --send argument into out (capacity
 * outcap). Returns the length, or -1 on a bad escape or overflow. */
long vg_unescape(char *out, size_t outcap, const char *in);

/* --- scan --check (lib/check/classify.c) --------------------------------------- */

/* The check kind a well-known TCP port gets: 22 ssh, 25/587 smtp, 53 dns,
 * 80 http, 143 imap, 443 https, 3306 mysql; NULL for any other port. */
const char *vg_check_kind_for_port(uint16_t port);
/* The kind a service's first bytes announce: "ssh" (SSH-), "http" (HTTP/),
 * "smtp" (220 with SMTP/ESMTP on the line), "imap" (* OK), "mysql" (a
 * protocol-10 greeting or an error packet); NULL when none fits. */
const char *vg_check_classify_banner(const void *buf, size_t len);
/* The same for the result of a banner read (a tcp:// check with --expect):
 * classifies what its banner and bytes_read say was received. */
const char *vg_check_classify_result(const vg_check_result *res);

/* --- checks files (-f checks.yaml; lib/check/checkfile.c) ------------------ */

/* What the caller says about an option name found in a file. */
typedef enum vg_checkfile_kind {
    VG_CHECKFILE_UNKNOWN = -1,  /* not an option that can appear in a file */
    VG_CHECKFILE_FLAG = 0,      /* takes no value: true/false (yes/no, on/off) */
    VG_CHECKFILE_VALUE,         /* one scalar value */
    VG_CHECKFILE_LIST,          /* a scalar or a list of scalars (repeatable) */
} vg_checkfile_kind;

/* Classifies an option name (long name without dashes). */
typedef int (*vg_checkfile_key_fn)(const char *key, void *ud);

/* One option of a check: key as written, value as a string (a flag's value
 * is "true" or "false"), and where the value starts (1-based). */
typedef struct vg_checkfile_opt {
    char *key;
    char *value;
    unsigned line, col;
} vg_checkfile_opt;

/* One check: name (the target when the file gives none), target, and its
 * options: the defaults' first (those the check does not set itself),
 * then its own, in file order; a list option gives one entry per item. */
typedef struct vg_checkfile_entry {
    char *name;
    char *target;
    unsigned line, col;         /* of the check's mapping */
    vg_checkfile_opt *opts;
    size_t nopts;
} vg_checkfile_entry;

typedef struct vg_checkfile {
    vg_checkfile_entry *checks;
    size_t n;
} vg_checkfile;

/* Limits the loader enforces on hostile files. */
#define VG_CHECKFILE_MAX_BYTES (16u << 20)
#define VG_CHECKFILE_MAX_CHECKS 100000u
#define VG_CHECKFILE_MAX_OPTS 256u      /* per check, list items included */
#define VG_CHECKFILE_MAX_VALUE 65536u   /* bytes of one value */

/* Parses a checks file held in buf (len bytes; need not be NUL-terminated).
 * Pure: no I/O. On error returns VG_EINVAL (or VG_ENOMEM) with a message
 * "LINE:COLUMN: what is wrong" in err, and *out = NULL. */
int vg_checkfile_parse(vg_checkfile **out, const void *buf, size_t len, vg_checkfile_key_fn key_kind,
                       void *ud, vg_error *err);
void vg_checkfile_free(vg_checkfile *f);

#ifdef __cplusplus
}
#endif
#endif
