/* SPDX-License-Identifier: MIT */
/* The silent set: ports whose tries so far went unanswered, kept (not
 * reported) until the end of the scan. A reply that arrives late still
 * finds its port here; before the scan ends, the engines re-probe the set
 * in sweeps at the settled rate until a sweep adds nothing new and every
 * port has had the tries its path's loss calls for. */
#ifndef VIGIA_SILENT_H
#define VIGIA_SILENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigia/addr.h"

enum { SILENT_PARKED = 0, SILENT_PROBING, SILENT_DONE };

typedef struct vg_silent {
    vg_addr addr;
    uint64_t target_idx;
    uint16_t port;
    uint8_t kind;         /* the engine's probe kind (TCP, UDP, host) */
    uint8_t tries;
    uint8_t clean_losses; /* unanswered tries sent on a clean path */
    uint16_t evidence;    /* of silence, VG_EVIDENCE_TRY a clean try (path.h) */
    uint8_t state;
    uint8_t path;         /* index of the worker's path controller */
    bool no_more;         /* gets no more tries (--host-timeout) */
    uint32_t sweep;       /* the sweep that will re-probe it */
} vg_silent;

typedef struct vg_silent_set {
    vg_silent *v;
    size_t len, cap;
    uint32_t *hash;       /* index + 1 into v; 0 = empty */
    size_t hcap;          /* power of two */
    size_t parked;        /* entries in SILENT_PARKED */
    uint32_t sweep;       /* number of the current sweep (0: none yet) */
    size_t cursor;        /* next entry the current sweep looks at */
    uint64_t answered_late; /* entries answered after their last timeout */
} vg_silent_set;

/* The hash of a probe's key, (address, port, kind): the silent set's and
 * the raw engine's in-flight table's. */
uint64_t vg_probe_key_hash(const vg_addr *a, uint16_t port, uint8_t kind);

void vg_silent_init(vg_silent_set *s);
void vg_silent_free(vg_silent_set *s);

/* Parks a port. Returns its index, or -1 when out of memory. */
long vg_silent_add(vg_silent_set *s, const vg_silent *e);

/* The entry for (addr, port, kind) that is not yet decided, or NULL. */
vg_silent *vg_silent_find(vg_silent_set *s, const vg_addr *addr, uint16_t port, uint8_t kind);

/* Starts a sweep over the parked entries with fewer than max_tries tries
 * that either have less evidence of silence than needed tries lost on a
 * clean path or, when all is set, any.
 * Returns how many entries it will re-probe. */
size_t vg_silent_sweep_begin(vg_silent_set *s, unsigned needed, unsigned max_tries, bool all);

/* The next entry of the current sweep (now SILENT_PROBING), or NULL when
 * the sweep has handed out every entry. */
vg_silent *vg_silent_sweep_next(vg_silent_set *s);

/* An entry probed again went unanswered: parked again. */
void vg_silent_repark(vg_silent_set *s, vg_silent *e);

/* An entry got its answer (or its verdict). */
void vg_silent_done(vg_silent_set *s, vg_silent *e);

#endif
