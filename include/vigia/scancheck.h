/* SPDX-License-Identifier: MIT */
/* Service checks on scan results (`vigia scan --check`): every open TCP
 * port, and UDP 53, gets the check that fits it as the scan finds it, and
 * its record is held until the verdict is in (lib/check/scancheck.c).
 * Which check: the well-known port's kind (vg_check_kind_for_port); else a
 * banner read, then the kind the banner announces; a port silent for the
 * banner wait is asked HTTP, and one that does not answer HTTP either is
 * judged as a TCP connect check. vg_pipeline (vigia/pipeline.h) drives it
 * for a whole scan; a program with its own results may feed it directly. */
#ifndef VIGIA_SCANCHECK_H
#define VIGIA_SCANCHECK_H

#include <stdint.h>

#include "vigia/check.h"
#include "vigia/scan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_scan_checks vg_scan_checks;

/* Receives each port record: chk is the check run on the port, or NULL
 * when no check applies (closed, filtered, UDP other than 53) or none
 * could be recorded (out of memory). Both are valid only during the call;
 * it runs on the thread that calls vg_scan_checks_result() or
 * vg_scan_checks_poll(). */
typedef void (*vg_scan_check_fn)(const vg_result *res, const vg_check_result *chk, void *ud);

/* timeout_ms: the budget of each check; banner_ms: how long a port that is
 * not a well-known one may stay silent before it is asked HTTP (at most
 * timeout_ms). The checker it runs on is started here: create it after
 * dropping privileges. */
int vg_scan_checks_new(vg_scan_checks **out, uint32_t timeout_ms, uint32_t banner_ms,
                       vg_scan_check_fn emit, void *ud, vg_error *err);
/* A scan result: open ports get a check (their record is held until it
 * ends), everything else is emitted at once. */
void vg_scan_checks_result(vg_scan_checks *sc, const vg_result *res);
/* Runs the checks for up to wait_ms and emits the finished ports. Returns
 * the number of ports still held, or a negative vg_rc. */
long vg_scan_checks_poll(vg_scan_checks *sc, int wait_ms, vg_error *err);
/* Ports held for their check (what the last poll returned). */
size_t vg_scan_checks_held(const vg_scan_checks *sc);
/* Ends every check now: the held ports are emitted with an "interrupted"
 * check by the next polls; ports given later get one at once. */
void vg_scan_checks_stop(vg_scan_checks *sc);
/* Ports emitted per check verdict (VG_CHECK_OK .. VG_CHECK_UNKNOWN). */
void vg_scan_checks_counts(const vg_scan_checks *sc, uint64_t count[4]);
void vg_scan_checks_free(vg_scan_checks *sc);

#ifdef __cplusplus
}
#endif
#endif
