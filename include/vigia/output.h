/* SPDX-License-Identifier: MIT */
/* Output formats: each is a view of the same records (vigia/record.h),
 * of a scan or of a check run, written to a stream the caller opened. One
 * registry, by format name; one vtable type. */
#ifndef VIGIA_OUTPUT_H
#define VIGIA_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vigia/error.h"
#include "vigia/record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runs a format can show (vg_output_type.runs). */
#define VG_OUTPUT_SCAN 1u
#define VG_OUTPUT_CHECK 2u

typedef struct vg_output_opts {
    int verbose;                /* text: scans also list closed and filtered
                                   ports; checks print details (certificates, ...) */
    bool open_only;             /* list only open ports (counts stay complete) */
} vg_output_opts;

typedef struct vg_output vg_output;

/* Writes one record. rec and all it points to are the caller's and only
 * valid during the call (a format that gathers must copy, except the
 * long-lived strings of host and port records, vigia/record.h). Returns
 * VG_OK, or VG_EIO when the stream or the format's own buffers failed. */
typedef int (*vg_output_fn)(vg_output *o, const vg_record *rec);

/* The vtable of one format. */
typedef struct vg_output_type {
    const char *name;           /* what -o names it by (case-insensitive) */
    const char *help;
    unsigned runs;              /* VG_OUTPUT_SCAN | VG_OUTPUT_CHECK */
    size_t ctx_size;            /* private state, zeroed, at vg_output.ctx */
    /* Per record kind; NULL: the format shows nothing of that kind. */
    vg_output_fn write[VG_REC__COUNT];
    /* Frees what ctx holds (not ctx itself); may be NULL. */
    void (*cleanup)(vg_output *o);
} vg_output_type;

struct vg_output {
    const vg_output_type *type;
    FILE *fp;                   /* not owned; may be NULL between the rounds of
                                   a format that only buffers until a summary
                                   (openmetrics=FILE under --watch) */
    vg_output_opts opts;
    void *ctx;
};

/* The registered formats, NULL-terminated. */
const vg_output_type *const *vg_output_types(void);

/* A format of the registry for a run (VG_OUTPUT_SCAN or VG_OUTPUT_CHECK);
 * NULL with err filled (VG_EINVAL) for a name no format of that run has.
 * fp stays the caller's. */
vg_output *vg_output_new(const char *format, unsigned run, FILE *fp, const vg_output_opts *opts,
                         vg_error *err);
/* Hands one record to the format; VG_EIO when it or the stream failed. */
int vg_output_write(vg_output *o, const vg_record *rec);
/* Pushes buffered bytes to the stream's file; VG_EIO on failure. */
int vg_output_flush(vg_output *o);
void vg_output_free(vg_output *o);

/* Writes s as a JSON string literal (quotes included), escaping control
 * characters and invalid UTF-8 bytes as \u00XX. NULL is written as "". */
void vg_json_string(FILE *fp, const char *s);

/* Writes mac as "00:00:0c:12:34:56" into buf (at least 18 bytes). */
void vg_mac_format(const uint8_t mac[6], char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
