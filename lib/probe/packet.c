/* SPDX-License-Identifier: MIT */
/* IP header writing and the bounds-checked parser of received packets. */
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "probe/packet.h"
#include "util/checksum.h"
#include "vigia/scan.h"

void vg_ip_write(uint8_t *p, int family, uint8_t proto, const vg_addr *src,
                 const vg_addr *dst, uint16_t l4_len, uint16_t ip_id)
{
    if(family == AF_INET) {
        p[0] = 0x45;
        p[1] = 0;
        vg_put_be16(p + 2, (uint16_t)(VG_IP4_HDR + l4_len));
        vg_put_be16(p + 4, ip_id);
        vg_put_be16(p + 6, 0);
        p[8] = VG_PROBE_TTL;
        p[9] = proto;
        vg_put_be16(p + 10, 0);
        memcpy(p + 12, src->a, 4);
        memcpy(p + 16, dst->a, 4);
        vg_put_be16(p + 10, vg_csum_finish(vg_csum_add(0, p, VG_IP4_HDR)));
        return;
    }
    p[0] = 0x60;
    p[1] = 0;
    p[2] = 0;
    p[3] = 0;
    vg_put_be16(p + 4, l4_len);
    p[6] = proto;
    p[7] = VG_PROBE_TTL;
    memcpy(p + 8, src->a, 16);
    memcpy(p + 24, dst->a, 16);
}

uint16_t vg_l4_csum(int family, uint8_t proto, const vg_addr *src, const vg_addr *dst,
                    const uint8_t *l4, size_t l4_len)
{
    uint32_t sum = 0;
    if(family == AF_INET) {
        if(proto != IPPROTO_ICMP)
            sum = vg_csum_pseudo4(src->a, dst->a, proto, (uint16_t)l4_len);
    }
    else
        sum = vg_csum_pseudo6(src->a, dst->a, proto, (uint32_t)l4_len);
    return vg_csum_finish(vg_csum_add(sum, l4, l4_len));
}

/* Parses one IP header and, for IPv6, the extension headers in front of the
 * upper layer. quoted: the packet is an ICMP quote, so the lengths in its
 * header may exceed what is present. */
static bool parse_l3(const uint8_t *buf, size_t len, bool quoted, vg_pkt_l3 *l3)
{
    vg_rd r;
    uint8_t b0;

    memset(l3, 0, sizeof(*l3));
    vg_rd_init(&r, buf, len);
    if(!vg_rd_u8(&r, &b0))
        return false;
    if(b0 >> 4 == 4) {
        uint8_t ihl = (uint8_t)((b0 & 0x0f) * 4);
        uint16_t total, frag;
        if(ihl < VG_IP4_HDR || len < ihl)
            return false;
        if(!vg_rd_skip(&r, 1) || !vg_rd_be16(&r, &total) || !vg_rd_skip(&r, 2) ||
           !vg_rd_be16(&r, &frag) || !vg_rd_u8(&r, &l3->ttl) || !vg_rd_u8(&r, &l3->proto) ||
           !vg_rd_skip(&r, 2))
            return false;
        l3->family = AF_INET;
        l3->src.family = AF_INET;
        l3->dst.family = AF_INET;
        if(!vg_rd_bytes(&r, l3->src.a, 4) || !vg_rd_bytes(&r, l3->dst.a, 4))
            return false;
        if(total < ihl)
            return false;
        /* A non-first fragment carries no transport header. */
        if(frag & 0x1fff)
            return false;
        size_t end = total < len ? total : len;
        if(!quoted && total > len)
            return false; /* truncated capture of a real packet */
        vg_rd l4;
        if(!vg_rd_seek(&r, ihl) || !vg_rd_sub(&r, end - ihl, &l4))
            return false;
        l3->l4 = vg_rd_ptr(&l4);
        l3->l4_len = vg_rd_left(&l4);
        return true;
    }
    if(b0 >> 4 == 6) {
        uint16_t plen;
        uint8_t next;
        if(!vg_rd_skip(&r, 3) || !vg_rd_be16(&r, &plen) || !vg_rd_u8(&r, &next) ||
           !vg_rd_u8(&r, &l3->ttl))
            return false;
        l3->family = AF_INET6;
        l3->src.family = AF_INET6;
        l3->dst.family = AF_INET6;
        if(!vg_rd_bytes(&r, l3->src.a, 16) || !vg_rd_bytes(&r, l3->dst.a, 16))
            return false;
        size_t end = (size_t)VG_IP6_HDR + plen;
        if(end > len) {
            if(!quoted)
                return false;
            end = len;
        }
        /* The payload as the header (or, in a quote, the capture) bounds it. */
        vg_rd pl;
        if(!vg_rd_sub(&r, end - VG_IP6_HDR, &pl))
            return false;
        /* Walk the extension headers we may meet in front of TCP/UDP/ICMPv6;
         * at most 8 of them. */
        for(int i = 0; i < 8; i++) {
            if(next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
                const uint8_t *h;
                if(!vg_rd_peek(&pl, 2, &h) || !vg_rd_skip(&pl, ((size_t)h[1] + 1) * 8))
                    return false;
                next = h[0];
                continue;
            }
            if(next == IPPROTO_FRAGMENT) {
                uint8_t nh;
                uint16_t off;
                if(!vg_rd_u8(&pl, &nh) || !vg_rd_skip(&pl, 1) || !vg_rd_be16(&pl, &off) ||
                   !vg_rd_skip(&pl, 4))
                    return false;
                if(off & 0xfff8)
                    return false; /* not the first fragment */
                next = nh;
                continue;
            }
            break;
        }
        l3->proto = next;
        l3->l4 = vg_rd_ptr(&pl);
        l3->l4_len = vg_rd_left(&pl);
        return true;
    }
    return false;
}

bool vg_pkt_parse(const uint8_t *buf, size_t len, vg_pkt *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    if(!parse_l3(buf, len, false, &pkt->ip))
        return false;
    bool v4 = pkt->ip.family == AF_INET;
    if((v4 && pkt->ip.proto == IPPROTO_ICMP) || (!v4 && pkt->ip.proto == IPPROTO_ICMPV6)) {
        vg_rd r;
        vg_rd_init(&r, pkt->ip.l4, pkt->ip.l4_len);
        if(!vg_rd_u8(&r, &pkt->icmp_type) || !vg_rd_u8(&r, &pkt->icmp_code) ||
           !vg_rd_skip(&r, 6))
            return false;
        pkt->is_icmp = true;
        bool err = v4 ? (pkt->icmp_type == ICMP_DEST_UNREACH ||
                         pkt->icmp_type == ICMP_TIME_EXCEEDED)
                      : (pkt->icmp_type == ICMP6_DST_UNREACH ||
                         pkt->icmp_type == ICMP6_TIME_EXCEEDED);
        if(err && parse_l3(vg_rd_ptr(&r), vg_rd_left(&r), true, &pkt->inner) &&
           pkt->inner.family == pkt->ip.family)
            pkt->icmp_error = true;
    }
    return true;
}

int vg_icmp_reason(int family, uint8_t type, uint8_t code)
{
    if(family == AF_INET) {
        if(type == ICMP_TIME_EXCEEDED)
            return VG_REASON_TTL_EXCEEDED;
        if(type != ICMP_DEST_UNREACH)
            return VG_REASON_NONE;
        switch(code) {
        case ICMP_NET_UNREACH:
        case ICMP_NET_UNKNOWN:
        case ICMP_NET_UNR_TOS:
            return VG_REASON_NET_UNREACH;
        case ICMP_PROT_UNREACH:
            return VG_REASON_PROTO_UNREACH;
        case ICMP_PORT_UNREACH:
            return VG_REASON_PORT_UNREACH;
        case ICMP_NET_ANO:
        case ICMP_HOST_ANO:
        case ICMP_PKT_FILTERED:
            return VG_REASON_ADMIN_PROHIBITED;
        default:
            return VG_REASON_HOST_UNREACH;
        }
    }
    if(type == ICMP6_TIME_EXCEEDED)
        return VG_REASON_TTL_EXCEEDED;
    if(type != ICMP6_DST_UNREACH)
        return VG_REASON_NONE;
    switch(code) {
    case ICMP6_DST_UNREACH_NOROUTE:
    case ICMP6_DST_UNREACH_BEYONDSCOPE:
        return VG_REASON_NET_UNREACH;
    case ICMP6_DST_UNREACH_ADMIN:
    case 5: /* source address failed ingress/egress policy */
    case 6: /* reject route to destination */
        return VG_REASON_ADMIN_PROHIBITED;
    case ICMP6_DST_UNREACH_NOPORT:
        return VG_REASON_PORT_UNREACH;
    default:
        return VG_REASON_HOST_UNREACH;
    }
}
