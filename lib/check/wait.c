/* SPDX-License-Identifier: MIT */
/* The wait runner (vigia check --wait): polls the checks that are not OK
 * yet, each poll a fresh checker whose per-check timeouts end by the
 * overall deadline, with a pause between polls, until every check has been
 * OK once, the deadline passes or the caller stops it. It keeps each
 * check's last result for the caller to report. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/loop.h"
#include "util/alloc.h"
#include "vigia/watch.h"

struct wait_check {
    char *name;                 /* NULL when none */
    char *spec;
    vg_check_opts opts;         /* the caller's, timeout_ms set per poll */
    vg_check_result last;       /* its strings point at the buffers below */
    char target[2048];
    char kind[16];
    char host[256];
    char name_buf[256];
    bool have;
    bool ok;
};

struct vg_wait {
    vg_wait_opts opts;
    vg_wait_callbacks cb;
    struct wait_check *checks;
    size_t n, cap;
    size_t *map;                /* index in the poll's checker -> check */
    vg_checker *ck;             /* the poll in flight, or NULL */
    vg_checker *scratch;        /* validates checks as they are added */
    bool started;
    bool stop;
    bool in_poll;               /* inside vg_checker_poll(): a stop waits till it returns */
    vg_wait_status status;
    size_t rounds;
    uint64_t t0_us, next_us;
};

int vg_wait_new(vg_wait **out, const vg_wait_opts *opts, const vg_wait_callbacks *cb, vg_error *err)
{
    vg_wait *w;

    *out = NULL;
    w = vg_calloc(1, sizeof(*w));
    if(!w)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    if(opts)
        w->opts = *opts;
    if(!w->opts.timeout_ms)
        w->opts.timeout_ms = 60000;
    if(!w->opts.interval_ms)
        w->opts.interval_ms = 1000;
    if(!w->opts.check_timeout_ms)
        w->opts.check_timeout_ms = 5000;
    if(cb)
        w->cb = *cb;
    *out = w;
    return VG_OK;
}

int vg_wait_add(vg_wait *w, const char *name, const char *spec, const vg_check_opts *opts, vg_error *err)
{
    struct wait_check *c;
    int rc = VG_OK;

    if(w->started)
        return vg_error_set(err, VG_EINVAL, "checks are added to a wait before its first step");
    /* The spec and options are used again at every poll: refuse bad ones now. */
    if(!w->scratch)
        rc = vg_checker_new(&w->scratch, NULL, err);
    if(!rc)
        rc = vg_checker_add_named(w->scratch, name, spec, opts, NULL, err);
    if(rc)
        return rc;
    if(w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        struct wait_check *nc = vg_realloc(w->checks, cap * sizeof(*nc));
        size_t *nm;
        if(!nc)
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        w->checks = nc;
        nm = vg_realloc(w->map, cap * sizeof(*nm));
        if(!nm)
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        w->map = nm;
        w->cap = cap;
    }
    c = &w->checks[w->n];
    memset(c, 0, sizeof(*c));
    c->opts = *opts;
    c->spec = vg_strdup(spec);
    c->name = name ? vg_strdup(name) : NULL;
    if(!c->spec || (name && !c->name)) {
        free(c->spec);
        free(c->name);
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    }
    w->n++;
    return VG_OK;
}

int vg_wait_add_list(vg_wait *w, const vg_check_list *list, vg_error *err)
{
    for(size_t i = 0; i < list->n; i++) {
        const vg_check_item *it = &list->items[i];
        int rc = vg_wait_add(w, it->name, it->target, &it->opts, err);
        if(rc)
            return rc;
    }
    return VG_OK;
}

size_t vg_wait_count(const vg_wait *w)
{
    return w->n;
}

vg_wait_status vg_wait_result(const vg_wait *w)
{
    return w->status;
}

static void wait_on_result(const vg_check_result *r, void *ud)
{
    vg_wait *w = ud;
    size_t i = w->map[r->index];
    struct wait_check *s = &w->checks[i];

    s->last = *r;
    s->last.index = i;
    snprintf(s->target, sizeof(s->target), "%s", r->target);
    snprintf(s->kind, sizeof(s->kind), "%s", r->kind);
    snprintf(s->host, sizeof(s->host), "%s", r->host);
    s->last.target = s->target;
    s->last.kind = s->kind;
    s->last.host = s->host;
    snprintf(s->name_buf, sizeof(s->name_buf), "%s", r->name ? r->name : "");
    s->last.name = r->name ? s->name_buf : NULL;
    s->have = true;
    s->ok = r->state == VG_CHECK_OK;
    if(w->cb.result)
        w->cb.result(&s->last, w->cb.ud);
}

void vg_wait_get_progress(const vg_wait *w, vg_wait_progress *p)
{
    memset(p, 0, sizeof(*p));
    p->total = w->n;
    p->rounds = w->rounds;
    p->first_waiting = -1;
    for(size_t i = 0; i < w->n; i++) {
        if(w->checks[i].ok)
            p->ready++;
        else if(p->first_waiting < 0) {
            p->first_waiting = (long)i;
            p->first_last = w->checks[i].have ? &w->checks[i].last : NULL;
        }
    }
    if(w->started)
        p->elapsed_s = (double)(vg_now_us() - w->t0_us) / 1e6;
}

const vg_check_result *vg_wait_last(const vg_wait *w, size_t index)
{
    if(index >= w->n || !w->checks[index].have)
        return NULL;
    return &w->checks[index].last;
}

/* Milliseconds of the deadline left at now (negative once it passed). */
static double wait_left_ms(const vg_wait *w, uint64_t now)
{
    return (double)w->opts.timeout_ms - (double)(now - w->t0_us) / 1000.0;
}

/* Starts a poll of the checks not OK yet. */
static int wait_begin_poll(vg_wait *w, uint64_t now, vg_error *err)
{
    vg_checker_opts co = {.concurrency = w->opts.concurrency, .max_fds = w->opts.max_fds};
    double left_ms = wait_left_ms(w, now);
    uint32_t timeout_ms;
    size_t k = 0;
    int rc;

    if(left_ms <= 0) {
        w->status = VG_WAIT_TIMEOUT;
        return 1;
    }
    /* Each attempt ends by the overall deadline. */
    timeout_ms = (uint32_t)(w->opts.check_timeout_ms < (uint64_t)left_ms ? w->opts.check_timeout_ms
                                                                          : (uint64_t)left_ms + 1);
    rc = vg_checker_new(&w->ck, &co, err);
    for(size_t i = 0; !rc && i < w->n; i++) {
        struct wait_check *c = &w->checks[i];
        if(c->ok)
            continue;
        c->opts.timeout_ms = timeout_ms;
        w->map[k++] = i;
        rc = vg_checker_add_named(w->ck, c->name, c->spec, &c->opts, NULL, err);
    }
    if(!rc)
        rc = vg_checker_start(w->ck, err);
    if(rc) {
        vg_checker_free(w->ck);
        w->ck = NULL;
        w->status = VG_WAIT_FAILED;
        return rc;
    }
    return 0;
}

/* Runs the poll in flight; at its end decides what comes next. */
static int wait_poll(vg_wait *w, int max_wait_ms, vg_error *err)
{
    vg_wait_progress p;
    uint64_t now, pause_ms;
    double left_ms;
    bool all_ok = true;
    int rc;

    w->in_poll = true;
    rc = vg_checker_poll(w->ck, max_wait_ms, wait_on_result, w, err);
    w->in_poll = false;
    if(rc == 0) {
        if(w->stop)
            vg_checker_stop(w->ck); /* asked for by a result callback */
        return 0;
    }
    /* Done, or the loop failed: either way this poll is over. */
    vg_checker_free(w->ck);
    w->ck = NULL;
    w->rounds++;
    if(w->stop) {
        w->status = VG_WAIT_STOPPED;
        return rc < 0 ? rc : 1;
    }
    for(size_t i = 0; i < w->n; i++)
        all_ok = all_ok && w->checks[i].ok;
    if(all_ok) {
        w->status = VG_WAIT_READY;
        return rc < 0 ? rc : 1;
    }
    if(w->cb.round) {
        vg_wait_get_progress(w, &p);
        w->cb.round(&p, w->cb.ud);
    }
    now = vg_now_us();
    left_ms = wait_left_ms(w, now);
    if(left_ms <= 0) {
        w->status = VG_WAIT_TIMEOUT;
        return rc < 0 ? rc : 1;
    }
    pause_ms = w->opts.interval_ms < (uint64_t)left_ms ? w->opts.interval_ms : (uint64_t)left_ms;
    w->next_us = now + pause_ms * 1000;
    return rc < 0 ? rc : 0;
}

int vg_wait_step(vg_wait *w, int max_wait_ms, vg_error *err)
{
    uint64_t now;
    int rc;

    if(max_wait_ms < 0)
        max_wait_ms = 0;
    if(w->status != VG_WAIT_RUNNING)
        return 1;
    if(!w->started) {
        vg_checker_free(w->scratch);
        w->scratch = NULL;
        w->started = true;
        w->t0_us = w->next_us = vg_now_us();
    }
    if(w->ck)
        return wait_poll(w, max_wait_ms, err);
    if(w->stop) {
        w->status = VG_WAIT_STOPPED;
        return 1;
    }
    now = vg_now_us();
    if(now < w->next_us) {
        uint64_t left_ms = (w->next_us - now + 999) / 1000;
        poll(NULL, 0, left_ms < (uint64_t)max_wait_ms ? (int)left_ms : max_wait_ms);
        return 0;
    }
    rc = wait_begin_poll(w, now, err);
    if(rc)
        return rc;
    return wait_poll(w, max_wait_ms, err);
}

int vg_wait_run(vg_wait *w, vg_error *err)
{
    vg_error e = {0};
    int first = VG_OK, rc;
    while((rc = vg_wait_step(w, 1000, &e)) != 1) {
        if(rc < 0 && first == VG_OK) {
            first = rc;
            if(err)
                *err = e;
        }
    }
    return first;
}

void vg_wait_stop(vg_wait *w)
{
    if(w->stop)
        return;
    w->stop = true;
    if(w->ck && !w->in_poll)
        vg_checker_stop(w->ck);
}

void vg_wait_free(vg_wait *w)
{
    if(!w)
        return;
    vg_checker_free(w->ck);
    vg_checker_free(w->scratch);
    for(size_t i = 0; i < w->n; i++) {
        free(w->checks[i].name);
        free(w->checks[i].spec);
    }
    free(w->checks);
    free(w->map);
    free(w);
}
