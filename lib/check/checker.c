/* SPDX-License-Identifier: MIT */
/* The check runner: owns the event loop, starts checks up to the
 * concurrency limit, runs each attempt (name resolution on the loop, then
 * the kind's protocol), enforces each check's overall deadline, retries
 * failed attempts, turns findings into the final verdict and delivers the
 * records in the order the checks were added. */
#include <ares.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check/check_internal.h"
#include "util/alloc.h"

#define CHECKER_DEFAULT_CONCURRENCY 256

/* File descriptors, as the scan engine budgets them (lib/engine/scan.c):
 * besides what a check of each kind holds (vg_check_type.fds), what the
 * runner itself holds, and room for short-lived files (/etc/hosts and
 * resolv.conf reads, the CA bundle, outputs the caller rewrites). */
#define CHECKER_FDS_RESOLVER 3  /* per shared resolver: UDP and TCP sockets to its server */
#define CHECKER_FDS_HTTP_MULTI 2 /* curl's multi handle: its wake-up pair */
#define CHECKER_FDS_SLACK 8
#define CHECKER_FD_PAUSE_US 10000 /* after a shortage, before starting more */

/* Timers, reserved up front so that arming one never fails mid-check (a
 * check whose kind could not arm its timer would end in a false timeout):
 * a running check holds its own (deadline or retry delay) and at most two
 * of its kind's (dns://: c-ares' and the answer's); the runner holds the
 * shortage pause, curl's multi timer and one per shared resolver. */
#define CHECK_TIMERS_PER_CHECK 3
#define CHECKER_TIMERS 2
#define CHECKER_DNS_TRY_MS 1000 /* per try of the shared resolvers; the check's deadline bounds the whole */

struct ssl_ctx_entry {
    const vg_check_opts *opts;
    SSL_CTX *ctx;
    struct ssl_ctx_entry *next;
};

struct vg_checker {
    vg_checker_opts opts;
    vg_loop *loop;
    vg_check **checks;
    size_t n, cap;
    size_t next_start;    /* first check not started yet */
    size_t active;        /* running or waiting to retry */
    size_t next_deliver;
    size_t ndone;
    bool started;
    bool stopped;
    bool out_of_memory;   /* a check could not get its record to start */
    bool records_lost;    /* a stopped check could not get its record */
    http_multi *http;
    struct ssl_ctx_entry *ssl_ctxs;
    vg_resolver **resolvers;    /* one per distinct --dns-servers */
    size_t nresolvers;
    /* unordered checkers (vg_checker_opts.unordered) */
    vg_check *run_head, *run_tail;   /* re-run checks waiting for a slot */
    vg_check *done_head, *done_tail; /* finished, not delivered */
    size_t outstanding;              /* added or re-run, not delivered */
    /* file descriptors: the concurrency that fits the open-file limit */
    int fd_limit;                    /* RLIMIT_NOFILE, or opts.max_fds if lower */
    int fd_base;                     /* in use when the run started */
    unsigned fd_cost;                /* the most one added check holds */
    bool curl_added;                 /* a check of a kind that runs in libcurl was added */
    unsigned shortage_cap;           /* after EMFILE: checks that fit; 0: no cap */
    vg_check *fdwait_head, *fdwait_tail; /* waiting for descriptors */
    vg_timer fd_timer;               /* ends the pause after a shortage */
    uint64_t fd_pause_until_us;
    uint64_t starved_since_us;       /* short of descriptors with no check running; 0: not */
};

static const vg_check_type *const check_types[] = {
    &vg_check_tcp, &vg_check_tls, &vg_check_http, &vg_check_https, &vg_check_ssh,
    &vg_check_dns, &vg_check_mysql, &vg_check_icmp, &vg_check_udp, /* the second set of kinds */
    &vg_check_smtp, &vg_check_imap, &vg_check_postgres,
    NULL,
};

static vg_loop *runner_loop(vg_checker *c)
{
    return c->loop;
}

static http_multi *runner_http_multi(vg_checker *c, vg_error *err)
{
    if(!c->http)
        c->http = http_multi_new(c->loop, err);
    return c->http;
}

static void ssl_err_text(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if(e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "unknown error");
    ERR_clear_error();
}

static SSL_CTX *runner_ssl_ctx(vg_checker *c, const vg_check_opts *o, vg_error *err)
{
    struct ssl_ctx_entry *e;
    SSL_CTX *ctx;
    char ebuf[256];

    for(e = c->ssl_ctxs; e; e = e->next)
        if(e->opts == o)
            return e->ctx;
    ctx = SSL_CTX_new(TLS_client_method());
    if(!ctx) {
        vg_error_set(err, VG_ENOMEM, "cannot create a TLS context");
        return NULL;
    }
    /* We evaluate the chain ourselves after the handshake (tls_evaluate),
     * so the handshake itself never fails on verification. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* A peer that closes without close_notify has closed, not failed. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if(o->cacert) {
        if(SSL_CTX_load_verify_locations(ctx, o->cacert, NULL) != 1) {
            ssl_err_text(ebuf, sizeof(ebuf));
            vg_error_set(err, VG_EINVAL, "--cacert '%s': %s", o->cacert, ebuf);
            goto fail;
        }
    }
    else if(!o->insecure) {
        /* The system bundle, loaded once into memory (as curl does), rather
         * than a hashed directory probed on disk at every handshake. */
        const char *bundle = X509_get_default_cert_file();
        if(!bundle || access(bundle, R_OK) != 0 ||
           SSL_CTX_load_verify_locations(ctx, bundle, NULL) != 1) {
            ERR_clear_error();
            SSL_CTX_set_default_verify_paths(ctx);
        }
    }
    if(o->client_cert) {
        const char *key = o->client_key ? o->client_key : o->client_cert;
        if(SSL_CTX_use_certificate_chain_file(ctx, o->client_cert) != 1) {
            ssl_err_text(ebuf, sizeof(ebuf));
            vg_error_set(err, VG_EINVAL, "--cert '%s': %s", o->client_cert, ebuf);
            goto fail;
        }
        if(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
           SSL_CTX_check_private_key(ctx) != 1) {
            ssl_err_text(ebuf, sizeof(ebuf));
            vg_error_set(err, VG_EINVAL, "--key '%s': %s", key, ebuf);
            goto fail;
        }
    }
    e = vg_calloc(1, sizeof(*e));
    if(!e) {
        vg_error_set(err, VG_ENOMEM, "out of memory");
        goto fail;
    }
    e->opts = o;
    e->ctx = ctx;
    e->next = c->ssl_ctxs;
    c->ssl_ctxs = e;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void fd_timer_fired(vg_loop *loop, vg_timer *t);

int vg_checker_new(vg_checker **out, const vg_checker_opts *opts, vg_error *err)
{
    vg_checker *c = vg_calloc(1, sizeof(*c));
    struct rlimit rl;
    int limit = 1024;

    *out = NULL;
    if(!c)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    if(opts)
        c->opts = *opts;
    if(!c->opts.concurrency)
        c->opts.concurrency = CHECKER_DEFAULT_CONCURRENCY;
    if(getrlimit(RLIMIT_NOFILE, &rl) == 0)
        limit = rl.rlim_cur > 1048576 ? 1048576 : (int)rl.rlim_cur;
    if(c->opts.max_fds > 0 && c->opts.max_fds < limit)
        limit = c->opts.max_fds;
    c->fd_limit = limit;
    c->fd_cost = CHECK_FDS_STREAM;
    vg_timer_init(&c->fd_timer, fd_timer_fired);
    c->loop = vg_loop_new(c->opts.max_fds > 0 ? c->opts.max_fds : limit);
    if(!c->loop) {
        free(c);
        return vg_error_set(err, VG_ENOMEM, "cannot create the event loop");
    }
    *out = c;
    return VG_OK;
}

static const vg_check_type *type_for(const char *scheme)
{
    for(size_t i = 0; check_types[i]; i++)
        if(!strcmp(check_types[i]->name, scheme))
            return check_types[i];
    return NULL;
}

static void on_timer(vg_loop *loop, vg_timer *t);

static int prepare_check(vg_checker *c, vg_check *ck, vg_error *err);

/* Reserves timer slots for nchecks checks (at most the concurrency of
 * them running at once) and the runner's own. */
static int reserve_timers(vg_checker *c, size_t nchecks, vg_error *err)
{
    size_t run = nchecks < c->opts.concurrency ? nchecks : c->opts.concurrency;
    size_t n = CHECKER_TIMERS + c->nresolvers + run * CHECK_TIMERS_PER_CHECK;
    if(n > UINT32_MAX || vg_loop_reserve_timers(c->loop, (uint32_t)n) < 0)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    return VG_OK;
}

static void runner_attempt_done(vg_check *ck);
static void runner_fd_shortage(vg_check *ck);

/* How the attempt layer (attempt.c) and the kinds reach this runner. */
static const check_runner_ops runner_ops = {
    .loop = runner_loop,
    .ssl_ctx = runner_ssl_ctx,
    .http_multi = runner_http_multi,
    .attempt_done = runner_attempt_done,
    .fd_shortage = runner_fd_shortage,
};

/* The target parsed and the options judged for its kind: what adding a
 * check refuses, without adding it. */
static int check_judge(const char *spec, const vg_check_opts *opts, vg_check_target *tgt,
                       const vg_check_type **type, vg_error *err)
{
    int rc = vg_check_target_parse(tgt, spec, err);
    if(rc)
        return rc;
    *type = type_for(tgt->scheme);
    if(!*type)
        return vg_error_set(err, VG_EINVAL, "target '%s': unsupported scheme", spec);
    rc = check_opts_fit(*type, opts, err);
    if(!rc && (*type)->validate)
        rc = (*type)->validate(opts, err);
    if(!rc && opts->steps)
        rc = steps_validate(opts, err);
    if(rc && err) {
        char msg[sizeof(err->msg)];
        if(snprintf(msg, sizeof(msg), "%s (for %s)", err->msg, spec) > 0)
            memcpy(err->msg, msg, sizeof(msg));
    }
    return rc;
}

int vg_check_validate(const char *spec, const vg_check_opts *opts, vg_error *err)
{
    vg_check_target tgt;
    const vg_check_type *type;
    return check_judge(spec, opts, &tgt, &type, err);
}

int vg_checker_add(vg_checker *c, const char *spec, const vg_check_opts *opts, vg_error *err)
{
    return vg_checker_add_named(c, NULL, spec, opts, NULL, err);
}

int vg_checker_add_named(vg_checker *c, const char *name, const char *spec, const vg_check_opts *opts,
                         size_t *index, vg_error *err)
{
    vg_check *ck;
    int rc;

    if(c->started && (!c->opts.unordered || c->stopped))
        return vg_error_set(err, VG_EINVAL, "checks cannot be added after start");
    ck = vg_calloc(1, sizeof(*ck));
    if(!ck)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    rc = check_judge(spec, opts, &ck->tgt, &ck->type, err);
    if(rc)
        goto fail;
    ck->spec = vg_strdup(spec);
    if(!ck->spec || (name && !(ck->name = vg_strdup(name)))) {
        rc = vg_error_set(err, VG_ENOMEM, "out of memory");
        goto fail;
    }
    if(c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        vg_check **v = vg_realloc(c->checks, cap * sizeof(*v));
        if(!v) {
            rc = vg_error_set(err, VG_ENOMEM, "out of memory");
            goto fail;
        }
        c->checks = v;
        c->cap = cap;
    }
    ck->checker = c;
    ck->rt = &runner_ops;
    ck->opts = opts;
    ck->index = c->n;
    if(ck->type->fds > c->fd_cost)
        c->fd_cost = ck->type->fds;
    if(ck->type->curl)
        c->curl_added = true;
    ck->dns_us = -1;
    vg_timer_init(&ck->timer, on_timer);
    if(c->started) {
        rc = prepare_check(c, ck, err);
        if(!rc)
            rc = reserve_timers(c, c->n + 1, err);
        if(rc)
            goto fail;
    }
    if(index)
        *index = c->n;
    c->checks[c->n++] = ck;
    c->outstanding++;
    return VG_OK;
fail:
    free(ck->name);
    free(ck->spec);
    free(ck);
    return rc;
}

size_t vg_checker_count(const vg_checker *c)
{
    return c->n;
}

void vg_checker_progress(const vg_checker *c, size_t *done, size_t *total)
{
    *done = c->ndone;
    *total = c->n;
}

/* --- resolution ----------------------------------------------------------- */

/* A numeric host ("127.0.0.1", "::1", "fe80::1%eth0") without any lookup. */
static bool parse_literal(const char *host, vg_addr *out)
{
    struct addrinfo hints, *res = NULL;
    bool ok = false;
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_socktype = SOCK_STREAM;
    if(getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
        ok = vg_addr_from_sockaddr(out, res->ai_addr);
        freeaddrinfo(res);
    }
    return ok;
}

/* --resolve HOST:PORT:ADDR (curl's syntax; the first address is used). */
static bool match_override(const vg_check *ck, vg_addr *out)
{
    const char *const *r = ck->opts->resolve;
    for(; r && *r; r++) {
        const char *s = *r, *c1 = strchr(s, ':'), *c2;
        char port[8], addr[80];
        size_t al;
        if(!c1)
            continue;
        c2 = strchr(c1 + 1, ':');
        if(!c2 || (size_t)(c2 - c1 - 1) >= sizeof(port))
            continue;
        if((size_t)(c1 - s) != strlen(ck->tgt.host) || strncasecmp(s, ck->tgt.host, (size_t)(c1 - s)))
            continue;
        memcpy(port, c1 + 1, (size_t)(c2 - c1 - 1));
        port[c2 - c1 - 1] = '\0';
        if(strcmp(port, "*")) {
            char *end;
            unsigned long pv = strtoul(port, &end, 10);
            if(*end || end == port || pv != ck->tgt.port)
                continue;
        }
        s = c2 + 1;
        al = strcspn(s, ",");
        if(*s == '[' && al >= 2 && s[al - 1] == ']') {
            s++;
            al -= 2;
        }
        if(al >= sizeof(addr))
            continue;
        memcpy(addr, s, al);
        addr[al] = '\0';
        if(parse_literal(addr, out))
            return true;
    }
    return false;
}

/* The resolver for these --dns-servers, made on first use. */
static vg_resolver *checker_resolver(vg_checker *c, const char *servers, vg_error *err)
{
    vg_resolver *r, **v;
    for(size_t i = 0; i < c->nresolvers; i++)
        if(vg_resolver_matches(c->resolvers[i], servers))
            return c->resolvers[i];
    v = vg_realloc(c->resolvers, (c->nresolvers + 1) * sizeof(*v));
    if(!v) {
        vg_error_set(err, VG_ENOMEM, "out of memory");
        return NULL;
    }
    c->resolvers = v;
    if(vg_resolver_new(&r, c->loop, servers, 0, CHECKER_DNS_TRY_MS, err))
        return NULL;
    c->resolvers[c->nresolvers++] = r;
    return r;
}

/* TLS context, address literal or resolver: what a check needs before its
 * first attempt. */
static int prepare_check(vg_checker *c, vg_check *ck, vg_error *err)
{
    if((ck->type->tls || ck->type->starttls) && !runner_ssl_ctx(c, ck->opts, err))
        return err ? err->code : VG_EINVAL;
    if(match_override(ck, &ck->addr) || parse_literal(ck->tgt.host, &ck->addr))
        ck->have_addr = true;
    else if(ck->type->curl && ck->opts->proxy)
        ; /* the proxy resolves the target's name */
    else {
        ck->needs_dns = true;
        if(!checker_resolver(c, ck->opts->dns_servers, err))
            return err ? err->code : VG_EINVAL;
    }
    return VG_OK;
}

/* Descriptors this process has open: /proc/self/fd, or a probe of every
 * descriptor below the limit where /proc is not mounted. */
static int fds_in_use(int limit)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if(d) {
        struct dirent *e;
        while((e = readdir(d)))
            if(e->d_name[0] != '.')
                n++;
        closedir(d);
        return n > 0 ? n - 1 : 0; /* the directory's own descriptor */
    }
    for(int fd = 0; fd < limit && fd < 65536; fd++)
        if(fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

/* How many checks may run at once: the configured concurrency, cut to
 * what the open-file limit leaves after the descriptors already in use,
 * the runner's own and the slack, at the most expensive kind's cost; and
 * after a shortage, to what was running then (growing back as checks
 * finish). At least 1: a check that cannot get a descriptor waits. */
static unsigned run_limit(const vg_checker *c)
{
    long room = (long)c->fd_limit - c->fd_base - CHECKER_FDS_SLACK -
                (long)c->nresolvers * CHECKER_FDS_RESOLVER -
                (c->http || c->curl_added ? CHECKER_FDS_HTTP_MULTI : 0);
    unsigned n = c->opts.concurrency;
    long fit = room / (long)c->fd_cost;
    if(fit < (long)n)
        n = fit > 0 ? (unsigned)fit : 1;
    if(c->shortage_cap && c->shortage_cap < n)
        n = c->shortage_cap;
    return n;
}

int vg_checker_start(vg_checker *c, vg_error *err)
{
    if(c->started)
        return VG_OK;
    c->started = true;
    c->fd_base = fds_in_use(c->fd_limit);
    for(size_t i = 0; i < c->n; i++) {
        int rc = prepare_check(c, c->checks[i], err);
        if(rc)
            return rc;
    }
    return reserve_timers(c, c->n, err);
}

/* --- findings --------------------------------------------------------------- */

/* --- lifecycle ----------------------------------------------------------------- */

/* The run's record and findings, made when the check starts; false when
 * out of memory (the check then waits, see pump()). */
static bool run_new(vg_check *ck)
{
    if(!ck->run) {
        ck->run = vg_malloc(sizeof(*ck->run));
        if(!ck->run)
            return false;
    }
    /* reset_attempt() clears the record and the findings; the
     * per-address texts are written before they are read. */
    ck->run->res.index = ck->index;
    return true;
}

/* After its record was delivered: the next run makes a new one. */
static void run_free(vg_check *ck)
{
    free(ck->run);
    ck->run = NULL;
}

static void reset_attempt(vg_check *ck)
{
    size_t idx = ck->run->res.index;
    memset(&ck->run->res, 0, sizeof(ck->run->res));
    ck->run->res.index = idx;
    for(int p = 0; p < VG_PHASE__COUNT; p++)
        ck->run->res.phase_us[p] = -1;
    ck->dns_us = -1;
    ck->run->summary[0] = '\0';
    ck->run->nfindings = 0;
}

static void finalize(vg_check *ck);
static void runner_dns_done(void *ud, const vg_lookup_result *res);

static void begin_attempt(vg_check *ck)
{
    vg_checker *c = ck->checker;
    ck->status = CK_RUNNING;
    ck->attempts++;
    reset_attempt(ck);
    ck->attempt_start_us = ck->attempt_us = vg_now_us();
    if(vg_timer_arm(c->loop, &ck->timer, ck->deadline_us) < 0) {
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        finalize(ck);
        return;
    }
    if(ck->needs_dns) {
        vg_resolver *r = checker_resolver(c, ck->opts->dns_servers, NULL);
        ck->have_addr = false;
        ck->naddrs = ck->addr_idx = 0;
        ck->dns_start_us = ck->attempt_us;
        /* The answer may come at once (/etc/hosts) and start the kind. */
        if(!r || vg_resolve_lookup(r, ck->tgt.host, ck->opts->family, runner_dns_done, ck, &ck->lookup,
                                   NULL) != VG_OK) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot start name resolution");
            check_attempt_done(ck);
        }
        return;
    }
    ck->type->start(ck);
}

/* The resolver's answer for ck's name; may come before vg_resolve_lookup()
 * returns. */
static void runner_dns_done(void *ud, const vg_lookup_result *res)
{
    vg_check *ck = ud;
    uint64_t now = vg_now_us();
    unsigned n = res->naddrs > CHECK_MAX_ADDRS ? CHECK_MAX_ADDRS : (unsigned)res->naddrs;
    const vg_addr *addrs = res->addrs;
    int status = res->status;
    char t[32];
    if(res->invalid) {
        /* Answered by rule, not looked up: no dns phase, and a retry
         * could not change it. */
        ck->dns_us = 0;
        ck->run->res.phase_us[VG_PHASE_DNS] = 0;
        ck->no_retry = true;
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_NXDOMAIN, "cannot resolve %s: %s (service not checked)",
                      ck->tgt.host, res->reason);
        check_attempt_done(ck);
        return;
    }
    ck->dns_us = (int64_t)(now - ck->dns_start_us);
    ck->run->res.phase_us[VG_PHASE_DNS] = ck->dns_us;
    if(n) {
        memcpy(ck->addrs, addrs, n * sizeof(*addrs));
        ck->naddrs = n;
        ck->addr_idx = 0;
        ck->addr = addrs[0];
        ck->have_addr = true;
        ck->attempt_us = now;
        if(ck->opts->all_addresses)
            alladdr_begin(ck); /* --all-addresses: every address in turn */
        ck->type->start(ck);
        return;
    }
    if(status == ARES_ENOTFOUND || status == ARES_ENODATA || status == ARES_ENONAME)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_NXDOMAIN,
                      "cannot resolve %s: %s (service not checked)", ck->tgt.host, res->reason);
    else if(status == ARES_ETIMEOUT)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_TIMEOUT,
                      "no answer from the resolver for %s in %s (service not checked)", ck->tgt.host,
                      check_fmt_us(ck->dns_us, t, sizeof(t)));
    else
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_ERROR,
                      "cannot resolve %s: %s (service not checked)", ck->tgt.host, res->reason);
    check_attempt_done(ck);
}

/* The deadline passed while the name was being resolved. */
static void dns_timeout(vg_check *ck)
{
    char t[32];
    vg_lookup_cancel(ck->lookup);
    ck->lookup = NULL;
    ck->dns_us = (int64_t)(vg_now_us() - ck->dns_start_us);
    ck->run->res.phase_us[VG_PHASE_DNS] = ck->dns_us;
    check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_TIMEOUT,
                  "no answer from the resolver for %s within %s (service not checked)", ck->tgt.host,
                  check_fmt_us(ck->dns_us, t, sizeof(t)));
    check_attempt_done(ck);
}

static bool start_check(vg_check *ck)
{
    vg_checker *c = ck->checker;
    if(!run_new(ck)) {
        c->out_of_memory = true;
        return false;
    }
    reset_attempt(ck);
    c->active++;
    ck->start_us = vg_now_us();
    ck->run->res.start_time = 0;
    ck->deadline_us = ck->start_us + (uint64_t)ck->opts->timeout_ms * 1000u;
    begin_attempt(ck);
    return true;
}

static int attempt_state(const vg_check *ck)
{
    int s = VG_CHECK_OK;
    for(unsigned i = 0; i < ck->run->nfindings; i++)
        s = vg_check_state_worst(s, ck->run->findings[i].state);
    return s;
}

static void runner_attempt_done(vg_check *ck)
{
    vg_checker *c = ck->checker;
    uint64_t now = vg_now_us();
    int s;

    vg_lookup_cancel(ck->lookup);
    ck->lookup = NULL;
    ck->type->release(ck);
    if(ck->opts->all_addresses && ck->naddrs > 0 && !c->stopped && alladdr_next(ck))
        return; /* the next address is being probed */
    if(ck->run->res.phase_us[VG_PHASE_TOTAL] < 0)
        ck->run->res.phase_us[VG_PHASE_TOTAL] = (int64_t)(now - ck->attempt_start_us);
    s = attempt_state(ck);
    if((s == VG_CHECK_CRITICAL || s == VG_CHECK_UNKNOWN) && !c->stopped && !ck->no_retry &&
       ck->attempts <= ck->opts->retries &&
       now + (uint64_t)ck->opts->retry_delay_ms * 1000u < ck->deadline_us) {
        /* Remember why this attempt failed, for the record of a pass
         * that needed a retry. */
        ck->prev_reason = VG_CR_OK;
        for(unsigned i = 0; i < ck->run->nfindings; i++)
            if(ck->run->findings[i].state == s) {
                ck->prev_reason = ck->run->findings[i].reason;
                break;
            }
        ck->status = CK_RETRY_WAIT;
        if(vg_timer_arm(c->loop, &ck->timer, now + (uint64_t)ck->opts->retry_delay_ms * 1000u) == 0)
            return;
    }
    finalize(ck);
}

static void on_timer(vg_loop *loop, vg_timer *t)
{
    vg_check *ck = (vg_check *)((char *)t - offsetof(vg_check, timer));
    (void)loop;
    if(ck->status == CK_RETRY_WAIT)
        begin_attempt(ck);
    else if(ck->status == CK_RUNNING && ck->lookup)
        dns_timeout(ck);
    else if(ck->status == CK_RUNNING)
        ck->type->on_timeout(ck);
}

static void apply_thresholds(vg_check *ck)
{
    static const int slow[VG_PHASE__COUNT] = {
        VG_CR_SLOW_DNS, VG_CR_SLOW_CONNECT, VG_CR_SLOW_TLS, VG_CR_SLOW_FIRSTBYTE, VG_CR_SLOW_TOTAL,
    };
    const vg_check_opts *o = ck->opts;
    char a[32], b[32];
    for(int p = 0; p < VG_PHASE__COUNT; p++) {
        int64_t v = ck->run->res.phase_us[p];
        if(v < 0)
            continue;
        if(o->crit_us[p] && v > (int64_t)o->crit_us[p])
            check_finding(ck, VG_CHECK_CRITICAL, slow[p], "%s took %s (critical above %s)",
                          vg_phase_name(p), check_fmt_us(v, a, sizeof(a)),
                          check_fmt_us(o->crit_us[p], b, sizeof(b)));
        else if(o->warn_us[p] && v > (int64_t)o->warn_us[p])
            check_finding(ck, VG_CHECK_WARNING, slow[p], "%s took %s (warning above %s)",
                          vg_phase_name(p), check_fmt_us(v, a, sizeof(a)),
                          check_fmt_us(o->warn_us[p], b, sizeof(b)));
    }
}

static void append(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if(n < len - 1)
        snprintf(buf + n, len - n, "%s", s);
}

static void finalize(vg_check *ck)
{
    vg_checker *c = ck->checker;
    vg_check_result *r = &ck->run->res;
    const vg_check_opts *o = ck->opts;
    int state = VG_CHECK_OK;
    unsigned order[CHECK_MAX_FINDINGS], n = 0;
    char buf[64];

    vg_timer_disarm(c->loop, &ck->timer);
    if(ck->status == CK_RUNNING || ck->status == CK_RETRY_WAIT)
        c->active--;
    /* After a shortage, one more check may run for each that finished. */
    if(c->shortage_cap && ++c->shortage_cap >= c->opts.concurrency)
        c->shortage_cap = 0;
    if(ck->run->nfindings == 0 || ck->run->findings[0].reason != VG_CR_INTERNAL)
        c->starved_since_us = 0; /* something ran: descriptors come and go */
    if(!c->stopped || ck->run->nfindings == 0 || ck->run->findings[0].reason != VG_CR_INTERRUPTED)
        apply_thresholds(ck);
    if(ck->attempts > 1 && attempt_state(ck) == VG_CHECK_OK) {
        if(o->retry_is_warning)
            check_finding(ck, VG_CHECK_WARNING, VG_CR_RETRIED,
                          "passed only on attempt %u (attempt %u failed: %s)", ck->attempts,
                          ck->attempts - 1, vg_check_reason_name(ck->prev_reason));
    }
    /* --on-timeout / --on-refused remap those reasons' states. */
    for(unsigned i = 0; i < ck->run->nfindings; i++) {
        struct check_finding *f = &ck->run->findings[i];
        if(o->on_timeout >= 0 && vg_check_reason_is_timeout(f->reason))
            f->state = o->on_timeout;
        if(o->on_refused >= 0 && f->reason == VG_CR_CONN_REFUSED)
            f->state = o->on_refused;
    }
    /* Order the findings worst first, stable. */
    for(int rank = 0; rank < 4; rank++) {
        static const int by_rank[4] = {VG_CHECK_CRITICAL, VG_CHECK_WARNING, VG_CHECK_UNKNOWN, VG_CHECK_OK};
        for(unsigned i = 0; i < ck->run->nfindings; i++)
            if(ck->run->findings[i].state == by_rank[rank])
                order[n++] = i;
    }
    for(unsigned i = 0; i < n; i++)
        state = vg_check_state_worst(state, ck->run->findings[order[i]].state);
    r->state = state;
    r->reason = n ? ck->run->findings[order[0]].reason : VG_CR_OK;
    r->nreasons = 0;
    for(unsigned i = 0; i < n && r->nreasons < sizeof(r->reasons); i++)
        r->reasons[r->nreasons++] = (uint8_t)ck->run->findings[order[i]].reason;
    r->message[0] = '\0';
    if(ck->run->summary[0])
        append(r->message, sizeof(r->message), ck->run->summary);
    for(unsigned i = 0; i < n; i++) {
        if(r->message[0])
            append(r->message, sizeof(r->message), "; ");
        append(r->message, sizeof(r->message), ck->run->findings[order[i]].msg);
    }
    if(ck->attempts > 1) {
        snprintf(buf, sizeof(buf), " (%u attempts)", ck->attempts);
        append(r->message, sizeof(r->message), buf);
    }
    if(!r->message[0])
        append(r->message, sizeof(r->message), state == VG_CHECK_OK ? "OK" : "failed");
    r->target = ck->spec;
    r->name = ck->name;
    r->kind = ck->tgt.scheme;
    r->label = ck->type->label;
    r->detail = ck->type->detail;
    r->host = ck->tgt.host;
    r->port = ck->tgt.port;
    r->have_addr = ck->have_addr;
    r->addr = ck->addr;
    r->attempts = ck->attempts;
    r->opts = ck->opts;
    r->elapsed_us = ck->start_us ? (int64_t)(vg_now_us() - ck->start_us) : 0;
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - (double)r->elapsed_us / 1e6;
    }
    ck->status = CK_DONE;
    c->ndone++;
    if(c->opts.unordered) {
        ck->next_done = NULL;
        if(c->done_tail)
            c->done_tail->next_done = ck;
        else
            c->done_head = ck;
        c->done_tail = ck;
    }
}

/* --- file descriptor shortage ---------------------------------------------- */

static void runner_fd_shortage(vg_check *ck)
{
    vg_checker *c = ck->checker;
    uint64_t now = vg_now_us();

    vg_lookup_cancel(ck->lookup);
    ck->lookup = NULL;
    ck->type->release(ck);
    vg_timer_disarm(c->loop, &ck->timer);
    c->active--;
    /* Not an attempt: it never reached the service. */
    if(ck->attempts)
        ck->attempts--;
    ck->run->nfindings = 0;
    ck->status = CK_FD_WAIT;
    ck->fdwait_since_us = now;
    ck->fdwait_alone = c->active == 0;
    if(!ck->fdwait_alone)
        c->starved_since_us = 0;
    else if(!c->starved_since_us)
        c->starved_since_us = now;
    ck->next_fdwait = NULL;
    if(c->fdwait_tail)
        c->fdwait_tail->next_fdwait = ck;
    else
        c->fdwait_head = ck;
    c->fdwait_tail = ck;
    /* What runs now is what fits; start nothing for a moment. */
    c->shortage_cap = c->active ? (unsigned)c->active : 1;
    c->fd_pause_until_us = now + CHECKER_FD_PAUSE_US;
    vg_timer_arm(c->loop, &c->fd_timer, c->fd_pause_until_us);
}

static void pump(vg_checker *c);

static void fd_timer_fired(vg_loop *loop, vg_timer *t)
{
    vg_checker *c = (vg_checker *)((char *)t - offsetof(vg_checker, fd_timer));
    (void)loop;
    pump(c);
}

/* A check that waited for descriptors runs its attempt again. The wait is
 * ours, not the service's, so its deadline moves by as much. But when no
 * check of ours holds a descriptor that could be freed, the shortage is
 * someone else's: once it has lasted the check's timeout, it is the
 * verdict (and then at once for each check after it, while it lasts). */
static void resume_check(vg_check *ck)
{
    vg_checker *c = ck->checker;
    uint64_t now = vg_now_us();

    c->active++;
    ck->deadline_us += now - ck->fdwait_since_us;
    if(ck->fdwait_alone && c->starved_since_us &&
       now - c->starved_since_us >= (uint64_t)ck->opts->timeout_ms * 1000u) {
        ck->status = CK_RUNNING;
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL,
                      "too many open files: the open-file limit (%d) leaves no descriptor for this check"
                      " (raise ulimit -n)", c->fd_limit);
        ck->run->res.phase_us[VG_PHASE_TOTAL] = 0;
        finalize(ck);
        return;
    }
    begin_attempt(ck);
}

/* Starts checks up to the limit: first those that waited for descriptors,
 * then new ones, then re-runs. Checks that finish during start() (refused
 * at once, DNS failures) free their slot at once, so this loops rather
 * than recursing. */
static bool can_start(const vg_checker *c)
{
    return !c->stopped && c->active < run_limit(c) && vg_now_us() >= c->fd_pause_until_us;
}

static void pump(vg_checker *c)
{
    while(c->fdwait_head && can_start(c)) {
        vg_check *ck = c->fdwait_head;
        c->fdwait_head = ck->next_fdwait;
        if(!c->fdwait_head)
            c->fdwait_tail = NULL;
        ck->next_fdwait = NULL;
        resume_check(ck);
    }
    /* A check that cannot get its record (out of memory) waits for the
     * running ones to give theirs back; with none running,
     * vg_checker_poll() fails. */
    c->out_of_memory = false;
    while(!c->fdwait_head && c->next_start < c->n && can_start(c)) {
        if(!start_check(c->checks[c->next_start]))
            return;
        c->next_start++;
    }
    while(!c->fdwait_head && c->run_head && can_start(c)) {
        vg_check *ck = c->run_head;
        if(ck->status == CK_PENDING && !run_new(ck)) {
            c->out_of_memory = true;
            return;
        }
        c->run_head = ck->next_run;
        if(!c->run_head)
            c->run_tail = NULL;
        ck->next_run = NULL;
        if(ck->status == CK_PENDING)
            start_check(ck);
    }
}

int vg_checker_rerun(vg_checker *c, size_t index, vg_error *err)
{
    vg_check *ck;
    if(!c->opts.unordered || c->stopped || !c->started || index >= c->n)
        return vg_error_set(err, VG_EINVAL, "this check cannot be re-run");
    ck = c->checks[index];
    if(ck->status != CK_DELIVERED)
        return vg_error_set(err, VG_EINVAL, "check %zu has not finished", index);
    ck->status = CK_PENDING;
    ck->attempts = 0;
    ck->prev_reason = VG_CR_OK;
    ck->start_us = 0;
    ck->next_run = NULL;
    if(c->run_tail)
        c->run_tail->next_run = ck;
    else
        c->run_head = ck;
    c->run_tail = ck;
    c->outstanding++;
    return VG_OK;
}

static void deliver(vg_checker *c, vg_check_result_fn fn, void *ud)
{
    while(c->opts.unordered && c->done_head) {
        vg_check *ck = c->done_head;
        c->done_head = ck->next_done;
        if(!c->done_head)
            c->done_tail = NULL;
        ck->next_done = NULL;
        ck->run->res.index = ck->index;
        ck->status = CK_DELIVERED;
        c->outstanding--;
        if(fn)
            fn(&ck->run->res, ud);
        run_free(ck);
    }
    while(!c->opts.unordered && c->next_deliver < c->n && c->checks[c->next_deliver]->status == CK_DONE) {
        vg_check *ck = c->checks[c->next_deliver++];
        ck->run->res.index = ck->index;
        if(fn)
            fn(&ck->run->res, ud);
        ck->status = CK_DELIVERED;
        run_free(ck);
    }
}

/* Out of memory with nothing running that could give some back. */
static bool stuck(const vg_checker *c)
{
    return c->records_lost || (c->out_of_memory && c->active == 0 && !c->fdwait_head);
}

int vg_checker_poll(vg_checker *c, int max_wait_ms, vg_check_result_fn fn, void *ud, vg_error *err)
{
    int rc;
    if(!c->started) {
        rc = vg_checker_start(c, err);
        if(rc)
            return rc;
    }
    pump(c);
    deliver(c, fn, ud);
    if(stuck(c))
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    if(c->opts.unordered ? c->outstanding == 0 : c->next_deliver == c->n)
        return 1;
    rc = vg_loop_run_once(c->loop, max_wait_ms);
    if(rc < 0)
        return vg_error_set(err, VG_ESYS, "event loop: %s", strerror(-rc));
    pump(c);
    deliver(c, fn, ud);
    if(stuck(c))
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    if(c->opts.unordered)
        return c->outstanding == 0;
    return c->next_deliver == c->n;
}

void vg_checker_stop(vg_checker *c)
{
    if(c->stopped)
        return;
    c->stopped = true;
    for(size_t i = 0; i < c->n; i++) {
        vg_check *ck = c->checks[i];
        if(ck->status == CK_RUNNING || ck->status == CK_RETRY_WAIT) {
            vg_lookup_cancel(ck->lookup);
            ck->lookup = NULL;
            if(ck->status == CK_RUNNING)
                ck->type->release(ck);
            if(ck->run->res.phase_us[VG_PHASE_TOTAL] < 0)
                ck->run->res.phase_us[VG_PHASE_TOTAL] = (int64_t)(vg_now_us() - ck->attempt_start_us);
            ck->run->nfindings = 0;
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERRUPTED, "interrupted before the check finished");
            finalize(ck);
        }
        else if(ck->status == CK_PENDING || ck->status == CK_FD_WAIT) {
            if(!run_new(ck)) {
                /* No record to say so: vg_checker_poll() fails instead. */
                c->records_lost = true;
                ck->status = CK_DELIVERED;
                continue;
            }
            reset_attempt(ck);
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERRUPTED, "interrupted before the check started");
            finalize(ck);
        }
    }
    c->next_start = c->n;
    c->fdwait_head = c->fdwait_tail = NULL;
    vg_timer_disarm(c->loop, &c->fd_timer);
}

void vg_checker_free(vg_checker *c)
{
    if(!c)
        return;
    for(size_t i = 0; i < c->n; i++) {
        vg_check *ck = c->checks[i];
        vg_lookup_cancel(ck->lookup);
        if(ck->status == CK_RUNNING)
            ck->type->release(ck);
        vg_timer_disarm(c->loop, &ck->timer);
        free(ck->run);
        free(ck->name);
        free(ck->spec);
        free(ck);
    }
    free(c->checks);
    vg_timer_disarm(c->loop, &c->fd_timer);
    http_multi_free(c->http);
    for(size_t i = 0; i < c->nresolvers; i++)
        vg_resolver_free(c->resolvers[i]);
    free(c->resolvers);
    while(c->ssl_ctxs) {
        struct ssl_ctx_entry *e = c->ssl_ctxs;
        c->ssl_ctxs = e->next;
        SSL_CTX_free(e->ctx);
        free(e);
    }
    vg_loop_free(c->loop);
    free(c);
}
