/* SPDX-License-Identifier: MIT */
/* What the raw engine's files share: the capture ring, the send sockets,
 * the route (source address) lookup and the engine context that prepare()
 * opens while the process still holds CAP_NET_RAW. */
#ifndef VIGIA_RAW_H
#define VIGIA_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/cookie.h"
#include "vigia/addr.h"
#include "vigia/error.h"

/* Source ports of the raw probes: a range outside Linux's default
 * ephemeral range (32768-60999), split between the workers so each
 * worker's capture filter sees only the replies to its own probes. */
#define RAW_SPORT_BASE 61000u
#define RAW_SPORT_SPAN 4096u

/* Bytes of each captured packet we look at: enough for an IPv6 ICMP error
 * quoting an IPv6 header with options and a transport header, or a UDP
 * reply's echoed id. */
#define RAW_SNAPLEN 512

/* A TPACKET_V3 receive ring on an AF_PACKET SOCK_DGRAM socket: the kernel
 * strips the link header, so ethernet, loopback and tun all deliver the
 * IP packet. */
typedef struct raw_cap {
    int fd;
    uint8_t *ring;
    size_t ring_len;
    unsigned block_size, block_nr, cur;
    uint64_t drops;    /* reported by the kernel (PACKET_STATISTICS) */
    uint64_t packets;
} raw_cap;

/* Called for each captured packet; data is the network-layer packet. mac
 * is the sender's link-layer address (NULL when the link has none). at_us:
 * when the kernel captured it, on vg_now_us()'s clock. A drain can take
 * milliseconds, and packets keep arriving while it runs: the time it began
 * would make their round trips look that much shorter. */
typedef void (*raw_cap_fn)(const uint8_t *data, size_t len, const uint8_t *mac, uint64_t at_us,
                           void *ud);

/* Opens the ring bound to ifindex (0: every interface) with a BPF filter
 * compiled from expr (libpcap syntax over raw IP packets). */
int raw_cap_open(raw_cap *c, int ifindex, const char *expr, vg_error *err);
/* Delivers the packets of every block the kernel has handed over; returns
 * how many. Never blocks. */
size_t raw_cap_drain(raw_cap *c, raw_cap_fn fn, void *ud);
/* Throws away what the ring caught before this scan began (the sockets
 * are opened before host discovery runs, and catch its answers) and the
 * kernel's counters of it; returns how many packets. */
size_t raw_cap_flush(raw_cap *c);
/* Adds the kernel's drop counter to c->drops. */
void raw_cap_stats(raw_cap *c);
void raw_cap_close(raw_cap *c);
/* Unmaps the ring and hands back the socket for the caller to close
 * (-1: none). */
int raw_cap_release(raw_cap *c);

/* Raw send socket for family (IP_HDRINCL / IPV6_HDRINCL), bound to an
 * interface when ifname is set. Returns the fd or a vg_rc with err. */
int raw_send_socket(int family, const char *ifname, vg_error *err);

/* A datagram socket used only to ask the kernel's routing which source
 * address it would use for a destination (connect + getsockname). */
int raw_route_socket(int family, const char *ifname, vg_error *err);
/* 0 and *src, or -errno (-ENETUNREACH, ...). */
int raw_route_source(int fd, const vg_addr *dst, vg_addr *src);

/* A local address and its interface, for on-link checks (host discovery
 * sends ARP / neighbour solicitations only to directly attached hosts). */
struct raw_iface {
    vg_addr addr;
    uint8_t prefix;   /* bits */
    bool ether;       /* ARPHRD_ETHER: has a MAC, speaks ARP */
    int ifindex;
    uint8_t mac[6];
};

/* The addresses of this host's interfaces (getifaddrs). */
int raw_ifaces_load(struct raw_iface **out, unsigned *n, vg_error *err);
/* The interface whose prefix contains addr (on-link), or NULL. */
const struct raw_iface *raw_iface_onlink(const struct raw_iface *ifs, unsigned n,
                                         const vg_addr *addr);
/* A packet socket for ARP (SOCK_DGRAM, ETH_P_ARP), non-blocking. */
int raw_arp_socket(int ifindex, vg_error *err);

/* Per-worker resources opened by prepare(). */
struct raw_wres {
    int fd4, fd6;     /* raw send sockets, -1 when the family is not scanned */
    int rt4, rt6;     /* route lookup sockets */
    int arp;          /* host discovery: ARP socket, or -1 */
    raw_cap cap;
    uint16_t sport_lo, sport_span;
};

/* The host discovery scan that ran before a port scan, as far as telling
 * its replies apart needs (vg_scan_follow_discovery()). */
struct raw_prior {
    bool set;
    vg_cookie_key key;
    unsigned nworkers;
    uint16_t span;        /* source ports per discovery worker */
    uint16_t source_port; /* its --source-port; 0: the worker ranges */
};

struct vg_probe_type;

/* One kind of packet a raw scan sends, named as in the probe registry
 * (probe/registry.c). */
struct raw_send {
    const char *probe;
    uint16_t port;    /* host discovery: the port it probes (0: none) */
    bool onlink;      /* host discovery: only to targets on an attached
                       * ethernet segment */
};

/* What a raw scan runs: the probe of the walk's TCP entries and of its UDP
 * entries (NULL: the scan walks no such entries), or for host discovery
 * the packets every host gets, in the order they are sent and replies are
 * matched, ending with a NULL probe (NULL: a port scan). */
struct raw_plan {
    const char *tcp;
    const char *udp;
    const struct raw_send *discovery;
};

/* A kind of the plan, looked up. */
struct raw_kind {
    const struct vg_probe_type *type; /* NULL: not sent */
    uint16_t port;
    bool onlink;
};

/* Most kinds of packet host discovery may send per host. */
#define RAW_MAX_KINDS 8

/* The raw engine's context (vg_scan.engine_ctx). */
struct raw_ctx {
    vg_cookie_key key;
    unsigned nworkers;
    struct raw_wres *res;
    bool have_v4, have_v6;
    bool tcp, udp;    /* probe kinds of this scan */
    bool ping;        /* host discovery (VG_ENGINE_PING) */
    struct raw_kind port[2];             /* by slot kind: TCP, UDP entries */
    struct raw_kind disc[RAW_MAX_KINDS]; /* host discovery's packets */
    unsigned ndisc;
    bool frames;      /* some of them go below IP (ARP): a packet socket */
    struct raw_iface *ifs;
    unsigned nifs;
    const uint8_t *live; /* vg_scan_set_live(): targets to probe, or NULL */
    bool shared_sport;/* --source-port: every worker sees every reply */
    struct raw_prior prior; /* host discovery before this scan, if any */
    /* counters, updated atomically by the workers */
    uint64_t replies, invalid, late, cap_drops, send_errors;
};

#endif
