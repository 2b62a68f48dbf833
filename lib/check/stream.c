/* SPDX-License-Identifier: MIT */
/* The stream driver shared by the socket-based kinds (tcp, tls, ssh,
 * send/expect): a non-blocking connect, an optional TLS handshake with
 * OpenSSL, then buffered, capped reads and queued writes, all on the
 * checker's epoll loop. It times the connect, tls and firstbyte phases. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "util/alloc.h"

static void stream_io(vg_loop *loop, int fd, uint32_t events, void *ud);

static void stream_interest(vg_stream *s)
{
    uint32_t ev = 0;
    if(s->fd < 0)
        return;
    switch(s->st) {
    case ST_CONNECTING: ev = EPOLLOUT; break;
    case ST_TLS: ev = s->tls_want_write ? EPOLLOUT : EPOLLIN; break;
    case ST_OPEN:
        ev = EPOLLIN;
        if(s->out_off < s->out_len || s->tls_want_write)
            ev |= EPOLLOUT;
        break;
    default: return;
    }
    vg_loop_watch(check_loop(s->ck), s->fd, ev, stream_io, s);
}

void stream_close(vg_stream *s)
{
    if(s->ssl) {
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if(s->fd >= 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        vg_loop_unwatch(check_loop(s->ck), s->fd, 1);
        /* Abortive close: no TIME_WAIT pile-up when thousands of checks run. */
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(s->fd);
        s->fd = -1;
    }
    free(s->out);
    s->out = NULL;
    s->out_len = s->out_off = 0;
    free(s->in);
    s->in = NULL;
    s->in_len = 0;
    s->st = ST_CLOSED;
}

int stream_timeout_reason(const vg_stream *s)
{
    switch(s->st) {
    case ST_CONNECTING: return VG_CR_CONN_TIMEOUT;
    case ST_TLS: return VG_CR_TLS_TIMEOUT;
    default: return VG_CR_READ_TIMEOUT;
    }
}

void stream_timeout_finding(vg_stream *s, const char *waiting_for)
{
    vg_check *ck = s->ck;
    char where[128], t[32];
    int reason = stream_timeout_reason(s);
    check_fmt_us((int64_t)ck->opts->timeout_ms * 1000, t, sizeof(t));
    check_where(ck, where, sizeof(where));
    if(reason == VG_CR_CONN_TIMEOUT)
        check_finding(ck, VG_CHECK_CRITICAL, reason,
                      "no answer to the connection attempt to %s within %s (not reachable)", where, t);
    else if(reason == VG_CR_TLS_TIMEOUT)
        check_finding(ck, VG_CHECK_CRITICAL, reason,
                      "connected to %s, but the TLS handshake did not finish within %s", where, t);
    else
        check_finding(ck, VG_CHECK_CRITICAL, reason,
                      "connected to %s, but %s did not arrive within %s (%llu bytes read)", where,
                      waiting_for, t, (unsigned long long)s->total_read);
}

static void conn_failed(vg_stream *s, int e)
{
    vg_check *ck = s->ck;
    char where[128];
    int reason = check_errno_reason(e, true);
    if(check_errno_is_fd_shortage(e)) {
        /* Ours, not the service's: wait for a descriptor and try again. */
        check_fd_shortage(ck);
        return;
    }
    /* A name with several addresses: try the next one (say, 127.0.0.1 after
     * ::1 refused), as curl does. Timeouts use up the deadline instead. */
    if(reason != VG_CR_INTERNAL && check_next_addr(ck)) {
        const vg_stream_ops *ops = s->ops;
        void *ud = s->ud;
        size_t cap = s->in_cap;
        stream_close(s);
        stream_open(s, ck, ops, ud, cap, false);
        return;
    }
    check_where(ck, where, sizeof(where));
    if(reason == VG_CR_CONN_REFUSED)
        check_finding(ck, VG_CHECK_CRITICAL, reason, "connection refused by %s (nothing listens: not reachable)", where);
    else if(reason == VG_CR_INTERNAL)
        check_finding(ck, VG_CHECK_UNKNOWN, reason, "cannot connect to %s: %s (local resource limit)",
                      where, strerror(e));
    else
        check_finding(ck, VG_CHECK_CRITICAL, reason, "cannot connect to %s: %s (not reachable)", where, strerror(e));
    check_attempt_done(ck);
}

/* Records the first verification error and its depth for tls_evaluate. */
static int stream_verify_cb(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    vg_stream *s = ssl ? SSL_get_app_data(ssl) : NULL;
    int e = X509_STORE_CTX_get_error(xs);
    if(!ok && s && !s->verify_failed && e != X509_V_ERR_CERT_HAS_EXPIRED &&
       e != X509_V_ERR_CERT_NOT_YET_VALID) {
        s->verify_failed = true;
        s->verify_err = e;
        s->verify_depth = X509_STORE_CTX_get_error_depth(xs);
    }
    /* Never fail the handshake here: the verdict is ours to make. */
    return 1;
}

static void became_open(vg_stream *s)
{
    vg_check *ck = s->ck;
    s->st = ST_OPEN;
    s->t_open = vg_now_us();
    if(s->ssl) {
        const char *host = ck->opts->sni ? ck->opts->sni : ck->tgt.host;
        tls_record_session(ck, s->ssl);
        tls_evaluate(ck, SSL_get0_verified_chain(s->ssl) ? SSL_get0_verified_chain(s->ssl)
                                                         : SSL_get_peer_cert_chain(s->ssl),
                     s->verify_failed ? s->verify_err : X509_V_OK, s->verify_depth, host);
    }
    stream_interest(s);
    s->ops->on_open(s);
}

static void tls_step(vg_stream *s)
{
    vg_check *ck = s->ck;
    int rc, e;
    char where[128], ebuf[200];

    ERR_clear_error();
    rc = SSL_connect(s->ssl);
    if(rc == 1) {
        ck->run->res.phase_us[VG_PHASE_TLS] = (int64_t)(vg_now_us() - s->t_open);
        became_open(s);
        return;
    }
    e = SSL_get_error(s->ssl, rc);
    if(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        s->tls_want_write = e == SSL_ERROR_WANT_WRITE;
        stream_interest(s);
        return;
    }
    check_where(ck, where, sizeof(where));
    if(e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        if(errno && errno != EAGAIN && check_errno_reason(errno, false) == VG_CR_CONN_RESET)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TLS_HANDSHAKE,
                          "connected to %s, but it reset the connection during the TLS handshake", where);
        else
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TLS_HANDSHAKE,
                          "connected to %s, but it closed the connection during the TLS handshake", where);
    }
    else {
        unsigned long le = ERR_get_error();
        const char *why = le ? ERR_reason_error_string(le) : NULL;
        snprintf(ebuf, sizeof(ebuf), "%s", why ? why : "protocol error");
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TLS_HANDSHAKE,
                      "connected to %s, but the TLS handshake failed: %s", where, ebuf);
    }
    ERR_clear_error();
    check_attempt_done(ck);
}

static void start_tls(vg_stream *s)
{
    vg_check *ck = s->ck;
    SSL_CTX *ctx = check_ssl_ctx(ck, NULL);
    const char *sni = ck->opts->sni;

    s->ssl = ctx ? SSL_new(ctx) : NULL;
    if(!s->ssl) {
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot set up TLS");
        check_attempt_done(ck);
        return;
    }
    SSL_set_app_data(s->ssl, s);
    SSL_set_verify(s->ssl, SSL_VERIFY_NONE, stream_verify_cb);
    SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_fd(s->ssl, s->fd);
    /* SNI carries names only, never address literals (RFC 6066 3). */
    if(!sni && !strchr(ck->tgt.host, ':') && strspn(ck->tgt.host, "0123456789.") != strlen(ck->tgt.host))
        sni = ck->tgt.host;
    if(sni)
        SSL_set_tlsext_host_name(s->ssl, sni);
    s->st = ST_TLS;
    s->t_open = vg_now_us();
    tls_step(s);
}

/* STARTTLS (lib/check/starttls.c): the plain exchange is over, nothing is
 * buffered; a TLS handshake starts on the same socket, and on_open is
 * called again once it is done. */
void stream_start_tls(vg_stream *s)
{
    start_tls(s);
}

/* Sends what is queued. Returns true when it called into the kind (which
 * may have ended the attempt and freed s): the caller must return at once. */
static bool stream_flush(vg_stream *s)
{
    while(s->out_off < s->out_len) {
        ssize_t n;
        if(s->ssl) {
            int rc;
            ERR_clear_error();
            rc = SSL_write(s->ssl, s->out + s->out_off, (int)(s->out_len - s->out_off));
            if(rc <= 0) {
                int e = SSL_get_error(s->ssl, rc);
                if(e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
                    return false;
                ERR_clear_error();
                s->ops->on_close(s, EPIPE);
                return true;
            }
            n = rc;
        }
        else {
            n = send(s->fd, s->out + s->out_off, s->out_len - s->out_off, MSG_NOSIGNAL);
            if(n < 0) {
                if(errno == EAGAIN || errno == EINTR)
                    return false;
                s->ops->on_close(s, errno);
                return true;
            }
        }
        s->out_off += (size_t)n;
    }
    free(s->out);
    s->out = NULL;
    s->out_len = s->out_off = 0;
    stream_interest(s);
    if(s->ops->on_sent) {
        s->ops->on_sent(s);
        return true;
    }
    return false;
}

/* Reads what is there (up to the cap) and hands it to the kind. */
static void stream_read(vg_stream *s)
{
    bool got = false;
    int closed = -1;
    for(int rounds = 0; rounds < 64; rounds++) {
        ssize_t n;
        if(s->in_len == s->in_cap)
            break;
        if(s->ssl) {
            int rc;
            ERR_clear_error();
            rc = SSL_read(s->ssl, s->in + s->in_len, (int)(s->in_cap - s->in_len));
            if(rc <= 0) {
                int e = SSL_get_error(s->ssl, rc);
                if(e == SSL_ERROR_WANT_READ)
                    break;
                if(e == SSL_ERROR_WANT_WRITE) {
                    s->tls_want_write = true;
                    stream_interest(s);
                    break;
                }
                closed = (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) ? 0
                       : (e == SSL_ERROR_SYSCALL ? errno : ECONNRESET);
                if(closed == EAGAIN)
                    closed = 0;
                ERR_clear_error();
                break;
            }
            n = rc;
            s->tls_want_write = false;
        }
        else {
            n = recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, 0);
            if(n < 0) {
                if(errno == EAGAIN || errno == EINTR)
                    break;
                closed = errno;
                break;
            }
            if(n == 0) {
                closed = 0;
                break;
            }
        }
        if(!s->got_first) {
            s->got_first = true;
            s->ck->run->res.phase_us[VG_PHASE_FIRSTBYTE] = (int64_t)(vg_now_us() - s->t_open);
        }
        s->in_len += (size_t)n;
        s->in[s->in_len] = 0;
        s->total_read += (uint64_t)n;
        s->ck->run->res.bytes_read = s->total_read;
        got = true;
    }
    /* Data first; a close seen in the same round is seen again on the next
     * event (EOF stays readable), a reset is remembered. */
    if(got || s->in_len == s->in_cap) {
        s->ops->on_data(s);
        return;
    }
    if(closed >= 0)
        s->ops->on_close(s, closed == 0 && s->reset_seen ? ECONNRESET : closed);
}

static void stream_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    vg_stream *s = ud;
    (void)loop;
    (void)fd;
    switch(s->st) {
    case ST_CONNECTING: {
        int e = 0;
        socklen_t el = sizeof(e);
        if(getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
            e = errno;
        /* ECONNRESET here means the handshake completed and the server
         * reset the connection before we looked: it accepted it, and the
         * reset shows up as the end of the stream. */
        if(e && e != ECONNRESET) {
            conn_failed(s, e);
            return;
        }
        /* Reading SO_ERROR cleared the reset: the end of the stream that
         * follows must still say reset, not a clean close. */
        s->reset_seen = e == ECONNRESET;
        if(!e && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        s->ck->run->res.phase_us[VG_PHASE_CONNECT] = check_since_attempt(s->ck);
        if(s->ck->type->tls)
            start_tls(s);
        else
            became_open(s);
        return;
    }
    case ST_TLS:
        tls_step(s);
        return;
    case ST_OPEN:
        if(s->out_off < s->out_len && (events & EPOLLOUT) && stream_flush(s))
            return;
        if(events & (EPOLLIN | EPOLLERR | EPOLLHUP) || s->tls_want_write) {
            s->tls_want_write = false;
            stream_read(s);
        }
        return;
    default:
        return;
    }
}

int stream_open(vg_stream *s, vg_check *ck, const vg_stream_ops *ops, void *ud, size_t in_cap,
                bool tls)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int rc;
    (void)tls;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->ck = ck;
    s->ops = ops;
    s->ud = ud;
    s->in_cap = in_cap;
    if(in_cap) {
        /* One spare byte keeps the input NUL-terminated for regexec(),
         * whose sanitizer interceptor ignores REG_STARTEND. */
        s->in = vg_malloc(in_cap + 1);
        if(!s->in) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
            check_attempt_done(ck);
            return -1;
        }
    }
    sl = vg_addr_to_sockaddr(&ck->addr, ck->tgt.port, &ss);
    s->fd = socket(ck->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if(s->fd < 0) {
        conn_failed(s, errno);
        return -1;
    }
    rc = connect(s->fd, (struct sockaddr *)&ss, sl);
    if(rc < 0 && errno != EINPROGRESS) {
        conn_failed(s, errno);
        return -1;
    }
    s->st = ST_CONNECTING;
    if(vg_loop_watch(check_loop(ck), s->fd, EPOLLOUT, stream_io, s) < 0) {
        conn_failed(s, EMFILE);
        return -1;
    }
    return 0;
}

int stream_write(vg_stream *s, const void *buf, size_t len)
{
    uint8_t *n;
    if(!len)
        return 0;
    n = vg_realloc(s->out, s->out_len + len);
    if(!n)
        return -1;
    memcpy(n + s->out_len, buf, len);
    s->out = n;
    s->out_len += len;
    stream_interest(s);
    return 0;
}

void stream_consume(vg_stream *s, size_t n)
{
    if(n >= s->in_len) {
        s->in_len = 0;
        if(s->in)
            s->in[0] = 0;
        return;
    }
    memmove(s->in, s->in + n, s->in_len - n);
    s->in_len -= n;
    s->in[s->in_len] = 0;
}
