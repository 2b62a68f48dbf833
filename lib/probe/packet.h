/* SPDX-License-Identifier: MIT */
/* Packets on the wire: IPv4/IPv6 header writers, and a parser that turns a
 * received network-layer packet (IPv4 or IPv6, no link header) into the
 * fields the probe modules match on. Every byte comes off the wire, so the
 * parser is a pure function over a buffer, reads it through the
 * bounds-checked vg_rd of util/buf.h, and is fuzzable on its own. */
#ifndef VIGIA_PACKET_H
#define VIGIA_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "util/buf.h"
#include "vigia/addr.h"

#define VG_IP4_HDR 20
#define VG_IP6_HDR 40
#define VG_PROBE_TTL 64

static inline size_t vg_ip_hdr_len(int family)
{
    return family == AF_INET ? VG_IP4_HDR : VG_IP6_HDR;
}

/* Writes an IPv4 (20 bytes, with its header checksum) or IPv6 (40 bytes)
 * header for an upper-layer payload of l4_len bytes. */
void vg_ip_write(uint8_t *p, int family, uint8_t proto, const vg_addr *src,
                 const vg_addr *dst, uint16_t l4_len, uint16_t ip_id);

/* The checksum of an upper-layer segment (TCP, UDP, ICMPv6 with the pseudo
 * header; ICMPv4 without), with its checksum field zero. In host order. */
uint16_t vg_l4_csum(int family, uint8_t proto, const vg_addr *src, const vg_addr *dst,
                    const uint8_t *l4, size_t l4_len);

/* --- parsing -------------------------------------------------------------------- */

/* The network and transport layer of one packet. For ICMP errors the quoted
 * (inner) packet is parsed too; its transport header is often truncated to
 * 8 bytes, which is exactly what matching needs. */
typedef struct vg_pkt_l3 {
    uint8_t family;   /* AF_INET or AF_INET6 */
    uint8_t proto;    /* upper-layer protocol after IPv6 extension headers */
    uint8_t ttl;      /* TTL / hop limit */
    vg_addr src, dst;
    const uint8_t *l4;
    size_t l4_len;    /* bytes actually present (the quote may be short) */
} vg_pkt_l3;

typedef struct vg_pkt {
    vg_pkt_l3 ip;
    /* ICMP / ICMPv6 (ip.proto 1 or 58) */
    bool is_icmp;
    uint8_t icmp_type, icmp_code;
    bool icmp_error;  /* destination unreachable / time exceeded: inner valid */
    vg_pkt_l3 inner;
} vg_pkt;

/* Parses buf (a whole packet from its IPv4/IPv6 header on). Returns true
 * when the headers are well-formed enough to match on. */
bool vg_pkt_parse(const uint8_t *buf, size_t len, vg_pkt *pkt);

/* The reason an ICMP error names (a vg_reason), e.g. admin-prohibited;
 * VG_REASON_NONE when the message is not an error we map. */
int vg_icmp_reason(int family, uint8_t type, uint8_t code);

#endif
