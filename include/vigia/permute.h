/* SPDX-License-Identifier: MIT */
/* A keyed pseudo-random permutation of [0, n): the scan walks position
 * 0, 1, 2, ... and probes element vg_perm_at(position). The order depends
 * only on n and the seed, never on timing, so shards and resume points are
 * plain integers. */
#ifndef VIGIA_PERMUTE_H
#define VIGIA_PERMUTE_H

#include <stdint.h>

typedef struct vg_perm {
    uint64_t n;
    uint64_t keys[4];   /* one per Feistel round */
    unsigned half_bits; /* each Feistel half has this many bits */
    uint64_t half_mask;
} vg_perm;

void vg_perm_init(vg_perm *p, uint64_t n, uint64_t seed);

/* The element at position i, 0 <= i < n; a bijection on [0, n). */
uint64_t vg_perm_at(const vg_perm *p, uint64_t i);

#endif
