/* SPDX-License-Identifier: MIT */
/* The raw engines (-sS, -sU): probes are built from templates and sent in
 * sendmmsg() batches on raw sockets, so the kernel routes them and resolves
 * neighbours on any interface (ethernet, veth, loopback, tun); replies come
 * back through a per-worker TPACKET_V3 ring whose kernel filter passes only
 * packets to that worker's source ports (and ICMP errors).
 *
 * Matching is stateless: the sequence number (and the DNS id, NTP
 * timestamp, ...) and the source port carry a SipHash cookie of the probe,
 * so a reply proves which probe it answers before we look anything up.
 * What we keep per probe is only what retries need: the probes in flight of
 * this worker's window, in a hash by (address, port, protocol), and per-host
 * timing (scan.c). */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/raw.h"
#include "engine/scan_internal.h"
#include "engine/silent.h"
#include "probe/probe.h"
#include "util/alloc.h"
#include "util/fdclose.h"

#define RAW_BATCH 64          /* probes per sendmmsg() */
#define RAW_BATCHES_PER_TURN 4 /* then look at replies and timers again */
#define NIL UINT32_MAX
#define STOP_CHECK_MS 100
#define STATS_EVERY_US 200000
#define PAUSE_US 1000         /* back-off when the kernel's queues are full */
#define ROUTE_CACHE 4096      /* direct-mapped source address cache, per worker */
#define LL_GRACE_US 10000     /* how long an ARP/ND answer waits for an IP one */

/* Kinds of probe slot: a port probe of the walk's TCP or UDP entries (the
 * plan names the probe of each), or host discovery, where one slot stands
 * for a host and sends each of the plan's discovery packets. */
enum { PT_TCP, PT_UDP, PT_PING, PT__COUNT };

enum pstate { P_FREE, P_INFLIGHT, P_RETRY, P_ANSWERED_IN_RETRY };

struct rworker;

struct rprobe {
    vg_timer timer; /* first: a timer pointer is a probe pointer */
    struct rworker *rw;
    vg_addr addr;
    uint64_t target_idx;
    uint64_t sent_us;
    uint32_t next;  /* free list / retry queue link */
    uint32_t hnext; /* hash chain link */
    uint32_t round; /* the path controller's round of the last try */
    uint32_t silent;/* index + 1 in the silent set when re-probed from it */
    uint16_t port;
    uint8_t pt;     /* PT_TCP, PT_UDP */
    uint8_t tries;
    uint8_t state;  /* enum pstate */
    uint8_t clean_losses; /* tries unanswered on a clean path */
    uint8_t path;   /* index of the worker's path controller */
    uint16_t evidence; /* of silence so far (path.h: vg_path_timeout) */
    bool in_table;
    /* Host discovery: a link-layer answer (ARP, neighbour advertisement)
     * waits LL_GRACE_US for an IP-level one, which says more. */
    bool ll_seen;
    uint8_t ll_reason, ll_proto;
    uint8_t ll_mac[6];
    int64_t ll_rtt_us;
};

struct route_entry {
    vg_addr dst;
    vg_addr src;
    int err;        /* -errno of the lookup, 0 when src is valid */
    bool used;
};

struct sendq {
    int fd;
    unsigned n;
    struct mmsghdr msgs[RAW_BATCH];
    struct iovec iov[RAW_BATCH];
    struct sockaddr_storage to[RAW_BATCH];
    uint32_t probe[RAW_BATCH];
    uint8_t buf[RAW_BATCH][VG_PROBE_MAX];
};

struct rworker {
    struct scan_worker *w;
    vg_scan *s;
    struct raw_ctx *ctx;
    struct raw_wres *res;
    struct rprobe *probes;
    unsigned n;
    uint32_t *buckets;
    uint32_t bmask;
    uint32_t free_head;
    uint32_t retry_head, retry_tail;
    unsigned active;
    bool exhausted;
    /* Templates of each kind the worker sends (ctx->port, ctx->disc):
     * [path][variant], built on first use and again when the path's
     * source changes (the last path takes every source past the others). */
    vg_tmpl *t_port[2];
    vg_tmpl *t_disc[RAW_MAX_KINDS];
    struct route_entry *routes;
    struct sendq q[2];          /* [0: IPv4, 1: IPv6] */
    uint64_t pause_until;
    uint64_t stats_at;
    uint64_t now;               /* time of the current receive pass */
    struct rprobe *held;        /* next to send, waiting for its path's pacing */
    vg_silent_set silent;       /* ports unanswered so far */
    uint64_t answered_at_sweep; /* ports answered when the last sweep began */
    bool sweeping;              /* the walk is done: re-probing the silent set */
};

static void count(uint64_t *c, uint64_t n)
{
    __atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* --- probe slots, retry queue, in-flight hash ------------------------------ */

static uint32_t probe_index(const struct rworker *rw, const struct rprobe *p)
{
    return (uint32_t)(p - rw->probes);
}

static uint32_t key_hash(const vg_addr *a, uint16_t port, uint8_t pt)
{
    return (uint32_t)vg_probe_key_hash(a, port, pt);
}

static bool key_eq(const struct rprobe *p, const vg_addr *a, uint16_t port, uint8_t pt)
{
    return p->port == port && p->pt == pt && p->addr.family == a->family &&
           memcmp(p->addr.a, a->a, 16) == 0;
}

static void table_insert(struct rworker *rw, struct rprobe *p)
{
    p->in_table = true;
    uint32_t b = key_hash(&p->addr, p->port, p->pt) & rw->bmask;
    p->hnext = rw->buckets[b];
    rw->buckets[b] = probe_index(rw, p);
}

static void table_remove(struct rworker *rw, struct rprobe *p)
{
    if(!p->in_table)
        return;
    p->in_table = false;
    uint32_t b = key_hash(&p->addr, p->port, p->pt) & rw->bmask;
    uint32_t *link = &rw->buckets[b];
    uint32_t me = probe_index(rw, p);
    while(*link != NIL) {
        if(*link == me) {
            *link = p->hnext;
            return;
        }
        link = &rw->probes[*link].hnext;
    }
}

static struct rprobe *table_find(struct rworker *rw, const vg_addr *a, uint16_t port, uint8_t pt)
{
    uint32_t i = rw->buckets[key_hash(a, port, pt) & rw->bmask];
    while(i != NIL) {
        struct rprobe *p = &rw->probes[i];
        if(key_eq(p, a, port, pt))
            return p;
        i = p->hnext;
    }
    return NULL;
}

static void retry_push(struct rworker *rw, struct rprobe *p)
{
    uint32_t i = probe_index(rw, p);
    p->next = NIL;
    p->state = P_RETRY;
    if(rw->retry_tail == NIL)
        rw->retry_head = i;
    else
        rw->probes[rw->retry_tail].next = i;
    rw->retry_tail = i;
}

static void probe_release(struct rworker *rw, struct rprobe *p)
{
    p->state = P_FREE;
    p->next = rw->free_head;
    rw->free_head = probe_index(rw, p);
    rw->active--;
    __atomic_sub_fetch(&rw->s->in_flight, 1, __ATOMIC_RELAXED);
}

/* The verdict for a probe: one result record, and the slot is free again
 * (or, while the probe sits in the retry queue, as soon as it leaves it).
 * Host discovery says which protocol answered and, on-link, the MAC. */
static void finish_ex(struct rworker *rw, struct rprobe *p, int state, int reason,
                      int64_t rtt_us, uint8_t proto, const uint8_t *mac)
{
    vg_result res = {
        .addr = p->addr,
        .port = p->port,
        .proto = proto,
        .state = (uint8_t)state,
        .reason = (uint8_t)reason,
        .tries = p->tries ? p->tries : 1,
        .rtt_us = rtt_us,
    };
    if(mac) {
        res.has_mac = 1;
        memcpy(res.mac, mac, 6);
    }
    if(rtt_us >= 0)
        scan_sample(rw->w, p->target_idx, rtt_us, p->tries);
    vg_timer_disarm(rw->w->loop, &p->timer);
    table_remove(rw, p);
    if(p->silent) {
        vg_silent_done(&rw->silent, &rw->silent.v[p->silent - 1]);
        p->silent = 0;
    }
    if(res.tries > rw->w->max_tries_used)
        rw->w->max_tries_used = res.tries;
    scan_emit(rw->w, &res);
    if(p->state == P_RETRY)
        p->state = P_ANSWERED_IN_RETRY;
    else
        probe_release(rw, p);
}

static void finish(struct rworker *rw, struct rprobe *p, int state, int reason,
                   int64_t rtt_us)
{
    uint8_t proto = p->pt == PT_PING ? 0 : rw->ctx->port[p->pt].type->proto;
    finish_ex(rw, p, state, reason, rtt_us, proto, NULL);
}

static struct rprobe *retry_pop(struct rworker *rw)
{
    while(rw->retry_head != NIL) {
        struct rprobe *p = &rw->probes[rw->retry_head];
        rw->retry_head = p->next;
        if(rw->retry_head == NIL)
            rw->retry_tail = NIL;
        if(p->state == P_ANSWERED_IN_RETRY) {
            probe_release(rw, p);
            continue;
        }
        return p;
    }
    return NULL;
}

static vg_path *path_of(struct rworker *rw, const struct rprobe *p)
{
    return &rw->w->paths[p->path];
}

static void answered(struct rworker *rw, struct rprobe *p, bool limitable);

/* Keeps an unanswered port in the silent set (its slot is free again);
 * it is reported at the end unless a late answer or a sweep finds it. */
static void park(struct rworker *rw, struct rprobe *p, bool no_more)
{
    vg_timer_disarm(rw->w->loop, &p->timer);
    table_remove(rw, p);
    if(p->silent) {
        vg_silent *e = &rw->silent.v[p->silent - 1];
        e->tries = p->tries;
        e->clean_losses = p->clean_losses;
        e->evidence = p->evidence;
        e->no_more |= no_more;
        vg_silent_repark(&rw->silent, e);
        p->silent = 0;
    }
    else {
        vg_silent e = {
            .addr = p->addr, .target_idx = p->target_idx, .port = p->port, .kind = p->pt,
            .tries = p->tries, .clean_losses = p->clean_losses, .evidence = p->evidence,
            .path = p->path,
            .no_more = no_more,
        };
        if(vg_silent_add(&rw->silent, &e) < 0) {
            /* Out of memory for the set: decide now. */
            finish(rw, p, p->pt == PT_UDP ? VG_STATE_OPEN_FILTERED : VG_STATE_FILTERED,
                   VG_REASON_NO_RESPONSE, -1);
            return;
        }
    }
    probe_release(rw, p);
}

static void on_timeout(vg_loop *loop, vg_timer *t)
{
    struct rprobe *p = (struct rprobe *)t;
    struct rworker *rw = p->rw;
    vg_rtt *r = scan_host(rw->w, p->target_idx);

    if(p->ll_seen) {
        /* Only the link layer answered within the grace: up all the same. */
        answered(rw, p, false);
        finish_ex(rw, p, VG_STATE_OPEN, p->ll_reason, p->ll_rtt_us, p->ll_proto,
                  p->ll_mac[0] | p->ll_mac[1] | p->ll_mac[2] | p->ll_mac[3] | p->ll_mac[4] |
                  p->ll_mac[5] ? p->ll_mac : NULL);
        return;
    }
    /* The deadline follows the host's latest estimate: a probe sent before
     * the host's first answer was armed at the floor and waits here for
     * what the estimate says by now. */
    uint64_t now = vg_now_us();
    uint64_t due = p->sent_us + scan_timeout_us(rw->w, p->target_idx);
    if(now < due) {
        vg_timer_arm(loop, t, due);
        return;
    }
    if(r)
        vg_rtt_timeout(r);
    vg_path *path = path_of(rw, p);
    bool clean;
    vg_evidence_add(&p->evidence, vg_path_timeout(path, now, p->round, p->sent_us, &clean));
    if(clean && p->clean_losses < UINT8_MAX)
        p->clean_losses++;
    /* During the walk a silent port gets the tries its path's loss calls
     * for; the sweeps at the end give it the last word. A try lost in a
     * congested round is partly the rate's fault: it counts for as much
     * as its round's loss says (the cap still counts every try). */
    bool want_more = p->evidence < scan_walk_tries(rw->w, path) * VG_EVIDENCE_TRY &&
                     p->tries < scan_max_tries(rw->w);
    bool expired = want_more && scan_host_expired(rw->w, p->target_idx, now);
    if(!rw->sweeping && want_more && !expired) {
        retry_push(rw, p);
        return;
    }
    park(rw, p, expired);
}

/* A reply for a port in the silent set: it counts, late as it is. */
static bool late_answer(struct rworker *rw, int pt, const vg_probe_reply *r, uint8_t proto,
                        const uint8_t *mac)
{
    vg_silent *e = vg_silent_find(&rw->silent, &r->target, r->tport, (uint8_t)pt);
    if(!e || e->state != SILENT_PARKED)
        return false;
    vg_result res = {
        .addr = e->addr,
        .port = e->port,
        .proto = proto,
        .state = r->state,
        .reason = r->reason,
        .tries = e->tries ? e->tries : 1,
        .rtt_us = -1,
    };
    if(mac) {
        res.has_mac = 1;
        memcpy(res.mac, mac, 6);
    }
    vg_path_port_answered(&rw->w->paths[e->path], e->clean_losses, r->state != VG_STATE_OPEN);
    rw->w->ports_answered++;
    rw->silent.answered_late++;
    vg_silent_done(&rw->silent, e);
    if(res.tries > rw->w->max_tries_used)
        rw->w->max_tries_used = res.tries;
    scan_emit(rw->w, &res);
    return true;
}

/* How the silent set's kinds are reported (indexed by PT_*). */
static const struct scan_silent_kind silent_kinds[PT__COUNT] = {
    [PT_TCP] = {.proto = IPPROTO_TCP, .tcp = true},
    [PT_UDP] = {.proto = IPPROTO_UDP, .udp = true},
    [PT_PING] = {.proto = 0},
};

/* --- sending ------------------------------------------------------------------ */

static int reason_from_errno(int err)
{
    switch(err) {
    case ENETUNREACH:
    case ENETDOWN:
        return VG_REASON_NET_UNREACH;
    case EACCES:
    case EPERM:
        return VG_REASON_ADMIN_PROHIBITED;
    default:
        return VG_REASON_HOST_UNREACH;
    }
}

/* Our source address for dst: -S, else what the kernel's routing picks. */
static int source_for(struct rworker *rw, const vg_addr *dst, vg_addr *src)
{
    const vg_addr *forced = &rw->s->opts.source;
    if(forced->family == dst->family) {
        *src = *forced;
        src->scope_id = 0;
        return 0;
    }
    struct route_entry *e = &rw->routes[key_hash(dst, 0, 0) & (ROUTE_CACHE - 1)];
    if(e->used && e->dst.family == dst->family && memcmp(e->dst.a, dst->a, 16) == 0 &&
       e->dst.scope_id == dst->scope_id) {
        *src = e->src;
        return e->err;
    }
    int fd = dst->family == AF_INET ? rw->res->rt4 : rw->res->rt6;
    e->used = true;
    e->dst = *dst;
    e->err = fd >= 0 ? raw_route_source(fd, dst, &e->src) : -EAFNOSUPPORT;
    *src = e->src;
    return e->err;
}

/* The source port of a probe's try (0 = the first): from the cookie, and
 * a different one for each try. A retry from the same port would meet the
 * target's half-open connection of the first try when our RST to its
 * SYN-ACK was lost, and Linux answers a repeated SYN there at most once
 * per tcp_invalid_ratelimit (500 ms): every retry within it unanswered. */
static uint16_t sport_in(uint32_t lo, uint32_t span, uint64_t h, unsigned try_no)
{
    uint32_t step = span > 1 ? 1 + (uint32_t)(h >> 16) % (span - 1) : 0;
    return (uint16_t)(lo + ((uint32_t)(h >> 32) + try_no * step) % span);
}

static uint16_t sport_for(const struct rworker *rw, uint64_t h, unsigned try_no)
{
    if(rw->s->opts.source_port)
        return rw->s->opts.source_port;
    return sport_in(rw->res->sport_lo, rw->res->sport_span, h, try_no);
}

/* Tries whose source port a reply may come to (see sport_for). */
#define SPORT_TRIES 16

/* Puts the unsent probes of a queue back for a later try (the kernel had
 * no room): not a try, not a verdict. */
static void unsend(struct rworker *rw, struct sendq *q, unsigned from)
{
    if(from < q->n)
        vg_path_local_drop(path_of(rw, &rw->probes[q->probe[from]]), vg_now_us());
    for(unsigned i = from; i < q->n; i++) {
        struct rprobe *p = &rw->probes[q->probe[i]];
        if(p->state != P_INFLIGHT)
            continue;
        vg_timer_disarm(rw->w->loop, &p->timer);
        p->tries--;
        retry_push(rw, p);
    }
}

static void flush_queue(struct rworker *rw, struct sendq *q)
{
    unsigned i = 0;

    while(i < q->n) {
        int r = sendmmsg(q->fd, q->msgs + i, q->n - i, MSG_DONTWAIT);
        if(r > 0) {
            i += (unsigned)r;
            __atomic_add_fetch(&rw->s->sent, (uint64_t)r, __ATOMIC_RELAXED);
            continue;
        }
        int err = r < 0 ? errno : EAGAIN;
        if(err == EINTR)
            continue;
        if(err == EAGAIN || err == ENOBUFS || err == ENOMEM) {
            unsend(rw, q, i);
            rw->pause_until = vg_now_us() + PAUSE_US;
            break;
        }
        /* This one probe was refused (a local firewall, no route): that is
         * its verdict, as the connect engine reports it. */
        struct rprobe *p = &rw->probes[q->probe[i]];
        count(&rw->ctx->send_errors, 1);
        __atomic_add_fetch(&rw->s->sent, 1, __ATOMIC_RELAXED);
        /* A host-discovery slot sends several packets; one refused is
         * not the host's verdict. */
        if(p->state == P_INFLIGHT && p->pt != PT_PING)
            finish(rw, p, VG_STATE_FILTERED, reason_from_errno(err), -1);
        i++;
    }
    q->n = 0;
}

/* The template of kind k (templates ts) for a probe from src on path
 * path to port dport; NULL when the kind has no packet for src's family. */
static const vg_tmpl *tmpl_for(const struct raw_kind *k, vg_tmpl *ts, unsigned path,
                               const vg_addr *src, uint16_t dport)
{
    const vg_probe_type *type = k->type;
    uint8_t v = type->variant ? type->variant(dport) : 0;
    vg_tmpl *t = &ts[path * type->variants + v];
    size_t alen = src->family == AF_INET ? 4 : 16;

    if(t->src.family != src->family || memcmp(t->src.a, src->a, alen) != 0) {
        if(!type->template_init(t, src, dport)) {
            /* Kept as "none for this source": len 0. */
            t->len = 0;
            t->src = *src;
        }
    }
    return t->len ? t : NULL;
}

/* Builds one packet of probe p from template t into its family's queue:
 * the cookie of (src, target, tport, proto) gives the sequence number (or
 * id) and the source port. to: where the packet goes (NULL: the target). */
static void queue_pkt(struct rworker *rw, struct rprobe *p, const vg_probe_type *type,
                      const vg_tmpl *t, const vg_addr *src, uint16_t tport, const uint8_t *mac,
                      const vg_addr *to)
{
    struct sendq *q = &rw->q[p->addr.family == AF_INET ? 0 : 1];
    if(q->n == RAW_BATCH)
        flush_queue(rw, q);
    uint64_t h = vg_cookie(&rw->ctx->key, src, &p->addr, tport, t->proto);
    vg_probe_args a = {
        .dst = &p->addr,
        .sport = sport_for(rw, h, p->tries < SPORT_TRIES ? p->tries : SPORT_TRIES - 1),
        .dport = tport,
        .cookie = (uint32_t)h,
        .ip_id = (uint16_t)(h >> 48),
        .src_mac = mac,
    };
    unsigned i = q->n;
    size_t len = type->build(t, &a, q->buf[i]);
    q->iov[i].iov_base = q->buf[i];
    q->iov[i].iov_len = len;
    socklen_t tolen = vg_addr_to_sockaddr(to ? to : &p->addr, 0, &q->to[i]);
    q->msgs[i].msg_hdr = (struct msghdr){
        .msg_name = &q->to[i], .msg_namelen = tolen,
        .msg_iov = &q->iov[i], .msg_iovlen = 1,
    };
    q->probe[i] = probe_index(rw, p);
    q->n++;
}

/* A discovery packet below IP (ARP), sent at once on the packet socket as
 * a link-layer broadcast on the target's segment. */
static void send_frame(struct rworker *rw, struct rprobe *p, const vg_probe_type *type,
                       const vg_tmpl *t, const struct raw_iface *f)
{
    uint8_t buf[VG_PROBE_MAX];
    vg_probe_args a = {.dst = &p->addr, .src_mac = f->mac};
    size_t len = type->build(t, &a, buf);
    struct sockaddr_ll to = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(type->ethertype),
        .sll_ifindex = f->ifindex,
        .sll_halen = 6,
        .sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    };
    if(sendto(rw->res->arp, buf, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
        count(&rw->ctx->send_errors, 1);
    else
        __atomic_add_fetch(&rw->s->sent, 1, __ATOMIC_RELAXED);
}

/* Host discovery: each of the plan's packets (by default ICMP echo, TCP
 * SYN to 443, TCP ACK to 80, and on an ethernet segment ARP for IPv4 or a
 * neighbour solicitation for IPv6). */
static unsigned send_ping(struct rworker *rw, struct rprobe *p, const vg_addr *src)
{
    const struct raw_iface *f = raw_iface_onlink(rw->ctx->ifs, rw->ctx->nifs, &p->addr);
    unsigned n = 0;

    for(unsigned i = 0; i < rw->ctx->ndisc; i++) {
        const struct raw_kind *k = &rw->ctx->disc[i];
        if(k->onlink && (!f || !f->ether))
            continue;
        const vg_tmpl *t = tmpl_for(k, rw->t_disc[i], p->path, src, k->port);
        if(!t)
            continue; /* no such packet for this family */
        if(k->type->ethertype) {
            if(rw->res->arp >= 0 && f) {
                send_frame(rw, p, k->type, t, f);
                n++;
            }
            continue;
        }
        vg_addr to;
        if(k->type->dest) {
            k->type->dest(&p->addr, &to);
            if(k->onlink)
                to.scope_id = (uint32_t)f->ifindex;
        }
        queue_pkt(rw, p, k->type, t, src, k->port, k->onlink ? f->mac : NULL,
                  k->type->dest ? &to : NULL);
        n++;
    }
    return n;
}

/* Queues the probe's packet(s) from src and arms its timeout. */
static void send_probe(struct rworker *rw, struct rprobe *p, uint64_t now, const vg_addr *src)
{
    if(p->pt == PT_PING) {
        /* --max-rate counts packets: the pacing let one through, the
         * others of the host's round are owed. */
        unsigned n = send_ping(rw, p, src);
        if(n > 1)
            scan_pace_owe(rw->w, n - 1);
    }
    else {
        const struct raw_kind *k = &rw->ctx->port[p->pt];
        const vg_tmpl *t = tmpl_for(k, rw->t_port[p->pt], p->path, src, p->port);
        if(t)
            queue_pkt(rw, p, k->type, t, src, p->port, NULL, NULL);
    }

    p->tries++;
    p->sent_us = now;
    p->state = P_INFLIGHT;
    p->round = vg_path_sent(path_of(rw, p), now, p->tries);
    if(!p->in_table)
        table_insert(rw, p);
    uint64_t wait = scan_timeout_us(rw->w, p->target_idx);
    if(!rw->w->lim.fixed_us && wait > rw->w->lim.min_us)
        wait = rw->w->lim.min_us; /* on_timeout() extends it if need be */
    vg_timer_arm(rw->w->loop, &p->timer, now + wait);
}

/* Where the probe leaves from, and so which path paces it; false when it
 * cannot be sent at all (no socket for its family, no route), and then it
 * has its verdict. */
static bool route_probe(struct rworker *rw, struct rprobe *p, vg_addr *src)
{
    int fam = p->addr.family == AF_INET ? 0 : 1;
    if(rw->q[fam].fd < 0) {
        p->tries++;
        finish(rw, p, VG_STATE_FILTERED, VG_REASON_NET_UNREACH, -1);
        return false;
    }
    int rc = source_for(rw, &p->addr, src);
    if(rc) {
        /* No route: the kernel would refuse the packet; say why now. */
        p->tries++;
        __atomic_add_fetch(&rw->s->sent, 1, __ATOMIC_RELAXED);
        finish(rw, p, VG_STATE_FILTERED, reason_from_errno(-rc), -1);
        return false;
    }
    vg_path *path = scan_path(rw->w, src);
    if(!path) {
        p->tries++;
        finish(rw, p, VG_STATE_FILTERED, VG_REASON_NONE, -1);
        return false;
    }
    p->path = (uint8_t)(path - rw->w->paths);
    return true;
}

/* The next probe: a retry first, then the walk. Takes a slot for new ones. */
static struct rprobe *next_probe(struct rworker *rw)
{
    struct rprobe *p = rw->held;
    if(p) {
        rw->held = NULL;
        if(p->state != P_ANSWERED_IN_RETRY)
            return p;
        probe_release(rw, p); /* answered while it waited */
    }
    p = retry_pop(rw);
    if(p)
        return p;
    if(rw->free_head == NIL)
        return NULL;
    if(rw->sweeping) {
        vg_silent *e = vg_silent_sweep_next(&rw->silent);
        /* --host-timeout: a host past it gets no more tries. */
        while(e && scan_host_expired(rw->w, e->target_idx, vg_now_us())) {
            e->no_more = true;
            vg_silent_repark(&rw->silent, e);
            e = vg_silent_sweep_next(&rw->silent);
        }
        if(!e)
            return NULL;
        p = &rw->probes[rw->free_head];
        rw->free_head = p->next;
        rw->active++;
        __atomic_add_fetch(&rw->s->in_flight, 1, __ATOMIC_RELAXED);
        p->target_idx = e->target_idx;
        p->addr = e->addr;
        p->port = e->port;
        p->pt = e->kind;
        p->tries = e->tries;
        p->clean_losses = e->clean_losses;
        p->evidence = e->evidence;
        p->path = e->path;
        p->silent = (uint32_t)(e - rw->silent.v) + 1;
        p->ll_seen = false;
        p->state = P_FREE;
        return p;
    }
    if(rw->exhausted)
        return NULL;
    p = &rw->probes[rw->free_head];
    /* Every element of the walk is one (target, port, protocol): -sS -sU
     * walks the TCP and the UDP entries of each target as elements of
     * their own, so they are spread over the scan like any other. Hosts
     * that discovery found down are walked past and counted. */
    const uint8_t *live = rw->ctx->live;
    uint8_t proto;
    uint64_t skipped = 0;
    for(;;) {
        if(!scan_next_probe_proto(rw->w, &p->target_idx, &p->addr, &p->port, &proto)) {
            rw->exhausted = true;
            break;
        }
        if(!live || (live[p->target_idx / 8] & (1u << (p->target_idx % 8))))
            break;
        skipped++;
    }
    if(skipped)
        count(&rw->s->skipped, skipped);
    if(rw->exhausted)
        return NULL;
    p->pt = rw->ctx->ping ? PT_PING : proto == IPPROTO_UDP ? PT_UDP : PT_TCP;
    if(p->pt == PT_PING)
        p->port = 0;
    rw->free_head = p->next;
    rw->active++;
    __atomic_add_fetch(&rw->s->in_flight, 1, __ATOMIC_RELAXED);
    p->tries = 0;
    p->clean_losses = 0;
    p->evidence = 0;
    p->silent = 0;
    p->ll_seen = false;
    p->state = P_FREE;
    return p;
}

static bool can_send(const struct rworker *rw)
{
    if(rw->held || rw->retry_head != NIL)
        return true;
    if(rw->free_head == NIL)
        return false;
    if(rw->sweeping)
        return rw->silent.cursor < rw->silent.len;
    return !rw->exhausted;
}

/* Sends what the window and the rate allow, a few batches at a time.
 * Returns how long the loop may sleep: 0 (more to send now), a number of
 * microseconds (the pacing or a pause), or -1 (until a reply or a
 * timeout). */
static int64_t fill(struct rworker *rw)
{
    uint64_t now = vg_now_us(), wait_us = 0;
    unsigned budget = RAW_BATCH * RAW_BATCHES_PER_TURN;
    int64_t ret = -1;

    for(unsigned i = 0; i < rw->w->npaths; i++)
        vg_path_tick(&rw->w->paths[i], now);
    scan_limit_tick(rw->w, now);
    if(now < rw->pause_until)
        return (int64_t)(rw->pause_until - now);
    while(budget && can_send(rw)) {
        struct rprobe *p = next_probe(rw);
        if(!p)
            break;
        vg_addr src;
        if(!route_probe(rw, p, &src))
            continue;
        if(!scan_pace(rw->w, path_of(rw, p), now, &wait_us)) {
            rw->held = p;
            ret = (int64_t)wait_us;
            break;
        }
        send_probe(rw, p, now, &src);
        budget--;
        if(now < rw->pause_until)
            break;
    }
    if(!budget && can_send(rw))
        ret = 0;
    for(int f = 0; f < 2; f++) {
        if(rw->q[f].n)
            flush_queue(rw, &rw->q[f]);
    }
    if(rw->pause_until > now)
        ret = (int64_t)(rw->pause_until - now);
    return ret;
}

/* --- receiving ---------------------------------------------------------------- */

static bool lport_mine(const struct rworker *rw, uint16_t lport)
{
    if(rw->s->opts.source_port)
        return lport == rw->s->opts.source_port;
    return lport >= rw->res->sport_lo && lport - rw->res->sport_lo < rw->res->sport_span;
}

/* Whether a reply that failed this scan's cookie answers a probe of the
 * host discovery that ran before it (vg_scan_follow_discovery()): both use
 * the same source ports, and this scan's capture is open while the
 * discovery's last answers (a SYN-ACK or RST from its SYN to port 443, and
 * their retransmissions) still arrive. Such a reply is a late answer to
 * our own probe, not a forgery. */
static bool answers_discovery(const struct raw_ctx *ctx, const vg_probe_reply *r, uint8_t proto)
{
    const struct raw_prior *d = &ctx->prior;
    if(!d->set)
        return false;
    uint32_t lo = d->source_port, span = 1;
    if(!d->source_port) {
        if(r->lport < RAW_SPORT_BASE || r->lport - RAW_SPORT_BASE >= d->nworkers * d->span)
            return false;
        /* The discovery worker whose range holds the port. */
        lo = RAW_SPORT_BASE + (r->lport - RAW_SPORT_BASE) / d->span * d->span;
        span = d->span;
    }
    uint64_t h = vg_cookie(&d->key, &r->local, &r->target, r->tport, proto);
    bool port_ok = false;
    for(unsigned t = 0; t < SPORT_TRIES && !port_ok; t++)
        port_ok = r->lport == sport_in(lo, span, h, t);
    return port_ok && !(r->has_echo && ((r->echo ^ (uint32_t)h) & r->echo_mask));
}

/* Checks what a reply claims against the cookie: 1 valid, 0 not this
 * worker's (another worker's source port), -1 forged or stale. */
static int check_cookie(struct rworker *rw, const vg_probe_reply *r, uint8_t proto)
{
    /* ICMP errors and echo replies reach every worker. */
    if(!lport_mine(rw, r->lport))
        return 0;
    uint64_t h = vg_cookie(&rw->ctx->key, &r->local, &r->target, r->tport, proto);
    bool port_ok = false;
    for(unsigned t = 0; t < SPORT_TRIES && !port_ok; t++)
        port_ok = r->lport == sport_for(rw, h, t);
    if(!port_ok || (r->has_echo && ((r->echo ^ (uint32_t)h) & r->echo_mask))) {
        if(answers_discovery(rw->ctx, r, proto))
            count(&rw->ctx->late, 1);
        else
            count(&rw->ctx->invalid, 1);
        return -1;
    }
    return 1;
}

static int64_t rtt_of(const struct rworker *rw, const struct rprobe *p)
{
    return rw->now > p->sent_us ? (int64_t)(rw->now - p->sent_us) : 0;
}

/* The target's link-layer address, when the reply shows it: ARP and ND
 * name it; otherwise the frame's sender is the target itself only when
 * the target is on an attached ethernet segment and sent the reply (not a
 * router's ICMP error). NULL when unknown. */
static const uint8_t *reply_mac(const struct rworker *rw, const vg_probe_reply *r,
                                const uint8_t *frame_mac)
{
    static const uint8_t zero[6];
    const uint8_t *mac = r->has_mac ? r->mac : NULL;
    if(!mac && frame_mac && memcmp(frame_mac, zero, 6)) {
        const struct raw_iface *f = raw_iface_onlink(rw->ctx->ifs, rw->ctx->nifs, &r->target);
        if(f && f->ether && !vg_addr_cmp(&r->from, &r->target))
            mac = frame_mac;
    }
    /* Our own addresses answer through loopback: no MAC to report. */
    for(unsigned i = 0; mac && i < rw->ctx->nifs; i++) {
        if(rw->ctx->ifs[i].addr.family == r->target.family &&
           !memcmp(rw->ctx->ifs[i].addr.a, r->target.a, 16))
            mac = NULL;
    }
    return mac;
}

/* Feeds an answer to the probe's path: its RTT, its round, and the
 * losses the port saw before it. limitable: a reset or ICMP error, which
 * targets may rate-limit. */
static void answered(struct rworker *rw, struct rprobe *p, bool limitable)
{
    vg_path *path = path_of(rw, p);
    scan_count_answer(rw->w, limitable);
    /* An answer sooner than half the path's minimum RTT after a retry
     * answers an earlier try: that try's timeout was not a loss. */
    if(p->tries > 1 && p->clean_losses && path->min_rtt_us > 0 &&
       rtt_of(rw, p) * 2 < path->min_rtt_us)
        p->clean_losses--;
    vg_path_answer(path, rw->now, p->round, p->tries, rtt_of(rw, p), limitable);
    vg_path_port_answered(path, p->clean_losses, limitable);
    rw->w->ports_answered++;
}

static void on_reply(struct rworker *rw, int pt, const vg_probe_reply *r,
                     const uint8_t *frame_mac)
{
    uint8_t proto = rw->ctx->port[pt].type->proto;
    if(check_cookie(rw, r, proto) <= 0)
        return;
    struct rprobe *p = table_find(rw, &r->target, r->tport, (uint8_t)pt);
    if(!p) {
        if(late_answer(rw, pt, r, proto, reply_mac(rw, r, frame_mac))) {
            count(&rw->ctx->replies, 1);
            return;
        }
        /* With a shared --source-port another worker may own it. */
        if(!rw->ctx->shared_sport)
            count(&rw->ctx->late, 1);
        return;
    }
    count(&rw->ctx->replies, 1);
    answered(rw, p, r->state != VG_STATE_OPEN);
    finish_ex(rw, p, r->state, r->reason, rtt_of(rw, p), proto, reply_mac(rw, r, frame_mac));
}

/* Host discovery: whatever answers first says the host is up. cookie:
 * whether the reply can be checked (ARP and ND cannot). */
static void on_ping_reply(struct rworker *rw, const vg_probe_reply *r, uint8_t proto,
                          bool cookie, const uint8_t *frame_mac)
{
    if(cookie && check_cookie(rw, r, proto) <= 0)
        return;
    struct rprobe *p = table_find(rw, &r->target, 0, PT_PING);
    if(!p) {
        vg_probe_reply up = *r;
        up.tport = 0;
        up.state = VG_STATE_OPEN;
        if(late_answer(rw, PT_PING, &up, proto, reply_mac(rw, r, frame_mac)))
            count(&rw->ctx->replies, 1);
        return; /* another worker's host, or already up */
    }
    count(&rw->ctx->replies, 1);
    const uint8_t *mac = reply_mac(rw, r, frame_mac);
    if(!cookie) {
        /* ARP or ND: the host is up, but an echo reply or a TCP answer
         * may be on its way and says more; wait a little for it. */
        if(p->ll_seen)
            return;
        p->ll_seen = true;
        p->ll_reason = (uint8_t)r->reason;
        p->ll_proto = proto;
        p->ll_rtt_us = rtt_of(rw, p);
        memset(p->ll_mac, 0, 6);
        if(mac)
            memcpy(p->ll_mac, mac, 6);
        vg_timer_arm(rw->w->loop, &p->timer, rw->now + LL_GRACE_US);
        return;
    }
    if(!mac && p->ll_seen)
        mac = p->ll_mac[0] | p->ll_mac[1] | p->ll_mac[2] | p->ll_mac[3] | p->ll_mac[4] |
              p->ll_mac[5] ? p->ll_mac : NULL;
    answered(rw, p, false);
    finish_ex(rw, p, VG_STATE_OPEN, r->reason, rtt_of(rw, p), proto, mac);
}

/* A discovery reply: the first of the plan's IP kinds that recognises
 * it as an answer from the port it probed. ICMP errors say nothing of the
 * host being up. */
static void on_ping_packet(struct rworker *rw, const vg_pkt *pkt, const uint8_t *mac)
{
    vg_probe_reply r;

    for(unsigned i = 0; i < rw->ctx->ndisc; i++) {
        const vg_probe_type *type = rw->ctx->disc[i].type;
        if(!type->classify || !type->classify(pkt, &r) || r.state == VG_STATE_FILTERED ||
           r.tport != rw->ctx->disc[i].port)
            continue;
        on_ping_reply(rw, &r, vg_probe_proto(type, pkt->ip.family), !type->cookieless, mac);
        return;
    }
}

static void on_packet(const uint8_t *data, size_t len, const uint8_t *mac, uint64_t at_us,
                      void *ud)
{
    struct rworker *rw = ud;
    vg_pkt pkt;
    vg_probe_reply r;

    /* The answer's time is its arrival, not the drain's. */
    rw->now = at_us;

    if(!vg_pkt_parse(data, len, &pkt))
        return;
    if(rw->ctx->ping) {
        on_ping_packet(rw, &pkt, mac);
        return;
    }
    for(int pt = 0; pt < PT_PING; pt++) {
        const vg_probe_type *type = rw->ctx->port[pt].type;
        if(type && type->classify(&pkt, &r)) {
            on_reply(rw, pt, &r, mac);
            return;
        }
    }
}

/* Link-layer replies (ARP) of host discovery, from the worker's packet
 * socket. */
static void drain_arp(struct rworker *rw)
{
    uint8_t buf[128];
    vg_probe_reply r;

    for(int i = 0; i < 256; i++) {
        ssize_t n = recv(rw->res->arp, buf, sizeof(buf), MSG_DONTWAIT);
        if(n < 0)
            return;
        for(unsigned k = 0; k < rw->ctx->ndisc; k++) {
            const vg_probe_type *type = rw->ctx->disc[k].type;
            if(type->classify_frame && type->classify_frame(buf, (size_t)n, &r)) {
                on_ping_reply(rw, &r, vg_probe_proto(type, AF_INET), !type->cookieless, NULL);
                break;
            }
        }
    }
}

static void drain(struct rworker *rw)
{
    raw_cap_drain(&rw->res->cap, on_packet, rw);
    rw->now = vg_now_us();
    if(rw->res->arp >= 0)
        drain_arp(rw);
    if(rw->now - rw->stats_at >= STATS_EVERY_US) {
        uint64_t before = rw->res->cap.drops;
        raw_cap_stats(&rw->res->cap);
        uint64_t dropped = rw->res->cap.drops - before;
        count(&rw->ctx->cap_drops, dropped);
        for(unsigned i = 0; dropped && i < rw->w->npaths; i++)
            vg_path_cap_drop(&rw->w->paths[i], rw->now, dropped);
        rw->stats_at = rw->now;
    }
}

static void on_arp(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct rworker *rw = ud;
    rw->now = vg_now_us();
    drain_arp(rw);
}

static void on_capture(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    (void)loop;
    (void)fd;
    (void)events;
    drain(ud);
}

/* --- the worker ----------------------------------------------------------------- */

/* A kind's templates, one per path and variant, none built yet. */
static vg_tmpl *tmpl_alloc(const vg_probe_type *type)
{
    return vg_calloc((size_t)SCAN_MAX_PATHS * type->variants, sizeof(vg_tmpl));
}

static int raw_worker_run(struct scan_worker *w)
{
    vg_scan *s = w->scan;
    struct raw_ctx *ctx = s->engine_ctx;
    struct rworker *rw = vg_calloc(1, sizeof(*rw));
    int rc = VG_OK;

    if(!rw)
        return vg_error_set(&w->err, VG_ENOMEM, "out of memory");
    rw->w = w;
    rw->s = s;
    rw->ctx = ctx;
    rw->res = &ctx->res[w->id];
    rw->retry_head = rw->retry_tail = NIL;
    vg_silent_init(&rw->silent);
    rw->n = w->concurrency ? w->concurrency : 1;
    uint32_t nb = 1;
    while(nb < rw->n * 2)
        nb <<= 1;
    rw->bmask = nb - 1;
    rw->probes = vg_calloc(rw->n, sizeof(*rw->probes));
    rw->buckets = vg_malloc(nb * sizeof(*rw->buckets));
    rw->routes = vg_calloc(ROUTE_CACHE, sizeof(*rw->routes));
    /* One timer per probe slot: with room for them all, arming a probe's
     * timeout cannot fail in the middle of the scan. */
    if(!rw->probes || !rw->buckets || !rw->routes ||
       vg_loop_reserve_timers(w->loop, rw->n) < 0) {
        rc = vg_error_set(&w->err, VG_ENOMEM, "out of memory for %u probe slots", rw->n);
        goto out;
    }
    memset(rw->buckets, 0xff, nb * sizeof(*rw->buckets));
    for(unsigned i = 0; i < rw->n; i++) {
        struct rprobe *p = &rw->probes[i];
        vg_timer_init(&p->timer, on_timeout);
        p->rw = rw;
        p->next = i + 1 < rw->n ? i + 1 : NIL;
    }
    rw->free_head = 0;
    for(int pt = 0; pt < PT_PING; pt++) {
        if(ctx->port[pt].type && !(rw->t_port[pt] = tmpl_alloc(ctx->port[pt].type))) {
            rc = vg_error_set(&w->err, VG_ENOMEM, "out of memory for probe templates");
            goto out;
        }
    }
    for(unsigned i = 0; i < ctx->ndisc; i++) {
        if(!(rw->t_disc[i] = tmpl_alloc(ctx->disc[i].type))) {
            rc = vg_error_set(&w->err, VG_ENOMEM, "out of memory for probe templates");
            goto out;
        }
    }
    rw->q[0].fd = rw->res->fd4;
    rw->q[1].fd = rw->res->fd6;
    rw->stats_at = vg_now_us();

    int wrc = vg_loop_watch(w->loop, rw->res->cap.fd, EPOLLIN, on_capture, rw);
    if(!wrc && rw->res->arp >= 0)
        wrc = vg_loop_watch(w->loop, rw->res->arp, EPOLLIN, on_arp, rw);
    if(wrc < 0) {
        rc = vg_error_set(&w->err, VG_ESYS, "cannot watch the capture socket: %s", strerror(-wrc));
        goto out;
    }
    while(!scan_stopping(s)) {
        int64_t wait = fill(rw);
        drain(rw);
        if(!rw->active && rw->exhausted && rw->retry_head == NIL && !rw->held &&
           (!rw->sweeping || rw->silent.cursor >= rw->silent.len)) {
            if(scan_sweep_begin(w, &rw->silent, &rw->answered_at_sweep)) {
                rw->sweeping = true;
                continue;
            }
            scan_report_silent(w, &rw->silent, silent_kinds, PT__COUNT);
            break;
        }
        if(wait < 0 || wait > STOP_CHECK_MS * 1000)
            wait = STOP_CHECK_MS * 1000;
        int n = vg_loop_run_once_us(w->loop, wait);
        if(n < 0) {
            rc = vg_error_set(&w->err, VG_ESYS, "epoll_wait: %s", strerror(-n));
            break;
        }
        scan_flush(w);
    }
    vg_loop_unwatch(w->loop, rw->res->cap.fd, 1);
    if(rw->res->arp >= 0)
        vg_loop_unwatch(w->loop, rw->res->arp, 1);
    /* Stopped or done: abandon whatever is still in flight. */
    for(unsigned i = 0; i < rw->n; i++)
        vg_timer_disarm(w->loop, &rw->probes[i].timer);
    raw_cap_stats(&rw->res->cap);
out:
    vg_silent_free(&rw->silent);
    for(int pt = 0; pt < PT_PING; pt++)
        free(rw->t_port[pt]);
    for(unsigned i = 0; i < ctx->ndisc; i++)
        free(rw->t_disc[i]);
    free(rw->probes);
    free(rw->buckets);
    free(rw->routes);
    free(rw);
    return rc;
}

/* --- prepare / cleanup ---------------------------------------------------------- */

/* What the rings caught while discovery ran is not this scan's: it would
 * count as capture drops, which lower the rate. Every ring is emptied
 * before any worker sends: a reply may reach any worker's ring. */
static void raw_begin(vg_scan *s)
{
    struct raw_ctx *ctx = s->engine_ctx;
    for(unsigned i = 0; ctx && i < ctx->nworkers; i++)
        raw_cap_flush(&ctx->res[i].cap);
}

static void raw_cleanup(vg_scan *s)
{
    struct raw_ctx *ctx = s->engine_ctx;
    if(!ctx)
        return;
    /* The packet sockets (capture, ARP) each wait for the kernel on
     * close: they go all at once. */
    int *slow = vg_calloc(2 * (size_t)ctx->nworkers + 1, sizeof(*slow));
    size_t nslow = 0;
    for(unsigned i = 0; i < ctx->nworkers; i++) {
        struct raw_wres *r = &ctx->res[i];
        int fds[] = {r->fd4, r->fd6, r->rt4, r->rt6};
        for(size_t j = 0; j < sizeof(fds) / sizeof(fds[0]); j++) {
            if(fds[j] >= 0)
                close(fds[j]);
        }
        int cap = raw_cap_release(&r->cap);
        if(slow) {
            slow[nslow++] = r->arp;
            slow[nslow++] = cap;
        }
        else {
            if(r->arp >= 0)
                close(r->arp);
            if(cap >= 0)
                close(cap);
        }
    }
    if(slow)
        vg_close_parallel(slow, nslow);
    free(slow);
    free(ctx->res);
    free(ctx->ifs);
    free(ctx);
    s->engine_ctx = NULL;
}

/* The probe called name, from the registry. */
static int kind_load(struct raw_kind *k, const char *name, uint16_t port, bool onlink,
                     vg_error *err)
{
    k->type = vg_probe_find(name);
    k->port = port;
    k->onlink = onlink;
    if(!k->type)
        return vg_error_set(err, VG_EINVAL, "no probe called %s", name);
    /* Port probes go out on the raw IP sockets and match IP replies. */
    if(!k->type->classify && !k->type->classify_frame)
        return vg_error_set(err, VG_EINVAL, "probe %s recognises no reply", name);
    return VG_OK;
}

/* Looks the plan's probes up in the registry. */
static int plan_load(struct raw_ctx *ctx, const struct raw_plan *plan, vg_error *err)
{
    int rc = VG_OK;

    if(plan->tcp)
        rc = kind_load(&ctx->port[PT_TCP], plan->tcp, 0, false, err);
    if(!rc && plan->udp)
        rc = kind_load(&ctx->port[PT_UDP], plan->udp, 0, false, err);
    for(unsigned i = 0; !rc && plan->discovery && plan->discovery[i].probe; i++) {
        const struct raw_send *d = &plan->discovery[i];
        if(i == RAW_MAX_KINDS)
            return vg_error_set(err, VG_EINVAL, "host discovery sends more than %d kinds",
                                RAW_MAX_KINDS);
        rc = kind_load(&ctx->disc[i], d->probe, d->port, d->onlink, err);
        ctx->ndisc = i + 1;
    }
    for(int pt = 0; !rc && pt < PT_PING; pt++) {
        const vg_probe_type *type = ctx->port[pt].type;
        if(type && (type->ethertype || !type->classify))
            rc = vg_error_set(err, VG_EINVAL, "probe %s cannot probe ports", type->name);
    }
    ctx->tcp = ctx->port[PT_TCP].type != NULL;
    ctx->udp = ctx->port[PT_UDP].type != NULL;
    ctx->ping = plan->discovery != NULL;
    for(unsigned i = 0; i < ctx->ndisc; i++)
        ctx->frames |= ctx->disc[i].type->ethertype != 0;
    return rc;
}

static int raw_prepare(vg_scan *s, vg_error *err)
{
    struct raw_ctx *ctx;
    uint8_t key[16];
    vg_addr first, last;
    int ifindex = 0, rc = VG_OK;
    char expr[512];

    if(s->engine_ctx)
        return VG_OK; /* vg_scan_prepare() already did it */
    if(s->opts.iface) {
        ifindex = (int)if_nametoindex(s->opts.iface);
        if(!ifindex)
            return vg_error_set(err, VG_EINVAL, "-e %s: no such interface", s->opts.iface);
    }
    ctx = vg_calloc(1, sizeof(*ctx));
    if(!ctx)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    s->engine_ctx = ctx;
    /* The cookie key is secret and fresh for every scan: replies cannot be
     * forged by someone who saw an earlier scan. */
    if(getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
        rc = vg_error_set(err, VG_ESYS, "getrandom: %s", strerror(errno));
        goto fail;
    }
    vg_cookie_key_from_bytes(&ctx->key, key);
    rc = plan_load(ctx, s->engine_data, err);
    if(rc)
        goto fail;
    /* Each entry of the walk needs a probe (discovery's slots are hosts). */
    if(!ctx->ping && ((s->n_tcp && !ctx->tcp) || (s->n_udp && !ctx->udp))) {
        rc = vg_error_set(err, VG_EINVAL, "the %s scan has no probe for its %s ports",
                          s->engine_name, s->n_tcp && !ctx->tcp ? "TCP" : "UDP");
        goto fail;
    }
    ctx->shared_sport = s->opts.source_port != 0;
    rc = raw_ifaces_load(&ctx->ifs, &ctx->nifs, err);
    if(rc)
        goto fail;
    /* Targets are sorted, IPv4 first: the ends tell which families occur. */
    vg_targets_get(s->targets, 0, &first);
    vg_targets_get(s->targets, vg_targets_count(s->targets) - 1, &last);
    ctx->have_v4 = first.family == AF_INET;
    ctx->have_v6 = last.family == AF_INET6;
    ctx->nworkers = s->nthreads;
    ctx->res = vg_calloc(ctx->nworkers, sizeof(*ctx->res));
    if(!ctx->res) {
        rc = vg_error_set(err, VG_ENOMEM, "out of memory");
        goto fail;
    }
    for(unsigned i = 0; i < ctx->nworkers; i++) {
        struct raw_wres *r = &ctx->res[i];
        r->fd4 = r->fd6 = r->rt4 = r->rt6 = r->arp = r->cap.fd = -1;
    }
    unsigned span = RAW_SPORT_SPAN / ctx->nworkers;
    if(span < 1)
        span = 1;
    for(unsigned i = 0; i < ctx->nworkers; i++) {
        struct raw_wres *r = &ctx->res[i];
        if(ctx->have_v4) {
            r->fd4 = rc = raw_send_socket(AF_INET, s->opts.iface, err);
            if(rc < 0)
                goto fail;
            r->rt4 = rc = raw_route_socket(AF_INET, s->opts.iface, err);
            if(rc < 0)
                goto fail;
        }
        if(ctx->have_v6) {
            r->fd6 = rc = raw_send_socket(AF_INET6, s->opts.iface, err);
            if(rc < 0)
                goto fail;
            r->rt6 = rc = raw_route_socket(AF_INET6, s->opts.iface, err);
            if(rc < 0)
                goto fail;
        }
        r->sport_lo = (uint16_t)(RAW_SPORT_BASE + i * span);
        r->sport_span = (uint16_t)span;
        const char *l4 = ctx->tcp && ctx->udp ? "(tcp or udp)" : ctx->udp ? "udp" : "tcp";
        if(s->opts.source_port)
            snprintf(expr, sizeof(expr), "(%s and dst port %u)", l4, s->opts.source_port);
        else
            snprintf(expr, sizeof(expr), "(%s and dst portrange %u-%u)", l4, r->sport_lo,
                     r->sport_lo + r->sport_span - 1);
        /* ICMP errors for port scans; echo replies and neighbour
         * advertisements for host discovery. */
        size_t el = strlen(expr);
        if(ctx->have_v4)
            el += (size_t)snprintf(expr + el, sizeof(expr) - el, ctx->ping
                                   ? " or (icmp and icmp[0] = 0)"
                                   : " or (icmp and (icmp[0] = 3 or icmp[0] = 11))");
        if(ctx->have_v6 && el < sizeof(expr))
            snprintf(expr + el, sizeof(expr) - el, ctx->ping
                     ? " or (icmp6 and (ip6[40] = 129 or ip6[40] = 136))"
                     : " or (icmp6 and (ip6[40] = 1 or ip6[40] = 3))");
        rc = raw_cap_open(&r->cap, ifindex, expr, err);
        if(rc)
            goto fail;
        if(ctx->frames && ctx->have_v4) {
            r->arp = rc = raw_arp_socket(ifindex, err);
            if(rc < 0)
                goto fail;
        }
    }
    return VG_OK;
fail:
    raw_cleanup(s);
    return rc < 0 ? rc : VG_ESYS;
}

/* One engine for every raw scan kind: what it sends (SYN, UDP, both,
 * host discovery) is the struct raw_plan that scan.c's table gives it. */
const struct scan_engine scan_engine_raw = {
    .name = "raw",
    .prepare = raw_prepare,
    .begin = raw_begin,
    .worker_run = raw_worker_run,
    .cleanup = raw_cleanup,
};

static bool is_raw(const vg_scan *s)
{
    return s->engine == &scan_engine_raw;
}

int vg_scan_set_live(vg_scan *s, const uint8_t *live, vg_error *err)
{
    if(!is_raw(s))
        return vg_error_set(err, VG_EINVAL, "only raw scans can skip hosts");
    if(!s->engine_ctx)
        return vg_error_set(err, VG_EINVAL, "vg_scan_set_live() before vg_scan_prepare()");
    if(s->started)
        return vg_error_set(err, VG_EINVAL, "vg_scan_set_live() after vg_scan_start()");
    ((struct raw_ctx *)s->engine_ctx)->live = live;
    return VG_OK;
}

int vg_scan_follow_discovery(vg_scan *s, const vg_scan *discovery, vg_error *err)
{
    if(!is_raw(s) || !is_raw(discovery))
        return vg_error_set(err, VG_EINVAL, "only raw scans share source ports");
    if(!s->engine_ctx || !discovery->engine_ctx)
        return vg_error_set(err, VG_EINVAL, "vg_scan_follow_discovery() before vg_scan_prepare()");
    struct raw_ctx *ctx = s->engine_ctx;
    const struct raw_ctx *d = discovery->engine_ctx;
    /* A copy: the discovery scan may be freed first. */
    ctx->prior.set = true;
    ctx->prior.key = d->key;
    ctx->prior.nworkers = d->nworkers;
    ctx->prior.span = d->res[0].sport_span;
    ctx->prior.source_port = discovery->opts.source_port;
    return VG_OK;
}

void vg_scan_get_raw_stats(vg_scan *s, vg_raw_stats *st)
{
    memset(st, 0, sizeof(*st));
    if(!is_raw(s) || !s->engine_ctx)
        return;
    struct raw_ctx *k = s->engine_ctx;
    st->replies = __atomic_load_n(&k->replies, __ATOMIC_RELAXED);
    st->invalid = __atomic_load_n(&k->invalid, __ATOMIC_RELAXED);
    st->late = __atomic_load_n(&k->late, __ATOMIC_RELAXED);
    st->cap_drops = __atomic_load_n(&k->cap_drops, __ATOMIC_RELAXED);
    st->send_errors = __atomic_load_n(&k->send_errors, __ATOMIC_RELAXED);
}

void vg_scan_probe_at_proto(const vg_scan *s, uint64_t i, vg_addr *addr, uint16_t *port,
                            uint8_t *proto)
{
    uint32_t scount = s->opts.shard_count > 1 ? s->opts.shard_count : 1;
    uint32_t sidx = scount > 1 ? s->opts.shard_index : 0;
    uint64_t pos = sidx + i * scount;
    uint64_t elem = vg_perm_at(&s->perm, pos);
    vg_targets_get(s->targets, elem / s->n_ports, addr);
    scan_port_at(s, elem % s->n_ports, port, proto);
}

void vg_scan_probe_at(const vg_scan *s, uint64_t i, vg_addr *addr, uint16_t *port)
{
    uint8_t proto;
    vg_scan_probe_at_proto(s, i, addr, port, &proto);
}

void vg_scan_port_counts(const vg_scan *s, uint64_t *tcp, uint64_t *udp)
{
    *tcp = s->n_tcp;
    *udp = s->n_udp;
}
