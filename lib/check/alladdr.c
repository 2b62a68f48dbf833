/* SPDX-License-Identifier: MIT */
/* --all-addresses: a name's addresses (up to 8, in resolver order) are
 * probed one after the other within the check's deadline, each with an
 * equal share of the time left, each judged on its own; --policy all (the
 * default) passes only when every address passes, --policy any when one
 * does. The record lists every address with its state and reason. */
#include <string.h>

#include "check/check_internal.h"

static void arm_share(vg_check *ck)
{
    uint64_t now = vg_now_us();
    unsigned left = ck->naddrs - ck->addr_idx;
    uint64_t share = ck->deadline_us > now ? (ck->deadline_us - now) / (left ? left : 1) : 0;
    ck->addr_start_us = now;
    vg_timer_arm(check_loop(ck), &ck->timer, now + share);
}

void alladdr_begin(vg_check *ck)
{
    ck->run->res.naddr_results = 0;
    arm_share(ck);
}

/* This address' verdict: its worst finding (findings are never OK). */
static int worst_state(const vg_check *ck, int *reason, const char **msg)
{
    int s = VG_CHECK_OK;
    *reason = VG_CR_OK;
    *msg = ck->run->summary;
    for(unsigned i = 0; i < ck->run->nfindings; i++) {
        int st = ck->run->findings[i].state;
        if(i == 0 || (st != s && vg_check_state_worst(s, st) == st)) {
            s = st;
            *reason = ck->run->findings[i].reason;
            *msg = ck->run->findings[i].msg;
        }
    }
    return s;
}

/* Replaces the findings with the verdict over all addresses. */
static void combine(vg_check *ck)
{
    vg_check_result *r = &ck->run->res;
    bool any = ck->opts->policy == VG_POLICY_ANY;
    unsigned ok = 0, n = r->naddr_results;
    char list[400];
    size_t ln = 0;

    list[0] = '\0';
    for(unsigned i = 0; i < n; i++) {
        char a[VG_ADDR_STRLEN];
        int w;
        ok += r->addr_results[i].state == VG_CHECK_OK;
        w = snprintf(list + ln, sizeof(list) - ln, "%s%s %s", i ? ", " : "",
                     vg_addr_format(&r->addr_results[i].addr, a, sizeof(a)),
                     vg_check_reason_name(r->addr_results[i].reason));
        if(w > 0 && (size_t)w < sizeof(list) - ln)
            ln += (size_t)w;
    }
    ck->run->nfindings = 0;
    check_summary(ck, "%u of %u addresses passed (policy %s): %s", ok, n, any ? "any" : "all", list);
    if(any && ok)
        return;
    for(unsigned i = 0; i < n; i++) {
        char a[VG_ADDR_STRLEN];
        if(r->addr_results[i].state == VG_CHECK_OK)
            continue;
        check_finding(ck, r->addr_results[i].state, r->addr_results[i].reason, "%s: %s",
                      vg_addr_format(&r->addr_results[i].addr, a, sizeof(a)), ck->run->addr_msgs[i]);
    }
}

bool alladdr_next(vg_check *ck)
{
    vg_check_result *r = &ck->run->res;
    uint64_t now = vg_now_us();
    const char *msg;
    int reason;
    int s = worst_state(ck, &reason, &msg);

    if(r->naddr_results < CHECK_MAX_ADDRS && r->naddr_results < sizeof(r->addr_results) / sizeof(r->addr_results[0])) {
        struct vg_check_addr_result *o = &r->addr_results[r->naddr_results];
        o->addr = ck->addr;
        o->state = s;
        o->reason = reason;
        o->total_us = (int64_t)(now - ck->addr_start_us);
        snprintf(ck->run->addr_msgs[r->naddr_results], sizeof(ck->run->addr_msgs[0]), "%.199s", msg);
        r->naddr_results++;
    }
    if(ck->addr_idx + 1 < ck->naddrs && now < ck->deadline_us) {
        ck->addr = ck->addrs[++ck->addr_idx];
        ck->run->nfindings = 0;
        ck->run->summary[0] = '\0';
        ck->attempt_us = now;
        for(int p = VG_PHASE_CONNECT; p <= VG_PHASE_FIRSTBYTE; p++)
            r->phase_us[p] = -1;
        arm_share(ck);
        ck->type->start(ck);
        return true;
    }
    /* All probed: the first address is the record's "ip". */
    ck->addr = ck->addrs[0];
    vg_timer_arm(check_loop(ck), &ck->timer, ck->deadline_us);
    combine(ck);
    return false;
}
