/* SPDX-License-Identifier: MIT */
/* smtp://, imap:// and postgres://: the plain-text exchange that asks the
 * server to start TLS (SMTP EHLO + STARTTLS, RFC 3207; IMAP STARTTLS, RFC
 * 9051 6.2.1; the PostgreSQL SSLRequest), then a TLS handshake on the same
 * connection, judged like tls:// (trust, host name, expiry of the chain).
 * Bytes a server sends after its "go ahead" and before the handshake are a
 * protocol error (the STARTTLS command-injection class of bugs), never fed
 * to TLS. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "check/starttls_wire.h"
#include "util/buf.h"

#define ST_MAX_LINE 16384

struct st_ctx {
    vg_stream stream;
    st_parser p;                /* protocol, step, what the server offered */
};

static const char *const st_names[] = {"SMTP", "IMAP", "PostgreSQL"};

static const check_wrong_kind st_wrong_kind[] = {
    {"send", "--send/--expect do not apply to STARTTLS kinds (use tls://)"},
    {"expect", "--send/--expect do not apply to STARTTLS kinds (use tls://)"},
    {NULL, NULL},
};

static int st_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->cacert && access(o->cacert, R_OK) != 0)
        return vg_error_set(err, VG_EINVAL, "--cacert '%s': cannot read it", o->cacert);
    return VG_OK;
}

static void st_fail(vg_stream *s, int state, int reason, const char *what, const uint8_t *line, size_t n)
{
    vg_check *ck = s->ck;
    struct st_ctx *c = s->ud;
    char where[160], esc[200];
    check_where(ck, where, sizeof(where));
    vg_escape(esc, sizeof(esc), line, n);
    check_finding(ck, state, reason, "%s server at %s %s: \"%s\"", st_names[c->p.proto], where, what, esc);
    check_attempt_done(ck);
}

/* The plain part is over: nothing may be left over before the handshake. */
static void st_go_tls(vg_stream *s)
{
    struct st_ctx *c = s->ud;
    if(s->in_len) {
        st_fail(s, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                "sent data after agreeing to start TLS (plain text that could be injected)", s->in, s->in_len);
        return;
    }
    c->p.step = S_TLS;
    stream_start_tls(s);
}

static int st_send(vg_stream *s, const char *text)
{
    if(stream_write(s, text, strlen(text))) {
        check_finding(s->ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        check_attempt_done(s->ck);
        return -1;
    }
    return 0;
}

static void st_banner(vg_stream *s, const uint8_t *line, size_t n)
{
    vg_escape(s->ck->run->res.banner, sizeof(s->ck->run->res.banner), line, n);
}

/* --- the pure part: what the server's bytes mean (starttls_wire.h) -------- */

static void v_fail(st_verdict *v, int state, int reason, const char *what, const uint8_t *text, size_t n)
{
    v->action = ST_A_FAIL;
    v->state = state;
    v->reason = reason;
    v->what = what;
    v->text = text;
    v->len = n;
}

static void v_send(st_verdict *v, const char *cmd)
{
    v->action = ST_A_SEND;
    v->send = cmd;
}

static bool smtp_code(const uint8_t *l, size_t n, int *code, bool *last)
{
    if(n < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9')
        return false;
    if(n > 3 && l[3] != ' ' && l[3] != '-')
        return false;
    *code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
    *last = n == 3 || l[3] == ' ';
    return true;
}

/* One complete SMTP line (CRLF stripped). */
static void smtp_line(st_parser *c, const uint8_t *l, size_t n, st_verdict *v)
{
    int code;
    bool last;
    if(!smtp_code(l, n, &code, &last)) {
        v_fail(v, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "does not speak SMTP", l, n);
        return;
    }
    switch(c->step) {
    case S_GREETING:
        v->banner = ST_BANNER_FIRST;
        v->text = l;
        v->len = n;
        if(code != 220) {
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "refused the session", l, n);
            return;
        }
        if(!last)
            return;
        c->step = S_EHLO;
        v_send(v, "EHLO vigia.invalid\r\n");
        return;
    case S_EHLO:
        if(code != 250) {
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "rejected EHLO", l, n);
            return;
        }
        if(n >= 12 && !strncasecmp((const char *)l + 4, "STARTTLS", 8) && (n == 12 || l[12] == ' '))
            c->offers_starttls = true;
        if(!last)
            return;
        if(!c->offers_starttls) {
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "does not offer STARTTLS; its EHLO reply ended", l, n);
            return;
        }
        c->step = S_REPLY;
        v_send(v, "STARTTLS\r\n");
        return;
    case S_REPLY:
        if(code != 220) {
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "refused STARTTLS", l, n);
            return;
        }
        if(last)
            v->action = ST_A_TLS;
        return;
    default:
        v->action = ST_A_WAIT;
        return;
    }
}

static void imap_line(st_parser *c, const uint8_t *l, size_t n, st_verdict *v)
{
    if(c->step == S_GREETING) {
        v->banner = ST_BANNER_SET;
        v->text = l;
        v->len = n;
        if(n >= 4 && (!strncasecmp((const char *)l, "* OK", 4) || (n >= 9 && !strncasecmp((const char *)l, "* PREAUTH", 9)))) {
            c->step = S_REPLY;
            v_send(v, "v1 STARTTLS\r\n");
            return;
        }
        if(n >= 5 && !strncasecmp((const char *)l, "* BYE", 5))
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "refused the session", l, n);
        else
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "does not speak IMAP", l, n);
        return;
    }
    if(n >= 2 && l[0] == '*' && l[1] == ' ')
        return; /* untagged data (CAPABILITY, ...) */
    if(n >= 5 && !strncasecmp((const char *)l, "v1 OK", 5)) {
        v->action = ST_A_TLS;
        return;
    }
    if(n >= 3 && !strncasecmp((const char *)l, "v1 ", 3))
        v_fail(v, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "refused STARTTLS", l, n);
    else
        v_fail(v, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "sent an unexpected line", l, n);
}

size_t st_feed(st_parser *p, const uint8_t *in, size_t len, size_t cap, uint8_t line[ST_LINE_KEEP],
               st_verdict *v)
{
    const uint8_t *nl = memchr(in, '\n', len);
    size_t n, used, keep;
    memset(v, 0, sizeof(*v));
    if(!nl) {
        v->action = ST_A_WAIT;
        if(len == cap)
            /* A full buffer without a newline: quote its start (cap is
             * far above 64 for real streams; never more than len). */
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "sent a line longer than 16 KiB", in,
                   len < 64 ? len : 64);
        return 0;
    }
    used = (size_t)(nl - in) + 1;
    n = used - 1;
    if(n && in[n - 1] == '\r')
        n--;
    /* The line is copied: the caller consumes the buffer before acting. */
    keep = n < ST_LINE_KEEP ? n : ST_LINE_KEEP;
    memcpy(line, in, keep);
    v->action = ST_A_MORE;
    if(p->proto == P_SMTP)
        smtp_line(p, line, keep, v);
    else
        imap_line(p, line, keep, v);
    return used;
}

/* PostgreSQL: one byte, 'S' (go ahead), 'N' (no TLS), or an ErrorResponse. */
size_t st_pg_reply(const uint8_t *p, size_t n, st_verdict *v)
{
    vg_rd r;
    uint8_t first;
    memset(v, 0, sizeof(*v));
    vg_rd_init(&r, p, n);
    if(!vg_rd_u8(&r, &first)) {
        v->action = ST_A_WAIT;
        return 0;
    }
    if(first == 'S') {
        v->action = ST_A_TLS;
        return 1;
    }
    if(first == 'N') {
        v_fail(v, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "does not do SSL: it answered the SSLRequest with", p, 1);
        return 0;
    }
    if(first == 'E') {
        /* 'E', int32 length, then (type byte, C string)... until a 0 type. */
        vg_rd body;
        uint32_t len;
        uint8_t type;
        v->action = ST_A_WAIT;
        if(!vg_rd_be32(&r, &len))
            return 0;
        if(len < 4 || len > ST_MAX_LINE - 1) {
            v_fail(v, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "sent a malformed error", p, n < 16 ? n : 16);
            return 0;
        }
        if(!vg_rd_sub(&r, len - 4, &body))
            return 0;
        while(vg_rd_u8(&body, &type) && type) {
            const uint8_t *field;
            size_t fl;
            if(!vg_rd_cstr(&body, &field, &fl))
                break;
            if(type == 'M') {
                v_fail(v, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "answered the SSLRequest with an error", field, fl);
                return 0;
            }
        }
        v_fail(v, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "answered the SSLRequest with an error", p, 0);
        return 0;
    }
    v_fail(v, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "does not speak PostgreSQL: it answered", p, n < 32 ? n : 32);
    return 0;
}

/* --- the stream side: doing what the verdict says --------------------------- */

/* Returns true when the next line may be read. */
static bool st_act(vg_stream *s, const st_verdict *v)
{
    if(v->banner == ST_BANNER_SET || (v->banner == ST_BANNER_FIRST && !s->ck->run->res.banner[0]))
        st_banner(s, v->text, v->len);
    switch(v->action) {
    case ST_A_MORE:
        return true;
    case ST_A_SEND:
        return st_send(s, v->send) == 0;
    case ST_A_TLS:
        st_go_tls(s);
        return false;
    case ST_A_FAIL:
        st_fail(s, v->state, v->reason, v->what, v->text, v->len);
        return false;
    default:
        return false;
    }
}

static void st_data(vg_stream *s)
{
    struct st_ctx *c = s->ud;
    st_verdict v;
    if(c->p.step == S_TLS) {
        stream_consume(s, s->in_len);
        return;
    }
    if(c->p.proto == P_PG) {
        stream_consume(s, st_pg_reply(s->in, s->in_len, &v));
        (void)st_act(s, &v);
        return;
    }
    /* Bounded: each round consumes a line. */
    for(;;) {
        uint8_t line[ST_LINE_KEEP];
        stream_consume(s, st_feed(&c->p, s->in, s->in_len, s->in_cap, line, &v));
        if(!st_act(s, &v) || !s->in_len)
            return;
    }
}

static void st_open(vg_stream *s)
{
    struct st_ctx *c = s->ud;
    vg_check *ck = s->ck;
    vg_check_result *r = &ck->run->res;
    char where[160], t[32], date[40];

    if(c->p.step == S_TLS) {
        /* The handshake is done and tls_evaluate has judged the chain. */
        check_where(ck, where, sizeof(where));
        if(r->ncerts) {
            time_t na = (time_t)r->certs[0].not_after;
            struct tm tm;
            gmtime_r(&na, &tm);
            strftime(date, sizeof(date), "%Y-%m-%d", &tm);
            check_summary(ck, "%s server at %s started TLS: %s handshake in %s; certificate %s valid until %s (%d days)",
                          st_names[c->p.proto], where, r->tls_version,
                          check_fmt_us(r->phase_us[VG_PHASE_TLS], t, sizeof(t)), r->certs[0].subject, date,
                          r->certs[0].days_left);
        }
        else
            check_summary(ck, "%s server at %s started TLS: %s handshake in %s", st_names[c->p.proto], where,
                          r->tls_version, check_fmt_us(r->phase_us[VG_PHASE_TLS], t, sizeof(t)));
        check_attempt_done(ck);
        return;
    }
    if(c->p.proto == P_PG) {
        /* SSLRequest: length 8, code 80877103 (1234 << 16 | 5679). */
        static const uint8_t req[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
        c->p.step = S_REPLY;
        if(stream_write(s, req, sizeof(req))) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
            check_attempt_done(ck);
        }
    }
    /* SMTP and IMAP: the server speaks first. */
}

static void st_close(vg_stream *s, int err)
{
    struct st_ctx *c = s->ud;
    vg_check *ck = s->ck;
    char where[160];
    check_where(ck, where, sizeof(where));
    check_finding(ck, VG_CHECK_CRITICAL, err ? VG_CR_CONN_RESET : VG_CR_CONN_CLOSED,
                  "connected to %s, but it %s the connection %s", where, err ? "reset" : "closed",
                  c->p.step == S_GREETING && c->p.proto != P_PG ? "without a greeting" : "before TLS started");
    check_attempt_done(ck);
}

static const vg_stream_ops st_ops = {
    .on_open = st_open,
    .on_data = st_data,
    .on_close = st_close,
};

static int st_start(vg_check *ck, int proto)
{
    struct st_ctx *c = check_kctx_new(ck, sizeof(*c));
    if(!c)
        return -1;
    c->p.proto = proto;
    return stream_open(&c->stream, ck, &st_ops, c, ST_MAX_LINE, false);
}

static int smtp_start(vg_check *ck)
{
    return st_start(ck, P_SMTP);
}

static int imap_start(vg_check *ck)
{
    return st_start(ck, P_IMAP);
}

static int pg_start(vg_check *ck)
{
    return st_start(ck, P_PG);
}

static void st_timeout(vg_check *ck)
{
    static const char *const waits[] = {"the greeting", "the EHLO reply", "the STARTTLS reply", "the TLS handshake"};
    struct st_ctx *c = ck->kctx;
    const char *what = c->p.proto == P_PG && c->p.step == S_REPLY ? "the SSLRequest reply" : waits[c->p.step];
    stream_timeout_finding(&c->stream, what);
    check_attempt_done(ck);
}

static void st_release(vg_check *ck)
{
    struct st_ctx *c = ck->kctx;
    if(!c)
        return;
    ck->kctx = NULL;
    if(c->stream.ck)
        stream_close(&c->stream);
    free(c);
}

const vg_check_type vg_check_smtp = {
    .name = "smtp", .label = "SMTP", .default_port = 25, .starttls = true,
    .kind = VG_KIND_STARTTLS, .fds = CHECK_FDS_STREAM,
    .wrong_kind = st_wrong_kind,
    .validate = st_validate, .start = smtp_start, .on_timeout = st_timeout, .release = st_release,
};

const vg_check_type vg_check_imap = {
    .name = "imap", .label = "IMAP", .default_port = 143, .starttls = true,
    .kind = VG_KIND_STARTTLS, .fds = CHECK_FDS_STREAM,
    .wrong_kind = st_wrong_kind,
    .validate = st_validate, .start = imap_start, .on_timeout = st_timeout, .release = st_release,
};

const vg_check_type vg_check_postgres = {
    .name = "postgres", .label = "POSTGRES", .default_port = 5432, .starttls = true,
    .kind = VG_KIND_STARTTLS, .fds = CHECK_FDS_STREAM,
    .wrong_kind = st_wrong_kind,
    .validate = st_validate, .start = pg_start, .on_timeout = st_timeout, .release = st_release,
};
