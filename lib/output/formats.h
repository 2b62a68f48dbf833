/* SPDX-License-Identifier: MIT */
/* Internal to lib/output: the formats the registry in output.c knows, and
 * what they share (json.c). Each format is one vtable over both runs'
 * records; a format's scan and check views may sit in two files. */
#ifndef VIGIA_OUTPUT_FORMATS_H
#define VIGIA_OUTPUT_FORMATS_H

#include "vigia/output.h"

extern const vg_output_type vg_output_text;
extern const vg_output_type vg_output_ndjson;
extern const vg_output_type vg_output_openmetrics;

/* "2026-01-02T03:04:05.678Z" for Unix time t (UTC, milliseconds). */
void json_iso_time(double t, char *buf, size_t len);

/* ndjson_check.c: the check records of the ndjson format. */
int ndjson_check_run(vg_output *o, const vg_record *rec);
int ndjson_check(vg_output *o, const vg_record *rec);
int ndjson_change(vg_output *o, const vg_record *rec);
int ndjson_watch(vg_output *o, const vg_record *rec);
int ndjson_check_summary(vg_output *o, const vg_record *rec);
/* The object of a "check" line, without a newline; with verdict, a
 * "verdict" key (the state, again) follows "state", as port records of
 * scan --check nest it. */
void ndjson_check_object(FILE *fp, const vg_rec_check *r, bool verdict);

/* text_check.c: the check records of the text format. */
int text_check(vg_output *o, const vg_record *rec);
int text_change(vg_output *o, const vg_record *rec);
int text_watch(vg_output *o, const vg_record *rec);

#endif
