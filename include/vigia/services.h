/* SPDX-License-Identifier: MIT */
/* A port -> service name table read once from the system's services
 * database (/etc/services), so output does not re-read it per record. */
#ifndef VIGIA_SERVICES_H
#define VIGIA_SERVICES_H

#include <stdint.h>

typedef struct vg_services vg_services;

/* Never NULL unless out of memory; an unreadable database gives an empty
 * table. */
vg_services *vg_services_load(void);
void vg_services_free(vg_services *s);

/* "ssh" for (22, IPPROTO_TCP); NULL when unknown. */
const char *vg_services_name(const vg_services *s, uint16_t port, int proto);

#endif
