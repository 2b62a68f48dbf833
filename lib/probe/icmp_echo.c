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

static bool echo_template_init(vg_tmpl *t, int family, uint16_t dport)
{
    (void)dport;
    memset(t, 0, sizeof(*t));
    t->family = (uint8_t)family;
    t->proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    t->l4_off = (uint16_t)vg_ip_hdr_len(family);
    t->csum_off = (uint16_t)(t->l4_off + 2);
    t->len = (uint16_t)(t->l4_off + ECHO_HDR + sizeof(echo_data));
    return true;
}

/* a->sport is the identifier, a->cookie's low 16 bits the sequence. */
static size_t echo_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt)
{
    uint8_t *icmp = pkt + t->l4_off;
    size_t len = ECHO_HDR + sizeof(echo_data);

    vg_ip_write(pkt, t->family, t->proto, a->src, a->dst, (uint16_t)len, a->ip_id);
    icmp[0] = t->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
    icmp[1] = 0;
    vg_put_be16(icmp + 2, 0);
    vg_put_be16(icmp + 4, a->sport);
    vg_put_be16(icmp + 6, (uint16_t)a->cookie);
    memcpy(icmp + ECHO_HDR, echo_data, sizeof(echo_data));
    vg_put_be16(icmp + 2, vg_l4_csum(t->family, t->proto, a->src, a->dst, icmp, len));
    return t->l4_off + len;
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
    .proto = 0, /* per family: see vg_tmpl.proto */
    .template_init = echo_template_init,
    .build = echo_build,
    .classify = echo_classify,
};
