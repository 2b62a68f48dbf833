/* SPDX-License-Identifier: MIT */
/* The checks file loader (`vigia check -f checks.yaml`): a pure function
 * from a buffer to a list of (name, target, [key, value]...), parsed with
 * libyaml's event API. It knows the file's shape but not the options: the
 * caller classifies each key (flag, value, list) and later feeds the values
 * to the same parser as the command line, so every option works in files.
 * Every error names the line and column; hostile files are bounded (size,
 * counts, value lengths) and YAML aliases are refused (no entity bombs). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "util/alloc.h"
#include "vigia/check.h"

#define CF_MAX_KEY 64
#define CF_MAX_NAME 200
#define CF_MAX_TARGET 2048

struct cf_list {
    vg_checkfile_opt *v;
    size_t n, cap;
};

struct cf {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    vg_checkfile_key_fn key_kind;
    void *ud;
    vg_error *err;
    vg_checkfile *f;
    size_t cap;                 /* of f->checks */
    struct cf_list defaults;
    bool seen_defaults, seen_checks;
};

/* Every error of the file: "LINE:COL: message" (1-based). */
__attribute__((format(printf, 4, 5)))
static int cf_fail(struct cf *cf, yaml_mark_t m, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return vg_error_set(cf->err, code, "%zu:%zu: %s", m.line + 1, m.column + 1, msg);
}

static int cf_next(struct cf *cf)
{
    if(cf->have_ev)
        yaml_event_delete(&cf->ev);
    cf->have_ev = false;
    if(!yaml_parser_parse(&cf->parser, &cf->ev)) {
        yaml_mark_t m = cf->parser.problem_mark;
        if(cf->parser.error == YAML_MEMORY_ERROR)
            return vg_error_set(cf->err, VG_ENOMEM, "out of memory");
        if(m.line == 0 && m.column == 0 && cf->parser.context)
            m = cf->parser.context_mark;
        return cf_fail(cf, m, VG_EINVAL, "YAML syntax error: %s%s%s",
                       cf->parser.problem ? cf->parser.problem : "malformed",
                       cf->parser.context ? " " : "", cf->parser.context ? cf->parser.context : "");
    }
    cf->have_ev = true;
    if(cf->ev.type == YAML_ALIAS_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "YAML aliases (*name) are not supported");
    return VG_OK;
}

static const char *cf_scalar(const struct cf *cf)
{
    return (const char *)cf->ev.data.scalar.value;
}

static size_t cf_scalar_len(const struct cf *cf)
{
    return cf->ev.data.scalar.length;
}

/* A plain (unquoted) empty, "~" or "null" scalar is YAML's null. */
static bool cf_is_null(const struct cf *cf)
{
    const char *s = cf_scalar(cf);
    if(cf->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *cf_event_what(yaml_event_type_t t)
{
    switch(t) {
    case YAML_SEQUENCE_START_EVENT: return "a list";
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_SCALAR_EVENT: return "a single value";
    default: return "something else";
    }
}

static char *cf_strdup(const char *s, size_t len)
{
    char *d = vg_malloc(len + 1);
    if(d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static int cf_list_add(struct cf *cf, struct cf_list *l, const char *key, const char *val, size_t vlen,
                       yaml_mark_t m)
{
    vg_checkfile_opt *o;
    if(l->n == VG_CHECKFILE_MAX_OPTS)
        return cf_fail(cf, m, VG_EINVAL, "too many options (at most %u per check)", VG_CHECKFILE_MAX_OPTS);
    if(l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        vg_checkfile_opt *v = vg_realloc(l->v, cap * sizeof(*v));
        if(!v)
            return vg_error_set(cf->err, VG_ENOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    o = &l->v[l->n];
    o->key = cf_strdup(key, strlen(key));
    o->value = cf_strdup(val, vlen);
    o->line = (unsigned)m.line + 1;
    o->col = (unsigned)m.column + 1;
    if(!o->key || !o->value) {
        free(o->key);
        free(o->value);
        return vg_error_set(cf->err, VG_ENOMEM, "out of memory");
    }
    l->n++;
    return VG_OK;
}

static void cf_list_free(struct cf_list *l)
{
    for(size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static bool cf_list_has(const struct cf_list *l, const char *key)
{
    for(size_t i = 0; i < l->n; i++)
        if(!strcmp(l->v[i].key, key))
            return true;
    return false;
}

/* The current event must be a scalar value for key (not null, bounded). */
static int cf_want_value(struct cf *cf, const char *key, bool allow_list_msg)
{
    if(cf->ev.type != YAML_SCALAR_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "'%s' expects %s, not %s", key,
                       allow_list_msg ? "a value or a list of values" : "a single value",
                       cf_event_what(cf->ev.type));
    if(cf_is_null(cf))
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "'%s' needs a value", key);
    if(cf_scalar_len(cf) > VG_CHECKFILE_MAX_VALUE)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "the value of '%s' is too long (at most %u bytes)",
                       key, VG_CHECKFILE_MAX_VALUE);
    if(memchr(cf_scalar(cf), '\0', cf_scalar_len(cf)))
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "the value of '%s' holds a NUL byte", key);
    return VG_OK;
}

static int cf_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", NULL}, *const no[] = {"false", "no", "off", NULL};
    for(int i = 0; yes[i]; i++)
        if(!strcasecmp(s, yes[i])) {
            *out = true;
            return 0;
        }
    for(int i = 0; no[i]; i++)
        if(!strcasecmp(s, no[i])) {
            *out = false;
            return 0;
        }
    return -1;
}

/* Reads the value of option key (the key scalar has been consumed) into l. */
static int cf_option(struct cf *cf, struct cf_list *l, const char *key, yaml_mark_t key_mark)
{
    int kind = cf->key_kind ? cf->key_kind(key, cf->ud) : VG_CHECKFILE_VALUE;
    int rc;

    if(kind == VG_CHECKFILE_UNKNOWN)
        return cf_fail(cf, key_mark, VG_EINVAL, "unknown option '%s'", key);
    if(cf_list_has(l, key))
        return cf_fail(cf, key_mark, VG_EINVAL, "'%s' is given twice (use a list for repeatable options)", key);
    if((rc = cf_next(cf)))
        return rc;
    if(kind == VG_CHECKFILE_LIST && cf->ev.type == YAML_SEQUENCE_START_EVENT) {
        for(;;) {
            if((rc = cf_next(cf)))
                return rc;
            if(cf->ev.type == YAML_SEQUENCE_END_EVENT)
                return VG_OK;
            if((rc = cf_want_value(cf, key, true)))
                return rc;
            rc = cf_list_add(cf, l, key, cf_scalar(cf), cf_scalar_len(cf), cf->ev.start_mark);
            if(rc)
                return rc;
        }
    }
    if((rc = cf_want_value(cf, key, kind == VG_CHECKFILE_LIST)))
        return rc;
    if(kind == VG_CHECKFILE_FLAG) {
        bool b;
        if(cf_parse_bool(cf_scalar(cf), &b))
            return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "'%s' takes true or false, not '%.40s'", key,
                           cf_scalar(cf));
        return cf_list_add(cf, l, key, b ? "true" : "false", b ? 4 : 5, cf->ev.start_mark);
    }
    return cf_list_add(cf, l, key, cf_scalar(cf), cf_scalar_len(cf), cf->ev.start_mark);
}

/* The key scalar of a mapping; the current event is it. */
static int cf_key(struct cf *cf, char *key, size_t keylen)
{
    if(cf->ev.type != YAML_SCALAR_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "expected an option name, found %s",
                       cf_event_what(cf->ev.type));
    if(cf_scalar_len(cf) == 0 || cf_scalar_len(cf) >= keylen || memchr(cf_scalar(cf), '\0', cf_scalar_len(cf)))
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "bad option name");
    memcpy(key, cf_scalar(cf), cf_scalar_len(cf) + 1);
    return VG_OK;
}

static bool cf_printable(const char *s)
{
    for(; *s; s++)
        if((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int cf_add_check(struct cf *cf, vg_checkfile_entry *e)
{
    if(cf->f->n == VG_CHECKFILE_MAX_CHECKS)
        return cf_fail(cf, (yaml_mark_t){.line = e->line - 1, .column = e->col - 1}, VG_EINVAL,
                       "too many checks (at most %u)", VG_CHECKFILE_MAX_CHECKS);
    if(cf->f->n == cf->cap) {
        size_t cap = cf->cap ? cf->cap * 2 : 16;
        vg_checkfile_entry *v = vg_realloc(cf->f->checks, cap * sizeof(*v));
        if(!v)
            return vg_error_set(cf->err, VG_ENOMEM, "out of memory");
        cf->f->checks = v;
        cf->cap = cap;
    }
    cf->f->checks[cf->f->n++] = *e;
    return VG_OK;
}

/* One item of checks: (the current event is its MAPPING_START). */
static int cf_check(struct cf *cf)
{
    vg_checkfile_entry e;
    struct cf_list own = {0};
    char key[CF_MAX_KEY];
    yaml_mark_t start = cf->ev.start_mark;
    int rc;

    memset(&e, 0, sizeof(e));
    e.line = (unsigned)start.line + 1;
    e.col = (unsigned)start.column + 1;
    if(cf->ev.type != YAML_MAPPING_START_EVENT) {
        rc = cf_fail(cf, start, VG_EINVAL, "each item of 'checks' must be a mapping with a target, not %s",
                     cf_event_what(cf->ev.type));
        goto fail;
    }
    for(;;) {
        yaml_mark_t km;
        if((rc = cf_next(cf)))
            goto fail;
        if(cf->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if((rc = cf_key(cf, key, sizeof(key))))
            goto fail;
        km = cf->ev.start_mark;
        if(!strcmp(key, "name") || !strcmp(key, "target")) {
            bool is_name = key[0] == 'n';
            char **dst = is_name ? &e.name : &e.target;
            size_t max = is_name ? CF_MAX_NAME : CF_MAX_TARGET;
            if(*dst) {
                rc = cf_fail(cf, km, VG_EINVAL, "'%s' is given twice", key);
                goto fail;
            }
            if((rc = cf_next(cf)) || (rc = cf_want_value(cf, key, false)))
                goto fail;
            if(cf_scalar_len(cf) > max || !cf_printable(cf_scalar(cf))) {
                rc = cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "bad %s: %s", key,
                             cf_scalar_len(cf) > max ? "too long" : "control characters");
                goto fail;
            }
            if(!is_name && cf_scalar(cf)[0] == '-') {
                rc = cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "bad target '%.60s'", cf_scalar(cf));
                goto fail;
            }
            *dst = cf_strdup(cf_scalar(cf), cf_scalar_len(cf));
            if(!*dst) {
                rc = vg_error_set(cf->err, VG_ENOMEM, "out of memory");
                goto fail;
            }
            continue;
        }
        if((rc = cf_option(cf, &own, key, km)))
            goto fail;
    }
    if(!e.target) {
        if(e.name)
            rc = cf_fail(cf, start, VG_EINVAL, "check '%.60s' has no target", e.name);
        else
            rc = cf_fail(cf, start, VG_EINVAL, "check %zu has no target", cf->f->n + 1);
        goto fail;
    }
    if(!e.name && !(e.name = cf_strdup(e.target, strlen(e.target)))) {
        rc = vg_error_set(cf->err, VG_ENOMEM, "out of memory");
        goto fail;
    }
    /* Own options only for now: defaults may come later in the file. */
    e.opts = own.v;
    e.nopts = own.n;
    own.v = NULL;
    if((rc = cf_add_check(cf, &e))) {
        own.v = e.opts;
        goto fail;
    }
    return VG_OK;
fail:
    cf_list_free(&own);
    free(e.name);
    free(e.target);
    return rc;
}

static int cf_defaults(struct cf *cf)
{
    char key[CF_MAX_KEY];
    int rc;
    if(cf->ev.type != YAML_MAPPING_START_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "'defaults' must be a mapping of options, not %s",
                       cf_event_what(cf->ev.type));
    for(;;) {
        if((rc = cf_next(cf)))
            return rc;
        if(cf->ev.type == YAML_MAPPING_END_EVENT)
            return VG_OK;
        if((rc = cf_key(cf, key, sizeof(key))))
            return rc;
        if(!strcmp(key, "name") || !strcmp(key, "target"))
            return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "'%s' cannot be a default", key);
        if((rc = cf_option(cf, &cf->defaults, key, cf->ev.start_mark)))
            return rc;
    }
}

static int cf_checks(struct cf *cf)
{
    int rc;
    yaml_mark_t start = cf->ev.start_mark;
    if(cf->ev.type != YAML_SEQUENCE_START_EVENT)
        return cf_fail(cf, start, VG_EINVAL, "'checks' must be a list of checks, not %s",
                       cf_event_what(cf->ev.type));
    for(;;) {
        if((rc = cf_next(cf)))
            return rc;
        if(cf->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if((rc = cf_check(cf)))
            return rc;
    }
    if(cf->f->n == 0)
        return cf_fail(cf, start, VG_EINVAL, "'checks' is empty");
    return VG_OK;
}

/* Puts the defaults a check does not override in front of its own options. */
static int cf_merge(struct cf *cf)
{
    for(size_t i = 0; i < cf->f->n; i++) {
        vg_checkfile_entry *e = &cf->f->checks[i];
        struct cf_list own = {e->opts, e->nopts, e->nopts};
        struct cf_list merged = {0};
        int rc = VG_OK;
        for(size_t k = 0; k < cf->defaults.n && !rc; k++) {
            const vg_checkfile_opt *d = &cf->defaults.v[k];
            if(!cf_list_has(&own, d->key))
                rc = cf_list_add(cf, &merged, d->key, d->value, strlen(d->value),
                                 (yaml_mark_t){.line = d->line - 1, .column = d->col - 1});
        }
        if(!rc && merged.n == 0)
            continue;
        for(size_t k = 0; k < own.n && !rc; k++) {
            const vg_checkfile_opt *d = &own.v[k];
            rc = cf_list_add(cf, &merged, d->key, d->value, strlen(d->value),
                             (yaml_mark_t){.line = d->line - 1, .column = d->col - 1});
        }
        if(rc) {
            cf_list_free(&merged);
            return rc;
        }
        cf_list_free(&own);
        e->opts = merged.v;
        e->nopts = merged.n;
    }
    return VG_OK;
}

static int cf_cmp_name(const void *a, const void *b)
{
    const vg_checkfile_entry *x = *(const vg_checkfile_entry *const *)a;
    const vg_checkfile_entry *y = *(const vg_checkfile_entry *const *)b;
    int c = strcmp(x->name, y->name);
    if(c)
        return c;
    return x->line < y->line ? -1 : x->line > y->line ? 1 : (x->col > y->col) - (x->col < y->col);
}

static int cf_unique_names(struct cf *cf)
{
    const vg_checkfile_entry **v;
    int rc = VG_OK;
    if(cf->f->n < 2)
        return VG_OK;
    v = vg_malloc(cf->f->n * sizeof(*v));
    if(!v)
        return vg_error_set(cf->err, VG_ENOMEM, "out of memory");
    for(size_t i = 0; i < cf->f->n; i++)
        v[i] = &cf->f->checks[i];
    qsort(v, cf->f->n, sizeof(*v), cf_cmp_name);
    for(size_t i = 1; i < cf->f->n; i++)
        if(!strcmp(v[i]->name, v[i - 1]->name)) {
            rc = cf_fail(cf, (yaml_mark_t){.line = v[i]->line - 1, .column = v[i]->col - 1}, VG_EINVAL,
                         "duplicate check name '%.60s' (first at line %u)", v[i]->name, v[i - 1]->line);
            break;
        }
    free(v);
    return rc;
}

static int cf_document(struct cf *cf)
{
    char key[CF_MAX_KEY];
    int rc;

    if((rc = cf_next(cf)))
        return rc;
    if(cf->ev.type != YAML_STREAM_START_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "not a YAML stream");
    if((rc = cf_next(cf)))
        return rc;
    if(cf->ev.type == YAML_STREAM_END_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "the file is empty: expected a 'checks:' list");
    if((rc = cf_next(cf)))
        return rc;
    if(cf->ev.type == YAML_SCALAR_EVENT && cf_is_null(cf))
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "the file is empty: expected a 'checks:' list");
    if(cf->ev.type != YAML_MAPPING_START_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL,
                       "expected a mapping with 'checks:' (and 'defaults:') at the top, not %s",
                       cf_event_what(cf->ev.type));
    for(;;) {
        yaml_mark_t km;
        if((rc = cf_next(cf)))
            return rc;
        if(cf->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if((rc = cf_key(cf, key, sizeof(key))))
            return rc;
        km = cf->ev.start_mark;
        if(!strcmp(key, "checks") || !strcmp(key, "defaults")) {
            bool *seen = key[0] == 'c' ? &cf->seen_checks : &cf->seen_defaults;
            if(*seen)
                return cf_fail(cf, km, VG_EINVAL, "'%s' is given twice", key);
            *seen = true;
            if((rc = cf_next(cf)))
                return rc;
            rc = key[0] == 'c' ? cf_checks(cf) : cf_defaults(cf);
            if(rc)
                return rc;
            continue;
        }
        return cf_fail(cf, km, VG_EINVAL, "unknown top-level key '%s' (expected checks or defaults)", key);
    }
    if(!cf->seen_checks)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "no 'checks:' list in the file");
    if((rc = cf_next(cf)))
        return rc;
    if((rc = cf_next(cf)))
        return rc;
    if(cf->ev.type != YAML_STREAM_END_EVENT)
        return cf_fail(cf, cf->ev.start_mark, VG_EINVAL, "only one YAML document is allowed");
    if((rc = cf_merge(cf)))
        return rc;
    return cf_unique_names(cf);
}

int vg_checkfile_parse(vg_checkfile **out, const void *buf, size_t len, vg_checkfile_key_fn key_kind,
                       void *ud, vg_error *err)
{
    struct cf cf;
    int rc;

    *out = NULL;
    if(len > VG_CHECKFILE_MAX_BYTES)
        return vg_error_set(err, VG_EINVAL, "1:1: the file is too big (at most %u MiB)",
                            VG_CHECKFILE_MAX_BYTES >> 20);
    memset(&cf, 0, sizeof(cf));
    cf.key_kind = key_kind;
    cf.ud = ud;
    cf.err = err;
    cf.f = vg_calloc(1, sizeof(*cf.f));
    if(!cf.f)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    if(!yaml_parser_initialize(&cf.parser)) {
        free(cf.f);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_string(&cf.parser, (const unsigned char *)buf, len);
    rc = cf_document(&cf);
    if(cf.have_ev)
        yaml_event_delete(&cf.ev);
    yaml_parser_delete(&cf.parser);
    cf_list_free(&cf.defaults);
    if(rc) {
        vg_checkfile_free(cf.f);
        return rc;
    }
    *out = cf.f;
    return VG_OK;
}

void vg_checkfile_free(vg_checkfile *f)
{
    if(!f)
        return;
    for(size_t i = 0; i < f->n; i++) {
        vg_checkfile_entry *e = &f->checks[i];
        for(size_t k = 0; k < e->nopts; k++) {
            free(e->opts[k].key);
            free(e->opts[k].value);
        }
        free(e->opts);
        free(e->name);
        free(e->target);
    }
    free(f->checks);
    free(f);
}
