/* SPDX-License-Identifier: MIT */
/* Which check fits an open port (scan --check): by well-known port number,
 * or by what the service said first (its banner). Pure functions: no I/O,
 * every byte of the banner read through explicit bounds. */
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "vigia/check.h"

const char *vg_check_kind_for_port(uint16_t port)
{
    static const struct { uint16_t port; const char *kind; } map[] = {
        {22, "ssh"}, {25, "smtp"}, {53, "dns"}, {80, "http"}, {143, "imap"},
        {443, "https"}, {587, "smtp"}, {3306, "mysql"},
    };
    for(size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if(map[i].port == port)
            return map[i].kind;
    }
    return NULL;
}

static bool has_prefix(const unsigned char *b, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && !memcmp(b, p, n);
}

/* Case-insensitive search of needle in the first line of b[0..len). */
static bool line_has(const unsigned char *b, size_t len, const char *needle)
{
    size_t n = strlen(needle), end = 0;
    while(end < len && b[end] != '\n')
        end++;
    for(size_t i = 0; n && i + n <= end; i++) {
        if(!strncasecmp((const char *)b + i, needle, n))
            return true;
    }
    return false;
}

/* A MySQL/MariaDB server's first packet: 3-byte little-endian length,
 * sequence 0, then protocol 10 (a greeting whose version starts with a
 * digit) or 0xff (an error packet: "host not allowed", "too many
 * connections"). */
static bool is_mysql(const unsigned char *b, size_t len)
{
    vg_rd r;
    uint32_t plen;
    uint8_t seq, kind, v0;
    vg_rd_init(&r, b, len);
    if(!vg_rd_le24(&r, &plen) || !vg_rd_u8(&r, &seq) || !vg_rd_u8(&r, &kind) || seq != 0)
        return false;
    if(kind == 0xff)
        return plen >= 3 && plen <= 16384;
    if(kind != 0x0a || plen < 10 || plen > 16384)
        return false;
    return !vg_rd_u8(&r, &v0) || (v0 >= '0' && v0 <= '9');
}

const char *vg_check_classify_banner(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    if(!b || !len)
        return NULL;
    if(has_prefix(b, len, "SSH-"))
        return "ssh";
    if(has_prefix(b, len, "HTTP/"))
        return "http";
    if((has_prefix(b, len, "220 ") || has_prefix(b, len, "220-")) &&
       (line_has(b, len, "SMTP") || line_has(b, len, "ESMTP")))
        return "smtp";
    if(has_prefix(b, len, "* OK"))
        return "imap";
    if(is_mysql(b, len))
        return "mysql";
    return NULL;
}

const char *vg_check_classify_result(const vg_check_result *r)
{
    char raw[sizeof(r->banner) + 1];
    long n;
    if(!r || !r->bytes_read)
        return NULL;
    /* The banner is the first line, escaped: undo the escaping, and put
     * back the newline that ended it when more was read (a MySQL
     * greeting's protocol byte 10 is a newline). */
    n = vg_unescape(raw, sizeof(raw) - 1, r->banner);
    if(n < 0)
        return NULL;
    if((uint64_t)n < r->bytes_read)
        raw[n++] = '\n';
    return vg_check_classify_banner(raw, (size_t)n);
}
