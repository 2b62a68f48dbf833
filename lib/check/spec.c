/* SPDX-License-Identifier: MIT */
/* Target specs of checks: "tcp://host:port", "http(s)://URL", "tls://host:port",
 * "ssh://[user@]host[:port]" and a bare "host:port" meaning tcp. URLs are
 * parsed and normalized by libcurl's URL API, the others by hand. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigia/check.h"

/* Letters, digits, '.', '-', '_' for names; hex digits, ':', '.', '%'
 * and interface-name characters for IPv6 literals. */
static bool host_chars_ok(const char *h, bool v6)
{
    if(!*h)
        return false;
    for(const char *p = h; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_')
            continue;
        if(v6 && (c == ':' || c == '%'))
            continue;
        return false;
    }
    return true;
}

static int parse_port(const char *s, size_t n, uint16_t *port)
{
    unsigned long v = 0;
    if(n == 0 || n > 5)
        return -1;
    for(size_t i = 0; i < n; i++) {
        if(s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if(v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

static int parse_url(vg_check_target *t, const char *spec, vg_error *err)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *url = NULL, *zone = NULL;
    int rc = VG_EINVAL;
    CURLUcode uc;

    if(!u)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    uc = curl_url_set(u, CURLUPART_URL, spec, 0);
    if(uc) {
        vg_error_set(err, VG_EINVAL, "bad URL '%s': %s", spec, curl_url_strerror(uc));
        goto out;
    }
    if(curl_url_get(u, CURLUPART_HOST, &host, 0) || !host || !*host) {
        vg_error_set(err, VG_EINVAL, "bad URL '%s': no host", spec);
        goto out;
    }
    curl_url_get(u, CURLUPART_ZONEID, &zone, 0);
    if(curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) || !port ||
       parse_port(port, strlen(port), &t->port)) {
        vg_error_set(err, VG_EINVAL, "bad URL '%s': bad port", spec);
        goto out;
    }
    if(curl_url_get(u, CURLUPART_URL, &url, 0) || strlen(url) >= sizeof(t->url)) {
        vg_error_set(err, VG_EINVAL, "bad URL '%s': too long", spec);
        goto out;
    }
    memcpy(t->url, url, strlen(url) + 1);
    {
        size_t hl = strlen(host);
        const char *h = host;
        if(hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
            h = host + 1;
            hl -= 2;
        }
        if(hl + (zone ? strlen(zone) + 1 : 0) >= sizeof(t->host)) {
            vg_error_set(err, VG_EINVAL, "bad URL '%s': host name too long", spec);
            goto out;
        }
        /* Length checked above: nothing is cut. */
        if(snprintf(t->host, sizeof(t->host), "%.*s%s%s", (int)hl, h, zone ? "%" : "", zone ? zone : "") < 0)
            t->host[0] = '\0';
    }
    rc = VG_OK;
out:
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_free(zone);
    curl_url_cleanup(u);
    return rc;
}

/* Default ports of the dns, mysql, icmp and udp schemes (0: the spec must give one);
 * -1 for a scheme that is not one of them. */
static int spec6_default_port(const char *scheme, uint16_t *port)
{
    static const struct { const char *name; uint16_t port; } schemes[] = {
        {"dns", 53}, {"mysql", 3306}, {"icmp", 0}, {"udp", 0},
        {"smtp", 25}, {"imap", 143}, {"postgres", 5432},
    };
    for(size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if(!strcmp(scheme, schemes[i].name)) {
            *port = schemes[i].port;
            return 0;
        }
    return -1;
}

static const struct { const char *name; uint16_t type; } dns_types[] = {
    {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12},
    {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33},
};

const char *vg_dns_type_name(unsigned type)
{
    for(size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
        if(dns_types[i].type == type)
            return dns_types[i].name;
    return "?";
}

int vg_dns_type_parse(const char *s)
{
    for(size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
        if(s && !strcasecmp(s, dns_types[i].name))
            return dns_types[i].type;
    return -1;
}

/* "/name" or "/name?type=T" (slash may be NULL: no question given). */
static int spec6_dns_question(vg_check_target *t, const char *slash, const char *spec, vg_error *err)
{
    const char *name, *q;
    size_t nl;
    int type = 1;
    if(!slash || !slash[1])
        return vg_error_set(err, VG_EINVAL, "target '%s': expected dns://SERVER[:PORT]/NAME[?type=A]", spec);
    name = slash + 1;
    q = strchr(name, '?');
    nl = q ? (size_t)(q - name) : strlen(name);
    if(nl == 0 || nl > 253)
        return vg_error_set(err, VG_EINVAL, "target '%s': missing or overlong name", spec);
    memcpy(t->dns_name, name, nl);
    t->dns_name[nl] = '\0';
    if(strcmp(t->dns_name, ".")) {
        for(const char *p = t->dns_name; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_' || c == '*'))
                return vg_error_set(err, VG_EINVAL, "target '%s': bad character in the name", spec);
        }
        if(t->dns_name[0] == '.' || strstr(t->dns_name, ".."))
            return vg_error_set(err, VG_EINVAL, "target '%s': empty label in the name", spec);
    }
    if(q) {
        if(strncasecmp(q + 1, "type=", 5))
            return vg_error_set(err, VG_EINVAL, "target '%s': expected ?type=A|AAAA|MX|TXT|CNAME|NS|SOA|PTR|SRV", spec);
        type = vg_dns_type_parse(q + 6);
        if(type < 0)
            return vg_error_set(err, VG_EINVAL, "target '%s': unknown record type '%s' (A, AAAA, MX, TXT, CNAME, NS, SOA, PTR, SRV)",
                                spec, q + 6);
    }
    t->dns_qtype = (uint16_t)type;
    return VG_OK;
}

int vg_check_target_parse(vg_check_target *t, const char *spec, vg_error *err)
{
    const char *sep, *rest, *hp, *hend, *colon = NULL;
    size_t hl;
    bool v6 = false;
    uint16_t defport = 0;

    memset(t, 0, sizeof(*t));
    if(!spec || !*spec)
        return vg_error_set(err, VG_EINVAL, "empty target");
    if(strlen(spec) >= sizeof(t->url))
        return vg_error_set(err, VG_EINVAL, "target too long (at most %zu bytes)", sizeof(t->url) - 1);
    for(const char *p = spec; *p; p++)
        if((unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f)
            return vg_error_set(err, VG_EINVAL, "target '%s': contains a space or control character", spec);
    sep = strstr(spec, "://");
    if(sep) {
        size_t sl = (size_t)(sep - spec);
        if(sl >= sizeof(t->scheme))
            goto bad_scheme;
        memcpy(t->scheme, spec, sl);
        t->scheme[sl] = '\0';
        for(char *p = t->scheme; *p; p++)
            if(*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if(!strcmp(t->scheme, "http") || !strcmp(t->scheme, "https"))
            return parse_url(t, spec, err);
        if(!strcmp(t->scheme, "ssh"))
            defport = 22;
        else if(spec6_default_port(t->scheme, &defport) < 0 &&
                strcmp(t->scheme, "tcp") && strcmp(t->scheme, "tls"))
            goto bad_scheme;
        rest = sep + 3;
    }
    else {
        memcpy(t->scheme, "tcp", 4);
        rest = spec;
    }
    /* [user@]host[:port][/] */
    hp = strrchr(rest, '@');
    if(hp) {
        if(strcmp(t->scheme, "ssh"))
            return vg_error_set(err, VG_EINVAL, "target '%s': a user name only makes sense for ssh://", spec);
        rest = hp + 1;
    }
    hend = rest + strlen(rest);
    if(!strcmp(t->scheme, "dns")) {
        /* dns://server[:port]/name?type=T: the path is the question. */
        const char *slash = strchr(rest, '/');
        int rc = spec6_dns_question(t, slash, spec, err);
        if(rc)
            return rc;
        hend = slash;
    }
    if(hend > rest && hend[-1] == '/')
        hend--;
    if(memchr(rest, '/', (size_t)(hend - rest)) || memchr(rest, '?', (size_t)(hend - rest)))
        return vg_error_set(err, VG_EINVAL, "target '%s': a path only makes sense for http(s)://", spec);
    if(*rest == '[') {
        const char *close = memchr(rest, ']', (size_t)(hend - rest));
        if(!close)
            return vg_error_set(err, VG_EINVAL, "target '%s': missing ']'", spec);
        hp = rest + 1;
        hl = (size_t)(close - hp);
        if(close + 1 < hend) {
            if(close[1] != ':')
                return vg_error_set(err, VG_EINVAL, "target '%s': expected ':PORT' after ']'", spec);
            colon = close + 1;
        }
        v6 = true;
    }
    else {
        const char *c1 = memchr(rest, ':', (size_t)(hend - rest));
        hp = rest;
        if(c1 && memchr(c1 + 1, ':', (size_t)(hend - c1 - 1)))
            return vg_error_set(err, VG_EINVAL,
                                "target '%s': write IPv6 addresses in brackets, e.g. [::1]:80", spec);
        colon = c1;
        hl = colon ? (size_t)(colon - rest) : (size_t)(hend - rest);
    }
    if(hl == 0 || hl >= sizeof(t->host))
        return vg_error_set(err, VG_EINVAL, "target '%s': missing or overlong host", spec);
    memcpy(t->host, hp, hl);
    t->host[hl] = '\0';
    if(!host_chars_ok(t->host, v6))
        return vg_error_set(err, VG_EINVAL, "target '%s': bad host '%s'", spec, t->host);
    if(colon && !strcmp(t->scheme, "icmp"))
        return vg_error_set(err, VG_EINVAL, "target '%s': icmp:// takes no port", spec);
    if(colon) {
        if(parse_port(colon + 1, (size_t)(hend - colon - 1), &t->port))
            return vg_error_set(err, VG_EINVAL, "target '%s': bad port (expected 1-65535)", spec);
    }
    else if(!strcmp(t->scheme, "icmp"))
        t->port = 0;
    else if(defport)
        t->port = defport;
    else
        return vg_error_set(err, VG_EINVAL, "target '%s': missing port (expected %s://HOST:PORT)",
                            spec, t->scheme);
    if(!strcmp(t->scheme, "icmp"))
        snprintf(t->url, sizeof(t->url), v6 ? "%s://[%s]" : "%s://%s", t->scheme, t->host);
    else if(v6)
        snprintf(t->url, sizeof(t->url), "%s://[%s]:%u", t->scheme, t->host, t->port);
    else
        snprintf(t->url, sizeof(t->url), "%s://%s:%u", t->scheme, t->host, t->port);
    if(!strcmp(t->scheme, "dns")) {
        size_t ul = strlen(t->url);
        snprintf(t->url + ul, sizeof(t->url) - ul, "/%s?type=%s", t->dns_name, vg_dns_type_name(t->dns_qtype));
    }
    return VG_OK;
bad_scheme:
    return vg_error_set(err, VG_EINVAL,
                        "target '%s': unknown scheme (expected tcp://, udp://, http://, https://, tls://, ssh://, dns://, "
                        "mysql://, icmp://, smtp://, imap://, postgres:// or HOST:PORT)",
                        spec);
}
