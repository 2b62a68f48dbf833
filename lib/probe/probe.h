/* SPDX-License-Identifier: MIT */
/* Probe modules: one per kind of packet the raw engine sends (TCP SYN, UDP,
 * ICMP echo, ARP, ...), listed by name in probe/registry.c. A module builds
 * its probe from a template per (family, source) and recognises the
 * replies to it; the engine owns sockets, timing and cookie validation.
 * Modules keep no state: every callback works on the buffers it is given. */
#ifndef VIGIA_PROBE_H
#define VIGIA_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <string.h>

#include "probe/packet.h"
#include "util/checksum.h"
#include "vigia/addr.h"

/* Largest probe we build (IPv6 header + UDP + the biggest payload). */
#define VG_PROBE_MAX 512

/* A packet prebuilt once per (kind, family, source[, UDP payload]): every
 * constant field set, the source address included, the varying ones zero,
 * and the one's-complement sums of the constant parts stored. A probe is a
 * copy, stores of the varying fields (destination, ports, cookie, IP id)
 * and checksums finished from the stored sums plus the varying words:
 * RFC 1624's incremental update from a template whose varying fields are
 * zero, with no pass over the packet. */
typedef struct vg_tmpl {
    uint8_t buf[VG_PROBE_MAX];
    uint16_t len;
    uint8_t family;
    uint8_t proto;      /* IP protocol; 0 below IP */
    uint16_t l4_off;    /* offset of the transport header (ICMP message, ARP payload) */
    uint16_t csum_off;  /* offset of the transport checksum */
    uint16_t cookie_off;/* where the cookie goes ... */
    uint8_t cookie_len; /* ... in 0 (nowhere), 2 (its low 16 bits) or 4 bytes */
    uint32_t ip_sum;    /* IPv4: header sum without destination and id */
    uint32_t l4_sum;    /* transport sum (pseudo header too) without the varying fields */
    vg_addr src;        /* the source address it was built for */
} vg_tmpl;

/* What varies per probe. Addresses are in network order inside vg_addr;
 * ports and cookie in host order. The source is the template's. */
typedef struct vg_probe_args {
    const vg_addr *dst;
    uint16_t sport;
    uint16_t dport;
    uint32_t cookie; /* TCP sequence number, ICMP id/seq, DNS id, ... */
    uint16_t ip_id;
    const uint8_t *src_mac; /* our link-layer address (ND, ARP), or NULL */
} vg_probe_args;

/* Template helpers of the IP kinds (probe/template.c). Starts t: writes
 * the IP header for an upper layer of l4_len bytes from src (destination
 * and id zero), sets family, proto, l4_off, len and src, and t->ip_sum for
 * IPv4. Returns the pseudo-header sum of the constant parts (source,
 * protocol, length; 0 for ICMPv4, which has no pseudo header). */
uint32_t vg_tmpl_ip(vg_tmpl *t, int family, uint8_t proto, const vg_addr *src,
                    uint16_t l4_len);

/* The first step of every IP kind's build: copies t into pkt, stores the
 * destination (and the IPv4 id, finishing the header checksum) and returns
 * the sum of the destination's words, which the pseudo header adds. */
static inline uint32_t vg_tmpl_ip_put(const vg_tmpl *t, uint8_t *pkt, const vg_addr *dst,
                                      uint16_t ip_id)
{
    memcpy(pkt, t->buf, t->len);
    if(t->family == AF_INET) {
        uint32_t dsum = vg_csum_add(0, dst->a, 4);
        memcpy(pkt + 16, dst->a, 4);
        vg_put_be16(pkt + 4, ip_id);
        vg_put_be16(pkt + 10, vg_csum_finish(t->ip_sum + dsum + ip_id));
        return dsum;
    }
    memcpy(pkt + 24, dst->a, 16);
    return vg_csum_add(0, dst->a, 16);
}

/* Sum of a 32-bit value's two 16-bit words. */
static inline uint32_t vg_csum32(uint32_t v)
{
    return (v >> 16) + (v & 0xffffu);
}

/* A reply recognised by a module: the probe it claims to answer and the
 * verdict. The engine then checks the claim against the cookie. */
typedef struct vg_probe_reply {
    vg_addr local;    /* our address, as the reply echoes it */
    vg_addr target;   /* the address we probed */
    vg_addr from;     /* who sent the reply (a router for some ICMP errors) */
    uint16_t lport;   /* our source port, as echoed */
    uint16_t tport;   /* the probed port (0 for ICMP echo) */
    bool has_echo;    /* echo carries cookie bits that must match */
    uint32_t echo;
    uint32_t echo_mask; /* which bits of the cookie echo holds */
    uint8_t state;    /* vg_state */
    uint8_t reason;   /* vg_reason */
    bool has_mac;     /* ARP and NDP replies name the target's MAC */
    uint8_t mac[6];
} vg_probe_reply;

/* A kind of probe packet. Every kind is a row of the registry
 * (probe/registry.c), where the engine and host discovery find it by name. */
typedef struct vg_probe_type {
    const char *name;
    const char *help;
    uint8_t proto;    /* IP protocol of the probe (IPPROTO_TCP, ...); 0: per
                       * family, see vg_probe_proto() */
    /* 0 for a packet sent on the raw IP sockets; else the ethertype of a
     * payload below IP (ARP) sent on a packet socket, whose kernel adds
     * the link header. */
    uint16_t ethertype;
    /* The packet has no field for a cookie (ARP, ND): a reply counts only
     * for an address we asked about, which the engine checks. */
    bool cookieless;
    /* Templates per (family, source): how many variants of it the kind
     * has (UDP: one per payload), and which one a target port takes (NULL:
     * always 0). */
    uint8_t variants;
    uint8_t (*variant)(uint16_t dport);
    /* Fills t for src (its family: AF_INET/AF_INET6) and the variant of
     * dport. Returns false when the kind has no packet for that family (ND
     * is IPv6 only, ARP IPv4 only). */
    bool (*template_init)(vg_tmpl *t, const vg_addr *src, uint16_t dport);
    /* Writes one probe from template t into pkt (at least t->len bytes);
     * returns its length. a->dport must take t's variant. */
    size_t (*build)(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt);
    /* Where the packet goes when not to the target itself (ND: the
     * target's solicited-node group); NULL: to the target. */
    void (*dest)(const vg_addr *target, vg_addr *to);
    /* Recognises a reply to this kind of probe in a parsed IP packet; false
     * when the packet is not one (the engine then asks the next kind).
     * NULL for kinds below IP. */
    bool (*classify)(const vg_pkt *pkt, vg_probe_reply *r);
    /* Kinds below IP: recognises a reply in a link-layer payload (the
     * bytes after the link header). NULL for IP kinds. */
    bool (*classify_frame)(const uint8_t *buf, size_t len, vg_probe_reply *r);
} vg_probe_type;

extern const vg_probe_type vg_probe_tcp_syn;
extern const vg_probe_type vg_probe_tcp_ack;
extern const vg_probe_type vg_probe_udp;
extern const vg_probe_type vg_probe_icmp_echo;
extern const vg_probe_type vg_probe_ndp;
extern const vg_probe_type vg_probe_arp;

/* The registry: the probe kind called name, or NULL. */
const vg_probe_type *vg_probe_find(const char *name);
/* Its rows in order, for listing and fuzzing: row i, or NULL past the end. */
const vg_probe_type *vg_probe_at(size_t i);

/* The IP protocol a kind's packets carry for family (ICMP echo is ICMP or
 * ICMPv6); 0 for kinds below IP. */
static inline uint8_t vg_probe_proto(const vg_probe_type *type, int family)
{
    if(type->proto || type->ethertype)
        return type->proto;
    return family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

/* The solicited-node multicast address of target (RFC 4291 2.7.1), where
 * a neighbour solicitation for it is sent. */
void vg_ndp_solicited_node(const vg_addr *target, vg_addr *out);

/* The UDP payload this scanner sends to a port (DNS query for 53, ...);
 * NULL with *len 0 for an empty datagram. The cookie's low 16 bits go into
 * protocols that echo an id (DNS): see vg_udp_payload_patch(). */
const uint8_t *vg_udp_payload(uint16_t port, size_t *len, const char **name);

#endif
