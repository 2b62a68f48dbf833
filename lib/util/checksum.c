/* SPDX-License-Identifier: MIT */
/* The Internet checksum: a 32-bit accumulator of big-endian 16-bit words,
 * folded and complemented at the end. */
#include "util/checksum.h"

uint32_t vg_csum_add(uint32_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t acc = sum;

    while(len >= 2) {
        acc += (uint32_t)p[0] << 8 | p[1];
        p += 2;
        len -= 2;
    }
    if(len)
        acc += (uint32_t)p[0] << 8;
    /* Keep the running sum in 32 bits without losing carries. */
    while(acc >> 32)
        acc = (acc & 0xffffffffu) + (acc >> 32);
    return (uint32_t)acc;
}

static uint16_t fold(uint32_t sum)
{
    while(sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

uint16_t vg_csum_finish(uint32_t sum)
{
    return (uint16_t)~fold(sum);
}

uint32_t vg_csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                         uint16_t len)
{
    uint32_t sum = vg_csum_add(0, src, 4);
    sum = vg_csum_add(sum, dst, 4);
    return sum + proto + len;
}

uint32_t vg_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                         uint32_t len)
{
    uint32_t sum = vg_csum_add(0, src, 16);
    sum = vg_csum_add(sum, dst, 16);
    return sum + (len >> 16) + (len & 0xffffu) + proto;
}

uint16_t vg_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    /* HC' = ~(~HC + ~m + m') */
    uint32_t sum = (uint16_t)~csum;
    sum += (uint16_t)~old_word;
    sum += new_word;
    return (uint16_t)~fold(sum);
}

uint16_t vg_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
    csum = vg_csum_update16(csum, (uint16_t)(old_val >> 16), (uint16_t)(new_val >> 16));
    return vg_csum_update16(csum, (uint16_t)old_val, (uint16_t)new_val);
}
