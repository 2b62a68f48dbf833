/* SPDX-License-Identifier: MIT */
/* A whole scan as `vigia scan` runs it (lib/engine/pipeline.c): host
 * discovery when it pays, the live set it finds, the port scan of those
 * hosts, the MACs discovery saw joined into their port records, proof of
 * life from port answers when discovery would cost more than the scan,
 * and optionally a service check on every open port (vigia/scancheck.h).
 * The caller drives it from one thread with vg_pipeline_poll(), where
 * every callback runs; it prints nothing and owns no process-wide state. */
#ifndef VIGIA_PIPELINE_H
#define VIGIA_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "vigia/check.h"
#include "vigia/error.h"
#include "vigia/ports.h"
#include "vigia/scan.h"
#include "vigia/scancheck.h"
#include "vigia/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_pipeline_opts {
    /* The port scan's options. engine VG_ENGINE_PING: discovery is the
     * whole run and its host records are the results. */
    vg_scan_opts scan;
    /* Never run host discovery: every target's ports are probed (-Pn; a
     * dry run too). Otherwise the raw engines run discovery first, or,
     * when it would send more packets than the scan itself (at most four
     * probes per host, 256 targets or more, none on an attached segment),
     * judge hosts by their port answers instead (vg_liveness). The
     * connect engine never runs discovery. */
    bool no_discovery;
    /* A service check on every open TCP port (and UDP 53); the port's
     * record is delivered with its verdict. Not with VG_ENGINE_PING. */
    bool check;
    uint32_t check_timeout_ms;  /* each check's budget; 0: 5000 */
    uint32_t banner_ms;         /* how long an unknown port may stay silent
                                   before it is asked HTTP; 0: 1000 */
} vg_pipeline_opts;

/* vg_scan_opts_default() for scan, the rest zero. */
void vg_pipeline_opts_default(vg_pipeline_opts *opts);

/* What the pipeline delivers, on the thread that calls vg_pipeline_poll().
 * Records are valid only during the call. */
typedef struct vg_pipeline_cb {
    /* A host record (a VG_ENGINE_PING result, port 0; state open = up,
     * with the reason and the MAC when seen; filtered = down): one per
     * target discovery probed, before any port record; without discovery
     * but with proof of life from port answers, one per host as its first
     * answer arrives (up) or at the end (down). May be NULL. */
    vg_result_fn host;
    /* A port record, carrying the MAC discovery saw for its host when the
     * reply did not show one. chk: its service check with
     * vg_pipeline_opts.check (NULL when no check applies), else NULL. */
    vg_scan_check_fn port;
    /* Discovery before a port scan ended and was not stopped: up and down
     * hosts and its seconds, just before the port scan starts. May be NULL. */
    void (*discovered)(uint64_t up, uint64_t down, double elapsed_s, void *ud);
    void *ud;
} vg_pipeline_cb;

typedef struct vg_pipeline vg_pipeline;

/* Where a run is, for progress displays and error handling. */
enum vg_pipeline_phase {
    VG_PIPELINE_IDLE = 0,   /* not started */
    VG_PIPELINE_DISCOVERY,  /* host discovery, up to the port scan's start */
    VG_PIPELINE_SCAN,       /* the port scan (with checks alongside) */
    VG_PIPELINE_CHECKS,     /* the scan is over; checks of held ports go on */
    VG_PIPELINE_DONE,       /* every record delivered */
};

/* Builds the scans (nothing is sent or opened yet). targets must be
 * finalized; targets and ports must outlive the pipeline; cb is copied. */
int vg_pipeline_new(vg_pipeline **out, const vg_targets *targets, const vg_ports *ports,
                    const vg_pipeline_opts *opts, const vg_pipeline_cb *cb, vg_error *err);

/* Raw engines: opens every raw, route and capture socket of discovery and
 * the port scan, so the caller can drop privileges (vg_drop_privileges())
 * before any reply is read. Nothing to do for the connect engine. */
int vg_pipeline_prepare(vg_pipeline *p, vg_error *err);

/* Creates the checker (with vg_pipeline_opts.check: call it after dropping
 * privileges) and starts discovery, or the port scan when there is none. */
int vg_pipeline_start(vg_pipeline *p, vg_error *err);

/* Waits up to timeout_ms (10 ms at a time for the scan while checks run
 * beside it) and delivers what finished. Returns 1 when every record is
 * delivered, 0 while running, or a negative vg_rc (err says why). A
 * failure in discovery, or in starting the port scan, ends the run; after
 * a failure of the port scan or its checks, polling on delivers what is
 * left (held records) until it returns 1. Discovery moves on to the port
 * scan in the poll after the one that ended it, so a vg_pipeline_stop() in
 * between means no port scan. */
int vg_pipeline_poll(vg_pipeline *p, int timeout_ms, vg_error *err);

/* Stops the phase under way: discovery (no port scan follows), the port
 * scan (probes in flight are abandoned) and its checks (held ports come
 * out with an "interrupted" check); vg_pipeline_poll returns 1 soon. */
void vg_pipeline_stop(vg_pipeline *p);

int vg_pipeline_phase(const vg_pipeline *p);

/* The scan whose records are the results: the port scan, or discovery
 * with VG_ENGINE_PING. For its engine name, port counts, --dry-run's walk
 * (vg_scan_probe_at_proto), progress, paths and raw counters. */
vg_scan *vg_pipeline_scan(vg_pipeline *p);

/* That scan's counters; once DONE, the ports that proof of life found to
 * belong to down hosts are moved from total, done and filtered to
 * skipped, as if discovery had run. */
void vg_pipeline_get_stats(vg_pipeline *p, vg_scan_stats *stats);

/* Port records waiting for their check. */
size_t vg_pipeline_held(const vg_pipeline *p);

/* With vg_pipeline_opts.check: port records delivered per check verdict
 * (VG_CHECK_OK .. VG_CHECK_UNKNOWN) in count, and true; else false. */
bool vg_pipeline_check_counts(const vg_pipeline *p, uint64_t count[4]);

/* Stops what still runs, joins the workers and frees everything; held
 * records are dropped. */
void vg_pipeline_free(vg_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
