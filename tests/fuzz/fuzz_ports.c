/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the port-spec parser; on success every port it reports
 * must be in 1-65535 and in ascending order, in every view: all numbers,
 * TCP (no prefix + "T:"), UDP (no prefix + "U:"); the two protocol views
 * together are exactly all numbers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "vigia/ports.h"

/* Marks the ports of one view in seen (bit 0: TCP, bit 1: UDP, bit 2: all)
 * after checking they ascend. */
static void check_view(const vg_ports *p, int proto, uint8_t bit, uint8_t *seen)
{
    size_t n = proto ? vg_ports_count_proto(p, proto) : vg_ports_count(p);
    uint16_t prev = 0;
    for(size_t i = 0; i < n; i++) {
        uint16_t port = proto ? vg_ports_get_proto(p, proto, i) : vg_ports_get(p, i);
        if(port == 0 || port <= prev)
            abort();
        prev = port;
        seen[port] |= bit;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    vg_error err;
    if(!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    vg_ports *p = vg_ports_new();
    if(p && vg_ports_add(p, spec, &err) == VG_OK) {
        static uint8_t seen[65536];
        memset(seen, 0, sizeof(seen));
        check_view(p, IPPROTO_TCP, 1, seen);
        check_view(p, IPPROTO_UDP, 2, seen);
        check_view(p, 0, 4, seen);
        for(size_t i = 0; i < 65536; i++) {
            /* In all numbers exactly when in a protocol view. */
            if(!!(seen[i] & 4) != !!(seen[i] & 3))
                abort();
        }
        if(vg_ports_count_prefixed(p, 0) + vg_ports_count_prefixed(p, IPPROTO_TCP) <
           vg_ports_count_proto(p, IPPROTO_TCP))
            abort();
    }
    vg_ports_free(p);
    free(spec);
    return 0;
}
