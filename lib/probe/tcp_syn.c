/* SPDX-License-Identifier: MIT */
/* The TCP SYN probe (-sS), and the TCP ACK probe of host discovery.
 * SYN: a bare SYN with an MSS option. SYN-ACK means
 * open, RST closed, an ICMP unreachable filtered with the message's reason.
 * The cookie is the sequence number; a SYN-ACK or RST acknowledges it + 1,
 * an ICMP error quotes it. Our kernel answers the SYN-ACK with a RST (no
 * socket owns the port), so the target is never left half-open. */
#include <netinet/in.h>
#include <string.h>

#include "probe/probe.h"
#include "util/checksum.h"
#include "vigia/scan.h"

#define TCP_HDR 24 /* 20 + MSS option */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define SYN_WINDOW 1024
#define SYN_MSS 1460

/* The TCP header of both probes: flags, window and the MSS option; ports,
 * sequence and acknowledgment numbers zero. cookie_at: the offset of the
 * field that carries the cookie (4: the sequence number; 8: the
 * acknowledgment number). */
static bool tcp_template_init(vg_tmpl *t, const vg_addr *src, uint8_t flags, uint16_t cookie_at)
{
    uint32_t sum = vg_tmpl_ip(t, src->family, IPPROTO_TCP, src, TCP_HDR);
    uint8_t *tcp = t->buf + t->l4_off;

    t->csum_off = (uint16_t)(t->l4_off + 16);
    t->cookie_off = (uint16_t)(t->l4_off + cookie_at);
    t->cookie_len = 4;
    tcp[12] = (TCP_HDR / 4) << 4;
    tcp[13] = flags;
    vg_put_be16(tcp + 14, SYN_WINDOW);
    tcp[20] = 2; /* MSS */
    tcp[21] = 4;
    vg_put_be16(tcp + 22, SYN_MSS);
    t->l4_sum = vg_csum_add(sum, tcp, TCP_HDR);
    return true;
}

static bool syn_template_init(vg_tmpl *t, const vg_addr *src, uint16_t dport)
{
    (void)dport;
    return tcp_template_init(t, src, TCP_SYN, 4);
}

/* Both probes: the template, then destination, id, ports and the cookie,
 * and the checksums from the template's sums. */
static size_t tcp_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt)
{
    uint32_t dsum = vg_tmpl_ip_put(t, pkt, a->dst, a->ip_id);
    uint8_t *tcp = pkt + t->l4_off;

    vg_put_be16(tcp, a->sport);
    vg_put_be16(tcp + 2, a->dport);
    vg_put_be32(pkt + t->cookie_off, a->cookie);
    uint32_t sum = t->l4_sum + dsum + a->sport + a->dport + vg_csum32(a->cookie);
    vg_put_be16(pkt + t->csum_off, vg_csum_finish(sum));
    return t->len;
}

static bool syn_classify(const vg_pkt *pkt, vg_probe_reply *r)
{
    vg_rd rd;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t off, flags;

    memset(r, 0, sizeof(*r));
    if(pkt->ip.proto == IPPROTO_TCP) {
        vg_rd_init(&rd, pkt->ip.l4, pkt->ip.l4_len);
        if(!vg_rd_be16(&rd, &sport) || !vg_rd_be16(&rd, &dport) || !vg_rd_be32(&rd, &seq) ||
           !vg_rd_be32(&rd, &ack) || !vg_rd_u8(&rd, &off) || !vg_rd_u8(&rd, &flags))
            return false;
        /* Only answers to a SYN acknowledge it: SYN-ACK or RST-ACK. */
        if(!(flags & TCP_ACK))
            return false;
        if((flags & (TCP_SYN | TCP_RST)) == TCP_SYN) {
            r->state = VG_STATE_OPEN;
            r->reason = VG_REASON_SYN_ACK;
        }
        else if(flags & TCP_RST) {
            r->state = VG_STATE_CLOSED;
            r->reason = VG_REASON_CONN_REFUSED;
        }
        else
            return false;
        r->local = pkt->ip.dst;
        r->target = pkt->ip.src;
        r->from = pkt->ip.src;
        r->lport = dport;
        r->tport = sport;
        r->has_echo = true;
        r->echo = ack - 1;
        r->echo_mask = 0xffffffffu;
        return true;
    }
    if(pkt->icmp_error && pkt->inner.proto == IPPROTO_TCP) {
        vg_rd_init(&rd, pkt->inner.l4, pkt->inner.l4_len);
        if(!vg_rd_be16(&rd, &sport) || !vg_rd_be16(&rd, &dport) || !vg_rd_be32(&rd, &seq))
            return false;
        int reason = vg_icmp_reason(pkt->ip.family, pkt->icmp_type, pkt->icmp_code);
        if(reason == VG_REASON_NONE)
            return false;
        r->local = pkt->inner.src;
        r->target = pkt->inner.dst;
        r->from = pkt->ip.src;
        r->lport = sport;
        r->tport = dport;
        r->has_echo = true;
        r->echo = seq;
        r->echo_mask = 0xffffffffu;
        r->state = VG_STATE_FILTERED;
        r->reason = (uint8_t)reason;
        return true;
    }
    return false;
}

const vg_probe_type vg_probe_tcp_syn = {
    .name = "tcp_syn",
    .help = "TCP SYN (half-open) probe: SYN-ACK open, RST closed",
    .proto = IPPROTO_TCP,
    .variants = 1,
    .template_init = syn_template_init,
    .build = tcp_build,
    .classify = syn_classify,
};

/* The ACK probe (host discovery, to port 80): any live host answers an
 * unexpected ACK with a RST whose sequence number is our acknowledgment
 * number (RFC 9293 3.10.7.1), which carries the cookie. Stateful firewalls
 * drop it; that is why discovery sends a SYN as well. The header is the
 * SYN's with other flags, sequence number zero. */
static bool ack_template_init(vg_tmpl *t, const vg_addr *src, uint16_t dport)
{
    (void)dport;
    return tcp_template_init(t, src, TCP_ACK, 8);
}

static bool ack_classify(const vg_pkt *pkt, vg_probe_reply *r)
{
    vg_rd rd;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t off, flags;

    memset(r, 0, sizeof(*r));
    if(pkt->ip.proto != IPPROTO_TCP)
        return false;
    vg_rd_init(&rd, pkt->ip.l4, pkt->ip.l4_len);
    if(!vg_rd_be16(&rd, &sport) || !vg_rd_be16(&rd, &dport) || !vg_rd_be32(&rd, &seq) ||
       !vg_rd_be32(&rd, &ack) || !vg_rd_u8(&rd, &off) || !vg_rd_u8(&rd, &flags))
        return false;
    if(!(flags & TCP_RST) || (flags & (TCP_ACK | TCP_SYN)))
        return false;
    r->local = pkt->ip.dst;
    r->target = pkt->ip.src;
    r->from = pkt->ip.src;
    r->lport = dport;
    r->tport = sport;
    r->has_echo = true;
    r->echo = seq;
    r->echo_mask = 0xffffffffu;
    r->state = VG_STATE_CLOSED;
    r->reason = VG_REASON_RESET;
    return true;
}

const vg_probe_type vg_probe_tcp_ack = {
    .name = "tcp_ack",
    .help = "TCP ACK probe (host discovery): RST means the host is up",
    .proto = IPPROTO_TCP,
    .variants = 1,
    .template_init = ack_template_init,
    .build = tcp_build,
    .classify = ack_classify,
};
