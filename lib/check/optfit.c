/* SPDX-License-Identifier: MIT */
/* Which options a check's kind takes, from the option table: each row of
 * vg_check_options() names the kinds it applies to (.kinds); an option set
 * for a check of another kind is an error when the row (.wrong_kind) or
 * the kind (vg_check_type.wrong_kind) says what is wrong, and ignored
 * otherwise (a TLS option on tcp://, so that one command line can give
 * -k to a mix of kinds). An option counts as set when its field differs
 * from vg_check_opts_default(). */
#include <string.h>

#include "check/check_internal.h"

static const char *wrong_kind_msg(const vg_check_type *type, const vg_opt *o)
{
    for(const check_wrong_kind *w = type->wrong_kind; w && w->opt; w++)
        if(o->name && !strcmp(w->opt, o->name))
            return w->msg;
    return o->wrong_kind;
}

int check_opts_fit(const vg_check_type *type, const vg_check_opts *opts, vg_error *err)
{
    size_t n;
    const vg_opt *rows = vg_check_options(&n);
    vg_check_opts def;

    vg_check_opts_default(&def);
    for(size_t i = 0; i < n; i++) {
        const vg_opt *o = &rows[i];
        const char *msg;
        if(!o->kinds || (o->kinds & type->kind) || !o->size)
            continue;
        msg = wrong_kind_msg(type, o);
        if(msg && memcmp((const char *)opts + o->offset, (const char *)&def + o->offset, o->size))
            return vg_error_set(err, VG_EINVAL, "%s", msg);
    }
    return VG_OK;
}
