/* SPDX-License-Identifier: MIT */
/* Target specifications parsed into address ranges, then resolved, merged,
 * reduced by the excludes and indexed by prefix sums, so that the index-th
 * target is found by binary search without ever listing the addresses. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/target.h"
#include "targetspec/resolve.h"
#include "util/alloc.h"

typedef unsigned __int128 u128;

#define U128_MAX (~(u128)0)
#define V4_MAX ((u128)UINT32_MAX)

/* A closed interval [lo, hi] of one family (IPv4 as 32-bit values) and one
 * interface scope (0 unless an IPv6 address carried "%if"). */
struct range {
    u128 lo;
    u128 hi;
    uint32_t scope;
    uint8_t family;
};

/* One spec as given, kept until finalize. A host name has family 0 and is
 * resolved by finalize; a literal has its range already. */
struct tspec {
    char *spec;     /* the text as given; also the host name */
    char *where;    /* its origin for messages, or NULL */
    bool exclude;
    bool is_name;
    struct range r; /* literals only */
};

/* A resolved address and the name the user wrote for it. */
struct name_entry {
    vg_addr addr;
    const char *name; /* points into a tspec's spec */
    size_t order;     /* the spec's position: the first name given wins */
};

struct vg_targets {
    struct tspec *specs;
    size_t nspecs;
    size_t cap;
    bool finalized;

    /* After finalize: disjoint ranges in index order, and starts[i] = number
     * of addresses in ranges before i. */
    struct range *ranges;
    uint64_t *starts;
    size_t nranges;
    uint64_t count;

    struct name_entry *names; /* sorted by vg_addr_cmp, one per address */
    size_t nnames;
    uint64_t special_skipped;

    /* hosts_only: the specs (indexes) whose names only DNS could answer */
    size_t *unresolved;
    size_t nunresolved;
};

/* A growable array of ranges used while finalizing. */
struct rvec {
    struct range *v;
    size_t n;
    size_t cap;
};

static int rvec_push(struct rvec *rv, const struct range *r)
{
    if(rv->n == rv->cap) {
        size_t cap = rv->cap ? rv->cap * 2 : 16;
        struct range *v = vg_realloc(rv->v, cap * sizeof(*v));
        if(!v)
            return VG_ENOMEM;
        rv->v = v;
        rv->cap = cap;
    }
    rv->v[rv->n++] = *r;
    return VG_OK;
}

/* Copies s (at most len bytes) for quoting in a message: non-printable bytes
 * become '?' so that a hostile file cannot drive the terminal, and long text
 * is cut with "...". */
static void safe_copy(char *dst, size_t dstlen, const char *s, size_t len)
{
    size_t i, j = 0;
    bool cut = false;

    for(i = 0; i < len && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if(j + 4 >= dstlen) {
            cut = true;
            break;
        }
        dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if(cut)
        for(i = 0; i < 3; i++)
            dst[j++] = '.';
    dst[j] = '\0';
}

/* Fills err with "WHERE: 'SPEC': DETAIL" and returns code. */
static int spec_error(vg_error *err, int code, const char *where, const char *spec,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int spec_error(vg_error *err, int code, const char *where, const char *spec,
                      const char *fmt, ...)
{
    char detail[256];
    char qspec[128];
    char qwhere[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    safe_copy(qspec, sizeof(qspec), spec, strlen(spec));
    if(where) {
        safe_copy(qwhere, sizeof(qwhere), where, strlen(where));
        return vg_error_set(err, code, "%s: '%s': %s", qwhere, qspec, detail);
    }
    return vg_error_set(err, code, "'%s': %s", qspec, detail);
}

/* Describes the character at s for a message: 'x', or \xNN when unprintable. */
static const char *char_desc(char c, char *buf, size_t len)
{
    unsigned char u = (unsigned char)c;
    if(u >= 0x20 && u < 0x7f && u != '\'')
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "\\x%02x", u);
    return buf;
}

/* Parses exactly four decimal octets (0-255, no leading zeros) from
 * s[0..len). On failure writes the reason to why; pos is s's 1-based column
 * in the whole spec, for messages. */
static bool parse_ipv4(const char *s, size_t len, size_t pos, uint32_t *out,
                       char *why, size_t whylen)
{
    char text[INET_ADDRSTRLEN];
    struct in_addr in;
    size_t i = 0, octets = 0;
    char cd[8];

    if(!len) {
        snprintf(why, whylen, "missing IPv4 address at position %zu", pos);
        return false;
    }
    while(i <= len) {
        size_t start = i;
        unsigned long v = 0;
        while(i < len && s[i] >= '0' && s[i] <= '9') {
            if(v < 100000)
                v = v * 10 + (unsigned long)(s[i] - '0');
            i++;
        }
        if(i < len && s[i] != '.') {
            snprintf(why, whylen, "unexpected character %s at position %zu",
                     char_desc(s[i], cd, sizeof(cd)), pos + i);
            return false;
        }
        octets++;
        if(i == start) {
            snprintf(why, whylen, "empty octet %zu at position %zu", octets, pos + i);
            return false;
        }
        if(octets > 4) {
            snprintf(why, whylen, "expected 4 octets, found more");
            return false;
        }
        if(v > 255) {
            snprintf(why, whylen, "octet %.*s out of range 0-255",
                     (int)(i - start > 12 ? 12 : i - start), s + start);
            return false;
        }
        if(i - start > 1 && s[start] == '0') {
            snprintf(why, whylen, "octet '%.*s' has a leading zero", (int)(i - start),
                     s + start);
            return false;
        }
        i++; /* past the dot, or past the end */
    }
    if(octets != 4) {
        snprintf(why, whylen, "expected 4 octets, found %zu", octets);
        return false;
    }
    /* Validated above; inet_pton does the conversion. */
    memcpy(text, s, len);
    text[len] = '\0';
    if(inet_pton(AF_INET, text, &in) != 1) {
        snprintf(why, whylen, "not a valid IPv4 address");
        return false;
    }
    *out = ntohl(in.s_addr);
    return true;
}

/* Parses an interface scope ("eth0" or a number) after '%'. */
static bool parse_scope(const char *s, size_t len, uint32_t *scope, char *why,
                        size_t whylen)
{
    char name[IF_NAMESIZE];
    size_t i;
    bool numeric = len > 0;

    if(!len) {
        snprintf(why, whylen, "missing interface name after '%%'");
        return false;
    }
    if(len >= IF_NAMESIZE) {
        snprintf(why, whylen, "interface name '%.*s' too long", (int)len, s);
        return false;
    }
    memcpy(name, s, len);
    name[len] = '\0';
    for(i = 0; i < len; i++)
        if(s[i] < '0' || s[i] > '9')
            numeric = false;
    if(numeric) {
        unsigned long v = strtoul(name, NULL, 10);
        if(v == 0 || v > UINT32_MAX) {
            snprintf(why, whylen, "interface index %s out of range", name);
            return false;
        }
        *scope = (uint32_t)v;
        return true;
    }
    *scope = if_nametoindex(name);
    if(!*scope) {
        char safe[IF_NAMESIZE + 4];
        safe_copy(safe, sizeof(safe), name, len);
        snprintf(why, whylen, "unknown interface '%s'", safe);
        return false;
    }
    return true;
}

/* Parses one IPv6 address with an optional "%scope" from s[0..len). */
static bool parse_ipv6(const char *s, size_t len, size_t pos, u128 *out,
                       uint32_t *scope, char *why, size_t whylen)
{
    char text[INET6_ADDRSTRLEN];
    struct in6_addr in6;
    const char *pct = memchr(s, '%', len);
    size_t alen = pct ? (size_t)(pct - s) : len;
    size_t i, digits = 0, dcolons = 0;
    bool dotted = false;
    char cd[8];

    *scope = 0;
    if(!alen) {
        snprintf(why, whylen, "missing IPv6 address at position %zu", pos);
        return false;
    }
    for(i = 0; i < alen; i++) {
        char c = s[i];
        if(isxdigit((unsigned char)c)) {
            if(++digits > 4 && !dotted) {
                snprintf(why, whylen, "IPv6 group at position %zu has more than"
                         " 4 hex digits", pos + i - 4);
                return false;
            }
        }
        else if(c == ':') {
            if(dotted) {
                snprintf(why, whylen, "unexpected ':' at position %zu", pos + i);
                return false;
            }
            digits = 0;
            if(i + 1 < alen && s[i + 1] == ':') {
                if(++dcolons > 1) {
                    snprintf(why, whylen, "'::' appears more than once");
                    return false;
                }
                if(i + 2 < alen && s[i + 2] == ':') {
                    snprintf(why, whylen, "':::' at position %zu", pos + i);
                    return false;
                }
            }
        }
        else if(c == '.')
            dotted = true; /* an embedded IPv4 tail, ::ffff:198.18.0.1 */
        else {
            snprintf(why, whylen, "unexpected character %s at position %zu",
                     char_desc(c, cd, sizeof(cd)), pos + i);
            return false;
        }
    }
    if(alen >= sizeof(text)) {
        snprintf(why, whylen, "IPv6 address too long");
        return false;
    }
    memcpy(text, s, alen);
    text[alen] = '\0';
    if(inet_pton(AF_INET6, text, &in6) != 1) {
        snprintf(why, whylen, "not a valid IPv6 address");
        return false;
    }
    *out = 0;
    for(i = 0; i < 16; i++)
        *out = (*out << 8) | in6.s6_addr[i];
    if(pct)
        return parse_scope(pct + 1, len - alen - 1, scope, why, whylen);
    return true;
}

/* Parses a decimal number (a prefix length or an octet). Values that need
 * more than 3 digits come out as 1000, out of every caller's range. */
static bool parse_small(const char *s, size_t len, unsigned *out)
{
    size_t i;
    unsigned v = 0;

    if(!len)
        return false;
    for(i = 0; i < len; i++) {
        if(s[i] < '0' || s[i] > '9')
            return false;
        if(v < 1000)
            v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v > 1000 ? 1000 : v;
    return true;
}

/* "ADDR/PREFIX", either family; host bits are masked off like nmap does. */
static int parse_cidr(const char *spec, const char *slash, const char *where,
                      struct range *r, vg_error *err)
{
    size_t blen = (size_t)(slash - spec);
    const char *p = slash + 1;
    size_t plen = strlen(p);
    char why[160];
    unsigned prefix, maxlen;

    if(!blen)
        return spec_error(err, VG_EINVAL, where, spec, "missing address before '/'");
    if(!plen)
        return spec_error(err, VG_EINVAL, where, spec,
                          "missing prefix length after '/'");
    if(memchr(spec, '-', blen))
        return spec_error(err, VG_EINVAL, where, spec,
                          "a range cannot have a prefix length");
    if(memchr(spec, ':', blen)) {
        u128 a, mask;
        maxlen = 128;
        const char *pct = strchr(p, '%');
        if(!parse_ipv6(spec, blen, 1, &a, &r->scope, why, sizeof(why)))
            return spec_error(err, VG_EINVAL, where, spec, "%s", why);
        /* The scope may also follow the prefix: "fe80::/64%eth0". */
        if(pct && !r->scope) {
            if(!parse_scope(pct + 1, strlen(pct + 1), &r->scope, why, sizeof(why)))
                return spec_error(err, VG_EINVAL, where, spec, "%s", why);
            plen = (size_t)(pct - p);
        }
        if(!parse_small(p, plen, &prefix))
            return spec_error(err, VG_EINVAL, where, spec,
                              "prefix length '%.10s' is not a number", p);
        if(prefix > maxlen)
            return spec_error(err, VG_EINVAL, where, spec,
                              "prefix length %.10s out of range 0-128", p);
        mask = prefix ? U128_MAX << (128 - prefix) : 0;
        r->family = AF_INET6;
        r->lo = a & mask;
        r->hi = r->lo | ~mask;
        return VG_OK;
    }
    else {
        uint32_t a, mask;
        maxlen = 32;
        if(memchr(spec, '%', blen))
            return spec_error(err, VG_EINVAL, where, spec,
                              "an interface scope ('%%') needs an IPv6 address");
        if(!parse_ipv4(spec, blen, 1, &a, why, sizeof(why)))
            return spec_error(err, VG_EINVAL, where, spec, "%s", why);
        if(!parse_small(p, plen, &prefix))
            return spec_error(err, VG_EINVAL, where, spec,
                              "prefix length '%.10s' is not a number", p);
        if(prefix > maxlen)
            return spec_error(err, VG_EINVAL, where, spec,
                              "prefix length %.10s out of range 0-32", p);
        mask = prefix ? UINT32_MAX << (32 - prefix) : 0;
        r->family = AF_INET;
        r->scope = 0;
        r->lo = a & mask;
        r->hi = r->lo | (~mask & UINT32_MAX);
        return VG_OK;
    }
}

/* "A", "A-B" (full addresses) or "A-N" (last octet). */
static int parse_v4_spec(const char *spec, const char *where, struct range *r,
                         vg_error *err)
{
    const char *dash = strchr(spec, '-');
    size_t len = strlen(spec);
    size_t alen = dash ? (size_t)(dash - spec) : len;
    char why[160];
    uint32_t a, b;

    if(dash && !alen)
        return spec_error(err, VG_EINVAL, where, spec,
                          "missing start of range before '-'");
    if(!parse_ipv4(spec, alen, 1, &a, why, sizeof(why)))
        return spec_error(err, VG_EINVAL, where, spec, "%s", why);
    r->family = AF_INET;
    r->scope = 0;
    r->lo = r->hi = a;
    if(!dash)
        return VG_OK;

    const char *e = dash + 1;
    size_t elen = len - alen - 1;
    if(!elen)
        return spec_error(err, VG_EINVAL, where, spec, "missing end of range after '-'");
    if(memchr(e, '.', elen)) {
        if(!parse_ipv4(e, elen, alen + 2, &b, why, sizeof(why)))
            return spec_error(err, VG_EINVAL, where, spec, "%s", why);
    }
    else {
        unsigned last;
        if(strspn(e, "0123456789") != elen)
            return spec_error(err, VG_EINVAL, where, spec,
                              "unexpected character '%c' at position %zu",
                              e[strspn(e, "0123456789")],
                              alen + 2 + strspn(e, "0123456789"));
        if(!parse_small(e, elen, &last) || last > 255)
            return spec_error(err, VG_EINVAL, where, spec,
                              "end of range %.12s out of range 0-255", e);
        b = (a & 0xffffff00u) | last;
    }
    if(b < a) {
        char ta[INET_ADDRSTRLEN], tb[INET_ADDRSTRLEN];
        struct in_addr ia = { htonl(a) }, ib = { htonl(b) };
        inet_ntop(AF_INET, &ia, ta, sizeof(ta));
        inet_ntop(AF_INET, &ib, tb, sizeof(tb));
        return spec_error(err, VG_EINVAL, where, spec,
                          "reversed range: start %s is after end %s", ta, tb);
    }
    r->hi = b;
    return VG_OK;
}

/* "A", "A%if" or "A-B" for IPv6. */
static int parse_v6_spec(const char *spec, const char *where, struct range *r,
                         vg_error *err)
{
    const char *dash = strchr(spec, '-');
    size_t len = strlen(spec);
    size_t alen = dash ? (size_t)(dash - spec) : len;
    char why[160];
    uint32_t scope2;
    u128 a, b;

    if(dash && !alen)
        return spec_error(err, VG_EINVAL, where, spec,
                          "missing start of range before '-'");
    if(!parse_ipv6(spec, alen, 1, &a, &r->scope, why, sizeof(why)))
        return spec_error(err, VG_EINVAL, where, spec, "%s", why);
    r->family = AF_INET6;
    r->lo = r->hi = a;
    if(!dash)
        return VG_OK;
    if(alen + 1 == len)
        return spec_error(err, VG_EINVAL, where, spec, "missing end of range after '-'");
    if(!parse_ipv6(dash + 1, len - alen - 1, alen + 2, &b, &scope2, why, sizeof(why)))
        return spec_error(err, VG_EINVAL, where, spec, "%s", why);
    if(scope2 && r->scope && scope2 != r->scope)
        return spec_error(err, VG_EINVAL, where, spec,
                          "the ends of the range have different interfaces");
    if(scope2)
        r->scope = scope2;
    if(b < a)
        return spec_error(err, VG_EINVAL, where, spec,
                          "reversed range: the end is before the start");
    r->hi = b;
    return VG_OK;
}

/* A DNS name: labels of letters, digits, '-' and '_' separated by single
 * dots, an optional final dot, 253 characters at most. */
static int check_name(const char *spec, const char *where, vg_error *err)
{
    size_t len = strlen(spec);
    size_t i, label = 0;
    char cd[8];

    if(len > 254 || (len == 254 && spec[253] != '.'))
        return spec_error(err, VG_EINVAL, where, spec,
                          "host name longer than 253 characters");
    for(i = 0; i < len; i++) {
        char c = spec[i];
        if(c == '.') {
            if(!label)
                return spec_error(err, VG_EINVAL, where, spec,
                                  "empty label at position %zu", i + 1);
            if(spec[i - 1] == '-')
                return spec_error(err, VG_EINVAL, where, spec,
                                  "label ends with '-' at position %zu", i);
            label = 0;
            continue;
        }
        if(!isalnum((unsigned char)c) && c != '-' && c != '_')
            return spec_error(err, VG_EINVAL, where, spec,
                              "unexpected character %s at position %zu",
                              char_desc(c, cd, sizeof(cd)), i + 1);
        if(c == '-' && !label)
            return spec_error(err, VG_EINVAL, where, spec,
                              "label starts with '-' at position %zu", i + 1);
        if(++label > 63)
            return spec_error(err, VG_EINVAL, where, spec,
                              "label longer than 63 characters at position %zu",
                              i + 1);
    }
    if(len && spec[len - 1] == '-')
        return spec_error(err, VG_EINVAL, where, spec,
                          "label ends with '-' at position %zu", len);
    return VG_OK;
}


/* One line of f, newline included, NUL-terminated, into *buf (grown
 * through the allocation hook, unlike getline()). Returns its length, -1
 * at the end of the file, -2 when out of memory. */
static ssize_t read_line(FILE *f, char **buf, size_t *cap)
{
    size_t n = 0;
    int c;
    while((c = getc(f)) != EOF) {
        if(n + 2 > *cap) {
            size_t ncap = *cap ? *cap * 2 : 256;
            char *b = vg_realloc(*buf, ncap);
            if(!b)
                return -2;
            *buf = b;
            *cap = ncap;
        }
        (*buf)[n++] = (char)c;
        if(c == '\n')
            break;
    }
    if(n == 0)
        return -1;
    (*buf)[n] = '\0';
    return (ssize_t)n;
}
/* Classifies and parses one spec. Names are only checked for syntax here. */
static int parse_spec(const char *spec, const char *where, struct tspec *ts,
                      vg_error *err)
{
    const char *slash = strchr(spec, '/');

    memset(&ts->r, 0, sizeof(ts->r));
    ts->is_name = false;
    if(!spec[0])
        return spec_error(err, VG_EINVAL, where, spec, "empty target specification");
    if(slash)
        return parse_cidr(spec, slash, where, &ts->r, err);
    if(strchr(spec, ':'))
        return parse_v6_spec(spec, where, &ts->r, err);
    if(strspn(spec, "0123456789.-") == strlen(spec))
        return parse_v4_spec(spec, where, &ts->r, err);
    if(strchr(spec, '%') && strspn(spec, "0123456789.") == (size_t)(strchr(spec, '%') - spec))
        return spec_error(err, VG_EINVAL, where, spec,
                          "an interface scope ('%%') needs an IPv6 address");
    ts->is_name = true;
    return check_name(spec, where, err);
}

vg_targets *vg_targets_new(void)
{
    return vg_calloc(1, sizeof(vg_targets));
}

void vg_targets_free(vg_targets *t)
{
    size_t i;

    if(!t)
        return;
    for(i = 0; i < t->nspecs; i++) {
        free(t->specs[i].spec);
        free(t->specs[i].where);
    }
    free(t->specs);
    free(t->ranges);
    free(t->starts);
    free(t->names);
    free(t->unresolved);
    free(t);
}

static int targets_push(vg_targets *t, const char *spec, const char *where,
                        bool exclude, vg_error *err)
{
    struct tspec ts;
    int result;

    if(t->finalized)
        return spec_error(err, VG_EINVAL, where, spec,
                          "cannot add targets after the set is finalized");
    memset(&ts, 0, sizeof(ts));
    result = parse_spec(spec, where, &ts, err);
    if(result)
        return result;
    if(t->nspecs == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct tspec *v = vg_realloc(t->specs, cap * sizeof(*v));
        if(!v)
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        t->specs = v;
        t->cap = cap;
    }
    ts.exclude = exclude;
    ts.spec = vg_strdup(spec);
    ts.where = where ? vg_strdup(where) : NULL;
    if(!ts.spec || (where && !ts.where)) {
        free(ts.spec);
        free(ts.where);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    t->specs[t->nspecs++] = ts;
    return VG_OK;
}

int vg_targets_add(vg_targets *t, const char *spec, const char *where, vg_error *err)
{
    return targets_push(t, spec, where, false, err);
}

int vg_targets_exclude(vg_targets *t, const char *spec, const char *where, vg_error *err)
{
    return targets_push(t, spec, where, true, err);
}

int vg_targets_add_file(vg_targets *t, const char *path, bool exclude, vg_error *err)
{
    char qpath[160];
    char where[200];
    char *line = NULL;
    size_t cap = 0, lineno = 0, found = 0;
    ssize_t n;
    int result = VG_OK;
    FILE *f;

    safe_copy(qpath, sizeof(qpath), path, strlen(path));
    /* "-" is standard input, as usual for file arguments. */
    bool is_stdin = !strcmp(path, "-");
    if(is_stdin)
        safe_copy(qpath, sizeof(qpath), "<stdin>", 7);
    f = is_stdin ? stdin : fopen(path, "r");
    if(!f) {
        int e = errno;
        char ebuf[128];
        if(err)
            err->sys_errno = e;
        return vg_error_set(err, VG_EINVAL, "%s: cannot open target file: %s",
                            qpath, strerror_r(e, ebuf, sizeof(ebuf)));
    }
    while((n = read_line(f, &line, &cap)) >= 0) {
        char *p, *hash, *tok, *save = NULL;
        lineno++;
        snprintf(where, sizeof(where), "%s:%zu", qpath, lineno);
        if(strlen(line) != (size_t)n) {
            result = vg_error_set(err, VG_EINVAL, "%s: line contains a NUL byte", where);
            goto out;
        }
        hash = strchr(line, '#');
        if(hash)
            *hash = '\0';
        for(p = line; (tok = strtok_r(p, " \t\r\n\v\f,", &save)); p = NULL) {
            result = targets_push(t, tok, where, exclude, err);
            if(result)
                goto out;
            found++;
        }
    }
    if(n == -2) {
        result = vg_error_set(err, VG_ENOMEM, "%s: out of memory reading the target file", qpath);
        goto out;
    }
    if(ferror(f)) {
        int e = errno;
        char ebuf[128];
        if(err)
            err->sys_errno = e;
        result = vg_error_set(err, VG_EINVAL, "%s: cannot read target file: %s",
                              qpath, strerror_r(e, ebuf, sizeof(ebuf)));
        goto out;
    }
    if(!found)
        result = vg_error_set(err, VG_EINVAL, "%s: no target specification in file",
                              qpath);
out:
    free(line);
    if(!is_stdin)
        fclose(f);
    return result;
}

/* Order by family (IPv4 first), scope, then start. */
static int range_cmp(const void *x, const void *y)
{
    const struct range *a = x, *b = y;

    if(a->family != b->family)
        return a->family == AF_INET ? -1 : 1;
    if(a->scope != b->scope)
        return a->scope < b->scope ? -1 : 1;
    if(a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}

static bool same_key(const struct range *a, const struct range *b)
{
    return a->family == b->family && a->scope == b->scope;
}

/* Sorts rv and merges overlapping and adjacent ranges of the same key. */
static void ranges_normalize(struct rvec *rv)
{
    size_t i, out = 0;

    if(!rv->n)
        return;
    qsort(rv->v, rv->n, sizeof(*rv->v), range_cmp);
    for(i = 1; i < rv->n; i++) {
        struct range *last = &rv->v[out];
        const struct range *r = &rv->v[i];
        if(same_key(last, r) && (last->hi == U128_MAX || r->lo <= last->hi + 1)) {
            if(r->hi > last->hi)
                last->hi = r->hi;
        }
        else
            rv->v[++out] = *r;
    }
    rv->n = out + 1;
}

/* out = targets minus excludes; both normalized and sorted alike, so one
 * sweep suffices. */
static int ranges_subtract(const struct rvec *tv, const struct rvec *ev, struct rvec *out)
{
    size_t i, j = 0, k;
    int result;

    for(i = 0; i < tv->n; i++) {
        const struct range *r = &tv->v[i];
        struct range piece = *r;
        bool alive = true;

        while(j < ev->n && (range_cmp(&ev->v[j], r) < 0 && !same_key(&ev->v[j], r)))
            j++;
        while(j < ev->n && same_key(&ev->v[j], r) && ev->v[j].hi < r->lo)
            j++;
        for(k = j; k < ev->n && same_key(&ev->v[k], r) && ev->v[k].lo <= piece.hi; k++) {
            const struct range *e = &ev->v[k];
            if(e->lo > piece.lo) {
                struct range left = piece;
                left.hi = e->lo - 1;
                result = rvec_push(out, &left);
                if(result)
                    return result;
            }
            if(e->hi >= piece.hi) {
                alive = false;
                break;
            }
            piece.lo = e->hi + 1;
        }
        if(alive) {
            result = rvec_push(out, &piece);
            if(result)
                return result;
        }
    }
    return VG_OK;
}

static void u128_to_addr(uint8_t family, uint32_t scope, u128 v, vg_addr *out)
{
    int i;

    memset(out, 0, sizeof(*out));
    out->family = family;
    if(family == AF_INET) {
        for(i = 3; i >= 0; i--, v >>= 8)
            out->a[i] = (uint8_t)v;
        return;
    }
    out->scope_id = scope;
    for(i = 15; i >= 0; i--, v >>= 8)
        out->a[i] = (uint8_t)v;
}

static void addr_to_range(const vg_addr *a, struct range *r)
{
    int i, n = a->family == AF_INET ? 4 : 16;

    r->family = a->family;
    r->scope = a->family == AF_INET6 ? a->scope_id : 0;
    r->lo = 0;
    for(i = 0; i < n; i++)
        r->lo = (r->lo << 8) | a->a[i];
    r->hi = r->lo;
}

static const char *family_name(int family)
{
    return family == AF_INET ? "IPv4" : "IPv6";
}

static int name_cmp(const void *x, const void *y)
{
    const struct name_entry *a = x, *b = y;
    int c = vg_addr_cmp(&a->addr, &b->addr);

    if(c)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Every IPv6 exclude without a scope applies to all interfaces: copy it
 * once per scope that a target uses, so the sweep can match keys exactly. */
static int excludes_spread_scopes(const struct rvec *tv, struct rvec *ev)
{
    size_t i, j, n = ev->n;
    int result;

    for(i = 0; i < tv->n; i++) {
        uint32_t scope = tv->v[i].scope;
        if(!scope || (i && tv->v[i - 1].scope == scope && tv->v[i - 1].family == AF_INET6))
            continue;
        for(j = 0; j < n; j++) {
            struct range e = ev->v[j];
            if(e.family != AF_INET6 || e.scope)
                continue;
            e.scope = scope;
            result = rvec_push(ev, &e);
            if(result)
                return result;
        }
    }
    return VG_OK;
}

/* Resolves the names, then builds tv and ev from every spec of the wanted
 * family, plus the name table. */
static int targets_collect(vg_targets *t, const vg_resolve_opts *opts,
                           struct rvec *tv, struct rvec *ev, vg_error *err)
{
    vg_resolve_query *q = NULL;
    size_t i, j, nq = 0, qi = 0, nnames = 0;
    int result = VG_OK;

    for(i = 0; i < t->nspecs; i++)
        if(t->specs[i].is_name)
            nq++;
    if(nq) {
        q = vg_calloc(nq, sizeof(*q));
        if(!q)
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        for(i = 0; i < t->nspecs; i++) {
            if(!t->specs[i].is_name)
                continue;
            q[qi].name = t->specs[i].spec;
            /* An exclude by name removes every address the name has. */
            q[qi].all = opts->all_addresses || t->specs[i].exclude;
            qi++;
        }
        result = vg_resolve_names(q, nq, opts, err);
        if(result)
            goto out;
        if(opts->hosts_only) {
            t->unresolved = vg_calloc(nq, sizeof(*t->unresolved));
            if(!t->unresolved)
                goto nomem;
        }
    }

    qi = 0;
    for(i = 0; i < t->nspecs; i++) {
        const struct tspec *ts = &t->specs[i];
        struct rvec *dst = ts->exclude ? ev : tv;
        if(!ts->is_name) {
            if(opts->family && ts->r.family != opts->family) {
                if(ts->exclude)
                    continue;
                result = spec_error(err, VG_EINVAL, ts->where, ts->spec,
                                    "%s target, but only %s targets were requested",
                                    family_name(ts->r.family), family_name(opts->family));
                goto out;
            }
            result = rvec_push(dst, &ts->r);
            if(result)
                goto nomem;
            continue;
        }
        vg_resolve_query *rq = &q[qi++];
        if(!rq->naddrs && rq->needs_dns) {
            /* hosts_only: shown as unresolved, not an error. */
            t->unresolved[t->nunresolved++] = i;
            continue;
        }
        if(!rq->naddrs) {
            if(opts->family)
                result = spec_error(err, VG_ERESOLVE, ts->where, ts->spec,
                                    "name does not resolve to an %s address (%s)",
                                    family_name(opts->family),
                                    rq->reason ? rq->reason : "no address");
            else
                result = spec_error(err, VG_ERESOLVE, ts->where, ts->spec,
                                    "name does not resolve (%s)",
                                    rq->reason ? rq->reason : "no address");
            goto out;
        }
        for(j = 0; j < rq->naddrs; j++) {
            struct range r;
            if(opts->family && rq->addrs[j].family != opts->family)
                continue;
            addr_to_range(&rq->addrs[j], &r);
            result = rvec_push(dst, &r);
            if(result)
                goto nomem;
            if(!ts->exclude)
                nnames++;
        }
    }

    if(nnames) {
        t->names = vg_calloc(nnames, sizeof(*t->names));
        if(!t->names)
            goto nomem;
        qi = 0;
        for(i = 0; i < t->nspecs; i++) {
            if(!t->specs[i].is_name)
                continue;
            vg_resolve_query *rq = &q[qi++];
            if(t->specs[i].exclude)
                continue;
            for(j = 0; j < rq->naddrs; j++) {
                if(opts->family && rq->addrs[j].family != opts->family)
                    continue;
                t->names[t->nnames].addr = rq->addrs[j];
                t->names[t->nnames].name = t->specs[i].spec;
                t->names[t->nnames].order = i;
                t->nnames++;
            }
        }
        qsort(t->names, t->nnames, sizeof(*t->names), name_cmp);
        /* Keep the first name given for each address. */
        for(i = 1, j = 0; i < t->nnames; i++)
            if(vg_addr_cmp(&t->names[i].addr, &t->names[j].addr))
                t->names[++j] = t->names[i];
        t->nnames = j + 1;
    }
    goto out;

nomem:
    result = vg_error_set(err, VG_ENOMEM, "out of memory");
out:
    for(i = 0; i < nq; i++)
        free(q[i].addrs);
    free(q);
    return result;
}

/* Blocks no scan should hit by accident: "this network", multicast, and the
 * reserved block with the limited broadcast (IPv4); unspecified and
 * multicast (IPv6). Sorted by family, then start. */
static size_t special_blocks(struct range *b)
{
    size_t n = 0;
    b[n++] = (struct range){.family = AF_INET, .lo = 0, .hi = 0x00ffffffu};
    b[n++] = (struct range){.family = AF_INET, .lo = 0xe0000000u, .hi = 0xefffffffu};
    /* 240.0.0.0/4: reserved ("class E"), with the limited broadcast at its top. */
    b[n++] = (struct range){.family = AF_INET, .lo = 0xf0000000u, .hi = 0xffffffffu};
    b[n++] = (struct range){.family = AF_INET6, .lo = 0, .hi = 0};
    b[n++] = (struct range){.family = AF_INET6, .lo = (u128)0xff << 120, .hi = ~(u128)0};
    return n;
}

static uint64_t add_sat(uint64_t a, u128 b)
{
    if(b >= UINT64_MAX || UINT64_MAX - a < (uint64_t)b)
        return UINT64_MAX;
    return a + (uint64_t)b;
}

/* Drops special addresses from target ranges that only include them; a
 * range wholly inside one special block was asked for and stays. */
static int special_filter(struct rvec *tv, uint64_t *skipped)
{
    struct range blocks[8];
    size_t nb = special_blocks(blocks);
    struct rvec out = { 0 };
    int result = VG_OK;

    for(size_t i = 0; i < tv->n; i++) {
        const struct range *r = &tv->v[i];
        struct range piece = *r;
        bool alive = true, named = false;
        for(size_t k = 0; k < nb; k++) {
            if(blocks[k].family == r->family && blocks[k].lo <= r->lo && r->hi <= blocks[k].hi)
                named = true;
        }
        for(size_t k = 0; !named && k < nb && alive; k++) {
            const struct range *b = &blocks[k];
            if(b->family != r->family || b->hi < piece.lo || b->lo > piece.hi)
                continue;
            if(b->lo > piece.lo) {
                struct range left = piece;
                left.hi = b->lo - 1;
                result = rvec_push(&out, &left);
                if(result)
                    goto fail;
            }
            u128 top = b->hi < piece.hi ? b->hi : piece.hi;
            u128 bottom = b->lo > piece.lo ? b->lo : piece.lo;
            *skipped = add_sat(*skipped, top - bottom + 1 == 0 ? ~(u128)0 : top - bottom + 1);
            if(b->hi >= piece.hi)
                alive = false;
            else
                piece.lo = b->hi + 1;
        }
        if(alive) {
            result = rvec_push(&out, &piece);
            if(result)
                goto fail;
        }
    }
    free(tv->v);
    *tv = out;
    return VG_OK;
fail:
    free(out.v);
    return result;
}

uint64_t vg_targets_special_skipped(const vg_targets *t)
{
    return t->special_skipped;
}

int vg_targets_finalize(vg_targets *t, const vg_resolve_opts *opts, vg_error *err)
{
    static const vg_resolve_opts defaults = { 0, false, NULL, 0 };
    struct rvec tv = { 0 }, ev = { 0 }, rv = { 0 };
    size_t i, ntargets = 0;
    uint64_t total = 0;
    int result = VG_OK;

    if(!opts)
        opts = &defaults;
    if(t->finalized)
        return vg_error_set(err, VG_EINVAL, "the target set is already finalized");
    if(opts->family != 0 && opts->family != AF_INET && opts->family != AF_INET6)
        return vg_error_set(err, VG_EINVAL, "address family %d is neither IPv4 nor IPv6",
                            opts->family);
    if(opts->timeout_ms < 0)
        return vg_error_set(err, VG_EINVAL, "resolver timeout %d ms is negative",
                            opts->timeout_ms);
    /* Checked even when no name needs it: a typo must not pass silently. */
    if(opts->dns_servers) {
        result = vg_dns_servers_check(opts->dns_servers, err);
        if(result)
            return result;
    }
    for(i = 0; i < t->nspecs; i++)
        if(!t->specs[i].exclude)
            ntargets++;
    if(!ntargets)
        return vg_error_set(err, VG_EINVAL, "no targets given");

    result = targets_collect(t, opts, &tv, &ev, err);
    if(result)
        goto out;
    if(!opts->allow_special) {
        size_t before = tv.n;
        result = special_filter(&tv, &t->special_skipped);
        if(result)
            goto nomem;
        if(before && !tv.n) {
            result = vg_error_set(err, VG_EINVAL,
                                  "no targets left: the specs cover only multicast, broadcast"
                                  " or 0.0.0.0/8 addresses (--allow-special scans them)");
            goto out;
        }
    }
    ranges_normalize(&tv);
    result = excludes_spread_scopes(&tv, &ev);
    if(result)
        goto nomem;
    ranges_normalize(&ev);
    result = ranges_subtract(&tv, &ev, &rv);
    if(result)
        goto nomem;
    if(!rv.n) {
        bool pending_names = false;
        for(i = 0; i < t->nunresolved; i++)
            if(!t->specs[t->unresolved[i]].exclude)
                pending_names = true;
        if(!pending_names) {
            result = vg_error_set(err, VG_EINVAL, "no targets left after exclusions");
            goto out;
        }
    }

    t->starts = vg_calloc(rv.n ? rv.n : 1, sizeof(*t->starts));
    if(!t->starts)
        goto nomem;
    for(i = 0; i < rv.n; i++) {
        u128 span = rv.v[i].hi - rv.v[i].lo; /* size - 1, cannot overflow */
        t->starts[i] = total;
        if(span >= UINT64_MAX || UINT64_MAX - total < (uint64_t)span + 1) {
            result = vg_error_set(err, VG_EINVAL,
                                  "too many addresses: the targets add up to more"
                                  " than 2^64-1 addresses");
            goto out;
        }
        total += (uint64_t)span + 1;
    }
    t->ranges = rv.v;
    t->nranges = rv.n;
    t->count = total;
    rv.v = NULL;
    t->finalized = true;
    goto out;

nomem:
    result = vg_error_set(err, VG_ENOMEM, "out of memory");
out:
    if(result) {
        free(t->starts);
        free(t->names);
        free(t->unresolved);
        t->starts = NULL;
        t->names = NULL;
        t->nnames = 0;
        t->unresolved = NULL;
        t->nunresolved = 0;
    }
    free(tv.v);
    free(ev.v);
    free(rv.v);
    return result;
}

uint64_t vg_targets_count(const vg_targets *t)
{
    return t->finalized ? t->count : 0;
}

void vg_targets_get(const vg_targets *t, uint64_t index, vg_addr *out)
{
    size_t lo = 0, hi;
    const struct range *r;

    if(!t->finalized || index >= t->count) {
        memset(out, 0, sizeof(*out));
        return;
    }
    /* The last range whose start is <= index. */
    hi = t->nranges - 1;
    while(lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if(t->starts[mid] <= index)
            lo = mid;
        else
            hi = mid - 1;
    }
    r = &t->ranges[lo];
    u128_to_addr(r->family, r->scope, r->lo + (index - t->starts[lo]), out);
}

size_t vg_targets_unresolved_count(const vg_targets *t)
{
    return t->finalized ? t->nunresolved : 0;
}

const char *vg_targets_unresolved(const vg_targets *t, size_t index, bool *exclude)
{
    if(!t->finalized || index >= t->nunresolved)
        return NULL;
    if(exclude)
        *exclude = t->specs[t->unresolved[index]].exclude;
    return t->specs[t->unresolved[index]].spec;
}

const char *vg_targets_name(const vg_targets *t, const vg_addr *addr)
{
    size_t lo = 0, hi = t->nnames;

    while(lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = vg_addr_cmp(&t->names[mid].addr, addr);
        if(!c)
            return t->names[mid].name;
        if(c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

uint64_t vg_targets_index(const vg_targets *t, const vg_addr *a)
{
    /* The targets are sorted and without duplicates: search by index. */
    uint64_t lo = 0, hi = vg_targets_count(t);
    while(lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        vg_addr m;
        vg_targets_get(t, mid, &m);
        int c = vg_addr_cmp(&m, a);
        if(!c)
            return mid;
        if(c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return UINT64_MAX;
}
