/* SPDX-License-Identifier: MIT */
/* The registry of check output formats and the calls that drive one. Each
 * format is a view of the same check records (lib/check/output_*.c). */
#include <stdlib.h>
#include <string.h>

#include "check/output_formats.h"
#include "util/alloc.h"

static const vg_check_output_type *const formats[] = {
    &vg_check_output_text,
    &vg_check_output_ndjson,
    &vg_check_output_openmetrics,
    NULL,
};

const vg_check_output_type *const *vg_check_output_types(void)
{
    return formats;
}

vg_check_output *vg_check_output_new(const char *format, FILE *fp, vg_error *err)
{
    const vg_check_output_type *t = NULL;
    vg_check_output *o;
    for(size_t i = 0; formats[i]; i++)
        if(!strcmp(formats[i]->name, format))
            t = formats[i];
    if(!t) {
        vg_error_set(err, VG_EINVAL, "unknown output format '%s' (expected text, ndjson or openmetrics)", format);
        return NULL;
    }
    o = vg_calloc(1, sizeof(*o));
    if(!o || (t->ctx_size && !(o->ctx = vg_calloc(1, t->ctx_size)))) {
        free(o);
        vg_error_set(err, VG_ENOMEM, "out of memory");
        return NULL;
    }
    o->type = t;
    o->fp = fp;
    return o;
}

/* fp may be NULL between the rounds of a format that only buffers records
 * until end() (openmetrics=FILE under --watch: its file is closed then). */
static int check_stream(vg_check_output *o)
{
    return o->fp && ferror(o->fp) ? VG_EIO : VG_OK;
}

int vg_check_output_begin(vg_check_output *o, const vg_check_info *info)
{
    if(o->type->begin && o->type->begin(o, info))
        return VG_EIO;
    return check_stream(o);
}

int vg_check_output_result(vg_check_output *o, const vg_check_result *res)
{
    if(o->type->result && o->type->result(o, res))
        return VG_EIO;
    return check_stream(o);
}

int vg_check_output_end(vg_check_output *o, const vg_check_summary *sum)
{
    if(o->type->end && o->type->end(o, sum))
        return VG_EIO;
    return check_stream(o);
}

int vg_check_output_change(vg_check_output *o, const vg_check_result *res, int previous)
{
    if(o->type->change && o->type->change(o, res, previous))
        return VG_EIO;
    return check_stream(o);
}

int vg_check_output_watch_summary(vg_check_output *o, const vg_check_watch_stats *st)
{
    if(o->type->watch_summary && o->type->watch_summary(o, st))
        return VG_EIO;
    return check_stream(o);
}

int vg_check_output_flush(vg_check_output *o)
{
    if(!o->fp)
        return VG_OK;
    if(fflush(o->fp) != 0 || ferror(o->fp))
        return VG_EIO;
    return VG_OK;
}

void vg_check_output_free(vg_check_output *o)
{
    if(!o)
        return;
    if(o->type->cleanup)
        o->type->cleanup(o);
    free(o->ctx);
    free(o);
}
