/* SPDX-License-Identifier: MIT */
/* Running checks again and again: a watch re-runs every check on an
 * interval and reports results, state changes and rounds (vigia check
 * --watch); a wait polls the checks until all are OK or a deadline passes
 * (vigia check --wait). Both are driven by the caller: start, then call
 * the step function until it returns 1, calling stop to end early (from a
 * loop that polls a signal flag, say). Neither prints, exits or keeps
 * state outside its handle. */
#ifndef VIGIA_WATCH_H
#define VIGIA_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigia/check.h"
#include "vigia/error.h"
#include "vigia/options.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- watch ----------------------------------------------------------------- */

typedef struct vg_watch vg_watch;

/* One round: every check ran once more (the first round is each check's
 * first run). count[] is the current state of the checks that have one. */
typedef struct vg_watch_round {
    unsigned round;             /* 1 for the first */
    size_t count[4];            /* checks per current vg_check_state */
} vg_watch_round;

/* Callbacks; any may be NULL. Records are only valid during the call.
 * They run on the caller's thread, inside vg_watch_step(). */
typedef struct vg_watch_callbacks {
    /* Every result of every round, in the order checks finish. */
    void (*result)(const vg_check_result *res, void *ud);
    /* After result: the check's state is not what it was; previous is -1
     * at a check's first result. */
    void (*change)(const vg_check_result *res, int previous, void *ud);
    /* Every check of the round has been delivered. Not called for a round
     * that vg_watch_stop() cut short. */
    void (*round)(const vg_watch_round *round, void *ud);
    void *ud;
} vg_watch_callbacks;

typedef struct vg_watch_opts {
    uint64_t interval_ms;       /* from one round's start to the next's; 0: 10000. A round
                                   that takes longer delays the next, never overlaps it. */
    unsigned rounds;            /* finish after this many rounds; 0: until vg_watch_stop() */
    unsigned concurrency;       /* checks in flight; 0: 256 */
    int max_fds;                /* as vg_checker_opts.max_fds */
} vg_watch_opts;

/* opts and cb are copied; cb may be NULL. */
int vg_watch_new(vg_watch **out, const vg_watch_opts *opts, const vg_watch_callbacks *cb, vg_error *err);

/* Adds a check: as vg_checker_add_named() (name and spec copied, opts
 * borrowed: it must outlive the watch). Before vg_watch_start() only. */
int vg_watch_add(vg_watch *w, const char *name, const char *spec, const vg_check_opts *opts, vg_error *err);

/* Adds every check of a loaded checks file (the list must outlive the watch). */
int vg_watch_add_list(vg_watch *w, const vg_check_list *list, vg_error *err);

size_t vg_watch_count(const vg_watch *w);

/* Prepares the run as vg_checker_start(); the first vg_watch_step() starts
 * the first round. */
int vg_watch_start(vg_watch *w, vg_error *err);

/* Runs for up to max_wait_ms: starts a round when one is due, delivers
 * finished checks to the callbacks, and sleeps when nothing is in flight.
 * Returns 0 while the watch goes on, 1 once it has finished (the rounds
 * asked for are done, or it was stopped and every check in flight has
 * been delivered), or a negative vg_rc on a system failure, after which
 * the watch stops itself: call on until it returns 1. */
int vg_watch_step(vg_watch *w, int max_wait_ms, vg_error *err);

/* vg_watch_step() until it returns 1; the first error is returned (in
 * err) once the watch has finished. */
int vg_watch_run(vg_watch *w, vg_error *err);

/* Ends the watch: checks in flight end now and the next steps deliver
 * them. A check that this interrupts keeps the state it had (the
 * "interrupted" record is no state of the service and reaches no
 * callback). Safe to call more than once and from the callbacks (then it
 * takes effect as the checker returns); not from a signal handler. */
void vg_watch_stop(vg_watch *w);

/* Rounds completed so far. */
unsigned vg_watch_rounds(const vg_watch *w);

/* What check index did so far (over the whole run once it finished): its
 * runs, current state (-1 before its first result), seconds in each
 * state and per-phase min/avg/p95. The strings are the watch's, valid
 * until vg_watch_free(). VG_EINVAL for an index out of range. */
int vg_watch_stats(vg_watch *w, size_t index, vg_check_watch_stats *st);

void vg_watch_free(vg_watch *w);

/* --- wait ------------------------------------------------------------------ */

typedef struct vg_wait vg_wait;

/* How a wait ended. */
typedef enum vg_wait_status {
    VG_WAIT_RUNNING = 0,        /* not finished yet */
    VG_WAIT_READY,              /* every check was OK (each stops being polled once it is) */
    VG_WAIT_TIMEOUT,            /* the deadline passed first */
    VG_WAIT_STOPPED,            /* vg_wait_stop() */
    VG_WAIT_FAILED,             /* a poll could not be started (the step returned why) */
} vg_wait_status;

/* Where a wait stands. */
typedef struct vg_wait_progress {
    size_t ready;               /* checks that were OK */
    size_t total;
    size_t rounds;              /* polls completed */
    long first_waiting;         /* the first check not OK (in the order added); -1: none */
    const vg_check_result *first_last; /* its last result; NULL: not checked yet */
    double elapsed_s;           /* since the first step */
} vg_wait_progress;

typedef struct vg_wait_callbacks {
    /* Every result of every poll (index: the order the checks were added). */
    void (*result)(const vg_check_result *res, void *ud);
    /* After each poll that left a check not OK and was not stopped (the
     * deadline may still end the wait right after). */
    void (*round)(const vg_wait_progress *p, void *ud);
    void *ud;
} vg_wait_callbacks;

typedef struct vg_wait_opts {
    uint64_t timeout_ms;        /* overall deadline; 0: 60000 */
    uint64_t interval_ms;       /* pause between polls; 0: 1000 */
    uint64_t check_timeout_ms;  /* each poll's per-check timeout (vg_check_opts.timeout_ms is
                                   replaced), cut to what is left of the deadline; 0: 5000 */
    unsigned concurrency;       /* checks in flight; 0: 256 */
    int max_fds;
} vg_wait_opts;

int vg_wait_new(vg_wait **out, const vg_wait_opts *opts, const vg_wait_callbacks *cb, vg_error *err);

/* As vg_watch_add() and vg_watch_add_list(), before the first step: bad
 * specs and options are VG_EINVAL now. The options are copied per check
 * (their pointers stay borrowed). */
int vg_wait_add(vg_wait *w, const char *name, const char *spec, const vg_check_opts *opts, vg_error *err);
int vg_wait_add_list(vg_wait *w, const vg_check_list *list, vg_error *err);

size_t vg_wait_count(const vg_wait *w);

/* Runs for up to max_wait_ms: starts a poll of the checks not yet OK when
 * one is due, delivers results, sleeps between polls. Returns 0 while
 * waiting, 1 once finished (vg_wait_result() says how), or a negative
 * vg_rc: when a poll could not be started (TLS files, --dns-servers) the
 * wait is over as VG_WAIT_FAILED; when a poll's loop failed, that poll
 * ends with what it delivered and the wait goes on. The clock starts at
 * the first step. */
int vg_wait_step(vg_wait *w, int max_wait_ms, vg_error *err);

/* vg_wait_step() until it returns 1. */
int vg_wait_run(vg_wait *w, vg_error *err);

/* Ends the wait: a poll in flight is stopped (its checks end
 * "interrupted") and the next step finishes with VG_WAIT_STOPPED. Safe
 * from the callbacks; not from a signal handler. */
void vg_wait_stop(vg_wait *w);

vg_wait_status vg_wait_result(const vg_wait *w);
void vg_wait_get_progress(const vg_wait *w, vg_wait_progress *p);

/* Check index's last result, its index field set to index; NULL when it
 * was never checked. Valid until the next step. */
const vg_check_result *vg_wait_last(const vg_wait *w, size_t index);

void vg_wait_free(vg_wait *w);

#ifdef __cplusplus
}
#endif
#endif
