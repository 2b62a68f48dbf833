/* SPDX-License-Identifier: MIT */
/* The probe registry: every kind of probe packet, by name. The raw engine
 * and host discovery pick their probes here (scan.c's engine table names
 * them), so adding a kind is a file in lib/probe/ and a row below. */
#include <string.h>

#include "probe/probe.h"

static const vg_probe_type *const registry[] = {
    &vg_probe_tcp_syn,
    &vg_probe_tcp_ack,
    &vg_probe_udp,
    &vg_probe_icmp_echo,
    &vg_probe_ndp,
    &vg_probe_arp,
};

const vg_probe_type *vg_probe_at(size_t i)
{
    return i < sizeof(registry) / sizeof(registry[0]) ? registry[i] : NULL;
}

const vg_probe_type *vg_probe_find(const char *name)
{
    for(size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
        if(!strcmp(registry[i]->name, name))
            return registry[i];
    }
    return NULL;
}
