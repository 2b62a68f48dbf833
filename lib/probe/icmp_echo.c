/* SPDX-License-Identifier: MIT */
/* The ICMP / ICMPv6 echo probe of host discovery. The identifier carries
 * the probe's source-port value (so replies reach the worker that sent
 * the request, like every other reply) and the sequence number the low
 * 16 bits of the cookie; an echo reply returns both. */
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "probe/probe.h"
#include "vigia/scan.h"

#define ECHO_HDR 8
static const uint8_t echo_data[8] = {'v', 'i', 'g', 'i', 'a', '-', 'p', 'n'};

static bool echo_template_init(vg_tmpl *t, const vg_addr *src, uint16_t dport)
{
    (void)dport;
    int family = src->family;
    uint8_t proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    uint32_t sum = vg_tmpl_ip(t, family, proto, src, ECHO_HDR + sizeof(echo_data));
    uint8_t *icmp = t->buf + t->l4_off;

    t->csum_off = (uint16_t)(t->l4_off + 2);
    t->cookie_off = (uint16_t)(t->l4_off + 6);
    t->cookie_len = 2;
    icmp[0] = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
    memcpy(icmp + ECHO_HDR, echo_data, sizeof(echo_data));
    t->l4_sum = vg_csum_add(sum, icmp, ECHO_HDR + sizeof(echo_data));
    return true;
}

/* a->sport is the identifier, a->cookie's low 16 bits the sequence. The
 * ICMPv4 checksum has no pseudo header: the destination is not in it. */
static size_t echo_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt)
{
    uint32_t dsum = vg_tmpl_ip_put(t, pkt, a->dst, a->ip_id);
    uint8_t *icmp = pkt + t->l4_off;
    uint16_t seq = (uint16_t)a->cookie;

    vg_put_be16(icmp + 4, a->sport);
    vg_put_be16(pkt + t->cookie_off, seq);
    uint32_t sum = t->l4_sum + a->sport + seq + (t->family == AF_INET ? 0 : dsum);
    vg_put_be16(pkt + t->csum_off, vg_csum_finish(sum));
    return t->len;
}

static bool echo_classify(const vg_pkt *pkt, vg_probe_reply *r)
{
    vg_rd rd;
    uint16_t id, seq;

    memset(r, 0, sizeof(*r));
    if(!pkt->is_icmp)
        return false;
    if(pkt->icmp_type != (pkt->ip.family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
        return false;
    vg_rd_init(&rd, pkt->ip.l4, pkt->ip.l4_len);
    if(!vg_rd_skip(&rd, 4) || !vg_rd_be16(&rd, &id) || !vg_rd_be16(&rd, &seq))
        return false;
    r->local = pkt->ip.dst;
    r->target = pkt->ip.src;
    r->from = pkt->ip.src;
    r->lport = id;
    r->tport = 0;
    r->has_echo = true;
    r->echo = seq;
    r->echo_mask = 0xffff;
    r->state = VG_STATE_OPEN;
    r->reason = VG_REASON_ECHO_REPLY;
    return true;
}

const vg_probe_type vg_probe_icmp_echo = {
    .name = "icmp_echo",
    .help = "ICMP / ICMPv6 echo request (host discovery)",
    .proto = 0, /* per family: see vg_probe_proto() */
    .variants = 1,
    .template_init = echo_template_init,
    .build = echo_build,
    .classify = echo_classify,
};
