/* SPDX-License-Identifier: MIT */
/* Port specifications: numbers, ranges, service names and named sets. */
#ifndef VIGIA_PORTS_H
#define VIGIA_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The essential set: FTP, SSH, Telnet, SMTP, DNS, HTTP, POP3, IMAP, HTTPS,
 * MySQL, RDP, PostgreSQL, Redis, HTTP-alt. */
#define VG_PORTS_ESSENTIAL "21,22,23,25,53,80,110,143,443,3306,3389,5432,6379,8080"
/* What `vigia scan` probes without -p. */
#define VG_PORTS_DEFAULT "well-known,essential"

typedef struct vg_ports vg_ports;

vg_ports *vg_ports_new(void);
void vg_ports_free(vg_ports *p);

/* Adds a comma-separated spec: "80", "1-1024", "22,80,443", "-" or "all"
 * (1-65535), "ssh,http" (names from /etc/services), "essential",
 * "well-known" (1-1023). "N-" means N-65535 and "-N" means 1-N. Port 0 is
 * rejected. Duplicates are kept once.
 *
 * Protocol prefixes as nmap writes them: "T:" (TCP) and "U:" (UDP), case
 * insensitive, hold for the item they start and every item after it until
 * the next prefix, within one spec: "22,T:80,443,U:53" is 22 (no prefix:
 * the scan kind decides), TCP 80 and 443, UDP 53. Names after "U:" are
 * looked up among UDP services, after "T:" among TCP ones, without a
 * prefix in either table. A bad spec leaves the set unchanged. */
int vg_ports_add(vg_ports *p, const char *spec, vg_error *err);

/* Number of distinct port numbers, whatever their protocol. */
size_t vg_ports_count(const vg_ports *p);

/* The i-th distinct port number in ascending order, 0 <= i < count. */
uint16_t vg_ports_get(const vg_ports *p, size_t i);

/* The ports to probe over proto (IPPROTO_TCP or IPPROTO_UDP, the numbers
 * 6 and 17): those given without a prefix plus those given with proto's
 * prefix, ascending. 0 / port 0 for any other proto or i out of range. */
size_t vg_ports_count_proto(const vg_ports *p, int proto);
uint16_t vg_ports_get_proto(const vg_ports *p, int proto, size_t i);

/* How many ports were given with proto's prefix (IPPROTO_TCP: "T:",
 * IPPROTO_UDP: "U:"), or without any prefix (proto 0). A scanner uses it
 * to check the spec against its scan kinds ("U:" ports need a UDP scan). */
size_t vg_ports_count_prefixed(const vg_ports *p, int proto);

/* Gives the ports added without a prefix to proto (IPPROTO_TCP or
 * IPPROTO_UDP), as if they had been written with its prefix: for a caller
 * that scans both protocols only because the spec had "U:" ports and wants
 * the others over TCP alone. */
int vg_ports_set_default_proto(vg_ports *p, int proto, vg_error *err);

/* Service name for a port from /etc/services ("ssh"), or NULL. proto is
 * "tcp" or "udp". buf receives the name. */
const char *vg_port_service(uint16_t port, const char *proto, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
