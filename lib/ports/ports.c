/* SPDX-License-Identifier: MIT */
/* Port sets: a 65536-bit bitmap filled from specs, plus the sorted list of
 * its ports that vg_ports_get() indexes. */
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/ports.h"

#define PORTS_WORDS (65536 / 64)

/* The list is rebuilt by every successful vg_ports_add(), so that count and
 * get are pure reads and safe from several threads once setup is done. */
struct vg_ports {
    uint64_t bits[PORTS_WORDS];
    uint16_t *list;
    size_t count;
};

vg_ports *vg_ports_new(void)
{
    return calloc(1, sizeof(vg_ports));
}

void vg_ports_free(vg_ports *p)
{
    if(!p)
        return;
    free(p->list);
    free(p);
}

static void bits_set_range(uint64_t *bits, unsigned lo, unsigned hi)
{
    unsigned i;

    for(i = lo; i <= hi; i++)
        bits[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Copies an item for quoting: non-printable bytes become '?'. */
static void ports_safe_copy(char *dst, size_t dstlen, const char *s, size_t len)
{
    size_t i, j = 0;

    for(i = 0; i < len && j + 4 < dstlen; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if(i < len)
        for(i = 0; i < 3; i++)
            dst[j++] = '.';
    dst[j] = '\0';
}

/* Parses a decimal port in s[0..len); more than 5 digits reads as 99999. */
static unsigned ports_number(const char *s, size_t len)
{
    unsigned v = 0;
    size_t i;

    for(i = 0; i < len; i++)
        if(v < 100000)
            v = v * 10 + (unsigned)(s[i] - '0');
    return v > 99999 ? 99999 : v;
}

/* Checks one end of a numeric range; the item is quoted in the message. */
static int ports_check(unsigned v, const char *num, size_t nlen, const char *q,
                       vg_error *err)
{
    if(v == 0)
        return vg_error_set(err, VG_EINVAL, "'%s': port 0 is not allowed (range 1-65535)",
                            q);
    if(v > 65535)
        return vg_error_set(err, VG_EINVAL, "'%s': port %.*s out of range 1-65535", q,
                            (int)(nlen > 12 ? 12 : nlen), num);
    return VG_OK;
}

/* "N", "N-M", "N-", "-N" or "-": digits and at most one dash. */
static bool ports_is_numeric(const char *s, size_t len)
{
    size_t i, dashes = 0;

    for(i = 0; i < len; i++) {
        if(s[i] == '-')
            dashes++;
        else if(s[i] < '0' || s[i] > '9')
            return false;
    }
    return dashes <= 1;
}

static int ports_add_numeric(uint64_t *bits, const char *s, size_t len, const char *q,
                             vg_error *err)
{
    const char *dash = memchr(s, '-', len);
    size_t alen = dash ? (size_t)(dash - s) : len;
    size_t blen = dash ? len - alen - 1 : 0;
    unsigned lo = 1, hi = 65535;
    int result;

    if(alen) {
        lo = ports_number(s, alen);
        result = ports_check(lo, s, alen, q, err);
        if(result)
            return result;
    }
    if(!dash)
        hi = lo;
    else if(blen) {
        hi = ports_number(dash + 1, blen);
        result = ports_check(hi, dash + 1, blen, q, err);
        if(result)
            return result;
    }
    if(hi < lo)
        return vg_error_set(err, VG_EINVAL, "'%s': reversed range %u-%u", q, lo, hi);
    bits_set_range(bits, lo, hi);
    return VG_OK;
}

static int ports_add_item(uint64_t *bits, const char *s, size_t len, vg_error *err);

/* Named sets, service names from /etc/services, or junk. */
static int ports_add_name(uint64_t *bits, const char *s, size_t len, const char *q,
                          vg_error *err)
{
    char name[64];
    char buf[1024];
    struct servent se, *res = NULL;
    size_t i;

    if(len >= sizeof(name))
        return vg_error_set(err, VG_EINVAL, "'%s': unknown service name", q);
    for(i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if(!isalnum(c) && c != '-' && c != '_' && c != '.' && c != '+' && c != '/') {
            if(c >= 0x20 && c < 0x7f)
                return vg_error_set(err, VG_EINVAL,
                                    "'%s': unexpected character '%c' at position %zu",
                                    q, c, i + 1);
            return vg_error_set(err, VG_EINVAL,
                                "'%s': unexpected byte \\x%02x at position %zu",
                                q, c, i + 1);
        }
        name[i] = (char)tolower(c);
    }
    name[len] = '\0';

    if(!strcmp(name, "all")) {
        bits_set_range(bits, 1, 65535);
        return VG_OK;
    }
    if(!strcmp(name, "well-known")) {
        bits_set_range(bits, 1, 1023);
        return VG_OK;
    }
    if(!strcmp(name, "essential")) {
        const char *e = VG_PORTS_ESSENTIAL;
        while(*e) {
            size_t n = strcspn(e, ",");
            int result = ports_add_item(bits, e, n, err);
            if(result)
                return result;
            e += n + (e[n] == ',');
        }
        return VG_OK;
    }
    if(getservbyname_r(name, "tcp", &se, buf, sizeof(buf), &res) == 0 && res) {
        unsigned port = ntohs((uint16_t)res->s_port);
        if(port)
            bits_set_range(bits, port, port);
        return VG_OK;
    }
    if(strspn(s, "0123456789-") >= len)
        return vg_error_set(err, VG_EINVAL, "'%s': not a port or port range", q);
    if(isdigit((unsigned char)s[0])) {
        size_t bad = strspn(s, "0123456789-");
        return vg_error_set(err, VG_EINVAL,
                            "'%s': not a port number (unexpected '%c' at position %zu)",
                            q, s[bad], bad + 1);
    }
    return vg_error_set(err, VG_EINVAL, "'%s': unknown service name", q);
}

/* One comma-free item, surrounding blanks already removed. */
static int ports_add_item(uint64_t *bits, const char *s, size_t len, vg_error *err)
{
    char q[80];

    ports_safe_copy(q, sizeof(q), s, len);
    if(ports_is_numeric(s, len))
        return ports_add_numeric(bits, s, len, q, err);
    return ports_add_name(bits, s, len, q, err);
}

int vg_ports_add(vg_ports *p, const char *spec, vg_error *err)
{
    uint64_t *add = NULL;
    uint16_t *list = NULL;
    const char *s = spec;
    size_t i, count = 0, item = 0;
    int result = VG_OK;

    if(!spec[strspn(spec, " \t")])
        return vg_error_set(err, VG_EINVAL, "empty port specification");
    /* Parse into a scratch bitmap so that a bad spec changes nothing. */
    add = calloc(PORTS_WORDS, sizeof(*add));
    if(!add)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    for(;;) {
        size_t n = strcspn(s, ",");
        size_t b = 0, e = n;
        item++;
        while(b < e && (s[b] == ' ' || s[b] == '\t'))
            b++;
        while(e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if(b == e) {
            char q[80];
            ports_safe_copy(q, sizeof(q), spec, strlen(spec));
            result = vg_error_set(err, VG_EINVAL, "'%s': item %zu is empty", q, item);
            goto out;
        }
        result = ports_add_item(add, s + b, e - b, err);
        if(result)
            goto out;
        if(!s[n])
            break;
        s += n + 1;
    }

    for(i = 0; i < PORTS_WORDS; i++)
        count += (size_t)__builtin_popcountll(p->bits[i] | add[i]);
    list = malloc(count * sizeof(*list));
    if(!list) {
        result = vg_error_set(err, VG_ENOMEM, "out of memory");
        goto out;
    }
    count = 0;
    for(i = 0; i < PORTS_WORDS; i++) {
        uint64_t w = p->bits[i] | add[i];
        p->bits[i] = w;
        while(w) {
            list[count++] = (uint16_t)(i * 64 + (size_t)__builtin_ctzll(w));
            w &= w - 1;
        }
    }
    free(p->list);
    p->list = list;
    p->count = count;
out:
    free(add);
    return result;
}

size_t vg_ports_count(const vg_ports *p)
{
    return p->count;
}

uint16_t vg_ports_get(const vg_ports *p, size_t i)
{
    return i < p->count ? p->list[i] : 0;
}

const char *vg_port_service(uint16_t port, const char *proto, char *buf, size_t len)
{
    char tmp[1024];
    struct servent se, *res = NULL;

    if(!len || getservbyport_r(htons(port), proto, &se, tmp, sizeof(tmp), &res) || !res)
        return NULL;
    snprintf(buf, len, "%s", res->s_name);
    return buf;
}
