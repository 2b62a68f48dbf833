/* SPDX-License-Identifier: MIT */
/* Unit tests of the runners behind vigia check --watch and --wait
 * (lib/check/watch.c, wait.c), through include/vigia/ alone: a checks
 * file loaded with vg_check_list_load(), a watch of a few rounds against a
 * TCP listener on 127.0.0.1 that the test closes between rounds, and waits
 * that end ready once a port starts listening, by their deadline, or when
 * stopped. Every run is bounded by a short interval and deadline. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vigia/check.h"
#include "vigia/options.h"
#include "vigia/watch.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Binds 127.0.0.1 on a free port; listens when asked. A bound socket that
 * does not listen answers a SYN with RST: a refused port that no other
 * program can take meanwhile. */
static int open_sock(bool listening, uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if(listening)
        assert_int_equal(listen(fd, 128), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A checks file of two tcp:// checks: "svc" on port up, "down" on port down. */
static vg_check_list *load_list(uint16_t up, uint16_t down)
{
    char text[512];
    vg_check_list *l = NULL;
    vg_error err = {0};
    int n = snprintf(text, sizeof(text),
                     "defaults:\n"
                     "  timeout: 2s\n"
                     "checks:\n"
                     "  - name: svc\n"
                     "    target: tcp://127.0.0.1:%u\n"
                     "  - name: down\n"
                     "    target: tcp://127.0.0.1:%u\n"
                     "    timeout: 1s\n",
                     up, down);
    assert_int_equal(vg_check_list_load(&l, text, (size_t)n, NULL, 0, &err), VG_OK);
    assert_non_null(l);
    assert_int_equal(l->n, 2);
    assert_string_equal(l->items[0].name, "svc");
    assert_int_equal(l->items[0].opts.timeout_ms, 2000);
    assert_int_equal(l->items[1].opts.timeout_ms, 1000);
    return l;
}

/* --- watch ------------------------------------------------------------------ */

struct change {
    size_t index;
    int previous, state, reason;
    unsigned round;             /* rounds completed when it happened */
};

struct watch_seen {
    vg_watch *w;
    int listener;               /* closed after round close_after */
    unsigned close_after;
    unsigned stop_after;        /* 0: never */
    unsigned results[2];
    struct change changes[16];
    unsigned nchanges;
    vg_watch_round rounds[8];
    unsigned nrounds;
};

static void w_result(const vg_check_result *r, void *ud)
{
    struct watch_seen *s = ud;
    assert_true(r->index < 2);
    assert_string_equal(r->name, r->index ? "down" : "svc");
    assert_int_not_equal(r->reason, VG_CR_INTERRUPTED);
    s->results[r->index]++;
}

static void w_change(const vg_check_result *r, int previous, void *ud)
{
    struct watch_seen *s = ud;
    assert_true(s->nchanges < 16);
    s->changes[s->nchanges++] = (struct change){r->index, previous, r->state, r->reason, s->nrounds};
}

static void w_round(const vg_watch_round *rd, void *ud)
{
    struct watch_seen *s = ud;
    assert_true(s->nrounds < 8);
    s->rounds[s->nrounds++] = *rd;
    assert_int_equal(rd->round, s->nrounds);
    if(rd->round == s->close_after && s->listener >= 0) {
        close(s->listener);
        s->listener = -1;
    }
    if(s->stop_after && rd->round == s->stop_after)
        vg_watch_stop(s->w);
}

static void test_watch_sees_listener_close(void **state)
{
    uint16_t up, down;
    int lfd = open_sock(true, &up), dfd = open_sock(false, &down);
    vg_check_list *l = load_list(up, down);
    struct watch_seen s = {.listener = lfd, .close_after = 1};
    vg_watch_opts wo = {.interval_ms = 50, .rounds = 3};
    vg_watch_callbacks cb = {w_result, w_change, w_round, &s};
    vg_check_watch_stats st;
    vg_error err = {0};
    double t0 = now_s();
    (void)state;

    assert_int_equal(vg_watch_new(&s.w, &wo, &cb, &err), VG_OK);
    assert_int_equal(vg_watch_add_list(s.w, l, &err), VG_OK);
    assert_int_equal(vg_watch_count(s.w), 2);
    assert_int_equal(vg_watch_start(s.w, &err), VG_OK);
    assert_int_equal(vg_watch_run(s.w, &err), VG_OK);
    assert_true(now_s() - t0 < 5.0);

    assert_int_equal(vg_watch_rounds(s.w), 3);
    assert_int_equal(s.nrounds, 3);
    assert_int_equal(s.results[0], 3);
    assert_int_equal(s.results[1], 3);
    /* Round 1: svc OK, down CRITICAL; round 2: svc OK -> CRITICAL; round 3: nothing new. */
    assert_int_equal(s.rounds[0].count[VG_CHECK_OK], 1);
    assert_int_equal(s.rounds[0].count[VG_CHECK_CRITICAL], 1);
    assert_int_equal(s.rounds[2].count[VG_CHECK_CRITICAL], 2);
    assert_int_equal(s.nchanges, 3);
    for(unsigned i = 0; i < 2; i++) {
        const struct change *c = &s.changes[i];
        assert_int_equal(c->previous, -1);
        assert_int_equal(c->round, 0);
        assert_int_equal(c->state, c->index == 0 ? VG_CHECK_OK : VG_CHECK_CRITICAL);
    }
    assert_int_equal(s.changes[2].index, 0);
    assert_int_equal(s.changes[2].previous, VG_CHECK_OK);
    assert_int_equal(s.changes[2].state, VG_CHECK_CRITICAL);
    assert_int_equal(s.changes[2].reason, VG_CR_CONN_REFUSED);
    assert_int_equal(s.changes[2].round, 1);

    assert_int_equal(vg_watch_stats(s.w, 0, &st), VG_OK);
    assert_string_equal(st.name, "svc");
    assert_string_equal(st.kind, "tcp");
    assert_int_equal(st.runs, 3);
    assert_int_equal(st.state, VG_CHECK_CRITICAL);
    assert_int_equal(st.reason, VG_CR_CONN_REFUSED);
    assert_true(st.state_s[VG_CHECK_OK] > 0);
    assert_true(st.state_s[VG_CHECK_CRITICAL] > 0);
    assert_int_equal(st.phase[VG_PHASE_TOTAL].n, 3);
    assert_true(st.phase[VG_PHASE_TOTAL].min_us <= st.phase[VG_PHASE_TOTAL].avg_us);
    assert_true(st.phase[VG_PHASE_TOTAL].min_us <= st.phase[VG_PHASE_TOTAL].p95_us);
    assert_int_equal(vg_watch_stats(s.w, 1, &st), VG_OK);
    assert_int_equal(st.state_s[VG_CHECK_OK], 0);
    assert_int_equal(st.state, VG_CHECK_CRITICAL);
    assert_int_equal(vg_watch_stats(s.w, 2, &st), VG_EINVAL);

    vg_watch_free(s.w);
    vg_check_list_free(l);
    close(dfd);
}

/* Stopped from the round callback with no round limit: the watch ends after
 * that round; stepping by hand gives the same as vg_watch_run(). */
static void test_watch_stop(void **state)
{
    uint16_t up, down;
    int lfd = open_sock(true, &up), dfd = open_sock(false, &down);
    vg_check_list *l = load_list(up, down);
    struct watch_seen s = {.listener = -1, .stop_after = 2};
    vg_watch_opts wo = {.interval_ms = 30};
    vg_watch_callbacks cb = {w_result, w_change, w_round, &s};
    vg_error err = {0};
    double t0 = now_s();
    int rc;
    (void)state;

    assert_int_equal(vg_watch_new(&s.w, &wo, &cb, &err), VG_OK);
    assert_int_equal(vg_watch_step(s.w, 10, &err), VG_EINVAL); /* not started */
    assert_int_equal(vg_watch_add_list(s.w, l, &err), VG_OK);
    assert_int_equal(vg_watch_start(s.w, &err), VG_OK);
    assert_int_equal(vg_watch_add(s.w, NULL, "tcp://127.0.0.1:1", &l->items[0].opts, &err), VG_EINVAL);
    while((rc = vg_watch_step(s.w, 20, &err)) == 0)
        assert_true(now_s() - t0 < 5.0);
    assert_int_equal(rc, 1);
    assert_int_equal(vg_watch_step(s.w, 20, &err), 1);
    assert_int_equal(vg_watch_rounds(s.w), 2);
    assert_int_equal(s.results[0], 2);
    assert_int_equal(s.nchanges, 2); /* each check's first state, nothing after */
    vg_watch_free(s.w);
    vg_check_list_free(l);
    close(lfd);
    close(dfd);
}

/* --- wait ------------------------------------------------------------------- */

struct wait_seen {
    vg_wait *w;
    int fd;                     /* starts listening after the first poll */
    bool stop;                  /* vg_wait_stop() at the first poll instead */
    unsigned rounds, results;
    vg_wait_progress first;
    int first_reason;
};

static void wt_result(const vg_check_result *r, void *ud)
{
    struct wait_seen *s = ud;
    s->results++;
    assert_true(r->index < vg_wait_count(s->w));
}

static void wt_round(const vg_wait_progress *p, void *ud)
{
    struct wait_seen *s = ud;
    if(!s->rounds++) {
        s->first = *p;
        s->first_reason = p->first_last ? p->first_last->reason : -1;
        if(s->stop)
            vg_wait_stop(s->w);
        else if(s->fd >= 0)
            assert_int_equal(listen(s->fd, 16), 0);
    }
}

static void test_wait_until_listening(void **state)
{
    uint16_t up, later;
    int lfd = open_sock(true, &up), fd = open_sock(false, &later);
    /* "svc" is up from the start; "down" listens after the first poll. */
    vg_check_list *l = load_list(up, later);
    struct wait_seen s = {.fd = fd};
    vg_wait_opts wo = {.timeout_ms = 10000, .interval_ms = 50, .check_timeout_ms = 1000};
    vg_wait_callbacks cb = {wt_result, wt_round, &s};
    const vg_check_result *r;
    vg_wait_progress p;
    vg_error err = {0};
    double t0 = now_s();
    (void)state;

    assert_int_equal(vg_wait_new(&s.w, &wo, &cb, &err), VG_OK);
    assert_int_equal(vg_wait_add_list(s.w, l, &err), VG_OK);
    assert_int_equal(vg_wait_add(s.w, NULL, "nonsense://x", &l->items[0].opts, &err), VG_EINVAL);
    assert_int_equal(vg_wait_count(s.w), 2);
    assert_null(vg_wait_last(s.w, 0));
    assert_int_equal(vg_wait_run(s.w, &err), VG_OK);
    assert_true(now_s() - t0 < 5.0);

    assert_int_equal(vg_wait_result(s.w), VG_WAIT_READY);
    assert_int_equal(s.rounds, 1); /* the round callback is not called for the poll that ends it */
    assert_int_equal(s.first.ready, 1);
    assert_int_equal(s.first.total, 2);
    assert_int_equal(s.first.first_waiting, 1);
    assert_int_equal(s.first_reason, VG_CR_CONN_REFUSED);
    assert_int_equal(s.results, 3); /* svc once (OK polls stop), down twice */
    vg_wait_get_progress(s.w, &p);
    assert_int_equal(p.ready, 2);
    assert_int_equal(p.rounds, 2);
    assert_int_equal(p.first_waiting, -1);
    for(size_t i = 0; i < 2; i++) {
        r = vg_wait_last(s.w, i);
        assert_non_null(r);
        assert_int_equal(r->index, i);
        assert_int_equal(r->state, VG_CHECK_OK);
        assert_string_equal(r->name, i ? "down" : "svc");
        assert_string_equal(r->kind, "tcp");
    }
    assert_null(vg_wait_last(s.w, 2));
    vg_wait_free(s.w);
    vg_check_list_free(l);
    close(lfd);
    close(fd);
}

static void test_wait_timeout(void **state)
{
    uint16_t up, down;
    int lfd = open_sock(true, &up), dfd = open_sock(false, &down);
    vg_check_list *l = load_list(up, down);
    struct wait_seen s = {.fd = -1};
    vg_wait_opts wo = {.timeout_ms = 300, .interval_ms = 50, .check_timeout_ms = 1000};
    vg_wait_callbacks cb = {wt_result, wt_round, &s};
    vg_wait_progress p;
    vg_error err = {0};
    double t0 = now_s(), took;
    (void)state;

    assert_int_equal(vg_wait_new(&s.w, &wo, &cb, &err), VG_OK);
    assert_int_equal(vg_wait_add_list(s.w, l, &err), VG_OK);
    assert_int_equal(vg_wait_run(s.w, &err), VG_OK);
    took = now_s() - t0;
    assert_int_equal(vg_wait_result(s.w), VG_WAIT_TIMEOUT);
    assert_true(took >= 0.29 && took < 2.0);
    assert_true(s.rounds >= 2);
    vg_wait_get_progress(s.w, &p);
    assert_int_equal(p.ready, 1);
    assert_int_equal(p.first_waiting, 1);
    assert_non_null(p.first_last);
    assert_int_equal(p.first_last->reason, VG_CR_CONN_REFUSED);
    assert_int_equal(vg_wait_last(s.w, 1)->state, VG_CHECK_CRITICAL);
    vg_wait_free(s.w);
    vg_check_list_free(l);
    close(lfd);
    close(dfd);
}

static void test_wait_stop(void **state)
{
    uint16_t up, down;
    int lfd = open_sock(true, &up), dfd = open_sock(false, &down);
    vg_check_list *l = load_list(up, down);
    struct wait_seen s = {.fd = -1, .stop = true};
    vg_wait_opts wo = {.timeout_ms = 10000, .interval_ms = 50, .check_timeout_ms = 1000};
    vg_wait_callbacks cb = {wt_result, wt_round, &s};
    vg_error err = {0};
    double t0 = now_s();
    (void)state;

    assert_int_equal(vg_wait_new(&s.w, &wo, &cb, &err), VG_OK);
    assert_int_equal(vg_wait_add_list(s.w, l, &err), VG_OK);
    assert_int_equal(vg_wait_run(s.w, &err), VG_OK);
    assert_true(now_s() - t0 < 2.0);
    assert_int_equal(vg_wait_result(s.w), VG_WAIT_STOPPED);
    assert_int_equal(s.rounds, 1);
    assert_int_equal(vg_wait_step(s.w, 10, &err), 1);
    vg_wait_free(s.w);
    vg_check_list_free(l);
    close(lfd);
    close(dfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_sees_listener_close),
        cmocka_unit_test(test_watch_stop),
        cmocka_unit_test(test_wait_until_listening),
        cmocka_unit_test(test_wait_timeout),
        cmocka_unit_test(test_wait_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
