/* SPDX-License-Identifier: MIT */
/* The one registry of output formats, by name, and the calls that drive
 * a format. Each format is a view of the same records (vigia/record.h),
 * for a scan, a check run, or both. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/formats.h"
#include "util/alloc.h"

static const vg_output_type *const types[] = {
    &vg_output_text,
    &vg_output_ndjson,
    &vg_output_openmetrics,
    NULL,
};

const vg_output_type *const *vg_output_types(void)
{
    return types;
}

/* "text, ndjson" for scans, "text, ndjson or openmetrics" for checks: the
 * names of the run's formats, as each command has always listed them. */
static void known_names(unsigned run, char *buf, size_t len)
{
    size_t n = 0, count = 0, k = 0;
    buf[0] = '\0';
    for(size_t i = 0; types[i]; i++)
        count += (types[i]->runs & run) != 0;
    for(size_t i = 0; types[i] && n < len; i++) {
        if(!(types[i]->runs & run))
            continue;
        const char *sep = !k ? "" : run == VG_OUTPUT_CHECK && k == count - 1 ? " or " : ", ";
        n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, types[i]->name);
        k++;
    }
}

vg_output *vg_output_new(const char *format, unsigned run, FILE *fp, const vg_output_opts *opts,
                         vg_error *err)
{
    const vg_output_type *type = NULL;
    vg_output *o;
    char names[128];

    for(size_t i = 0; types[i]; i++) {
        if((types[i]->runs & run) && !strcasecmp(types[i]->name, format))
            type = types[i];
    }
    if(!type) {
        known_names(run, names, sizeof(names));
        vg_error_set(err, VG_EINVAL, "unknown output format '%s' (%s %s)", format,
                     run == VG_OUTPUT_CHECK ? "expected" : "known:", names);
        return NULL;
    }
    o = vg_calloc(1, sizeof(*o));
    if(!o || (type->ctx_size && !(o->ctx = vg_calloc(1, type->ctx_size)))) {
        free(o);
        vg_error_set(err, VG_ENOMEM, "out of memory");
        return NULL;
    }
    o->type = type;
    o->fp = fp;
    if(opts)
        o->opts = *opts;
    return o;
}

int vg_output_write(vg_output *o, const vg_record *rec)
{
    vg_output_fn fn = (unsigned)rec->kind < VG_REC__COUNT ? o->type->write[rec->kind] : NULL;
    if(fn && fn(o, rec))
        return VG_EIO;
    return o->fp && ferror(o->fp) ? VG_EIO : VG_OK;
}

int vg_output_flush(vg_output *o)
{
    if(!o->fp)
        return VG_OK;
    if(fflush(o->fp) != 0 || ferror(o->fp))
        return VG_EIO;
    return VG_OK;
}

void vg_output_free(vg_output *o)
{
    if(!o)
        return;
    if(o->type->cleanup)
        o->type->cleanup(o);
    free(o->ctx);
    free(o);
}
