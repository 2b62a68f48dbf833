/* SPDX-License-Identifier: MIT */
/* A four-round balanced Feistel network over the smallest even-bit domain
 * that holds n, with cycle walking to stay inside [0, n). The domain is less
 * than 4n, so a position needs fewer than four walks on average. */
#include "vigia/permute.h"

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The round function only needs to mix well, not to be a secure PRF. */
static uint64_t round_fn(uint64_t x, uint64_t key)
{
    x ^= key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

void vg_perm_init(vg_perm *p, uint64_t n, uint64_t seed)
{
    uint64_t state = seed;
    unsigned bits = 2;

    p->n = n;
    /* Smallest even bit count with 2^bits >= n (64 at most). */
    while(bits < 64 && (n - 1) >> bits)
        bits += 2;
    p->half_bits = bits / 2;
    p->half_mask = p->half_bits == 32 ? 0xffffffffULL : (1ULL << p->half_bits) - 1;
    for(int i = 0; i < 4; i++)
        p->keys[i] = splitmix64(&state);
}

static uint64_t feistel(const vg_perm *p, uint64_t x)
{
    uint64_t left = (x >> p->half_bits) & p->half_mask;
    uint64_t right = x & p->half_mask;
    for(int r = 0; r < 4; r++) {
        uint64_t next = left ^ (round_fn(right, p->keys[r]) & p->half_mask);
        left = right;
        right = next;
    }
    return left << p->half_bits | right;
}

uint64_t vg_perm_at(const vg_perm *p, uint64_t i)
{
    uint64_t x = i;
    if(p->n <= 1)
        return 0;
    do
        x = feistel(p, x);
    while(x >= p->n);
    return x;
}
