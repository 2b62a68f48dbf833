/* SPDX-License-Identifier: MIT */
/* Every probe kind that sends per-target packets builds them from a
 * template per (family, source) with the varying fields patched in and the
 * checksums finished from stored sums. For random sources, targets, ports,
 * cookies and IP ids, the patched packet must be byte for byte the packet
 * this test assembles from scratch with a full checksum: one template
 * serves many targets, and a template re-made for another source forgets
 * the old one. Also: the registry finds every kind by name. */
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

#define ROUNDS 3000

/* --- an independent packet assembler ---------------------------------------- */

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

static void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v & 0xffff);
}

/* Upper-layer checksum over the message and, except for ICMPv4, a pseudo
 * header laid out in memory as the RFCs draw it. */
static uint16_t ref_l4_csum(int family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
                            const uint8_t *l4, size_t len)
{
    uint8_t buf[2048];
    size_t n = 0;
    if(family == AF_INET && proto != IPPROTO_ICMP) {
        memcpy(buf, src, 4);
        memcpy(buf + 4, dst, 4);
        buf[8] = 0;
        buf[9] = proto;
        be16(buf + 10, (unsigned)len);
        n = 12;
    }
    else if(family == AF_INET6) {
        memcpy(buf, src, 16);
        memcpy(buf + 16, dst, 16);
        be32(buf + 32, (uint32_t)len);
        buf[36] = buf[37] = buf[38] = 0;
        buf[39] = proto;
        n = 40;
    }
    memcpy(buf + n, l4, len);
    return ref_csum(buf, n + len);
}

/* IP header + upper layer, the upper layer's checksum (at csum_at) computed
 * over the whole of it. */
static size_t assemble(uint8_t *out, int family, uint8_t proto, const vg_addr *src,
                       const uint8_t *dst, uint16_t ip_id, uint8_t ttl, const uint8_t *l4,
                       size_t l4len, size_t csum_at)
{
    size_t ip = family == AF_INET ? 20 : 40;
    memset(out, 0, ip);
    if(family == AF_INET) {
        out[0] = 0x45;
        be16(out + 2, (unsigned)(20 + l4len));
        be16(out + 4, ip_id);
        out[8] = ttl;
        out[9] = proto;
        memcpy(out + 12, src->a, 4);
        memcpy(out + 16, dst, 4);
        be16(out + 10, ref_csum(out, 20));
    }
    else {
        out[0] = 0x60;
        be16(out + 4, (unsigned)l4len);
        out[6] = proto;
        out[7] = ttl;
        memcpy(out + 8, src->a, 16);
        memcpy(out + 24, dst, 16);
    }
    memcpy(out + ip, l4, l4len);
    be16(out + ip + csum_at, 0);
    uint16_t c = ref_l4_csum(family, proto, src->a, dst, out + ip, l4len);
    if(proto == IPPROTO_UDP && c == 0)
        c = 0xffff;
    be16(out + ip + csum_at, c);
    return ip + l4len;
}

/* --- random inputs ------------------------------------------------------------------ */

static uint32_t rnd32(void)
{
    return (uint32_t)rand() ^ (uint32_t)rand() << 16;
}

static vg_addr rnd_addr(int family)
{
    vg_addr a;
    memset(&a, 0, sizeof(a));
    a.family = (uint8_t)family;
    for(int i = 0; i < (family == AF_INET ? 4 : 16); i++)
        a.a[i] = (uint8_t)rand();
    return a;
}

/* The varying fields of one probe; every 50th round takes extremes, which
 * stress the folding of the sums. */
static vg_probe_args rnd_args(int round, vg_addr *dst, int family, uint8_t *mac)
{
    *dst = rnd_addr(family);
    for(int i = 0; i < 6; i++)
        mac[i] = (uint8_t)rand();
    vg_probe_args a = {
        .dst = dst,
        .sport = (uint16_t)rand(),
        .dport = (uint16_t)rand(),
        .cookie = rnd32(),
        .ip_id = (uint16_t)rand(),
        .src_mac = mac,
    };
    if(round % 50 == 0) {
        memset(dst->a, round % 100 ? 0xff : 0, 16);
        a.sport = a.dport = a.ip_id = round % 100 ? 0xffff : 0;
        a.cookie = round % 100 ? 0xffffffffu : 0;
        memset(mac, round % 100 ? 0xff : 0, 6);
    }
    return a;
}

/* The reference packet of each kind, from the same inputs. */
typedef size_t (*ref_fn)(uint8_t *out, const vg_addr *src, const vg_probe_args *a);

static size_t ref_tcp(uint8_t *out, const vg_addr *src, const vg_probe_args *a, uint8_t flags,
                      uint32_t seq, uint32_t ack)
{
    uint8_t tcp[24] = {0};
    be16(tcp, a->sport);
    be16(tcp + 2, a->dport);
    be32(tcp + 4, seq);
    be32(tcp + 8, ack);
    tcp[12] = 6 << 4; /* 24-byte header */
    tcp[13] = flags;
    be16(tcp + 14, 1024);
    tcp[20] = 2; /* MSS 1460 */
    tcp[21] = 4;
    be16(tcp + 22, 1460);
    return assemble(out, src->family, IPPROTO_TCP, src, a->dst->a, a->ip_id, 64, tcp,
                    sizeof(tcp), 16);
}

static size_t ref_syn(uint8_t *out, const vg_addr *src, const vg_probe_args *a)
{
    return ref_tcp(out, src, a, 0x02, a->cookie, 0);
}

static size_t ref_ack(uint8_t *out, const vg_addr *src, const vg_probe_args *a)
{
    return ref_tcp(out, src, a, 0x10, 0, a->cookie);
}

static size_t ref_udp(uint8_t *out, const vg_addr *src, const vg_probe_args *a)
{
    uint8_t udp[VG_PROBE_MAX] = {0};
    size_t plen;
    const uint8_t *payload = vg_udp_payload(a->dport, &plen, NULL);
    be16(udp, a->sport);
    be16(udp + 2, a->dport);
    be16(udp + 4, (unsigned)(8 + plen));
    if(plen)
        memcpy(udp + 8, payload, plen);
    /* Protocols that echo an id carry the cookie's low bits there. */
    if(a->dport == 53 || a->dport == 137 || a->dport == 5353)
        be16(udp + 8, a->cookie & 0xffff);
    if(a->dport == 111)
        be32(udp + 8, a->cookie);
    if(a->dport == 123)
        be32(udp + 8 + 40, a->cookie);
    return assemble(out, src->family, IPPROTO_UDP, src, a->dst->a, a->ip_id, 64, udp, 8 + plen,
                    6);
}

static size_t ref_echo(uint8_t *out, const vg_addr *src, const vg_probe_args *a)
{
    uint8_t icmp[16] = {0};
    icmp[0] = src->family == AF_INET ? 8 : 128;
    be16(icmp + 4, a->sport);
    be16(icmp + 6, a->cookie & 0xffff);
    memcpy(icmp + 8, "vigia-pn", 8);
    return assemble(out, src->family, src->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6,
                    src, a->dst->a, a->ip_id, 64, icmp, sizeof(icmp), 2);
}

static size_t ref_ndp(uint8_t *out, const vg_addr *src, const vg_probe_args *a)
{
    uint8_t ns[32] = {0}, group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    memcpy(group + 13, a->dst->a + 13, 3);
    ns[0] = 135;
    memcpy(ns + 8, a->dst->a, 16);
    ns[24] = 1; /* source link-layer address, 8 bytes */
    ns[25] = 1;
    memcpy(ns + 26, a->src_mac, 6);
    return assemble(out, AF_INET6, IPPROTO_ICMPV6, src, group, 0, 255, ns, sizeof(ns), 2);
}

static size_t ref_arp(uint8_t *out, const vg_addr *src, const vg_probe_args *a)
{
    static const uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 1};
    memcpy(out, head, 8);
    memcpy(out + 8, a->src_mac, 6);
    memcpy(out + 14, src->a, 4);
    memset(out + 18, 0, 6);
    memcpy(out + 24, a->dst->a, 4);
    return 28;
}

/* --- the comparison ---------------------------------------------------------------- */

/* For a few random sources of family, one template each (taken in turns,
 * so each serves many targets and is also re-made for another source in
 * between), compares every build with the reference. ports: the target
 * ports to draw from (NULL: any). */
static void check_kind(const vg_probe_type *type, int family, ref_fn ref,
                       const uint16_t *ports, size_t nports)
{
    vg_addr srcs[4];
    vg_tmpl kept[4], reused;
    uint8_t pkt[VG_PROBE_MAX], want[VG_PROBE_MAX], mac[6];

    assert_non_null(type);
    srand(20260 + family);
    for(int s = 0; s < 4; s++)
        srcs[s] = rnd_addr(family);
    memset(&reused, 0xa5, sizeof(reused)); /* garbage before the first init */
    for(int i = 0; i < ROUNDS; i++) {
        int s = i % 4;
        vg_addr dst;
        vg_probe_args a = rnd_args(i, &dst, family, mac);
        if(ports)
            a.dport = ports[(size_t)rand() % nports];
        uint8_t v = type->variant ? type->variant(a.dport) : 0;
        assert_true(v < type->variants);
        /* One template per source, made once and kept (kinds with one
         * variant: the same for every port)... */
        if(i < 4)
            assert_true(type->template_init(&kept[s], &srcs[s], a.dport));
        /* ... and one template re-made for each probe's source. */
        assert_true(type->template_init(&reused, &srcs[s], a.dport));
        assert_int_equal(reused.family, family);
        size_t len = type->build(&reused, &a, pkt);
        size_t wlen = ref(want, &srcs[s], &a);
        assert_int_equal(len, wlen);
        assert_memory_equal(pkt, want, len);
        if(type->variants == 1) {
            /* The kept template, built many rounds ago, gives the same. */
            memset(pkt, 0, sizeof(pkt));
            len = type->build(&kept[s], &a, pkt);
            assert_int_equal(len, wlen);
            assert_memory_equal(pkt, want, len);
        }
    }
}

static void test_tcp_syn(void **state)
{
    (void)state;
    check_kind(vg_probe_find("tcp_syn"), AF_INET, ref_syn, NULL, 0);
    check_kind(vg_probe_find("tcp_syn"), AF_INET6, ref_syn, NULL, 0);
}

static void test_tcp_ack(void **state)
{
    (void)state;
    check_kind(vg_probe_find("tcp_ack"), AF_INET, ref_ack, NULL, 0);
    check_kind(vg_probe_find("tcp_ack"), AF_INET6, ref_ack, NULL, 0);
}

static void test_udp(void **state)
{
    /* Every port with a payload, and ports without. */
    static const uint16_t ports[] = {53, 111, 123, 137, 161, 1900, 5353, 7, 9, 40000, 65535};
    (void)state;
    check_kind(vg_probe_find("udp"), AF_INET, ref_udp, ports, sizeof(ports) / sizeof(ports[0]));
    check_kind(vg_probe_find("udp"), AF_INET6, ref_udp, ports, sizeof(ports) / sizeof(ports[0]));
    check_kind(vg_probe_find("udp"), AF_INET, ref_udp, NULL, 0);
    check_kind(vg_probe_find("udp"), AF_INET6, ref_udp, NULL, 0);
}

/* UDP: one template per payload, each good for every target of its port;
 * ports without a payload share the empty datagram's. */
static void test_udp_variants(void **state)
{
    static const uint16_t ports[] = {53, 111, 123, 137, 161, 1900, 5353, 7, 40000};
    const vg_probe_type *udp = vg_probe_find("udp");
    vg_tmpl t[16];
    uint8_t pkt[VG_PROBE_MAX], want[VG_PROBE_MAX], mac[6];
    vg_addr src = rnd_addr(AF_INET6);
    bool made[16] = {false};
    (void)state;

    assert_int_equal(udp->variants, 8);
    assert_int_equal(udp->variant(7), udp->variant(40000));
    assert_int_not_equal(udp->variant(53), udp->variant(5353));
    srand(7);
    for(int i = 0; i < ROUNDS; i++) {
        vg_addr dst;
        vg_probe_args a = rnd_args(i, &dst, AF_INET6, mac);
        a.dport = ports[i % (int)(sizeof(ports) / sizeof(ports[0]))];
        uint8_t v = udp->variant(a.dport);
        if(!made[v])
            assert_true(udp->template_init(&t[v], &src, a.dport));
        made[v] = true;
        size_t len = udp->build(&t[v], &a, pkt);
        size_t wlen = ref_udp(want, &src, &a);
        assert_int_equal(len, wlen);
        assert_memory_equal(pkt, want, len);
    }
}

static void test_icmp_echo(void **state)
{
    (void)state;
    check_kind(vg_probe_find("icmp_echo"), AF_INET, ref_echo, NULL, 0);
    check_kind(vg_probe_find("icmp_echo"), AF_INET6, ref_echo, NULL, 0);
}

static void test_ndp(void **state)
{
    vg_tmpl t;
    vg_addr v4 = rnd_addr(AF_INET);
    (void)state;
    check_kind(vg_probe_find("ndp"), AF_INET6, ref_ndp, NULL, 0);
    assert_false(vg_probe_ndp.template_init(&t, &v4, 0));
}

static void test_arp(void **state)
{
    vg_tmpl t;
    vg_addr v6 = rnd_addr(AF_INET6);
    (void)state;
    check_kind(vg_probe_find("arp"), AF_INET, ref_arp, NULL, 0);
    assert_false(vg_probe_arp.template_init(&t, &v6, 0));
}

/* --- the registry ---------------------------------------------------------------- */

static void test_registry(void **state)
{
    static const char *const names[] = {"tcp_syn", "tcp_ack", "udp", "icmp_echo", "ndp", "arp"};
    (void)state;
    for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const vg_probe_type *t = vg_probe_find(names[i]);
        assert_non_null(t);
        assert_string_equal(t->name, names[i]);
        assert_non_null(t->help);
        assert_non_null(t->template_init);
        assert_non_null(t->build);
        assert_true(t->variants >= 1);
        /* An IP kind recognises IP replies, a kind below IP frames. */
        assert_true(t->ethertype ? t->classify_frame && !t->classify
                                 : t->classify && !t->classify_frame);
    }
    assert_ptr_equal(vg_probe_find("tcp_syn"), &vg_probe_tcp_syn);
    assert_ptr_equal(vg_probe_find("arp"), &vg_probe_arp);
    assert_null(vg_probe_find("tcp"));
    assert_null(vg_probe_find(""));
    assert_null(vg_probe_find("tcp_syn "));
    /* The rows, each once and each found by its own name. */
    size_t n = 0;
    for(const vg_probe_type *t; (t = vg_probe_at(n)); n++) {
        assert_ptr_equal(vg_probe_find(t->name), t);
        for(size_t j = 0; j < n; j++)
            assert_string_not_equal(vg_probe_at(j)->name, t->name);
    }
    assert_int_equal(n, sizeof(names) / sizeof(names[0]));
    assert_int_equal(vg_probe_proto(&vg_probe_icmp_echo, AF_INET), IPPROTO_ICMP);
    assert_int_equal(vg_probe_proto(&vg_probe_icmp_echo, AF_INET6), IPPROTO_ICMPV6);
    assert_int_equal(vg_probe_proto(&vg_probe_udp, AF_INET6), IPPROTO_UDP);
    assert_int_equal(vg_probe_proto(&vg_probe_arp, AF_INET), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_syn),
        cmocka_unit_test(test_tcp_ack),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_udp_variants),
        cmocka_unit_test(test_icmp_echo),
        cmocka_unit_test(test_ndp),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
