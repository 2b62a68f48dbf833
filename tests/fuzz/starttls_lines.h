/* SPDX-License-Identifier: MIT */
/* Shared by fuzz_smtp.c and fuzz_imap.c: the server's bytes go through
 * st_feed() line by line, as starttls.c's receive loop runs it, until the
 * parser waits, fails or starts TLS. Every verdict must point inside the
 * input or the line copy, every round that goes on must consume bytes, and
 * the protocol's step may only move forward. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/starttls_wire.h"
#include "vigia/check.h"

#define FUZZ_ST_CAP 16384 /* starttls.c's receive buffer (ST_MAX_LINE) */

static void st_check_text(const st_verdict *v, const uint8_t *buf, size_t len, const uint8_t *line)
{
    bool in_buf = v->text >= buf && v->text + v->len <= buf + len;
    bool in_line = v->text >= line && v->text + v->len <= line + ST_LINE_KEEP;
    if(v->len && !in_buf && !in_line)
        abort();
}

static void st_fuzz_lines(int proto, const uint8_t *data, size_t size)
{
    size_t len = size < FUZZ_ST_CAP ? size : FUZZ_ST_CAP;
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(len ? len : 1), *in;
    st_parser p = {.proto = proto, .step = S_GREETING};
    unsigned sends = 0;
    if(!buf)
        return;
    memcpy(buf, data, len);
    in = buf;
    for(;;) {
        uint8_t line[ST_LINE_KEEP];
        st_verdict v;
        int before = p.step;
        size_t rest = len - (size_t)(in - buf);
        size_t used = st_feed(&p, in, rest, FUZZ_ST_CAP - (size_t)(in - buf), line, &v);
        if(used > rest || p.step < before || p.step > S_REPLY)
            abort();
        if(v.banner != ST_BANNER_NONE)
            st_check_text(&v, buf, len, line);
        switch(v.action) {
        case ST_A_WAIT:
            if(used)
                abort();
            goto out;
        case ST_A_MORE:
            if(!used)
                abort();
            break;
        case ST_A_SEND:
            if(!used || !v.send || !strchr(v.send, '\n') || ++sends > 2)
                abort();
            break;
        case ST_A_TLS:
            if(!used || p.step != S_REPLY)
                abort();
            goto out;
        case ST_A_FAIL:
            if(!v.what || v.state != VG_CHECK_CRITICAL || v.reason < 0 || v.reason >= VG_CR__COUNT)
                abort();
            st_check_text(&v, buf, len, line);
            goto out;
        default:
            abort();
        }
        in += used;
    }
out:
    free(buf);
}
