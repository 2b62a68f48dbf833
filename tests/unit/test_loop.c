/* SPDX-License-Identifier: MIT */
/* The event loop: timers fire in deadline order, disarm works, fd watchers
 * get their events, and stale events of a reused fd are dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/loop.h"
#include "util/alloc.h"

struct tt {
    vg_timer t;
    int id;
    int *order;
    int *n;
};

static void on_tt(vg_loop *loop, vg_timer *t)
{
    struct tt *x = (struct tt *)t;
    (void)loop;
    x->order[(*x->n)++] = x->id;
}

static void test_timer_order(void **state)
{
    vg_loop *loop = vg_loop_new(64);
    struct tt timers[50];
    int order[50], n = 0;
    uint64_t now = vg_now_us();
    (void)state;
    assert_non_null(loop);
    /* Deadlines in a scrambled order, all already due. */
    for(int i = 0; i < 50; i++) {
        int id = (i * 17) % 50;
        timers[i] = (struct tt){.id = id, .order = order, .n = &n};
        vg_timer_init(&timers[i].t, on_tt);
        assert_int_equal(vg_timer_arm(loop, &timers[i].t, now - 1000000 + (uint64_t)id), 0);
    }
    /* Disarm a few; they must not fire. */
    vg_timer_disarm(loop, &timers[3].t);
    vg_timer_disarm(loop, &timers[10].t);
    assert_false(vg_timer_armed(&timers[3].t));
    assert_int_equal(vg_loop_timer_count(loop), 48);
    vg_loop_run_once(loop, 0);
    assert_int_equal(n, 48);
    for(int i = 1; i < n; i++)
        assert_true(order[i - 1] < order[i]);
    assert_int_equal(vg_loop_timer_count(loop), 0);
    vg_loop_free(loop);
}

static void test_timer_rearm(void **state)
{
    vg_loop *loop = vg_loop_new(64);
    struct tt a, b;
    int order[4], n = 0;
    uint64_t now = vg_now_us();
    (void)state;
    a = (struct tt){.id = 1, .order = order, .n = &n};
    b = (struct tt){.id = 2, .order = order, .n = &n};
    vg_timer_init(&a.t, on_tt);
    vg_timer_init(&b.t, on_tt);
    vg_timer_arm(loop, &a.t, now - 10);
    vg_timer_arm(loop, &b.t, now - 5);
    /* Move a behind b, and far into the future. */
    vg_timer_arm(loop, &a.t, now + 60000000);
    vg_loop_run_once(loop, 0);
    assert_int_equal(n, 1);
    assert_int_equal(order[0], 2);
    assert_true(vg_timer_armed(&a.t));
    vg_loop_free(loop);
}

struct io_hit {
    int calls;
    uint32_t events;
};

static void on_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    struct io_hit *h = ud;
    (void)loop;
    (void)fd;
    h->calls++;
    h->events = events;
}

static void test_fd_events(void **state)
{
    vg_loop *loop = vg_loop_new(1024);
    int p[2];
    struct io_hit hit = {0};
    (void)state;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(vg_loop_watch(loop, p[0], EPOLLIN, on_io, &hit), 0);
    assert_int_equal(vg_loop_run_once(loop, 0), 0);
    assert_int_equal(hit.calls, 0);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(vg_loop_run_once(loop, 1000), 1);
    assert_int_equal(hit.calls, 1);
    assert_true(hit.events & EPOLLIN);
    vg_loop_unwatch(loop, p[0], 1);
    assert_int_equal(vg_loop_run_once(loop, 0), 0);
    assert_int_equal(hit.calls, 1);
    close(p[0]);
    close(p[1]);
    vg_loop_free(loop);
}

/* More ready sockets than one wait returns: the loop says so, and says
 * so no longer once the rest fits in a batch. */
static void test_backlog(void **state)
{
    enum { NPIPES = 300, KEEP = 100 };
    vg_loop *loop = vg_loop_new(1024);
    int p[NPIPES][2];
    struct io_hit hit = {0};
    (void)state;
    assert_false(vg_loop_backlogged(loop));
    for(int i = 0; i < NPIPES; i++) {
        assert_int_equal(pipe(p[i]), 0);
        /* A pipe's write end is always writable: always ready. */
        assert_int_equal(vg_loop_watch(loop, p[i][1], EPOLLOUT, on_io, &hit), 0);
    }
    int n = vg_loop_run_once(loop, 0);
    assert_true(n > 0 && n < NPIPES);
    assert_true(vg_loop_backlogged(loop));
    for(int i = KEEP; i < NPIPES; i++)
        vg_loop_unwatch(loop, p[i][1], 1);
    assert_int_equal(vg_loop_run_once(loop, 0), KEEP);
    assert_false(vg_loop_backlogged(loop));
    for(int i = 0; i < NPIPES; i++) {
        if(i < KEEP)
            vg_loop_unwatch(loop, p[i][1], 1);
        close(p[i][0]);
        close(p[i][1]);
    }
    vg_loop_free(loop);
}

static void test_fd_too_big(void **state)
{
    vg_loop *loop = vg_loop_new(4);
    int p[2];
    struct io_hit hit = {0};
    (void)state;
    assert_int_equal(pipe(p), 0);
    /* fds 0-2 are stdio, so a pipe gets >= 3; make sure one is >= 4 */
    int fd = p[1] >= 4 ? p[1] : p[0];
    if(fd < 4) {
        close(p[0]);
        close(p[1]);
        vg_loop_free(loop);
        skip();
    }
    assert_int_equal(vg_loop_watch(loop, fd, EPOLLIN, on_io, &hit), -EMFILE);
    close(p[0]);
    close(p[1]);
    vg_loop_free(loop);
}

/* With room reserved, arming that many timers allocates nothing, so it
 * cannot fail; one more grows the heap, and fails when that allocation
 * does. */
static void test_reserved_timers_never_fail(void **state)
{
    (void)state;
    vg_loop *loop = vg_loop_new(64);
    vg_timer t[201];
    assert_non_null(loop);
    assert_int_equal(vg_loop_reserve_timers(loop, 200), 0);
    vg_alloc_fail_after(1);
    for(int i = 0; i < 200; i++) {
        vg_timer_init(&t[i], on_tt);
        assert_int_equal(vg_timer_arm(loop, &t[i], 1000 + (uint64_t)i), 0);
    }
    assert_int_equal(vg_alloc_count(), 0);
    vg_timer_init(&t[200], on_tt);
    assert_int_equal(vg_timer_arm(loop, &t[200], 5000), -ENOMEM);
    assert_int_equal(vg_alloc_count(), 1);
    vg_alloc_fail_after(0);
    assert_int_equal(vg_timer_arm(loop, &t[200], 5000), 0);
    vg_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_reserved_timers_never_fail),
        cmocka_unit_test(test_timer_rearm),
        cmocka_unit_test(test_fd_events),
        cmocka_unit_test(test_fd_too_big),
        cmocka_unit_test(test_backlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
