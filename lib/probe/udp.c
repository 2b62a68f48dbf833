/* SPDX-License-Identifier: MIT */
/* The UDP probe (-sU). Common services get a request they answer (written
 * from the protocol specifications, see the table below); every other port
 * gets an empty datagram. A UDP reply means open; ICMP port unreachable from
 * the target closed; other ICMP errors filtered; silence open|filtered.
 * Where the protocol echoes an identifier (DNS id, NetBIOS id, RPC xid,
 * NTP origin timestamp) it carries cookie bits, so a reply is checked twice:
 * by our source port and by the echoed id. */
#include <netinet/in.h>
#include <string.h>

#include "probe/probe.h"
#include "vigia/scan.h"

#define UDP_HDR 8

struct udp_payload {
    uint16_t port;
    const char *name;
    const uint8_t *data;
    uint16_t len;
    /* Where the cookie's low bytes go (cookie_len 0: nowhere), and where
     * the reply echoes them. */
    uint16_t cookie_off;
    uint8_t cookie_len;
    uint16_t echo_off;
};

/* RFC 1035 4.1: a recursion-desired query for the root's NS records. Any
 * DNS server answers it, if only with REFUSED. The id (bytes 0-1) is
 * echoed in the reply. */
static const uint8_t dns_query[] = {
    0x00, 0x00,             /* id: cookie */
    0x01, 0x00,             /* flags: QR=0 opcode QUERY, RD */
    0x00, 0x01,             /* QDCOUNT 1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* AN, NS, AR */
    0x00,                   /* QNAME: the root */
    0x00, 0x02,             /* QTYPE NS */
    0x00, 0x01,             /* QCLASS IN */
};

/* RFC 5905 7.3: a 48-byte client-mode (3) NTPv4 packet, leap indicator 3
 * (clock unsynchronised). The server copies our transmit timestamp (bytes
 * 40-47) into its origin timestamp (bytes 24-31). */
static const uint8_t ntp_client[48] = {
    0xe3, 0x00, 0x04, 0xfa, /* LI 3, VN 4, mode 3; stratum 0; poll 4; precision -6 */
    0x00, 0x01, 0x00, 0x00, /* root delay 1.0 */
    0x00, 0x01, 0x00, 0x00, /* root dispersion 1.0 */
};

/* RFC 1157 / X.690 BER: SNMPv1 GetRequest, community "public", for
 * sysDescr.0 (1.3.6.1.2.1.1.1.0). */
static const uint8_t snmp_get[] = {
    0x30, 0x29,                         /* SEQUENCE, 41 bytes */
    0x02, 0x01, 0x00,                   /* version: 0 (v1) */
    0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c', /* community */
    0xa0, 0x1c,                         /* GetRequest-PDU, 28 bytes */
    0x02, 0x04, 0x56, 0x49, 0x47, 0x41, /* request-id */
    0x02, 0x01, 0x00,                   /* error-status */
    0x02, 0x01, 0x00,                   /* error-index */
    0x30, 0x0e,                         /* variable-bindings, 14 bytes */
    0x30, 0x0c,                         /* one binding, 12 bytes */
    0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, /* sysDescr.0 */
    0x05, 0x00,                         /* value: NULL */
};

/* RFC 1002 4.2.17: NetBIOS NODE STATUS REQUEST for the wildcard name "*"
 * (0x2a then 15 NULs), first-level encoded as 32 letters ('A' + nibble). */
static const uint8_t nbns_stat[] = {
    0x00, 0x00,             /* NAME_TRN_ID: cookie */
    0x00, 0x00,             /* opcode QUERY, no flags */
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* QD 1, AN, NS, AR 0 */
    0x20,                   /* label length 32 */
    'C', 'K', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
    'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
    0x00,                   /* end of name */
    0x00, 0x21,             /* QUESTION_TYPE NBSTAT */
    0x00, 0x01,             /* QUESTION_CLASS IN */
};

/* UPnP Device Architecture 1.1, 1.3.2: an M-SEARCH for all devices. A
 * unicast search is answered directly; MX is ignored for it. */
static const uint8_t ssdp_search[] =
    "M-SEARCH * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "MAN: \"ssdp:discover\"\r\n"
    "MX: 1\r\n"
    "ST: ssdp:all\r\n"
    "\r\n";

/* RFC 5531: an ONC RPC call of procedure 0 (NULL) of the portmapper
 * (program 100000, version 2), no credentials. The xid is echoed. */
static const uint8_t rpc_null[] = {
    0x00, 0x00, 0x00, 0x00, /* xid: cookie */
    0x00, 0x00, 0x00, 0x00, /* CALL */
    0x00, 0x00, 0x00, 0x02, /* RPC version 2 */
    0x00, 0x01, 0x86, 0xa0, /* program 100000 */
    0x00, 0x00, 0x00, 0x02, /* version 2 */
    0x00, 0x00, 0x00, 0x00, /* procedure 0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* cred AUTH_NONE */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* verf AUTH_NONE */
};

static const struct udp_payload payloads[] = {
    {53, "dns", dns_query, sizeof(dns_query), 0, 2, 0},
    {111, "rpcbind", rpc_null, sizeof(rpc_null), 0, 4, 0},
    {123, "ntp", ntp_client, sizeof(ntp_client), 40, 4, 24},
    {137, "netbios-ns", nbns_stat, sizeof(nbns_stat), 0, 2, 0},
    {161, "snmp", snmp_get, sizeof(snmp_get), 0, 0, 0},
    {1900, "ssdp", ssdp_search, sizeof(ssdp_search) - 1, 0, 0, 0},
    {5353, "mdns", dns_query, sizeof(dns_query), 0, 2, 0},
};

#define N_PAYLOADS (sizeof(payloads) / sizeof(payloads[0]))

/* The template variant of a port: 1 + its payload's row, 0 for the empty
 * datagram. */
static uint8_t udp_variant(uint16_t port)
{
    for(size_t i = 0; i < N_PAYLOADS; i++) {
        if(payloads[i].port == port)
            return (uint8_t)(i + 1);
    }
    return 0;
}

static const struct udp_payload *payload_for(uint16_t port)
{
    uint8_t v = udp_variant(port);
    return v ? &payloads[v - 1] : NULL;
}

const uint8_t *vg_udp_payload(uint16_t port, size_t *len, const char **name)
{
    const struct udp_payload *pl = payload_for(port);
    *len = pl ? pl->len : 0;
    if(name)
        *name = pl ? pl->name : NULL;
    return pl ? pl->data : NULL;
}

/* One template per payload: the datagram with the payload in place and
 * its cookie field zero; the sum covers the payload, so a probe adds only
 * the ports, the destination and the cookie bytes. */
static bool udp_template_init(vg_tmpl *t, const vg_addr *src, uint16_t dport)
{
    const struct udp_payload *pl = payload_for(dport);
    size_t plen = pl ? pl->len : 0;
    uint16_t ulen = (uint16_t)(UDP_HDR + plen);
    uint32_t sum = vg_tmpl_ip(t, src->family, IPPROTO_UDP, src, ulen);
    uint8_t *udp = t->buf + t->l4_off;

    t->csum_off = (uint16_t)(t->l4_off + 6);
    vg_put_be16(udp + 4, ulen);
    if(plen) {
        memcpy(udp + UDP_HDR, pl->data, plen);
        t->cookie_off = (uint16_t)(t->l4_off + UDP_HDR + pl->cookie_off);
        t->cookie_len = pl->cookie_len;
        memset(t->buf + t->cookie_off, 0, pl->cookie_len);
    }
    t->l4_sum = vg_csum_add(sum, udp, ulen);
    return true;
}

static size_t udp_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt)
{
    uint32_t sum = t->l4_sum + vg_tmpl_ip_put(t, pkt, a->dst, a->ip_id);
    uint8_t *udp = pkt + t->l4_off;

    vg_put_be16(udp, a->sport);
    vg_put_be16(udp + 2, a->dport);
    sum += a->sport + a->dport;
    if(t->cookie_len == 2) {
        vg_put_be16(pkt + t->cookie_off, (uint16_t)a->cookie);
        sum += a->cookie & 0xffffu;
    }
    else if(t->cookie_len == 4) {
        vg_put_be32(pkt + t->cookie_off, a->cookie);
        sum += vg_csum32(a->cookie);
    }
    uint16_t c = vg_csum_finish(sum);
    /* 0 means "no checksum" in UDP over IPv4 and is forbidden over IPv6. */
    vg_put_be16(pkt + t->csum_off, c ? c : 0xffff);
    return t->len;
}

static bool udp_classify(const vg_pkt *pkt, vg_probe_reply *r)
{
    vg_rd rd;
    uint16_t sport, dport;

    memset(r, 0, sizeof(*r));
    if(pkt->ip.proto == IPPROTO_UDP) {
        vg_rd_init(&rd, pkt->ip.l4, pkt->ip.l4_len);
        if(!vg_rd_be16(&rd, &sport) || !vg_rd_be16(&rd, &dport) || !vg_rd_skip(&rd, 4))
            return false;
        r->local = pkt->ip.dst;
        r->target = pkt->ip.src;
        r->from = pkt->ip.src;
        r->lport = dport;
        r->tport = sport;
        r->state = VG_STATE_OPEN;
        r->reason = VG_REASON_UDP_RESPONSE;
        /* Any datagram from the probed address and port means open
         * (nmap's rule), whatever it holds: a server may answer our
         * protocol payload with something else entirely. The reply is
         * still ours: it comes to the source port the probe's cookie
         * chose. */
        return true;
    }
    if(pkt->icmp_error && pkt->inner.proto == IPPROTO_UDP) {
        vg_rd_init(&rd, pkt->inner.l4, pkt->inner.l4_len);
        if(!vg_rd_be16(&rd, &sport) || !vg_rd_be16(&rd, &dport))
            return false;
        int reason = vg_icmp_reason(pkt->ip.family, pkt->icmp_type, pkt->icmp_code);
        if(reason == VG_REASON_NONE)
            return false;
        r->local = pkt->inner.src;
        r->target = pkt->inner.dst;
        r->from = pkt->ip.src;
        r->lport = sport;
        r->tport = dport;
        r->reason = (uint8_t)reason;
        /* Port unreachable from the target itself: nothing listens. From a
         * router on the way it is a filter. */
        if(reason == VG_REASON_PORT_UNREACH && vg_addr_cmp(&r->from, &r->target) == 0)
            r->state = VG_STATE_CLOSED;
        else
            r->state = VG_STATE_FILTERED;
        return true;
    }
    return false;
}

const vg_probe_type vg_probe_udp = {
    .name = "udp",
    .help = "UDP probe with protocol payloads: reply open, port-unreach closed",
    .proto = IPPROTO_UDP,
    .variants = 1 + N_PAYLOADS,
    .variant = udp_variant,
    .template_init = udp_template_init,
    .build = udp_build,
    .classify = udp_classify,
};
