/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the SSH binary-packet framing and the name-list
 * negotiation, fed whatever a hostile server might send. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/ssh_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t consumed = 0, plen = 0;
    const uint8_t *payload = NULL;
    int rc = ssh_packet_parse(data, size, &consumed, &payload, &plen);
    if(rc == 1) {
        if(consumed > size || !payload || payload < data || payload + plen > data + size)
            abort();
    }
    char pick[64];
    ssh_namelist_pick("curve25519-sha256,curve25519-sha256@libssh.org", data, size, pick,
                      sizeof(pick));
    vg_rd r;
    const uint8_t *s;
    size_t n;
    vg_rd_init(&r, data, size);
    while(vg_rd_str32(&r, &s, &n)) {
        if(s < data || s + n > data + size)
            abort();
    }
    return 0;
}
