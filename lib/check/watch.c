/* SPDX-License-Identifier: MIT */
/* The watch runner (vigia check --watch): one unordered checker for the
 * whole run; every interval each check that has finished runs again on the
 * same loop (a round; a slow round delays the next rather than overlapping
 * it). Per check it keeps the current state, the time spent in each state
 * and phase timings (min, average, and p95 over a reservoir sample), and
 * hands results, state changes and finished rounds to the caller. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "engine/loop.h"
#include "util/alloc.h"
#include "vigia/watch.h"

#define WATCH_RESERVOIR 1024 /* samples per phase kept for the p95 */

struct watch_phase {
    unsigned n;
    int64_t min, max;
    double sum;
    int64_t *sample;            /* reservoir of WATCH_RESERVOIR, allocated at the first sample */
};

struct watch_check {
    char *name;                 /* NULL when none */
    char *target;
    char *kind;                 /* from the first result; NULL before */
    int state;                  /* -1: no result yet */
    int reason;
    uint64_t since_us;          /* when the current state began (vg_now_us) */
    double state_s[4];
    unsigned runs;
    struct watch_phase ph[VG_PHASE__COUNT];
};

struct vg_watch {
    vg_watch_opts opts;
    vg_watch_callbacks cb;
    vg_checker *ck;
    struct watch_check *checks;
    size_t n, cap;
    bool started;
    bool stopping;              /* vg_watch_stop() or a failure: no new round */
    bool in_round;
    bool done;
    bool in_poll;               /* inside vg_checker_poll(): a stop waits till it returns */
    bool stop_pending;
    unsigned rounds_started, rounds_done;
    uint64_t next_round_us, end_us;
    uint64_t rng;
    int64_t sorted[WATCH_RESERVOIR]; /* scratch for the p95 */
};

int vg_watch_new(vg_watch **out, const vg_watch_opts *opts, const vg_watch_callbacks *cb, vg_error *err)
{
    vg_checker_opts co = {.unordered = true};
    vg_watch *w;
    int rc;

    *out = NULL;
    w = vg_calloc(1, sizeof(*w));
    if(!w)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    if(opts)
        w->opts = *opts;
    if(!w->opts.interval_ms)
        w->opts.interval_ms = 10000;
    if(cb)
        w->cb = *cb;
    w->rng = 0x9e3779b97f4a7c15ull;
    co.concurrency = w->opts.concurrency;
    co.max_fds = w->opts.max_fds;
    rc = vg_checker_new(&w->ck, &co, err);
    if(rc) {
        free(w);
        return rc;
    }
    *out = w;
    return VG_OK;
}

int vg_watch_add(vg_watch *w, const char *name, const char *spec, const vg_check_opts *opts, vg_error *err)
{
    struct watch_check *c;
    int rc;

    if(w->started)
        return vg_error_set(err, VG_EINVAL, "checks are added to a watch before it starts");
    if(w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct watch_check *nc = vg_realloc(w->checks, cap * sizeof(*nc));
        if(!nc)
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        w->checks = nc;
        w->cap = cap;
    }
    c = &w->checks[w->n];
    memset(c, 0, sizeof(*c));
    c->state = -1;
    c->target = vg_strdup(spec ? spec : "");
    c->name = name ? vg_strdup(name) : NULL;
    if(!c->target || (name && !c->name)) {
        free(c->target);
        free(c->name);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    rc = vg_checker_add_named(w->ck, name, spec, opts, NULL, err);
    if(rc) {
        free(c->target);
        free(c->name);
        return rc;
    }
    w->n++;
    return VG_OK;
}

int vg_watch_add_list(vg_watch *w, const vg_check_list *list, vg_error *err)
{
    for(size_t i = 0; i < list->n; i++) {
        const vg_check_item *it = &list->items[i];
        int rc = vg_watch_add(w, it->name, it->target, &it->opts, err);
        if(rc)
            return rc;
    }
    return VG_OK;
}

size_t vg_watch_count(const vg_watch *w)
{
    return w->n;
}

unsigned vg_watch_rounds(const vg_watch *w)
{
    return w->rounds_done;
}

int vg_watch_start(vg_watch *w, vg_error *err)
{
    int rc;
    if(w->started)
        return vg_error_set(err, VG_EINVAL, "the watch was started already");
    rc = vg_checker_start(w->ck, err);
    if(rc)
        return rc;
    w->started = true;
    w->next_round_us = vg_now_us();
    return VG_OK;
}

static uint64_t watch_rand(vg_watch *w)
{
    /* xorshift64: reservoir sampling needs no quality beyond this */
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static void watch_sample(vg_watch *w, struct watch_phase *ph, int64_t v)
{
    if(!ph->sample && !(ph->sample = vg_malloc(WATCH_RESERVOIR * sizeof(*ph->sample))))
        return;
    if(!ph->n || v < ph->min)
        ph->min = v;
    if(!ph->n || v > ph->max)
        ph->max = v;
    ph->sum += (double)v;
    if(ph->n < WATCH_RESERVOIR)
        ph->sample[ph->n] = v;
    else {
        uint64_t j = watch_rand(w) % ((uint64_t)ph->n + 1);
        if(j < WATCH_RESERVOIR)
            ph->sample[j] = v;
    }
    ph->n++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t watch_p95(vg_watch *w, const struct watch_phase *ph)
{
    unsigned n = ph->n < WATCH_RESERVOIR ? ph->n : WATCH_RESERVOIR;
    int64_t idx;
    if(!n || !ph->sample)
        return -1;
    memcpy(w->sorted, ph->sample, n * sizeof(*w->sorted));
    qsort(w->sorted, n, sizeof(*w->sorted), cmp_i64);
    idx = (int64_t)((n * 95 + 99) / 100) - 1; /* nearest rank */
    return w->sorted[idx < 0 ? 0 : idx];
}

static void watch_on_result(const vg_check_result *r, void *ud)
{
    vg_watch *w = ud;
    struct watch_check *c = &w->checks[r->index];
    uint64_t now = vg_now_us();
    int previous = c->state;

    /* Stopping ends checks in flight: that is no state of the service. */
    if(w->stopping && r->reason == VG_CR_INTERRUPTED)
        return;
    if(!c->kind)
        c->kind = vg_strdup(r->kind);
    c->runs++;
    for(int p = 0; p < VG_PHASE__COUNT; p++)
        if(r->phase_us[p] >= 0)
            watch_sample(w, &c->ph[p], r->phase_us[p]);
    if(previous >= 0)
        c->state_s[previous] += (double)(now - c->since_us) / 1e6;
    c->since_us = now;
    c->state = r->state;
    c->reason = r->reason;
    if(w->cb.result)
        w->cb.result(r, w->cb.ud);
    if(previous != r->state && w->cb.change)
        w->cb.change(r, previous, w->cb.ud);
}

static void watch_round_done(vg_watch *w)
{
    vg_watch_round rd;
    memset(&rd, 0, sizeof(rd));
    w->rounds_done++;
    rd.round = w->rounds_done;
    for(size_t i = 0; i < w->n; i++)
        if(w->checks[i].state >= 0 && w->checks[i].state <= 3)
            rd.count[w->checks[i].state]++;
    if(w->cb.round)
        w->cb.round(&rd, w->cb.ud);
}

static int watch_finish(vg_watch *w)
{
    w->done = true;
    w->end_us = vg_now_us();
    return 1;
}

void vg_watch_stop(vg_watch *w)
{
    if(w->in_poll) {
        w->stop_pending = true; /* from a callback: the checker is delivering */
        return;
    }
    if(w->stopping)
        return;
    w->stopping = true;
    vg_checker_stop(w->ck);
}

int vg_watch_step(vg_watch *w, int max_wait_ms, vg_error *err)
{
    uint64_t now = vg_now_us(), interval_us = w->opts.interval_ms * 1000;
    int wait_ms = max_wait_ms < 0 ? 0 : max_wait_ms, rc;

    if(!w->started)
        return vg_error_set(err, VG_EINVAL, "the watch was not started");
    if(w->done)
        return 1;
    if(!w->stopping && !w->in_round && now >= w->next_round_us) {
        for(size_t i = 0; w->rounds_started && i < w->n; i++)
            vg_checker_rerun(w->ck, i, NULL);
        w->rounds_started++;
        w->in_round = true;
        w->next_round_us += interval_us;
        if(w->next_round_us < now)
            w->next_round_us = now + interval_us;
    }
    if(!w->in_round && !w->stopping) {
        uint64_t left_ms = (w->next_round_us - now + 999) / 1000;
        if(left_ms < (uint64_t)wait_ms)
            wait_ms = (int)left_ms;
    }
    w->in_poll = true;
    rc = vg_checker_poll(w->ck, wait_ms, watch_on_result, w, err);
    w->in_poll = false;
    if(w->stop_pending && rc != 1) {
        w->stop_pending = false;
        vg_watch_stop(w);
    }
    if(rc < 0) {
        vg_watch_stop(w);
        return rc;
    }
    if(rc == 1 && w->in_round) {
        w->in_round = false;
        wait_ms = 0; /* the next step waits for the next round */
        if(!w->stopping) {
            watch_round_done(w);
            if(w->opts.rounds && w->rounds_done >= w->opts.rounds) {
                w->stopping = true;
                return watch_finish(w);
            }
        }
    }
    if(rc == 1 && w->stop_pending)
        w->stopping = true; /* nothing in flight: nothing to interrupt */
    if(rc == 1 && w->stopping)
        return watch_finish(w);
    if(rc == 1 && !w->in_round && wait_ms > 0)
        poll(NULL, 0, wait_ms); /* nothing in flight: sleep till the next round */
    return 0;
}

int vg_watch_run(vg_watch *w, vg_error *err)
{
    vg_error e = {0};
    int first = VG_OK, rc;
    while((rc = vg_watch_step(w, 1000, &e)) != 1) {
        if(rc < 0 && !w->started)
            return vg_error_set(err, rc, "%s", e.msg);
        if(rc < 0 && first == VG_OK) {
            first = rc;
            if(err)
                *err = e;
        }
    }
    return first;
}

int vg_watch_stats(vg_watch *w, size_t index, vg_check_watch_stats *st)
{
    const struct watch_check *c;
    uint64_t now;

    memset(st, 0, sizeof(*st));
    if(index >= w->n)
        return VG_EINVAL;
    c = &w->checks[index];
    now = w->done ? w->end_us : vg_now_us();
    st->index = index;
    st->name = c->name;
    st->target = c->target;
    st->kind = c->kind ? c->kind : "";
    st->runs = c->runs;
    st->state = c->state;
    st->reason = c->reason;
    memcpy(st->state_s, c->state_s, sizeof(st->state_s));
    if(c->state >= 0 && c->state <= 3)
        st->state_s[c->state] += (double)(now - c->since_us) / 1e6;
    for(int p = 0; p < VG_PHASE__COUNT; p++) {
        const struct watch_phase *ph = &c->ph[p];
        st->phase[p].n = ph->n;
        if(ph->n) {
            st->phase[p].min_us = ph->min;
            st->phase[p].avg_us = (int64_t)(ph->sum / ph->n);
            st->phase[p].p95_us = watch_p95(w, ph);
        }
    }
    return VG_OK;
}

void vg_watch_free(vg_watch *w)
{
    if(!w)
        return;
    vg_checker_free(w->ck);
    for(size_t i = 0; i < w->n; i++) {
        struct watch_check *c = &w->checks[i];
        for(int p = 0; p < VG_PHASE__COUNT; p++)
            free(c->ph[p].sample);
        free(c->name);
        free(c->target);
        free(c->kind);
    }
    free(w->checks);
    free(w);
}
