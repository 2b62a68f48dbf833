/* SPDX-License-Identifier: MIT */
/* Host-discovery packets: ICMP(v6) echo, TCP ACK, neighbour solicitation
 * and ARP, compared with packets this test builds itself, and their
 * replies classified (and rejected when malformed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe/packet.h"
#include "probe/probe.h"
#include "vigia/scan.h"

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    for(size_t i = 0; i + 1 < len; i += 2)
        sum += (uint64_t)(p[i] << 8 | p[i + 1]);
    if(len & 1)
        sum += (uint64_t)p[len - 1] << 8;
    while(sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Sum over the IPv6 pseudo header + payload of a whole IPv6 packet: zero
 * when its upper-layer checksum is right. */
static uint16_t v6_verify(const uint8_t *pkt, size_t len)
{
    uint8_t buf[1024];
    memcpy(buf, pkt + 8, 32);
    size_t pl = len - 40;
    buf[32] = 0;
    buf[33] = 0;
    buf[34] = (uint8_t)(pl >> 8);
    buf[35] = (uint8_t)pl;
    buf[36] = buf[37] = buf[38] = 0;
    buf[39] = pkt[6];
    memcpy(buf + 40, pkt + 40, pl);
    return ref_csum(buf, 40 + pl);
}

static vg_addr addr(const char *s)
{
    vg_addr a;
    memset(&a, 0, sizeof(a));
    if(inet_pton(AF_INET, s, a.a) == 1)
        a.family = AF_INET;
    else {
        assert_int_equal(inet_pton(AF_INET6, s, a.a), 1);
        a.family = AF_INET6;
    }
    return a;
}

static void test_echo_request_and_reply(void **state)
{
    (void)state;
    for(int f = 0; f < 2; f++) {
        vg_addr us = addr(f ? "2001:db8::1" : "198.18.0.1");
        vg_addr them = addr(f ? "2001:db8::2" : "198.18.0.2");
        vg_tmpl t;
        uint8_t pkt[VG_PROBE_MAX];
        vg_pkt p;
        vg_probe_reply r;
        assert_true(vg_probe_icmp_echo.template_init(&t, &us, 0));
        vg_probe_args a = {.dst = &them, .sport = 61234, .cookie = 0x11223344};
        size_t n = vg_probe_icmp_echo.build(&t, &a, pkt);
        size_t ip = f ? 40 : 20;
        assert_int_equal(n, ip + 16);
        assert_int_equal(pkt[ip], f ? 128 : 8);        /* echo request */
        assert_int_equal(pkt[ip + 4] << 8 | pkt[ip + 5], 61234);
        assert_int_equal(pkt[ip + 6] << 8 | pkt[ip + 7], 0x3344);
        if(f)
            assert_int_equal(v6_verify(pkt, n), 0);
        else {
            assert_int_equal(ref_csum(pkt, 20), 0);     /* IPv4 header */
            assert_int_equal(ref_csum(pkt + 20, 16), 0); /* ICMP */
        }
        /* Turn it into the reply the target would send. */
        uint8_t rep[VG_PROBE_MAX];
        memcpy(rep, pkt, n);
        rep[ip] = f ? 129 : 0;
        if(f) {
            memcpy(rep + 8, pkt + 24, 16);
            memcpy(rep + 24, pkt + 8, 16);
        }
        else {
            memcpy(rep + 12, pkt + 16, 4);
            memcpy(rep + 16, pkt + 12, 4);
        }
        assert_true(vg_pkt_parse(rep, n, &p));
        assert_true(vg_probe_icmp_echo.classify(&p, &r));
        assert_int_equal(r.reason, VG_REASON_ECHO_REPLY);
        assert_int_equal(r.lport, 61234);
        assert_int_equal(r.echo & r.echo_mask, 0x3344);
        assert_int_equal(vg_addr_cmp(&r.target, &them), 0);
        /* Our own request is not a reply. */
        assert_true(vg_pkt_parse(pkt, n, &p));
        assert_false(vg_probe_icmp_echo.classify(&p, &r));
    }
}

static void test_ack_probe_and_rst(void **state)
{
    vg_addr us = addr("198.18.0.1"), them = addr("198.18.0.2");
    vg_tmpl t;
    uint8_t pkt[VG_PROBE_MAX];
    vg_pkt p;
    vg_probe_reply r;
    (void)state;
    vg_probe_tcp_ack.template_init(&t, &us, 0);
    vg_probe_args a = {.dst = &them, .sport = 61000, .dport = 80,
                       .cookie = 0xcafef00d, .ip_id = 5};
    size_t n = vg_probe_tcp_ack.build(&t, &a, pkt);
    assert_int_equal(n, 44);
    uint8_t *tcp = pkt + 20;
    assert_int_equal(tcp[13], 0x10); /* ACK only */
    assert_int_equal((uint32_t)tcp[8] << 24 | tcp[9] << 16 | tcp[10] << 8 | tcp[11], 0xcafef00d);
    /* TCP checksum over the pseudo header. */
    uint8_t ph[12 + 24];
    memcpy(ph, pkt + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    ph[10] = 0;
    ph[11] = 24;
    memcpy(ph + 12, tcp, 24);
    assert_int_equal(ref_csum(ph, sizeof(ph)), 0);
    assert_int_equal(ref_csum(pkt, 20), 0);
    /* The RST a live host answers: seq = our ack, RST only. */
    uint8_t rst[40] = {0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6};
    memcpy(rst + 12, them.a, 4);
    memcpy(rst + 16, us.a, 4);
    rst[20] = 0;
    rst[21] = 80;
    rst[22] = 61000 >> 8;
    rst[23] = 61000 & 0xff;
    rst[24] = 0xca;
    rst[25] = 0xfe;
    rst[26] = 0xf0;
    rst[27] = 0x0d;
    rst[32] = 5 << 4;
    rst[33] = 0x04;
    assert_true(vg_pkt_parse(rst, sizeof(rst), &p));
    assert_true(vg_probe_tcp_ack.classify(&p, &r));
    assert_int_equal(r.echo, 0xcafef00d);
    assert_int_equal(r.tport, 80);
    assert_false(vg_probe_tcp_syn.classify(&p, &r)); /* no ACK flag: not a SYN answer */
    rst[33] = 0x14;                                   /* RST-ACK answers a SYN */
    assert_true(vg_pkt_parse(rst, sizeof(rst), &p));
    assert_false(vg_probe_tcp_ack.classify(&p, &r));
}

static void test_neighbour_solicitation(void **state)
{
    vg_addr us = addr("2001:db8::1"), them = addr("2001:db8::abcd:1234");
    static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
    vg_tmpl t;
    uint8_t pkt[VG_PROBE_MAX];
    vg_addr group, want = addr("ff02::1:ffcd:1234");
    (void)state;
    vg_ndp_solicited_node(&them, &group);
    assert_int_equal(vg_addr_cmp(&group, &want), 0);
    vg_addr us4 = addr("198.18.0.1");
    assert_false(vg_probe_ndp.template_init(&t, &us4, 0));
    assert_true(vg_probe_ndp.template_init(&t, &us, 0));
    vg_probe_args a = {.dst = &them, .src_mac = mac};
    size_t n = vg_probe_ndp.build(&t, &a, pkt);
    assert_int_equal(n, 72);
    assert_int_equal(pkt[6], 58);   /* ICMPv6 */
    assert_int_equal(pkt[7], 255);  /* hop limit */
    assert_memory_equal(pkt + 24, want.a, 16);
    assert_int_equal(pkt[40], 135); /* NS */
    assert_memory_equal(pkt + 48, them.a, 16);
    assert_int_equal(pkt[64], 1);   /* source link-layer address */
    assert_int_equal(pkt[65], 1);
    assert_memory_equal(pkt + 66, mac, 6);
    assert_int_equal(v6_verify(pkt, n), 0);
}

static size_t neighbour_advert(uint8_t *pkt, const vg_addr *from, const vg_addr *to,
                               const uint8_t *mac, uint8_t hops)
{
    memset(pkt, 0, 80);
    pkt[0] = 0x60;
    pkt[5] = 32;
    pkt[6] = 58;
    pkt[7] = hops;
    memcpy(pkt + 8, from->a, 16);
    memcpy(pkt + 24, to->a, 16);
    pkt[40] = 136;
    pkt[44] = 0x60; /* solicited, override */
    memcpy(pkt + 48, from->a, 16);
    pkt[64] = 2;    /* target link-layer address */
    pkt[65] = 1;
    memcpy(pkt + 66, mac, 6);
    return 72;
}

static void test_neighbour_advertisement(void **state)
{
    vg_addr us = addr("2001:db8::1"), them = addr("2001:db8::2");
    static const uint8_t mac[6] = {0x00, 0x00, 0x0c, 1, 2, 3};
    uint8_t pkt[128];
    vg_pkt p;
    vg_probe_reply r;
    (void)state;
    size_t n = neighbour_advert(pkt, &them, &us, mac, 255);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_ndp.classify(&p, &r));
    assert_int_equal(r.reason, VG_REASON_ND_RESPONSE);
    assert_true(r.has_mac);
    assert_memory_equal(r.mac, mac, 6);
    assert_int_equal(vg_addr_cmp(&r.target, &them), 0);
    /* Not from the link (hop limit below 255): ignored, as RFC 4861 says. */
    n = neighbour_advert(pkt, &them, &us, mac, 64);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_false(vg_probe_ndp.classify(&p, &r));
    /* An option with length 0 must not loop forever; a cut option is no MAC. */
    n = neighbour_advert(pkt, &them, &us, mac, 255);
    pkt[65] = 0;
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_ndp.classify(&p, &r));
    assert_false(r.has_mac);
    pkt[65] = 3; /* claims 24 bytes, 8 present */
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_ndp.classify(&p, &r));
    /* Truncated before the target address. */
    pkt[5] = 10;
    assert_true(vg_pkt_parse(pkt, 50, &p));
    assert_false(vg_probe_ndp.classify(&p, &r));
}

static void test_arp(void **state)
{
    vg_addr us = addr("198.18.0.1"), them = addr("198.18.0.2");
    static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 1};
    static const uint8_t their_mac[6] = {0x00, 0x00, 0x0c, 9, 8, 7};
    uint8_t req[64], rep[64];
    vg_probe_reply r;
    (void)state;
    vg_tmpl t;
    assert_true(vg_probe_arp.template_init(&t, &us, 0));
    vg_probe_args a = {.dst = &them, .src_mac = our_mac};
    size_t n = vg_probe_arp.build(&t, &a, req);
    static const uint8_t want[28] = {0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 1, 198, 18, 0, 1,
                                     0, 0, 0, 0, 0, 0, 198, 18, 0, 2};
    assert_int_equal(n, 28);
    assert_memory_equal(req, want, 28);
    assert_int_equal(vg_probe_arp.ethertype, 0x0806);
    /* Our own request is not a reply. */
    assert_false(vg_probe_arp.classify_frame(req, n, &r));
    /* The reply. */
    memcpy(rep, want, 28);
    rep[7] = 2;
    memcpy(rep + 8, their_mac, 6);
    memcpy(rep + 14, them.a, 4);
    memcpy(rep + 18, our_mac, 6);
    memcpy(rep + 24, us.a, 4);
    assert_true(vg_probe_arp.classify_frame(rep, 28, &r));
    assert_int_equal(r.reason, VG_REASON_ARP_RESPONSE);
    assert_memory_equal(r.mac, their_mac, 6);
    assert_int_equal(vg_addr_cmp(&r.target, &them), 0);
    assert_int_equal(vg_addr_cmp(&r.local, &us), 0);
    for(size_t k = 0; k < 28; k++)
        assert_false(vg_probe_arp.classify_frame(rep, k, &r)); /* every truncation */
    rep[4] = 8; /* not ethernet/IPv4 sizes */
    assert_false(vg_probe_arp.classify_frame(rep, 28, &r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_request_and_reply),
        cmocka_unit_test(test_ack_probe_and_rst),
        cmocka_unit_test(test_neighbour_solicitation),
        cmocka_unit_test(test_neighbour_advertisement),
        cmocka_unit_test(test_arp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
