/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the checks file loader (vigia check -f). On success
 * every check must have a name and a target, every option a key and a
 * value, and positions must be 1-based; on failure the message must name a
 * line and column. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small option table: one flag, one list, everything else unknown except
 * a few values, so both the accept and the reject paths are reached. */
static int key_kind(const char *key, void *ud)
{
    (void)ud;
    if(!strcmp(key, "follow") || !strcmp(key, "insecure"))
        return VG_CHECKFILE_FLAG;
    if(!strcmp(key, "header") || !strcmp(key, "resolve"))
        return VG_CHECKFILE_LIST;
    if(!strcmp(key, "timeout") || !strcmp(key, "expect-status") || !strcmp(key, "send"))
        return VG_CHECKFILE_VALUE;
    return VG_CHECKFILE_UNKNOWN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_checkfile *f = NULL;
    vg_error err;
    memset(&err, 0, sizeof(err));
    if(vg_checkfile_parse(&f, data, size, key_kind, NULL, &err) != VG_OK) {
        if(f || !err.msg[0] || err.msg[0] < '0' || err.msg[0] > '9')
            abort();
        return 0;
    }
    if(!f || f->n == 0)
        abort();
    for(size_t i = 0; i < f->n; i++) {
        const vg_checkfile_entry *e = &f->checks[i];
        if(!e->name || !e->target || !e->line || !e->col || e->nopts > VG_CHECKFILE_MAX_OPTS)
            abort();
        for(size_t k = 0; k < e->nopts; k++)
            if(!e->opts[k].key || !e->opts[k].value || !e->opts[k].line ||
               key_kind(e->opts[k].key, NULL) == VG_CHECKFILE_UNKNOWN)
                abort();
    }
    vg_checkfile_free(f);
    return 0;
}
