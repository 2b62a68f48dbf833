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
 * (1-65535), "ssh,http" (names from /etc/services, TCP), "essential",
 * "well-known" (1-1023). "N-" means N-65535 and "-N" means 1-N. Port 0 is
 * rejected. Duplicates are kept once. */
int vg_ports_add(vg_ports *p, const char *spec, vg_error *err);

/* Number of distinct ports. */
size_t vg_ports_count(const vg_ports *p);

/* The i-th port in ascending order, 0 <= i < count. */
uint16_t vg_ports_get(const vg_ports *p, size_t i);

/* Service name for a port from /etc/services ("ssh"), or NULL. proto is
 * "tcp" or "udp". buf receives the name. */
const char *vg_port_service(uint16_t port, const char *proto, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
