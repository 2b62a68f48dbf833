/* SPDX-License-Identifier: MIT */
/* `vigia scan --check`: runs a service check on every open TCP port as the
 * scan finds it and hands the port's record back with the verdict. */
#ifndef VIGIA_SCAN_CHECK_H
#define VIGIA_SCAN_CHECK_H

#include <stdint.h>

#include "vigia/check.h"
#include "vigia/scan.h"

typedef struct scan_checks scan_checks;

/* Receives each record: chk is the check run on the port, or NULL when no
 * check applies (closed, filtered, UDP other than 53). Both are valid only
 * during the call. */
typedef void (*scan_emit_fn)(const vg_result *res, const vg_check_result *chk, void *ud);

/* timeout_ms: the budget of each check; banner_ms: how long a port that is
 * not a well-known one may stay silent before it is asked HTTP. */
int scan_checks_new(scan_checks **out, uint32_t timeout_ms, uint32_t banner_ms, scan_emit_fn emit,
                    void *ud, vg_error *err);
/* A scan result: open ports get a check (their record is held until it
 * ends), everything else is emitted at once. */
void scan_checks_result(scan_checks *sc, const vg_result *res);
/* Runs the checks for up to wait_ms and emits the finished ports. Returns
 * the number of ports still held, or a negative vg_rc. */
long scan_checks_poll(scan_checks *sc, int wait_ms, vg_error *err);
/* Ends every check now: the held ports are emitted with an "interrupted"
 * check by the next polls; ports given later get one at once. */
void scan_checks_stop(scan_checks *sc);
/* Ports emitted per check verdict. */
void scan_checks_counts(const scan_checks *sc, uint64_t count[4]);
void scan_checks_free(scan_checks *sc);

#endif
