/* SPDX-License-Identifier: MIT */
/* Proof of life from port answers (vg_liveness): a host's first open or
 * closed port makes it up, and its record comes just before that port;
 * silent ports of hosts not (yet) up are held, and at the end go out as
 * ports when their host answered later, or count as skipped with one down
 * record per host when it never did. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "vigia/scan.h"
#include "vigia/target.h"

static vg_targets *targets(const char *spec)
{
    vg_targets *t = vg_targets_new();
    vg_error err = {0};
    assert_non_null(t);
    assert_int_equal(vg_targets_add(t, spec, NULL, &err), VG_OK);
    assert_int_equal(vg_targets_finalize(t, NULL, &err), VG_OK);
    return t;
}

static vg_result result(const char *ip, uint16_t port, int state, int reason)
{
    vg_result r;
    memset(&r, 0, sizeof(r));
    if(strchr(ip, ':')) {
        r.addr.family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, ip, r.addr.a), 1);
    }
    else {
        r.addr.family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, ip, r.addr.a), 1);
    }
    r.port = port;
    r.proto = IPPROTO_TCP;
    r.state = (uint8_t)state;
    r.reason = (uint8_t)reason;
    r.tries = 1;
    r.rtt_us = state == VG_STATE_FILTERED ? -1 : 1234;
    return r;
}

/* What vg_liveness_finish handed on. */
struct seen {
    vg_result ports[4096];
    size_t nports;
    vg_result downs[4096];
    size_t ndowns;
};

static void on_port(const vg_result *r, void *ud)
{
    struct seen *s = ud;
    assert_true(s->nports < 4096);
    s->ports[s->nports++] = *r;
}

static void on_down(const vg_result *r, void *ud)
{
    struct seen *s = ud;
    assert_true(s->ndowns < 4096);
    s->downs[s->ndowns++] = *r;
}

static void assert_addr(const vg_result *r, const char *ip)
{
    char buf[VG_ADDR_STRLEN];
    assert_string_equal(vg_addr_format(&r->addr, buf, sizeof(buf)), ip);
}

static void test_first_answer_makes_the_host_up(void **state)
{
    (void)state;
    vg_targets *t = targets("198.18.0.0/30");
    vg_liveness *l;
    vg_error err = {0};
    vg_result host, r;
    bool first;
    assert_int_equal(vg_liveness_new(&l, t, &err), VG_OK);

    /* The first answer: emitted, with the host's record (up, port 0, the
     * answer's reason and RTT). */
    memset(&host, 0xee, sizeof(host));
    r = result("198.18.0.1", 80, VG_STATE_OPEN, VG_REASON_SYN_ACK);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
    assert_true(first);
    assert_addr(&host, "198.18.0.1");
    assert_int_equal(host.port, 0);
    assert_int_equal(host.proto, 0);
    assert_int_equal(host.state, VG_STATE_OPEN);
    assert_int_equal(host.reason, VG_REASON_SYN_ACK);
    assert_int_equal(host.rtt_us, 1234);

    /* A second answer of the same host is no news. */
    r = result("198.18.0.1", 443, VG_STATE_CLOSED, VG_REASON_CONN_REFUSED);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
    assert_false(first);
    /* A silent port of a host already up goes out at once. */
    r = result("198.18.0.1", 22, VG_STATE_FILTERED, VG_REASON_NO_RESPONSE);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
    assert_false(first);

    /* A closed port (a reset) is proof of life as well. */
    r = result("198.18.0.2", 80, VG_STATE_CLOSED, VG_REASON_RESET);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
    assert_true(first);
    assert_addr(&host, "198.18.0.2");
    assert_int_equal(host.state, VG_STATE_OPEN);
    assert_int_equal(host.reason, VG_REASON_RESET);

    /* Nothing was held: the end hands on nothing and skips nothing. */
    struct seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(vg_liveness_finish(l, on_port, on_down, s), 0);
    assert_int_equal(s->nports, 0);
    assert_int_equal(s->ndowns, 0);
    free(s);
    vg_liveness_free(l);
    vg_targets_free(t);
}

static void test_silent_ports_held_until_the_end(void **state)
{
    (void)state;
    vg_targets *t = targets("198.18.0.0/29");
    vg_liveness *l;
    vg_error err = {0};
    vg_result host, r;
    bool first;
    assert_int_equal(vg_liveness_new(&l, t, &err), VG_OK);

    /* .3: two silent ports, never an answer: down. .4: silent first, then
     * an answer: up, and its silent port comes out at the end. .5: a UDP
     * open|filtered port is silence too. */
    r = result("198.18.0.3", 80, VG_STATE_FILTERED, VG_REASON_HOST_UNREACH);
    r.rtt_us = 777; /* the down record has neither this reason nor an RTT */
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_HELD);
    assert_false(first);
    r = result("198.18.0.4", 22, VG_STATE_FILTERED, VG_REASON_NO_RESPONSE);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_HELD);
    r = result("198.18.0.3", 81, VG_STATE_FILTERED, VG_REASON_NO_RESPONSE);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_HELD);
    r = result("198.18.0.5", 53, VG_STATE_OPEN_FILTERED, VG_REASON_NO_RESPONSE);
    r.proto = IPPROTO_UDP;
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_HELD);
    r = result("198.18.0.4", 80, VG_STATE_OPEN, VG_REASON_SYN_ACK);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
    assert_true(first);
    assert_addr(&host, "198.18.0.4");

    struct seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    /* Three results skipped: .3's two and .5's one. */
    assert_int_equal(vg_liveness_finish(l, on_port, on_down, s), 3);
    /* .4's silent port goes out as it was. */
    assert_int_equal(s->nports, 1);
    assert_addr(&s->ports[0], "198.18.0.4");
    assert_int_equal(s->ports[0].port, 22);
    assert_int_equal(s->ports[0].state, VG_STATE_FILTERED);
    /* One down record per silent host, port 0, no RTT, in held order. */
    assert_int_equal(s->ndowns, 2);
    assert_addr(&s->downs[0], "198.18.0.3");
    assert_addr(&s->downs[1], "198.18.0.5");
    for(size_t i = 0; i < 2; i++) {
        assert_int_equal(s->downs[i].port, 0);
        assert_int_equal(s->downs[i].proto, 0);
        assert_int_equal(s->downs[i].state, VG_STATE_FILTERED);
        assert_int_equal(s->downs[i].reason, VG_REASON_NO_RESPONSE);
        assert_int_equal(s->downs[i].rtt_us, -1);
    }

    /* The held list is emptied: a second finish has nothing to give, and
     * a host once told down is not told again. */
    memset(s, 0, sizeof(*s));
    assert_int_equal(vg_liveness_finish(l, on_port, on_down, s), 0);
    assert_int_equal(s->nports + s->ndowns, 0);
    r = result("198.18.0.3", 82, VG_STATE_FILTERED, VG_REASON_NO_RESPONSE);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_HELD);
    assert_int_equal(vg_liveness_finish(l, on_port, on_down, s), 1);
    assert_int_equal(s->ndowns, 0);
    free(s);
    vg_liveness_free(l);
    vg_targets_free(t);
}

static void test_results_of_other_addresses_pass(void **state)
{
    (void)state;
    vg_targets *t = targets("198.18.0.0/30");
    vg_liveness *l;
    vg_error err = {0};
    vg_result host, r;
    bool first = true;
    assert_int_equal(vg_liveness_new(&l, t, &err), VG_OK);
    /* Not a target: passed on as it is, and no host record for it. */
    r = result("198.18.1.1", 80, VG_STATE_FILTERED, VG_REASON_NO_RESPONSE);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
    assert_false(first);
    r = result("2001:db8::1", 80, VG_STATE_OPEN, VG_REASON_SYN_ACK);
    assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
    assert_false(first);
    struct seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(vg_liveness_finish(l, on_port, on_down, s), 0);
    assert_int_equal(s->nports + s->ndowns, 0);
    free(s);
    vg_liveness_free(l);
    vg_targets_free(t);
}

/* More silent results than the first allocation holds (1024), over 2048
 * hosts of which every third answers once its port was held. */
static void test_many_held(void **state)
{
    (void)state;
    vg_targets *t = targets("198.18.8.0/21");
    vg_liveness *l;
    vg_error err = {0};
    vg_result host, r;
    bool first;
    char ip[32];
    assert_int_equal(vg_targets_count(t), 2048);
    assert_int_equal(vg_liveness_new(&l, t, &err), VG_OK);
    for(unsigned i = 0; i < 2048; i++) {
        snprintf(ip, sizeof(ip), "198.18.%u.%u", 8 + i / 256, i % 256);
        r = result(ip, 81, VG_STATE_FILTERED, VG_REASON_NO_RESPONSE);
        assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_HELD);
    }
    unsigned up = 0;
    for(unsigned i = 0; i < 2048; i += 3, up++) {
        snprintf(ip, sizeof(ip), "198.18.%u.%u", 8 + i / 256, i % 256);
        r = result(ip, 80, VG_STATE_OPEN, VG_REASON_SYN_ACK);
        assert_int_equal(vg_liveness_feed(l, &r, &host, &first), VG_LIVE_EMIT);
        assert_true(first);
    }
    struct seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(vg_liveness_finish(l, on_port, on_down, s), 2048 - up);
    assert_int_equal(s->nports, up);
    assert_int_equal(s->ndowns, 2048 - up);
    /* Held order is kept: the up hosts' ports come out ascending. */
    for(size_t k = 1; k < s->nports; k++)
        assert_true(vg_addr_cmp(&s->ports[k - 1].addr, &s->ports[k].addr) < 0);
    for(size_t k = 0; k < s->ndowns; k++) {
        uint64_t i = vg_targets_index(t, &s->downs[k].addr);
        assert_true(i < 2048 && i % 3 != 0);
    }
    free(s);
    vg_liveness_free(l);
    vg_targets_free(t);
}

static void test_too_many_targets(void **state)
{
    (void)state;
    /* 2^40 addresses: more than one bit each could track. */
    vg_targets *t = targets("2001:db8::/88");
    vg_liveness *l = (vg_liveness *)&l;
    vg_error err = {0};
    assert_int_equal(vg_liveness_new(&l, t, &err), VG_EINVAL);
    assert_null(l);
    assert_int_equal(err.code, VG_EINVAL);
    assert_non_null(strstr(err.msg, "too many targets"));
    vg_liveness_free(NULL); /* freeing nothing is allowed */
    vg_targets_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_answer_makes_the_host_up),
        cmocka_unit_test(test_silent_ports_held_until_the_end),
        cmocka_unit_test(test_results_of_other_addresses_pass),
        cmocka_unit_test(test_many_held),
        cmocka_unit_test(test_too_many_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
