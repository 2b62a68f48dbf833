/* SPDX-License-Identifier: MIT */
/* http:// and https://: one libcurl easy handle per attempt, all driven by
 * one curl multi handle whose sockets and timer live on the checker's epoll
 * loop (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION). The status must
 * be in the expected set and the (capped) body must match the regex; on
 * https the certificate chain is judged by tls_evaluate() from what an
 * OpenSSL verify callback saw during curl's handshake. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/x509v3.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "check/check_parse.h"
#include "util/alloc.h"
#include "vigia_config.h"

/* Easy handles kept for the next checks: curl_easy_reset() clears every
 * option, and a kept handle saves its allocation and setup. */
#define HTTP_SPARE_EASY 64

struct http_multi {
    CURLM *multi;
    vg_loop *loop;
    vg_timer timer;
    CURL *spare[HTTP_SPARE_EASY];
    unsigned nspare;
};

struct http_ctx {
    vg_check *ck;
    http_multi *m;
    CURL *easy;
    bool added;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    char *body;
    size_t body_len, body_cap;
    uint64_t body_total;
    bool truncated;
    bool body_oom;              /* no memory to keep the body for --expect-body */
    char status_line[160];
    STACK_OF(X509) *chain;      /* as the verify callback last saw it */
    bool verify_failed;
    long verify_err;
    int verify_depth;
    bool tls_seen;
    bool tcp_up;                /* curl waited for input: the TCP connect is done */
    char errbuf[CURL_ERROR_SIZE];
};

/* --- the multi handle on our loop ------------------------------------------ */

static void http_process(http_multi *m);

static void http_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    http_multi *m = ud;
    int flags = 0, running;
    (void)loop;
    if(events & (EPOLLIN | EPOLLHUP))
        flags |= CURL_CSELECT_IN;
    if(events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if(events & EPOLLERR)
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(m->multi, fd, flags, &running);
    http_process(m);
}

static int http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    http_multi *m = userp;
    uint32_t ev = 0;
    vg_check *ck = NULL;
    (void)socketp;
    /* curl asks for input only once the TCP handshake is complete; for
     * https that is the one sign, mid-transfer, that TLS is what hangs. */
    if((what & CURL_POLL_IN) && curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ck) == CURLE_OK &&
       ck && ck->kctx)
        ((struct http_ctx *)ck->kctx)->tcp_up = true;
    if(what == CURL_POLL_REMOVE) {
        vg_loop_unwatch(m->loop, s, 1);
        return 0;
    }
    if(what & CURL_POLL_IN)
        ev |= EPOLLIN;
    if(what & CURL_POLL_OUT)
        ev |= EPOLLOUT;
    /* A failure here (fd beyond the table) surfaces as a curl timeout. */
    vg_loop_watch(m->loop, s, ev, http_io, m);
    return 0;
}

static void http_timer_fired(vg_loop *loop, vg_timer *t)
{
    http_multi *m = (http_multi *)((char *)t - offsetof(http_multi, timer));
    int running;
    (void)loop;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_process(m);
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    http_multi *m = userp;
    (void)multi;
    if(timeout_ms < 0)
        vg_timer_disarm(m->loop, &m->timer);
    else
        vg_timer_arm(m->loop, &m->timer, vg_now_us() + (uint64_t)timeout_ms * 1000u);
    return 0;
}

http_multi *http_multi_new(vg_loop *loop, vg_error *err)
{
    http_multi *m = vg_calloc(1, sizeof(*m));
    if(!m) {
        vg_error_set(err, VG_ENOMEM, "out of memory");
        return NULL;
    }
    m->loop = loop;
    vg_timer_init(&m->timer, http_timer_fired);
    m->multi = curl_multi_init();
    if(!m->multi) {
        free(m);
        vg_error_set(err, VG_ENOMEM, "cannot create a curl multi handle");
        return NULL;
    }
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    return m;
}

void http_multi_free(http_multi *m)
{
    if(!m)
        return;
    vg_timer_disarm(m->loop, &m->timer);
    while(m->nspare)
        curl_easy_cleanup(m->spare[--m->nspare]);
    curl_multi_cleanup(m->multi);
    free(m);
}

/* --- callbacks of one transfer ------------------------------------------------ */

static size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct http_ctx *h = ud;
    size_t n = size * nmemb, max = h->ck->opts->max_body, keep;
    h->body_total += n;
    keep = h->body_len < max ? max - h->body_len : 0;
    if(keep > n)
        keep = n;
    if(keep && h->ck->opts->expect_body) {
        if(h->body_len + keep > h->body_cap) {
            size_t cap = h->body_cap ? h->body_cap : 16384;
            char *b;
            while(cap < h->body_len + keep)
                cap *= 2;
            if(cap > max)
                cap = max;
            b = vg_realloc(h->body, cap + 1); /* + NUL for regexec */
            if(!b) {
                h->body_oom = true;
                return 0;
            }
            h->body = b;
            h->body_cap = cap;
        }
        memcpy(h->body + h->body_len, ptr, keep);
        h->body[h->body_len + keep] = 0;
    }
    h->body_len += keep;
    if(keep < n) {
        /* The cap is reached: stop reading, judge what we have. */
        h->truncated = true;
        return 0;
    }
    return n;
}

bool http_status_line(char *out, size_t outlen, const char *ptr, size_t n)
{
    size_t l = n;
    if(l < 5 || memcmp(ptr, "HTTP/", 5))
        return false;
    while(l && (ptr[l - 1] == '\n' || ptr[l - 1] == '\r'))
        l--;
    vg_escape(out, outlen, ptr, l);
    return true;
}

static size_t http_header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct http_ctx *h = ud;
    size_t n = size * nmemb;
    (void)http_status_line(h->status_line, sizeof(h->status_line), ptr, n);
    return n;
}

static int http_verify_cb(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct http_ctx *h = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    STACK_OF(X509) *chain;
    int e = X509_STORE_CTX_get_error(xs);
    if(!h)
        return ok;
    h->tls_seen = true;
    tls_record_session(h->ck, ssl);
    chain = X509_STORE_CTX_get1_chain(xs);
    if(chain) {
        if(h->chain)
            sk_X509_pop_free(h->chain, X509_free);
        h->chain = chain;
    }
    if(!ok && !h->verify_failed && e != X509_V_ERR_CERT_HAS_EXPIRED && e != X509_V_ERR_CERT_NOT_YET_VALID) {
        h->verify_failed = true;
        h->verify_err = e;
        h->verify_depth = X509_STORE_CTX_get_error_depth(xs);
    }
    /* curl's own decision stands (fail unless --insecure). */
    return ok;
}

/* Abortive close, as the tcp checks and the scanner do: thousands of checks
 * must not leave thousands of local ports in TIME_WAIT. The response has
 * been read by the time curl closes (every check uses its own connection). */
static int http_sockopt_cb(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)ud;
    if(purpose == CURLSOCKTYPE_IPCXN)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    return CURL_SOCKOPT_OK;
}

static CURLcode http_sslctx_cb(CURL *easy, void *sslctx, void *parm)
{
    SSL_CTX *ctx = sslctx;
    (void)easy;
    SSL_CTX_set_app_data(ctx, parm);
    SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), http_verify_cb);
    return CURLE_OK;
}

/* --- judging the transfer --------------------------------------------------------- */

static void set_phases(struct http_ctx *h)
{
    vg_check *ck = h->ck;
    curl_off_t nl = 0, ct = 0, ac = 0, st = 0;
    curl_easy_getinfo(h->easy, CURLINFO_NAMELOOKUP_TIME_T, &nl);
    curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &ct);
    curl_easy_getinfo(h->easy, CURLINFO_APPCONNECT_TIME_T, &ac);
    curl_easy_getinfo(h->easy, CURLINFO_STARTTRANSFER_TIME_T, &st);
    ck->run->res.body_bytes = h->body_total;
    ck->run->res.body_truncated = h->truncated;
    {
        /* The address curl ended up using (it may have tried several). */
        char *ip = NULL;
        unsigned char bin[16];
        if(ck->naddrs > 1 && curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip) {
            int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
            if(inet_pton(fam, ip, bin) == 1) {
                memset(&ck->addr, 0, sizeof(ck->addr));
                ck->addr.family = (uint8_t)fam;
                memcpy(ck->addr.a, bin, fam == AF_INET ? 4 : 16);
            }
        }
    }
    if(!ck->have_addr && nl > 0)
        ck->run->res.phase_us[VG_PHASE_DNS] = nl;
    if(ct > 0)
        ck->run->res.phase_us[VG_PHASE_CONNECT] = ct - nl;
    if(ac > 0 && ct > 0)
        ck->run->res.phase_us[VG_PHASE_TLS] = ac - ct;
    if(st > 0)
        ck->run->res.phase_us[VG_PHASE_FIRSTBYTE] = st - (ac > ct ? ac : ct);
}

static void fmt_set(const vg_status_set *set, char *buf, size_t len)
{
    size_t o = 0;
    if(!set->n) {
        snprintf(buf, len, "200-399");
        return;
    }
    buf[0] = '\0';
    for(unsigned i = 0; i < set->n && o < len; i++) {
        int w = set->lo[i] == set->hi[i]
                    ? snprintf(buf + o, len - o, "%s%u", i ? "," : "", set->lo[i])
                    : snprintf(buf + o, len - o, "%s%u-%u", i ? "," : "", set->lo[i], set->hi[i]);
        if(w < 0)
            break;
        o += (size_t)w;
    }
}

static void judge_response(struct http_ctx *h)
{
    vg_check *ck = h->ck;
    const vg_check_opts *o = ck->opts;
    long status = 0, redirects = 0;
    char t[32], set[128], re[160];

    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    if(o->reuse_connections) {
        long fresh = 0;
        curl_easy_getinfo(h->easy, CURLINFO_NUM_CONNECTS, &fresh);
        ck->run->res.conn_reused = fresh == 0;
    }
    ck->run->res.http_status = (int)status;
    ck->run->res.redirects = redirects;
    snprintf(ck->run->res.status_line, sizeof(ck->run->res.status_line), "%s", h->status_line);
    check_summary(ck, "%s, %llu bytes%s in %s%s", h->status_line[0] ? h->status_line : "no status line",
                  (unsigned long long)h->body_total, h->truncated ? " (truncated)" : "",
                  check_fmt_us(check_since_attempt(ck), t, sizeof(t)),
                  redirects ? (redirects == 1 ? " after 1 redirect" : " after redirects") : "");
    if(!vg_status_set_has(&o->expect_status, status)) {
        fmt_set(&o->expect_status, set, sizeof(set));
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_STATUS_MISMATCH,
                      "status %ld is not in the expected set %s (the server is reachable)", status, set);
    }
    if(o->expect_body) {
        regex_t rx;
        vg_escape(re, sizeof(re), o->expect_body, strlen(o->expect_body));
        if(sendexpect_compile(&rx, o->expect_body, "--expect-body", NULL) == VG_OK) {
            bool ok = sendexpect_match(&rx, h->body, h->body_len);
            regfree(&rx);
            if(!ok)
                check_finding(ck, VG_CHECK_CRITICAL, VG_CR_BODY_MISMATCH,
                              "body (%zu bytes%s) does not match /%s/", h->body_len,
                              h->truncated ? " read, the --max-body cap" : "", re);
        }
    }
}

/* Whether the connection went to a proxy: --proxy, or with
 * --proxy-from-env one of the variables libcurl reads (no_proxy is not
 * consulted here, so a failure may be blamed on a bypassed proxy). */
static bool via_proxy(struct http_ctx *h)
{
    const vg_check_opts *o = h->ck->opts;
    bool https = !strcmp(h->ck->tgt.scheme, "https");
    const char *vars[] = {https ? "https_proxy" : "http_proxy", https ? "HTTPS_PROXY" : NULL,
                          "all_proxy", "ALL_PROXY"};
    if(o->proxy)
        return true;
    if(!o->proxy_from_env)
        return false;
    for(size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = vars[i] ? getenv(vars[i]) : NULL;
        if(v && *v)
            return true;
    }
    return false;
}

static void judge_error(struct http_ctx *h, CURLcode code)
{
    vg_check *ck = h->ck;
    long oserr = 0;
    char where[128], why[CURL_ERROR_SIZE + 8];
    curl_off_t ct = 0, ac = 0;

    curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &ct);
    curl_easy_getinfo(h->easy, CURLINFO_APPCONNECT_TIME_T, &ac);
    if(ct <= 0 && h->tcp_up)
        ct = 1;
    vg_escape(why, sizeof(why), h->errbuf[0] ? h->errbuf : curl_easy_strerror(code),
              strlen(h->errbuf[0] ? h->errbuf : curl_easy_strerror(code)));
    check_where(ck, where, sizeof(where));
    switch(code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_NXDOMAIN, "cannot resolve: %s", why);
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROXY_ERROR, "cannot resolve the proxy: %s", why);
        break;
    case CURLE_COULDNT_CONNECT:
        if(via_proxy(h))
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROXY_ERROR, "cannot connect through the proxy: %s", why);
        else {
            int r = check_errno_reason((int)oserr, true);
            if(r == VG_CR_CONN_REFUSED)
                check_finding(ck, VG_CHECK_CRITICAL, r, "connection refused by %s (nothing listens: not reachable)", where);
            else
                check_finding(ck, VG_CHECK_CRITICAL, r, "cannot connect to %s: %s (not reachable)", where, why);
        }
        break;
    case CURLE_OPERATION_TIMEDOUT:
        if(ct <= 0)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_TIMEOUT,
                          "no answer to the connection attempt to %s in time (not reachable)", where);
        else if(!strcmp(ck->tgt.scheme, "https") && ac <= 0)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TLS_TIMEOUT,
                          "connected to %s, but the TLS handshake did not finish in time", where);
        else
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_READ_TIMEOUT,
                          "connected to %s, but the response did not complete in time (%llu body bytes)",
                          where, (unsigned long long)h->body_total);
        break;
    case CURLE_SSL_CONNECT_ERROR:
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TLS_HANDSHAKE,
                      "connected to %s, but the TLS handshake failed: %s", where, why);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        /* tls_evaluate (run by the caller) says which: expired, untrusted,
         * host name. Only if it found nothing do we echo curl. */
        break;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_CONFIG_ERROR, "local TLS setup failed: %s", why);
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TOO_MANY_REDIRECTS, "%s", why);
        break;
    case CURLE_GOT_NOTHING:
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_CLOSED,
                      "connected to %s, but it closed the connection without answering", where);
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if(!strcmp(ck->tgt.scheme, "https") && ac <= 0)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TLS_HANDSHAKE,
                          "connected to %s, but the TLS handshake failed: %s", where, why);
        else
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_RESET,
                          "connected to %s, but the connection broke: %s", where, why);
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP3:
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                      "connected to %s, but the answer is not valid HTTP: %s", where, why);
        break;
    case CURLE_PROXY:
    case CURLE_RECURSIVE_API_CALL:
        check_finding(ck, VG_CHECK_CRITICAL, code == CURLE_PROXY ? VG_CR_PROXY_ERROR : VG_CR_INTERNAL,
                      "%s", why);
        break;
    case CURLE_OUT_OF_MEMORY:
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        break;
    default:
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_HTTP_ERROR, "HTTP transfer failed: %s", why);
        break;
    }
}

static void http_finish(struct http_ctx *h, CURLcode code)
{
    vg_check *ck = h->ck;
    bool https = !strcmp(ck->tgt.scheme, "https");
    unsigned before;
    long oserr = 0;

    if(code == CURLE_COULDNT_CONNECT && curl_easy_getinfo(h->easy, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK &&
       check_errno_is_fd_shortage((int)oserr)) {
        /* curl could not open a socket: our shortage, not the server's. */
        check_fd_shortage(ck);
        return;
    }
    set_phases(h);
    if(code == CURLE_WRITE_ERROR && h->truncated)
        code = CURLE_OK;
    if(code == CURLE_WRITE_ERROR && h->body_oom)
        code = CURLE_OUT_OF_MEMORY;
    if(code == CURLE_OK)
        judge_response(h);
    else
        judge_error(h, code);
    before = ck->run->nfindings;
    if(https && h->tls_seen)
        tls_evaluate(ck, h->chain, h->verify_failed ? h->verify_err : X509_V_OK, h->verify_depth,
                     ck->opts->insecure ? NULL : ck->tgt.host);
    if(code == CURLE_PEER_FAILED_VERIFICATION) {
        char where[128];
        check_where(ck, where, sizeof(where));
        check_summary(ck, "connected to %s (reachable), but its certificate was rejected", where);
    }
    if(code == CURLE_PEER_FAILED_VERIFICATION && ck->run->nfindings == before) {
        char why[CURL_ERROR_SIZE + 8];
        vg_escape(why, sizeof(why), h->errbuf, strlen(h->errbuf));
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CERT_UNTRUSTED, "certificate rejected: %s", why);
    }
    check_attempt_done(ck);
}

static void http_process(http_multi *m)
{
    CURLMsg *msg;
    int left;
    while((msg = curl_multi_info_read(m->multi, &left))) {
        if(msg->msg == CURLMSG_DONE) {
            vg_check *ck = NULL;
            CURL *easy = msg->easy_handle;
            CURLcode code = msg->data.result;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&ck);
            if(ck && ck->kctx)
                http_finish(ck->kctx, code);
        }
    }
}

/* --- the kind ------------------------------------------------------------------------ */

/* --sni is ignored by kinds other than tls:// (a command line may give
 * it to a mix of kinds), but on https:// it would look like it works. */
static const check_wrong_kind http_wrong_kind[] = {
    {"send", "--send/--expect work on tcp:// and tls://; for HTTP use --data and --expect-body"},
    {"expect", "--send/--expect work on tcp:// and tls://; for HTTP use --data and --expect-body"},
    {"sni", "--sni works on tls://; for https use the name in the URL and --resolve NAME:PORT:ADDR"},
    {NULL, NULL},
};

static int http_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->expect_body) {
        regex_t re;
        int rc = sendexpect_compile(&re, o->expect_body, "--expect-body", err);
        if(rc)
            return rc;
        regfree(&re);
    }
    if(o->cacert && access(o->cacert, R_OK) != 0)
        return vg_error_set(err, VG_EINVAL, "--cacert '%s': cannot read it", o->cacert);
    if(o->client_cert && access(o->client_cert, R_OK) != 0)
        return vg_error_set(err, VG_EINVAL, "--cert '%s': cannot read it", o->client_cert);
    if(o->client_key && access(o->client_key, R_OK) != 0)
        return vg_error_set(err, VG_EINVAL, "--key '%s': cannot read it", o->client_key);
    return VG_OK;
}

static void http_release(vg_check *ck)
{
    struct http_ctx *h = ck->kctx;
    if(!h)
        return;
    if(h->easy) {
        if(h->added)
            curl_multi_remove_handle(h->m->multi, h->easy);
        if(h->m && h->m->nspare < HTTP_SPARE_EASY) {
            curl_easy_reset(h->easy);
            h->m->spare[h->m->nspare++] = h->easy;
        }
        else
            curl_easy_cleanup(h->easy);
    }
    curl_slist_free_all(h->headers);
    curl_slist_free_all(h->resolve);
    if(h->chain)
        sk_X509_pop_free(h->chain, X509_free);
    free(h->body);
    free(h);
    ck->kctx = NULL;
}

static int http_fail_start(vg_check *ck, int state, int reason, const char *msg)
{
    check_finding(ck, state, reason, "%s", msg);
    check_attempt_done(ck);
    return -1;
}

static int http_start(vg_check *ck)
{
    const vg_check_opts *o = ck->opts;
    struct http_ctx *h;
    CURL *e;
    uint64_t now = vg_now_us();
    long left_ms = ck->deadline_us > now ? (long)((ck->deadline_us - now) / 1000) : 1;
    const char *method = o->method;
    char buf[1024], ua[64];
    vg_error merr = {0};

    h = vg_calloc(1, sizeof(*h));
    if(!h)
        return http_fail_start(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
    ck->kctx = h;
    h->ck = ck;
    h->m = check_http_multi(ck, &merr);
    if(!h->m)
        return http_fail_start(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, merr.msg);
    h->easy = e = h->m->nspare ? h->m->spare[--h->m->nspare] : curl_easy_init();
    if(!e)
        return http_fail_start(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot create a curl handle");

    curl_easy_setopt(e, CURLOPT_URL, ck->tgt.url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)ck);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* Every check measures its own connection and handshake, unless it
     * may take over one that an earlier check of the same origin left
     * open (--reuse-connections: the connect and TLS phases are then 0). */
    if(!o->reuse_connections) {
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    }
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, http_sockopt_cb);
    /* Our own deadline timer ends the attempt; curl's is a backstop. */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left_ms + 1000);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, left_ms + 1000);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
    snprintf(ua, sizeof(ua), "vigia/%s", VIGIA_VERSION);
    curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : ua);
    if(o->family)
        curl_easy_setopt(e, CURLOPT_IPRESOLVE, o->family == AF_INET ? CURL_IPRESOLVE_V4 : CURL_IPRESOLVE_V6);

    /* Method and body. */
    if(!method)
        method = o->data ? "POST" : "GET";
    if(!strcmp(method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if(strcmp(method, "GET") || o->data) {
        if(strcmp(method, "POST"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if(o->data || !strcmp(method, "POST")) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(o->data ? o->data_len : 0));
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->data ? o->data : "");
        }
    }
    for(const char *const *hd = o->headers; hd && *hd; hd++) {
        struct curl_slist *n = curl_slist_append(h->headers, *hd);
        if(!n)
            return http_fail_start(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        h->headers = n;
    }
    if(o->data) {
        /* No "Expect: 100-continue" round trip for large bodies. */
        struct curl_slist *n = curl_slist_append(h->headers, "Expect:");
        if(n)
            h->headers = n;
    }
    if(h->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
    if(o->follow) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, o->max_redirects);
    }

    /* Where to connect: the --resolve overrides, plus the address we
     * resolved, so curl uses exactly the address the record names. */
    for(const char *const *r = o->resolve; r && *r; r++) {
        struct curl_slist *n = curl_slist_append(h->resolve, *r);
        if(n)
            h->resolve = n;
    }
    if(ck->naddrs && !strchr(ck->tgt.host, ':')) {
        /* Every address of the name: curl tries them in turn (happy eyeballs). */
        size_t used = (size_t)snprintf(buf, sizeof(buf), "%s:%u:", ck->tgt.host, ck->tgt.port);
        for(unsigned i = 0; i < ck->naddrs && used < sizeof(buf); i++) {
            char a[VG_ADDR_STRLEN];
            vg_addr plain = ck->addrs[i];
            int w;
            plain.scope_id = 0;
            vg_addr_format(&plain, a, sizeof(a));
            w = snprintf(buf + used, sizeof(buf) - used, plain.family == AF_INET6 ? "%s[%s]" : "%s%s",
                         i ? "," : "", a);
            if(w < 0 || (size_t)w >= sizeof(buf) - used)
                break;
            used += (size_t)w;
        }
        {
            struct curl_slist *n = curl_slist_append(h->resolve, buf);
            if(n)
                h->resolve = n;
        }
    }
    if(h->resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, h->resolve);

    /* A health check tests the path it names: no proxy from the
     * environment unless asked. */
    if(o->proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, o->proxy);
    else if(!o->proxy_from_env)
        curl_easy_setopt(e, CURLOPT_PROXY, "");

    /* TLS. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if(o->cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
    if(o->client_cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, o->client_cert);
    if(o->client_key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, o->client_key);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, http_sslctx_cb);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, h);

    if(curl_multi_add_handle(h->m->multi, e) != CURLM_OK)
        return http_fail_start(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot start the transfer");
    h->added = true;
    return 0;
}

static void http_timeout(vg_check *ck)
{
    struct http_ctx *h = ck->kctx;
    curl_off_t ct = 0, ac = 0, st = 0;
    char where[128], t[32];
    if(!h || !h->easy) {
        check_attempt_done(ck);
        return;
    }
    set_phases(h);
    curl_easy_getinfo(h->easy, CURLINFO_CONNECT_TIME_T, &ct);
    curl_easy_getinfo(h->easy, CURLINFO_APPCONNECT_TIME_T, &ac);
    curl_easy_getinfo(h->easy, CURLINFO_STARTTRANSFER_TIME_T, &st);
    check_where(ck, where, sizeof(where));
    check_fmt_us((int64_t)ck->opts->timeout_ms * 1000, t, sizeof(t));
    if(ct <= 0 && h->tcp_up)
        ct = 1;
    if(ct <= 0)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_TIMEOUT,
                      "no answer to the connection attempt to %s within %s (not reachable)", where, t);
    else if(!strcmp(ck->tgt.scheme, "https") && ac <= 0)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_TLS_TIMEOUT,
                      "connected to %s, but the TLS handshake did not finish within %s", where, t);
    else if(st <= 0)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_READ_TIMEOUT,
                      "connected to %s, but no response arrived within %s", where, t);
    else
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_READ_TIMEOUT,
                      "connected to %s, but the response did not complete within %s (%llu body bytes)",
                      where, t, (unsigned long long)h->body_total);
    if(!strcmp(ck->tgt.scheme, "https") && h->tls_seen && ac > 0)
        tls_evaluate(ck, h->chain, h->verify_failed ? h->verify_err : X509_V_OK, h->verify_depth,
                     ck->opts->insecure ? NULL : ck->tgt.host);
    check_attempt_done(ck);
}

const vg_check_type vg_check_http = {
    .name = "http",
    .label = "HTTP",
    .detail = VG_REC_DETAIL_HTTP,
    .default_port = 80,
    .tls = false,
    .kind = VG_KIND_HTTP,
    .fds = CHECK_FDS_HTTP,
    .curl = true,
    .wrong_kind = http_wrong_kind,
    .validate = http_validate,
    .start = http_start,
    .on_timeout = http_timeout,
    .release = http_release,
};

const vg_check_type vg_check_https = {
    .name = "https",
    .label = "HTTP",
    .detail = VG_REC_DETAIL_HTTP,
    .default_port = 443,
    .tls = false, /* curl does the TLS */
    .kind = VG_KIND_HTTP,
    .fds = CHECK_FDS_HTTP,
    .curl = true,
    .wrong_kind = http_wrong_kind,
    .validate = http_validate,
    .start = http_start,
    .on_timeout = http_timeout,
    .release = http_release,
};
