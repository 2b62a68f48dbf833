/* SPDX-License-Identifier: MIT */
/* Generic send/expect over tcp:// and tls://: once connected, send the
 * --send bytes, then read (at most --max-read bytes) until the --expect
 * regex matches, the peer closes, or the deadline passes. Reads are
 * matched with REG_STARTEND, so NUL bytes in the answer do no harm. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "util/alloc.h"

bool sendexpect_wanted(const vg_check_opts *opts)
{
    return opts->send || opts->expect || opts->steps;
}

/* The first line of what was read, escaped, into res.banner. */
static void se_banner(vg_stream *s)
{
    size_t n = s->in_len;
    const uint8_t *nl = memchr(s->in, '\n', n);
    if(nl)
        n = (size_t)(nl - s->in);
    if(n && s->in[n - 1] == '\r')
        n--;
    vg_escape(s->ck->run->res.banner, sizeof(s->ck->run->res.banner), s->in, n);
}

static bool se_try(vg_stream *s, struct sendexpect_state *se)
{
    se->evaluated = s->in_len;
    return sendexpect_match(se->re, s->in, s->in_len);
}

static void se_matched(vg_stream *s)
{
    vg_check *ck = s->ck;
    char t[32], where[128];
    se_banner(s);
    check_where(ck, where, sizeof(where));
    check_summary(ck, "%s answered in %s, matching the expected pattern: \"%s\"", where,
                  check_fmt_us(ck->run->res.phase_us[VG_PHASE_FIRSTBYTE], t, sizeof(t)), ck->run->res.banner);
    check_attempt_done(ck);
}

static void se_open(vg_stream *s)
{
    vg_check *ck = s->ck;
    struct sendexpect_state *se = s->ud;
    char where[128], t[32];
    if(ck->opts->steps) { /* --step: lib/check/steps.c runs the exchange */
        se->steps = steps_new(ck->opts);
        if(!se->steps) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory (preparing the --step script)");
            check_attempt_done(ck);
            return;
        }
        steps_on_open(s, se->steps);
        return;
    }
    if(ck->opts->expect) {
        se->re = vg_malloc(sizeof(regex_t));
        if(!se->re || sendexpect_compile(se->re, ck->opts->expect, "--expect", NULL)) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "%s",
                          se->re ? "cannot compile --expect" : "out of memory");
            free(se->re);
            se->re = NULL;
            check_attempt_done(ck);
            return;
        }
    }
    if(ck->opts->send && ck->opts->send_len) {
        if(stream_write(s, ck->opts->send, ck->opts->send_len)) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
            check_attempt_done(ck);
        }
        return;
    }
    if(!ck->opts->expect) {
        check_where(ck, where, sizeof(where));
        check_summary(ck, "connected to %s in %s", where,
                      check_fmt_us(ck->run->res.phase_us[VG_PHASE_CONNECT], t, sizeof(t)));
        check_attempt_done(ck);
    }
}

static void se_sent(vg_stream *s)
{
    vg_check *ck = s->ck;
    char where[128];
    struct sendexpect_state *se = s->ud;
    if(se->steps) {
        steps_on_sent(s, se->steps);
        return;
    }
    if(ck->opts->expect)
        return;
    check_where(ck, where, sizeof(where));
    check_summary(ck, "connected to %s and sent %zu bytes", where, ck->opts->send_len);
    check_attempt_done(ck);
}

static void se_data(vg_stream *s)
{
    vg_check *ck = s->ck;
    struct sendexpect_state *se = s->ud;
    bool full = s->in_len == s->in_cap;
    bool nl;

    if(se->steps) {
        steps_on_data(s, se->steps);
        return;
    }
    nl = memchr(s->in + se->evaluated, '\n', s->in_len - se->evaluated) != NULL;
    if(!se->re) {
        /* --send only: the answer is not judged; drop it. */
        stream_consume(s, s->in_len);
        return;
    }
    /* Re-run the regex only when it can matter, so that a peer dripping
     * one byte at a time cannot make us rescan 64 KiB per byte. */
    if((s->in_len <= 4096 || nl || full || se->evaluated == 0) && se_try(s, se)) {
        se_matched(s);
        return;
    }
    if(full) {
        se_banner(s);
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_EXPECT_MISMATCH,
                      "read %zu bytes (the --max-read cap) without a match for the expected pattern; it began: \"%s\"",
                      s->in_len, ck->run->res.banner);
        check_attempt_done(ck);
    }
}

static void se_close(vg_stream *s, int err)
{
    vg_check *ck = s->ck;
    struct sendexpect_state *se = s->ud;
    char where[128];

    if(se->steps) {
        steps_on_close(s, se->steps, err);
        return;
    }
    if(se->re && s->in_len && se_try(s, se)) {
        se_matched(s);
        return;
    }
    check_where(ck, where, sizeof(where));
    se_banner(s);
    if(err)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_RESET,
                      "connected to %s, but it reset the connection after %llu bytes", where,
                      (unsigned long long)s->total_read);
    else if(!se->re)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_CLOSED,
                      "connected to %s, but it closed the connection before all was sent", where);
    else if(!s->total_read)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_CLOSED,
                      "connected to %s, but it closed the connection without answering", where);
    else
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_EXPECT_MISMATCH,
                      "connected to %s; it closed after %llu bytes without a match for the expected pattern; it began: \"%s\"",
                      where, (unsigned long long)s->total_read, ck->run->res.banner);
    check_attempt_done(ck);
}

const vg_stream_ops sendexpect_ops = {
    .on_open = se_open,
    .on_data = se_data,
    .on_close = se_close,
    .on_sent = se_sent,
};

void sendexpect_timeout(vg_check *ck, struct sendexpect_state *se)
{
    vg_stream *s = &se->stream;
    if(se->steps) {
        steps_timeout(ck, s, se->steps);
        return;
    }
    if(s->st == ST_OPEN && se->re && s->in_len && se_try(s, se)) {
        se_matched(s);
        return;
    }
    if(s->st == ST_OPEN && s->in_len)
        se_banner(s);
    if(s->st == ST_OPEN && s->in_len && ck->run->res.banner[0]) {
        char where[128], t[32];
        check_where(ck, where, sizeof(where));
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_READ_TIMEOUT,
                      "connected to %s, but the expected pattern did not arrive within %s; it sent %llu bytes beginning \"%s\"",
                      where, check_fmt_us((int64_t)ck->opts->timeout_ms * 1000, t, sizeof(t)),
                      (unsigned long long)s->total_read, ck->run->res.banner);
    }
    else
        stream_timeout_finding(s, "an answer");
    check_attempt_done(ck);
}

void sendexpect_release(struct sendexpect_state *se)
{
    if(se->stream.ck)
        stream_close(&se->stream);
    if(se->re) {
        regfree(se->re);
        free(se->re);
        se->re = NULL;
    }
    steps_free(se->steps);
    se->steps = NULL;
}

/* --- the stream kinds tcp:// and tls:// ------------------------------------ */

void stream_discard_data(vg_stream *s)
{
    stream_consume(s, s->in_len);
}

void stream_ignore_close(vg_stream *s, int err)
{
    (void)s;
    (void)err;
}

int sendexpect_kind_start(vg_check *ck, const vg_stream_ops *plain_ops, bool tls)
{
    struct sendexpect_state *se = check_kctx_new(ck, sizeof(*se));
    bool exchange = sendexpect_wanted(ck->opts);
    if(!se)
        return -1;
    return stream_open(&se->stream, ck, exchange ? &sendexpect_ops : plain_ops, se,
                       exchange ? ck->opts->max_read : 0, tls);
}

void sendexpect_kind_timeout(vg_check *ck)
{
    sendexpect_timeout(ck, ck->kctx);
}

void sendexpect_kind_release(vg_check *ck)
{
    if(ck->kctx) {
        sendexpect_release(ck->kctx);
        free(ck->kctx);
        ck->kctx = NULL;
    }
}
