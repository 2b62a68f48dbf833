/* SPDX-License-Identifier: MIT */
/* The silent set (see silent.h): an array of entries and an
 * open-addressing index by (address, port, kind). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/path.h"
#include "engine/silent.h"
#include "util/alloc.h"

void vg_silent_init(vg_silent_set *s)
{
    memset(s, 0, sizeof(*s));
}

void vg_silent_free(vg_silent_set *s)
{
    free(s->v);
    free(s->hash);
    memset(s, 0, sizeof(*s));
}

uint64_t vg_probe_key_hash(const vg_addr *a, uint16_t port, uint8_t kind)
{
    uint64_t x = 0, y = 0;
    memcpy(&x, a->a, 8);
    memcpy(&y, a->a + 8, 8);
    x ^= y * 0x9e3779b97f4a7c15ULL;
    x ^= ((uint64_t)port << 8 | kind) * 0xc2b2ae3d27d4eb4fULL;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    return x ^ (x >> 32);
}

static bool same(const vg_silent *e, const vg_addr *a, uint16_t port, uint8_t kind)
{
    return e->port == port && e->kind == kind && e->addr.family == a->family &&
           !memcmp(e->addr.a, a->a, sizeof(a->a));
}

static void hash_put(uint32_t *h, size_t hcap, const vg_silent *e, uint32_t idx1)
{
    size_t j = vg_probe_key_hash(&e->addr, e->port, e->kind) & (hcap - 1);
    while(h[j])
        j = (j + 1) & (hcap - 1);
    h[j] = idx1;
}

static int grow(vg_silent_set *s)
{
    if(s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        vg_silent *v = vg_realloc(s->v, cap * sizeof(*v));
        if(!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    if((s->len + 1) * 2 > s->hcap) {
        size_t hcap = s->hcap ? s->hcap * 2 : 2048;
        uint32_t *h = vg_calloc(hcap, sizeof(*h));
        if(!h)
            return -1;
        for(size_t i = 0; i < s->len; i++)
            hash_put(h, hcap, &s->v[i], (uint32_t)(i + 1));
        free(s->hash);
        s->hash = h;
        s->hcap = hcap;
    }
    return 0;
}

long vg_silent_add(vg_silent_set *s, const vg_silent *e)
{
    if(s->len >= UINT32_MAX - 1 || grow(s))
        return -1;
    size_t i = s->len++;
    s->v[i] = *e;
    s->v[i].state = SILENT_PARKED;
    s->v[i].sweep = 0;
    hash_put(s->hash, s->hcap, &s->v[i], (uint32_t)(i + 1));
    s->parked++;
    return (long)i;
}

vg_silent *vg_silent_find(vg_silent_set *s, const vg_addr *addr, uint16_t port, uint8_t kind)
{
    if(!s->hcap)
        return NULL;
    size_t j = vg_probe_key_hash(addr, port, kind) & (s->hcap - 1);
    while(s->hash[j]) {
        vg_silent *e = &s->v[s->hash[j] - 1];
        if(e->state != SILENT_DONE && same(e, addr, port, kind))
            return e;
        j = (j + 1) & (s->hcap - 1);
    }
    return NULL;
}

size_t vg_silent_sweep_begin(vg_silent_set *s, unsigned needed, unsigned max_tries, bool all)
{
    size_t n = 0;
    s->sweep++;
    s->cursor = 0;
    for(size_t i = 0; i < s->len; i++) {
        vg_silent *e = &s->v[i];
        if(e->state != SILENT_PARKED || e->tries >= max_tries || e->no_more)
            continue;
        if(all || e->evidence < needed * VG_EVIDENCE_TRY) {
            e->sweep = s->sweep;
            n++;
        }
    }
    return n;
}

vg_silent *vg_silent_sweep_next(vg_silent_set *s)
{
    while(s->cursor < s->len) {
        vg_silent *e = &s->v[s->cursor++];
        if(e->state == SILENT_PARKED && e->sweep == s->sweep) {
            e->state = SILENT_PROBING;
            s->parked--;
            return e;
        }
    }
    return NULL;
}

void vg_silent_repark(vg_silent_set *s, vg_silent *e)
{
    if(e->state == SILENT_PROBING) {
        e->state = SILENT_PARKED;
        s->parked++;
    }
}

void vg_silent_done(vg_silent_set *s, vg_silent *e)
{
    if(e->state == SILENT_PARKED)
        s->parked--;
    e->state = SILENT_DONE;
}
