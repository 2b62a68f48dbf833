/* SPDX-License-Identifier: MIT */
/* Internal to lib/ports: building the services table entry by entry, as
 * vg_services_load() does from getservent_r(), so unit tests and the fuzz
 * target can fill it from their own entries. */
#ifndef VIGIA_PORTS_SERVICES_INTERNAL_H
#define VIGIA_PORTS_SERVICES_INTERNAL_H

#include <stdint.h>

#include "vigia/services.h"

/* An empty table (free with vg_services_free), or NULL. */
vg_services *services_new(void);
/* One services(5) entry: name, port (host order), protocol ("tcp", "udp";
 * others are ignored). The first name for a port and protocol that is
 * kept wins; names of 64 bytes or more are not kept (a later, shorter one
 * then takes the port). */
void services_add(vg_services *s, const char *name, uint16_t port, const char *proto);

#endif
