/* SPDX-License-Identifier: MIT */
/* The raw engine's sockets: a TPACKET_V3 capture ring with a kernel BPF
 * filter (compiled by libpcap from a readable expression), raw send
 * sockets, and source-address lookups through the kernel's routing. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vigia/scan.h"

#include "engine/loop.h"
#include "engine/raw.h"
#include "util/alloc.h"

#define RING_BLOCK_SIZE (1u << 17)
#define RING_BLOCK_NR 16u
#define RING_FRAME_SIZE 2048u
#define RING_RETIRE_MS 1 /* a partly filled block is handed over after 1 ms */

static int sys_error(vg_error *err, const char *what)
{
    int e = errno;
    vg_error_set(err, VG_ESYS, "%s: %s%s", what, strerror(e),
                 e == EPERM || e == EACCES ? " (raw scans need root or CAP_NET_RAW)" : "");
    if(err)
        err->sys_errno = e;
    return VG_ESYS;
}

static int attach_filter(int fd, const char *expr, vg_error *err)
{
    struct bpf_program prog;
    pcap_t *p = pcap_open_dead(DLT_RAW, RAW_SNAPLEN);
    int rc = VG_OK;

    if(!p)
        return vg_error_set(err, VG_ENOMEM, "pcap_open_dead failed");
    if(pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        rc = vg_error_set(err, VG_EINVAL, "capture filter '%s': %s", expr, pcap_geterr(p));
        pcap_close(p);
        return rc;
    }
    /* struct bpf_insn and struct sock_filter have the same layout. */
    struct sock_fprog fp = {
        .len = (unsigned short)prog.bf_len,
        .filter = (struct sock_filter *)prog.bf_insns,
    };
    if(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0)
        rc = sys_error(err, "SO_ATTACH_FILTER");
    pcap_freecode(&prog);
    pcap_close(p);
    return rc;
}

int raw_cap_open(raw_cap *c, int ifindex, const char *expr, vg_error *err)
{
    int one = 1, v3 = TPACKET_V3, rc;

    memset(c, 0, sizeof(*c));
    /* Protocol 0: nothing is queued before the filter is attached and the
     * socket bound below. */
    c->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if(c->fd < 0)
        return sys_error(err, "capture socket (AF_PACKET)");
    if(setsockopt(c->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) < 0) {
        rc = sys_error(err, "PACKET_VERSION TPACKET_V3");
        goto fail;
    }
    /* Our own probes are not replies (they matter on loopback, where each
     * packet passes twice). */
    if(setsockopt(c->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
        rc = sys_error(err, "PACKET_IGNORE_OUTGOING");
        goto fail;
    }
    rc = attach_filter(c->fd, expr, err);
    if(rc)
        goto fail;
    c->block_size = RING_BLOCK_SIZE;
    c->block_nr = RING_BLOCK_NR;
    struct tpacket_req3 req = {
        .tp_block_size = c->block_size,
        .tp_block_nr = c->block_nr,
        .tp_frame_size = RING_FRAME_SIZE,
        .tp_frame_nr = c->block_size / RING_FRAME_SIZE * c->block_nr,
        .tp_retire_blk_tov = RING_RETIRE_MS,
    };
    if(setsockopt(c->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
        rc = sys_error(err, "PACKET_RX_RING");
        goto fail;
    }
    c->ring_len = (size_t)c->block_size * c->block_nr;
    c->ring = mmap(NULL, c->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if(c->ring == MAP_FAILED) {
        c->ring = NULL;
        rc = sys_error(err, "mmap of the capture ring");
        goto fail;
    }
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = ifindex,
    };
    if(bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        rc = sys_error(err, "bind capture socket");
        goto fail;
    }
    return VG_OK;
fail:
    raw_cap_close(c);
    return rc;
}

/* A frame's capture time (the ring stamps CLOCK_REALTIME) on the
 * monotonic clock of vg_now_us(); never later than now. *now is the latest
 * clock reading: it is read again only for a stamp beyond it (a frame that
 * arrived during the drain), not for every frame. */
static uint64_t frame_time_us(const struct tpacket3_hdr *ph, int64_t real_minus_mono_us,
                              uint64_t *now)
{
    int64_t real_us = (int64_t)ph->tp_sec * 1000000 + (int64_t)(ph->tp_nsec / 1000);
    int64_t at = real_us - real_minus_mono_us;
    if(at <= 0)
        return *now;
    if((uint64_t)at > *now)
        *now = vg_now_us();
    return (uint64_t)at > *now ? *now : (uint64_t)at;
}

size_t raw_cap_drain(raw_cap *c, raw_cap_fn fn, void *ud)
{
    size_t n = 0;

    if(!c->ring)
        return 0;
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t now = vg_now_us();
    int64_t offset = (int64_t)real.tv_sec * 1000000 + real.tv_nsec / 1000 - (int64_t)now;
    for(unsigned b = 0; b < c->block_nr; b++) {
        struct tpacket_block_desc *bd =
            (struct tpacket_block_desc *)(c->ring + (size_t)c->cur * c->block_size);
        if(!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
            break;
        uint32_t num = bd->hdr.bh1.num_pkts;
        size_t off = bd->hdr.bh1.offset_to_first_pkt;
        for(uint32_t i = 0; i < num; i++) {
            /* The kernel wrote these offsets, but a bad one must not take
             * us outside the block. */
            if(off + sizeof(struct tpacket3_hdr) > c->block_size)
                break;
            struct tpacket3_hdr *ph = (struct tpacket3_hdr *)((uint8_t *)bd + off);
            size_t net = ph->tp_net, len = ph->tp_snaplen;
            size_t sll_off = TPACKET_ALIGN(sizeof(struct tpacket3_hdr));
            const uint8_t *mac = NULL;
            if(off + sll_off + sizeof(struct sockaddr_ll) <= c->block_size) {
                const struct sockaddr_ll *sll =
                    (const struct sockaddr_ll *)((uint8_t *)bd + off + sll_off);
                if(sll->sll_halen == 6)
                    mac = sll->sll_addr;
            }
            if(off + net + len <= c->block_size)
                fn((uint8_t *)bd + off + net, len, mac, frame_time_us(ph, offset, &now), ud);
            n++;
            if(!ph->tp_next_offset)
                break;
            off += ph->tp_next_offset;
        }
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        c->cur = (c->cur + 1) % c->block_nr;
    }
    c->packets += n;
    return n;
}

static void discard(const uint8_t *pkt, size_t len, const uint8_t *mac, uint64_t at_us, void *ud)
{
    (void)pkt;
    (void)len;
    (void)mac;
    (void)at_us;
    (void)ud;
}

size_t raw_cap_flush(raw_cap *c)
{
    size_t n = raw_cap_drain(c, discard, NULL);
    c->packets -= n;
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof(st);
    if(c->fd >= 0)
        (void)getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len);
    return n;
}

void raw_cap_stats(raw_cap *c)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof(st);
    if(c->fd >= 0 && getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
        c->drops += st.tp_drops; /* the kernel resets its counters on read */
}

int raw_cap_release(raw_cap *c)
{
    if(c->ring)
        munmap(c->ring, c->ring_len);
    c->ring = NULL;
    int fd = c->fd;
    c->fd = -1;
    return fd;
}

void raw_cap_close(raw_cap *c)
{
    int fd = raw_cap_release(c);
    if(fd >= 0)
        close(fd);
}

static int bind_device(int fd, const char *ifname, vg_error *err)
{
    if(!ifname)
        return VG_OK;
    if(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0) {
        char what[64];
        snprintf(what, sizeof(what), "SO_BINDTODEVICE %s", ifname);
        return sys_error(err, what);
    }
    return VG_OK;
}

int raw_send_socket(int family, const char *ifname, vg_error *err)
{
    /* IPPROTO_RAW implies IP_HDRINCL (and, for IPv6, IPV6_HDRINCL). */
    int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    int big = 4 << 20;

    if(fd < 0)
        return sys_error(err, family == AF_INET ? "raw IPv4 socket" : "raw IPv6 socket");
    /* A deep send buffer lets sendmmsg() batches through at full rate. */
    if(setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    int rc = bind_device(fd, ifname, err);
    if(rc) {
        close(fd);
        return rc;
    }
    return fd;
}

int raw_route_socket(int family, const char *ifname, vg_error *err)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if(fd < 0)
        return sys_error(err, "route lookup socket");
    int rc = bind_device(fd, ifname, err);
    if(rc) {
        close(fd);
        return rc;
    }
    return fd;
}

int raw_ifaces_load(struct raw_iface **out, unsigned *n, vg_error *err)
{
    struct ifaddrs *ifa, *i, *j;
    unsigned cnt = 0, k = 0;

    *out = NULL;
    *n = 0;
    if(getifaddrs(&ifa) < 0)
        return sys_error(err, "getifaddrs");
    for(i = ifa; i; i = i->ifa_next) {
        if(i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
            cnt++;
    }
    struct raw_iface *ifs = vg_calloc(cnt ? cnt : 1, sizeof(*ifs));
    if(!ifs) {
        freeifaddrs(ifa);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    for(i = ifa; i; i = i->ifa_next) {
        if(!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
            continue;
        struct raw_iface *f = &ifs[k++];
        vg_addr_from_sockaddr(&f->addr, i->ifa_addr);
        f->addr.scope_id = 0;
        f->ifindex = (int)if_nametoindex(i->ifa_name);
        if(i->ifa_netmask) {
            vg_addr m;
            vg_addr_from_sockaddr(&m, i->ifa_netmask);
            for(int b = 0; b < (f->addr.family == AF_INET ? 32 : 128); b++) {
                if(!(m.a[b / 8] & (0x80 >> (b % 8))))
                    break;
                f->prefix++;
            }
        }
        /* The link-layer address comes from the AF_PACKET entry. */
        for(j = ifa; j; j = j->ifa_next) {
            if(j->ifa_addr && j->ifa_addr->sa_family == AF_PACKET && !strcmp(j->ifa_name, i->ifa_name)) {
                const struct sockaddr_ll *sll = (const struct sockaddr_ll *)j->ifa_addr;
                if(sll->sll_hatype == ARPHRD_ETHER && sll->sll_halen == 6) {
                    f->ether = true;
                    memcpy(f->mac, sll->sll_addr, 6);
                }
            }
        }
    }
    freeifaddrs(ifa);
    *out = ifs;
    *n = k;
    return VG_OK;
}

const struct raw_iface *raw_iface_onlink(const struct raw_iface *ifs, unsigned n,
                                         const vg_addr *addr)
{
    for(unsigned i = 0; i < n; i++) {
        const struct raw_iface *f = &ifs[i];
        if(f->addr.family != addr->family || !f->prefix)
            continue;
        unsigned bits = f->prefix, b = 0;
        bool match = true;
        for(; b + 8 <= bits && match; b += 8)
            match = f->addr.a[b / 8] == addr->a[b / 8];
        if(match && b < bits) {
            uint8_t mask = (uint8_t)(0xff << (8 - (bits - b)));
            match = (f->addr.a[b / 8] & mask) == (addr->a[b / 8] & mask);
        }
        if(match)
            return f;
    }
    return NULL;
}

int raw_arp_socket(int ifindex, vg_error *err)
{
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP));
    if(fd < 0)
        return sys_error(err, "ARP socket (AF_PACKET)");
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ARP),
        .sll_ifindex = ifindex,
    };
    if(bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        int rc = sys_error(err, "bind ARP socket");
        close(fd);
        return rc;
    }
    return fd;
}

int raw_route_source(int fd, const vg_addr *dst, vg_addr *src)
{
    struct sockaddr_storage ss;
    /* Any port will do: connect() on a datagram socket sends nothing. */
    socklen_t len = vg_addr_to_sockaddr(dst, 9, &ss);
    if(connect(fd, (struct sockaddr *)&ss, len) < 0)
        return -errno;
    len = sizeof(ss);
    if(getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if(!vg_addr_from_sockaddr(src, (struct sockaddr *)&ss))
        return -EAFNOSUPPORT;
    src->scope_id = 0;
    return 0;
}

bool vg_targets_onlink(const vg_targets *t)
{
    struct raw_iface *ifs = NULL;
    unsigned n = 0;
    vg_error err = {0};
    uint64_t count = vg_targets_count(t);
    bool onlink = count > 0;

    if(!count || raw_ifaces_load(&ifs, &n, &err))
        return false;
    /* The targets are sorted: the first and the last stand for a range. */
    vg_addr a;
    uint64_t ends[2] = {0, count - 1};
    for(int i = 0; i < 2 && onlink; i++) {
        vg_targets_get(t, ends[i], &a);
        const struct raw_iface *f = raw_iface_onlink(ifs, n, &a);
        onlink = f && f->ether;
    }
    free(ifs);
    return onlink;
}
