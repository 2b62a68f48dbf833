/* SPDX-License-Identifier: MIT */
/* Loads a checks file into ready check options: the file's shape comes
 * from checkfile.c, its keys are the rows of the check option table
 * (options.c), so a file accepts exactly the per-check options of the
 * command line, under their long names, parsed by the same code. */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "vigia/options.h"

static int key_kind(const char *key, void *ud)
{
    size_t n;
    const vg_opt *rows = vg_check_options(&n);
    const vg_opt *o = vg_opt_find(rows, n, key);
    (void)ud;
    if(!o || !(o->flags & VG_OPTF_FILE))
        return VG_CHECKFILE_UNKNOWN;
    if(!vg_opt_has_arg(o))
        return VG_CHECKFILE_FLAG;
    if(o->type == VG_OPT_LIST || (o->flags & VG_OPTF_REPEAT))
        return VG_CHECKFILE_LIST;
    return VG_CHECKFILE_VALUE;
}

/* Applies one option to a check; errors get "LINE:COL: " in front. */
static int apply_at(vg_check_list *l, vg_check_opts *opts, const vg_opt *o, const char *value, unsigned line,
                    unsigned col, vg_error *err)
{
    vg_error e = {0};
    int rc = vg_opt_apply(o, opts, value, &l->store, &e);
    if(rc)
        return vg_error_set(err, rc, "%u:%u: %s", line, col, e.msg);
    return VG_OK;
}

static int load_item(vg_check_list *l, vg_check_item *it, const vg_checkfile_entry *ent, const vg_opt_arg *extra,
                     size_t nextra, vg_error *err)
{
    size_t n;
    const vg_opt *rows = vg_check_options(&n);
    vg_error e = {0};
    int rc;

    vg_check_opts_default(&it->opts);
    it->line = ent->line;
    it->col = ent->col;
    it->name = vg_optstore_keep(&l->store, vg_strdup(ent->name));
    it->target = vg_optstore_keep(&l->store, vg_strdup(ent->target));
    if(!it->name || !it->target)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    for(size_t k = 0; k < ent->nopts; k++) {
        const vg_checkfile_opt *fo = &ent->opts[k];
        const vg_opt *o = vg_opt_find(rows, n, fo->key);
        const char *value = NULL;
        if(!vg_opt_has_arg(o)) {
            if(!strcmp(fo->value, "false"))
                continue;
        }
        else if(!(value = vg_optstore_keep(&l->store, vg_strdup(fo->value))))
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        if((rc = apply_at(l, &it->opts, o, value, fo->line, fo->col, err)))
            return rc;
    }
    for(size_t k = 0; k < nextra; k++)
        if((rc = apply_at(l, &it->opts, extra[k].opt, extra[k].value, ent->line, ent->col, err)))
            return rc;
    /* Targets and option combinations, checked now to name the line. */
    if(vg_check_validate(it->target, &it->opts, &e))
        return vg_error_set(err, e.code ? e.code : VG_EINVAL, "%u:%u: %s", ent->line, ent->col, e.msg);
    return VG_OK;
}

int vg_check_list_load(vg_check_list **out, const void *buf, size_t len, const vg_opt_arg *extra,
                       size_t nextra, vg_error *err)
{
    vg_checkfile *f = NULL;
    vg_check_list *l;
    int rc;

    *out = NULL;
    rc = vg_checkfile_parse(&f, buf, len, key_kind, NULL, err);
    if(rc)
        return rc;
    l = vg_calloc(1, sizeof(*l));
    if(!l || !(l->items = vg_calloc(f->n ? f->n : 1, sizeof(*l->items)))) {
        free(l);
        vg_checkfile_free(f);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    rc = VG_OK;
    for(size_t i = 0; !rc && i < f->n; i++) {
        rc = load_item(l, &l->items[i], &f->checks[i], extra, nextra, err);
        l->n = i + 1;
    }
    vg_checkfile_free(f);
    if(rc) {
        vg_check_list_free(l);
        return rc;
    }
    *out = l;
    return VG_OK;
}

void vg_check_list_free(vg_check_list *l)
{
    if(!l)
        return;
    vg_optstore_free(&l->store);
    free(l->items);
    free(l);
}
