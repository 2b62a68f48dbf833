/* SPDX-License-Identifier: MIT */
/* The RTT estimator behind every probe timeout. */
#include "engine/timing.h"

void vg_rtt_init(vg_rtt *r)
{
    *r = (vg_rtt){0};
}

void vg_rtt_sample(vg_rtt *r, int64_t rtt_us, unsigned tries)
{
    if(rtt_us < 0)
        rtt_us = 0;
    if(!r->samples) {
        r->srtt_us = rtt_us;
        r->rttvar_us = rtt_us / 2;
    }
    else {
        int64_t delta = r->srtt_us - rtt_us;
        if(delta < 0)
            delta = -delta;
        /* RFC 6298 2.3 with alpha = 1/8, beta = 1/4. */
        r->rttvar_us = (3 * r->rttvar_us + delta) / 4;
        r->srtt_us = (7 * r->srtt_us + rtt_us) / 8;
    }
    r->samples++;
    if(tries <= 1)
        r->answered_first_try++;
    else
        r->answered_retry++;
}

void vg_rtt_timeout(vg_rtt *r)
{
    r->timeouts++;
}

uint64_t vg_rtt_timeout_us(const vg_rtt *r, const vg_timing_limits *lim)
{
    uint64_t t;

    if(lim->fixed_us)
        return lim->fixed_us;
    if(!r->samples)
        return lim->initial_us;
    /* The clock granularity term G of RFC 6298: never less than 1 ms of
     * variance, so a steady loopback RTT still gets some slack. */
    int64_t var = 4 * r->rttvar_us;
    if(var < 1000)
        var = 1000;
    /* At least half the RTT again: a steady link shows little variance,
     * yet the answers of a busy path (and our own receive path) straggle;
     * a timeout before them only costs a needless retry. */
    if(var < r->srtt_us / 2)
        var = r->srtt_us / 2;
    t = (uint64_t)(r->srtt_us + var);
    if(t < lim->min_us)
        t = lim->min_us;
    if(t > lim->max_us)
        t = lim->max_us;
    return t;
}
