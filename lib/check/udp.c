/* SPDX-License-Identifier: MIT */
/* udp://host:port: send one datagram (--send, or an empty one) on a
 * connected UDP socket and wait for an answer that matches --expect (any
 * answer without it). IP_RECVERR/IPV6_RECVERR put ICMP errors on the
 * socket's error queue, so "ICMP port unreachable" is reported as
 * port-unreach (nothing listens) rather than as silence. */
#include <errno.h>
#include <time.h> /* before linux/errqueue.h, which uses struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "check/check_parse.h"
#include "util/alloc.h"

#define UDP_MAX_DGRAM 65536

struct udp_ctx {
    vg_check *ck;
    int fd;
    regex_t re;
    bool have_re;
    uint8_t *buf;               /* one datagram (+1 for a NUL) */
    uint64_t sent_us;
    unsigned ndgrams;
    steps_run *steps;           /* --step script, or NULL */
};

/* --step: sends the datagrams of the send steps up to the next expect.
 * Returns 0, or -1 after ending the attempt. */
static int udp_step_sends(struct udp_ctx *u)
{
    const uint8_t *d;
    size_t len;
    while(steps_next_send(u->steps, &d, &len)) {
        if(send(u->fd, d, len, 0) < 0 && errno != EAGAIN) {
            char where[160];
            check_where(u->ck, where, sizeof(where));
            check_finding(u->ck, VG_CHECK_CRITICAL, check_errno_reason(errno, false), "cannot send to %s: %s",
                          where, strerror(errno));
            check_attempt_done(u->ck);
            return -1;
        }
    }
    return 0;
}

static void udp_steps_ok(struct udp_ctx *u)
{
    char where[160];
    check_where(u->ck, where, sizeof(where));
    check_summary(u->ck, "%s: all steps passed (%u datagrams received); the last match: \"%s\"", where, u->ndgrams,
                  u->ck->run->res.banner);
    check_attempt_done(u->ck);
}

static int udp_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->send_len > UDP_MAX_DGRAM - 8 - 40)
        return vg_error_set(err, VG_EINVAL, "--send: too long for one UDP datagram");
    if(o->expect) {
        regex_t re;
        int rc = sendexpect_compile(&re, o->expect, "--expect", err);
        if(rc)
            return rc;
        regfree(&re);
    }
    return VG_OK;
}

int udp_errqueue_reason(struct msghdr *mh, const char **what)
{
    int reason = -1;
    *what = NULL;
    for(struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        struct sock_extended_err ee;
        size_t room = (size_t)((const uint8_t *)mh->msg_control + mh->msg_controllen - (const uint8_t *)c);
        /* CMSG_NXTHDR keeps later headers inside the buffer, but nothing
         * checks the first one's cmsg_len against it: a header claiming
         * more than the buffer holds (a truncated control buffer) ends the
         * walk instead of being read past the end. */
        if(c->cmsg_len > room)
            break;
        if(!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
             (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
            continue;
        if(c->cmsg_len < CMSG_LEN(sizeof(ee)))
            continue;
        memcpy(&ee, CMSG_DATA(c), sizeof(ee));
        if(ee.ee_origin == SO_EE_ORIGIN_ICMP) {
            if(ee.ee_type == 3 && ee.ee_code == 3)
                reason = VG_CR_PORT_UNREACH, *what = "ICMP port unreachable";
            else if(ee.ee_type == 3 && ee.ee_code == 0)
                reason = VG_CR_NET_UNREACH, *what = "ICMP network unreachable";
            else if(ee.ee_type == 3)
                reason = VG_CR_HOST_UNREACH, *what = "ICMP host unreachable or prohibited";
            else
                reason = VG_CR_CONN_ERROR, *what = "ICMP error";
        }
        else if(ee.ee_origin == SO_EE_ORIGIN_ICMP6) {
            if(ee.ee_type == 1 && ee.ee_code == 4)
                reason = VG_CR_PORT_UNREACH, *what = "ICMPv6 port unreachable";
            else if(ee.ee_type == 1 && ee.ee_code == 0)
                reason = VG_CR_NET_UNREACH, *what = "ICMPv6 no route";
            else if(ee.ee_type == 1)
                reason = VG_CR_HOST_UNREACH, *what = "ICMPv6 destination unreachable or prohibited";
            else
                reason = VG_CR_CONN_ERROR, *what = "ICMPv6 error";
        }
        else if(ee.ee_errno == ECONNREFUSED)
            reason = VG_CR_PORT_UNREACH, *what = "port unreachable";
    }
    return reason;
}

/* Reads one ICMP error from the error queue: the reason, and a text. */
static int udp_icmp_error(struct udp_ctx *u, const char **what)
{
    uint8_t cbuf[512], dbuf[64];
    struct iovec iov = {dbuf, sizeof(dbuf)};
    struct msghdr mh;

    *what = NULL;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof(cbuf);
    if(recvmsg(u->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
        return -1;
    return udp_errqueue_reason(&mh, what);
}

static void udp_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    struct udp_ctx *u = ud;
    vg_check *ck = u->ck;
    char where[160], t[32];
    (void)loop;
    (void)fd;
    (void)events;
    check_where(ck, where, sizeof(where));
    /* Bounded: a flood of datagrams cannot keep us here. */
    for(int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = recv(u->fd, u->buf, UDP_MAX_DGRAM, MSG_DONTWAIT);
        if(n < 0) {
            const char *what;
            int reason;
            if(errno == EAGAIN || errno == EINTR)
                return;
            reason = udp_icmp_error(u, &what);
            if(reason < 0)
                reason = check_errno_reason(errno, false);
            check_finding(ck, VG_CHECK_CRITICAL, reason, "%s answered with %s (%s)", where,
                          what ? what : strerror(errno),
                          reason == VG_CR_PORT_UNREACH ? "nothing listens: not reachable" : "not reachable");
            check_attempt_done(ck);
            return;
        }
        u->ndgrams++;
        if(ck->run->res.phase_us[VG_PHASE_FIRSTBYTE] < 0)
            ck->run->res.phase_us[VG_PHASE_FIRSTBYTE] = (int64_t)(vg_now_us() - u->sent_us);
        ck->run->res.bytes_read += (uint64_t)n;
        {
            size_t len = (size_t)n, shown = len;
            const uint8_t *nl = memchr(u->buf, '\n', len);
            if(nl)
                shown = (size_t)(nl - u->buf);
            if(shown && u->buf[shown - 1] == '\r')
                shown--;
            u->buf[len] = 0;
            vg_escape(ck->run->res.banner, sizeof(ck->run->res.banner), u->buf, shown);
            if(u->steps) {
                if(steps_on_datagram(ck, u->steps, u->buf, len)) {
                    if(udp_step_sends(u))
                        return;
                    if(steps_done(u->steps)) {
                        udp_steps_ok(u);
                        return;
                    }
                }
            }
            else if(!u->have_re || sendexpect_match(&u->re, u->buf, len)) {
                check_summary(ck, "%s answered in %s with %zu bytes%s: \"%s\"", where,
                              check_fmt_us(ck->run->res.phase_us[VG_PHASE_FIRSTBYTE], t, sizeof(t)), len,
                              u->have_re ? ", matching the expected pattern" : "", ck->run->res.banner);
                check_attempt_done(ck);
                return;
            }
        }
        if(ck->run->res.bytes_read >= ck->opts->max_read) {
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_EXPECT_MISMATCH,
                          "%s sent %u datagrams (%llu bytes, the --max-read cap) without a match; the last began: \"%s\"",
                          where, u->ndgrams, (unsigned long long)ck->run->res.bytes_read, ck->run->res.banner);
            check_attempt_done(ck);
            return;
        }
    }
}

/* "WHAT HOST port N: strerror(e)" */
static int udp_fail(vg_check *ck, int state, int reason, const char *what, int e)
{
    char where[160];
    check_where(ck, where, sizeof(where));
    check_finding(ck, state, reason, "%s %s: %s", what, where, strerror(e));
    check_attempt_done(ck);
    return -1;
}

static int udp_start(vg_check *ck)
{
    struct udp_ctx *u = vg_calloc(1, sizeof(*u));
    struct sockaddr_storage ss;
    socklen_t sl;
    int one = 1;
    ssize_t n;

    if(!u)
        return udp_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot check", ENOMEM);
    ck->kctx = u;
    u->ck = ck;
    u->fd = -1;
    u->buf = vg_malloc(UDP_MAX_DGRAM + 1);
    if(!u->buf)
        return udp_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot check", ENOMEM);
    if(ck->opts->expect) {
        if(sendexpect_compile(&u->re, ck->opts->expect, "--expect", NULL))
            return udp_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot compile --expect for", EINVAL);
        u->have_re = true;
    }
    u->fd = socket(ck->addr.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if(u->fd < 0 && check_errno_is_fd_shortage(errno)) {
        check_fd_shortage(ck);
        return -1;
    }
    if(u->fd < 0)
        return udp_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot open a UDP socket for", errno);
    if(ck->addr.family == AF_INET6)
        setsockopt(u->fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
    else
        setsockopt(u->fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
    sl = vg_addr_to_sockaddr(&ck->addr, ck->tgt.port, &ss);
    if(connect(u->fd, (struct sockaddr *)&ss, sl) < 0)
        return udp_fail(ck, VG_CHECK_CRITICAL, check_errno_reason(errno, true), "cannot reach", errno);
    if(vg_loop_watch(check_loop(ck), u->fd, EPOLLIN, udp_io, u) < 0) {
        check_fd_shortage(ck); /* a descriptor beyond the loop's table */
        return -1;
    }
    u->sent_us = vg_now_us();
    if(ck->opts->steps) {
        u->steps = steps_new(ck->opts);
        if(!u->steps)
            return udp_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot prepare the --step script for", ENOMEM);
        if(udp_step_sends(u))
            return -1;
        if(steps_done(u->steps))
            udp_steps_ok(u);
        return 0;
    }
    n = send(u->fd, ck->opts->send ? ck->opts->send : "", ck->opts->send ? ck->opts->send_len : 0, 0);
    if(n < 0) {
        int e = errno;
        const char *what;
        int reason = udp_icmp_error(u, &what);
        return udp_fail(ck, VG_CHECK_CRITICAL, reason >= 0 ? reason : check_errno_reason(e, true),
                        "cannot send to", e);
    }
    return 0;
}

static void udp_timeout(vg_check *ck)
{
    struct udp_ctx *u = ck->kctx;
    char where[160], t[32];
    check_where(ck, where, sizeof(where));
    check_fmt_us((int64_t)ck->opts->timeout_ms * 1000, t, sizeof(t));
    if(u && u->steps) {
        const char *text;
        unsigned k = steps_current(u->steps, &text);
        char esc[160];
        vg_escape(esc, sizeof(esc), text, strlen(text));
        check_finding(ck, VG_CHECK_CRITICAL, u->ndgrams ? VG_CR_EXPECT_MISMATCH : VG_CR_READ_TIMEOUT,
                      "step %u (%s) did not complete within %s (%u datagrams from %s%s%s%s)", k, esc, t, u->ndgrams, where,
                      u->ndgrams ? "; the last began \"" : "", u->ndgrams ? ck->run->res.banner : "", u->ndgrams ? "\"" : "");
    }
    else if(u && u->ndgrams)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_EXPECT_MISMATCH,
                      "%s answered (%u datagrams), but nothing matched the expected pattern within %s; the last began: \"%s\"",
                      where, u->ndgrams, t, ck->run->res.banner);
    else
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_READ_TIMEOUT,
                      "no answer from %s within %s (a UDP service that ignores this request and a filtered port look the same)",
                      where, t);
    check_attempt_done(ck);
}

static void udp_release(vg_check *ck)
{
    struct udp_ctx *u = ck->kctx;
    if(!u)
        return;
    ck->kctx = NULL;
    if(u->fd >= 0) {
        vg_loop_unwatch(check_loop(ck), u->fd, 1);
        close(u->fd);
    }
    if(u->have_re)
        regfree(&u->re);
    steps_free(u->steps);
    free(u->buf);
    free(u);
}

const vg_check_type vg_check_udp = {
    .name = "udp",
    .label = "UDP",
    .default_port = 0,
    .tls = false,
    .kind = VG_KIND_UDP,
    .fds = CHECK_FDS_STREAM,
    .validate = udp_validate,
    .start = udp_start,
    .on_timeout = udp_timeout,
    .release = udp_release,
};
