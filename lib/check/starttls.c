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

#define ST_MAX_LINE 16384

enum st_proto { P_SMTP, P_IMAP, P_PG };
enum st_step { S_GREETING, S_EHLO, S_REPLY, S_TLS };

struct st_ctx {
    vg_stream stream;
    int proto;                  /* enum st_proto */
    int step;                   /* enum st_step */
    bool offers_starttls;       /* SMTP: seen in the EHLO reply */
};

static const char *const st_names[] = {"SMTP", "IMAP", "PostgreSQL"};

static int st_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->expect_body || o->expect_status.n || o->method || o->data || o->headers || o->follow)
        return vg_error_set(err, VG_EINVAL, "HTTP options need an http:// or https:// target");
    if(o->expect_version || o->expect_hostkey)
        return vg_error_set(err, VG_EINVAL, "SSH options need an ssh:// target");
    if(o->send || o->expect)
        return vg_error_set(err, VG_EINVAL, "--send/--expect do not apply to STARTTLS kinds (use tls://)");
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
    check_finding(ck, state, reason, "%s server at %s %s: \"%s\"", st_names[c->proto], where, what, esc);
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
    c->step = S_TLS;
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
    vg_escape(s->ck->res.banner, sizeof(s->ck->res.banner), line, n);
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

/* One complete line (CRLF stripped). Returns false when the attempt ended
 * or TLS started (stop reading lines). */
static bool smtp_line(vg_stream *s, const uint8_t *l, size_t n)
{
    struct st_ctx *c = s->ud;
    int code;
    bool last;
    if(!smtp_code(l, n, &code, &last)) {
        st_fail(s, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "does not speak SMTP", l, n);
        return false;
    }
    switch(c->step) {
    case S_GREETING:
        if(!s->ck->res.banner[0])
            st_banner(s, l, n);
        if(code != 220) {
            st_fail(s, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "refused the session", l, n);
            return false;
        }
        if(!last)
            return true;
        c->step = S_EHLO;
        return st_send(s, "EHLO vigia.invalid\r\n") == 0;
    case S_EHLO:
        if(code != 250) {
            st_fail(s, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "rejected EHLO", l, n);
            return false;
        }
        if(n >= 12 && !strncasecmp((const char *)l + 4, "STARTTLS", 8) && (n == 12 || l[12] == ' '))
            c->offers_starttls = true;
        if(!last)
            return true;
        if(!c->offers_starttls) {
            st_fail(s, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "does not offer STARTTLS; its EHLO reply ended", l, n);
            return false;
        }
        c->step = S_REPLY;
        return st_send(s, "STARTTLS\r\n") == 0;
    case S_REPLY:
        if(code != 220) {
            st_fail(s, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "refused STARTTLS", l, n);
            return false;
        }
        if(!last)
            return true;
        st_go_tls(s);
        return false;
    default:
        return false;
    }
}

static bool imap_line(vg_stream *s, const uint8_t *l, size_t n)
{
    struct st_ctx *c = s->ud;
    if(c->step == S_GREETING) {
        st_banner(s, l, n);
        if(n >= 4 && (!strncasecmp((const char *)l, "* OK", 4) || (n >= 9 && !strncasecmp((const char *)l, "* PREAUTH", 9)))) {
            c->step = S_REPLY;
            return st_send(s, "v1 STARTTLS\r\n") == 0;
        }
        if(n >= 5 && !strncasecmp((const char *)l, "* BYE", 5))
            st_fail(s, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "refused the session", l, n);
        else
            st_fail(s, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "does not speak IMAP", l, n);
        return false;
    }
    if(n >= 2 && l[0] == '*' && l[1] == ' ')
        return true; /* untagged data (CAPABILITY, ...) */
    if(n >= 5 && !strncasecmp((const char *)l, "v1 OK", 5)) {
        st_go_tls(s);
        return false;
    }
    if(n >= 3 && !strncasecmp((const char *)l, "v1 ", 3))
        st_fail(s, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "refused STARTTLS", l, n);
    else
        st_fail(s, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "sent an unexpected line", l, n);
    return false;
}

/* PostgreSQL: one byte, 'S' (go ahead), 'N' (no TLS), or an ErrorResponse. */
static void pg_reply(vg_stream *s)
{
    const uint8_t *p = s->in;
    if(p[0] == 'S') {
        stream_consume(s, 1);
        st_go_tls(s);
        return;
    }
    if(p[0] == 'N') {
        st_fail(s, VG_CHECK_CRITICAL, VG_CR_STARTTLS, "does not do SSL: it answered the SSLRequest with", p, 1);
        return;
    }
    if(p[0] == 'E') {
        /* 'E', int32 length, then (type byte, C string)... until a 0 type. */
        uint32_t len;
        size_t end, off = 5;
        if(s->in_len < 5)
            return;
        len = ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4];
        if(len < 4 || len > ST_MAX_LINE - 1) {
            st_fail(s, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "sent a malformed error", p, s->in_len < 16 ? s->in_len : 16);
            return;
        }
        if(s->in_len < 1 + (size_t)len)
            return;
        end = 1 + (size_t)len;
        while(off < end && p[off]) {
            const uint8_t *nul = memchr(p + off + 1, 0, end - off - 1);
            if(!nul)
                break;
            if(p[off] == 'M') {
                st_fail(s, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "answered the SSLRequest with an error", p + off + 1,
                        (size_t)(nul - (p + off + 1)));
                return;
            }
            off = (size_t)(nul - p) + 1;
        }
        st_fail(s, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR, "answered the SSLRequest with an error", p, 0);
        return;
    }
    st_fail(s, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "does not speak PostgreSQL: it answered", p,
            s->in_len < 32 ? s->in_len : 32);
}

static void st_data(vg_stream *s)
{
    struct st_ctx *c = s->ud;
    if(c->step == S_TLS) {
        stream_consume(s, s->in_len);
        return;
    }
    if(c->proto == P_PG) {
        pg_reply(s);
        return;
    }
    /* Bounded: each round consumes a line. */
    for(;;) {
        uint8_t *nl = memchr(s->in, '\n', s->in_len);
        size_t n, used;
        bool more;
        if(!nl) {
            if(s->in_len == s->in_cap)
                st_fail(s, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "sent a line longer than 16 KiB", s->in, 64);
            return;
        }
        used = (size_t)(nl - s->in) + 1;
        n = used - 1;
        if(n && s->in[n - 1] == '\r')
            n--;
        {
            /* The line is copied: handlers may consume the buffer. */
            uint8_t line[512];
            size_t keep = n < sizeof(line) ? n : sizeof(line);
            memcpy(line, s->in, keep);
            stream_consume(s, used);
            more = c->proto == P_SMTP ? smtp_line(s, line, keep) : imap_line(s, line, keep);
        }
        if(!more || !s->in_len)
            return;
    }
}

static void st_open(vg_stream *s)
{
    struct st_ctx *c = s->ud;
    vg_check *ck = s->ck;
    vg_check_result *r = &ck->res;
    char where[160], t[32], date[40];

    if(c->step == S_TLS) {
        /* The handshake is done and tls_evaluate has judged the chain. */
        check_where(ck, where, sizeof(where));
        if(r->ncerts) {
            time_t na = (time_t)r->certs[0].not_after;
            struct tm tm;
            gmtime_r(&na, &tm);
            strftime(date, sizeof(date), "%Y-%m-%d", &tm);
            check_summary(ck, "%s server at %s started TLS: %s handshake in %s; certificate %s valid until %s (%d days)",
                          st_names[c->proto], where, r->tls_version,
                          check_fmt_us(r->phase_us[VG_PHASE_TLS], t, sizeof(t)), r->certs[0].subject, date,
                          r->certs[0].days_left);
        }
        else
            check_summary(ck, "%s server at %s started TLS: %s handshake in %s", st_names[c->proto], where,
                          r->tls_version, check_fmt_us(r->phase_us[VG_PHASE_TLS], t, sizeof(t)));
        check_attempt_done(ck);
        return;
    }
    if(c->proto == P_PG) {
        /* SSLRequest: length 8, code 80877103 (1234 << 16 | 5679). */
        static const uint8_t req[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
        c->step = S_REPLY;
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
                  c->step == S_GREETING && c->proto != P_PG ? "without a greeting" : "before TLS started");
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
    c->proto = proto;
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
    const char *what = c->proto == P_PG && c->step == S_REPLY ? "the SSLRequest reply" : waits[c->step];
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
    .validate = st_validate, .start = smtp_start, .on_timeout = st_timeout, .release = st_release,
};

const vg_check_type vg_check_imap = {
    .name = "imap", .label = "IMAP", .default_port = 143, .starttls = true,
    .validate = st_validate, .start = imap_start, .on_timeout = st_timeout, .release = st_release,
};

const vg_check_type vg_check_postgres = {
    .name = "postgres", .label = "POSTGRES", .default_port = 5432, .starttls = true,
    .validate = st_validate, .start = pg_start, .on_timeout = st_timeout, .release = st_release,
};
