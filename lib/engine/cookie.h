/* SPDX-License-Identifier: MIT */
/* SipHash-2-4 and the probe cookie built on it: a keyed hash of a probe's
 * addresses, port and protocol that the raw engine puts into the sequence
 * number and source port, so a reply proves which probe it answers without
 * any per-probe lookup state. */
#ifndef VIGIA_COOKIE_H
#define VIGIA_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/addr.h"

typedef struct vg_cookie_key {
    uint64_t k0, k1; /* the 128-bit SipHash key, k0 = first 8 key bytes (LE) */
} vg_cookie_key;

/* SipHash-2-4 of len bytes (Aumasson & Bernstein, 2012). */
uint64_t vg_siphash24(const vg_cookie_key *key, const void *msg, size_t len);

/* Loads a key from 16 bytes, as the SipHash reference does. */
void vg_cookie_key_from_bytes(vg_cookie_key *key, const uint8_t bytes[16]);

/* The cookie of one probe: a hash of (local address, target address, target
 * port, protocol). Our source port is derived from it too, so the
 * source port is deliberately not an input. Addresses of different families
 * never collide (the family is hashed). */
uint64_t vg_cookie(const vg_cookie_key *key, const vg_addr *local, const vg_addr *target,
                   uint16_t tport, uint8_t proto);

#endif
