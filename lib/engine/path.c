/* SPDX-License-Identifier: MIT */
/* The path controller (see path.h and docs/timing.md).
 *
 * Sending is cut into rounds of about one minimum RTT. Each round counts
 * the first tries it sent and how many of them were answered within a
 * little more than one RTT. On a path with room, that answered fraction
 * is a property of the targets (how many ports answer at all) times the
 * random loss of the path, and it stays the same at any rate. When the
 * rate exceeds what the path carries, a queue fills and drops, and the
 * fraction falls: the round is congested. The fraction it fell to also
 * says what the path delivered (rate x answered / expected), and the rate
 * is set just below that. So random loss never lowers the rate, and
 * congestion lowers it to the measured ceiling in one step. */
#include <math.h>
#include <string.h>

#include "engine/path.h"

/* A round lasts one minimum RTT, within these bounds (see docs/timing.md). */
#define ROUND_MIN_US 2000
#define ROUND_MAX_US 200000
#define ROUND_UNKNOWN_US 10000   /* before the first RTT sample */
/* A round goes on until it has this many first tries, or this many probes
 * in all (at the end of a walk almost every probe is a retry), or for at
 * most ROUND_STRETCH_US; one with fewer than ROUND_JUDGE_SAMPLES first
 * tries is not judged. A retry that times out in a round not yet judged
 * counts as congestion's fault when the path was congested just before
 * the round began, and gets its try back: a round of retries left open for
 * the whole stretch would hand that verdict to every retry in it, and the
 * silent ports would be retried up to the cap. */
#define ROUND_MIN_SAMPLES 256
/* In startup a round may be smaller: doubling waits for each judged round,
 * and on a fast LAN 256 probes at the initial rate would be a slow start;
 * a congestion that a small round misses shows in the next, bigger ones. */
#define ROUND_MIN_SAMPLES_STARTUP 64
#define ROUND_STRETCH_US 1000000
#define ROUND_JUDGE_SAMPLES 16
/* Once the answered share is known, a round is judged only when its first
 * tries should have drawn this many answers: a share test on fewer cannot
 * tell a lost round from bad luck (0 answers where 5 were expected
 * happens once in 200 rounds), and a round passed as clean on too few
 * would teach the reference that a congested share is normal. */
#define ROUND_JUDGE_ANSWERS 16.0
/* A round of mostly retries with too few first tries to judge goes on to
 * this many probes in all (or ROUND_STRETCH_US). */
#define ROUND_MAX_PROBES 1024
/* Grace after one RTT for a round's answers: half an RTT, at least 5 ms. */
#define GRACE_MIN_US 5000
/* Before any answer, a round is judged after this long (the initial
 * probe timeout's default). */
#define PATIENCE_US 1000000
/* A fall of the answered fraction by more than 5% (or three standard
 * errors, whichever is larger) is congestion. */
#define CONG_REL_DROP 0.05
#define CONG_SIGMAS 4.0
/* A congested round's late answers undo its verdict from this many
 * standard errors below the reference up. */
#define UNDO_SIGMAS 2.0
/* Reference fractions: pooled by rate in bins a factor 1.5 apart, from
 * 50 pps up; a reference needs this many first tries. */
#define RATE_BIN_BASE 50.0
#define RATE_BIN_STEP 1.5
#define REF_MIN_SAMPLES 200
/* Reset limit: LIMIT_WINS windows, our rate spread by LIMIT_SPREAD, the
 * resets flat within LIMIT_FLAT, at least LIMIT_MIN_PPS of them; the
 * sweeps then go at LIMIT_PACE of the limit (a token bucket's burst makes
 * the measured rate a little high; 2% below it leaves room). */
#define LIMIT_WINS 4
#define LIMIT_SPREAD 1.5
#define LIMIT_FLAT 1.3
#define LIMIT_MIN_PPS 5.0
#define LIMIT_PACE 0.98
/* At least this many other answers in the slowest window to judge their
 * share, which behind a limit stays above LIMIT_OTHER_KEEP of what it was. */
#define LIMIT_OTHER_MIN 20
#define LIMIT_OTHER_KEEP 0.7
#define LIMIT_RATE_CAP 20.0
/* With our rate flat (the machine sends as fast as it can from the first
 * window on) a limit looks like a fixed share of answering ports: after
 * LIMIT_TEST_WINS flat windows the scan slows to LIMIT_TEST_SLOW of its
 * rate for LIMIT_TEST_LEN windows (and the RTT's lag), at most
 * LIMIT_TESTS times. A share falls with the rate; a limit stays flat.
 * 0.6 spreads the rate by 1.67, past LIMIT_SPREAD with room for the
 * noise of a busy machine; one test costs 40% of the rate for 0.2 s. */
#define LIMIT_TEST_WINS 2
#define LIMIT_TEST_SLOW 0.6
#define LIMIT_TEST_LEN 2
#define LIMIT_TESTS 2
/* Probes per second to each target host below which no host could be
 * limiting: a /16 scanned on one port gets 4 a second each (and its flat
 * resets are a share of hosts that answer; the test cost it 0.1-0.4 s of
 * 0.8 s). */
#define LIMIT_TEST_HOST_PPS 10.0
/* Sweeps on a path that was congested: this share of the settled rate. */
#define SWEEP_CONGESTED 0.8
/* One cut lowers the rate to no less than half. */
#define CUT_FLOOR 0.5
/* After congestion: 90% of what the path delivered. */
#define CUT_FACTOR 0.9
/* Growth per clean round: doubling in startup, 5% in steady state, and
 * 1% within 10% of the rate at which the path last showed congestion: a
 * known ceiling is approached slowly and crossed only a little, so that
 * few answers are lost to the queue each time it is probed again. */
#define STARTUP_GAIN 2.0
#define STEADY_GAIN 1.05
#define CEILING_GAIN 1.01
#define CEILING_NEAR 0.9
#define CEILING_FAR 1.1
/* Growth is per round trip: a round that lasted several (a slow rate
 * needs long rounds to gather its samples) grows by the gain once per
 * round trip it lasted, up to this many. */
#define GAIN_MAX_TRIPS 8.0
/* Queueing: a round's mean RTT above 1.5 x the minimum plus 5 ms. */
#define QUEUE_RTT_FACTOR 1.5
#define QUEUE_RTT_SLACK_US 5000
/* Local pressure (full kernel queues, capture drops): at most one cut per
 * round, to this fraction of what we were sending. */
#define LOCAL_CUT 0.9
#define CAPTURE_CUT 0.8
/* The rate never exceeds twice what the sender really achieved. */
#define ACHIEVED_HEADROOM 2.0
/* Pacing burst: a millisecond's worth, at least this many
 * packets (the loop wakes with microsecond timeouts). */
#define BURST_MIN 8.0
#define BURST_US 1000.0

void vg_path_init(vg_path *p, const vg_path_params *prm, uint64_t now_us)
{
    memset(p, 0, sizeof(*p));
    p->prm = *prm;
    if(p->prm.min_rate <= 0)
        p->prm.min_rate = 50;
    if(p->prm.max_rate > 0 && p->prm.min_rate > p->prm.max_rate)
        p->prm.min_rate = p->prm.max_rate;
    p->rate = prm->fixed && prm->max_rate > 0 ? prm->max_rate : prm->initial_rate;
    if(p->rate < p->prm.min_rate)
        p->rate = p->prm.min_rate;
    if(p->prm.max_rate > 0 && p->rate > p->prm.max_rate)
        p->rate = p->prm.max_rate;
    p->tokens = 1;
    p->refill_us = now_us;
    p->min_rtt_us = -1;
    p->last_cut_us = 0;
    p->last_local_us = 0;
}

static double burst_of(double rate)
{
    double b = rate * BURST_US / 1e6;
    return b < BURST_MIN ? BURST_MIN : b;
}

unsigned vg_path_take(vg_path *p, uint64_t now_us, unsigned want, uint64_t *wait_us)
{
    *wait_us = 0;
    if(now_us > p->refill_us) {
        p->tokens += (double)(now_us - p->refill_us) * p->rate / 1e6;
        double b = burst_of(p->rate);
        if(p->tokens > b)
            p->tokens = b;
        p->refill_us = now_us;
    }
    if(p->tokens < 1.0) {
        *wait_us = (uint64_t)((1.0 - p->tokens) * 1e6 / p->rate) + 1;
        return 0;
    }
    unsigned n = p->tokens < want ? (unsigned)p->tokens : want;
    p->tokens -= n;
    return n;
}

static vg_path_round *round_get(vg_path *p, uint32_t id)
{
    if(!id)
        return NULL;
    vg_path_round *r = &p->rounds[id % VG_PATH_ROUNDS];
    return r->id == id ? r : NULL;
}

static uint64_t round_len_us(const vg_path *p)
{
    if(p->min_rtt_us < 0)
        return ROUND_UNKNOWN_US;
    uint64_t l = (uint64_t)p->min_rtt_us;
    if(l < ROUND_MIN_US)
        l = ROUND_MIN_US;
    if(l > ROUND_MAX_US)
        l = ROUND_MAX_US;
    return l;
}

/* How long after its end a round's answers are all in. */
static uint64_t grace_us(const vg_path *p)
{
    if(p->min_rtt_us < 0)
        return PATIENCE_US;
    uint64_t half = (uint64_t)p->min_rtt_us / 2;
    return (uint64_t)p->min_rtt_us + (half < GRACE_MIN_US ? GRACE_MIN_US : half);
}

static void judge(vg_path *p, vg_path_round *r, uint64_t now_us);
/* Whether the round has first tries enough to judge its answered share. */
static bool judgeable(const vg_path *p, const vg_path_round *r)
{
    if(r->sent1 < ROUND_JUDGE_SAMPLES)
        return false;
    return p->ref_ratio <= 0 || r->sent1 * p->ref_ratio >= ROUND_JUDGE_ANSWERS;
}
static void judge_all(vg_path *p, uint64_t now_us);
static void undo(vg_path *p, vg_path_round *r);
static void pool_add(vg_path *p, double rate, uint32_t sent1, uint32_t ans1);
static void clamp_rate(vg_path *p);

static void round_open(vg_path *p, uint64_t now_us)
{
    uint32_t id = p->cur + 1;
    if(!id)
        id = 1;
    vg_path_round *slot = &p->rounds[id % VG_PATH_ROUNDS];
    if(slot->id && !slot->evaluated) {
        /* The ring is full of rounds still waiting for answers: judge the
         * oldest with what it has. */
        judge(p, slot, now_us);
    }
    memset(slot, 0, sizeof(*slot));
    slot->id = id;
    slot->start_us = now_us;
    slot->end_us = now_us;
    slot->rate = p->rate;
    p->cur = id;
    if(!p->oldest)
        p->oldest = id;
}

uint32_t vg_path_sent(vg_path *p, uint64_t now_us, unsigned try_no)
{
    vg_path_round *r = round_get(p, p->cur);
    if(!r || now_us - r->start_us >= round_len_us(p)) {
        /* A round too small to judge goes on for a while. */
        unsigned min = p->phase == VG_PATH_STARTUP ? ROUND_MIN_SAMPLES_STARTUP : ROUND_MIN_SAMPLES;
        if(!r || (r->sent1 >= min && judgeable(p, r)) ||
           (r->sent >= ROUND_MIN_SAMPLES && (judgeable(p, r) || !r->sent1)) ||
           r->sent >= ROUND_MAX_PROBES || now_us - r->start_us >= ROUND_STRETCH_US) {
            round_open(p, now_us);
            r = round_get(p, p->cur);
        }
    }
    if(!p->first_send_us)
        p->first_send_us = now_us;
    p->last_send_us = now_us;
    r->sent++;
    if(try_no <= 1)
        r->sent1++;
    r->end_us = now_us;
    if(p->rate > r->rate)
        r->rate = p->rate;
    p->sent_total++;
    return r->id;
}

static unsigned rtt_bucket(int64_t rtt_us)
{
    unsigned b = 0;
    uint64_t v = rtt_us > 0 ? (uint64_t)rtt_us : 0;
    while(v > 1 && b < VG_PATH_RTT_BUCKETS - 1) {
        v >>= 1;
        b++;
    }
    return b;
}

void vg_path_answer(vg_path *p, uint64_t now_us, uint32_t round, unsigned try_no,
                    int64_t rtt_us, bool rst)
{
    if(rtt_us < 0)
        rtt_us = 0;
    p->answered_total++;
    /* Karn: an answer to a probe sent more than once may answer an earlier
     * try, so its RTT says nothing. */
    if(try_no <= 1) {
        if(p->min_rtt_us < 0 || rtt_us < p->min_rtt_us)
            p->min_rtt_us = rtt_us;
        p->rtt_hist[rtt_bucket(rtt_us)]++;
    }
    p->last_answer_us = now_us;
    vg_path_round *cur = round_get(p, p->cur);
    if(cur)
        cur->arrived++;
    vg_path_round *r = round_get(p, round);
    if(r && r->evaluated && try_no <= 1) {
        r->late1++;
        if(r->congested && !r->undone && r->ans1 + r->late1 >= r->clean_ans1)
            undo(p, r);
        return;
    }
    if(!r || r->evaluated || try_no > 1)
        return;
    r->ans1++;
    if(rst)
        r->rst1++;
    r->rtt_sum_us += (uint64_t)rtt_us;
}

/* Of a round not judged yet, the first tries whose answers are due by
 * now (sent a minimum RTT ago or more), as the round is paced evenly. */
static double answerable(const vg_path *p, const vg_path_round *r, uint64_t now_us)
{
    if(p->min_rtt_us < 0)
        return 0;
    uint64_t due_until = now_us - (uint64_t)p->min_rtt_us;
    if(due_until <= r->start_us)
        return 0;
    if(due_until >= r->end_us)
        return r->sent1;
    return r->sent1 * (double)(due_until - r->start_us) / (double)(r->end_us - r->start_us);
}

unsigned vg_path_timeout(vg_path *p, uint64_t now_us, uint32_t round, uint64_t sent_us,
                         bool *clean)
{
    *clean = false;
    vg_path_round *r = round_get(p, round);
    if(r && !r->evaluated)
        judge_all(p, now_us);
    if(!r || r->id != round)
        return 0; /* fell out of the ring: no evidence either way */
    double q, due;
    if(r->evaluated) {
        if(!r->congested) {
            *clean = true;
            return VG_EVIDENCE_TRY;
        }
        q = r->loss;
    }
    else if(p->ref_ratio > 0 && (due = answerable(p, r, now_us)) >= ROUND_JUDGE_SAMPLES &&
            due * p->ref_ratio >= ROUND_JUDGE_ANSWERS) {
        /* Not judged yet (the timeout came before the round's grace
         * ended), but the answers to its first tries sent a minimum RTT
         * ago or more are due: what those lost so far is an upper bound
         * of what they will have lost. */
        double ratio = (double)r->ans1 / due;
        if(ratio > 1)
            ratio = 1;
        if(ratio >= p->ref_ratio * (1 - CONG_REL_DROP)) {
            *clean = !p->last_congested_us || p->last_congested_us + 2 * grace_us(p) < r->start_us;
            return VG_EVIDENCE_TRY;
        }
        q = 1 - ratio / p->ref_ratio;
    }
    else if(p->last_congested_us && p->last_congested_us + 2 * grace_us(p) >= sent_us) {
        return 0; /* too little to judge, sent just after a congestion */
    }
    else {
        *clean = true;
        return VG_EVIDENCE_TRY;
    }
    double lp = vg_path_loss_bound(p);
    if(lp >= 1 || q >= 1)
        return 0;
    if(q <= lp)
        return VG_EVIDENCE_TRY;
    return (unsigned)(VG_EVIDENCE_TRY * log(q) / log(lp));
}

void vg_path_port_answered(vg_path *p, unsigned clean_losses, bool limitable)
{
    /* Resets a limiting target held back say nothing of the path. */
    if(p->limited && limitable)
        return;
    p->clean_losses += clean_losses;
    p->answers++;
}

void vg_path_sweep_rate(vg_path *p)
{
    if(p->prm.fixed || p->frozen || !p->rate_n)
        return;
    double settled = p->rate_sum / p->rate_n;
    double r = settled > p->rate ? settled : p->rate;
    if((p->cuts || p->local_cuts) && r > SWEEP_CONGESTED * settled)
        r = SWEEP_CONGESTED * settled;
    p->rate = r;
    clamp_rate(p);
}

bool vg_path_slow_to_limit(vg_path *p, double share)
{
    if(!p->limited)
        return false;
    double r = LIMIT_PACE * p->limit_pps / (share > 0 && share < 1 ? share : 1);
    if(share < 1 && r > p->limit_cap)
        r = p->limit_cap > LIMIT_PACE * p->limit_pps ? p->limit_cap : LIMIT_PACE * p->limit_pps;
    if(r < p->prm.min_rate) {
        r = p->prm.min_rate;
        p->limit_overrun = true;
    }
    p->rate = r;
    p->phase = VG_PATH_STEADY;
    p->last_cut_us = p->refill_us; /* no growth from rounds sent before */
    p->frozen = true;
    return true;
}

void vg_path_set_limit(vg_path *p, double limit_pps, uint64_t now_us)
{
    if(p->limited)
        return;
    p->limited = true;
    p->limit_pps = limit_pps;
    /* The losses and cuts so far were the target's limit, not the path's.
     * Its answered share no longer tells congestion (the limit makes it
     * fall with any rate), so the rate may grow only slowly, and not past
     * LIMIT_RATE_CAP times the limit or the fastest clean round seen. */
    p->clean_losses = 0;
    p->answers = 0;
    p->phase = VG_PATH_STEADY;
    p->last_cut_us = now_us;
    double cap = LIMIT_RATE_CAP * limit_pps;
    if(p->peak_clean > cap)
        cap = p->peak_clean;
    p->limit_cap = cap;
    if(p->rate < cap)
        p->rate = cap < 2 * p->rate ? cap : 2 * p->rate;
}

void vg_path_clear_limit(vg_path *p)
{
    p->limited = false;
    p->frozen = false;
    p->limit_overrun = false;
    p->limit_pps = 0;
    p->phase = VG_PATH_STEADY;
}

/* The spans of our rate and of the resets over the last k windows (the
 * sends lag windows before the resets they drew). */
struct limit_span { double smin, smax, rmin, rmax, rsum; };

static struct limit_span limit_span(const vg_limitdet *d, unsigned lag, unsigned k)
{
    struct limit_span v = {1e18, 0, 1e18, 0, 0};
    for(unsigned i = d->n - k; i < d->n; i++) {
        double sv = d->wins[i - lag].sent, rv = d->wins[i].rst;
        v.smin = sv < v.smin ? sv : v.smin;
        v.smax = sv > v.smax ? sv : v.smax;
        v.rmin = rv < v.rmin ? rv : v.rmin;
        v.rmax = rv > v.rmax ? rv : v.rmax;
        v.rsum += rv;
    }
    return v;
}

/* The last LIMIT_WINS windows (the sends lag windows before the resets
 * they drew): our rate spread, the resets flat, well below it, and the
 * other answers not flat with them. Sets d->limit_pps. */
static bool limit_seen(vg_limitdet *d, unsigned lag)
{
    struct limit_span v = limit_span(d, lag, LIMIT_WINS);
    double smin = v.smin, smax = v.smax, rmin = v.rmin, rmax = v.rmax, rsum = v.rsum;
    /* The other answers tell a target's limit from a full path: behind a
     * limit they keep their share of what we send; behind a full path
     * they go flat with the resets. With too few of them to tell, the
     * resets alone decide. */
    unsigned lo = d->n - LIMIT_WINS, hi = lo;
    for(unsigned i = d->n - LIMIT_WINS; i < d->n; i++) {
        if(d->wins[i - lag].sent < d->wins[lo - lag].sent)
            lo = i;
        if(d->wins[i - lag].sent > d->wins[hi - lag].sent)
            hi = i;
    }
    double secs_w = VG_PATH_WIN_US / 1e6;
    double s_lo = d->wins[lo - lag].sent, s_hi = d->wins[hi - lag].sent;
    bool others_flat = s_lo > 0 && s_hi > 0 && d->wins[lo].other * secs_w >= LIMIT_OTHER_MIN &&
                       d->wins[hi].other / s_hi < LIMIT_OTHER_KEEP * d->wins[lo].other / s_lo;
    if(rmin >= LIMIT_MIN_PPS && smax >= LIMIT_SPREAD * smin && rmax <= LIMIT_FLAT * rmin &&
       smin >= 2 * rmax && !others_flat) {
        d->limit_pps = rsum / LIMIT_WINS;
        return true;
    }
    return false;
}

/* The last LIMIT_TEST_WINS windows look like a limit but for our rate,
 * which stayed flat: the resets flat and so far below it that they would
 * still be at the slowed rate. */
static bool test_wanted(const vg_limitdet *d, unsigned lag)
{
    struct limit_span v = limit_span(d, lag, LIMIT_TEST_WINS);
    double smin = v.smin, smax = v.smax, rmin = v.rmin, rmax = v.rmax;
    double hosts = d->hosts >= 1 ? d->hosts : 1;
    return rmin >= LIMIT_MIN_PPS && rmax <= LIMIT_FLAT * rmin &&
           LIMIT_TEST_SLOW * smin >= 2 * rmax && smax < LIMIT_SPREAD * smin &&
           smin / hosts >= LIMIT_TEST_HOST_PPS;
}

bool vg_limitdet_tick(vg_limitdet *d, uint64_t now_us, uint64_t sent, uint64_t rst,
                      uint64_t other, bool queueing, int64_t min_rtt_us)
{
    if(!d->start_us) {
        d->start_us = now_us;
        d->sent0 = sent;
        d->rst0 = rst;
        d->other0 = other;
        return false;
    }
    if(d->limit_pps > 0 || now_us - d->start_us < VG_PATH_WIN_US)
        return false;
    double secs = (double)(now_us - d->start_us) / 1e6;
    if(d->n == VG_PATH_WINS) {
        memmove(d->wins, d->wins + 1, sizeof(d->wins[0]) * (VG_PATH_WINS - 1));
        d->n--;
    }
    d->wins[d->n].sent = (double)(sent - d->sent0) / secs;
    d->wins[d->n].rst = (double)(rst - d->rst0) / secs;
    d->wins[d->n].other = (double)(other - d->other0) / secs;
    d->n++;
    d->start_us = now_us;
    d->sent0 = sent;
    d->rst0 = rst;
    d->other0 = other;
    if(queueing) {
        d->n = 0; /* a queue built up: start over */
        return false;
    }
    if(min_rtt_us < 0)
        return false;
    /* Resets arrive one RTT after the probes they answer. */
    unsigned lag = (unsigned)(((uint64_t)min_rtt_us + VG_PATH_WIN_US / 2) / VG_PATH_WIN_US);
    if(d->n >= LIMIT_WINS + lag && limit_seen(d, lag)) {
        d->test_until_us = 0;
        return true;
    }
    if(d->n >= LIMIT_TEST_WINS + lag && d->tests < LIMIT_TESTS && now_us >= d->test_until_us &&
       test_wanted(d, lag)) {
        d->tests++;
        d->test_pps = LIMIT_TEST_SLOW * d->wins[d->n - 1].sent;
        d->test_until_us = now_us + (uint64_t)(LIMIT_TEST_LEN + lag) * VG_PATH_WIN_US;
    }
    return false;
}

static double achieved_rate(const vg_path_round *r)
{
    /* Probes leave in batches: a round shorter than a millisecond is
     * taken as one millisecond long. */
    uint64_t d = r->end_us - r->start_us;
    if(d < 1000)
        d = 1000;
    double a = (double)r->sent * 1e6 / (double)d;
    return a < r->rate ? a : r->rate;
}

static void clamp_rate(vg_path *p)
{
    if(p->rate < p->prm.min_rate)
        p->rate = p->prm.min_rate;
    if(p->prm.max_rate > 0 && p->rate > p->prm.max_rate)
        p->rate = p->prm.max_rate;
}

/* Lowers the rate; false when it was no higher. The caller counts the
 * cut as the path's or as this machine's own (local_cuts). */
static bool cut_to(vg_path *p, uint64_t now_us, double rate)
{
    if(rate >= p->rate)
        return false;
    p->rate = rate;
    clamp_rate(p);
    p->last_cut_us = now_us;
    if(p->tokens > burst_of(p->rate))
        p->tokens = burst_of(p->rate);
    return true;
}

/* A round judged congested whose missing answers came after all: the path
 * held them up (a stall, a burst of delay), it did not drop them. As TCP
 * undoes a cut that a spurious retransmission caused, the verdict is taken
 * back, and so is its cut unless a later round that stays congested cut
 * too: a delay spike must not halve the rate for the rest of the scan. */
static void undo(vg_path *p, vg_path_round *r)
{
    r->undone = true;
    r->congested = false;
    pool_add(p, achieved_rate(r), r->sent1, r->ans1 + r->late1);
    p->undos++;
    if(r->rate_before > 0)
        p->ceiling = 0; /* the ceiling its cut measured was the delay's */
    if(p->rounds_congested)
        p->rounds_congested--;
    p->rounds_clean++;
    if(r->rate_before <= 0)
        return; /* it made no cut */
    /* The cut was the delay's: it no longer counts, even when the rate has
     * grown back or a later cut stands. */
    if(p->cuts)
        p->cuts--;
    if(r->rate_before <= p->rate)
        return;
    for(uint32_t id = r->id + 1; id <= p->cur && id - r->id < VG_PATH_ROUNDS; id++) {
        const vg_path_round *o = round_get(p, id);
        if(o && o->congested && o->rate_before > 0)
            return;
    }
    p->rate = r->rate_before;
    clamp_rate(p);
}

static unsigned rate_bin(double rate)
{
    if(rate <= RATE_BIN_BASE)
        return 0;
    double b = log(rate / RATE_BIN_BASE) / log(RATE_BIN_STEP);
    return b >= VG_PATH_RATE_BINS - 1 ? VG_PATH_RATE_BINS - 1 : (unsigned)b;
}

/* The answered fraction to expect at a rate: pooled over the rounds sent
 * at most 1/1.5 of it (so a fraction that falls as the rate rises shows),
 * else over every lower bin; *n gets the sample size (0: none). */
static double reference(const vg_path *p, double rate, double *n)
{
    unsigned b = rate_bin(rate);
    uint64_t tn = 0, ta = 0;
    for(unsigned i = 0; i + 1 < b; i++) {
        tn += p->pool[i].n;
        ta += p->pool[i].a;
    }
    if(tn < REF_MIN_SAMPLES && b > 0) {
        tn += p->pool[b - 1].n;
        ta += p->pool[b - 1].a;
    }
    *n = (double)tn;
    return tn ? (double)ta / (double)tn : 0;
}

static void pool_add(vg_path *p, double rate, uint32_t sent1, uint32_t ans1)
{
    unsigned bin = rate_bin(rate);
    p->pool[bin].n += sent1;
    p->pool[bin].a += ans1;
}

static void judge(vg_path *p, vg_path_round *r, uint64_t now_us)
{
    r->evaluated = true;
    if(!judgeable(p, r))
        return; /* too little to say anything */
    double n = r->sent1;
    double ratio = r->ans1 / n;
    double achieved = achieved_rate(r);
    double dur = (double)(r->end_us - r->start_us) / 1e6;
    bool queueing = false;
    if(r->ans1 && p->min_rtt_us >= 0) {
        double mean = (double)r->rtt_sum_us / r->ans1;
        queueing = mean > QUEUE_RTT_FACTOR * (double)p->min_rtt_us + QUEUE_RTT_SLACK_US;
        if(queueing)
            p->queueing_rounds++;
    }
    p->rate_sum += achieved;
    p->rate_n++;
    if(achieved > p->peak_rate)
        p->peak_rate = achieved;

    double refn;
    double ref = reference(p, achieved, &refn);
    if(refn >= REF_MIN_SAMPLES && ref > 0) {
        p->ref_ratio = ref;
        /* Both the reference and this round are samples: their standard
         * errors add. */
        double se = sqrt(ref * (1 - ref) / refn + ref * (1 - ref) / n);
        double drop = CONG_REL_DROP * ref;
        if(CONG_SIGMAS * se > drop)
            drop = CONG_SIGMAS * se;
        /* A fall that the target's reset limit explains is not the
         * path's doing: only a queue building up still counts. */
        bool fell = p->limited ? queueing : ratio < ref - drop || (queueing && ratio < ref);
        if(fell && !p->frozen) {
            r->congested = true;
            r->loss = ratio < ref ? (float)(1 - ratio / ref) : 0.0f;
            /* Late answers undo the verdict only when they bring the
             * round to within two standard errors of the reference: a
             * stall delivers all of them, a deep queue that also drops
             * does not (a lenient bar let a full queue's late answers
             * undo one cut after another, and the tries it lost then
             * counted as random loss). */
            double undo_at = ref * n - UNDO_SIGMAS * sqrt(n * ref * (1 - ref));
            if(undo_at < (ref - drop) * n)
                undo_at = (ref - drop) * n;
            r->clean_ans1 = (uint32_t)ceil(undo_at);
            p->rounds_congested++;
            p->last_congested_us = r->end_us;
            /* A round sent before the last cut was answered by that cut
             * already: one cut per round trip, as in TCP. */
            if(!p->prm.fixed && r->start_us >= p->last_cut_us) {
                /* What the path delivered: this round's rate times the
                 * share answered, or the answers that arrived per second
                 * (right even when they come late, behind a deep queue). */
                double est = achieved * ratio / ref;
                if(dur > 0) {
                    double arr = r->arrived / dur / ref;
                    if(arr > est)
                        est = arr;
                }
                double next = CUT_FACTOR * est;
                if(next < p->rate * CUT_FLOOR)
                    next = p->rate * CUT_FLOOR;
                if(next < p->rate)
                    r->rate_before = p->rate;
                p->ceiling = est;
                if(cut_to(p, now_us, next))
                    p->cuts++;
                p->phase = VG_PATH_STEADY;
            }
            return;
        }
    }
    /* Only clean rounds make the reference: a congested round's share
     * is the rate's doing, and pooled it would teach the reference that
     * losing answers at that rate is normal. */
    pool_add(p, achieved, r->sent1, r->ans1);
    p->rounds_clean++;
    if(achieved > p->peak_clean)
        p->peak_clean = achieved;
    if(p->prm.fixed || p->frozen || r->start_us < p->last_cut_us)
        return; /* sent before the last cut: says nothing about the rate now */
    if(queueing) {
        p->phase = VG_PATH_STEADY;
        return;
    }
    double gain = p->phase == VG_PATH_STARTUP ? STARTUP_GAIN : STEADY_GAIN;
    if(p->ceiling > 0 && achieved > CEILING_FAR * p->ceiling)
        p->ceiling = 0; /* clean well above it: the path has room again */
    if(gain == STEADY_GAIN && p->ceiling > 0 && p->rate >= CEILING_NEAR * p->ceiling)
        gain = CEILING_GAIN;
    double trips = dur * 1e6 / (double)round_len_us(p);
    if(trips > 1)
        gain = pow(gain, trips < GAIN_MAX_TRIPS ? trips : GAIN_MAX_TRIPS);
    double next = p->rate * gain;
    if(p->limited && next > p->limit_cap)
        next = p->limit_cap > p->rate ? p->limit_cap : p->rate;
    double cap = achieved * ACHIEVED_HEADROOM;
    if(cap < p->prm.min_rate * ACHIEVED_HEADROOM)
        cap = p->prm.min_rate * ACHIEVED_HEADROOM;
    if(next > cap)
        next = cap > p->rate ? cap : p->rate;
    p->rate = next;
    clamp_rate(p);
}

static void judge_all(vg_path *p, uint64_t now_us)
{
    uint64_t grace = grace_us(p);
    while(p->oldest && p->oldest != p->cur + 1) {
        vg_path_round *r = round_get(p, p->oldest);
        if(r && !r->evaluated) {
            /* The round being sent is never judged here. */
            if(p->oldest == p->cur || now_us < r->end_us + grace)
                return;
            judge(p, r, now_us);
        }
        p->oldest++;
        if(!p->oldest)
            p->oldest = 1;
    }
}

void vg_path_tick(vg_path *p, uint64_t now_us)
{
    judge_all(p, now_us);
    /* Nothing sent for a while: close the round so it can be judged. */
    vg_path_round *r = round_get(p, p->cur);
    if(r && !r->evaluated && now_us - r->end_us > round_len_us(p) &&
       now_us > r->end_us + grace_us(p)) {
        judge(p, r, now_us);
    }
}

static void local_pressure(vg_path *p, uint64_t now_us, double factor)
{
    if(p->prm.fixed)
        return;
    if(p->last_local_us && now_us - p->last_local_us < round_len_us(p))
        return;
    p->last_local_us = now_us;
    vg_path_round *r = round_get(p, p->cur);
    double sending = r ? achieved_rate(r) : p->rate;
    if(cut_to(p, now_us, factor * sending))
        p->local_cuts++;
    p->phase = VG_PATH_STEADY;
}

void vg_path_local_drop(vg_path *p, uint64_t now_us)
{
    p->local_drops++;
    local_pressure(p, now_us, LOCAL_CUT);
}

void vg_path_cap_drop(vg_path *p, uint64_t now_us, uint64_t n)
{
    if(!n)
        return;
    p->cap_drops += n;
    local_pressure(p, now_us, CAPTURE_CUT);
}

double vg_path_loss(const vg_path *p)
{
    uint64_t n = p->clean_losses + p->answers;
    return n ? (double)p->clean_losses / (double)n : 0.0;
}

double vg_path_loss_bound(const vg_path *p)
{
    double n = (double)(p->clean_losses + p->answers);
    if(n < 1)
        return 0.5;
    double q = (double)p->clean_losses / n;
    double b = q + 2.0 * sqrt(q * (1 - q) / n) + 3.0 / n;
    return b > 0.9 ? 0.9 : b;
}

unsigned vg_path_tries_needed(double loss, uint64_t n_ports, double target,
                              unsigned min_tries, unsigned max_tries)
{
    if(max_tries < min_tries)
        max_tries = min_tries;
    if(loss <= 0 || n_ports == 0)
        return min_tries;
    if(loss >= 1)
        return max_tries;
    double expect = (double)n_ports;
    unsigned t = 0;
    while(t < max_tries) {
        t++;
        expect *= loss;
        if(t >= min_tries && expect < target)
            return t;
    }
    return max_tries;
}

int64_t vg_path_median_rtt_us(const vg_path *p)
{
    return vg_path_hist_median_us(p->rtt_hist);
}

int64_t vg_path_hist_median_us(const uint32_t *hist)
{
    uint64_t total = 0, seen = 0;
    for(unsigned i = 0; i < VG_PATH_RTT_BUCKETS; i++)
        total += hist[i];
    if(!total)
        return -1;
    for(unsigned i = 0; i < VG_PATH_RTT_BUCKETS; i++) {
        seen += hist[i];
        if(seen * 2 >= total) {
            /* The bucket's geometric middle: [2^i, 2^(i+1)) */
            return (int64_t)((double)(1ULL << i) * 1.414);
        }
    }
    return -1;
}
