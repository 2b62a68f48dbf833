/* SPDX-License-Identifier: MIT */
/* Port sets: 65536-bit bitmaps filled from specs, one for the ports given
 * without a protocol prefix and one each for "T:" and "U:" ports, plus the
 * sorted lists that vg_ports_get() and vg_ports_get_proto() index. */
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/ports.h"
#include "util/alloc.h"

#define PORTS_WORDS (65536 / 64)

/* Which bitmap a port went to: given without a prefix (the scan kind
 * decides its protocol), after "T:", after "U:". */
enum { SET_ANY, SET_TCP, SET_UDP, SET__COUNT };

/* Views: every port (vg_ports_get), the ports to probe over TCP (no prefix
 * or T:) and over UDP (no prefix or U:). */
enum { VIEW_ALL, VIEW_TCP, VIEW_UDP, VIEW__COUNT };

/* The lists are rebuilt by every successful vg_ports_add(), so that count
 * and get are pure reads and safe from several threads once setup is
 * done. */
struct vg_ports {
    uint64_t bits[SET__COUNT][PORTS_WORDS];
    uint16_t *list[VIEW__COUNT];
    size_t count[VIEW__COUNT];
};

vg_ports *vg_ports_new(void)
{
    return vg_calloc(1, sizeof(vg_ports));
}

void vg_ports_free(vg_ports *p)
{
    if(!p)
        return;
    for(int v = 0; v < VIEW__COUNT; v++)
        free(p->list[v]);
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

static int ports_add_item(uint64_t *bits, const char *s, size_t len, const char *proto,
                          vg_error *err);

/* Named sets, service names from /etc/services, or junk. proto: the
 * services table to look names up in ("tcp", "udp"), NULL for either. */
static int ports_add_name(uint64_t *bits, const char *s, size_t len, const char *q,
                          const char *proto, vg_error *err)
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
            int result = ports_add_item(bits, e, n, proto, err);
            if(result)
                return result;
            e += n + (e[n] == ',');
        }
        return VG_OK;
    }
    /* Without a prefix a name may come from either table (TCP first). */
    if((getservbyname_r(name, proto ? proto : "tcp", &se, buf, sizeof(buf), &res) == 0 &&
        res) ||
       (!proto && getservbyname_r(name, "udp", &se, buf, sizeof(buf), &res) == 0 && res)) {
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
    if(proto)
        return vg_error_set(err, VG_EINVAL, "'%s': unknown %s service name", q, proto);
    return vg_error_set(err, VG_EINVAL, "'%s': unknown service name", q);
}

/* One comma-free item, surrounding blanks and any prefix already removed. */
static int ports_add_item(uint64_t *bits, const char *s, size_t len, const char *proto,
                          vg_error *err)
{
    char q[80];

    ports_safe_copy(q, sizeof(q), s, len);
    if(ports_is_numeric(s, len))
        return ports_add_numeric(bits, s, len, q, err);
    return ports_add_name(bits, s, len, q, proto, err);
}

/* A protocol prefix ("T:", "u:") at the start of an item: its set, or -1
 * when the item has none. An unknown letter is an error (returns -2). */
static int ports_prefix(const char *s, size_t len, const char *q, vg_error *err)
{
    if(len < 2 || s[1] != ':' || !isalpha((unsigned char)s[0]))
        return -1;
    switch(s[0]) {
    case 'T': case 't': return SET_TCP;
    case 'U': case 'u': return SET_UDP;
    default:
        vg_error_set(err, VG_EINVAL,
                     "'%s': unknown protocol prefix '%c:' (T: for TCP, U: for UDP)", q, s[0]);
        return -2;
    }
}

/* The sorted list of one view of the bitmaps bits[SET__COUNT]. */
static uint16_t *ports_build_view(const uint64_t (*bits)[PORTS_WORDS], int view, size_t *count)
{
    size_t i, n = 0;
    uint16_t *list = NULL;

    /* Pass 0 counts, pass 1 fills. */
    for(int pass = 0; pass < 2; pass++) {
        if(pass) {
            list = vg_malloc((n ? n : 1) * sizeof(*list));
            if(!list)
                return NULL;
            n = 0;
        }
        for(i = 0; i < PORTS_WORDS; i++) {
            uint64_t w = bits[SET_ANY][i];
            if(view != VIEW_UDP)
                w |= bits[SET_TCP][i];
            if(view != VIEW_TCP)
                w |= bits[SET_UDP][i];
            if(!pass) {
                n += (size_t)__builtin_popcountll(w);
                continue;
            }
            while(w) {
                list[n++] = (uint16_t)(i * 64 + (size_t)__builtin_ctzll(w));
                w &= w - 1;
            }
        }
    }
    *count = n;
    return list;
}

/* Makes bits the set's content: builds every view first, so that running
 * out of memory leaves the set as it was. */
static int ports_commit(vg_ports *p, const uint64_t (*bits)[PORTS_WORDS])
{
    uint16_t *lists[VIEW__COUNT] = {NULL};
    size_t counts[VIEW__COUNT];

    for(int v = 0; v < VIEW__COUNT; v++) {
        lists[v] = ports_build_view(bits, v, &counts[v]);
        if(!lists[v]) {
            for(int r = 0; r < v; r++)
                free(lists[r]);
            return VG_ENOMEM;
        }
    }
    memcpy(p->bits, bits, sizeof(p->bits));
    for(int v = 0; v < VIEW__COUNT; v++) {
        free(p->list[v]);
        p->list[v] = lists[v];
        p->count[v] = counts[v];
    }
    return VG_OK;
}

int vg_ports_add(vg_ports *p, const char *spec, vg_error *err)
{
    uint64_t(*add)[PORTS_WORDS] = NULL;
    const char *s = spec;
    size_t i, item = 0;
    int set = SET_ANY;
    int result = VG_OK;
    static const char *const set_proto[SET__COUNT] = {NULL, "tcp", "udp"};

    if(!spec[strspn(spec, " \t")])
        return vg_error_set(err, VG_EINVAL, "empty port specification");
    /* Parse into scratch bitmaps so that a bad spec changes nothing. */
    add = vg_calloc(SET__COUNT, sizeof(*add));
    if(!add)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    for(;;) {
        size_t n = strcspn(s, ",");
        size_t b = 0, e = n;
        char q[80];
        item++;
        while(b < e && (s[b] == ' ' || s[b] == '\t'))
            b++;
        while(e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
        if(b == e) {
            ports_safe_copy(q, sizeof(q), spec, strlen(spec));
            result = vg_error_set(err, VG_EINVAL, "'%s': item %zu is empty", q, item);
            goto out;
        }
        /* "T:" and "U:" hold for this item and the ones after it, until
         * the next prefix (nmap's syntax). */
        ports_safe_copy(q, sizeof(q), s + b, e - b);
        int pfx = ports_prefix(s + b, e - b, q, err);
        if(pfx == -2) {
            result = VG_EINVAL;
            goto out;
        }
        if(pfx >= 0) {
            set = pfx;
            b += 2;
            while(b < e && (s[b] == ' ' || s[b] == '\t'))
                b++;
            if(b == e) {
                result = vg_error_set(err, VG_EINVAL, "'%s': no port after the prefix", q);
                goto out;
            }
        }
        result = ports_add_item(add[set], s + b, e - b, set_proto[set], err);
        if(result)
            goto out;
        if(!s[n])
            break;
        s += n + 1;
    }

    /* add becomes the union of what was there and what the spec adds. */
    for(int k = 0; k < SET__COUNT; k++) {
        for(i = 0; i < PORTS_WORDS; i++)
            add[k][i] |= p->bits[k][i];
    }
    if(ports_commit(p, (const uint64_t(*)[PORTS_WORDS])add))
        result = vg_error_set(err, VG_ENOMEM, "out of memory");
out:
    free(add);
    return result;
}

size_t vg_ports_count(const vg_ports *p)
{
    return p->count[VIEW_ALL];
}

uint16_t vg_ports_get(const vg_ports *p, size_t i)
{
    return i < p->count[VIEW_ALL] ? p->list[VIEW_ALL][i] : 0;
}

static int ports_view(int proto)
{
    return proto == IPPROTO_TCP ? VIEW_TCP : proto == IPPROTO_UDP ? VIEW_UDP : -1;
}

size_t vg_ports_count_proto(const vg_ports *p, int proto)
{
    int v = ports_view(proto);
    return v < 0 ? 0 : p->count[v];
}

uint16_t vg_ports_get_proto(const vg_ports *p, int proto, size_t i)
{
    int v = ports_view(proto);
    return v >= 0 && i < p->count[v] ? p->list[v][i] : 0;
}

size_t vg_ports_count_prefixed(const vg_ports *p, int proto)
{
    int set = proto == 0 ? SET_ANY : proto == IPPROTO_TCP ? SET_TCP
            : proto == IPPROTO_UDP ? SET_UDP : -1;
    size_t n = 0;

    if(set < 0)
        return 0;
    for(size_t i = 0; i < PORTS_WORDS; i++)
        n += (size_t)__builtin_popcountll(p->bits[set][i]);
    return n;
}

int vg_ports_set_default_proto(vg_ports *p, int proto, vg_error *err)
{
    int set = proto == IPPROTO_TCP ? SET_TCP : proto == IPPROTO_UDP ? SET_UDP : -1;
    uint64_t(*bits)[PORTS_WORDS];

    if(set < 0)
        return vg_error_set(err, VG_EINVAL, "default protocol must be TCP or UDP");
    bits = vg_malloc(sizeof(p->bits));
    if(!bits)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    memcpy(bits, p->bits, sizeof(p->bits));
    for(size_t i = 0; i < PORTS_WORDS; i++) {
        bits[set][i] |= bits[SET_ANY][i];
        bits[SET_ANY][i] = 0;
    }
    int rc = ports_commit(p, (const uint64_t(*)[PORTS_WORDS])bits);
    free(bits);
    return rc ? vg_error_set(err, VG_ENOMEM, "out of memory") : VG_OK;
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
