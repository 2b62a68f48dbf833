/* SPDX-License-Identifier: MIT */
/* The resolver (lib/resolve): names answered by rule without a query
 * (localhost, .localhost, .invalid, hosts-only), DNS answers, timeouts,
 * cancelled lookups and a resolver freed with lookups pending. The DNS
 * server is the test's own UDP socket on 127.0.0.1, answered from the same
 * loop, so nothing else is ever asked. */
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolve/resolve.h"

/* ---- the test's DNS server, on the resolver's loop ----------------------- */

/* svc.vigia.test: A 198.18.0.1 and 198.18.0.2, AAAA 2001:db8::1;
 * mute.vigia.test: never answered; anything else: NXDOMAIN. */
struct server {
    vg_loop *loop;
    int fd;
    char servers[32];   /* "127.0.0.1:PORT" */
    unsigned queries;
    char last[256];     /* the last question's name */
};

static size_t put_answer(uint8_t *out, size_t off, uint16_t type, const void *rdata, uint16_t rdlen)
{
    static const uint8_t ptr[] = { 0xc0, 0x0c };
    memcpy(out + off, ptr, 2);
    out[off + 2] = (uint8_t)(type >> 8);
    out[off + 3] = (uint8_t)type;
    out[off + 4] = 0;
    out[off + 5] = 1;
    memset(out + off + 6, 0, 3);
    out[off + 9] = 60;
    out[off + 10] = (uint8_t)(rdlen >> 8);
    out[off + 11] = (uint8_t)rdlen;
    memcpy(out + off + 12, rdata, rdlen);
    return off + 12 + rdlen;
}

static void server_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    static const uint8_t a1[] = { 198, 18, 0, 1 }, a2[] = { 198, 18, 0, 2 };
    static const uint8_t aaaa[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    struct server *s = ud;
    uint8_t q[512], out[1024];
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    ssize_t n;
    size_t off = 12, nlen = 0, len;
    uint16_t qtype, ancount = 0;
    uint8_t rcode = 0;

    (void)loop;
    (void)events;
    n = recvfrom(fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
    if(n < 12)
        return;
    s->queries++;
    while(off < (size_t)n && q[off]) {
        size_t l = q[off];
        if(off + 1 + l >= (size_t)n || nlen + l + 1 >= sizeof(s->last))
            return;
        if(nlen)
            s->last[nlen++] = '.';
        memcpy(s->last + nlen, q + off + 1, l);
        nlen += l;
        off += 1 + l;
    }
    s->last[nlen] = '\0';
    if(off + 5 > (size_t)n)
        return;
    qtype = (uint16_t)(q[off + 1] << 8 | q[off + 2]);
    off += 5;
    if(!strcasecmp(s->last, "mute.vigia.test"))
        return;
    memcpy(out, q, off);
    len = off;
    if(!strcasecmp(s->last, "svc.vigia.test")) {
        if(qtype == 1) {
            len = put_answer(out, len, 1, a1, 4);
            len = put_answer(out, len, 1, a2, 4);
            ancount = 2;
        }
        else if(qtype == 28) {
            len = put_answer(out, len, 28, aaaa, 16);
            ancount = 1;
        }
    }
    else
        rcode = 3;
    out[2] = (uint8_t)(0x84 | (q[2] & 0x01));
    out[3] = (uint8_t)(0x80 | rcode);
    out[4] = 0, out[5] = 1;
    out[6] = 0, out[7] = (uint8_t)ancount;
    memset(out + 8, 0, 4);
    sendto(fd, out, len, 0, (struct sockaddr *)&peer, plen);
}

static int setup(void **state)
{
    struct server *s = calloc(1, sizeof(*s));
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);

    assert_non_null(s);
    s->loop = vg_loop_new(1024);
    assert_non_null(s->loop);
    assert_int_equal(vg_loop_reserve_timers(s->loop, 4), 0);
    s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sin, &slen), 0);
    snprintf(s->servers, sizeof(s->servers), "127.0.0.1:%u", ntohs(sin.sin_port));
    assert_int_equal(vg_loop_watch(s->loop, s->fd, EPOLLIN, server_io, s), 0);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct server *s = *state;
    vg_loop_unwatch(s->loop, s->fd, 1);
    close(s->fd);
    vg_loop_free(s->loop);
    free(s);
    return 0;
}

/* ---- what a callback saw --------------------------------------------------- */

struct answer {
    unsigned calls;
    int status;
    bool invalid, needs_dns;
    char reason[128];
    vg_addr addrs[8];
    size_t naddrs;
    vg_lookup **slot;   /* the handle, which must be NULL when fn runs */
    bool slot_clear;
};

static void on_answer(void *ud, const vg_lookup_result *res)
{
    struct answer *a = ud;
    a->calls++;
    a->status = res->status;
    a->invalid = res->invalid;
    a->needs_dns = res->needs_dns;
    snprintf(a->reason, sizeof(a->reason), "%s", res->reason ? res->reason : "");
    a->naddrs = res->naddrs < 8 ? res->naddrs : 8;
    memcpy(a->addrs, res->addrs, a->naddrs * sizeof(vg_addr));
    a->slot_clear = !a->slot || !*a->slot;
}

/* Runs the loop until a has its answer or about 5 s passed. */
static void wait_answer(struct server *s, struct answer *a)
{
    uint64_t end = vg_now_us() + 5000000u;
    while(!a->calls && vg_now_us() < end)
        assert_true(vg_loop_run_once_us(s->loop, 100000) >= 0);
}

static void run_for_ms(struct server *s, unsigned ms)
{
    uint64_t end = vg_now_us() + (uint64_t)ms * 1000u;
    while(vg_now_us() < end)
        assert_true(vg_loop_run_once_us(s->loop, (int64_t)(end - vg_now_us())) >= 0);
}

static bool is_loopback(const vg_addr *a)
{
    static const uint8_t v6[16] = { [15] = 1 };
    if(a->family == AF_INET)
        return a->a[0] == 127;
    return a->family == AF_INET6 && !memcmp(a->a, v6, 16);
}

static void addr_is(const vg_addr *a, const char *text)
{
    char buf[VG_ADDR_STRLEN];
    vg_addr_format(a, buf, sizeof(buf));
    assert_string_equal(buf, text);
}

/* ---- tests ------------------------------------------------------------- */

/* localhost and names under it: loopback at once, nothing sent. */
static void test_localhost_is_never_sent(void **state)
{
    struct server *s = *state;
    static const char *names[] = { "localhost", "LOCALHOST.", "foo.localhost", "a.b.LocalHost." };
    vg_resolver *r;
    vg_lookup *h = (vg_lookup *)&h; /* anything but NULL: the call must clear it */

    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, 0, 100, NULL), VG_OK);
    for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct answer a = { 0 };
        assert_int_equal(vg_resolve_lookup(r, names[i], AF_INET, on_answer, &a, &h, NULL), VG_OK);
        assert_int_equal(a.calls, 1); /* before the call returned */
        assert_null(h);
        assert_int_equal(a.status, ARES_SUCCESS);
        assert_true(a.naddrs >= 1);
        for(size_t j = 0; j < a.naddrs; j++) {
            assert_int_equal(a.addrs[j].family, AF_INET);
            assert_true(is_loopback(&a.addrs[j]));
        }
    }
    {
        struct answer a = { 0 };
        assert_int_equal(vg_resolve_lookup(r, "foo.localhost", AF_INET6, on_answer, &a, &h, NULL), VG_OK);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.naddrs, 1);
        addr_is(&a.addrs[0], "::1");
    }
    run_for_ms(s, 50);
    assert_int_equal(s->queries, 0);
    vg_resolver_free(r);
}

/* Names under .invalid fail at once, flagged, with nothing sent. */
static void test_invalid_fails_without_a_query(void **state)
{
    struct server *s = *state;
    vg_resolver *r;
    vg_lookup *h;

    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, 0, 100, NULL), VG_OK);
    for(int i = 0; i < 2; i++) {
        struct answer a = { 0 };
        assert_int_equal(vg_resolve_lookup(r, i ? "A.B.INVALID." : "x.invalid", 0, on_answer, &a, &h, NULL),
                         VG_OK);
        assert_int_equal(a.calls, 1);
        assert_null(h);
        assert_int_equal(a.status, ARES_ENOTFOUND);
        assert_true(a.invalid);
        assert_false(a.needs_dns);
        assert_int_equal(a.naddrs, 0);
        assert_non_null(strstr(a.reason, "RFC 6761"));
    }
    run_for_ms(s, 50);
    assert_int_equal(s->queries, 0);
    vg_resolver_free(r);
}

/* HOSTS_ONLY: an ordinary name not in /etc/hosts needs DNS and is not sent;
 * localhost still answers. */
static void test_hosts_only_sends_nothing(void **state)
{
    struct server *s = *state;
    struct answer a = { 0 }, l = { 0 };
    vg_resolver *r;
    vg_lookup *h;

    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, VG_RESOLVER_HOSTS_ONLY, 100, NULL), VG_OK);
    assert_int_equal(vg_resolve_lookup(r, "svc.vigia.test", 0, on_answer, &a, &h, NULL), VG_OK);
    assert_int_equal(a.calls, 1);
    assert_null(h);
    assert_true(a.needs_dns);
    assert_false(a.invalid);
    assert_int_equal(a.status, ARES_ENOTFOUND);
    assert_non_null(strstr(a.reason, "DNS queries are off"));
    assert_int_equal(vg_resolve_lookup(r, "localhost", AF_INET, on_answer, &l, &h, NULL), VG_OK);
    assert_int_equal(l.calls, 1);
    assert_true(l.naddrs >= 1 && is_loopback(&l.addrs[0]));
    run_for_ms(s, 50);
    assert_int_equal(s->queries, 0);
    vg_resolver_free(r);
}

/* An ordinary name is asked of the server: every address of the family,
 * the handle set while in flight and cleared before the callback. */
static void test_dns_answer(void **state)
{
    struct server *s = *state;
    vg_resolver *r;
    vg_lookup *h = NULL;

    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, 0, 500, NULL), VG_OK);
    {
        struct answer a = { .slot = &h };
        assert_int_equal(vg_resolve_lookup(r, "svc.vigia.test", AF_INET, on_answer, &a, &h, NULL), VG_OK);
        assert_non_null(h);
        assert_int_equal(a.calls, 0);
        wait_answer(s, &a);
        assert_int_equal(a.calls, 1);
        assert_true(a.slot_clear);
        assert_null(h);
        assert_int_equal(a.status, ARES_SUCCESS);
        assert_int_equal(a.naddrs, 2);
        addr_is(&a.addrs[0], "198.18.0.1");
        addr_is(&a.addrs[1], "198.18.0.2");
        assert_string_equal(s->last, "svc.vigia.test");
    }
    {
        struct answer a = { .slot = &h };
        assert_int_equal(vg_resolve_lookup(r, "svc.vigia.test", AF_INET6, on_answer, &a, &h, NULL), VG_OK);
        wait_answer(s, &a);
        assert_int_equal(a.naddrs, 1);
        addr_is(&a.addrs[0], "2001:db8::1");
    }
    {
        struct answer a = { 0 };
        assert_int_equal(vg_resolve_lookup(r, "svc.vigia.test", 0, on_answer, &a, &h, NULL), VG_OK);
        wait_answer(s, &a);
        assert_int_equal(a.naddrs, 3);
    }
    {
        struct answer a = { 0 };
        assert_int_equal(vg_resolve_lookup(r, "nosuch.vigia.test", AF_INET, on_answer, &a, &h, NULL), VG_OK);
        wait_answer(s, &a);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.status, ARES_ENOTFOUND);
        assert_false(a.invalid);
        assert_string_equal(a.reason, ares_strerror(ARES_ENOTFOUND));
    }
    vg_resolver_free(r);
}

/* A server that never answers: ARES_ETIMEOUT after c-ares' tries. */
static void test_timeout(void **state)
{
    struct server *s = *state;
    struct answer a = { 0 };
    vg_resolver *r;
    vg_lookup *h;
    uint64_t t0 = vg_now_us();

    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, 0, 100, NULL), VG_OK);
    assert_int_equal(vg_resolve_lookup(r, "mute.vigia.test", AF_INET, on_answer, &a, &h, NULL), VG_OK);
    wait_answer(s, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, ARES_ETIMEOUT);
    assert_true(s->queries >= 3); /* three tries */
    assert_true(vg_now_us() - t0 >= 300000u);
    vg_resolver_free(r);
}

/* A cancelled lookup never calls back; its answer is dropped. */
static void test_cancel(void **state)
{
    struct server *s = *state;
    struct answer a = { 0 }, b = { 0 };
    vg_resolver *r;
    vg_lookup *h, *h2;

    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, 0, 500, NULL), VG_OK);
    assert_int_equal(vg_resolve_lookup(r, "svc.vigia.test", AF_INET, on_answer, &a, &h, NULL), VG_OK);
    assert_non_null(h);
    vg_lookup_cancel(h);
    h = NULL;
    /* A second lookup shows when the first one's answer has come too. */
    assert_int_equal(vg_resolve_lookup(r, "svc.vigia.test", AF_INET6, on_answer, &b, &h2, NULL), VG_OK);
    wait_answer(s, &b);
    run_for_ms(s, 50);
    assert_int_equal(b.calls, 1);
    assert_int_equal(a.calls, 0);
    assert_true(s->queries >= 2);
    vg_resolver_free(r);
}

/* Freeing the resolver drops pending lookups without a callback. */
static void test_free_with_pending(void **state)
{
    struct server *s = *state;
    struct answer a = { 0 };
    vg_resolver *r;
    vg_lookup *h;

    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, 0, 1000, NULL), VG_OK);
    assert_int_equal(vg_resolve_lookup(r, "mute.vigia.test", AF_INET, on_answer, &a, &h, NULL), VG_OK);
    run_for_ms(s, 20);
    vg_resolver_free(r);
    assert_int_equal(a.calls, 0);
    assert_int_equal(vg_loop_timer_count(s->loop), 0);
}

/* Server lists: an empty one, one c-ares rejects, and matching. */
static void test_servers(void **state)
{
    struct server *s = *state;
    vg_resolver *r;
    vg_error err = { 0 };

    assert_int_equal(vg_resolver_new(&r, s->loop, "", 0, 100, &err), VG_EINVAL);
    assert_null(r);
    assert_string_equal(err.msg, "--dns-servers: empty list");
    assert_int_equal(vg_resolver_new(&r, s->loop, "not-an-address", 0, 100, &err), VG_EINVAL);
    assert_null(r);
    assert_non_null(strstr(err.msg, "--dns-servers 'not-an-address'"));
    assert_int_equal(vg_resolver_new(&r, s->loop, s->servers, 0, 100, NULL), VG_OK);
    assert_true(vg_resolver_matches(r, s->servers));
    assert_false(vg_resolver_matches(r, NULL));
    assert_false(vg_resolver_matches(r, "127.0.0.1:1"));
    vg_resolver_free(r);
    assert_int_equal(vg_resolver_new(&r, s->loop, NULL, 0, 100, NULL), VG_OK);
    assert_true(vg_resolver_matches(r, NULL));
    assert_false(vg_resolver_matches(r, s->servers));
    vg_resolver_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_localhost_is_never_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_fails_without_a_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts_only_sends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
