/* SPDX-License-Identifier: MIT */
/* The connect engine (-sT): one non-blocking connect() per probe on the
 * worker's epoll loop. Needs no privileges. The kernel does the handshake;
 * we read the verdict from the socket (and, for ICMP errors, from its error
 * queue, which names the exact ICMP message).
 *
 * Each probe slot keeps its socket between probes: after a verdict the
 * socket is dissolved with connect(AF_UNSPEC) (which also sends the RST that
 * ends an open connection, so no TIME_WAIT) and connected to the next target.
 * That saves the socket(), setsockopt(), epoll_ctl() and close() of a fresh
 * socket per probe - most of the kernel's cost on a fast path. The socket is
 * watched edge-triggered, so an idle one (in CLOSE state, which polls as
 * HUP) does not wake the loop. */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/scan_internal.h"
#include "engine/silent.h"
#include "probe/packet.h"
#include "util/alloc.h"

#define NIL UINT32_MAX
#define STOP_CHECK_MS 100
#define PAUSE_US 10000 /* back-off after a local resource shortage */
#define INITIAL_WINDOW 64

struct cworker;

struct probe {
    vg_timer timer; /* first: a timer pointer is a probe pointer */
    struct cworker *cw;
    int fd;         /* the slot's socket, kept between probes; -1: none */
    uint8_t family; /* of fd */
    bool busy;      /* a connect is in progress on fd */
    uint8_t tries;  /* probes sent so far */
    uint8_t clean_losses; /* tries unanswered on a clean path */
    uint8_t path;   /* index of the worker's path controller */
    uint16_t evidence; /* of silence so far (path.h: vg_path_timeout) */
    uint16_t port;
    uint32_t next;  /* free list / retry queue link */
    uint32_t round; /* the path controller's round of the last try */
    uint32_t silent;/* index + 1 in the silent set when re-probed from it */
    uint64_t target_idx;
    uint64_t sent_us;
    vg_addr addr;
};

struct cworker {
    struct scan_worker *w;
    struct probe *probes;
    unsigned n;
    uint32_t free_head;
    uint32_t retry_head, retry_tail;
    unsigned active;       /* probes holding a slot */
    unsigned limit;        /* the window: slots we allow ourselves now */
    unsigned ceiling;      /* the window's maximum, lowered on shortages */
    uint64_t pause_until;
    bool exhausted;        /* the walk has no more positions */
    int fatal;             /* a vg_rc that ends the worker */
    struct probe *held;    /* next to launch, waiting for its path's pacing */
    vg_silent_set silent;  /* ports unanswered so far */
    uint64_t answered_at_sweep;
    bool sweeping;         /* the walk is done: re-probing the silent set */
};

enum launch_rc { LAUNCH_OK, LAUNCH_DEFER, LAUNCH_FATAL };

static void on_io(vg_loop *loop, int fd, uint32_t events, void *ud);
static void on_timeout(vg_loop *loop, vg_timer *t);
static void park(struct cworker *cw, struct probe *p, bool no_more);

static uint32_t probe_index(const struct cworker *cw, const struct probe *p)
{
    return (uint32_t)(p - cw->probes);
}

static void retry_push(struct cworker *cw, struct probe *p)
{
    uint32_t i = probe_index(cw, p);
    p->next = NIL;
    if(cw->retry_tail == NIL)
        cw->retry_head = i;
    else
        cw->probes[cw->retry_tail].next = i;
    cw->retry_tail = i;
}

static struct probe *retry_pop(struct cworker *cw)
{
    if(cw->retry_head == NIL)
        return NULL;
    struct probe *p = &cw->probes[cw->retry_head];
    cw->retry_head = p->next;
    if(cw->retry_head == NIL)
        cw->retry_tail = NIL;
    return p;
}

/* Closes the slot's socket for good. */
static void sock_drop(struct cworker *cw, struct probe *p)
{
    if(p->fd < 0)
        return;
    vg_loop_unwatch(cw->w->loop, p->fd, 0);
    /* An abortive close: SO_LINGER 0 sends RST and skips TIME_WAIT. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(p->fd);
    p->fd = -1;
}

/* Ends the probe's connection attempt and readies the socket for the next
 * one: connect(AF_UNSPEC) aborts a pending handshake or resets an
 * established connection. When that fails the socket is closed. */
static void sock_reset(struct cworker *cw, struct probe *p)
{
    vg_timer_disarm(cw->w->loop, &p->timer);
    p->busy = false;
    if(p->fd < 0)
        return;
    struct sockaddr sa = {.sa_family = AF_UNSPEC};
    if(connect(p->fd, &sa, sizeof(sa)) < 0)
        sock_drop(cw, p);
}

static void probe_release(struct cworker *cw, struct probe *p)
{
    p->next = cw->free_head;
    cw->free_head = probe_index(cw, p);
    cw->active--;
    __atomic_sub_fetch(&cw->w->scan->in_flight, 1, __ATOMIC_RELAXED);
}

static vg_path *path_of(struct cworker *cw, const struct probe *p)
{
    return &cw->w->paths[p->path];
}

static void finish(struct cworker *cw, struct probe *p, int state, int reason,
                   int64_t rtt_us)
{
    if(rtt_us >= 0 && reason != VG_REASON_NO_RESPONSE) {
        /* An answer: it measures the path. */
        vg_path *path = path_of(cw, p);
        scan_count_answer(cw->w, state != VG_STATE_OPEN);
        /* Sooner than half the minimum RTT after a retry: it answers an
         * earlier try, whose timeout was no loss. */
        if(p->tries > 1 && p->clean_losses && path->min_rtt_us > 0 && rtt_us * 2 < path->min_rtt_us)
            p->clean_losses--;
        vg_path_answer(path, vg_now_us(), p->round, p->tries, rtt_us,
                       state != VG_STATE_OPEN);
        vg_path_port_answered(path, p->clean_losses, state != VG_STATE_OPEN);
        cw->w->ports_answered++;
    }
    if(p->silent) {
        vg_silent_done(&cw->silent, &cw->silent.v[p->silent - 1]);
        p->silent = 0;
    }
    if(p->tries > cw->w->max_tries_used)
        cw->w->max_tries_used = p->tries;
    vg_result res = {
        .addr = p->addr,
        .port = p->port,
        .proto = IPPROTO_TCP,
        .state = (uint8_t)state,
        .reason = (uint8_t)reason,
        .tries = p->tries,
        .rtt_us = rtt_us,
    };
    if(rtt_us >= 0)
        scan_sample(cw->w, p->target_idx, rtt_us, p->tries);
    sock_reset(cw, p);
    scan_emit(cw->w, &res);
    probe_release(cw, p);
}

/* Keeps an unanswered port in the silent set; the slot is free again. */
static void park(struct cworker *cw, struct probe *p, bool no_more)
{
    if(p->silent) {
        vg_silent *e = &cw->silent.v[p->silent - 1];
        e->tries = p->tries;
        e->clean_losses = p->clean_losses;
        e->evidence = p->evidence;
        e->no_more |= no_more;
        vg_silent_repark(&cw->silent, e);
        p->silent = 0;
    }
    else {
        vg_silent e = {
            .addr = p->addr, .target_idx = p->target_idx, .port = p->port,
            .kind = 0, .tries = p->tries, .clean_losses = p->clean_losses,
            .evidence = p->evidence, .path = p->path, .no_more = no_more,
        };
        if(vg_silent_add(&cw->silent, &e) < 0) {
            finish(cw, p, VG_STATE_FILTERED, VG_REASON_NO_RESPONSE, -1);
            return;
        }
    }
    probe_release(cw, p);
}

/* Puts a probe back for a later launch because of a local shortage
 * (EMFILE, EADDRNOTAVAIL, ...): not a port state, and not a try. */
static void defer(struct cworker *cw, struct probe *p)
{
    sock_reset(cw, p);
    retry_push(cw, p);
    __atomic_add_fetch(&cw->w->scan->deferred, 1, __ATOMIC_RELAXED);
    unsigned in_flight = cw->active > 16 ? cw->active - 1 : 16;
    if(cw->limit > in_flight)
        cw->limit = in_flight;
    if(cw->ceiling > in_flight)
        cw->ceiling = in_flight;
    cw->pause_until = vg_now_us() + PAUSE_US;
}

/* The reason an ICMP message in a socket's error queue stands for; the
 * mapping is the raw engine's (vg_icmp_reason), so both engines agree. */
static int reason_from_icmp(const struct sock_extended_err *ee)
{
    if(ee->ee_origin == SO_EE_ORIGIN_ICMP)
        return vg_icmp_reason(AF_INET, ee->ee_type, ee->ee_code);
    if(ee->ee_origin == SO_EE_ORIGIN_ICMP6)
        return vg_icmp_reason(AF_INET6, ee->ee_type, ee->ee_code);
    return VG_REASON_NONE;
}

/* The ICMP message behind a connect error, from the socket's error queue
 * (IP_RECVERR); VG_REASON_NONE when the error did not come from ICMP. */
static int icmp_reason(int fd)
{
    char cbuf[512];
    char data[64];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
    };
    int reason = VG_REASON_NONE;

    /* Drain the queue: a leftover entry would poll as an error on the
     * socket's next probe. The first ICMP message is the answer. */
    for(int i = 0; i < 8; i++) {
        msg.msg_controllen = sizeof(cbuf);
        if(recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        for(struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
               (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
                struct sock_extended_err ee;
                memcpy(&ee, CMSG_DATA(c), sizeof(ee));
                if(reason == VG_REASON_NONE)
                    reason = reason_from_icmp(&ee);
            }
        }
    }
    return reason;
}

/* Maps a connect error to a port state; false when the error is local and
 * the probe should be deferred instead. */
static bool classify_error(int fd, int err, int *state, int *reason)
{
    int icmp;

    switch(err) {
    case ECONNREFUSED:
        /* A RST, or an ICMP port unreachable (a reject rule): only the
         * error queue tells them apart. */
        icmp = fd >= 0 ? icmp_reason(fd) : VG_REASON_NONE;
        if(icmp != VG_REASON_NONE) {
            *state = VG_STATE_FILTERED;
            *reason = icmp;
        }
        else {
            *state = VG_STATE_CLOSED;
            *reason = VG_REASON_CONN_REFUSED;
        }
        return true;
    case ECONNRESET:
        *state = VG_STATE_CLOSED;
        *reason = VG_REASON_RESET;
        return true;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EACCES:
    case EPERM:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EPROTO:
        icmp = fd >= 0 ? icmp_reason(fd) : VG_REASON_NONE;
        *state = VG_STATE_FILTERED;
        if(icmp != VG_REASON_NONE)
            *reason = icmp;
        else if(err == ENETUNREACH)
            *reason = VG_REASON_NET_UNREACH;
        else if(err == EACCES || err == EPERM)
            *reason = VG_REASON_ADMIN_PROHIBITED;
        else if(err == ENOPROTOOPT || err == EPROTO)
            *reason = VG_REASON_PROTO_UNREACH;
        else
            *reason = VG_REASON_HOST_UNREACH;
        return true;
    case ETIMEDOUT:
        *state = VG_STATE_FILTERED;
        *reason = VG_REASON_NO_RESPONSE;
        return true;
    default:
        /* EADDRNOTAVAIL, EAGAIN, ENOBUFS, ENOMEM, EMFILE, ...: local. */
        return false;
    }
}

enum conn_status { CONN_UP, CONN_SELF, CONN_NOT_UP };

/* Whether the handshake really completed. A socket whose connect failed
 * polls writable too (a closed TCP socket does), and its error may already
 * be gone: reading the error queue clears it. Only a connected socket has a
 * peer. CONN_SELF: the kernel connected the socket to itself (connecting to
 * a free loopback port inside the ephemeral range can pick that very port
 * as the source, a TCP simultaneous open); nothing listens there. */
static enum conn_status conn_status(int fd)
{
    struct sockaddr_storage a, b;
    socklen_t la = sizeof(a), lb = sizeof(b);
    if(getpeername(fd, (struct sockaddr *)&b, &lb) < 0)
        return CONN_NOT_UP;
    if(getsockname(fd, (struct sockaddr *)&a, &la) < 0)
        return CONN_UP;
    return la == lb && memcmp(&a, &b, la) == 0 ? CONN_SELF : CONN_UP;
}

/* An ICMP error for this connection, read from the error queue while the
 * socket reports no error: the kernel queues the message before it fails
 * the connect, so a reader on another CPU can see the entry first (and
 * reading it clears the error the kernel sets just after). The message
 * quotes our SYN, so it is the answer. */
static bool icmp_answer(struct cworker *cw, struct probe *p, uint64_t now)
{
    int icmp = icmp_reason(p->fd);
    if(icmp == VG_REASON_NONE)
        return false;
    finish(cw, p, VG_STATE_FILTERED, icmp, (int64_t)(now - p->sent_us));
    return true;
}

static void connected(struct cworker *cw, struct probe *p, uint64_t now)
{
    switch(conn_status(p->fd)) {
    case CONN_SELF:
        /* Not evidence of anything: try again from another source port. */
        p->tries--;
        defer(cw, p);
        return;
    case CONN_NOT_UP:
        /* Still connecting, or failed with its error already read: an
         * ICMP message may still be queued; otherwise the timer decides. */
        icmp_answer(cw, p, now);
        return;
    case CONN_UP:
        break;
    }
    finish(cw, p, VG_STATE_OPEN, VG_REASON_SYN_ACK, (int64_t)(now - p->sent_us));
}

static void on_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    struct probe *p = ud;
    struct cworker *cw = p->cw;
    uint64_t now = vg_now_us();
    int err = 0, state, reason;
    socklen_t len = sizeof(err);

    (void)loop;
    if(!p->busy)
        return; /* an idle socket; edge-triggered, so rare */
    if(!(events & (EPOLLERR | EPOLLHUP)) && (events & EPOLLOUT)) {
        connected(cw, p, now);
        return;
    }
    if(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if(!err && (events & EPOLLOUT)) {
        connected(cw, p, now);
        return;
    }
    if(!err) {
        /* An error-queue entry, with the socket's error not (or no
         * longer) set. */
        icmp_answer(cw, p, now);
        return;
    }
    if(classify_error(fd, err, &state, &reason))
        finish(cw, p, state, reason, (int64_t)(now - p->sent_us));
    else {
        p->tries--;
        defer(cw, p);
    }
}

static void on_timeout(vg_loop *loop, vg_timer *t)
{
    struct probe *p = (struct probe *)t;
    struct cworker *cw = p->cw;
    vg_rtt *r = scan_host(cw->w, p->target_idx);

    /* The deadline follows the host's latest estimate: a probe sent before
     * the host's first answer was armed early and is re-armed here. */
    uint64_t due = p->sent_us + scan_timeout_us(cw->w, p->target_idx);
    if(vg_now_us() < due) {
        vg_timer_arm(loop, t, due);
        return;
    }
    /* The answer may be waiting in epoll's ready list behind a big batch
     * of other events (only when the last wait filled its batch): then
     * ask the socket itself before calling it lost. A poll() on every
     * silent try would be 6% of the CPU of a /16 scanned on one port. */
    if(p->fd >= 0 && vg_loop_backlogged(loop)) {
        struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
        if(poll(&pfd, 1, 0) == 1 && pfd.revents) {
            uint32_t ev = (pfd.revents & POLLOUT ? EPOLLOUT : 0) |
                          (pfd.revents & POLLERR ? EPOLLERR : 0) |
                          (pfd.revents & POLLHUP ? EPOLLHUP : 0);
            on_io(loop, p->fd, ev, p);
            if(!p->busy)
                return;
        }
    }
    if(r)
        vg_rtt_timeout(r);
    sock_reset(cw, p);
    vg_path *path = path_of(cw, p);
    bool clean;
    vg_evidence_add(&p->evidence, vg_path_timeout(path, vg_now_us(), p->round, p->sent_us, &clean));
    if(clean && p->clean_losses < UINT8_MAX)
        p->clean_losses++;
    /* During the walk a silent port gets the tries its path's loss calls
     * for; the sweeps at the end give it the last word. A try lost in a
     * congested round counts for as much as its round's loss says. */
    bool want_more = p->evidence < scan_walk_tries(cw->w, path) * VG_EVIDENCE_TRY &&
                     p->tries < scan_max_tries(cw->w);
    bool expired = want_more && scan_host_expired(cw->w, p->target_idx, vg_now_us());
    if(!cw->sweeping && want_more && !expired) {
        retry_push(cw, p);
        return;
    }
    park(cw, p, expired);
}

/* The silent set holds TCP ports only. */
static const struct scan_silent_kind silent_kinds[1] = {{.proto = IPPROTO_TCP, .tcp = true}};

static enum launch_rc launch(struct cworker *cw, struct probe *p)
{
    struct scan_worker *w = cw->w;
    struct sockaddr_storage ss;
    socklen_t sslen = vg_addr_to_sockaddr(&p->addr, p->port, &ss);
    int on = 1, rc, err, state, reason;
    int fam = p->addr.family == AF_INET ? AF_INET : AF_INET6;

    if(p->fd >= 0 && p->family != fam)
        sock_drop(cw, p);
    if(p->fd < 0) {
        p->fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if(p->fd < 0) {
            err = errno;
            if(err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                defer(cw, p);
                return LAUNCH_DEFER;
            }
            w->rc = vg_error_set(&w->err, VG_ESYS, "socket: %s", strerror(err));
            w->err.sys_errno = err;
            return LAUNCH_FATAL;
        }
        p->family = (uint8_t)fam;
        /* Bind a source port once: the socket keeps it across probes, so
         * connect() skips the kernel's search for a free ephemeral port.
         * The 4-tuple stays unique because each probe's destination
         * differs. Best effort: unbound sockets work too. */
        struct sockaddr_storage any;
        memset(&any, 0, sizeof(any));
        any.ss_family = (sa_family_t)fam;
        bind(p->fd, (struct sockaddr *)&any,
             fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
        /* Queue ICMP errors so an unreachable can be named precisely. */
        if(fam == AF_INET)
            setsockopt(p->fd, SOL_IP, IP_RECVERR, &on, sizeof(on));
        else
            setsockopt(p->fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof(on));
        rc = vg_loop_watch(w->loop, p->fd, EPOLLOUT | EPOLLET, on_io, p);
        if(rc < 0) {
            close(p->fd);
            p->fd = -1;
            defer(cw, p);
            return LAUNCH_DEFER;
        }
    }

    p->tries++;
    p->busy = true;
    p->sent_us = vg_now_us();
    p->round = vg_path_sent(path_of(cw, p), p->sent_us, p->tries);
    __atomic_add_fetch(&w->scan->sent, 1, __ATOMIC_RELAXED);
    rc = connect(p->fd, (struct sockaddr *)&ss, sslen);
    err = rc < 0 ? errno : 0;
    if(rc == 0) {
        connected(cw, p, vg_now_us());
        return LAUNCH_OK;
    }
    if(err == EINPROGRESS) {
        /* First look at the floor; on_timeout() moves the deadline to what
         * the host's RTT estimate says by then. */
        uint64_t wait = scan_timeout_us(w, p->target_idx);
        if(!w->lim.fixed_us && wait > w->lim.min_us)
            wait = w->lim.min_us;
        vg_timer_arm(w->loop, &p->timer, p->sent_us + wait);
        return LAUNCH_OK;
    }
    if(classify_error(p->fd, err, &state, &reason)) {
        finish(cw, p, state, reason, (int64_t)(vg_now_us() - p->sent_us));
        return LAUNCH_OK;
    }
    p->tries--;
    defer(cw, p);
    return LAUNCH_DEFER;
}

/* The next probe to launch: a retry first, then a new position of the walk.
 * Takes a slot for new probes. */
static struct probe *next_probe(struct cworker *cw)
{
    struct probe *p = cw->held;
    if(p) {
        cw->held = NULL;
        return p;
    }
    p = retry_pop(cw);
    if(p)
        return p;
    if(cw->free_head == NIL)
        return NULL;
    if(cw->sweeping) {
        vg_silent *e = vg_silent_sweep_next(&cw->silent);
        /* --host-timeout: a host past it gets no more tries. */
        while(e && scan_host_expired(cw->w, e->target_idx, vg_now_us())) {
            e->no_more = true;
            vg_silent_repark(&cw->silent, e);
            e = vg_silent_sweep_next(&cw->silent);
        }
        if(!e)
            return NULL;
        p = &cw->probes[cw->free_head];
        p->target_idx = e->target_idx;
        p->addr = e->addr;
        p->port = e->port;
        p->tries = e->tries;
        p->clean_losses = e->clean_losses;
        p->evidence = e->evidence;
        p->path = e->path;
        p->silent = (uint32_t)(e - cw->silent.v) + 1;
    }
    else {
        if(cw->exhausted)
            return NULL;
        p = &cw->probes[cw->free_head];
        if(!scan_next_probe(cw->w, &p->target_idx, &p->addr, &p->port)) {
            cw->exhausted = true;
            return NULL;
        }
        p->tries = 0;
        p->clean_losses = 0;
        p->evidence = 0;
        p->silent = 0;
        vg_addr any = {.family = p->addr.family};
        vg_path *path = scan_path(cw->w, &any);
        if(!path) {
            cw->fatal = vg_error_set(&cw->w->err, VG_ENOMEM, "out of memory");
            cw->w->rc = cw->fatal;
            return NULL;
        }
        p->path = (uint8_t)(path - cw->w->paths);
    }
    cw->free_head = p->next;
    cw->active++;
    __atomic_add_fetch(&cw->w->scan->in_flight, 1, __ATOMIC_RELAXED);
    return p;
}

static bool has_work(const struct cworker *cw)
{
    if(cw->held || cw->retry_head != NIL)
        return true;
    if(cw->free_head == NIL)
        return false;
    if(cw->sweeping)
        return cw->silent.cursor < cw->silent.len;
    return !cw->exhausted;
}

/* Launches as many probes as the slot limit and the rate allow; returns how
 * long the loop may sleep (microseconds, -1 for "until an event"). */
static int64_t fill(struct cworker *cw)
{
    uint64_t now = vg_now_us();
    uint64_t wait_us = 0;

    for(unsigned i = 0; i < cw->w->npaths; i++)
        vg_path_tick(&cw->w->paths[i], now);
    scan_limit_tick(cw->w, now);
    if(now < cw->pause_until)
        return (int64_t)(cw->pause_until - now);
    while(has_work(cw)) {
        if(!cw->held && cw->retry_head == NIL && cw->active >= cw->limit)
            break;
        struct probe *p = next_probe(cw);
        if(!p)
            break;
        if(!scan_pace(cw->w, path_of(cw, p), now, &wait_us)) {
            cw->held = p;
            return (int64_t)wait_us;
        }
        enum launch_rc rc = launch(cw, p);
        if(rc == LAUNCH_FATAL) {
            cw->fatal = VG_ESYS;
            return 0;
        }
        if(rc == LAUNCH_DEFER)
            return PAUSE_US;
    }
    return -1;
}

static int connect_worker_run(struct scan_worker *w)
{
    struct cworker cw = {.w = w, .retry_head = NIL, .retry_tail = NIL};
    int rc = VG_OK;

    vg_silent_init(&cw.silent);
    cw.n = w->concurrency ? w->concurrency : 1;
    cw.ceiling = cw.n;
    /* The window starts small and doubles whenever the worker sat idle with
     * a full window (waiting on the network, not on the CPU). On a fast
     * path it stays small, which keeps the kernel's connection tables
     * short and the measured RTTs honest; on slow or filtered paths it
     * grows to the ceiling within a second. */
    cw.limit = cw.n < INITIAL_WINDOW ? cw.n : INITIAL_WINDOW;
    cw.probes = vg_calloc(cw.n, sizeof(*cw.probes));
    /* One timer per probe slot: with room for them all, arming a probe's
     * timeout cannot fail in the middle of the scan. */
    if(!cw.probes || vg_loop_reserve_timers(w->loop, cw.n) < 0) {
        free(cw.probes);
        return vg_error_set(&w->err, VG_ENOMEM, "out of memory for %u probe slots", cw.n);
    }
    for(unsigned i = 0; i < cw.n; i++) {
        struct probe *p = &cw.probes[i];
        vg_timer_init(&p->timer, on_timeout);
        p->cw = &cw;
        p->fd = -1;
        p->next = i + 1 < cw.n ? i + 1 : NIL;
    }
    cw.free_head = 0;

    while(!scan_stopping(w->scan)) {
        int64_t wait = fill(&cw);
        if(cw.fatal) {
            rc = w->rc;
            break;
        }
        if(!cw.active && cw.exhausted && cw.retry_head == NIL && !cw.held &&
           (!cw.sweeping || cw.silent.cursor >= cw.silent.len)) {
            if(scan_sweep_begin(w, &cw.silent, &cw.answered_at_sweep)) {
                cw.sweeping = true;
                continue;
            }
            scan_report_silent(w, &cw.silent, silent_kinds, 1);
            break;
        }
        if(wait < 0 || wait > STOP_CHECK_MS * 1000)
            wait = STOP_CHECK_MS * 1000;
        bool window_full = cw.active >= cw.limit && has_work(&cw);
        int n = vg_loop_run_once_us(w->loop, wait);
        if(n < 0) {
            rc = vg_error_set(&w->err, VG_ESYS, "epoll_wait: %s", strerror(-n));
            break;
        }
        if(n == 0 && window_full && cw.limit < cw.ceiling)
            cw.limit = cw.limit * 2 < cw.ceiling ? cw.limit * 2 : cw.ceiling;
        scan_flush(w);
    }
    /* Stopped or done: abandon whatever is still in flight. */
    for(unsigned i = 0; i < cw.n; i++) {
        vg_timer_disarm(w->loop, &cw.probes[i].timer);
        sock_drop(&cw, &cw.probes[i]);
    }
    vg_silent_free(&cw.silent);
    free(cw.probes);
    return rc;
}

const struct scan_engine scan_engine_connect = {
    .name = "connect",
    .worker_run = connect_worker_run,
};
