/* SPDX-License-Identifier: MIT */
/* Probe modules: one per kind of packet the raw engine sends (TCP SYN, UDP,
 * ICMP echo, ...). A module builds its probe from a per-family template and
 * recognises the replies to it; the engine owns sockets, timing and cookie
 * validation. Modules keep no state: every callback works on the buffers it
 * is given. */
#ifndef VIGIA_PROBE_H
#define VIGIA_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/packet.h"
#include "vigia/addr.h"

/* Largest probe we build (IPv6 header + UDP + the biggest payload). */
#define VG_PROBE_MAX 512

/* A packet prebuilt once per (module, family[, port]): constant fields set,
 * variable ones zero, and the checksum sums of the constant parts, so a
 * probe costs a copy, a few stores and an incremental checksum. */
typedef struct vg_tmpl {
    uint8_t buf[VG_PROBE_MAX];
    uint16_t len;
    uint8_t family;
    uint8_t proto;
    uint16_t l4_off;    /* offset of the transport header */
    uint16_t csum_off;  /* offset of the transport checksum */
    uint32_t ip_sum;    /* IPv4: header sum without addresses and id */
    uint32_t l4_sum;    /* transport sum without addresses, ports, cookie */
} vg_tmpl;

/* What varies per probe. Addresses are in network order inside vg_addr;
 * ports and cookie in host order. */
typedef struct vg_probe_args {
    const vg_addr *src;
    const vg_addr *dst;
    uint16_t sport;
    uint16_t dport;
    uint32_t cookie; /* TCP sequence number, ICMP id/seq, DNS id, ... */
    uint16_t ip_id;
    const uint8_t *src_mac; /* our link-layer address (NDP), or NULL */
} vg_probe_args;

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

typedef struct vg_probe_type {
    const char *name;
    const char *help;
    uint8_t proto;    /* IP protocol of the probe (IPPROTO_TCP, ...) */
    /* Fills t for family (AF_INET/AF_INET6) and the target port (UDP picks
     * its payload by port; others ignore it). Returns false if impossible. */
    bool (*template_init)(vg_tmpl *t, int family, uint16_t dport);
    /* Writes one probe from template t into pkt (at least t->len bytes);
     * returns its length. */
    size_t (*build)(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt);
    /* Recognises a reply to this kind of probe in a parsed packet; false
     * when the packet is not one (the engine then asks the next module). */
    bool (*classify)(const vg_pkt *pkt, vg_probe_reply *r);
} vg_probe_type;

extern const vg_probe_type vg_probe_tcp_syn;
extern const vg_probe_type vg_probe_udp;
extern const vg_probe_type vg_probe_icmp_echo;
extern const vg_probe_type vg_probe_tcp_ack;
extern const vg_probe_type vg_probe_ndp;

/* The solicited-node multicast address of target (RFC 4291 2.7.1), where
 * a neighbour solicitation for it is sent. */
void vg_ndp_solicited_node(const vg_addr *target, vg_addr *out);

/* Probes below IP: ARP (IPv4 host discovery on ethernet). build writes the
 * payload after the link header (the kernel adds that for SOCK_DGRAM
 * packet sockets); parse recognises a reply. */
typedef struct vg_l2_probe_type {
    const char *name;
    const char *help;
    uint16_t ethertype;
    size_t (*build)(uint8_t *buf, const uint8_t mac[6], const vg_addr *src, const vg_addr *dst);
    bool (*parse)(const uint8_t *buf, size_t len, vg_probe_reply *r);
} vg_l2_probe_type;

extern const vg_l2_probe_type vg_probe_arp;

/* The UDP payload this scanner sends to a port (DNS query for 53, ...);
 * NULL with *len 0 for an empty datagram. The cookie's low 16 bits go into
 * protocols that echo an id (DNS): see vg_udp_payload_patch(). */
const uint8_t *vg_udp_payload(uint16_t port, size_t *len, const char **name);

#endif
