/* SPDX-License-Identifier: MIT */
/* Small pure helpers of the checks: parsing state and phase names, reason
 * names, HTTP status sets and decoding of --send escapes (escaping for
 * display is lib/util/escape.c). No I/O here, so all of it can be
 * unit-tested and fuzzed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vigia/check.h"

int vg_check_state_parse(const char *s)
{
    for(int i = 0; i < 4; i++)
        if(s && !strcasecmp(s, vg_check_state_name(i)))
            return i;
    return -1;
}

/* Rank for "worst": OK < UNKNOWN < WARNING < CRITICAL. */
static int state_rank(int s)
{
    switch(s) {
    case VG_CHECK_OK: return 0;
    case VG_CHECK_UNKNOWN: return 1;
    case VG_CHECK_WARNING: return 2;
    default: return 3;
    }
}

int vg_check_state_worst(int a, int b)
{
    return state_rank(a) >= state_rank(b) ? a : b;
}

int vg_phase_parse(const char *s)
{
    for(int i = 0; i < VG_PHASE__COUNT; i++)
        if(s && !strcasecmp(s, vg_phase_name(i)))
            return i;
    if(s && (!strcasecmp(s, "time") || !strcasecmp(s, "first-byte") || !strcasecmp(s, "ttfb")))
        return !strcasecmp(s, "time") ? VG_PHASE_TOTAL : VG_PHASE_FIRSTBYTE;
    return -1;
}

static const char *const reason_names[VG_CR__COUNT] = {
    [VG_CR_OK] = "ok",
    [VG_CR_DNS_NXDOMAIN] = "dns-nxdomain",
    [VG_CR_DNS_TIMEOUT] = "dns-timeout",
    [VG_CR_DNS_ERROR] = "dns-error",
    [VG_CR_CONN_REFUSED] = "conn-refused",
    [VG_CR_CONN_TIMEOUT] = "conn-timeout",
    [VG_CR_CONN_RESET] = "conn-reset",
    [VG_CR_CONN_CLOSED] = "conn-closed",
    [VG_CR_HOST_UNREACH] = "host-unreach",
    [VG_CR_NET_UNREACH] = "net-unreach",
    [VG_CR_CONN_ERROR] = "conn-error",
    [VG_CR_TLS_TIMEOUT] = "tls-timeout",
    [VG_CR_TLS_HANDSHAKE] = "tls-handshake",
    [VG_CR_CERT_EXPIRED] = "cert-expired",
    [VG_CR_CERT_EXPIRING] = "cert-expiring",
    [VG_CR_CERT_NOT_YET_VALID] = "cert-not-yet-valid",
    [VG_CR_CERT_UNTRUSTED] = "cert-untrusted",
    [VG_CR_CERT_HOSTNAME] = "cert-hostname",
    [VG_CR_READ_TIMEOUT] = "read-timeout",
    [VG_CR_STATUS_MISMATCH] = "status-mismatch",
    [VG_CR_BODY_MISMATCH] = "body-mismatch",
    [VG_CR_TOO_MANY_REDIRECTS] = "too-many-redirects",
    [VG_CR_PROTOCOL_ERROR] = "protocol-error",
    [VG_CR_PROXY_ERROR] = "proxy-error",
    [VG_CR_HTTP_ERROR] = "http-error",
    [VG_CR_EXPECT_MISMATCH] = "expect-mismatch",
    [VG_CR_BANNER_MISMATCH] = "banner-mismatch",
    [VG_CR_HOSTKEY_MISMATCH] = "hostkey-mismatch",
    [VG_CR_SLOW_DNS] = "slow-dns",
    [VG_CR_SLOW_CONNECT] = "slow-connect",
    [VG_CR_SLOW_TLS] = "slow-tls",
    [VG_CR_SLOW_FIRSTBYTE] = "slow-firstbyte",
    [VG_CR_SLOW_TOTAL] = "slow-total",
    [VG_CR_RETRIED] = "retried",
    [VG_CR_CONFIG_ERROR] = "config-error",
    [VG_CR_INTERRUPTED] = "interrupted",
    [VG_CR_INTERNAL] = "internal-error",
    [VG_CR_DNS_SERVFAIL] = "dns-servfail",
    [VG_CR_RCODE_MISMATCH] = "rcode-mismatch",
    [VG_CR_ANSWER_MISMATCH] = "answer-mismatch",
    [VG_CR_NOT_AUTHORITATIVE] = "not-authoritative",
    [VG_CR_SERVER_ERROR] = "server-error",
    [VG_CR_PORT_UNREACH] = "port-unreach",
    [VG_CR_PACKET_LOSS] = "packet-loss",
    [VG_CR_STARTTLS] = "starttls-refused",
    [VG_CR_HOSTKEY_UNVERIFIED] = "hostkey-unverified",
};

const char *vg_check_reason_name(int reason)
{
    if(reason < 0 || reason >= VG_CR__COUNT || !reason_names[reason])
        return "internal-error";
    return reason_names[reason];
}

bool vg_check_reason_is_timeout(int reason)
{
    return reason == VG_CR_DNS_TIMEOUT || reason == VG_CR_CONN_TIMEOUT ||
           reason == VG_CR_TLS_TIMEOUT || reason == VG_CR_READ_TIMEOUT;
}

/* --- status sets ------------------------------------------------------- */

static bool parse_status(const char *s, size_t n, uint16_t *out)
{
    unsigned v = 0;
    if(n != 3)
        return false;
    for(size_t i = 0; i < n; i++) {
        if(s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if(v < 100)
        return false;
    *out = (uint16_t)v;
    return true;
}

int vg_status_set_parse(vg_status_set *set, const char *s, vg_error *err)
{
    const char *p = s;
    memset(set, 0, sizeof(*set));
    if(!s || !*s)
        return vg_error_set(err, VG_EINVAL, "empty status set: expected e.g. 200-299,401");
    while(*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', n);
        uint16_t lo, hi;
        if(set->n == VG_STATUS_SET_MAX)
            return vg_error_set(err, VG_EINVAL, "status set '%s': at most %d items", s,
                                VG_STATUS_SET_MAX);
        if(dash) {
            if(!parse_status(p, (size_t)(dash - p), &lo) ||
               !parse_status(dash + 1, n - (size_t)(dash - p) - 1, &hi) || hi < lo)
                goto bad;
        }
        else {
            if(!parse_status(p, n, &lo))
                goto bad;
            hi = lo;
        }
        set->lo[set->n] = lo;
        set->hi[set->n] = hi;
        set->n++;
        if(!end)
            break;
        p = end + 1;
        if(!*p)
            goto bad;
    }
    return VG_OK;
bad:
    memset(set, 0, sizeof(*set));
    return vg_error_set(err, VG_EINVAL,
                        "bad status set '%s': expected codes 100-999 and ranges, e.g. 200-299,401", s);
}

bool vg_status_set_has(const vg_status_set *set, long status)
{
    if(!set->n)
        return status >= 200 && status <= 399;
    for(unsigned i = 0; i < set->n; i++)
        if(status >= set->lo[i] && status <= set->hi[i])
            return true;
    return false;
}

/* --- --send escapes ----------------------------------------------------- */

static int hexval(char c)
{
    if(c >= '0' && c <= '9')
        return c - '0';
    if(c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if(c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long vg_unescape(char *out, size_t outcap, const char *in)
{
    size_t o = 0;
    for(const char *p = in; *p; p++) {
        char c = *p;
        if(c == '\\') {
            p++;
            switch(*p) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '0': c = '\0'; break;
            case '\\': c = '\\'; break;
            case 'x': {
                int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
                if(h < 0 || l < 0)
                    return -1;
                c = (char)(h << 4 | l);
                p += 2;
                break;
            }
            default:
                return -1;
            }
        }
        if(o == outcap)
            return -1;
        out[o++] = c;
    }
    return (long)o;
}
