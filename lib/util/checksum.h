/* SPDX-License-Identifier: MIT */
/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624),
 * for building probe packets from templates. */
#ifndef VIGIA_CHECKSUM_H
#define VIGIA_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at buf to a running 32-bit one's-complement sum. Bytes are
 * taken as big-endian 16-bit words; an odd last byte is padded with zero, so
 * only the last chunk of a sum may have an odd length. */
uint32_t vg_csum_add(uint32_t sum, const void *buf, size_t len);

/* Adds one 16-bit value (host order) to a running sum. */
static inline uint32_t vg_csum_add16(uint32_t sum, uint16_t v)
{
    return sum + v;
}

/* Folds a running sum to 16 bits and complements it: the value to store in
 * a header, in host order (write it with htons or as big-endian bytes). */
uint16_t vg_csum_finish(uint32_t sum);

/* The pseudo-header sums of TCP/UDP/ICMPv6: addresses (network order, 4 or
 * 16 bytes each), protocol, and the upper-layer length. */
uint32_t vg_csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                         uint16_t len);
uint32_t vg_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                         uint32_t len);

/* RFC 1624 eqn. 3: the new checksum after a 16-bit word of the covered data
 * changed from old_word to new_word. All values in host order. */
uint16_t vg_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

/* Same for a 32-bit field (two words). */
uint16_t vg_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

#endif
