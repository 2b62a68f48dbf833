/* SPDX-License-Identifier: MIT */
/* Internal to lib/check: the check output formats, registered in output.c. */
#ifndef VIGIA_CHECK_OUTPUT_FORMATS_H
#define VIGIA_CHECK_OUTPUT_FORMATS_H

#include "vigia/check.h"

extern const vg_check_output_type vg_check_output_text;
extern const vg_check_output_type vg_check_output_ndjson;
extern const vg_check_output_type vg_check_output_openmetrics;

#endif
