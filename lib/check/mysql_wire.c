/* SPDX-License-Identifier: MIT */
/* Parsing the MySQL server greeting and the pre-handshake error packet
 * (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html).
 * Every read is checked against the packet's end. */
#include <string.h>

#include "check/mysql_wire.h"
#include "vigia/check.h"

/* The NUL-terminated string at p[*off..end): escaped into out, *off moved
 * past the NUL. Returns -1 when there is no NUL before end. */
static int read_cstr(const uint8_t *p, size_t end, size_t *off, char *out, size_t outlen)
{
    const uint8_t *nul;
    if(*off > end)
        return -1;
    nul = memchr(p + *off, 0, end - *off);
    if(!nul)
        return -1;
    vg_escape(out, outlen, p + *off, (size_t)(nul - (p + *off)));
    *off = (size_t)(nul - p) + 1;
    return 0;
}

static bool have(size_t off, size_t n, size_t end)
{
    return off <= end && n <= end - off;
}

static uint32_t le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for(unsigned i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

int mysql_parse_greeting(const uint8_t *buf, size_t len, mysql_greeting *g, size_t *used, const char **why)
{
    size_t plen, end, off = 4;

    memset(g, 0, sizeof(*g));
    *used = 0;
    *why = NULL;
    if(len < 4)
        return 1;
    plen = le(buf, 3);
    if(plen == 0) {
        *why = "empty packet";
        return -1;
    }
    if(plen > MYSQL_MAX_GREETING) {
        *why = "oversized greeting packet";
        return -1;
    }
    if(len - 4 < plen)
        return 1;
    end = 4 + plen;
    *used = end;

    if(buf[off] == 0xff) {
        g->is_error = true;
        off++;
        if(!have(off, 2, end)) {
            *why = "truncated error packet";
            return -1;
        }
        g->err_code = (int)le(buf + off, 2);
        off += 2;
        if(have(off, 6, end) && buf[off] == '#') {
            memcpy(g->sqlstate, buf + off + 1, 5);
            for(int i = 0; i < 5; i++)
                if(g->sqlstate[i] < 0x20 || g->sqlstate[i] > 0x7e)
                    g->sqlstate[i] = '?';
            g->sqlstate[5] = '\0';
            off += 6;
        }
        vg_escape(g->err_msg, sizeof(g->err_msg), buf + off, end - off);
        return 0;
    }
    g->protocol = buf[off++];
    if(g->protocol != 10 && g->protocol != 9) {
        *why = "not a MySQL greeting (unknown protocol version)";
        return -1;
    }
    if(read_cstr(buf, end, &off, g->version, sizeof(g->version))) {
        *why = "truncated server version";
        return -1;
    }
    if(!have(off, 4, end)) {
        *why = "truncated greeting (connection id)";
        return -1;
    }
    g->conn_id = le(buf + off, 4);
    off += 4;
    if(g->protocol == 9)
        return 0; /* then a NUL-terminated scramble; nothing more we report */
    /* auth-plugin-data part 1 (8) + filler (1) + capability flags (2) */
    if(!have(off, 11, end)) {
        *why = "truncated greeting (capabilities)";
        return -1;
    }
    off += 9;
    g->caps = le(buf + off, 2);
    off += 2;
    if(off == end)
        return 0; /* pre-4.1 servers stop here */
    /* charset (1) + status (2) + upper caps (2) + auth data length (1) + reserved (10) */
    if(!have(off, 16, end)) {
        *why = "truncated greeting (status)";
        return -1;
    }
    g->charset = buf[off];
    g->status = (uint16_t)le(buf + off + 1, 2);
    g->caps |= le(buf + off + 3, 2) << 16;
    {
        size_t alen = buf[off + 5];
        off += 16;
        if(g->caps & (1u << 15)) { /* CLIENT_SECURE_CONNECTION: auth data part 2 */
            size_t part2 = alen > 8 ? alen - 8 : 0;
            if(part2 < 13)
                part2 = 13;
            if(!have(off, part2, end)) {
                *why = "truncated greeting (auth data)";
                return -1;
            }
            off += part2;
        }
    }
    if((g->caps & (1u << 19)) && off < end) { /* CLIENT_PLUGIN_AUTH */
        /* Some servers omit the final NUL: take the rest then. */
        const uint8_t *nul = memchr(buf + off, 0, end - off);
        size_t n = nul ? (size_t)(nul - (buf + off)) : end - off;
        vg_escape(g->auth_plugin, sizeof(g->auth_plugin), buf + off, n);
    }
    return 0;
}
