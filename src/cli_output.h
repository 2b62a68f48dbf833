/* SPDX-License-Identifier: MIT */
/* The CLI's side of the outputs: what `scan` and `check` know (results,
 * run headers and ends) turned into records (vigia/record.h) through the
 * library's adapters and handed to one format (vigia/output.h). Each call
 * returns what vg_output_write() does: VG_OK, or VG_EIO. */
#ifndef VIGIA_CLI_OUTPUT_H
#define VIGIA_CLI_OUTPUT_H

#include "vigia/check.h"
#include "vigia/output.h"
#include "vigia/scan_record.h"

/* vigia scan. names may be NULL (no names, services or vendors). */
int cli_scan_begin(vg_output *o, const vg_scan_info *info);
/* A port record; chk (scan --check) NULL when the port has no check. */
int cli_scan_port(vg_output *o, const vg_scan_names *names, const vg_result *res,
                  const vg_check_result *chk);
int cli_scan_host(vg_output *o, const vg_scan_names *names, const vg_result *host);
int cli_scan_end(vg_output *o, const vg_scan_end *end);

/* vigia check. */
int cli_check_begin(vg_output *o, const vg_check_info *info);
int cli_check_result(vg_output *o, const vg_check_result *res);
/* --watch: res changed state (previous -1 at a check's first result); the
 * record carries the time of this call. */
int cli_check_change(vg_output *o, const vg_check_result *res, int previous);
int cli_check_watch_summary(vg_output *o, const vg_check_watch_stats *st);
int cli_check_end(vg_output *o, const vg_check_summary *sum);

#endif
