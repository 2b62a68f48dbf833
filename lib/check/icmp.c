/* SPDX-License-Identifier: MIT */
/* icmp://host: --count echo requests, --ping-interval apart, and the loss
 * and round-trip times of their replies. Unprivileged ping sockets
 * (SOCK_DGRAM + IPPROTO_ICMP/ICMPV6) are used where the kernel allows them
 * (net.ipv4.ping_group_range holds our group), raw sockets otherwise. For
 * this kind the "total" phase is the average round-trip time, so --warn and
 * --crit limit the RTT; --warn-loss/--crit-loss limit the loss. */
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "check/check_parse.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/checksum.h"

#define ICMP_MAX_COUNT 100
#define ICMP_PAYLOAD 24
#define ICMP_TAIL_WAIT_US 2000000u  /* wait for late replies after the last request (a first
                                     * IPv6 neighbour discovery alone can take 1 s) */

struct icmp_ctx {
    vg_check *ck;
    int fd;
    bool raw;
    bool v6;
    uint16_t id;                /* raw sockets: ours; ping sockets: the kernel's */
    unsigned count, sent, received;
    uint64_t sent_at[ICMP_MAX_COUNT];
    bool got[ICMP_MAX_COUNT];
    int64_t rtt_sum, rtt_min, rtt_max;
    vg_timer send_timer;        /* next request, then the end of the tail wait */
    bool finished;
};

static const check_wrong_kind icmp_wrong_kind[] = {
    {"send", "--send/--expect do not apply to icmp://"},
    {"expect", "--send/--expect do not apply to icmp://"},
    {NULL, NULL},
};

static int icmp_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->icmp_count < 1 || o->icmp_count > ICMP_MAX_COUNT)
        return vg_error_set(err, VG_EINVAL, "--count: expected 1 to %d", ICMP_MAX_COUNT);
    return VG_OK;
}

static void icmp_finish(struct icmp_ctx *c)
{
    vg_check *ck = c->ck;
    const vg_check_opts *o = ck->opts;
    vg_check_result *r = &ck->run->res;
    char where[160], a[32], b[32], m[32];
    unsigned loss;

    if(c->finished)
        return;
    c->finished = true;
    check_where(ck, where, sizeof(where));
    if(ck->tgt.port == 0) {
        /* "host port 0" reads oddly for ICMP: just the address. */
        char *p = strstr(where, " port ");
        if(p)
            *p = '\0';
    }
    r->icmp_sent = c->sent;
    r->icmp_received = c->received;
    r->icmp_raw = c->raw;
    loss = c->sent ? (c->sent - c->received) * 100u / c->sent : 100u;
    if(c->received) {
        r->rtt_min_us = c->rtt_min;
        r->rtt_max_us = c->rtt_max;
        r->rtt_avg_us = c->rtt_sum / c->received;
        r->phase_us[VG_PHASE_TOTAL] = r->rtt_avg_us;
        r->phase_us[VG_PHASE_FIRSTBYTE] = -1;
        check_summary(ck, "%s answered %u of %u echo requests (%u%% loss), rtt min/avg/max %s/%s/%s", where,
                      c->received, c->sent, loss, check_fmt_us(r->rtt_min_us, a, sizeof(a)),
                      check_fmt_us(r->rtt_avg_us, m, sizeof(m)), check_fmt_us(r->rtt_max_us, b, sizeof(b)));
    }
    else {
        r->rtt_min_us = r->rtt_avg_us = r->rtt_max_us = -1;
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PACKET_LOSS,
                      "no echo replies from %s to %u requests (100%% loss: not reachable, or it drops ICMP echo)",
                      where, c->sent);
    }
    if(c->received && o->crit_loss_pct >= 0 && loss > (unsigned)o->crit_loss_pct)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PACKET_LOSS, "%u%% packet loss (critical above %d%%)", loss,
                      o->crit_loss_pct);
    else if(c->received && o->warn_loss_pct >= 0 && loss > (unsigned)o->warn_loss_pct)
        check_finding(ck, VG_CHECK_WARNING, VG_CR_PACKET_LOSS, "%u%% packet loss (warning above %d%%)", loss,
                      o->warn_loss_pct);
    check_attempt_done(ck);
}

static void icmp_send_one(struct icmp_ctx *c)
{
    uint8_t pkt[8 + ICMP_PAYLOAD];
    uint16_t seq = (uint16_t)c->sent;
    vg_wr w;
    vg_wr_init_fixed(&w, pkt, sizeof(pkt));
    vg_wr_u8(&w, c->v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO);
    vg_wr_u8(&w, 0);            /* code */
    vg_wr_be16(&w, 0);          /* checksum, below */
    vg_wr_be16(&w, c->id);
    vg_wr_be16(&w, seq);
    vg_wr_bytes(&w, "vigia check icmp echo..", ICMP_PAYLOAD - 1);
    vg_wr_zeros(&w, 1);
    if(!c->v6)
        vg_put_be16(pkt + 2, vg_csum_finish(vg_csum_add(0, pkt, sizeof(pkt))));
    /* ICMPv6: the kernel computes the checksum (it covers a pseudo-header). */
    c->sent_at[c->sent] = vg_now_us();
    c->sent++;
    /* A failed send (unreachable, no buffer) is a lost request. */
    (void)send(c->fd, pkt, sizeof(pkt), MSG_DONTWAIT);
}

static void icmp_timer(vg_loop *loop, vg_timer *t)
{
    struct icmp_ctx *c = (struct icmp_ctx *)((char *)t - offsetof(struct icmp_ctx, send_timer));
    uint64_t now = vg_now_us();
    if(c->sent < c->count) {
        icmp_send_one(c);
        if(c->sent < c->count)
            vg_timer_arm(loop, t, now + (uint64_t)c->ck->opts->icmp_interval_ms * 1000u);
        else
            vg_timer_arm(loop, t, now + ICMP_TAIL_WAIT_US);
        return;
    }
    icmp_finish(c);
}

bool icmp_parse_echo_reply(const uint8_t *p, size_t n, bool raw, bool v6, uint16_t *id, uint16_t *seq)
{
    vg_rd r;
    uint8_t type, code;
    uint16_t i, s;
    vg_rd_init(&r, p, n);
    /* Raw IPv4 sockets deliver the IP header too. */
    if(raw && !v6) {
        uint8_t b0;
        size_t ihl;
        if(n < 20 || !vg_rd_peek_u8(&r, &b0))
            return false;
        ihl = (size_t)(b0 & 0x0f) * 4;
        if(ihl < 20 || !vg_rd_skip(&r, ihl))
            return false;
    }
    if(!vg_rd_u8(&r, &type) || !vg_rd_u8(&r, &code) || !vg_rd_skip(&r, 2) || !vg_rd_be16(&r, &i) ||
       !vg_rd_be16(&r, &s))
        return false;
    if(type != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) || code != 0)
        return false;
    *id = i;
    *seq = s;
    return true;
}

static void icmp_reply(struct icmp_ctx *c, const uint8_t *p, size_t n, uint64_t now)
{
    uint16_t id, seq;
    if(!icmp_parse_echo_reply(p, n, c->raw, c->v6, &id, &seq))
        return;
    if(c->raw && id != c->id)
        return; /* another process' or check's ping */
    if(seq >= c->sent || c->got[seq])
        return; /* unknown or duplicate */
    c->got[seq] = true;
    c->received++;
    {
        int64_t rtt = (int64_t)(now - c->sent_at[seq]);
        if(c->received == 1 || rtt < c->rtt_min)
            c->rtt_min = rtt;
        if(rtt > c->rtt_max)
            c->rtt_max = rtt;
        c->rtt_sum += rtt;
    }
}

static void icmp_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    struct icmp_ctx *c = ud;
    uint8_t buf[1500];
    (void)loop;
    (void)fd;
    for(int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if(n < 0) {
            if(errno == EAGAIN || errno == EINTR)
                break;
            /* An ICMP error for a connected socket: a lost request. Drain
             * the error queue so EPOLLERR does not fire forever. */
            uint8_t cb[256];
            struct msghdr mh;
            memset(&mh, 0, sizeof(mh));
            mh.msg_control = cb;
            mh.msg_controllen = sizeof(cb);
            (void)recvmsg(c->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
            continue;
        }
        icmp_reply(c, buf, (size_t)n, vg_now_us());
    }
    (void)events;
    if(c->sent == c->count && c->received == c->sent)
        icmp_finish(c);
}

static int icmp_open_socket(struct icmp_ctx *c, int family, vg_error *why)
{
    int proto = family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    int e;
    c->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if(c->fd >= 0)
        return 0;
    e = errno;
    c->fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if(c->fd >= 0) {
        c->raw = true;
        if(family == AF_INET6) {
            struct icmp6_filter f;
            ICMP6_FILTER_SETBLOCKALL(&f);
            ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
            setsockopt(c->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
        }
        else {
            /* Linux ICMP_FILTER: a bit set blocks that type; pass echo replies only. */
            struct icmp_filter f = {.data = ~(1u << ICMP_ECHOREPLY)};
            setsockopt(c->fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
        }
        return 0;
    }
    if(why)
        why->sys_errno = check_errno_is_fd_shortage(e) ? e : errno;
    vg_error_set(why, VG_ESYS,
                 "neither a ping socket (%s; see net.ipv4.ping_group_range) nor a raw socket (%s; needs CAP_NET_RAW) "
                 "can be opened",
                 strerror(e), strerror(errno));
    return -1;
}

static int icmp_start(vg_check *ck)
{
    struct icmp_ctx *c = vg_calloc(1, sizeof(*c));
    struct sockaddr_storage ss;
    socklen_t sl;
    vg_error err = {0};
    vg_loop *loop = check_loop(ck);

    if(!c) {
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        check_attempt_done(ck);
        return -1;
    }
    ck->kctx = c;
    c->ck = ck;
    c->fd = -1;
    c->v6 = ck->addr.family == AF_INET6;
    c->count = ck->opts->icmp_count ? ck->opts->icmp_count : 5;
    if(c->count > ICMP_MAX_COUNT)
        c->count = ICMP_MAX_COUNT;
    /* Tells our raw-socket echoes apart from other checks' and processes'. */
    c->id = (uint16_t)(((uintptr_t)c >> 4) ^ (uintptr_t)getpid() ^ (vg_now_us() & 0xffff));
    vg_timer_init(&c->send_timer, icmp_timer);
    if(icmp_open_socket(c, ck->addr.family, &err)) {
        if(check_errno_is_fd_shortage(err.sys_errno)) {
            check_fd_shortage(ck);
            return -1;
        }
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_CONFIG_ERROR, "cannot send ICMP echo requests: %s", err.msg);
        check_attempt_done(ck);
        return -1;
    }
    sl = vg_addr_to_sockaddr(&ck->addr, 0, &ss);
    /* Connected: the kernel drops replies from other hosts. */
    if(connect(c->fd, (struct sockaddr *)&ss, sl) < 0) {
        int e = errno;
        char where[160];
        check_where(ck, where, sizeof(where));
        check_finding(ck, VG_CHECK_CRITICAL, check_errno_reason(e, true), "cannot reach %s: %s", where,
                      strerror(e));
        check_attempt_done(ck);
        return -1;
    }
    if(vg_loop_watch(loop, c->fd, EPOLLIN, icmp_io, c) < 0) {
        check_fd_shortage(ck); /* a descriptor beyond the loop's table */
        return -1;
    }
    icmp_send_one(c);
    vg_timer_arm(loop, &c->send_timer,
                 vg_now_us() + (c->count > 1 ? (uint64_t)ck->opts->icmp_interval_ms * 1000u : ICMP_TAIL_WAIT_US));
    return 0;
}

static void icmp_timeout(vg_check *ck)
{
    /* The check's budget is spent: judge what came back. */
    icmp_finish(ck->kctx);
}

static void icmp_release(vg_check *ck)
{
    struct icmp_ctx *c = ck->kctx;
    if(!c)
        return;
    ck->kctx = NULL;
    vg_timer_disarm(check_loop(ck), &c->send_timer);
    if(c->fd >= 0) {
        vg_loop_unwatch(check_loop(ck), c->fd, 1);
        close(c->fd);
    }
    free(c);
}

const vg_check_type vg_check_icmp = {
    .name = "icmp",
    .label = "ICMP",
    .detail = VG_REC_DETAIL_ICMP,
    .default_port = 0,
    .tls = false,
    .kind = VG_KIND_ICMP,
    .fds = CHECK_FDS_STREAM,
    .wrong_kind = icmp_wrong_kind,
    .validate = icmp_validate,
    .start = icmp_start,
    .on_timeout = icmp_timeout,
    .release = icmp_release,
};
