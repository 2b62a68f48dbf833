/* SPDX-License-Identifier: MIT */
/* One IPv4 or IPv6 address, family-tagged, plus helpers to print and compare it. */
#ifndef VIGIA_ADDR_H
#define VIGIA_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Bytes are in network order. An IPv4 address uses the first 4 bytes of a[]
 * and leaves the rest zero, so that memcmp() orders and compares addresses. */
typedef struct vg_addr {
    uint8_t family;    /* AF_INET or AF_INET6 */
    uint8_t pad[3];
    uint32_t scope_id; /* IPv6 link-local interface index, else 0 */
    uint8_t a[16];
} vg_addr;

/* Longest text vg_addr_format() writes, with scope and NUL. */
#define VG_ADDR_STRLEN 64

/* Writes "198.18.0.1" or "fe80::1%eth0". Returns buf. */
const char *vg_addr_format(const vg_addr *addr, char *buf, size_t len);

/* Fills a sockaddr_in / sockaddr_in6 for addr:port; returns its length. */
socklen_t vg_addr_to_sockaddr(const vg_addr *addr, uint16_t port,
                              struct sockaddr_storage *ss);

/* The reverse: false when ss is neither AF_INET nor AF_INET6. */
bool vg_addr_from_sockaddr(vg_addr *addr, const struct sockaddr *sa);

/* Total order: IPv4 before IPv6, then by bytes, then scope. */
int vg_addr_cmp(const vg_addr *x, const vg_addr *y);

#endif
