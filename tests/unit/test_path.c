/* SPDX-License-Identifier: MIT */
/* The path controller fed with synthetic answer streams: a simulated path
 * (forward and return delay, random loss each way, a bottleneck with a
 * packets-per-second cap and a tail-drop queue) answers the probes the
 * controller lets out. The controller must back off only on congestion. */
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/path.h"

typedef struct sim {
    /* the path */
    double one_way_us;
    double loss;          /* random loss each way */
    double cap_pps;       /* 0: no bottleneck */
    double queue;         /* bottleneck queue, packets */
    double answer_frac;   /* ports that answer at all */
    int cap_all;          /* every probe passes the bottleneck, not only those
                             that are answered (a relay in front of the
                             target network) */
    double extra_loss_per_kpps; /* loss that grows with the send rate */
    uint64_t stall_at_us, stall_len_us, stall_delay_us; /* answers to probes sent
                                  in [at, at + len) come stall_delay_us later */
    uint64_t watch_at_us;        /* records the rate at this time */
    double watched_rate;
    /* state */
    double busy_until;    /* bottleneck server */
    uint64_t rng;
    struct ev { uint64_t at; uint32_t round; uint64_t sent; } *fifo;
    size_t head, tail, cap;
    uint64_t answered, sent;
} sim;

static double rnd(sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (double)(s->rng >> 11) / 9007199254740992.0;
}

/* Passes one packet through the bottleneck at time t; returns its
 * departure time, or -1 when the queue is full. */
static double bottleneck(sim *s, double t)
{
    if(s->cap_pps <= 0)
        return t;
    double svc = 1e6 / s->cap_pps;
    double backlog = s->busy_until > t ? (s->busy_until - t) / svc : 0;
    if(backlog >= s->queue)
        return -1;
    double start = s->busy_until > t ? s->busy_until : t;
    s->busy_until = start + svc;
    return s->busy_until;
}

/* Runs the controller for duration_us; returns the mean rate it allowed
 * over the last quarter. */
static double run(sim *s, vg_path *p, uint64_t duration_us)
{
    uint64_t now = 1000000;
    uint64_t end = now + duration_us, quarter = now + duration_us * 3 / 4;
    double rate_sum = 0;
    unsigned rate_n = 0;
    double cur_rate = p->rate;

    vg_path_tick(p, now);
    for(; now < end; now += 50) {
        uint64_t wait;
        unsigned n = vg_path_take(p, now, 100000, &wait);
        for(unsigned i = 0; i < n; i++) {
            uint32_t round = vg_path_sent(p, now, 1);
            s->sent++;
            double kpps = p->rate / 1000.0;
            double l = s->loss + s->extra_loss_per_kpps * kpps;
            if(rnd(s) < l)
                continue;
            bool answers = rnd(s) < s->answer_frac;
            if(!answers && !s->cap_all)
                continue;
            double dep = bottleneck(s, (double)now + s->one_way_us);
            if(dep < 0 || !answers)
                continue;
            if(rnd(s) < s->loss)
                continue;
            uint64_t at = (uint64_t)(dep + s->one_way_us);
            if(s->stall_len_us && now >= s->stall_at_us && now < s->stall_at_us + s->stall_len_us)
                at += s->stall_delay_us;
            if(s->tail == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 4096;
                s->fifo = realloc(s->fifo, s->cap * sizeof(*s->fifo));
                assert_non_null(s->fifo);
            }
            s->fifo[s->tail++] = (struct ev){at, round, now};
        }
        while(s->head < s->tail && s->fifo[s->head].at <= now) {
            struct ev *e = &s->fifo[s->head++];
            vg_path_answer(p, now, e->round, 1, (int64_t)(now - e->sent), true);
            s->answered++;
        }
        if(s->head == s->tail)
            s->head = s->tail = 0;
        vg_path_tick(p, now);
        cur_rate = p->rate;
        if(s->watch_at_us && now <= s->watch_at_us)
            s->watched_rate = cur_rate;
        if(now >= quarter) {
            rate_sum += cur_rate;
            rate_n++;
        }
    }
    if(getenv("PATH_DEBUG"))
        fprintf(stderr, "rate %.0f cuts %u clean %u congested %u queueing %u undos %u ref %.3f minrtt %lld\n", rate_n ? rate_sum / rate_n : cur_rate, p->cuts, p->rounds_clean, p->rounds_congested, p->queueing_rounds, p->undos, p->ref_ratio, (long long)p->min_rtt_us);
    return rate_n ? rate_sum / rate_n : cur_rate;
}

static void setup(vg_path *p, double max_rate)
{
    vg_path_params prm = {.initial_rate = 4000, .min_rate = 50, .max_rate = max_rate};
    vg_path_init(p, &prm, 1000000);
}

static vg_path *new_path(void)
{
    vg_path *p = malloc(sizeof(*p));
    assert_non_null(p);
    return p;
}

/* Random loss (2% each way) on a 50 ms path with room: the answered
 * fraction is the same at every rate, so the rate is never cut. */
static void test_random_loss_keeps_rate(void **state)
{
    (void)state;
    sim s = {.one_way_us = 25000, .loss = 0.02, .answer_frac = 0.97, .rng = 7};
    vg_path *p = new_path();
    setup(p, 200000);
    double r = run(&s, p, 3000000);
    assert_int_equal(p->cuts, 0);
    assert_true(r >= 190000);
    assert_true(p->rounds_clean > 10);
    free(s.fifo);
    free(p);
}

/* Random loss of 5% each way and few answering ports (a wide scan where
 * most hosts are silent): still no cut. */
static void test_random_loss_sparse_targets(void **state)
{
    (void)state;
    sim s = {.one_way_us = 100, .loss = 0.05, .answer_frac = 0.18, .rng = 11};
    vg_path *p = new_path();
    setup(p, 150000);
    double r = run(&s, p, 1000000);
    assert_int_equal(p->cuts, 0);
    assert_true(r >= 140000);
    free(s.fifo);
    free(p);
}

/* A 50 kpps bottleneck with a 64-packet queue, no random loss: the rate
 * settles just below the cap. */
/* A delay spike: for 40 ms every answer comes 60 ms late, none is lost
 * (a stalled relay, a busy machine). Its rounds look congested when they
 * are judged, but their answers all come: the cuts are taken back, and
 * the rate soon after is what it was before. */
static void test_delay_spike_is_undone(void **state)
{
    (void)state;
    sim s = {.one_way_us = 10000, .answer_frac = 0.95, .rng = 7,
             .stall_at_us = 2000000, .stall_len_us = 40000, .stall_delay_us = 60000,
             .watch_at_us = 2200000};
    vg_path *p = new_path();
    setup(p, 60000);
    double r = run(&s, p, 2000000);
    if(getenv("PATH_DEBUG"))
        fprintf(stderr, "spike: watched %.0f undos %u\n", s.watched_rate, p->undos);
    assert_true(p->undos >= 1);
    /* Taken back, the cuts no longer count: the path is not congestive. */
    assert_int_equal(p->cuts, 0);
    assert_true(s.watched_rate >= 0.9 * 60000);
    assert_true(r >= 0.9 * 60000);
    free(s.fifo);
    free(p);
}

/* A longer hold-up at a capped rate (as --max-rate): the answers of 20 ms
 * of probes come 400 ms late, when the rate has long grown back to the
 * cap. The verdict is still taken back, and its cut no longer counts: the
 * path is not reported congestive. */
static void test_late_undo_after_regrowth(void **state)
{
    (void)state;
    sim s = {.one_way_us = 10000, .answer_frac = 0.95, .rng = 7,
             .stall_at_us = 2000000, .stall_len_us = 20000, .stall_delay_us = 400000};
    vg_path *p = new_path();
    setup(p, 60000);
    run(&s, p, 3000000);
    if(getenv("PATH_DEBUG"))
        fprintf(stderr, "late undo: undos %u cuts %u rate %.0f\n", p->undos, p->cuts, p->rate);
    assert_true(p->undos >= 1);
    assert_int_equal(p->cuts, 0);
    assert_true(p->rate >= 0.95 * 60000);
    free(s.fifo);
    free(p);
}

static void test_cap_backs_off(void **state)
{
    (void)state;
    sim s = {.one_way_us = 10000, .cap_pps = 50000, .queue = 64, .answer_frac = 0.97,
             .rng = 3};
    vg_path *p = new_path();
    setup(p, 0);
    double r = run(&s, p, 4000000);
    assert_true(p->cuts >= 1);
    assert_true(r <= 56000);
    assert_true(r >= 35000);
    free(s.fifo);
    free(p);
}

/* The same cap with 2% random loss on top: the controller still finds the
 * cap, and does not sink below it because of the random part. */
static void test_cap_with_random_loss(void **state)
{
    (void)state;
    sim s = {.one_way_us = 25000, .loss = 0.02, .cap_pps = 50000, .queue = 64,
             .answer_frac = 0.97, .rng = 5};
    vg_path *p = new_path();
    setup(p, 0);
    double r = run(&s, p, 5000000);
    assert_true(p->cuts >= 1);
    assert_true(r <= 56000);
    assert_true(r >= 33000);
    free(s.fifo);
    free(p);
}

/* Rising RTT: a deep queue (5000 packets) in front of a 30 kpps
 * bottleneck. Answers come later and later; the controller must not run
 * far above the bottleneck. */
static void test_deep_queue(void **state)
{
    (void)state;
    sim s = {.one_way_us = 10000, .cap_pps = 30000, .queue = 5000, .answer_frac = 0.97,
             .rng = 9};
    vg_path *p = new_path();
    setup(p, 0);
    double r = run(&s, p, 5000000);
    assert_true(p->cuts >= 1);
    assert_true(r <= 34000);
    assert_true(r >= 15000);
    free(s.fifo);
    free(p);
}

/* A wide scan (one port in five answers) in front of a slow relay with a
 * deep queue: 30 kpps, 10,000 packets (a third of a second) of tail-drop
 * queue, 25 us of base RTT. Every answer of an overrun comes late, after
 * its round was judged; the rate must still settle near the bottleneck,
 * not run to the queue's edge again and again. */
static void test_sparse_deep_queue(void **state)
{
    (void)state;
    sim s = {.one_way_us = 12, .cap_pps = 30000, .queue = 10000, .answer_frac = 0.18,
             .cap_all = 1, .rng = 21};
    vg_path *p = new_path();
    setup(p, 0);
    double r = run(&s, p, 5000000);
    assert_true(p->cuts >= 1);
    assert_true(r <= 1.15 * 30000);
    assert_true(r >= 0.5 * 30000);
    /* The reference stays what the targets answer (0.18), not what a
     * full queue lets through: late answers of a queue that also drops
     * do not undo its congested rounds into clean ones. */
    assert_true(p->ref_ratio >= 0.8 * 0.18);
    free(s.fifo);
    free(p);
}

/* Loss that grows with the rate (0.1% per kpps): above about 50 kpps it
 * passes 5%; the controller must stay below where loss runs high. */
static void test_rate_dependent_loss(void **state)
{
    (void)state;
    sim s = {.one_way_us = 5000, .extra_loss_per_kpps = 0.001, .answer_frac = 0.97, .rng = 13};
    vg_path *p = new_path();
    setup(p, 0);
    double r = run(&s, p, 3000000);
    assert_true(p->cuts >= 1);
    assert_true(r <= 120000);
    free(s.fifo);
    free(p);
}

/* A fixed rate (--rate without adaptation) is never changed. */
static void test_fixed_rate(void **state)
{
    (void)state;
    sim s = {.one_way_us = 10000, .cap_pps = 20000, .queue = 64, .answer_frac = 0.97, .rng = 1};
    vg_path *p = new_path();
    vg_path_params prm = {.initial_rate = 40000, .max_rate = 40000, .fixed = true};
    vg_path_init(p, &prm, 1000000);
    double r = run(&s, p, 1000000);
    assert_true(fabs(r - 40000) < 1);
    assert_int_equal(p->cuts, 0);
    free(s.fifo);
    free(p);
}

static void test_local_drop_cuts_once_per_round(void **state)
{
    (void)state;
    vg_path *p = new_path();
    setup(p, 0);
    p->rate = 100000;
    vg_path_local_drop(p, 2000000);
    double after = p->rate;
    assert_true(after < 100000);
    vg_path_local_drop(p, 2000100);
    assert_true(p->rate == after);
    assert_int_equal(p->local_drops, 2);
    /* This machine's queue, not the path: no path cut. */
    assert_int_equal(p->local_cuts, 1);
    assert_int_equal(p->cuts, 0);
    free(p);
}

/* The end of a walk is almost all retries. Their rounds must close by
 * their size, not stay open for the whole stretch: a retry that times out
 * in a round not yet judged, begun just after congestion, gets its try
 * back, and a round left open for a second gave silent ports up to eleven
 * tries. */
static void test_retry_rounds_close(void **state)
{
    (void)state;
    vg_path *p = new_path();
    setup(p, 0);
    uint64_t t = 1000000;
    uint32_t first[300];
    for(int i = 0; i < 300; i++)
        first[i] = vg_path_sent(p, t + (uint64_t)i * 10, 1);
    t += 3000;
    for(int i = 0; i < 300; i++)
        vg_path_answer(p, t, first[i], 1, 1000, true);
    vg_path_tick(p, t + 20000);
    p->last_congested_us = t + 20000;
    t += 21000;
    uint32_t last = 0, rounds = 0;
    for(int i = 0; i < 2000; i++) {
        uint32_t r = vg_path_sent(p, t + (uint64_t)i * 50, 2);
        if(r != last)
            rounds++;
        last = r;
    }
    assert_true(rounds >= 4);
    /* The last rounds began well after the congestion: once judged (they
     * hold too few first tries to say more), their timeouts are clean. */
    t += 2000 * 50 + 200000;
    vg_path_tick(p, t);
    bool clean;
    assert_int_equal(vg_path_timeout(p, t, last - 1, t - 200000, &clean), VG_EVIDENCE_TRY);
    assert_true(clean);
    free(p);
}

/* A try lost in a congested round is weaker evidence of silence than one
 * lost on a clean path: the round lost a share q of its tries, so the port
 * stays silent there with probability q, worth ln q / ln p clean tries. */
static void test_timeout_evidence(void **state)
{
    (void)state;
    vg_path *p = new_path();
    setup(p, 0);
    for(int i = 0; i < 10000; i++)
        vg_path_port_answered(p, i % 100 == 0 ? 1 : 0, false);
    double lp = vg_path_loss_bound(p);
    assert_true(lp > 0.005 && lp < 0.05);
    uint64_t t = 5000000;
    vg_path_round *r = &p->rounds[7];
    *r = (vg_path_round){.id = 7, .start_us = t - 100000, .end_us = t - 90000,
                         .sent1 = 300, .evaluated = true, .congested = true, .loss = 0.1f};
    p->cur = 8;
    bool clean;
    unsigned w = vg_path_timeout(p, t, 7, t - 95000, &clean);
    assert_false(clean);
    unsigned want = (unsigned)(VG_EVIDENCE_TRY * log(0.1f) / log(lp));
    assert_true(w + 1 >= want && w <= want + 1);
    assert_true(w > 0 && w < VG_EVIDENCE_TRY);
    /* A round that lost everything says nothing of the port. */
    r->loss = 1.0f;
    assert_int_equal(vg_path_timeout(p, t, 7, t - 95000, &clean), 0);
    /* A clean round: a whole try. */
    r->congested = false;
    assert_int_equal(vg_path_timeout(p, t, 7, t - 95000, &clean), VG_EVIDENCE_TRY);
    assert_true(clean);
    /* Not judged yet: what it lost so far decides. Half its first tries
     * answered where all are expected is q = 0.5. */
    r->evaluated = false;
    r->end_us = t - 10000;
    r->ans1 = 150;
    p->ref_ratio = 1.0;
    p->min_rtt_us = 10000;
    p->oldest = 7;
    w = vg_path_timeout(p, t, 7, t - 95000, &clean);
    want = (unsigned)(VG_EVIDENCE_TRY * log(0.5) / log(lp));
    assert_false(clean);
    assert_true(w + 1 >= want && w <= want + 1);
    r->ans1 = 298;
    assert_int_equal(vg_path_timeout(p, t, 7, t - 95000, &clean), VG_EVIDENCE_TRY);
    /* Only the first tries sent a minimum RTT ago or more are due: of a
     * round sent over the last 20 ms on a 10 ms path, half. 148 answers
     * are all of those; counted against all 300 they would look like half
     * the round lost. */
    r->start_us = t - 20000;
    r->end_us = t;
    r->ans1 = 148;
    assert_int_equal(vg_path_timeout(p, t, 7, t - 15000, &clean), VG_EVIDENCE_TRY);
    free(p);
}

/* Behind a reset limit the sweeps go at the limit's pace, faster by as
 * much as the share of probes that can answer is small, within the cap
 * the limit sets on the rate. */
static void test_slow_to_limit_share(void **state)
{
    (void)state;
    vg_path *p = new_path();
    setup(p, 0);
    assert_false(vg_path_slow_to_limit(p, 1));
    vg_path_set_limit(p, 1000, 2000000);
    assert_true(vg_path_slow_to_limit(p, 1));
    assert_true(fabs(p->rate - 980) < 1e-6);
    assert_true(vg_path_slow_to_limit(p, 0.1));
    assert_true(fabs(p->rate - 9800) < 1e-6);
    assert_true(vg_path_slow_to_limit(p, 0.001));
    assert_true(fabs(p->rate - p->limit_cap) < 1e-6);
    assert_true(p->limit_cap >= 20000 - 1e-6);
    free(p);
}

static void test_tries_needed(void **state)
{
    (void)state;
    /* 2% loss each way is about 4% per try; 65,535 ports want 5 tries. */
    assert_int_equal(vg_path_tries_needed(0.0396, 65535, 0.1, 2, 11), 5);
    assert_int_equal(vg_path_tries_needed(0.0, 65535, 0.1, 2, 11), 2);
    assert_int_equal(vg_path_tries_needed(0.5, 65535, 0.1, 2, 11), 11);
    assert_int_equal(vg_path_tries_needed(0.2, 10, 0.1, 1, 11), 3);
    assert_int_equal(vg_path_tries_needed(1.0, 10, 0.1, 1, 4), 4);
}

static void test_loss_estimate(void **state)
{
    (void)state;
    vg_path *p = new_path();
    setup(p, 0);
    assert_true(vg_path_loss_bound(p) >= 0.5); /* no evidence: pessimistic */
    for(int i = 0; i < 10000; i++)
        vg_path_port_answered(p, i % 25 == 0 ? 1 : 0, false);
    assert_true(fabs(vg_path_loss(p) - 400.0 / 10400.0) < 1e-9);
    double b = vg_path_loss_bound(p);
    assert_true(b > vg_path_loss(p) && b < 0.05);
    free(p);
}

/* The limit detector fed with windows: a sending rate (pps) that follows
 * the detector's rate test, and resets that are either a limit (flat) or
 * a share of what was sent. Returns the windows it took (0: never found). */
static unsigned run_limitdet_hosts(vg_limitdet *d, double full_pps, double limit_pps,
                                   double share, unsigned windows, double hosts)
{
    uint64_t now = 1000000, sent = 0, rst = 0;
    memset(d, 0, sizeof(*d));
    d->hosts = hosts;
    vg_limitdet_tick(d, now, sent, rst, 0, false, 50);
    for(unsigned i = 1; i <= windows; i++) {
        double rate = now < d->test_until_us && d->test_pps < full_pps ? d->test_pps : full_pps;
        double r = limit_pps > 0 ? (rate < limit_pps ? rate : limit_pps) : share * rate;
        now += VG_PATH_WIN_US;
        sent += (uint64_t)(rate * VG_PATH_WIN_US / 1e6);
        rst += (uint64_t)(r * VG_PATH_WIN_US / 1e6);
        if(vg_limitdet_tick(d, now, sent, rst, 0, false, 50))
            return i;
    }
    return 0;
}

static unsigned run_limitdet(vg_limitdet *d, double full_pps, double limit_pps,
                             double share, unsigned windows)
{
    return run_limitdet_hosts(d, full_pps, limit_pps, share, windows, 1);
}

static void test_limit_found_at_a_flat_rate(void **state)
{
    (void)state;
    vg_limitdet d;
    /* Our rate never varies on its own (the machine sends as fast as it
     * can): the detector slows the scan to tell a limit from a share. */
    unsigned w = run_limitdet(&d, 200000, 1000, 0, 20);
    assert_true(w > 0 && w <= 6);
    assert_int_equal(d.tests, 1);
    assert_true(fabs(d.limit_pps - 1000) < 20);
    assert_int_equal(d.test_until_us, 0); /* the test ended with the finding */
    /* A share of ports that answer at the same flat rate: the resets
     * follow the slowed rate, nothing is found, and the tests stop. */
    assert_int_equal(run_limitdet(&d, 200000, 0, 0.005, 40), 0);
    assert_true(d.tests >= 1 && d.tests <= 2);
    assert_true(d.test_pps > 0.3 * 200000 && d.test_pps < 0.7 * 200000);
    /* Resets above a share of half what we send are no limit to test. */
    assert_int_equal(run_limitdet(&d, 200000, 0, 0.9, 20), 0);
    assert_int_equal(d.tests, 0);
    /* Nor are resets from 65,536 hosts probed 3 times a second each. */
    assert_int_equal(run_limitdet_hosts(&d, 200000, 0, 0.005, 20, 65536), 0);
    assert_int_equal(d.tests, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_loss_keeps_rate),
        cmocka_unit_test(test_random_loss_sparse_targets),
        cmocka_unit_test(test_delay_spike_is_undone),
        cmocka_unit_test(test_cap_backs_off),
        cmocka_unit_test(test_cap_with_random_loss),
        cmocka_unit_test(test_deep_queue),
        cmocka_unit_test(test_sparse_deep_queue),
        cmocka_unit_test(test_rate_dependent_loss),
        cmocka_unit_test(test_fixed_rate),
        cmocka_unit_test(test_local_drop_cuts_once_per_round),
        cmocka_unit_test(test_late_undo_after_regrowth),
        cmocka_unit_test(test_retry_rounds_close),
        cmocka_unit_test(test_timeout_evidence),
        cmocka_unit_test(test_slow_to_limit_share),
        cmocka_unit_test(test_tries_needed),
        cmocka_unit_test(test_loss_estimate),
        cmocka_unit_test(test_limit_found_at_a_flat_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
