/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the port-spec parser; on success every port it reports
 * must be in 1-65535 and in ascending order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/ports.h"

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
        size_t n = vg_ports_count(p);
        uint16_t prev = 0;
        for(size_t i = 0; i < n; i++) {
            uint16_t port = vg_ports_get(p, i);
            if(port == 0 || port <= prev)
                abort();
            prev = port;
        }
    }
    vg_ports_free(p);
    free(spec);
    return 0;
}
