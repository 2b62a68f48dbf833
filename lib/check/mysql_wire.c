/* SPDX-License-Identifier: MIT */
/* Parsing the MySQL server greeting and the pre-handshake error packet
 * (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html).
 * Every read goes through util/buf.h and is checked against the packet's end. */
#include <stdint.h>
#include <string.h>

#include "check/mysql_wire.h"
#include "util/buf.h"
#include "vigia/check.h"

int mysql_parse_greeting(const uint8_t *buf, size_t len, mysql_greeting *g, size_t *used, const char **why)
{
    vg_rd r, p;
    uint32_t plen;
    uint8_t seq, b = 0;
    const uint8_t *str;
    size_t n;

    memset(g, 0, sizeof(*g));
    *used = 0;
    *why = NULL;
    vg_rd_init(&r, buf, len);
    if(!vg_rd_le24(&r, &plen) || !vg_rd_u8(&r, &seq))
        return 1;
    if(plen == 0) {
        *why = "empty packet";
        return -1;
    }
    if(plen > MYSQL_MAX_GREETING) {
        *why = "oversized greeting packet";
        return -1;
    }
    /* Everything below reads the packet's own bytes, never past them. */
    if(!vg_rd_sub(&r, plen, &p))
        return 1;
    *used = vg_rd_pos(&r);

    vg_rd_u8(&p, &b);
    if(b == 0xff) {
        uint16_t code;
        const uint8_t *st;
        g->is_error = true;
        if(!vg_rd_le16(&p, &code)) {
            *why = "truncated error packet";
            return -1;
        }
        g->err_code = code;
        if(vg_rd_peek(&p, 6, &st) && st[0] == '#') {
            memcpy(g->sqlstate, st + 1, 5);
            for(int i = 0; i < 5; i++)
                if(g->sqlstate[i] < 0x20 || g->sqlstate[i] > 0x7e)
                    g->sqlstate[i] = '?';
            g->sqlstate[5] = '\0';
            vg_rd_skip(&p, 6);
        }
        vg_escape(g->err_msg, sizeof(g->err_msg), vg_rd_ptr(&p), vg_rd_left(&p));
        return 0;
    }
    g->protocol = b;
    if(g->protocol != 10 && g->protocol != 9) {
        *why = "not a MySQL greeting (unknown protocol version)";
        return -1;
    }
    if(!vg_rd_cstr(&p, &str, &n)) {
        *why = "truncated server version";
        return -1;
    }
    vg_escape(g->version, sizeof(g->version), str, n);
    if(!vg_rd_le32(&p, &g->conn_id)) {
        *why = "truncated greeting (connection id)";
        return -1;
    }
    if(g->protocol == 9)
        return 0; /* then a NUL-terminated scramble; nothing more we report */
    {
        /* auth-plugin-data part 1 (8) + filler (1) + capability flags (2) */
        uint16_t caps;
        if(!vg_rd_skip(&p, 9) || !vg_rd_le16(&p, &caps)) {
            *why = "truncated greeting (capabilities)";
            return -1;
        }
        g->caps = caps;
    }
    if(vg_rd_left(&p) == 0)
        return 0; /* pre-4.1 servers stop here */
    {
        /* charset (1) + status (2) + upper caps (2) + auth data length (1) + reserved (10) */
        uint8_t charset, alen;
        uint16_t status, upper;
        if(!vg_rd_u8(&p, &charset) || !vg_rd_le16(&p, &status) || !vg_rd_le16(&p, &upper) ||
           !vg_rd_u8(&p, &alen) || !vg_rd_skip(&p, 10)) {
            *why = "truncated greeting (status)";
            return -1;
        }
        g->charset = charset;
        g->status = status;
        g->caps |= (uint32_t)upper << 16;
        if(g->caps & (1u << 15)) { /* CLIENT_SECURE_CONNECTION: auth data part 2 */
            size_t part2 = alen > 8 ? (size_t)alen - 8 : 0;
            if(part2 < 13)
                part2 = 13;
            if(!vg_rd_skip(&p, part2)) {
                *why = "truncated greeting (auth data)";
                return -1;
            }
        }
    }
    if((g->caps & (1u << 19)) && vg_rd_left(&p)) { /* CLIENT_PLUGIN_AUTH */
        /* Some servers omit the final NUL: take the rest then. */
        if(!vg_rd_find(&p, 0, SIZE_MAX, &n))
            n = vg_rd_left(&p);
        vg_escape(g->auth_plugin, sizeof(g->auth_plugin), vg_rd_ptr(&p), n);
    }
    return 0;
}
