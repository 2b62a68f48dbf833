/* SPDX-License-Identifier: MIT */
/* SipHash-2-4, written from the paper's description, and the probe cookie. */
#include <string.h>

#include "engine/cookie.h"

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for(int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#define SIPROUND(v0, v1, v2, v3)                                      \
    do {                                                              \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);    \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                        \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                        \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);    \
    } while(0)

uint64_t vg_siphash24(const vg_cookie_key *key, const void *msg, size_t len)
{
    const uint8_t *p = msg;
    uint64_t v0 = key->k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = key->k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = key->k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = key->k1 ^ 0x7465646279746573ULL;
    size_t left = len;

    for(; left >= 8; left -= 8, p += 8) {
        uint64_t m = load_le64(p);
        v3 ^= m;
        SIPROUND(v0, v1, v2, v3);
        SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    /* The last block: remaining bytes, zero padded, length in the top byte. */
    uint64_t b = (uint64_t)(len & 0xff) << 56;
    for(size_t i = 0; i < left; i++)
        b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

void vg_cookie_key_from_bytes(vg_cookie_key *key, const uint8_t bytes[16])
{
    key->k0 = load_le64(bytes);
    key->k1 = load_le64(bytes + 8);
}

uint64_t vg_cookie(const vg_cookie_key *key, const vg_addr *local, const vg_addr *target,
                   uint16_t tport, uint8_t proto)
{
    /* family, proto, port, then both addresses: 4 + 16 + 16 bytes. */
    uint8_t m[36];
    memset(m, 0, sizeof(m));
    m[0] = target->family;
    m[1] = proto;
    m[2] = (uint8_t)(tport >> 8);
    m[3] = (uint8_t)tport;
    memcpy(m + 4, local->a, 16);
    memcpy(m + 20, target->a, 16);
    return vg_siphash24(key, m, sizeof(m));
}
