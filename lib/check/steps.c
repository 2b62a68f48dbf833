/* SPDX-License-Identifier: MIT */
/* Multi-step send/expect (--step) on tcp://, tls:// and udp://: a script of
 * "send:TEXT" and "expect:REGEX" steps run in order. An expect step
 * consumes the input up to the end of its match, so the next expect sees
 * only what came after; its capture groups replace ${1}..${9} (and ${0},
 * the whole match) in later send steps, e.g. a challenge echoed back.
 * Streams run the script through the sendexpect ops; udp:// sends a
 * datagram per send step and matches each expect against one datagram. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "util/alloc.h"

#define STEPS_MAX 32
#define STEPS_MAX_CAPTURE 256
#define STEPS_MAX_SEND 65536

struct step {
    bool send;
    char *data;                 /* send: decoded bytes */
    size_t len;
    regex_t re;                 /* expect */
    const char *text;           /* as given, for messages */
};

struct steps_run {
    struct step v[STEPS_MAX];
    unsigned n, cur;
    char caps[10][STEPS_MAX_CAPTURE];
    size_t caplen[10];
    uint8_t *sendbuf;           /* the current send step, captures inserted */
    size_t evaluated;           /* stream: in_len at the last match attempt */
    bool finished;
};

static bool is_send(const char *item)
{
    return !strncmp(item, "send:", 5);
}

static bool is_expect(const char *item)
{
    return !strncmp(item, "expect:", 7);
}

int steps_validate(const vg_check_opts *o, vg_error *err)
{
    unsigned n = 0;
    if(!o->steps)
        return VG_OK;
    if(o->send || o->expect)
        return vg_error_set(err, VG_EINVAL, "--step replaces --send/--expect: use one or the other");
    for(const char *const *p = o->steps; *p; p++, n++) {
        if(n == STEPS_MAX)
            return vg_error_set(err, VG_EINVAL, "--step: at most %d steps", STEPS_MAX);
        if(is_send(*p)) {
            size_t l = strlen(*p + 5);
            char *buf = vg_malloc(l + 1);
            long dl;
            if(!buf)
                return vg_error_set(err, VG_ENOMEM, "out of memory");
            dl = vg_unescape(buf, l + 1, *p + 5);
            free(buf);
            if(dl < 0)
                return vg_error_set(err, VG_EINVAL, "--step '%s': bad escape (use \\r \\n \\t \\0 \\\\ \\xNN)", *p);
        }
        else if(is_expect(*p)) {
            regex_t re;
            int rc = sendexpect_compile(&re, *p + 7, "--step expect", err);
            if(rc)
                return rc;
            regfree(&re);
        }
        else
            return vg_error_set(err, VG_EINVAL, "--step '%s': expected send:TEXT or expect:REGEX", *p);
    }
    return VG_OK;
}

void steps_free(steps_run *r)
{
    if(!r)
        return;
    for(unsigned i = 0; i < r->n; i++) {
        if(r->v[i].send)
            free(r->v[i].data);
        else
            regfree(&r->v[i].re);
    }
    free(r->sendbuf);
    free(r);
}

steps_run *steps_new(const vg_check_opts *o)
{
    steps_run *r = vg_calloc(1, sizeof(*r));
    if(!r)
        return NULL;
    for(const char *const *p = o->steps; p && *p && r->n < STEPS_MAX; p++) {
        struct step *st = &r->v[r->n];
        st->text = *p;
        if(is_send(*p)) {
            size_t l = strlen(*p + 5);
            long dl;
            st->send = true;
            st->data = vg_malloc(l + 1);
            dl = st->data ? vg_unescape(st->data, l + 1, *p + 5) : -1;
            if(dl < 0) {
                free(st->data);
                goto fail;
            }
            st->len = (size_t)dl;
        }
        else if(sendexpect_compile(&st->re, *p + 7, "--step expect", NULL))
            goto fail;
        r->n++;
    }
    return r;
fail:
    steps_free(r);
    return NULL;
}

bool steps_done(const steps_run *r)
{
    return r->cur >= r->n;
}

unsigned steps_current(const steps_run *r, const char **text)
{
    unsigned i = r->cur < r->n ? r->cur : (r->n ? r->n - 1 : 0);
    *text = r->n ? r->v[i].text : "";
    return i + 1;
}

/* The current send step with ${N} replaced; NULL when out of memory. */
static const uint8_t *expand(steps_run *r, const struct step *st, size_t *len)
{
    size_t cap = st->len + 1, n = 0;
    for(size_t i = 0; i + 3 < st->len + 1 && i < st->len; i++)
        if(st->data[i] == '$')
            cap += STEPS_MAX_CAPTURE;
    if(cap > STEPS_MAX_SEND + 1)
        cap = STEPS_MAX_SEND + 1;
    free(r->sendbuf);
    r->sendbuf = vg_malloc(cap);
    if(!r->sendbuf)
        return NULL;
    for(size_t i = 0; i < st->len && n < cap - 1;) {
        if(i + 3 < st->len && st->data[i] == '$' && st->data[i + 1] == '{' && st->data[i + 2] >= '0' &&
           st->data[i + 2] <= '9' && st->data[i + 3] == '}') {
            int k = st->data[i + 2] - '0';
            size_t cl = r->caplen[k];
            if(cl > cap - 1 - n)
                cl = cap - 1 - n;
            memcpy(r->sendbuf + n, r->caps[k], cl);
            n += cl;
            i += 4;
            continue;
        }
        r->sendbuf[n++] = (uint8_t)st->data[i++];
    }
    *len = n;
    return r->sendbuf;
}

/* Tries the current expect step on data[0..len); on a match stores the
 * captures and returns the end of the match, else -1. */
static long try_expect(steps_run *r, const uint8_t *data, size_t len, size_t *start)
{
    regmatch_t m[10];
    struct step *st = &r->v[r->cur];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)len;
    if(regexec(&st->re, (const char *)data, 10, m, REG_STARTEND) != 0)
        return -1;
    for(int k = 0; k < 10; k++) {
        size_t cl = 0;
        if(m[k].rm_so >= 0 && m[k].rm_eo >= m[k].rm_so) {
            cl = (size_t)(m[k].rm_eo - m[k].rm_so);
            if(cl > STEPS_MAX_CAPTURE)
                cl = STEPS_MAX_CAPTURE;
            memcpy(r->caps[k], data + m[k].rm_so, cl);
        }
        r->caplen[k] = cl;
    }
    r->cur++;
    *start = (size_t)m[0].rm_so;
    return (long)m[0].rm_eo;
}

/* The line around data[pos], escaped, as the record's banner. */
static void set_banner(vg_check *ck, const uint8_t *data, size_t len)
{
    const uint8_t *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;
    if(n && data[n - 1] == '\r')
        n--;
    vg_escape(ck->run->res.banner, sizeof(ck->run->res.banner), data, n);
}

static void finish_ok(vg_check *ck, steps_run *r)
{
    char where[160];
    if(r->finished)
        return;
    r->finished = true;
    check_where(ck, where, sizeof(where));
    if(ck->run->res.banner[0])
        check_summary(ck, "%s: all %u steps passed; the last match: \"%s\"", where, r->n, ck->run->res.banner);
    else
        check_summary(ck, "%s: all %u steps passed", where, r->n);
    check_attempt_done(ck);
}

/* --- streams ------------------------------------------------------------- */

/* Both return true when the attempt has ended: s and r are then freed. */
static bool run_data(vg_stream *s, steps_run *r);

static bool advance(vg_stream *s, steps_run *r)
{
    vg_check *ck = s->ck;
    while(r->cur < r->n && r->v[r->cur].send) {
        size_t len = 0;
        const uint8_t *d = expand(r, &r->v[r->cur], &len);
        if(!d || stream_write(s, d, len)) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
            check_attempt_done(ck);
            return true;
        }
        r->cur++;
    }
    if(r->cur == r->n) {
        if(s->out_off >= s->out_len) {
            finish_ok(ck, r);
            return true;
        }
        return false; /* steps_on_sent finishes */
    }
    r->evaluated = 0;
    return s->in_len ? run_data(s, r) : false;
}

void steps_on_open(vg_stream *s, steps_run *r)
{
    (void)advance(s, r);
}

void steps_on_sent(vg_stream *s, steps_run *r)
{
    if(r->cur == r->n)
        finish_ok(s->ck, r);
}

static bool run_data(vg_stream *s, steps_run *r)
{
    vg_check *ck = s->ck;
    bool full = s->in_len == s->in_cap;
    bool nl;
    size_t start = 0;
    long end;

    if(r->cur >= r->n || r->v[r->cur].send)
        return false; /* kept for the next expect */
    nl = r->evaluated < s->in_len && memchr(s->in + r->evaluated, '\n', s->in_len - r->evaluated) != NULL;
    /* As sendexpect: rescan only when it can matter (a dripping peer). */
    if(!(s->in_len <= 4096 || nl || full || r->evaluated == 0)) {
        r->evaluated = s->in_len;
        return false;
    }
    r->evaluated = s->in_len;
    end = try_expect(r, s->in, s->in_len, &start);
    if(end >= 0) {
        set_banner(ck, s->in + start, s->in_len - start);
        stream_consume(s, (size_t)end);
        return advance(s, r);
    }
    if(full) {
        const char *text;
        unsigned k = steps_current(r, &text);
        char esc[160];
        set_banner(ck, s->in, s->in_len);
        vg_escape(esc, sizeof(esc), text, strlen(text));
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_EXPECT_MISMATCH,
                      "step %u (%s) read %zu bytes (the --max-read cap) without a match; it began: \"%s\"", k, esc,
                      s->in_len, ck->run->res.banner);
        check_attempt_done(ck);
        return true;
    }
    return false;
}

void steps_on_data(vg_stream *s, steps_run *r)
{
    (void)run_data(s, r);
}

void steps_on_close(vg_stream *s, steps_run *r, int err)
{
    vg_check *ck = s->ck;
    char where[160], esc[160];
    const char *text;
    unsigned k;

    if(r->cur < r->n && !r->v[r->cur].send && s->in_len) {
        r->evaluated = 0;
        if(run_data(s, r))
            return;
    }
    k = steps_current(r, &text);
    vg_escape(esc, sizeof(esc), text, strlen(text));
    check_where(ck, where, sizeof(where));
    if(s->in_len)
        set_banner(ck, s->in, s->in_len);
    if(err)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_RESET, "%s reset the connection at step %u (%s)", where, k,
                      esc);
    else if(r->cur < r->n && !r->v[r->cur].send && s->in_len)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_EXPECT_MISMATCH,
                      "%s closed the connection; step %u (%s) did not match what it sent: \"%s\"", where, k, esc,
                      ck->run->res.banner);
    else
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_CLOSED, "%s closed the connection at step %u (%s)", where, k,
                      esc);
    check_attempt_done(ck);
}

void steps_timeout(vg_check *ck, vg_stream *s, steps_run *r)
{
    char where[160], esc[160], t[32];
    const char *text;
    unsigned k;
    if(s->st != ST_OPEN) {
        stream_timeout_finding(s, "an answer");
        check_attempt_done(ck);
        return;
    }
    k = steps_current(r, &text);
    vg_escape(esc, sizeof(esc), text, strlen(text));
    check_where(ck, where, sizeof(where));
    if(s->in_len)
        set_banner(ck, s->in, s->in_len);
    check_finding(ck, VG_CHECK_CRITICAL, VG_CR_READ_TIMEOUT,
                  "connected to %s, but step %u (%s) did not complete within %s%s%s%s", where, k, esc,
                  check_fmt_us((int64_t)ck->opts->timeout_ms * 1000, t, sizeof(t)),
                  s->in_len ? "; unmatched input began \"" : "", s->in_len ? ck->run->res.banner : "",
                  s->in_len ? "\"" : "");
    check_attempt_done(ck);
}

/* --- datagrams ------------------------------------------------------------- */

bool steps_next_send(steps_run *r, const uint8_t **out, size_t *len)
{
    const uint8_t *d;
    if(r->cur >= r->n || !r->v[r->cur].send)
        return false;
    d = expand(r, &r->v[r->cur], len);
    r->cur++;
    *out = d ? d : (const uint8_t *)"";
    if(!d)
        *len = 0;
    return true;
}

int steps_on_datagram(vg_check *ck, steps_run *r, const uint8_t *d, size_t n)
{
    if(r->cur >= r->n || r->v[r->cur].send)
        return 0;
    size_t start;
    if(try_expect(r, d, n, &start) < 0)
        return 0;
    set_banner(ck, d, n);
    return 1;
}
