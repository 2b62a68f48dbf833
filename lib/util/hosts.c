/* SPDX-License-Identifier: MIT */
/* RFC 6761 special-use names and a hosts-file lookup without sockets. */
#include <net/if.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/hosts.h"
#include "util/alloc.h"

/* A name's length without its root dot. */
static size_t name_len(const char *name, size_t len)
{
    if(len && name[len - 1] == '.')
        len--;
    return len;
}

/* Whether name (len bytes, no root dot) is label or ends in ".label". */
static bool name_under(const char *name, size_t len, const char *label)
{
    size_t ll = strlen(label);
    if(len == ll)
        return !strncasecmp(name, label, ll);
    return len > ll + 1 && name[len - ll - 1] == '.' && !strncasecmp(name + len - ll, label, ll);
}

vg_name_kind vg_name_special(const char *name)
{
    size_t len = name_len(name, strlen(name));
    if(name_under(name, len, "localhost"))
        return VG_NAME_LOCALHOST;
    if(name_under(name, len, "invalid"))
        return VG_NAME_INVALID;
    return VG_NAME_DNS;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* A numeric address as the hosts file writes it ("::1", "fe80::1%eth0");
 * AI_NUMERICHOST never consults a resolver. */
static bool parse_numeric(const char *s, size_t len, vg_addr *out)
{
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    struct addrinfo hints, *res = NULL;
    bool ok = false;

    if(!len || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_socktype = SOCK_STREAM;
    if(getaddrinfo(buf, NULL, &hints, &res) == 0 && res) {
        ok = vg_addr_from_sockaddr(out, res->ai_addr);
        freeaddrinfo(res);
    }
    return ok;
}

static bool have_addr(const vg_addr *v, size_t n, const vg_addr *a)
{
    for(size_t i = 0; i < n; i++)
        if(!vg_addr_cmp(&v[i], a))
            return true;
    return false;
}

size_t vg_hosts_lookup_buf(const char *buf, size_t len, const char *name, int family, vg_addr *out,
                           size_t max)
{
    size_t want = name_len(name, strlen(name)), n = 0;
    const char *p = buf, *end = buf + len;

    if(!want)
        return 0;
    while(p < end && n < max) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *hash = memchr(p, '#', (size_t)(line_end - p));
        const char *q = p, *tok;
        vg_addr a;
        bool addr_ok;

        if(hash)
            line_end = hash;
        p = eol ? eol + 1 : end;
        while(q < line_end && is_space(*q))
            q++;
        tok = q;
        while(q < line_end && !is_space(*q))
            q++;
        if(q == tok)
            continue;
        addr_ok = parse_numeric(tok, (size_t)(q - tok), &a) &&
                  (!family || a.family == family);
        while(addr_ok && q < line_end) {
            while(q < line_end && is_space(*q))
                q++;
            tok = q;
            while(q < line_end && !is_space(*q))
                q++;
            size_t tl = name_len(tok, (size_t)(q - tok));
            if(tl && tl == want && !strncasecmp(tok, name, want)) {
                if(!have_addr(out, n, &a))
                    out[n++] = a;
                break;
            }
        }
    }
    return n;
}

size_t vg_hosts_lookup(const char *path, const char *name, int family, vg_addr *out, size_t max)
{
    FILE *f = fopen(path ? path : VG_HOSTS_PATH, "re");
    char *buf = NULL;
    size_t len = 0, cap = 0, n = 0;

    if(!f)
        return 0;
    /* Hosts files are small; one read keeps the parser a pure function. */
    for(;;) {
        if(len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb;
            if(ncap > (64u << 20))
                break;
            nb = vg_realloc(buf, ncap);
            if(!nb)
                break;
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if(r == 0)
            break;
    }
    fclose(f);
    if(buf)
        n = vg_hosts_lookup_buf(buf, len, name, family, out, max);
    free(buf);
    return n;
}

static void loopback(int family, vg_addr *out)
{
    memset(out, 0, sizeof(*out));
    out->family = (uint8_t)family;
    if(family == AF_INET) {
        out->a[0] = 127;
        out->a[3] = 1;
    }
    else
        out->a[15] = 1;
}

size_t vg_localhost_addrs(const char *path, const char *name, int family, vg_addr *out, size_t max)
{
    size_t n;

    if(!max)
        return 0;
    n = vg_hosts_lookup(path, name, family, out, max);
    if(n)
        return n;
    if(family == AF_INET || family == AF_INET6) {
        loopback(family, &out[0]);
        return 1;
    }
    loopback(AF_INET, &out[0]);
    n = 1;
    if(max > 1)
        loopback(AF_INET6, &out[n++]);
    return n;
}
