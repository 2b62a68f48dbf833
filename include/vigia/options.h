/* SPDX-License-Identifier: MIT */
/* Option tables: each option of `vigia scan` and `vigia check` is one row
 * (long name, letter, type, range, the field it fills, help text), and
 * everything that reads options reads the rows: the CLI's getopt arrays,
 * --help, the checks file's keys and the man page's option list. The table
 * of check options lives here so that a program can load a checks file
 * through this header alone (vg_check_list_load). */
#ifndef VIGIA_OPTIONS_H
#define VIGIA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vigia/check.h"
#include "vigia/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a row's value is read and stored. */
typedef enum vg_opt_type {
    VG_OPT_NOTE = 0,  /* no option: a heading or note of the help text */
    VG_OPT_FLAG,      /* no value: true into a bool */
    VG_OPT_INCR,      /* no value: +1 to an int (-v -v) */
    VG_OPT_CONST,     /* no value: min into an int (-4: AF_INET) */
    VG_OPT_STRING,    /* const char *, borrowed from the argument */
    VG_OPT_UINT,      /* whole number in [min, max], field of size 1, 2, 4 or 8 */
    VG_OPT_DOUBLE,    /* decimal number in [dmin, dmax] into a double */
    VG_OPT_DURATION,  /* "500ms", "2s", "1m" (bare: seconds) in [min, max] ms;
                       * stored in ms, or µs with VG_OPTF_US, in size bytes */
    VG_OPT_SIZE,      /* "64K", "1M", "1000": bytes in [1, max] into a size_t */
    VG_OPT_ENUM,      /* one of names (any case): its index into an int */
    VG_OPT_LIST,      /* repeatable: appended to a NULL-terminated const char **
                       * (at most max items); VG_OPTF_SPLIT: commas separate items */
    VG_OPT_CALLBACK,  /* parse does all of it */
} vg_opt_type;

/* Row flags. */
enum {
    VG_OPTF_FILE = 1u << 0,   /* a per-check option: also a key of checks files */
    VG_OPTF_SPLIT = 1u << 1,  /* LIST: "a,b" is two items */
    VG_OPTF_US = 1u << 2,     /* DURATION: stored in microseconds */
    VG_OPTF_STOP = 1u << 3,   /* the CLI stops parsing after it (--help) */
    VG_OPTF_REPEAT = 1u << 4, /* CALLBACK: may be given many times (a list key in files) */
    VG_OPTF_NOARG = 1u << 5,  /* CALLBACK: takes no value */
};

/* Check kinds a row means something for: --help and the man page say so,
 * and a check of another kind that is given the option fails to be added
 * when the row has a wrong_kind message (or the kind its own message for
 * the row); otherwise the option is ignored there. */
enum {
    VG_KIND_TCP = 1u << 0, VG_KIND_HTTP = 1u << 1, VG_KIND_TLS = 1u << 2, VG_KIND_SSH = 1u << 3,
    VG_KIND_DNS = 1u << 4, VG_KIND_MYSQL = 1u << 5, VG_KIND_ICMP = 1u << 6, VG_KIND_UDP = 1u << 7,
    VG_KIND_STARTTLS = 1u << 8,
    VG_KIND_ALL = 0x1ffu,
};

/* Allocations the parsed options point into (strings, lists, file
 * contents); freed together with vg_optstore_free(). Zero-initialise. */
typedef struct vg_optstore {
    void **own;
    size_t n, cap;
} vg_optstore;

/* Keeps p (malloc'ed) until vg_optstore_free; returns p, or NULL (and frees
 * p) when out of memory. */
void *vg_optstore_keep(vg_optstore *st, void *p);
void vg_optstore_free(vg_optstore *st);

struct vg_opt;
/* A row's own parser (VG_OPT_CALLBACK), or a check of the argument before
 * the generic store (STRING, LIST: return VG_OK to accept). base is the
 * struct the table fills. Returns VG_OK, a negative vg_rc with a message in
 * err, or a positive status of the caller's own (the CLI's exit code, when
 * the callback has reported the problem itself), passed through unchanged. */
typedef int (*vg_opt_parse_fn)(const struct vg_opt *o, void *base, const char *arg, vg_optstore *st,
                               vg_error *err);

typedef struct vg_opt {
    const char *name;           /* long name without "--"; NULL: letter only */
    const char *alias;          /* a second long name, or NULL (hidden in help) */
    int letter;                 /* short option, or 0 */
    vg_opt_type type;
    unsigned flags;             /* VG_OPTF_* */
    unsigned kinds;             /* VG_KIND_* for check options; 0: not kind-specific */
    const char *wrong_kind;     /* check options: the error when given to a check of a
                                   kind outside kinds; NULL: ignored there */
    size_t offset, size;        /* the field filled, in the table's struct */
    uint64_t min, max;          /* UINT, DURATION (ms), SIZE (bytes), LIST (items), CONST */
    double dmin, dmax;          /* DOUBLE */
    const char *const *names;   /* ENUM: NULL-terminated */
    vg_opt_parse_fn parse;      /* CALLBACK; STRING/LIST: optional check */
    const char *arg;            /* the value's name in help ("N", "FILE"); NULL: no value */
    const char *help;           /* help text ("\n" between lines); NULL: not listed */
    const char *expect;         /* error text after "--NAME 'VALUE': " */
} vg_opt;

#define VG_OPT_FIELD(type, field) .offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

/* "--name" (or "-L" for a letter-only row), in buf. */
const char *vg_opt_display(const vg_opt *o, char *buf, size_t len);

/* True when the row takes a value. */
bool vg_opt_has_arg(const vg_opt *o);

/* Parses arg (NULL for a row without a value) and stores it into base.
 * Errors are VG_EINVAL with "--NAME 'VALUE': EXPECT" in err. */
int vg_opt_apply(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err);

/* Appends item to the NULL-terminated list in the row's field (at most
 * o->max items; the list is reallocated in st). */
int vg_opt_list_add(const vg_opt *o, void *base, const char *item, vg_optstore *st, vg_error *err);

/* The row whose long name (or alias) is name, or NULL. */
const vg_opt *vg_opt_find(const vg_opt *rows, size_t n, const char *name);

/* The generic value readers the rows use. */
bool vg_opt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
bool vg_opt_parse_double(const char *s, double *out);
bool vg_opt_parse_duration_ms(const char *s, uint64_t *ms);
bool vg_opt_parse_size(const char *s, uint64_t max, size_t *out);

/* --help lines of the rows: "  -X, --method M" padded to width, then the
 * help text; NOTE rows verbatim. */
void vg_opt_write_help(FILE *fp, const vg_opt *rows, size_t n, int width);

/* The same as man page source (roff: .TP per option, .PP per note). */
void vg_opt_write_man(FILE *fp, const vg_opt *rows, size_t n);

/* --- check options ----------------------------------------------------- */

/* The per-check options of `vigia check` (every row VG_OPTF_FILE), filling
 * a vg_check_opts. */
const vg_opt *vg_check_options(size_t *n);

/* One option given by name, as a checks file or a command line gives it. */
typedef struct vg_opt_arg {
    const vg_opt *opt;          /* a row of vg_check_options() */
    const char *value;          /* NULL for options without a value */
} vg_opt_arg;

/* One check of a loaded checks file. */
typedef struct vg_check_item {
    char *name;                 /* the target when the file gives none */
    char *target;
    unsigned line, col;         /* of its mapping in the file */
    vg_check_opts opts;         /* points into the list's store */
} vg_check_item;

typedef struct vg_check_list {
    vg_check_item *items;
    size_t n;
    vg_optstore store;
} vg_check_list;

/* Loads a checks file held in buf (len bytes): its keys are the rows of
 * vg_check_options(). Each check starts from vg_check_opts_default(), gets
 * the file's defaults and its own keys, then extra[] (options of the
 * caller's that win over the file; list options add to it), and is
 * validated as vg_checker_add() would. On error returns VG_EINVAL (or
 * VG_ENOMEM) with "LINE:COLUMN: what is wrong" in err and *out = NULL. */
int vg_check_list_load(vg_check_list **out, const void *buf, size_t len, const vg_opt_arg *extra,
                       size_t nextra, vg_error *err);
void vg_check_list_free(vg_check_list *l);

#ifdef __cplusplus
}
#endif
#endif
