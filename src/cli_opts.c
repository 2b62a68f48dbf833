/* SPDX-License-Identifier: MIT */
/* getopt_long over option tables: the long and short option arrays are
 * built from the rows (a row's letter is its getopt value, else 256 plus
 * its index), each option found is handed to vg_opt_apply() with the
 * struct its table fills. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opts.h"

void cli_opts_add(struct cli_opts *p, const vg_opt *rows, size_t n, void *base)
{
    if(p->ntab < CLI_MAX_TABLES)
        p->tab[p->ntab++] = (struct cli_table){rows, n, base};
}

/* Row number i over all tables. */
static const vg_opt *row_at(const struct cli_opts *p, size_t i, void **base)
{
    for(int t = 0; t < p->ntab; t++) {
        if(i < p->tab[t].n) {
            *base = p->tab[t].base;
            return &p->tab[t].rows[i];
        }
        i -= p->tab[t].n;
    }
    return NULL;
}

static const vg_opt *row_by_letter(const struct cli_opts *p, int letter, void **base)
{
    for(int t = 0; t < p->ntab; t++)
        for(size_t i = 0; i < p->tab[t].n; i++)
            if(p->tab[t].rows[i].letter == letter && p->tab[t].rows[i].type != VG_OPT_NOTE) {
                *base = p->tab[t].base;
                return &p->tab[t].rows[i];
            }
    return NULL;
}

static size_t total_rows(const struct cli_opts *p)
{
    size_t n = 0;
    for(int t = 0; t < p->ntab; t++)
        n += p->tab[t].n;
    return n;
}

/* The getopt arrays; *longs and *shorts are malloc'ed. */
static int build(const struct cli_opts *p, struct option **longs, char **shorts)
{
    size_t n = total_rows(p), nl = 0, ns = 0;
    struct option *lo = calloc(2 * n + 1, sizeof(*lo));
    char *so = malloc(3 * n + 2);
    void *base;
    if(!lo || !so) {
        free(lo);
        free(so);
        return VG_ENOMEM;
    }
    so[ns++] = ':';
    for(size_t i = 0; i < n; i++) {
        const vg_opt *o = row_at(p, i, &base);
        int has = vg_opt_has_arg(o) ? required_argument : no_argument;
        int val = o->letter ? o->letter : 256 + (int)i;
        if(o->type == VG_OPT_NOTE)
            continue;
        if(o->name)
            lo[nl++] = (struct option){o->name, has, NULL, val};
        if(o->alias)
            lo[nl++] = (struct option){o->alias, has, NULL, val};
        if(o->letter) {
            so[ns++] = (char)o->letter;
            if(has == required_argument)
                so[ns++] = ':';
        }
    }
    so[ns] = '\0';
    *longs = lo;
    *shorts = so;
    return VG_OK;
}

int cli_opts_parse(struct cli_opts *p, int argc, char **argv, vg_error *err)
{
    struct option *longs = NULL;
    char *shorts = NULL;
    int opt, rc = VG_OK;

    if(build(p, &longs, &shorts) || !(p->seen = calloc((size_t)argc + 1, sizeof(*p->seen)))) {
        free(longs);
        free(shorts);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    p->nseen = 0;
    optind = 0; /* a full reset of getopt's state */
    opterr = 0;
    while((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const vg_opt *o = NULL;
        void *base = NULL;
        if(opt == ':') {
            rc = vg_error_set(err, VG_EINVAL, "option '%s' needs a value", argv[optind - 1]);
            break;
        }
        if(opt >= 256)
            o = row_at(p, (size_t)(opt - 256), &base);
        else if(opt != '?')
            o = row_by_letter(p, opt, &base);
        if(!o) {
            rc = vg_error_set(err, VG_EINVAL, "unknown option '%s'", argv[optind - 1]);
            break;
        }
        p->seen[p->nseen++] = (struct cli_seen){o, vg_opt_has_arg(o) ? optarg : NULL};
        rc = vg_opt_apply(o, base, vg_opt_has_arg(o) ? optarg : NULL, &p->store, err);
        if(rc)
            break;
        if(o->flags & VG_OPTF_STOP) {
            p->stopped = true;
            break;
        }
    }
    p->first_operand = optind;
    free(longs);
    free(shorts);
    return rc;
}

bool cli_opts_given(const struct cli_opts *p, const char *name)
{
    for(size_t i = 0; i < p->nseen; i++)
        if(p->seen[i].opt->name && !strcmp(p->seen[i].opt->name, name))
            return true;
    return false;
}

void cli_opts_help(FILE *fp, const struct cli_opts *p, int width)
{
    for(int t = 0; t < p->ntab; t++)
        vg_opt_write_help(fp, p->tab[t].rows, p->tab[t].n, width);
}

void cli_opts_free(struct cli_opts *p)
{
    vg_optstore_free(&p->store);
    free(p->seen);
    p->seen = NULL;
    p->nseen = 0;
}
