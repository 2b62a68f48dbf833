/* SPDX-License-Identifier: MIT */
/* Probe packets and reply parsing: the SYN and UDP probes are compared byte
 * for byte with packets this test assembles on its own (naive checksums),
 * replies of every kind are built here and classified, and the parser is
 * fed truncations and garbage. */
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

/* Transport checksum over a pseudo header laid out in memory, as the RFCs
 * draw it. */
static uint16_t ref_l4_csum(int family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
                            const uint8_t *l4, size_t len)
{
    uint8_t buf[2048];
    size_t n = 0;
    if(family == AF_INET) {
        memcpy(buf, src, 4);
        memcpy(buf + 4, dst, 4);
        buf[8] = 0;
        buf[9] = proto;
        be16(buf + 10, (unsigned)len);
        n = 12;
    }
    else {
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

/* IP header + l4 bytes (checksum field of l4 at csum_at filled here). */
static size_t assemble(uint8_t *out, int family, uint8_t proto, const vg_addr *src,
                       const vg_addr *dst, uint16_t ip_id, uint8_t ttl, const uint8_t *l4,
                       size_t l4len, int csum_at)
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
        memcpy(out + 16, dst->a, 4);
        be16(out + 10, ref_csum(out, 20));
    }
    else {
        out[0] = 0x60;
        be16(out + 4, (unsigned)l4len);
        out[6] = proto;
        out[7] = ttl;
        memcpy(out + 8, src->a, 16);
        memcpy(out + 24, dst->a, 16);
    }
    memcpy(out + ip, l4, l4len);
    if(csum_at >= 0) {
        be16(out + ip + csum_at, 0);
        uint16_t c = ref_l4_csum(family, proto, src->a, dst->a, out + ip, l4len);
        if(proto == IPPROTO_UDP && c == 0)
            c = 0xffff;
        be16(out + ip + csum_at, c);
    }
    return ip + l4len;
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

/* --- probes -------------------------------------------------------------------- */

static void check_syn(const char *src_s, const char *dst_s)
{
    vg_addr src = addr(src_s), dst = addr(dst_s);
    vg_tmpl t;
    uint8_t pkt[VG_PROBE_MAX], want[VG_PROBE_MAX], tcp[24];

    assert_true(vg_probe_tcp_syn.template_init(&t, &src, 0));
    srand(42);
    for(int i = 0; i < 5000; i++) {
        vg_probe_args a = {
            .dst = &dst,
            .sport = (uint16_t)rand(), .dport = (uint16_t)(rand() | 1),
            .cookie = (uint32_t)rand() ^ (uint32_t)rand() << 16,
            .ip_id = (uint16_t)rand(),
        };
        if(i == 0) {
            a.cookie = 0xffffffffu; /* extremes for the checksum folding */
            a.sport = a.dport = 0xffff;
        }
        size_t len = vg_probe_tcp_syn.build(&t, &a, pkt);
        memset(tcp, 0, sizeof(tcp));
        be16(tcp, a.sport);
        be16(tcp + 2, a.dport);
        be32(tcp + 4, a.cookie);
        tcp[12] = 6 << 4;  /* 24-byte header */
        tcp[13] = 0x02;    /* SYN */
        be16(tcp + 14, 1024);
        tcp[20] = 2;       /* MSS 1460 */
        tcp[21] = 4;
        be16(tcp + 22, 1460);
        size_t wlen = assemble(want, src.family, IPPROTO_TCP, &src, &dst, a.ip_id, 64, tcp,
                               sizeof(tcp), 16);
        assert_int_equal(len, wlen);
        assert_memory_equal(pkt, want, len);
    }
}

static void test_syn_ipv4(void **state)
{
    (void)state;
    check_syn("198.18.0.1", "198.18.0.2");
    check_syn("255.255.255.254", "0.0.0.1");
}

static void test_syn_ipv6(void **state)
{
    (void)state;
    check_syn("2001:db8::1", "2001:db8::2");
    check_syn("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "2001:db8:ffff::1");
}

static void check_udp(const char *src_s, const char *dst_s, uint16_t dport)
{
    vg_addr src = addr(src_s), dst = addr(dst_s);
    vg_tmpl t;
    uint8_t pkt[VG_PROBE_MAX], want[VG_PROBE_MAX], udp[VG_PROBE_MAX];
    size_t plen;
    const char *name;
    const uint8_t *payload = vg_udp_payload(dport, &plen, &name);

    assert_true(vg_probe_udp.template_init(&t, &src, dport));
    vg_probe_args a = {.dst = &dst, .sport = 61234, .dport = dport,
                       .cookie = 0xa1b2c3d4, .ip_id = 77};
    size_t len = vg_probe_udp.build(&t, &a, pkt);
    be16(udp, a.sport);
    be16(udp + 2, dport);
    be16(udp + 4, (unsigned)(8 + plen));
    be16(udp + 6, 0);
    if(plen)
        memcpy(udp + 8, payload, plen);
    /* Protocols that echo an id carry the cookie's low bits there. */
    if(dport == 53 || dport == 137 || dport == 5353)
        be16(udp + 8, 0xc3d4);
    if(dport == 111)
        be32(udp + 8, 0xa1b2c3d4);
    if(dport == 123)
        be32(udp + 8 + 40, 0xa1b2c3d4);
    size_t wlen = assemble(want, src.family, IPPROTO_UDP, &src, &dst, 77, 64, udp, 8 + plen, 6);
    assert_int_equal(len, wlen);
    assert_memory_equal(pkt, want, len);
}

static void test_udp_probes(void **state)
{
    static const uint16_t ports[] = {9, 53, 111, 123, 137, 161, 1900, 5353, 40000};
    (void)state;
    for(size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        check_udp("198.18.0.1", "198.18.0.2", ports[i]);
        check_udp("2001:db8::1", "2001:db8::2", ports[i]);
    }
}

static void test_udp_payloads_are_well_formed(void **state)
{
    size_t len;
    const char *name;
    const uint8_t *p;
    (void)state;
    /* DNS: a header with one question for the root, type NS, class IN. */
    p = vg_udp_payload(53, &len, &name);
    assert_non_null(p);
    assert_string_equal(name, "dns");
    assert_int_equal(len, 17);
    assert_int_equal(p[5], 1);     /* QDCOUNT */
    assert_int_equal(p[12], 0);    /* root label */
    assert_int_equal(p[14], 2);    /* NS */
    assert_int_equal(p[16], 1);    /* IN */
    /* NTP: 48 bytes, version 4, client mode. */
    p = vg_udp_payload(123, &len, &name);
    assert_int_equal(len, 48);
    assert_int_equal((p[0] >> 3) & 7, 4);
    assert_int_equal(p[0] & 7, 3);
    /* SNMP: the outer BER SEQUENCE length covers the rest exactly, and so
     * does the PDU's. */
    p = vg_udp_payload(161, &len, &name);
    assert_int_equal(p[0], 0x30);
    assert_int_equal(p[1] + 2, len);
    assert_int_equal(p[13], 0xa0);
    assert_int_equal(p[14] + 15, len);
    /* NetBIOS: a 32-letter encoded name, NBSTAT question. */
    p = vg_udp_payload(137, &len, &name);
    assert_int_equal(p[12], 32);
    for(int i = 0; i < 32; i++)
        assert_true(p[13 + i] >= 'A' && p[13 + i] <= 'P');
    assert_int_equal(p[45], 0);     /* end of name */
    assert_int_equal(p[47], 0x21);  /* NBSTAT */
    /* SSDP: an HTTP-like request ending with an empty line. */
    p = vg_udp_payload(1900, &len, &name);
    assert_memory_equal(p, "M-SEARCH * HTTP/1.1\r\n", 21);
    assert_memory_equal(p + len - 4, "\r\n\r\n", 4);
    /* Anything else: an empty datagram. */
    assert_null(vg_udp_payload(40000, &len, &name));
    assert_int_equal(len, 0);
}

/* --- replies ------------------------------------------------------------------- */

static size_t tcp_reply(uint8_t *out, const vg_addr *from, const vg_addr *to, uint16_t sport,
                        uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
    uint8_t tcp[20] = {0};
    be16(tcp, sport);
    be16(tcp + 2, dport);
    be32(tcp + 4, seq);
    be32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    be16(tcp + 14, 65535);
    return assemble(out, from->family, IPPROTO_TCP, from, to, 1, 64, tcp, sizeof(tcp), 16);
}

static void test_syn_ack_and_rst(void **state)
{
    static const char *const pairs[][2] = {{"198.18.0.1", "198.18.0.2"},
                                           {"2001:db8::1", "2001:db8::2"}};
    (void)state;
    for(int i = 0; i < 2; i++) {
        vg_addr us = addr(pairs[i][0]), them = addr(pairs[i][1]);
        uint8_t pkt[256];
        vg_pkt p;
        vg_probe_reply r;

        size_t n = tcp_reply(pkt, &them, &us, 443, 61001, 999, 0x12345679, 0x12);
        assert_true(vg_pkt_parse(pkt, n, &p));
        assert_true(vg_probe_tcp_syn.classify(&p, &r));
        assert_int_equal(r.state, VG_STATE_OPEN);
        assert_int_equal(r.reason, VG_REASON_SYN_ACK);
        assert_int_equal(r.tport, 443);
        assert_int_equal(r.lport, 61001);
        assert_true(r.has_echo);
        assert_int_equal(r.echo, 0x12345678);
        assert_int_equal(vg_addr_cmp(&r.target, &them), 0);
        assert_int_equal(vg_addr_cmp(&r.local, &us), 0);
        assert_false(vg_probe_udp.classify(&p, &r));

        /* RST-ACK: closed. The ack wraps around 2^32. */
        n = tcp_reply(pkt, &them, &us, 22, 61002, 0, 0, 0x14);
        assert_true(vg_pkt_parse(pkt, n, &p));
        assert_true(vg_probe_tcp_syn.classify(&p, &r));
        assert_int_equal(r.state, VG_STATE_CLOSED);
        assert_int_equal(r.reason, VG_REASON_CONN_REFUSED);
        assert_int_equal(r.echo, 0xffffffffu);

        /* What answers no SYN: a bare SYN, a bare RST, an ACK. */
        static const uint8_t other[] = {0x02, 0x04, 0x10, 0x11};
        for(size_t k = 0; k < sizeof(other); k++) {
            n = tcp_reply(pkt, &them, &us, 22, 61002, 5, 6, other[k]);
            assert_true(vg_pkt_parse(pkt, n, &p));
            assert_false(vg_probe_tcp_syn.classify(&p, &r));
        }
    }
}

/* An ICMP(v6) error quoting our probe (the first quote_len bytes of it). */
static size_t icmp_error(uint8_t *out, const vg_addr *from, const vg_addr *to, uint8_t type,
                         uint8_t code, const uint8_t *probe, size_t quote_len)
{
    uint8_t icmp[600] = {0};
    icmp[0] = type;
    icmp[1] = code;
    memcpy(icmp + 8, probe, quote_len);
    size_t len = 8 + quote_len;
    if(from->family == AF_INET) {
        be16(icmp + 2, ref_csum(icmp, len));
        return assemble(out, AF_INET, IPPROTO_ICMP, from, to, 3, 64, icmp, len, -1);
    }
    return assemble(out, AF_INET6, IPPROTO_ICMPV6, from, to, 3, 64, icmp, len, 2);
}

static void test_icmp_errors_for_syn(void **state)
{
    struct {
        const char *us, *them, *router;
        uint8_t type, code;
        int reason;
    } cases[] = {
        {"198.18.0.1", "198.18.0.2", "198.18.0.2", 3, 13, VG_REASON_ADMIN_PROHIBITED},
        {"198.18.0.1", "198.18.0.2", "198.18.0.254", 3, 1, VG_REASON_HOST_UNREACH},
        {"198.18.0.1", "198.18.0.2", "198.18.0.2", 3, 0, VG_REASON_NET_UNREACH},
        {"198.18.0.1", "198.18.0.2", "198.18.0.2", 3, 3, VG_REASON_PORT_UNREACH},
        {"198.18.0.1", "198.18.0.2", "198.18.0.2", 3, 2, VG_REASON_PROTO_UNREACH},
        {"198.18.0.1", "198.18.0.2", "198.18.0.9", 11, 0, VG_REASON_TTL_EXCEEDED},
        {"2001:db8::1", "2001:db8::2", "2001:db8::2", 1, 1, VG_REASON_ADMIN_PROHIBITED},
        {"2001:db8::1", "2001:db8::2", "2001:db8::2", 1, 3, VG_REASON_HOST_UNREACH},
        {"2001:db8::1", "2001:db8::2", "2001:db8::2", 1, 0, VG_REASON_NET_UNREACH},
        {"2001:db8::1", "2001:db8::2", "2001:db8::2", 1, 4, VG_REASON_PORT_UNREACH},
        {"2001:db8::1", "2001:db8::2", "2001:db8::ff", 3, 0, VG_REASON_TTL_EXCEEDED},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vg_addr us = addr(cases[i].us), them = addr(cases[i].them);
        vg_addr router = addr(cases[i].router);
        vg_tmpl t;
        uint8_t probe[VG_PROBE_MAX], pkt[1024];
        vg_pkt p;
        vg_probe_reply r;
        vg_probe_tcp_syn.template_init(&t, &us, 0);
        vg_probe_args a = {.dst = &them, .sport = 61500, .dport = 8080,
                           .cookie = 0xdeadbeef, .ip_id = 9};
        size_t plen = vg_probe_tcp_syn.build(&t, &a, probe);
        /* A minimal IPv4 quote (header + 8 bytes) and a full one. */
        size_t ip = us.family == AF_INET ? 20 : 40;
        size_t quotes[] = {ip + 8, plen};
        for(int q = 0; q < 2; q++) {
            size_t n = icmp_error(pkt, &router, &us, cases[i].type, cases[i].code, probe,
                                  quotes[q]);
            assert_true(vg_pkt_parse(pkt, n, &p));
            assert_true(p.icmp_error);
            assert_true(vg_probe_tcp_syn.classify(&p, &r));
            assert_int_equal(r.state, VG_STATE_FILTERED);
            assert_int_equal(r.reason, cases[i].reason);
            assert_int_equal(r.echo, 0xdeadbeef);
            assert_int_equal(r.lport, 61500);
            assert_int_equal(r.tport, 8080);
            assert_int_equal(vg_addr_cmp(&r.target, &them), 0);
            assert_int_equal(vg_addr_cmp(&r.from, &router), 0);
            assert_false(vg_probe_udp.classify(&p, &r));
        }
        /* A quote too short to hold the sequence number is no evidence. */
        size_t n = icmp_error(pkt, &router, &us, cases[i].type, cases[i].code, probe, ip + 6);
        if(vg_pkt_parse(pkt, n, &p))
            assert_false(vg_probe_tcp_syn.classify(&p, &r));
    }
}

static void test_udp_replies(void **state)
{
    vg_addr us = addr("198.18.0.1"), them = addr("198.18.0.2"), rtr = addr("198.18.0.254");
    uint8_t udp[64] = {0}, pkt[512], probe[VG_PROBE_MAX];
    vg_pkt p;
    vg_probe_reply r;
    vg_tmpl t;
    (void)state;

    /* A DNS answer echoing the id. */
    be16(udp, 53);
    be16(udp + 2, 61777);
    be16(udp + 4, 8 + 12);
    be16(udp + 8, 0xbeef);
    udp[10] = 0x81;
    size_t n = assemble(pkt, AF_INET, IPPROTO_UDP, &them, &us, 1, 64, udp, 20, 6);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_udp.classify(&p, &r));
    assert_int_equal(r.state, VG_STATE_OPEN);
    assert_int_equal(r.reason, VG_REASON_UDP_RESPONSE);
    assert_int_equal(r.tport, 53);
    assert_int_equal(r.lport, 61777);
    /* Any datagram from the probed port means open (nmap's rule), even
     * one too short to be a DNS answer: a server on the port answered. */
    be16(udp + 4, 8 + 1);
    n = assemble(pkt, AF_INET, IPPROTO_UDP, &them, &us, 1, 64, udp, 9, 6);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_udp.classify(&p, &r));
    assert_int_equal(r.state, VG_STATE_OPEN);
    assert_false(r.has_echo);
    /* Any datagram from a port without an id: open, no echo needed. */
    be16(udp, 7777);
    n = assemble(pkt, AF_INET, IPPROTO_UDP, &them, &us, 1, 64, udp, 9, 6);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_udp.classify(&p, &r));
    assert_false(r.has_echo);

    /* Port unreachable from the target: closed; from a router: filtered. */
    vg_probe_udp.template_init(&t, &us, 0);
    vg_probe_args a = {.dst = &them, .sport = 61400, .dport = 7,
                       .cookie = 1, .ip_id = 2};
    size_t plen = vg_probe_udp.build(&t, &a, probe);
    n = icmp_error(pkt, &them, &us, 3, 3, probe, plen);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_udp.classify(&p, &r));
    assert_int_equal(r.state, VG_STATE_CLOSED);
    assert_int_equal(r.reason, VG_REASON_PORT_UNREACH);
    assert_int_equal(r.lport, 61400);
    assert_int_equal(r.tport, 7);
    assert_false(vg_probe_tcp_syn.classify(&p, &r));
    n = icmp_error(pkt, &rtr, &us, 3, 3, probe, plen);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_udp.classify(&p, &r));
    assert_int_equal(r.state, VG_STATE_FILTERED);
    n = icmp_error(pkt, &them, &us, 3, 10, probe, plen);
    assert_true(vg_pkt_parse(pkt, n, &p));
    assert_true(vg_probe_udp.classify(&p, &r));
    assert_int_equal(r.state, VG_STATE_FILTERED);
    assert_int_equal(r.reason, VG_REASON_ADMIN_PROHIBITED);
}

static void test_ipv6_extension_headers(void **state)
{
    vg_addr us = addr("2001:db8::1"), them = addr("2001:db8::2");
    uint8_t pkt[256], ext[256];
    vg_pkt p;
    vg_probe_reply r;
    (void)state;
    size_t n = tcp_reply(pkt, &them, &us, 80, 61003, 1, 101, 0x12);
    /* Insert a hop-by-hop header (8 bytes of padding options) before TCP. */
    memcpy(ext, pkt, 40);
    ext[6] = 0; /* next header: hop-by-hop */
    ext[40] = IPPROTO_TCP;
    ext[41] = 0; /* 8 bytes */
    ext[42] = 1; /* PadN */
    ext[43] = 4;
    memset(ext + 44, 0, 4);
    memcpy(ext + 48, pkt + 40, n - 40);
    be16(ext + 4, (unsigned)(n - 40 + 8));
    assert_true(vg_pkt_parse(ext, n + 8, &p));
    assert_int_equal(p.ip.proto, IPPROTO_TCP);
    assert_true(vg_probe_tcp_syn.classify(&p, &r));
    assert_int_equal(r.echo, 100);
    /* A hop-by-hop header claiming more than the packet holds. */
    ext[41] = 200;
    assert_false(vg_pkt_parse(ext, n + 8, &p));
    /* A non-first fragment: no transport header to match. */
    memcpy(ext, pkt, 40);
    ext[6] = IPPROTO_FRAGMENT;
    ext[40] = IPPROTO_TCP;
    ext[41] = 0;
    be16(ext + 42, 8 << 3);
    memset(ext + 44, 0, 4);
    memcpy(ext + 48, pkt + 40, n - 40);
    assert_false(vg_pkt_parse(ext, n + 8, &p));
}

static void test_truncations_and_garbage(void **state)
{
    vg_addr us = addr("198.18.0.1"), them = addr("198.18.0.2");
    vg_addr us6 = addr("2001:db8::1"), them6 = addr("2001:db8::2");
    uint8_t pkts[4][1024], probe[VG_PROBE_MAX], buf[1024];
    size_t lens[4];
    vg_pkt p;
    vg_probe_reply r;
    vg_tmpl t;
    (void)state;

    lens[0] = tcp_reply(pkts[0], &them, &us, 80, 61003, 1, 2, 0x12);
    lens[1] = tcp_reply(pkts[1], &them6, &us6, 80, 61003, 1, 2, 0x14);
    vg_probe_tcp_syn.template_init(&t, &us6, 0);
    vg_probe_args a = {.dst = &them6, .sport = 61500, .dport = 80, .cookie = 5};
    size_t plen = vg_probe_tcp_syn.build(&t, &a, probe);
    lens[2] = icmp_error(pkts[2], &them6, &us6, 1, 1, probe, plen);
    vg_probe_tcp_syn.template_init(&t, &us, 0);
    a.dst = &them;
    plen = vg_probe_tcp_syn.build(&t, &a, probe);
    lens[3] = icmp_error(pkts[3], &them, &us, 3, 13, probe, plen);

    /* Every truncation of every packet: parse, never read past the end
     * (ASan watches), and a real packet cut short is not accepted. */
    for(int k = 0; k < 4; k++) {
        for(size_t n = 0; n < lens[k]; n++) {
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, pkts[k], n);
            if(vg_pkt_parse(copy, n, &p)) {
                vg_probe_tcp_syn.classify(&p, &r);
                vg_probe_udp.classify(&p, &r);
            }
            free(copy);
        }
        assert_true(vg_pkt_parse(pkts[k], lens[k], &p));
    }
    /* Random bit flips and random bytes. */
    srand(1234);
    for(int i = 0; i < 200000; i++) {
        int k = i % 4;
        size_t n = lens[k];
        memcpy(buf, pkts[k], n);
        int flips = 1 + rand() % 4;
        for(int f = 0; f < flips; f++)
            buf[rand() % n] ^= (uint8_t)(1u << (rand() % 8));
        if(i % 5 == 0) {
            n = (size_t)(rand() % 200);
            for(size_t j = 0; j < n; j++)
                buf[j] = (uint8_t)rand();
            buf[0] = (uint8_t)((rand() & 1 ? 0x40 : 0x60) | (buf[0] & 0x0f));
        }
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, buf, n);
        if(vg_pkt_parse(copy, n, &p)) {
            vg_probe_tcp_syn.classify(&p, &r);
            vg_probe_udp.classify(&p, &r);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_ipv4),
        cmocka_unit_test(test_syn_ipv6),
        cmocka_unit_test(test_udp_probes),
        cmocka_unit_test(test_udp_payloads_are_well_formed),
        cmocka_unit_test(test_syn_ack_and_rst),
        cmocka_unit_test(test_icmp_errors_for_syn),
        cmocka_unit_test(test_udp_replies),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_truncations_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
