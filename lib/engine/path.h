/* SPDX-License-Identifier: MIT */
/* The path controller: paces a worker's probes to what the network path
 * delivers, and tells congestion (back off) from random loss (keep the
 * rate, add tries). Pure arithmetic on a stream of events (sent, answered,
 * timed out, local queue full, capture drop) with the clock passed in, so
 * the unit tests can feed it synthetic streams. docs/timing.md explains
 * the algorithm and the reasoning behind every constant. */
#ifndef VIGIA_PATH_H
#define VIGIA_PATH_H

#include <stdbool.h>
#include <stdint.h>

/* Rounds of sending waiting for their answers (a ring). */
#define VG_PATH_ROUNDS 256
/* Answered fractions pooled by send rate: bins a factor 1.5 apart. */
#define VG_PATH_RATE_BINS 40
/* Windows for the reset-limit detector. */
#define VG_PATH_WIN_US 100000
#define VG_PATH_WINS 32
/* RTT histogram: log2 buckets of microseconds. */
#define VG_PATH_RTT_BUCKETS 32

typedef struct vg_path_round {
    uint32_t id;          /* round number; 0: slot unused */
    uint64_t start_us, end_us;
    double rate;          /* the pacing rate while it was sent (pps) */
    uint32_t sent;        /* every probe sent in it, retries included */
    uint32_t sent1;       /* first tries */
    uint32_t ans1;        /* first tries answered before evaluation */
    uint32_t rst1;        /* of those, answers that were TCP resets */
    uint32_t arrived;     /* answers of any probe that arrived while it was sent */
    uint64_t rtt_sum_us;  /* of the answered first tries */
    bool evaluated;
    bool congested;       /* the verdict, once evaluated */
    bool undone;          /* congested, until its late answers showed a delay */
    float loss;           /* congested: the share of its first tries lost */
    uint32_t late1;       /* first tries answered after evaluation */
    uint32_t clean_ans1;  /* congested: answers that would have made it clean */
    double rate_before;   /* congested and cut: the rate before its cut (0: no cut) */
} vg_path_round;

typedef enum vg_path_phase {
    VG_PATH_STARTUP = 0,  /* doubling each round until the path pushes back */
    VG_PATH_STEADY,       /* near the ceiling: slow probing up, cut on congestion */
} vg_path_phase;

typedef struct vg_path_params {
    double initial_rate;  /* pps at the start */
    double min_rate;      /* never below (--min-rate; default a floor of 50 pps) */
    double max_rate;      /* never above (--max-rate / --rate); 0 = no cap */
    bool fixed;           /* --rate without adaptation: always max_rate */
} vg_path_params;

/* What the controller knows about one path. */
typedef struct vg_path {
    vg_path_params prm;
    vg_path_phase phase;
    double rate;              /* pps allowed now */
    double tokens;            /* pacing bucket */
    uint64_t refill_us;
    /* rounds */
    vg_path_round rounds[VG_PATH_ROUNDS];
    uint32_t cur;             /* id of the round being sent (0: none yet) */
    uint32_t oldest;          /* oldest round not yet evaluated */
    /* evidence */
    int64_t min_rtt_us;       /* -1 until the first answer */
    double ref_ratio;         /* last reference: answered fraction at lower rates */
    struct { uint64_t n, a; } pool[VG_PATH_RATE_BINS]; /* first tries, answered */
    uint64_t last_cut_us;     /* when the rate was last lowered */
    uint64_t last_congested_us; /* end of the last round judged congested */
    uint64_t last_local_us;   /* when local pressure last lowered it */
    /* random versus congestive: rounds judged, and how they were judged */
    uint32_t rounds_clean, rounds_congested;
    uint32_t cuts;            /* cuts standing that the path's rounds made */
    uint32_t local_cuts;      /* cuts for our own full queues or capture ring */
    uint32_t queueing_rounds; /* rounds whose RTT rose well above the floor */
    /* per-try loss, counted only over tries sent in clean rounds */
    uint64_t clean_losses, answers;
    /* what the summary reports */
    uint64_t sent_total, answered_total, local_drops, cap_drops;
    uint64_t silent_congested; /* ports left silent although tries of theirs were
                                  lost in congested rounds */
    uint64_t first_send_us, last_send_us, last_answer_us;
    double rate_sum;          /* sum of the achieved rates of judged rounds */
    uint32_t rate_n;
    double peak_rate;
    uint32_t rtt_hist[VG_PATH_RTT_BUCKETS];
    /* The target limits its resets (or ICMP errors) to limit_pps, as
     * the scan's vg_limitdet found (vg_path_set_limit). */
    bool limited;
    bool frozen;              /* paced to the limit: the rate stays */
    double limit_cap;         /* behind a limit: the rate grows no further */
    bool limit_overrun;       /* --min-rate kept a sweep above the limit's pace */
    double peak_clean;        /* the fastest round judged clean */
    double ceiling;           /* what the path delivered at the last congestion (0: none) */
    uint32_t undos;           /* congested verdicts taken back (a delay, not a loss) */
    double limit_pps;         /* to about this many per second */

} vg_path;

void vg_path_init(vg_path *p, const vg_path_params *prm, uint64_t now_us);

/* Pacing: how many probes may go now (at most want); when none, *wait_us
 * says how long until one may. */
unsigned vg_path_take(vg_path *p, uint64_t now_us, unsigned want, uint64_t *wait_us);

/* A probe was sent; try is 1 for the first. Returns the round to stamp on
 * the probe, for vg_path_answer() / vg_path_timeout(). */
uint32_t vg_path_sent(vg_path *p, uint64_t now_us, unsigned try_no);

/* A probe stamped with round was answered after rtt_us. rst: the answer
 * was a TCP reset (or an ICMP error: any answer the target may
 * rate-limit). */
void vg_path_answer(vg_path *p, uint64_t now_us, uint32_t round, unsigned try_no,
                    int64_t rtt_us, bool rst);

/* Evidence units: a try lost in a clean round is VG_EVIDENCE_TRY. */
#define VG_EVIDENCE_TRY 256

/* A probe stamped with round timed out. Returns how much its silence says
 * that the port does not answer, in VG_EVIDENCE_TRY units of a try lost on
 * a clean path: a full try when the round was clean (and *clean is set:
 * the loss counts towards the random-loss estimate); in a congested round,
 * which lost a share q of its tries, ln q / ln p of one (p: the random
 * loss), since the port stays silent with probability q there; nothing
 * when the round is gone, or too small to judge and the probe was sent
 * (at sent_us) just after a congestion. */
unsigned vg_path_timeout(vg_path *p, uint64_t now_us, uint32_t round, uint64_t sent_us,
                         bool *clean);

/* Adds evidence w to a probe's *e, saturating. */
static inline void vg_evidence_add(uint16_t *e, unsigned w)
{
    unsigned v = *e + w;
    *e = (uint16_t)(v > UINT16_MAX ? UINT16_MAX : v);
}

/* A port that needed try_no tries was answered: clean_losses of its
 * failed tries were sent in clean rounds. Feeds the per-try loss. */
void vg_path_port_answered(vg_path *p, unsigned clean_losses, bool limitable);

/* The target limits its resets to limit_pps (this path's share): the
 * losses it causes are not the path's, so the rate finds the path's own
 * ceiling again. */
void vg_path_set_limit(vg_path *p, double limit_pps, uint64_t now_us);

/* The limit was wrong (a paced sweep found nothing it had held back):
 * the path is judged as any other again. */
void vg_path_clear_limit(vg_path *p);

/* Detects a target that rate-limits its resets: over windows of
 * VG_PATH_WIN_US, the rate we sent at varied by half or more while the
 * resets kept arriving at one rate (within 30%), well below what we
 * sent, and no queue built up on the way. */
typedef struct vg_limitdet {
    uint64_t start_us, sent0, rst0;
    uint64_t other0;
    struct { double sent, rst, other; } wins[VG_PATH_WINS];
    unsigned n;
    double limit_pps;         /* > 0 once detected */
    /* A rate test: the scan sends at most test_pps until test_until_us
     * (a limit and a share of answering ports look alike while our rate
     * stays flat; slowed, a share falls and a limit does not). */
    uint64_t test_until_us;
    double test_pps;
    unsigned tests;
    double hosts;             /* target hosts the probes spread over (set by the caller) */
} vg_limitdet;

/* Feeds the running totals of probes sent, resets received and other
 * answers received (SYN-ACKs, UDP replies: a target's reset limit does not
 * hold them back, a full path does), and the path's minimum RTT (-1: unknown; a window's resets answer the probes
 * sent one RTT before); returns true (once) when the limit is found, in
 * d->limit_pps. */
bool vg_limitdet_tick(vg_limitdet *d, uint64_t now_us, uint64_t sent, uint64_t rst,
                      uint64_t other, bool queueing, int64_t min_rtt_us);

/* Paces the path below the target's reset limit (for the sweeps, which
 * must see every reset): when a share of the probes can answer at most
 * (the rest are silent whatever the pace), 1/share times faster, but not
 * past the rate the path may grow to behind the limit, nor below the
 * minimum rate (p->limit_overrun says when that floor was above the
 * pace: the limit may then have held back resets). False when no limit
 * was seen. */
bool vg_path_slow_to_limit(vg_path *p, double share);

/* A sweep begins: its probes are all retries, which the rounds do not
 * judge, so the rate would stay wherever the walk left it (after a late
 * cut, far below what the path carried), and no congestion during the
 * sweep would lower it. It goes to the rate the walk settled at (the mean
 * achieved rate of its judged rounds), and on a path that was ever
 * congested to 80% of that: the mean of a sawtooth around the ceiling is
 * close to the ceiling itself, and a sweep there loses tries in bursts. */
void vg_path_sweep_rate(vg_path *p);

/* The kernel had no room for a packet (ENOBUFS, EAGAIN): our own queue is
 * full. */
void vg_path_local_drop(vg_path *p, uint64_t now_us);

/* The capture ring dropped n replies: we receive slower than we send. */
void vg_path_cap_drop(vg_path *p, uint64_t now_us, uint64_t n);

/* Evaluates the rounds whose answers are in by now and adjusts the rate.
 * Call often (every loop turn); cheap when there is nothing to do. */
void vg_path_tick(vg_path *p, uint64_t now_us);

/* The estimated probability that one try to a responsive port goes
 * unanswered (both directions together), with a margin for how little
 * evidence there is: an upper bound, for choosing tries. */
double vg_path_loss_bound(const vg_path *p);

/* The loss estimate itself (no margin). */
double vg_path_loss(const vg_path *p);

/* Tries needed for a silent port so that, over n_ports ports, the expected
 * number of responsive ports reported silent stays below target (0.1):
 * the smallest t with n_ports * loss^t < target, within [min_tries,
 * max_tries]. */
unsigned vg_path_tries_needed(double loss, uint64_t n_ports, double target,
                              unsigned min_tries, unsigned max_tries);

/* Median RTT of the answers, from the histogram (-1 when none). */
int64_t vg_path_median_rtt_us(const vg_path *p);
/* The same from a histogram of VG_PATH_RTT_BUCKETS log2 buckets. */
int64_t vg_path_hist_median_us(const uint32_t *hist);

#endif
