/* SPDX-License-Identifier: MIT */
/* Service checks on scan results (vigia/scancheck.h, `vigia scan --check`):
 * every open TCP port gets a service check on an unordered vg_checker,
 * polled from the caller's loop, and its record is held until the verdict
 * is in. Which check: the well-known port's kind (22 ssh,
 * 53 dns, 80 http, ...) when the checker has that kind; otherwise a banner
 * read, then the kind the banner announces (SSH-, HTTP/, 220 ... SMTP,
 * * OK, a MySQL greeting); a port silent for the banner wait is asked HTTP;
 * one that does not answer HTTP either is judged as a TCP connect check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/alloc.h"
#include "vigia/scancheck.h"

enum stage {
    STAGE_DIRECT = 0,  /* the port's own kind (or a plain tcp check) */
    STAGE_BANNER,      /* reading what the service says first */
    STAGE_CLASSIFIED,  /* the kind its banner announced */
    STAGE_HTTP,        /* silent: is it an HTTP server? */
};

struct held {
    vg_result res;
    int stage;
    char ip[VG_ADDR_STRLEN];
    char spec[VG_ADDR_STRLEN + 48];
    vg_check_result *silent; /* STAGE_HTTP: the banner read, for the fallback */
    const char *next_kind;   /* follow-up check to add after the poll */
    struct held *next_todo;
};

struct vg_scan_checks {
    vg_checker *checker;
    /* borrowed by the checker: they live as long as it does */
    vg_check_opts o_plain, o_tls, o_banner, o_dns, o_http;
    uint32_t timeout_ms, banner_ms;
    vg_scan_check_fn emit;
    void *ud;
    struct held **by_index;  /* check index -> held port */
    size_t cap_index;
    size_t nheld;
    struct held *todo, *todo_tail;
    bool stopped;
    uint64_t count[4];
};

int vg_scan_checks_new(vg_scan_checks **out, uint32_t timeout_ms, uint32_t banner_ms, vg_scan_check_fn emit,
                    void *ud, vg_error *err)
{
    vg_scan_checks *sc = vg_calloc(1, sizeof(*sc));
    vg_checker_opts co = {.unordered = true, .concurrency = 64};
    int rc;

    *out = NULL;
    if(!sc)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    sc->timeout_ms = timeout_ms;
    sc->banner_ms = banner_ms < timeout_ms ? banner_ms : timeout_ms;
    sc->emit = emit;
    sc->ud = ud;
    vg_check_opts_default(&sc->o_plain);
    sc->o_plain.timeout_ms = timeout_ms;
    /* A scan addresses IPs: the certificate cannot name them, so trust and
     * host name are not judged (dates still are). */
    sc->o_tls = sc->o_plain;
    sc->o_tls.insecure = true;
    /* Any answer that is HTTP (a 404 at / too) shows a working server;
     * 5xx does not. */
    sc->o_http = sc->o_tls;
    rc = vg_status_set_parse(&sc->o_http.expect_status, "100-499", err);
    /* A server that answers for the root zone at all is up: NOERROR,
     * NXDOMAIN or REFUSED (an authoritative-only server). */
    sc->o_dns = sc->o_plain;
    sc->o_dns.expect_rcodes = 1u << 0 | 1u << 3 | 1u << 5;
    /* "^" matches as soon as anything was read. */
    sc->o_banner = sc->o_plain;
    sc->o_banner.timeout_ms = sc->banner_ms;
    sc->o_banner.expect = "^";
    sc->o_banner.max_read = 512;
    if(!rc)
        rc = vg_checker_new(&sc->checker, &co, err);
    if(!rc)
        rc = vg_checker_start(sc->checker, err);
    if(rc) {
        vg_scan_checks_free(sc);
        return rc;
    }
    *out = sc;
    return VG_OK;
}

static const vg_check_opts *opts_for(vg_scan_checks *sc, const char *kind)
{
    if(!strcmp(kind, "http"))
        return &sc->o_http;
    if(!strcmp(kind, "https"))
        return &sc->o_http;
    if(!strcmp(kind, "smtp") || !strcmp(kind, "imap"))
        return &sc->o_tls;
    if(!strcmp(kind, "dns"))
        return &sc->o_dns;
    if(!strcmp(kind, "banner"))
        return &sc->o_banner;
    return &sc->o_plain;
}

/* Starts a check of kind on h's port; false when the checker refused it
 * (a kind it does not have, an address a spec cannot hold). */
static bool add_check(vg_scan_checks *sc, struct held *h, const char *kind)
{
    bool v6 = h->res.addr.family == AF_INET6;
    const char *scheme = !strcmp(kind, "banner") ? "tcp" : kind;
    const char *path = !strcmp(kind, "http") || !strcmp(kind, "https") ? "/"
                     : !strcmp(kind, "dns") ? "/.?type=NS" : "";
    size_t idx;
    vg_error err = {0};

    if(sc->stopped)
        return false;
    snprintf(h->spec, sizeof(h->spec), v6 ? "%s://[%s]:%u%s" : "%s://%s:%u%s", scheme, h->ip,
             h->res.port, path);
    if(vg_checker_add_named(sc->checker, NULL, h->spec, opts_for(sc, kind), &idx, &err))
        return false;
    if(idx >= sc->cap_index) {
        size_t cap = sc->cap_index ? sc->cap_index * 2 : 256;
        while(cap <= idx)
            cap *= 2;
        struct held **m = vg_realloc(sc->by_index, cap * sizeof(*m));
        if(!m) {
            /* The check runs but cannot be matched: stop everything so the
             * held ports are emitted rather than lost. */
            sc->stopped = true;
            vg_checker_stop(sc->checker);
            return false;
        }
        memset(m + sc->cap_index, 0, (cap - sc->cap_index) * sizeof(*m));
        sc->by_index = m;
        sc->cap_index = cap;
    }
    sc->by_index[idx] = h;
    return true;
}

/* A record for a check that never ran (stopped first, or out of memory). */
static void synth_result(vg_check_result *r, const struct held *h, int state, int reason,
                         const char *msg)
{
    memset(r, 0, sizeof(*r));
    for(int p = 0; p < VG_PHASE__COUNT; p++)
        r->phase_us[p] = -1;
    r->target = h->spec;
    r->kind = "tcp";
    r->host = h->ip;
    r->port = h->res.port;
    r->state = state;
    r->reason = reason;
    if(reason != VG_CR_OK)
        r->reasons[r->nreasons++] = (uint8_t)reason;
    r->dns_rcode = -1;
    r->rtt_min_us = r->rtt_avg_us = r->rtt_max_us = -1;
    snprintf(r->message, sizeof(r->message), "%s", msg);
}

static void emit(vg_scan_checks *sc, struct held *h, const vg_check_result *chk)
{
    if(chk && chk->state >= 0 && chk->state < 4)
        sc->count[chk->state]++;
    sc->emit(&h->res, chk, sc->ud);
    free(h->silent);
    free(h);
    sc->nheld--;
}

static void emit_synth(vg_scan_checks *sc, struct held *h, int state, int reason, const char *msg)
{
    vg_check_result *r = vg_malloc(sizeof(*r));
    if(!r) {
        emit(sc, h, NULL);
        return;
    }
    synth_result(r, h, state, reason, msg);
    emit(sc, h, r);
    free(r);
}

void vg_scan_checks_result(vg_scan_checks *sc, const vg_result *res)
{
    const char *kind;
    struct held *h;

    /* Closed and filtered ports, and UDP ports other than 53, have no
     * service to check. */
    if(res->state != VG_STATE_OPEN || (res->proto == 17 && res->port != 53)) {
        sc->emit(res, NULL, sc->ud);
        return;
    }
    h = vg_calloc(1, sizeof(*h));
    if(!h) {
        sc->emit(res, NULL, sc->ud);
        return;
    }
    h->res = *res;
    vg_addr_format(&res->addr, h->ip, sizeof(h->ip));
    sc->nheld++;
    if(sc->stopped) {
        snprintf(h->spec, sizeof(h->spec), "tcp://%s:%u", h->ip, res->port);
        emit_synth(sc, h, VG_CHECK_UNKNOWN, VG_CR_INTERRUPTED, "interrupted before the check started");
        return;
    }
    kind = res->proto == 17 ? "dns" : vg_check_kind_for_port(res->port);
    h->stage = STAGE_DIRECT;
    if(kind && add_check(sc, h, kind))
        return;
    /* Not a well-known port, or its kind is missing: read a banner. */
    h->stage = STAGE_BANNER;
    if(add_check(sc, h, "banner"))
        return;
    emit_synth(sc, h, VG_CHECK_UNKNOWN, sc->stopped ? VG_CR_INTERRUPTED : VG_CR_INTERNAL,
               sc->stopped ? "interrupted before the check started" : "the check could not be started");
}

static void queue_followup(vg_scan_checks *sc, struct held *h, const char *kind)
{
    h->next_kind = kind;
    h->next_todo = NULL;
    if(sc->todo_tail)
        sc->todo_tail->next_todo = h;
    else
        sc->todo = h;
    sc->todo_tail = h;
}

/* The silent port did not answer HTTP: what the banner read saw, judged
 * as a connect check (it accepted the connection). */
static void emit_silent(vg_scan_checks *sc, struct held *h)
{
    vg_check_result *r = h->silent;
    char t[32];
    snprintf(h->spec, sizeof(h->spec), h->res.addr.family == AF_INET6 ? "tcp://[%s]:%u" : "tcp://%s:%u",
             h->ip, h->res.port);
    r->target = h->spec;
    r->kind = "tcp";
    r->host = h->ip;
    r->state = VG_CHECK_OK;
    r->reason = VG_CR_OK;
    r->nreasons = 0;
    snprintf(t, sizeof(t), "%.1f s", (double)sc->banner_ms / 1000.0);
    snprintf(r->message, sizeof(r->message),
             "%s port %u accepted the connection; it sent nothing within %s and did not answer"
             " an HTTP request", h->ip, h->res.port, t);
    h->silent = NULL;
    emit(sc, h, r);
    free(r);
}

static void on_check(const vg_check_result *res, void *ud)
{
    vg_scan_checks *sc = ud;
    struct held *h = res->index < sc->cap_index ? sc->by_index[res->index] : NULL;
    const char *kind;

    if(!h)
        return;
    sc->by_index[res->index] = NULL;
    switch(h->stage) {
    case STAGE_BANNER:
        if(sc->stopped || res->reason == VG_CR_INTERRUPTED)
            break;
        if(res->state == VG_CHECK_OK) {
            kind = vg_check_classify_result(res);
            if(kind) {
                queue_followup(sc, h, kind);
                return;
            }
            break; /* a banner we do not know: the banner read is the check */
        }
        if(res->reason == VG_CR_READ_TIMEOUT && res->bytes_read == 0) {
            h->silent = vg_malloc(sizeof(*h->silent));
            if(!h->silent)
                break;
            *h->silent = *res;
            queue_followup(sc, h, "http");
            return;
        }
        break;
    case STAGE_HTTP:
        if(res->http_status > 0 || res->reason == VG_CR_INTERRUPTED || sc->stopped || !h->silent)
            break;
        emit_silent(sc, h);
        return;
    default:
        break;
    }
    emit(sc, h, res);
}

/* Adds the follow-up checks on_check asked for (never from inside the
 * checker's delivery). */
static void run_todo(vg_scan_checks *sc)
{
    while(sc->todo) {
        struct held *h = sc->todo;
        sc->todo = h->next_todo;
        if(!sc->todo)
            sc->todo_tail = NULL;
        h->stage = !strcmp(h->next_kind, "http") && h->silent ? STAGE_HTTP : STAGE_CLASSIFIED;
        if(add_check(sc, h, h->next_kind))
            continue;
        if(h->silent && !sc->stopped)
            emit_silent(sc, h);
        else
            emit_synth(sc, h, VG_CHECK_UNKNOWN, sc->stopped ? VG_CR_INTERRUPTED : VG_CR_INTERNAL,
                       sc->stopped ? "interrupted before the check started"
                                   : "the check could not be started");
    }
}

long vg_scan_checks_poll(vg_scan_checks *sc, int wait_ms, vg_error *err)
{
    int rc;
    run_todo(sc);
    rc = vg_checker_poll(sc->checker, wait_ms, on_check, sc, err);
    if(rc < 0)
        return rc;
    run_todo(sc);
    return (long)sc->nheld;
}

size_t vg_scan_checks_held(const vg_scan_checks *sc)
{
    return sc->nheld;
}

void vg_scan_checks_stop(vg_scan_checks *sc)
{
    if(sc->stopped)
        return;
    sc->stopped = true;
    vg_checker_stop(sc->checker);
}

void vg_scan_checks_counts(const vg_scan_checks *sc, uint64_t count[4])
{
    memcpy(count, sc->count, sizeof(sc->count));
}

void vg_scan_checks_free(vg_scan_checks *sc)
{
    if(!sc)
        return;
    vg_checker_free(sc->checker);
    for(size_t i = 0; i < sc->cap_index; i++) {
        if(sc->by_index[i]) {
            free(sc->by_index[i]->silent);
            free(sc->by_index[i]);
        }
    }
    while(sc->todo) {
        struct held *h = sc->todo;
        sc->todo = h->next_todo;
        free(h->silent);
        free(h);
    }
    free(sc->by_index);
    free(sc);
}
