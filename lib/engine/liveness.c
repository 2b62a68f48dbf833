/* SPDX-License-Identifier: MIT */
/* Proof of life from port answers (see vigia/scan.h, vg_liveness): a host
 * is up when any of its ports answered; the silent ports of hosts that
 * never answered are held back and, at the end, reported as skipped with
 * the host down, as host discovery would have had it. */
#include <stdlib.h>
#include <string.h>

#include "vigia/scan.h"
#include "util/alloc.h"

/* Silent results of not-yet-live hosts held at once, at most. */
#define LIVENESS_MAX_HELD (UINT64_C(1) << 24)

struct vg_liveness {
    const vg_targets *targets;
    uint8_t *up;        /* bit per target index: answered */
    uint8_t *down_told; /* bit per target index: a down record was given */
    vg_result *held;
    size_t nheld, cap;
};

int vg_liveness_new(vg_liveness **out, const vg_targets *t, vg_error *err)
{
    uint64_t n = vg_targets_count(t);
    *out = NULL;
    if(n >= (UINT64_C(1) << 35))
        return vg_error_set(err, VG_EINVAL, "too many targets to track which are up");
    vg_liveness *l = vg_calloc(1, sizeof(*l));
    if(!l)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    l->targets = t;
    l->up = vg_calloc((size_t)(n / 8 + 1), 1);
    l->down_told = vg_calloc((size_t)(n / 8 + 1), 1);
    if(!l->up || !l->down_told) {
        vg_liveness_free(l);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    *out = l;
    return VG_OK;
}

void vg_liveness_free(vg_liveness *l)
{
    if(!l)
        return;
    free(l->up);
    free(l->down_told);
    free(l->held);
    free(l);
}

static bool bit(const uint8_t *b, uint64_t i)
{
    return b[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *b, uint64_t i)
{
    b[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* An answer from the host itself: open, closed (a reset or, for UDP, the
 * host's own port unreachable). */
static bool is_answer(const vg_result *r)
{
    return r->state == VG_STATE_OPEN || r->state == VG_STATE_CLOSED;
}

int vg_liveness_feed(vg_liveness *l, const vg_result *res, vg_result *host, bool *first)
{
    *first = false;
    uint64_t i = vg_targets_index(l->targets, &res->addr);
    if(i == UINT64_MAX)
        return VG_LIVE_EMIT;
    if(is_answer(res)) {
        if(!bit(l->up, i)) {
            set_bit(l->up, i);
            *first = true;
            *host = *res;
            host->port = 0;
            host->proto = 0;
            host->state = VG_STATE_OPEN;
        }
        return VG_LIVE_EMIT;
    }
    if(bit(l->up, i))
        return VG_LIVE_EMIT;
    if(l->nheld == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        vg_result *h = cap <= LIVENESS_MAX_HELD ? vg_realloc(l->held, cap * sizeof(*h)) : NULL;
        if(!h)
            return VG_LIVE_EMIT; /* cannot hold it: report it as it is */
        l->held = h;
        l->cap = cap;
    }
    l->held[l->nheld++] = *res;
    return VG_LIVE_HELD;
}

uint64_t vg_liveness_finish(vg_liveness *l, vg_result_fn emit, vg_result_fn host_down, void *ud)
{
    uint64_t skipped = 0;
    for(size_t k = 0; k < l->nheld; k++) {
        const vg_result *r = &l->held[k];
        uint64_t i = vg_targets_index(l->targets, &r->addr);
        if(i != UINT64_MAX && bit(l->up, i)) {
            emit(r, ud);
            continue;
        }
        skipped++;
        if(i != UINT64_MAX && !bit(l->down_told, i)) {
            set_bit(l->down_told, i);
            vg_result h = *r;
            h.port = 0;
            h.proto = 0;
            h.state = VG_STATE_FILTERED;
            h.reason = VG_REASON_NO_RESPONSE;
            h.rtt_us = -1;
            host_down(&h, ud);
        }
    }
    l->nheld = 0;
    return skipped;
}
