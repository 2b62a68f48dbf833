/* SPDX-License-Identifier: MIT */
/* The output formats the registry in output.c knows. */
#ifndef VIGIA_OUTPUT_FORMATS_H
#define VIGIA_OUTPUT_FORMATS_H

#include "vigia/output.h"

extern const vg_output_type vg_output_text;
extern const vg_output_type vg_output_ndjson;

#endif
