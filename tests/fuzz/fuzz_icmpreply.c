/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the icmp check's echo reply reader (lib/check/icmp.c,
 * icmp_parse_echo_reply) on what a ping socket or a raw socket delivers,
 * for IPv4 and IPv6. An accepted reply must be an echo reply, code 0, with
 * the id and sequence number its header carries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    for(int mode = 0; mode < 4; mode++) {
        bool raw = mode & 1, v6 = mode & 2;
        uint16_t id = 0, seq = 0;
        size_t off = 0;
        if(!icmp_parse_echo_reply(buf, size, raw, v6, &id, &seq))
            continue;
        if(raw && !v6)
            off = (size_t)(buf[0] & 0x0f) * 4;
        if(off < (raw && !v6 ? 20u : 0u) || off + 8 > size)
            abort();
        if(buf[off] != (v6 ? 129 : 0) || buf[off + 1] != 0)
            abort();
        if(id != ((buf[off + 4] << 8) | buf[off + 5]) || seq != ((buf[off + 6] << 8) | buf[off + 7]))
            abort();
    }
    free(buf);
    return 0;
}
