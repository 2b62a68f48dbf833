/* SPDX-License-Identifier: MIT */
/* Per-host round-trip estimation and probe timeouts, after RFC 6298 but with
 * a floor in milliseconds instead of one second. */
#ifndef VIGIA_TIMING_H
#define VIGIA_TIMING_H

#include <stdint.h>

typedef struct vg_timing_limits {
    uint64_t min_us;     /* floor of the adaptive timeout */
    uint64_t max_us;     /* ceiling */
    uint64_t initial_us; /* before the first sample */
    uint64_t fixed_us;   /* non-zero: always this, ignore samples */
} vg_timing_limits;

/* What the timing module knows about one host. The counters let a later
 * congestion model tell random loss (answers on later tries, steady RTT)
 * from congestion (rising RTT, loss growing with the rate). */
typedef struct vg_rtt {
    int64_t srtt_us;    /* smoothed RTT, valid when samples > 0 */
    int64_t rttvar_us;  /* RTT variation */
    uint32_t samples;
    uint32_t answered_first_try;
    uint32_t answered_retry;
    uint32_t timeouts;
} vg_rtt;

void vg_rtt_init(vg_rtt *r);

/* Feeds one measured round trip; tries is the try that was answered (1 =
 * first). */
void vg_rtt_sample(vg_rtt *r, int64_t rtt_us, unsigned tries);

/* Records an unanswered try. */
void vg_rtt_timeout(vg_rtt *r);

/* How long to wait for an answer to the next probe: srtt + 4 * rttvar (at
 * least 1 ms of variance, and at least srtt / 2), clamped to [min_us, max_us]; initial_us before
 * any sample; fixed_us when set. */
uint64_t vg_rtt_timeout_us(const vg_rtt *r, const vg_timing_limits *lim);

#endif
