/* SPDX-License-Identifier: MIT */
/* What the scan driver (scan.c) shares with its probe engines: the worker,
 * its slice of the walk, per-host timing and the result hand-off. */
#ifndef VIGIA_SCAN_INTERNAL_H
#define VIGIA_SCAN_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "engine/loop.h"
#include "engine/path.h"
#include "engine/silent.h"
#include "engine/timing.h"
#include "vigia/permute.h"
#include "vigia/scan.h"

struct host_entry {
    uint64_t key; /* target index + 1; 0 marks an empty slot */
    vg_rtt rtt;
    uint64_t first_us; /* when the host was first probed */
};

/* Open-addressing table of the hosts one worker has probed. */
struct host_table {
    struct host_entry *slots;
    size_t cap; /* power of two */
    size_t len;
};

#define SCAN_MAX_PATHS 8

struct scan_worker {
    vg_scan *scan;
    unsigned id;
    pthread_t thread;
    bool started;
    vg_loop *loop;
    /* The shard-local walk indexes this worker holds: [walk_k, walk_end),
     * taken from the scan's walk_next a chunk at a time. */
    uint64_t walk_k, walk_end;
    struct host_table hosts;
    vg_rtt global_rtt; /* all hosts together: the start for a new host */
    vg_timing_limits lim;
    unsigned concurrency; /* this worker's share */
    /* Path controllers, one per egress (source address); the last one
     * takes every egress past SCAN_MAX_PATHS. */
    vg_path *paths;
    vg_addr path_src[SCAN_MAX_PATHS];
    unsigned npaths;
    vg_path_params path_prm;
    vg_path *cap;         /* --max-rate over all of the worker's paths; NULL: none */
    /* The reset-limit detector's rate test, this worker's part of it: a
     * fixed rate of test_pps / nthreads, for the test that ends at
     * slow_until (monotonic us). */
    vg_path *slow;
    uint64_t slow_until;
    /* ports answered / positions taken from the walk: the scan-wide count
     * of responsive ports that the tries are chosen for */
    uint64_t ports_answered, positions_taken;
    uint8_t max_tries_used;
    vg_limitdet limitdet;  /* worker 0 watches the whole scan's resets */
    bool limit_applied;
    uint64_t queueing_seen; /* the paths' queueing rounds at the last look */
    bool paced_sweep;      /* the last sweep went at a reset limit's pace */
    unsigned paced_sweeps; /* sweeps so far at that pace */
    size_t last_sweep_n;   /* ports the last sweep re-probed */
    bool pacing;           /* counted in the scan's pacers */
    double sweep_share;    /* of the paced sweep's probes that may answer */
    uint64_t share_t0, share_sent0, share_ans0, share_rst0; /* its window of evidence */
    double share_applied;  /* the share the paths were last paced for */
    uint64_t sweep_t0, sweep_rst0; /* when the last sweep began; the scan's resets then */
    vg_result *batch;
    size_t batch_len, batch_cap;
    bool lost;          /* a result could not be kept (out of memory) */
    int rc;
    vg_error err;
};

/* A probe engine: the part of a scan that touches the network. One per
 * way of probing (connect, raw packets); scan.c's table pairs each scan
 * kind (vg_engine) with an engine and the data it runs on (the raw
 * engine's: which probes, struct raw_plan). */
struct scan_engine {
    const char *name;
    /* Called once before the workers start (open shared sockets, capture
     * handles, ...); may set scan->engine_ctx. NULL when not needed. */
    int (*prepare)(vg_scan *scan, vg_error *err);
    /* Called once just before the workers start, after prepare and
     * whatever ran between (host discovery). NULL when not needed. */
    void (*begin)(vg_scan *scan);
    /* The body of each worker thread; returns a vg_rc and fills w->err. */
    int (*worker_run)(struct scan_worker *w);
    /* Called once after all workers ended. NULL when not needed. */
    void (*cleanup)(vg_scan *scan);
};

extern const struct scan_engine scan_engine_connect;
/* raw.c: SYN, UDP, both at once, host discovery: what it sends is its data */
extern const struct scan_engine scan_engine_raw;

struct vg_scan {
    const struct scan_engine *engine;
    const char *engine_name;  /* the scan kind: "syn", "udp", ... */
    const void *engine_data;  /* the engine's parameters from scan.c's table */
    void *engine_ctx;
    const vg_targets *targets;
    const vg_ports *ports;
    vg_scan_opts opts;
    vg_perm perm;
    uint64_t n_ports;  /* port entries per target: n_tcp + n_udp */
    uint64_t n_tcp;    /* entries [0, n_tcp): TCP view of the ports */
    uint64_t n_udp;    /* entries [n_tcp, n_ports): UDP view */
    uint64_t n_elems;  /* targets x port entries */
    uint64_t n_shard;  /* positions in this shard */
    uint64_t shard_first, shard_step; /* index k of the shard is position first + k x step */
    uint64_t walk_next; /* atomic: the next shard-local index not yet handed out */
    unsigned nthreads;
    struct scan_worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    vg_result *queue, *spare; /* guarded by mu */
    size_t qlen, qcap, spare_cap;
    unsigned workers_done;    /* guarded by mu */
    uint64_t start_us;
    uint64_t end_us;
    bool started;
    bool prepared;
    int stop;                 /* atomic */
    uint64_t delivered;       /* touched by the polling thread only */
    /* atomics, updated by workers */
    uint64_t sent, in_flight, deferred;
    uint64_t skipped;  /* elements of hosts vg_scan_set_live() leaves out */
    uint64_t n_open, n_closed, n_filtered;
    uint64_t rst_seen;   /* resets and ICMP errors received */
    uint64_t other_seen; /* the other answers (SYN-ACKs, UDP replies) */
    uint64_t rst_limit;  /* the target's reset limit, pps; 0: none seen */
    int rst_limit_refuted; /* a paced sweep found nothing held back */
    unsigned pacers;     /* workers in a sweep paced to the limit */
    /* The limit detector's rate test (worker 0 writes, every worker
     * paces by it): until limit_test_until (monotonic us), at most
     * limit_test_pps over the whole scan. */
    uint64_t limit_test_until, limit_test_pps;
};

/* Takes the next (target, port) of this worker's slice; false when done. */
bool scan_next_probe(struct scan_worker *w, uint64_t *target_idx, vg_addr *addr,
                     uint16_t *port);
/* Same, with the entry's protocol (IPPROTO_TCP or IPPROTO_UDP). */
bool scan_next_probe_proto(struct scan_worker *w, uint64_t *target_idx, vg_addr *addr,
                           uint16_t *port, uint8_t *proto);

/* Port entry i (0 <= i < n_ports) of the scan: its port and protocol. */
void scan_port_at(const vg_scan *scan, uint64_t i, uint16_t *port, uint8_t *proto);

/* The timing record of a host, created on first use; NULL only when out of
 * memory. The pointer is valid until the next scan_host() call. */
vg_rtt *scan_host(struct scan_worker *w, uint64_t target_idx);

/* --host-timeout: true when the host was first probed longer ago than
 * that; its silent ports get no more tries. */
bool scan_host_expired(struct scan_worker *w, uint64_t target_idx, uint64_t now_us);

/* Timeout for the next probe to this host. */
uint64_t scan_timeout_us(struct scan_worker *w, uint64_t target_idx);

/* Records an answer (state/reason known) for timing and counters. */
void scan_sample(struct scan_worker *w, uint64_t target_idx, int64_t rtt_us,
                 unsigned tries);

/* Queues a finished result for delivery by vg_scan_poll(). */
void scan_emit(struct scan_worker *w, const vg_result *res);

/* Hands the queued results to the polling thread. */
void scan_flush(struct scan_worker *w);

/* The path controller for probes leaving from src (family 0: the
 * worker's default path). NULL only when out of memory. */
vg_path *scan_path(struct scan_worker *w, const vg_addr *src);

/* Pacing of one probe on path: the path's controller and the worker's
 * --max-rate must both allow it. 0 and *wait_us when not yet. */
unsigned scan_pace(struct scan_worker *w, vg_path *path, uint64_t now_us, uint64_t *wait_us);
/* A probe that scan_pace() let through was n packets more than one (host
 * discovery's round to a host): --max-rate takes them from later probes. */
void scan_pace_owe(struct scan_worker *w, unsigned n);

/* Once per loop turn: worker 0 looks for a target that rate-limits its
 * resets (over the whole scan's counts); every worker then tells its
 * paths. */
void scan_limit_tick(struct scan_worker *w, uint64_t now_us);

/* An answer arrived; limitable: a reset or ICMP error, what a limiting
 * target holds back (the others, SYN-ACKs and UDP replies, it does not). */
void scan_count_answer(struct scan_worker *w, bool limitable);

/* How a kind of the silent set is reported: its protocol, and whether a
 * silent port of it is open|filtered (UDP) or may be closed|filtered
 * behind a reset limit (TCP). */
struct scan_silent_kind {
    uint8_t proto;
    bool udp, tcp;
};

/* The walk is done (or a sweep is): starts the next sweep over the silent
 * set. The first re-probes every parked port once more at the settled
 * rate; later ones follow while a sweep added answers, or while ports have
 * fewer tries than the loss now calls for. Behind a reset limit the sweeps
 * go at the target's pace (or, with --defeat-rst-ratelimit, do not run).
 * *answered_at: the worker's answered count when the last sweep began.
 * False when there is nothing left to sweep. */
bool scan_sweep_begin(struct scan_worker *w, vg_silent_set *set, uint64_t *answered_at);

/* The end: every port still silent gets its result, with the tries it
 * had. kinds[e->kind] says how to report an entry. */
void scan_report_silent(struct scan_worker *w, vg_silent_set *set,
                        const struct scan_silent_kind *kinds, unsigned nkinds);

/* Tries a silent port gets, chosen by the path's loss evidence (see
 * vg_path_tries_needed), or the fixed count of --retries. */
unsigned scan_tries_needed(struct scan_worker *w, const vg_path *path);

/* Tries a silent port gets during the walk: adaptive, one fewer than
 * needed, since the first sweep is a try of every silent port anyway;
 * fixed, all of them (there are no sweeps). */
unsigned scan_walk_tries(struct scan_worker *w, const vg_path *path);

/* The most tries any port may get (--max-retries + 1). */
unsigned scan_max_tries(const struct scan_worker *w);

/* Whether the tries are adaptive (no fixed --retries). */
bool scan_adaptive_tries(const struct scan_worker *w);

bool scan_stopping(const vg_scan *scan);


#endif
