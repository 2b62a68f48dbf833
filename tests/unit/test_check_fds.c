/* SPDX-License-Identifier: MIT */
/* Unit tests for the checker's file-descriptor budget: a check that finds
 * no free descriptor waits and runs again (never a verdict of its own),
 * and one that can never get one ends UNKNOWN after its timeout. The test
 * uses up its own descriptors with dup() after the run has started, so the
 * shortage is real EMFILE from socket(); the services are loopback
 * listeners the test opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vigia/check.h"

#define NOPEN 30
#define NCLOSED 10
#define MAXDUPS 4096

struct tally {
    unsigned ok, refused, other, fd_msgs, multi_attempts;
};

static void on_result(const vg_check_result *r, void *ud)
{
    struct tally *t = ud;
    if(r->state == VG_CHECK_OK)
        t->ok++;
    else if(r->state == VG_CHECK_CRITICAL && r->reason == VG_CR_CONN_REFUSED)
        t->refused++;
    else
        t->other++;
    if(strstr(r->message, "open files"))
        t->fd_msgs++;
    if(r->attempts != 1)
        t->multi_attempts++;
}

static int listener(uint16_t *port, bool keep)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    *port = ntohs(sin.sin_port);
    if(!keep) {
        close(fd); /* a port nothing listens on */
        return -1;
    }
    assert_int_equal(listen(fd, 128), 0);
    return fd;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Fills every free descriptor but `spare`; returns how many it took. */
static int hog(int *fds, int spare)
{
    int n = 0;
    while(n < MAXDUPS) {
        int fd = dup(0);
        if(fd < 0) {
            assert_true(errno == EMFILE);
            break;
        }
        fds[n++] = fd;
    }
    assert_true(n > spare);
    for(int i = 0; i < spare; i++)
        close(fds[--n]);
    return n;
}

/* Runs open and closed-port checks while only `spare` descriptors are
 * free; after release_ms (0: never) the test gives its descriptors back. */
static void run_starved(int spare, uint64_t release_ms, uint32_t timeout_ms, struct tally *t)
{
    static int fds[MAXDUPS];
    struct rlimit old, rl;
    vg_checker_opts co = {.concurrency = 256};
    vg_check_opts o;
    vg_checker *c;
    vg_error err = {0};
    uint16_t open_port, closed_port;
    char spec[64];
    int lfd, ndup, rc = 0;
    uint64_t start, deadline;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    rl = old;
    rl.rlim_cur = 128;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    lfd = listener(&open_port, true);
    listener(&closed_port, false);
    vg_check_opts_default(&o);
    o.timeout_ms = timeout_ms;
    o.retry_delay_ms = 50;
    assert_int_equal(vg_checker_new(&c, &co, &err), VG_OK);
    for(int i = 0; i < NOPEN + NCLOSED; i++) {
        snprintf(spec, sizeof(spec), "tcp://127.0.0.1:%u", i < NOPEN ? open_port : closed_port);
        assert_int_equal(vg_checker_add(c, spec, &o, &err), VG_OK);
    }
    assert_int_equal(vg_checker_start(c, &err), VG_OK);
    ndup = hog(fds, spare);
    memset(t, 0, sizeof(*t));
    start = now_ms();
    deadline = start + 20000;
    while(rc == 0 && now_ms() < deadline) {
        rc = vg_checker_poll(c, 20, on_result, t, &err);
        if(release_ms && ndup && now_ms() - start >= release_ms) {
            while(ndup)
                close(fds[--ndup]);
        }
    }
    while(ndup)
        close(fds[--ndup]);
    assert_int_equal(rc, 1);
    vg_checker_free(c);
    close(lfd);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

/* Two descriptors free: checks wait their turn, every verdict is right. */
static void test_shortage_waits(void **state)
{
    struct tally t;
    (void)state;
    run_starved(2, 0, 5000, &t);
    assert_int_equal(t.ok, NOPEN);
    assert_int_equal(t.refused, NCLOSED);
    assert_int_equal(t.other, 0);
    assert_int_equal(t.fd_msgs, 0);
    assert_int_equal(t.multi_attempts, 0);
}

/* None free for a while, then all: the waiting checks run then. */
static void test_shortage_then_release(void **state)
{
    struct tally t;
    (void)state;
    run_starved(0, 300, 5000, &t);
    assert_int_equal(t.ok, NOPEN);
    assert_int_equal(t.refused, NCLOSED);
    assert_int_equal(t.other, 0);
    assert_int_equal(t.multi_attempts, 0);
}

/* None free, ever: each check ends UNKNOWN after its timeout, saying why. */
static void test_shortage_forever(void **state)
{
    struct tally t;
    (void)state;
    run_starved(0, 0, 200, &t);
    assert_int_equal(t.ok + t.refused, 0);
    assert_int_equal(t.other, NOPEN + NCLOSED);
    assert_int_equal(t.fd_msgs, NOPEN + NCLOSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shortage_waits),
        cmocka_unit_test(test_shortage_then_release),
        cmocka_unit_test(test_shortage_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
