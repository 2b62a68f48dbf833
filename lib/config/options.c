/* SPDX-License-Identifier: MIT */
/* The option-table engine: reads one value per row type (numbers,
 * durations, sizes, enums, lists) into the row's field, and writes the rows
 * as --help text and as man page source. Tables themselves live with what
 * they configure (lib/check/options.c, src/scan_opts.c, src/cmd_check.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "vigia/options.h"

void *vg_optstore_keep(vg_optstore *st, void *p)
{
    if(!p)
        return NULL;
    if(st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        void **v = vg_realloc(st->own, cap * sizeof(*v));
        if(!v) {
            free(p);
            return NULL;
        }
        st->own = v;
        st->cap = cap;
    }
    st->own[st->n++] = p;
    return p;
}

void vg_optstore_free(vg_optstore *st)
{
    for(size_t i = 0; i < st->n; i++)
        free(st->own[i]);
    free(st->own);
    memset(st, 0, sizeof(*st));
}

bool vg_opt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if(!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if(errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool vg_opt_parse_double(const char *s, double *out)
{
    char *end;
    double v;
    if(!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    v = strtod(s, &end);
    if(errno || *end || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

bool vg_opt_parse_duration_ms(const char *s, uint64_t *ms)
{
    char *end;
    double v, mult;

    if(!s || !*s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return false;
    errno = 0;
    v = strtod(s, &end);
    if(errno || !isfinite(v) || v < 0 || end == s)
        return false;
    if(!strcmp(end, "") || !strcmp(end, "s"))
        mult = 1000.0;
    else if(!strcmp(end, "ms"))
        mult = 1.0;
    else if(!strcmp(end, "us"))
        mult = 0.001;
    else if(!strcmp(end, "m"))
        mult = 60000.0;
    else if(!strcmp(end, "h"))
        mult = 3600000.0;
    else
        return false;
    v *= mult;
    if(v > 1e12)
        return false;
    *ms = (uint64_t)llround(v);
    return true;
}

/* "1M", "64K", "1000": bytes, 1 to max. */
bool vg_opt_parse_size(const char *s, uint64_t max, size_t *out)
{
    char *end;
    unsigned long long v, mult = 1;
    if(!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if(errno)
        return false;
    if(!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
        mult = 1024;
    else if(!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
        mult = 1024 * 1024;
    else if(*end)
        return false;
    if(v == 0 || v > max / mult)
        return false;
    *out = (size_t)(v * mult);
    return true;
}

const char *vg_opt_display(const vg_opt *o, char *buf, size_t len)
{
    if(o->name)
        snprintf(buf, len, "--%s", o->name);
    else
        snprintf(buf, len, "-%c", o->letter);
    return buf;
}

bool vg_opt_has_arg(const vg_opt *o)
{
    switch(o->type) {
    case VG_OPT_NOTE: case VG_OPT_FLAG: case VG_OPT_INCR: case VG_OPT_CONST:
        return false;
    case VG_OPT_CALLBACK:
        return !(o->flags & VG_OPTF_NOARG);
    default:
        return true;
    }
}

const vg_opt *vg_opt_find(const vg_opt *rows, size_t n, const char *name)
{
    for(size_t i = 0; i < n; i++)
        if((rows[i].name && !strcmp(rows[i].name, name)) || (rows[i].alias && !strcmp(rows[i].alias, name)))
            return &rows[i];
    return NULL;
}

static int bad_value(const vg_opt *o, const char *arg, vg_error *err)
{
    char name[64];
    return vg_error_set(err, VG_EINVAL, "%s '%s': %s", vg_opt_display(o, name, sizeof(name)), arg,
                        o->expect ? o->expect : "bad value");
}

static void store_uint(void *field, size_t size, uint64_t v)
{
    switch(size) {
    case 1: *(uint8_t *)field = (uint8_t)v; break;
    case 2: *(uint16_t *)field = (uint16_t)v; break;
    case 4: *(uint32_t *)field = (uint32_t)v; break;
    default: *(uint64_t *)field = v; break;
    }
}

int vg_opt_list_add(const vg_opt *o, void *base, const char *item, vg_optstore *st, vg_error *err)
{
    const char ***field = (const char ***)((char *)base + o->offset);
    const char **old = *field, **list;
    size_t n = 0;
    char name[64];
    while(old && old[n])
        n++;
    if(n >= o->max)
        return vg_error_set(err, VG_EINVAL, "%s: at most %u", vg_opt_display(o, name, sizeof(name)),
                            (unsigned)o->max);
    list = vg_optstore_keep(st, vg_malloc((n + 2) * sizeof(*list)));
    if(!list)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    if(n)
        memcpy(list, old, n * sizeof(*list));
    list[n] = item;
    list[n + 1] = NULL;
    *field = list;
    return VG_OK;
}

static int apply_list(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    char *dup, *save = NULL;
    int rc = VG_OK;
    if(!(o->flags & VG_OPTF_SPLIT))
        return vg_opt_list_add(o, base, arg, st, err);
    dup = vg_optstore_keep(st, vg_strdup(arg));
    if(!dup)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    for(char *tok = strtok_r(dup, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
        rc = vg_opt_list_add(o, base, tok, st, err);
    return rc;
}

int vg_opt_apply(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    void *field = (char *)base + o->offset;
    uint64_t v;
    double d;
    size_t sz;
    int rc;

    if(o->parse && (o->type == VG_OPT_CALLBACK || o->type == VG_OPT_STRING || o->type == VG_OPT_LIST)) {
        rc = o->parse(o, base, arg, st, err);
        if(rc || o->type == VG_OPT_CALLBACK)
            return rc;
    }
    if(!o->size && o->type != VG_OPT_LIST)
        return VG_OK; /* a row that fills nothing (--help) */
    switch(o->type) {
    case VG_OPT_NOTE:
    case VG_OPT_CALLBACK:
        return VG_OK;
    case VG_OPT_FLAG:
        *(bool *)field = true;
        return VG_OK;
    case VG_OPT_INCR:
        (*(int *)field)++;
        return VG_OK;
    case VG_OPT_CONST:
        *(int *)field = (int)o->min;
        return VG_OK;
    case VG_OPT_STRING:
        *(const char **)field = arg;
        return VG_OK;
    case VG_OPT_UINT:
        if(!vg_opt_parse_u64(arg, o->min, o->max, &v))
            return bad_value(o, arg, err);
        store_uint(field, o->size, v);
        return VG_OK;
    case VG_OPT_DOUBLE:
        if(!vg_opt_parse_double(arg, &d) || d < o->dmin || d > o->dmax)
            return bad_value(o, arg, err);
        *(double *)field = d;
        return VG_OK;
    case VG_OPT_DURATION:
        if(!vg_opt_parse_duration_ms(arg, &v) || v < o->min || v > o->max)
            return bad_value(o, arg, err);
        store_uint(field, o->size, (o->flags & VG_OPTF_US) ? v * 1000 : v);
        return VG_OK;
    case VG_OPT_SIZE:
        if(!vg_opt_parse_size(arg, o->max, &sz))
            return bad_value(o, arg, err);
        *(size_t *)field = sz;
        return VG_OK;
    case VG_OPT_ENUM:
        for(int i = 0; o->names[i]; i++)
            if(!strcasecmp(arg, o->names[i])) {
                *(int *)field = i;
                return VG_OK;
            }
        return bad_value(o, arg, err);
    case VG_OPT_LIST:
        return apply_list(o, base, arg, st, err);
    }
    return bad_value(o, arg, err);
}

/* "  -X, --method M" / "  --data-file FILE" / "  -T N". */
static int left_column(const vg_opt *o, char *buf, size_t len)
{
    int n;
    if(o->letter && o->name)
        n = snprintf(buf, len, "  -%c, --%s", o->letter, o->name);
    else if(o->name)
        n = snprintf(buf, len, "  --%s", o->name);
    else
        n = snprintf(buf, len, "  -%c", o->letter);
    if(o->arg && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " %s", o->arg);
    return n;
}

void vg_opt_write_help(FILE *fp, const vg_opt *rows, size_t n, int width)
{
    for(size_t i = 0; i < n; i++) {
        const vg_opt *o = &rows[i];
        const char *h = o->help, *nl;
        char left[128];
        int col;
        if(!h)
            continue;
        if(o->type == VG_OPT_NOTE) {
            fprintf(fp, "%s\n", h);
            continue;
        }
        col = left_column(o, left, sizeof(left));
        fputs(left, fp);
        if(col >= width - 1) {
            fputc('\n', fp);
            col = 0;
        }
        for(;;) {
            nl = strchr(h, '\n');
            fprintf(fp, "%*s%.*s\n", width - col, "", nl ? (int)(nl - h) : (int)strlen(h), h);
            if(!nl)
                break;
            h = nl + 1;
            col = 0;
        }
    }
}

/* roff text: '-' and '\' escaped, a leading '.' or '\'' made literal. */
static void man_text(FILE *fp, const char *s, size_t len, bool bol)
{
    for(size_t i = 0; i < len; i++) {
        char ch = s[i];
        if(bol && (ch == '.' || ch == '\''))
            fputs("\\&", fp);
        bol = ch == '\n';
        if(ch == '-')
            fputs("\\-", fp);
        else if(ch == '\\')
            fputs("\\e", fp);
        else
            fputc(ch, fp);
    }
}

/* ".TP" and "\fB\-X\fR, \fB\-\-name\fR \fIARG\fR". */
static void man_name(FILE *fp, const vg_opt *o)
{
    fputs(".TP\n", fp);
    if(o->letter)
        fprintf(fp, "\\fB\\-%c\\fR%s", o->letter, o->name ? ", " : "");
    if(o->name) {
        fputs("\\fB\\-\\-", fp);
        man_text(fp, o->name, strlen(o->name), false);
        fputs("\\fR", fp);
    }
    if(o->arg) {
        fputs(" \\fI", fp);
        man_text(fp, o->arg, strlen(o->arg), false);
        fputs("\\fR", fp);
    }
    fputc('\n', fp);
}

void vg_opt_write_man(FILE *fp, const vg_opt *rows, size_t n)
{
    for(size_t i = 0; i < n; i++) {
        const vg_opt *o = &rows[i];
        const char *h = o->help;
        if(!h)
            continue;
        while(*h == '\n' || *h == ' ')
            h++;
        if(o->type == VG_OPT_NOTE) {
            size_t len = strlen(h);
            if(len && h[len - 1] == ':') /* a heading */
                len--;
            fputs(".PP\n", fp);
            man_text(fp, h, len, true);
            fputc('\n', fp);
            continue;
        }
        man_name(fp, o);
        /* The help's lines are one paragraph in the man page. */
        for(const char *p = h; *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            while(len && *p == ' ') {
                p++;
                len--;
            }
            man_text(fp, p, len, true);
            fputc('\n', fp);
            p += len + (nl ? 1 : 0);
        }
    }
}
