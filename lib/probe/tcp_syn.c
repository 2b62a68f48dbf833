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

static bool syn_template_init(vg_tmpl *t, int family, uint16_t dport)
{
    (void)dport;
    memset(t, 0, sizeof(*t));
    size_t ip = vg_ip_hdr_len(family);
    vg_addr zero = {.family = (uint8_t)family};
    t->family = (uint8_t)family;
    t->proto = IPPROTO_TCP;
    t->len = (uint16_t)(ip + TCP_HDR);
    t->l4_off = (uint16_t)ip;
    t->csum_off = (uint16_t)(ip + 16);
    vg_ip_write(t->buf, family, IPPROTO_TCP, &zero, &zero, TCP_HDR, 0);
    uint8_t *tcp = t->buf + ip;
    tcp[12] = (TCP_HDR / 4) << 4;
    tcp[13] = TCP_SYN;
    vg_put_be16(tcp + 14, SYN_WINDOW);
    tcp[20] = 2; /* MSS */
    tcp[21] = 4;
    vg_put_be16(tcp + 22, SYN_MSS);
    if(family == AF_INET) {
        /* The header sum over the constant fields: addresses and id are
         * zero in the template, the checksum field too. */
        vg_put_be16(t->buf + 10, 0);
        t->ip_sum = vg_csum_add(0, t->buf, VG_IP4_HDR);
        t->l4_sum = (uint32_t)IPPROTO_TCP + TCP_HDR;
    }
    else
        t->l4_sum = (uint32_t)IPPROTO_TCP + TCP_HDR;
    t->l4_sum = vg_csum_add(t->l4_sum, tcp, TCP_HDR);
    return true;
}

/* Sum of an address's bytes as 16-bit words. */
static uint32_t addr_sum(const vg_addr *a, int family)
{
    return vg_csum_add(0, a->a, family == AF_INET ? 4 : 16);
}

static size_t syn_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt)
{
    uint32_t asum = addr_sum(a->src, t->family) + addr_sum(a->dst, t->family);
    uint8_t *tcp = pkt + t->l4_off;

    memcpy(pkt, t->buf, t->len);
    if(t->family == AF_INET) {
        vg_put_be16(pkt + 4, a->ip_id);
        memcpy(pkt + 12, a->src->a, 4);
        memcpy(pkt + 16, a->dst->a, 4);
        vg_put_be16(pkt + 10, vg_csum_finish(t->ip_sum + asum + a->ip_id));
    }
    else {
        memcpy(pkt + 8, a->src->a, 16);
        memcpy(pkt + 24, a->dst->a, 16);
    }
    vg_put_be16(tcp, a->sport);
    vg_put_be16(tcp + 2, a->dport);
    vg_put_be32(tcp + 4, a->cookie);
    uint32_t sum = t->l4_sum + asum + a->sport + a->dport + (a->cookie >> 16) +
                   (a->cookie & 0xffff);
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
    .template_init = syn_template_init,
    .build = syn_build,
    .classify = syn_classify,
};

/* The ACK probe (host discovery, to port 80): any live host answers an
 * unexpected ACK with a RST whose sequence number is our acknowledgment
 * number (RFC 9293 3.10.7.1), which carries the cookie. Stateful firewalls
 * drop it; that is why discovery sends a SYN as well. */
static size_t ack_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt)
{
    size_t len = syn_build(t, a, pkt);
    uint8_t *tcp = pkt + t->l4_off;
    /* Same header, other flags and the cookie in the ack field. */
    vg_put_be32(tcp + 4, 0);
    vg_put_be32(tcp + 8, a->cookie);
    tcp[13] = TCP_ACK;
    vg_put_be16(tcp + 16, 0);
    vg_put_be16(tcp + 16, vg_l4_csum(t->family, IPPROTO_TCP, a->src, a->dst, tcp, TCP_HDR));
    return len;
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
    .template_init = syn_template_init,
    .build = ack_build,
    .classify = ack_classify,
};
