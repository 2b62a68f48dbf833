/* SPDX-License-Identifier: MIT */
/* The scan driver: splits the permuted walk over targets x ports between
 * worker threads, keeps per-host timing, and hands results to the caller's
 * thread. The probe engines (connect.c, ...) do the network part. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine/raw.h"
#include "engine/scan_internal.h"
#include "util/alloc.h"

#define MAX_THREADS 4
#define MAX_AUTO_CONCURRENCY 32768u
#define RESERVED_FDS 128u
#define BATCH_FLUSH 256
/* Walk positions a worker takes at a time (see scan_next_probe_proto). */
#define WALK_CHUNK 64
/* Probes per second at the start of a scan (all workers together), and
 * the floor of the adaptive rate; docs/timing.md says why. */
#define INITIAL_RATE 4000.0
#define MIN_RATE 50.0

/* Host discovery's packets, by probe name: what nmap sends by default,
 * and ARP or a neighbour solicitation to targets on an attached ethernet
 * segment. Replies are matched in this order. */
static const struct raw_send discovery[] = {
    {"icmp_echo", 0, false},
    {"tcp_syn", 443, false},
    {"tcp_ack", 80, false},
    {"ndp", 0, true},
    {"arp", 0, true},
    {NULL, 0, false},
};

static const struct raw_plan plan_syn = {.tcp = "tcp_syn"};
static const struct raw_plan plan_udp = {.udp = "udp"};
static const struct raw_plan plan_syn_udp = {.tcp = "tcp_syn", .udp = "udp"};
static const struct raw_plan plan_ping = {.discovery = discovery};

/* The scan kinds, by vg_engine id: the engine, its data, and the views of
 * the ports it walks (TCP, UDP). */
static const struct {
    int id;
    const char *name;
    const struct scan_engine *engine;
    const void *data;
    bool tcp, udp;
} engines[] = {
    {VG_ENGINE_CONNECT, "connect", &scan_engine_connect, NULL, true, false},
    {VG_ENGINE_SYN, "syn", &scan_engine_raw, &plan_syn, true, false},
    {VG_ENGINE_UDP, "udp", &scan_engine_raw, &plan_udp, false, true},
    {VG_ENGINE_SYN_UDP, "syn+udp", &scan_engine_raw, &plan_syn_udp, true, true},
    {VG_ENGINE_PING, "ping", &scan_engine_raw, &plan_ping, true, false},
    {0, NULL, NULL, NULL, false, false},
};

void vg_scan_opts_default(vg_scan_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->engine = VG_ENGINE_CONNECT;
    opts->retries = VG_RETRIES_ADAPTIVE;
    opts->max_retries = 10;
    opts->min_rtt_timeout_ms = 50;
    opts->max_rtt_timeout_ms = 3000;
    opts->init_rtt_timeout_ms = 1000;
    opts->seed = 0x76696769615f7631ULL;
}

/* --- per-host timing ---------------------------------------------------- */

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    return x ^ (x >> 33);
}

static int host_table_grow(struct host_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    struct host_entry *slots = vg_calloc(cap, sizeof(*slots));
    if(!slots)
        return VG_ENOMEM;
    for(size_t i = 0; i < t->cap; i++) {
        if(!t->slots[i].key)
            continue;
        size_t j = hash64(t->slots[i].key) & (cap - 1);
        while(slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return VG_OK;
}

vg_rtt *scan_host(struct scan_worker *w, uint64_t target_idx)
{
    struct host_table *t = &w->hosts;
    uint64_t key = target_idx + 1;

    if((t->len + 1) * 2 > t->cap && host_table_grow(t))
        return NULL;
    size_t j = hash64(key) & (t->cap - 1);
    while(t->slots[j].key) {
        if(t->slots[j].key == key)
            return &t->slots[j].rtt;
        j = (j + 1) & (t->cap - 1);
    }
    t->slots[j].key = key;
    t->slots[j].first_us = vg_now_us();
    /* A new host starts from what the others taught us. */
    t->slots[j].rtt = w->global_rtt;
    t->slots[j].rtt.answered_first_try = 0;
    t->slots[j].rtt.answered_retry = 0;
    t->slots[j].rtt.timeouts = 0;
    t->len++;
    return &t->slots[j].rtt;
}

bool scan_host_expired(struct scan_worker *w, uint64_t target_idx, uint64_t now_us)
{
    uint64_t limit = w->scan->opts.host_timeout_ms;
    if(!limit)
        return false;
    vg_rtt *r = scan_host(w, target_idx);
    if(!r)
        return false;
    const struct host_entry *e = (const struct host_entry *)((const char *)r -
                                                             offsetof(struct host_entry, rtt));
    return now_us - e->first_us > limit * 1000;
}

uint64_t scan_timeout_us(struct scan_worker *w, uint64_t target_idx)
{
    vg_rtt *r = scan_host(w, target_idx);
    /* A host that has not answered yet follows what the others teach us
     * now, not the snapshot taken when it was first probed. */
    return vg_rtt_timeout_us(r && r->samples ? r : &w->global_rtt, &w->lim);
}

void scan_sample(struct scan_worker *w, uint64_t target_idx, int64_t rtt_us,
                 unsigned tries)
{
    /* Karn: the answer to a probe sent more than once may be to an
     * earlier try; only first tries measure the RTT. */
    if(tries > 1)
        return;
    vg_rtt *r = scan_host(w, target_idx);
    if(r)
        vg_rtt_sample(r, rtt_us, tries);
    vg_rtt_sample(&w->global_rtt, rtt_us, tries);
}

/* --- the walk ----------------------------------------------------------- */

bool scan_stopping(const vg_scan *scan)
{
    return __atomic_load_n(&scan->stop, __ATOMIC_RELAXED) != 0;
}

void scan_port_at(const vg_scan *s, uint64_t i, uint16_t *port, uint8_t *proto)
{
    if(i < s->n_tcp) {
        *port = vg_ports_get_proto(s->ports, IPPROTO_TCP, (size_t)i);
        *proto = IPPROTO_TCP;
    }
    else {
        *port = vg_ports_get_proto(s->ports, IPPROTO_UDP, (size_t)(i - s->n_tcp));
        *proto = IPPROTO_UDP;
    }
}

bool scan_next_probe(struct scan_worker *w, uint64_t *target_idx, vg_addr *addr,
                     uint16_t *port)
{
    uint8_t proto;
    return scan_next_probe_proto(w, target_idx, addr, port, &proto);
}

bool scan_next_probe_proto(struct scan_worker *w, uint64_t *target_idx, vg_addr *addr,
                           uint16_t *port, uint8_t *proto)
{
    vg_scan *s = w->scan;
    if(scan_stopping(s))
        return false;
    if(w->walk_k >= w->walk_end) {
        /* Workers take the walk a chunk at a time, so one held back by its
         * path (or its CPU) takes less of it instead of ending last. */
        uint64_t k = __atomic_fetch_add(&s->walk_next, WALK_CHUNK, __ATOMIC_RELAXED);
        if(k >= s->n_shard)
            return false;
        w->walk_k = k;
        w->walk_end = s->n_shard - k < WALK_CHUNK ? s->n_shard : k + WALK_CHUNK;
    }
    uint64_t elem = vg_perm_at(&s->perm, s->shard_first + w->walk_k * s->shard_step);
    w->walk_k++;
    *target_idx = elem / s->n_ports;
    w->positions_taken++;
    scan_port_at(s, elem % s->n_ports, port, proto);
    vg_targets_get(s->targets, *target_idx, addr);
    return true;
}

vg_path *scan_path(struct scan_worker *w, const vg_addr *src)
{
    if(!w->paths) {
        w->paths = vg_calloc(SCAN_MAX_PATHS, sizeof(*w->paths));
        if(!w->paths)
            return NULL;
    }
    for(unsigned i = 0; i < w->npaths; i++) {
        const vg_addr *k = &w->path_src[i];
        if(k->family == src->family && !memcmp(k->a, src->a, sizeof(k->a)))
            return &w->paths[i];
    }
    if(w->npaths == SCAN_MAX_PATHS)
        return &w->paths[SCAN_MAX_PATHS - 1];
    unsigned i = w->npaths++;
    w->path_src[i] = *src;
    w->path_src[i].scope_id = 0;
    uint64_t now = vg_now_us();
    vg_path_init(&w->paths[i], &w->path_prm, now);
    uint64_t limit = __atomic_load_n(&w->scan->rst_limit, __ATOMIC_RELAXED);
    if(limit)
        vg_path_set_limit(&w->paths[i], (double)limit / w->scan->nthreads, now);
    return &w->paths[i];
}

/* The limit detector's rate test, if one is under way: this worker's
 * part of its rate (NULL when none runs). */
static vg_path *slow_gate(struct scan_worker *w, uint64_t now_us)
{
    uint64_t until = __atomic_load_n(&w->scan->limit_test_until, __ATOMIC_ACQUIRE);
    if(until <= now_us)
        return NULL;
    if(w->slow_until != until) {
        uint64_t pps = __atomic_load_n(&w->scan->limit_test_pps, __ATOMIC_RELAXED);
        double r = (double)(pps ? pps : 1) / w->scan->nthreads;
        vg_path_params sp = {.initial_rate = r, .min_rate = r, .max_rate = r, .fixed = true};
        vg_path_init(w->slow, &sp, now_us);
        w->slow_until = until;
    }
    return w->slow;
}

unsigned scan_pace(struct scan_worker *w, vg_path *path, uint64_t now_us, uint64_t *wait_us)
{
    /* The cap and the rate test first; their tokens go back when a later
     * gate or the path says no. */
    vg_path *gates[2] = {w->cap, slow_gate(w, now_us)};
    unsigned taken = 0;
    for(; taken < 2; taken++) {
        if(gates[taken] && !vg_path_take(gates[taken], now_us, 1, wait_us))
            break;
    }
    if(taken == 2 && vg_path_take(path, now_us, 1, wait_us))
        return 1;
    while(taken--) {
        if(gates[taken])
            gates[taken]->tokens += 1;
    }
    return 0;
}

void scan_pace_owe(struct scan_worker *w, unsigned n)
{
    if(w->cap)
        w->cap->tokens -= n;
}

void scan_count_answer(struct scan_worker *w, bool limitable)
{
    __atomic_add_fetch(limitable ? &w->scan->rst_seen : &w->scan->other_seen, 1,
                       __ATOMIC_RELAXED);
}

/* The limit is the target's, shared by the workers whose sweeps it paces:
 * each takes an equal part of it, and a worker whose sweeps are over
 * leaves its part to the others (a worker with a larger silent set would
 * otherwise crawl on at half the limit after the other finished). */
/* A paced sweep's share of answering probes, measured as it goes: over
 * windows of SHARE_WIN_US with at least SHARE_MIN_SENT probes (or
 * SHARE_MAX_US), an upper bound of the answered share, two binomial
 * standard errors and three answers above it (the resets the limit let
 * through stay under it; a sweep that sends too fast sees its share fall
 * to the limit over its rate, and slows down). */
#define SHARE_WIN_US 100000
#define SHARE_MAX_US 2000000
#define SHARE_MIN_SENT 200

/* Resets arriving (from every worker's probes: the limit is the
 * target's) at this share of the limit or more may have been held back
 * by it: the answered share says nothing then. Below it the limit was not
 * what held them (a token bucket lets through all it gets, up to its
 * rate), so the share is the silent set's own. */
#define SHARE_TRUST 0.8

static bool limit_held(const struct scan_worker *w, uint64_t rst0, uint64_t t0, uint64_t now_us)
{
    if(now_us <= t0)
        return true;
    double rst = (double)(__atomic_load_n(&w->scan->rst_seen, __ATOMIC_RELAXED) - rst0);
    double limit = (double)__atomic_load_n(&w->scan->rst_limit, __ATOMIC_RELAXED);
    return rst / ((double)(now_us - t0) / 1e6) >= SHARE_TRUST * limit;
}

static double limit_part(const struct scan_worker *w)
{
    unsigned n = __atomic_load_n(&w->scan->pacers, __ATOMIC_RELAXED);
    return (double)__atomic_load_n(&w->scan->rst_limit, __ATOMIC_RELAXED) / (n ? n : 1);
}

static double share_bound(double answered, double sent)
{
    double q = answered < sent ? answered / sent : 1;
    double b = (answered + 2 * sqrt(answered * (1 - q)) + 3) / sent;
    return b > 1 ? 1 : b;
}

static void share_observe(struct scan_worker *w, uint64_t now_us)
{
    uint64_t sent = 0, ans = 0;
    for(unsigned i = 0; i < w->npaths; i++) {
        sent += w->paths[i].sent_total;
        ans += w->paths[i].answered_total;
    }
    uint64_t rst = __atomic_load_n(&w->scan->rst_seen, __ATOMIC_RELAXED);
    if(!w->share_t0 || sent < w->share_sent0) {
        w->share_t0 = now_us;
        w->share_sent0 = sent;
        w->share_ans0 = ans;
        w->share_rst0 = rst;
        return;
    }
    uint64_t ds = sent - w->share_sent0;
    uint64_t dt = now_us - w->share_t0;
    if(dt < SHARE_WIN_US || (ds < SHARE_MIN_SENT && dt < SHARE_MAX_US) || !ds)
        return;
    bool held = limit_held(w, w->share_rst0, w->share_t0, now_us);
    w->sweep_share = held ? 1 : share_bound((double)(ans - w->share_ans0), (double)ds);
    w->share_t0 = now_us;
    w->share_sent0 = sent;
    w->share_ans0 = ans;
    w->share_rst0 = rst;
}

static void pace_share(struct scan_worker *w)
{
    double each = limit_part(w);
    for(unsigned i = 0; i < w->npaths; i++) {
        vg_path *p = &w->paths[i];
        if(p->limited && (fabs(p->limit_pps - each) > 0.02 * each ||
                          fabs(w->share_applied - w->sweep_share) > 0.02 * w->sweep_share)) {
            p->limit_pps = each;
            vg_path_slow_to_limit(p, w->sweep_share);
        }
    }
    w->share_applied = w->sweep_share;
}

static void pacing_end(struct scan_worker *w)
{
    if(w->pacing) {
        __atomic_sub_fetch(&w->scan->pacers, 1, __ATOMIC_RELAXED);
        w->pacing = false;
    }
}

void scan_limit_tick(struct scan_worker *w, uint64_t now_us)
{
    vg_scan *s = w->scan;
    if(w->id == 0 && !w->limit_applied) {
        uint64_t q = 0;
        int64_t min_rtt = -1;
        for(unsigned i = 0; i < w->npaths; i++) {
            q += w->paths[i].queueing_rounds;
            int64_t m = w->paths[i].min_rtt_us;
            if(m >= 0 && (min_rtt < 0 || m < min_rtt))
                min_rtt = m;
        }
        uint64_t sent = __atomic_load_n(&s->sent, __ATOMIC_RELAXED);
        uint64_t rst = __atomic_load_n(&s->rst_seen, __ATOMIC_RELAXED);
        uint64_t other = __atomic_load_n(&s->other_seen, __ATOMIC_RELAXED);
        /* A round that showed a queue since the last look: the windows
         * around it say nothing about a target's limit. */
        bool queueing = q != w->queueing_seen;
        w->queueing_seen = q;
        uint64_t test_until = w->limitdet.test_until_us;
        uint64_t skipped = __atomic_load_n(&s->skipped, __ATOMIC_RELAXED);
        uint64_t live = s->n_shard > skipped ? s->n_shard - skipped : 0;
        w->limitdet.hosts = s->n_ports ? (double)live / (double)s->n_ports : 1;
        if(vg_limitdet_tick(&w->limitdet, now_us, sent, rst, other, queueing, min_rtt)) {
            uint64_t l = (uint64_t)w->limitdet.limit_pps;
            __atomic_store_n(&s->rst_limit, l ? l : 1, __ATOMIC_RELAXED);
        }
        if(w->limitdet.test_until_us != test_until) {
            /* A rate test began, or ended early with the limit found. */
            __atomic_store_n(&s->limit_test_pps, (uint64_t)w->limitdet.test_pps, __ATOMIC_RELAXED);
            __atomic_store_n(&s->limit_test_until, w->limitdet.test_until_us, __ATOMIC_RELEASE);
        }
    }
    if(w->pacing) {
        share_observe(w, now_us);
        pace_share(w);
    }
    uint64_t limit = __atomic_load_n(&s->rst_limit, __ATOMIC_RELAXED);
    if(limit && !w->limit_applied && !__atomic_load_n(&s->rst_limit_refuted, __ATOMIC_RELAXED)) {
        w->limit_applied = true;
        for(unsigned i = 0; i < w->npaths; i++)
            vg_path_set_limit(&w->paths[i], (double)limit / s->nthreads, now_us);
    }
}

unsigned scan_walk_tries(struct scan_worker *w, const vg_path *path)
{
    unsigned n = scan_tries_needed(w, path);
    unsigned max = scan_max_tries(w);
    if(n > max)
        n = max;
    return scan_adaptive_tries(w) && n > 1 ? n - 1 : n;
}

bool scan_adaptive_tries(const struct scan_worker *w)
{
    return w->scan->opts.retries == VG_RETRIES_ADAPTIVE;
}

unsigned scan_max_tries(const struct scan_worker *w)
{
    const vg_scan_opts *o = &w->scan->opts;
    unsigned r = scan_adaptive_tries(w) ? o->max_retries : o->retries;
    return r > 254 ? 255 : r + 1;
}

/* Adaptive tries: never fewer than three, and the expected number of
 * responsive ports left silent over the whole scan below one in a hundred
 * (docs/timing.md says why not one in ten). */
#define MIN_ADAPTIVE_TRIES 3
#define WRONG_ANSWERS_TARGET 0.01

unsigned scan_tries_needed(struct scan_worker *w, const vg_path *path)
{
    if(!scan_adaptive_tries(w))
        return scan_max_tries(w);
    /* Behind a reset limit more tries at full speed mostly meet the limit
     * again: the sweeps decide. */
    if(path->limited)
        return MIN_ADAPTIVE_TRIES;
    const vg_scan *s = w->scan;
    /* Responsive ports in the whole scan, from this worker's share. */
    double taken = w->positions_taken ? (double)w->positions_taken : 1.0;
    double n = (double)w->ports_answered / taken * (double)s->n_shard;
    if(n < 1)
        n = 1;
    return vg_path_tries_needed(vg_path_loss_bound(path), (uint64_t)n, WRONG_ANSWERS_TARGET,
                                MIN_ADAPTIVE_TRIES, scan_max_tries(w));
}

/* --- results -------------------------------------------------------------- */

void scan_emit(struct scan_worker *w, const vg_result *res)
{
    if(w->batch_len == w->batch_cap) {
        scan_flush(w);
        if(w->batch_len == w->batch_cap) {
            /* Could not hand off (out of memory): grow locally. */
            size_t cap = w->batch_cap ? w->batch_cap * 2 : BATCH_FLUSH;
            vg_result *b = vg_realloc(w->batch, cap * sizeof(*b));
            if(!b) {
                w->lost = true; /* the worker ends with VG_ENOMEM */
                return;
            }
            w->batch = b;
            w->batch_cap = cap;
        }
    }
    w->batch[w->batch_len++] = *res;
    if(res->state == VG_STATE_OPEN)
        __atomic_add_fetch(&w->scan->n_open, 1, __ATOMIC_RELAXED);
    else if(res->state == VG_STATE_CLOSED)
        __atomic_add_fetch(&w->scan->n_closed, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&w->scan->n_filtered, 1, __ATOMIC_RELAXED);
}

void scan_flush(struct scan_worker *w)
{
    vg_scan *s = w->scan;
    if(!w->batch_len)
        return;
    pthread_mutex_lock(&s->mu);
    if(s->qlen + w->batch_len > s->qcap) {
        size_t cap = s->qcap ? s->qcap : 1024;
        while(cap < s->qlen + w->batch_len)
            cap *= 2;
        vg_result *q = vg_realloc(s->queue, cap * sizeof(*q));
        if(!q) {
            pthread_mutex_unlock(&s->mu);
            return;
        }
        s->queue = q;
        s->qcap = cap;
    }
    memcpy(s->queue + s->qlen, w->batch, w->batch_len * sizeof(*w->batch));
    s->qlen += w->batch_len;
    w->batch_len = 0;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

/* --- lifecycle ------------------------------------------------------------ */

static unsigned auto_concurrency(void)
{
    struct rlimit rl;
    if(getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1024;
    if(rl.rlim_cur <= RESERVED_FDS * 2)
        return (unsigned)(rl.rlim_cur / 2);
    rlim_t n = rl.rlim_cur - RESERVED_FDS;
    return n > MAX_AUTO_CONCURRENCY ? MAX_AUTO_CONCURRENCY : (unsigned)n;
}

int vg_scan_new(vg_scan **out, const vg_targets *targets, const vg_ports *ports,
                const vg_scan_opts *opts, vg_error *err)
{
    vg_scan *s;
    uint64_t nt = vg_targets_count(targets);
    uint64_t np, ntcp = 0, nudp = 0;

    *out = NULL;
    size_t kind = 0;
    while(engines[kind].engine && engines[kind].id != opts->engine)
        kind++;
    const struct scan_engine *engine = engines[kind].engine;
    if(!engine)
        return vg_error_set(err, VG_EINVAL, "unknown scan engine %d", opts->engine);
    /* Which protocols the engine probes decides which view of the ports
     * it walks; prefixed ports it cannot probe are the caller's mistake,
     * not something to drop silently. */
    bool tcp = engines[kind].tcp;
    bool udp = engines[kind].udp;
    if(!udp && vg_ports_count_prefixed(ports, IPPROTO_UDP))
        return vg_error_set(err, VG_EINVAL, "U: (UDP) ports need a UDP scan; the %s scan "
                            "probes TCP only", engines[kind].name);
    if(!tcp && vg_ports_count_prefixed(ports, IPPROTO_TCP))
        return vg_error_set(err, VG_EINVAL, "T: (TCP) ports need a TCP scan; the udp scan "
                            "probes UDP only");
    if(tcp)
        ntcp = vg_ports_count_proto(ports, IPPROTO_TCP);
    if(udp)
        nudp = vg_ports_count_proto(ports, IPPROTO_UDP);
    np = ntcp + nudp;
    if(!nt || !np)
        return vg_error_set(err, VG_EINVAL, "nothing to scan: %s",
                            nt ? "no ports" : "no targets");
    if(nt > UINT64_MAX / np)
        return vg_error_set(err, VG_EINVAL,
                            "too many probes: %llu targets x %llu ports does not fit in 64 bits",
                            (unsigned long long)nt, (unsigned long long)np);
    if(opts->shard_count > 1 && opts->shard_index >= opts->shard_count)
        return vg_error_set(err, VG_EINVAL, "shard %u/%u: index must be below the count",
                            opts->shard_index, opts->shard_count);

    s = vg_calloc(1, sizeof(*s));
    if(!s)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    s->engine = engine;
    s->engine_name = engines[kind].name;
    s->engine_data = engines[kind].data;
    s->targets = targets;
    s->ports = ports;
    s->opts = *opts;
    s->n_ports = np;
    s->n_tcp = ntcp;
    s->n_udp = nudp;
    s->n_elems = nt * np;
    vg_perm_init(&s->perm, s->n_elems, opts->seed);

    uint32_t scount = opts->shard_count > 1 ? opts->shard_count : 1;
    uint32_t sidx = scount > 1 ? opts->shard_index : 0;
    s->n_shard = s->n_elems > sidx ? (s->n_elems - sidx + scount - 1) / scount : 0;
    s->shard_first = sidx;
    s->shard_step = scount;

    /* Connect: two workers per CPU; a connect() spends most of its time
     * in the kernel, partly waiting on locks that the other CPU holds, and
     * a second worker per CPU fills those gaps. Raw: one per CPU; a raw
     * worker is one sender and one capture ring that never block, so more
     * workers than CPUs only contend (measured: docs/benchmarks.md). */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if(ncpu < 1)
        ncpu = 1;
    long per_cpu = engine == &scan_engine_connect ? 2 : 1;
    unsigned nthreads = opts->threads ? opts->threads
                                      : (unsigned)(per_cpu * ncpu > MAX_THREADS ? MAX_THREADS
                                                                                 : per_cpu * ncpu);
    if(nthreads > 64)
        nthreads = 64;
    if(nthreads > s->n_shard)
        nthreads = s->n_shard ? (unsigned)s->n_shard : 1;
    unsigned conc = opts->concurrency ? opts->concurrency : auto_concurrency();
    if(conc < nthreads)
        nthreads = conc ? conc : 1;
    s->nthreads = nthreads;
    s->opts.concurrency = conc;
    s->opts.threads = nthreads;

    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->workers = vg_calloc(nthreads, sizeof(*s->workers));
    if(!s->workers) {
        vg_scan_free(s);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    struct rlimit rl;
    int max_fds = 65536;
    if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
       rl.rlim_cur < (rlim_t)max_fds)
        max_fds = (int)rl.rlim_cur;
    if(max_fds < 1024)
        max_fds = 1024;
    for(unsigned i = 0; i < nthreads; i++) {
        struct scan_worker *w = &s->workers[i];
        w->scan = s;
        w->id = i;
        w->concurrency = conc / nthreads + (i < conc % nthreads ? 1 : 0);
        w->lim.min_us = (uint64_t)opts->min_rtt_timeout_ms * 1000;
        w->lim.max_us = (uint64_t)opts->max_rtt_timeout_ms * 1000;
        w->lim.initial_us = (uint64_t)opts->init_rtt_timeout_ms * 1000;
        w->lim.fixed_us = (uint64_t)opts->timeout_ms * 1000;
        if(w->lim.max_us < w->lim.min_us)
            w->lim.max_us = w->lim.min_us;
        /* The ceiling caps every wait, the first one included. */
        if(w->lim.initial_us > w->lim.max_us)
            w->lim.initial_us = w->lim.max_us;
        vg_rtt_init(&w->global_rtt);
        /* Each worker paces its share; the shares add up to the caps. */
        w->path_prm.initial_rate = INITIAL_RATE / nthreads;
        w->path_prm.min_rate = (opts->min_rate > 0 ? opts->min_rate : MIN_RATE) / nthreads;
        w->path_prm.max_rate = opts->rate > 0 ? opts->rate / nthreads : 0;
        if(w->path_prm.max_rate > 0 && w->path_prm.initial_rate > w->path_prm.max_rate)
            w->path_prm.initial_rate = w->path_prm.max_rate;
        w->slow = vg_malloc(sizeof(*w->slow));
        if(!w->slow) {
            vg_scan_free(s);
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        }
        if(opts->rate > 0) {
            w->cap = vg_malloc(sizeof(*w->cap));
            if(!w->cap) {
                vg_scan_free(s);
                return vg_error_set(err, VG_ENOMEM, "out of memory");
            }
            vg_path_params cp = {.initial_rate = opts->rate / nthreads,
                                 .min_rate = opts->rate / nthreads,
                                 .max_rate = opts->rate / nthreads, .fixed = true};
            vg_path_init(w->cap, &cp, vg_now_us());
        }
        if(w->path_prm.initial_rate < w->path_prm.min_rate)
            w->path_prm.initial_rate = w->path_prm.min_rate;
        w->path_prm.fixed = opts->min_rate > 0 && opts->rate > 0 && opts->min_rate >= opts->rate;
        w->batch_cap = BATCH_FLUSH;
        w->batch = vg_malloc(w->batch_cap * sizeof(*w->batch));
        w->loop = vg_loop_new(max_fds);
        if(!w->batch || !w->loop) {
            vg_scan_free(s);
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        }
    }
    *out = s;
    return VG_OK;
}

static void *worker_main(void *arg)
{
    struct scan_worker *w = arg;
    vg_scan *s = w->scan;

    w->rc = s->engine->worker_run(w);
    scan_flush(w);
    /* A result dropped or left unqueued for want of memory would make the
     * scan look complete with ports missing: fail it instead. */
    if(!w->rc && (w->lost || w->batch_len))
        w->rc = vg_error_set(&w->err, VG_ENOMEM, "out of memory: results lost");
    pthread_mutex_lock(&s->mu);
    s->workers_done++;
    if(s->workers_done == s->nthreads)
        s->end_us = vg_now_us();
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int vg_scan_prepare(vg_scan *s, vg_error *err)
{
    if(s->prepared || !s->engine->prepare)
        return VG_OK;
    int rc = s->engine->prepare(s, err);
    if(rc)
        return rc;
    s->prepared = true;
    return VG_OK;
}

int vg_scan_start(vg_scan *s, vg_error *err)
{
    sigset_t all, old;

    if(s->started)
        return vg_error_set(err, VG_EINVAL, "scan already started");
    s->started = true;
    int prc = vg_scan_prepare(s, err);
    if(prc) {
        /* No worker will run: the scan is over before it began. */
        s->workers_done = s->nthreads;
        return prc;
    }
    if(s->engine->begin)
        s->engine->begin(s);
    s->start_us = vg_now_us();
    /* Workers inherit a full signal mask, so signals reach the caller. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for(unsigned i = 0; i < s->nthreads; i++) {
        int rc = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
        if(rc) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            vg_scan_stop(s);
            /* Account for the threads that never started. */
            pthread_mutex_lock(&s->mu);
            s->workers_done += s->nthreads - i;
            pthread_mutex_unlock(&s->mu);
            errno = rc;
            return vg_error_set(err, VG_ESYS, "cannot start worker thread: %s", strerror(rc));
        }
        s->workers[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return VG_OK;
}

int vg_scan_poll(vg_scan *s, int timeout_ms, vg_result_fn fn, void *ud, vg_error *err)
{
    vg_result *batch;
    size_t n;
    bool all_done;

    pthread_mutex_lock(&s->mu);
    if(!s->qlen && s->workers_done < s->nthreads && timeout_ms != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ms = timeout_ms < 0 ? 1000 : timeout_ms;
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (ms % 1000) * 1000000L;
        if(ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    }
    /* Swap buffers so workers can keep queueing while we deliver. */
    batch = s->queue;
    n = s->qlen;
    size_t bcap = s->qcap;
    s->queue = s->spare;
    s->qcap = s->spare_cap;
    s->qlen = 0;
    s->spare = batch;
    s->spare_cap = bcap;
    all_done = s->workers_done == s->nthreads;
    pthread_mutex_unlock(&s->mu);
    for(size_t i = 0; i < n; i++) {
        s->delivered++;
        if(fn)
            fn(&batch[i], ud);
    }
    if(all_done) {
        for(unsigned i = 0; i < s->nthreads; i++) {
            if(s->workers[i].rc) {
                if(err)
                    *err = s->workers[i].err;
                return s->workers[i].rc;
            }
        }
        /* Anything queued after our swap is picked up by the next poll. */
        pthread_mutex_lock(&s->mu);
        bool empty = s->qlen == 0;
        pthread_mutex_unlock(&s->mu);
        return empty ? 1 : 0;
    }
    return 0;
}

void vg_scan_stop(vg_scan *s)
{
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
}

void vg_scan_get_stats(vg_scan *s, vg_scan_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->skipped = __atomic_load_n(&s->skipped, __ATOMIC_RELAXED);
    st->total = s->n_shard - (st->skipped < s->n_shard ? st->skipped : s->n_shard);
    st->done = s->delivered;
    st->sent = __atomic_load_n(&s->sent, __ATOMIC_RELAXED);
    st->open = __atomic_load_n(&s->n_open, __ATOMIC_RELAXED);
    st->closed = __atomic_load_n(&s->n_closed, __ATOMIC_RELAXED);
    st->filtered = __atomic_load_n(&s->n_filtered, __ATOMIC_RELAXED);
    st->in_flight = __atomic_load_n(&s->in_flight, __ATOMIC_RELAXED);
    st->deferred = __atomic_load_n(&s->deferred, __ATOMIC_RELAXED);
    st->concurrency = s->opts.concurrency;
    st->threads = s->nthreads;
    pthread_mutex_lock(&s->mu);
    uint64_t end = s->workers_done == s->nthreads && s->end_us ? s->end_us : vg_now_us();
    pthread_mutex_unlock(&s->mu);
    st->elapsed_s = s->started ? (double)(end - s->start_us) / 1e6 : 0.0;
}

unsigned vg_scan_max_tries(vg_scan *s)
{
    unsigned m = 0;
    for(unsigned i = 0; i < s->nthreads; i++) {
        if(s->workers[i].max_tries_used > m)
            m = s->workers[i].max_tries_used;
    }
    return m;
}

const char *vg_scan_engine_name(const vg_scan *s)
{
    return s->engine_name;
}

const char *vg_scan_tries_policy(const vg_scan *s)
{
    return s->opts.retries == VG_RETRIES_ADAPTIVE ? "adaptive" : "fixed";
}

/* A paced sweep that finds fewer answers than this refutes the limit. */
#define PACED_SWEEP_MIN 20

bool scan_sweep_begin(struct scan_worker *w, vg_silent_set *set, uint64_t *answered_at)
{
    pacing_end(w);
    if(!scan_adaptive_tries(w) || scan_stopping(w->scan) || !set->parked)
        return false;
    uint64_t added = w->ports_answered - *answered_at;
    bool all = set->sweep == 0 || added;
    unsigned needed = 0;
    for(unsigned i = 0; i < w->npaths; i++) {
        unsigned n = scan_tries_needed(w, &w->paths[i]);
        if(n > needed)
            needed = n;
    }
    *answered_at = w->ports_answered;
    /* The first sweep at a reset limit's pace that found (almost) nothing
     * the limit had held back shows the limit was not one: the resets were
     * flat for another reason (a full path in front of us). Later paced
     * sweeps find little by design: they end the scan. */
    if(w->paced_sweep && w->paced_sweeps == 1 && added < PACED_SWEEP_MIN)
        __atomic_store_n(&w->scan->rst_limit_refuted, 1, __ATOMIC_RELAXED);
    if(__atomic_load_n(&w->scan->rst_limit_refuted, __ATOMIC_RELAXED)) {
        for(unsigned i = 0; i < w->npaths; i++)
            vg_path_clear_limit(&w->paths[i]);
    }
    w->paced_sweep = false;
    bool limited = false;
    for(unsigned i = 0; i < w->npaths; i++)
        limited |= w->paths[i].limited;
    if(limited && w->scan->opts.defeat_rst_ratelimit) {
        /* One sweep at full speed for the answers the limit does not
         * hold back (open ports); what stays silent is closed|filtered. */
        if(set->sweep > 0)
            return false;
        return vg_silent_sweep_begin(set, needed, scan_max_tries(w) + 1, true) > 0;
    }
    /* Behind a reset limit only the ports that answer spend the limit: a
     * sweep may go as much faster than the limit as the share of silent
     * ports that answered the last paced sweep is small (an upper bound
     * of it, so that the resets stay within the limit). After the first
     * paced sweep that share is mostly the dropped ports' silence. */
    /* The last paced sweep's yield, unless the limit held its answers. */
    double share = 1;
    uint64_t now_us = vg_now_us();
    if(w->paced_sweeps > 0 && w->last_sweep_n > 0 &&
       !limit_held(w, w->sweep_rst0, w->sweep_t0, now_us))
        share = share_bound((double)added, (double)w->last_sweep_n);
    w->sweep_t0 = now_us;
    w->sweep_rst0 = __atomic_load_n(&w->scan->rst_seen, __ATOMIC_RELAXED);
    for(unsigned i = 0; i < w->npaths; i++) {
        vg_path_sweep_rate(&w->paths[i]);
        w->paced_sweep |= vg_path_slow_to_limit(&w->paths[i], share);
    }
    if(w->paced_sweep)
        w->paced_sweeps++;
    /* Behind a reset limit the paced sweeps are tries of their own kind:
     * two more than the cap. */
    unsigned max = scan_max_tries(w) + (limited ? 2 : 0);
    w->last_sweep_n = vg_silent_sweep_begin(set, needed, max, all);
    if(w->paced_sweep && w->last_sweep_n) {
        __atomic_add_fetch(&w->scan->pacers, 1, __ATOMIC_RELAXED);
        w->pacing = true;
        w->sweep_share = share;
        w->share_t0 = 0;
        pace_share(w);
    }
    return w->last_sweep_n > 0;
}

void scan_report_silent(struct scan_worker *w, vg_silent_set *set,
                        const struct scan_silent_kind *kinds, unsigned nkinds)
{
    /* The evidence each path's ports were meant to get, in evidence units
     * (0: not worked out yet). */
    uint32_t needed[SCAN_MAX_PATHS] = {0};
    for(size_t i = 0; i < set->len; i++) {
        vg_silent *e = &set->v[i];
        if(e->state != SILENT_PARKED || e->kind >= nkinds)
            continue;
        const struct scan_silent_kind *k = &kinds[e->kind];
        /* Behind a reset limit a silent TCP port is unconfirmed when
         * the limit was not waited out: --defeat-rst-ratelimit, or a
         * --min-rate above the pace the limit allows. */
        const vg_path *pa = e->path < w->npaths ? &w->paths[e->path] : NULL;
        bool unconfirmed = k->tcp && pa && pa->limited &&
                           (w->scan->opts.defeat_rst_ratelimit || pa->limit_overrun);
        vg_result res = {
            .addr = e->addr,
            .port = e->port,
            .proto = k->proto,
            .state = e->no_more ? VG_STATE_UNKNOWN
                   : k->udp ? VG_STATE_OPEN_FILTERED
                   : unconfirmed ? VG_STATE_CLOSED_FILTERED : VG_STATE_FILTERED,
            .reason = e->no_more ? VG_REASON_HOST_TIMEOUT : VG_REASON_NO_RESPONSE,
            .tries = e->tries ? e->tries : 1,
            .rtt_us = -1,
        };
        /* A silent port with less evidence than its tries were meant to
         * give (tries lost in congested rounds count for less) may be one
         * whose answers congestion took: the summary says how many. */
        if(!e->no_more && e->path < w->npaths) {
            if(!needed[e->path])
                needed[e->path] = scan_tries_needed(w, &w->paths[e->path]) * VG_EVIDENCE_TRY;
            if(e->evidence < needed[e->path])
                w->paths[e->path].silent_congested++;
        }
        vg_silent_done(set, e);
        if(res.tries > w->max_tries_used)
            w->max_tries_used = res.tries;
        scan_emit(w, &res);
    }
}

/* A path's reports from every worker, added up. */
struct path_acc {
    vg_path_report r;
    double rate_sum_w;   /* sum over workers of their sending rate */
    double peak;
    uint64_t clean_losses, answers;
    uint32_t hist[VG_PATH_RTT_BUCKETS];
    uint64_t first_us, last_us;
    bool limited;
};

unsigned vg_scan_get_paths(vg_scan *s, vg_path_report *out, unsigned max)
{
    struct path_acc acc[SCAN_MAX_PATHS * 2];
    unsigned n = 0;

    memset(acc, 0, sizeof(acc));
    for(unsigned wi = 0; wi < s->nthreads; wi++) {
        struct scan_worker *w = &s->workers[wi];
        for(unsigned pi = 0; pi < w->npaths; pi++) {
            const vg_path *p = &w->paths[pi];
            const vg_addr *src = &w->path_src[pi];
            unsigned k;
            for(k = 0; k < n; k++) {
                const vg_addr *a = &acc[k].r.source;
                if(acc[k].r.family == src->family && !memcmp(a->a, src->a, sizeof(a->a)))
                    break;
            }
            if(k == n) {
                if(n == sizeof(acc) / sizeof(acc[0]))
                    continue;
                n++;
                acc[k].r.source = *src;
                acc[k].r.family = src->family;
                static const uint8_t zero[16];
                if(!memcmp(src->a, zero, sizeof(zero)))
                    acc[k].r.source.family = 0; /* any source of the family */
                acc[k].r.min_rtt_us = -1;
            }
            struct path_acc *a = &acc[k];
            a->r.sent += p->sent_total;
            a->r.answered += p->answered_total;
            if(p->last_send_us > p->first_send_us)
                a->rate_sum_w += (double)p->sent_total * 1e6 /
                                 (double)(p->last_send_us - p->first_send_us);
            a->peak += p->peak_rate > 0 ? p->peak_rate : p->rate;
            if(p->min_rtt_us >= 0 && (a->r.min_rtt_us < 0 || p->min_rtt_us < a->r.min_rtt_us))
                a->r.min_rtt_us = p->min_rtt_us;
            a->clean_losses += p->clean_losses;
            a->answers += p->answers;
            for(unsigned b = 0; b < VG_PATH_RTT_BUCKETS; b++)
                a->hist[b] += p->rtt_hist[b];
            a->r.rounds_clean += p->rounds_clean;
            a->r.rounds_congested += p->rounds_congested;
            a->r.cuts += p->cuts;
            a->r.local_cuts += p->local_cuts;
            a->r.local_drops += p->local_drops;
            a->r.cap_drops += p->cap_drops;
            a->r.silent_congested += p->silent_congested;
            if(p->first_send_us && (!a->first_us || p->first_send_us < a->first_us))
                a->first_us = p->first_send_us;
            if(p->last_answer_us > a->last_us)
                a->last_us = p->last_answer_us;
            if(p->limited)
                a->limited = true;
        }
    }
    for(unsigned k = 0; k < n && k < max; k++) {
        struct path_acc *a = &acc[k];
        vg_path_report *r = &out[k];
        *r = a->r;
        r->rate_pps = a->rate_sum_w;
        r->peak_pps = a->peak;
        uint64_t nl = a->clean_losses + a->answers;
        r->loss = nl ? (double)a->clean_losses / (double)nl : 0;
        r->congestive = a->r.cuts > 0;
        if(a->last_us > a->first_us)
            r->replies_pps = (double)a->r.answered * 1e6 / (double)(a->last_us - a->first_us);
        r->median_rtt_us = vg_path_hist_median_us(a->hist);
        r->rst_limit_pps = a->limited && !s->rst_limit_refuted ? (double)s->rst_limit : 0;
    }
    return n;
}

void vg_scan_free(vg_scan *s)
{
    if(!s)
        return;
    vg_scan_stop(s);
    for(unsigned i = 0; s->workers && i < s->nthreads; i++) {
        struct scan_worker *w = &s->workers[i];
        if(w->started)
            pthread_join(w->thread, NULL);
        vg_loop_free(w->loop);
        free(w->batch);
        free(w->hosts.slots);
        free(w->paths);
        free(w->cap);
        free(w->slow);
    }
    if(s->prepared && s->engine->cleanup)
        s->engine->cleanup(s);
    free(s->workers);
    free(s->queue);
    free(s->spare);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
}
