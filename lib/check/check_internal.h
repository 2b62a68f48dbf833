/* SPDX-License-Identifier: MIT */
/* Internal to lib/check: the check-kind vtable, the per-check state the
 * runner keeps, and the shared helpers kinds use (findings, the stream
 * driver for socket-based protocols, TLS evaluation, the curl multi glue). */
#ifndef VIGIA_CHECK_INTERNAL_H
#define VIGIA_CHECK_INTERNAL_H

#include <openssl/ssl.h>
#include <stdarg.h>

#include "engine/loop.h"
#include "resolve/resolve.h"
#include "vigia/check.h"
#include "vigia/options.h"

typedef struct vg_check vg_check;
typedef struct vg_stream vg_stream;
typedef struct http_multi http_multi;

/* What the attempt layer (lib/check/attempt.c) asks of the runner that
 * runs a check. The runner (checker.c) fills it in; kinds and the attempt
 * layer reach the runner only through these pointers, never by name. */
typedef struct check_runner_ops {
    vg_loop *(*loop)(vg_checker *c);
    SSL_CTX *(*ssl_ctx)(vg_checker *c, const vg_check_opts *opts, vg_error *err);
    http_multi *(*http_multi)(vg_checker *c, vg_error *err);
    void (*attempt_done)(vg_check *ck);
    void (*fd_shortage)(vg_check *ck);
} check_runner_ops;

/* File descriptors one check of a kind holds at most at once (its
 * vg_check_type.fds), as the scan engine budgets them (lib/engine/scan.c). */
#define CHECK_FDS_STREAM 1      /* tcp, tls, ssh, mysql, smtp, ...: one socket; udp, icmp too */
#define CHECK_FDS_HTTP 4        /* curl: IPv4 and IPv6 connects racing, a resolver pipe pair */
#define CHECK_FDS_DNS 2         /* dns://: a c-ares channel of its own, UDP and TCP */

/* A kind's own message for an option of other kinds (see check_opts_fit):
 * it replaces the row's wrong_kind, or makes the option an error for this
 * kind where the row would let other kinds ignore it. */
typedef struct check_wrong_kind {
    const char *opt;            /* the row's long name: "send" */
    const char *msg;
} check_wrong_kind;

/* One kind of check. Kinds are stateless consts; an attempt's state lives
 * at vg_check.kctx. The runner calls start() for every attempt; the kind
 * ends the attempt by calling check_attempt_done() (never from inside a
 * libcurl callback) and must not touch the check after that call.
 * What the runner must know of a kind is data here: the runner reaches
 * kinds only through their registry and these fields, never by name. */
typedef struct vg_check_type {
    const char *name;           /* the scheme: "tcp" */
    const char *label;          /* for text output: "TCP" */
    int detail;                 /* vg_rec_detail: the protocol block of its records */
    uint16_t default_port;      /* 0: the spec must give one */
    bool tls;                   /* the stream is wrapped in TLS */
    bool starttls;              /* TLS is negotiated inside the protocol */
    unsigned kind;              /* its VG_KIND_* bit: the option rows whose .kinds
                                   hold it apply (vigia/options.h) */
    unsigned fds;               /* descriptors one check holds at most (CHECK_FDS_*) */
    bool curl;                  /* runs in libcurl on the runner's multi handle: a
                                   --proxy resolves the name, the multi's own
                                   descriptors are budgeted */
    const check_wrong_kind *wrong_kind; /* NULL, or ended by {NULL, NULL} */
    /* Rejects option combinations that cannot work for this kind (values
     * of its own options; options of other kinds are check_opts_fit's). */
    int (*validate)(const vg_check_opts *opts, vg_error *err);
    /* Starts an attempt; a non-zero return means it could not start and
     * check_attempt_done() has already been called. */
    int (*start)(vg_check *ck);
    /* The overall deadline passed: add the right timeout finding and call
     * check_attempt_done(). */
    void (*on_timeout)(vg_check *ck);
    /* Releases the attempt's resources (fds, handles, buffers); idempotent.
     * Called by check_attempt_done() and when the checker stops. */
    void (*release)(vg_check *ck);
} vg_check_type;

extern const vg_check_type vg_check_tcp;
extern const vg_check_type vg_check_tls;
extern const vg_check_type vg_check_http;
extern const vg_check_type vg_check_https;
extern const vg_check_type vg_check_ssh;
/* dns, mysql, icmp, udp and STARTTLS kinds */
extern const vg_check_type vg_check_dns;
extern const vg_check_type vg_check_mysql;
extern const vg_check_type vg_check_icmp;
extern const vg_check_type vg_check_udp;
extern const vg_check_type vg_check_smtp;
extern const vg_check_type vg_check_imap;
extern const vg_check_type vg_check_postgres;

enum check_phase_state {
    CK_PENDING = 0,   /* not started */
    CK_RUNNING,       /* an attempt is in flight */
    CK_RETRY_WAIT,    /* between attempts */
    CK_FD_WAIT,       /* an attempt found no free file descriptor; queued */
    CK_DONE,          /* result final, waiting to be delivered */
    CK_DELIVERED,
};

#define CHECK_MAX_FINDINGS 8
#define CHECK_MAX_ADDRS 8       /* addresses of a name tried in turn */

struct check_finding {
    int state;
    int reason;
    char msg[256];
};

/* What one run of a check builds (see vg_check.run). */
struct check_run {
    vg_check_result res;        /* being built; reset per attempt */
    char summary[512];          /* what went right, e.g. "200 OK, 612 bytes" */
    struct check_finding findings[CHECK_MAX_FINDINGS];
    unsigned nfindings;
    /* --all-addresses (lib/check/alladdr.c): what each address gave */
    char addr_msgs[CHECK_MAX_ADDRS][200];
};

struct vg_check {
    vg_checker *checker;
    const check_runner_ops *rt; /* the runner's side of the attempt layer */
    size_t index;
    char *spec;
    const vg_check_opts *opts;
    const vg_check_type *type;
    vg_check_target tgt;

    /* resolution: the first phase of every attempt, unless the host is an
     * address literal, pinned by --resolve, or left to a proxy */
    vg_addr addr;               /* the address being probed */
    bool have_addr;
    vg_addr addrs[CHECK_MAX_ADDRS]; /* all the name's addresses, in resolver order */
    unsigned naddrs, addr_idx;  /* addr == addrs[addr_idx] when naddrs > 0 */
    bool needs_dns;
    vg_lookup *lookup;          /* in flight, or NULL */
    uint64_t dns_start_us;
    int64_t dns_us;             /* this attempt's lookup; -1 when none */

    int status;                 /* enum check_phase_state */
    uint64_t start_us;          /* first attempt */
    uint64_t deadline_us;       /* start + timeout */
    uint64_t attempt_start_us;  /* this attempt's start (total is measured from it) */
    uint64_t attempt_us;        /* ... after resolution (connect is measured from it) */
    vg_timer timer;             /* deadline while running, delay while waiting */
    unsigned attempts;

    /* The run's record and findings: allocated when the check starts,
     * freed once its record is delivered (so that thousands of checks
     * waiting for their turn hold none of it). */
    struct check_run *run;
    int prev_reason;            /* of the failed attempt before a retry */

    void *kctx;                 /* the kind's per-attempt state */
    uint64_t addr_start_us;
    vg_check *next_run;         /* run queue link */
    char *name;                 /* vg_checker_add_named(); NULL for none */
    vg_check *next_done;        /* unordered checkers: done queue link */
    /* waiting for a file descriptor (CK_FD_WAIT) */
    vg_check *next_fdwait;
    uint64_t fdwait_since_us;
    bool fdwait_alone;          /* no other check held descriptors to free */
    bool no_retry;              /* a retry cannot change the verdict (a .invalid name) */
};

/* --- options and kinds (lib/check/optfit.c) ----------------------------------- */

/* Fails (VG_EINVAL) when opts set an option (a row of vg_check_options()
 * whose field differs from vg_check_opts_default()) that does not apply to
 * type's kind and is an error there: the kind's own message for the row,
 * else the row's wrong_kind. The first such row in table order wins. */
int check_opts_fit(const vg_check_type *type, const vg_check_opts *opts, vg_error *err);

/* --- the attempt layer (lib/check/attempt.c) ------------------------------------ */
/* Whether e says that this process ran out of descriptors (EMFILE, ENFILE):
 * our shortage, never the service's verdict. */
bool check_errno_is_fd_shortage(int e);
/* Ends the attempt without a verdict because no file descriptor was free:
 * the kind's state is released and the check waits for running checks to
 * free descriptors, then runs the attempt again (not counted as one). Call
 * it instead of check_attempt_done; ck must not be touched afterwards. */
void check_fd_shortage(vg_check *ck);
/* The event loop the check runs on. */
vg_loop *check_loop(const vg_check *ck);
/* The SSL_CTX for raw TLS checks with the check's opts (created on first use). */
SSL_CTX *check_ssl_ctx(vg_check *ck, vg_error *err);

/* --- the name's addresses ------------------------------------------------------ */

/* Moves to the name's next address after a connection-level failure;
 * false when there is none. */
bool check_next_addr(vg_check *ck);

/* --- --all-addresses (lib/check/alladdr.c) --------------------------------- */

/* The name resolved to n >= 1 addresses: arms the first address' share of
 * the deadline. */
void alladdr_begin(vg_check *ck);
/* From check_attempt_done, after release: records this address' outcome;
 * true when the next address was started (the attempt goes on), false when
 * all are done and the findings now hold the combined verdict. */
bool alladdr_next(vg_check *ck);

/* --- findings and the end of an attempt ------------------------------------ */

/* Records a problem (state >= WARNING, or UNKNOWN). */
void check_finding(vg_check *ck, int state, int reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets what went right; shown before the findings. */
void check_summary(vg_check *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Milliseconds with sensible precision: "0.21 ms", "12 ms", "1.5 s". */
const char *check_fmt_us(int64_t us, char *buf, size_t len);
/* A socket errno to a reason and a plain description. */
int check_errno_reason(int err, bool connecting);
/* Ends the attempt: releases the kind, then retries or finalizes. */
void check_attempt_done(vg_check *ck);
/* Allocates the kind's zeroed per-attempt state and stores it at ck->kctx;
 * when out of memory, ends the attempt with an UNKNOWN finding and returns
 * NULL (the kind's start() then returns -1). */
void *check_kctx_new(vg_check *ck, size_t size);
/* Microseconds since the attempt began. */
int64_t check_since_attempt(const vg_check *ck);
/* "host port N" / "[v6] port N" text of the probed address. */
const char *check_where(const vg_check *ck, char *buf, size_t len);

/* --- the stream driver: connect, optional TLS, buffered read/write ---------- */

typedef struct vg_stream_ops {
    /* Connected (and TLS done): queue data with stream_write or finish. */
    void (*on_open)(vg_stream *s);
    /* New bytes are at s->in (s->in_len in total). Consume with
     * stream_consume or finish. */
    void (*on_data)(vg_stream *s);
    /* The peer closed (err 0) or reset (err = errno) the connection. */
    void (*on_close)(vg_stream *s, int err);
    /* Optional: everything queued with stream_write has been sent. */
    void (*on_sent)(vg_stream *s);
} vg_stream_ops;

enum stream_state { ST_CONNECTING = 0, ST_TLS, ST_OPEN, ST_CLOSED };

struct vg_stream {
    vg_check *ck;
    const vg_stream_ops *ops;
    void *ud;
    int fd;
    SSL *ssl;
    int st;                     /* enum stream_state */
    bool tls_want_write;        /* SSL_read/SSL_write wants the other direction */
    uint8_t *out;               /* pending bytes to send (owned) */
    size_t out_len, out_off;
    uint8_t *in;                /* received, not consumed; capacity in_cap */
    size_t in_len, in_cap;
    uint64_t total_read;
    uint64_t t_open;            /* monotonic us when the stream became usable */
    bool got_first;             /* firstbyte recorded */
    bool verify_failed;         /* TLS: the first verification error seen ... */
    long verify_err;            /* ... (other than a date: tls_evaluate checks dates) ... */
    int verify_depth;           /* ... at this depth of the chain */
    bool reset_seen;            /* SO_ERROR said ECONNRESET as the connect
                                   completed: the end of the stream is a reset */
};

/* Opens a non-blocking connection to the check's address; in_cap caps the
 * receive buffer (the kind decides what a full buffer means). tls wraps it
 * with the checker's SSL_CTX. Returns 0, or -1 after finishing the attempt
 * with a finding. */
int stream_open(vg_stream *s, vg_check *ck, const vg_stream_ops *ops, void *ud,
                size_t in_cap, bool tls);
/* Starts a TLS handshake on an open plain stream (STARTTLS); on_open is
 * called again when it is done. Queue and input must be empty. */
void stream_start_tls(vg_stream *s);
/* Queues bytes to send (copied). Returns 0 or -1 (out of memory). */
int stream_write(vg_stream *s, const void *buf, size_t len);
/* Drops n bytes from the front of the input. */
void stream_consume(vg_stream *s, size_t n);
/* Closes the socket and frees buffers; idempotent. */
void stream_close(vg_stream *s);
/* The timeout reason for where the stream is: conn-, tls- or read-timeout. */
int stream_timeout_reason(const vg_stream *s);
/* Adds the timeout finding that fits the stream's state. */
void stream_timeout_finding(vg_stream *s, const char *waiting_for);

/* --- TLS evaluation (lib/check/tls_cert.c), shared by tls://, https:// and STARTTLS */

/* Fills res->certs from chain (leaf first) and adds the findings: verify
 * error (unless insecure; date errors are left to the date check), host
 * name (unless insecure or check_host is NULL), expired / expiring
 * certificates (always). */
void tls_evaluate(vg_check *ck, STACK_OF(X509) *chain, long verify_err, int verify_depth,
                  const char *check_host);
/* Stores TLS version and cipher of a live connection. */
void tls_record_session(vg_check *ck, SSL *ssl);
/* A certificate date (Unix seconds) as "YYYY-MM-DD HH:MM UTC". */
void tls_fmt_date(int64_t t, char *buf, size_t len);

/* --- send/expect ------------------------------------------------------------- */

/* Compiles the regex (extended, newline-sensitive). */
int sendexpect_compile(void *re_out, const char *re, const char *what, vg_error *err);
/* True when the regex matches data[0..len) (which may hold NULs). */
bool sendexpect_match(const void *re, const void *data, size_t len);
/* Runs the generic exchange on an open stream: on_open sends opts->send and
 * starts reading when opts->expect is set; returns false when there is
 * nothing to exchange (plain connect check). */
bool sendexpect_wanted(const vg_check_opts *opts);
extern const vg_stream_ops sendexpect_ops;
/* Per-attempt state of the exchange (embedded by tcp and tls kinds). */
struct sendexpect_state {
    vg_stream stream;
    void *re;                   /* regex_t *, compiled per attempt */
    size_t evaluated;           /* in_len at the last match attempt */
    struct steps_run *steps;    /* --step script instead of send/expect (steps.c) */
};

/* --- multi-step send/expect (lib/check/steps.c) ------------------------------ */

typedef struct steps_run steps_run;
/* Checks opts->steps: syntax, escapes, regexes. */
int steps_validate(const vg_check_opts *opts, vg_error *err);
/* Compiles the script for one attempt; NULL when out of memory. */
steps_run *steps_new(const vg_check_opts *opts);
void steps_free(steps_run *r);
/* The stream side (tcp://, tls://): called from the sendexpect ops. */
void steps_on_open(vg_stream *s, steps_run *r);
void steps_on_data(vg_stream *s, steps_run *r);
void steps_on_close(vg_stream *s, steps_run *r, int err);
void steps_on_sent(vg_stream *s, steps_run *r);
void steps_timeout(vg_check *ck, vg_stream *s, steps_run *r);
/* The datagram side (udp://): the next datagram to send, if the script is
 * at a send step (*len bytes at *out, valid until the next call); a
 * datagram received; true when the script is done. */
bool steps_next_send(steps_run *r, const uint8_t **out, size_t *len);
/* d[n] must be a NUL (udp.c keeps one after every datagram): the regex
 * match is bounded by n, but sanitizers' regexec checks read to the NUL. */
int steps_on_datagram(vg_check *ck, steps_run *r, const uint8_t *d, size_t n);
bool steps_done(const steps_run *r);
/* Index (from 1) and text of the step being waited for, for messages. */
unsigned steps_current(const steps_run *r, const char **text);
void sendexpect_timeout(vg_check *ck, struct sendexpect_state *se);
void sendexpect_release(struct sendexpect_state *se);
/* start/on_timeout/release of the stream kinds (tcp://, tls://): with
 * --send/--expect/--step the exchange runs, otherwise plain_ops (whose
 * on_open ends the attempt) once the stream is open (after TLS when tls). */
int sendexpect_kind_start(vg_check *ck, const vg_stream_ops *plain_ops, bool tls);
void sendexpect_kind_timeout(vg_check *ck);
void sendexpect_kind_release(vg_check *ck);
/* Stream callbacks for kinds that ignore what the server says. */
void stream_discard_data(vg_stream *s);
void stream_ignore_close(vg_stream *s, int err);

/* --- libcurl multi on the checker's loop --------------------------------------- */

http_multi *http_multi_new(vg_loop *loop, vg_error *err);
void http_multi_free(http_multi *m);
/* The runner's shared multi handle (created on first use). */
http_multi *check_http_multi(vg_check *ck, vg_error *err);

#endif
