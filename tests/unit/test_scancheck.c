/* SPDX-License-Identifier: MIT */
/* scan --check's state machine fed directly (vigia/scancheck.h): ports
 * without a service to check pass at once; an open port given after a
 * stop gets an "interrupted" check at once; a stop holds no port back;
 * an allocation that fails never loses a port record; an open port on a
 * listener of ours gets a check that says it accepted the connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/alloc.h"
#include "vigia/scancheck.h"

struct seen {
    unsigned n, with_check;
    int state, reason;
    uint16_t port;
    char kind[16], message[256];
};

static void on_port(const vg_result *res, const vg_check_result *chk, void *ud)
{
    struct seen *s = ud;
    s->n++;
    s->port = res->port;
    if(chk) {
        s->with_check++;
        s->state = chk->state;
        s->reason = chk->reason;
        snprintf(s->kind, sizeof(s->kind), "%s", chk->kind ? chk->kind : "");
        snprintf(s->message, sizeof(s->message), "%.255s", chk->message);
    }
}

static vg_result port_result(uint16_t port, uint8_t proto, uint8_t state)
{
    vg_result r;
    memset(&r, 0, sizeof(r));
    r.addr.family = AF_INET;
    r.addr.a[0] = 127;
    r.addr.a[3] = 1;
    r.port = port;
    r.proto = proto;
    r.state = state;
    r.tries = 1;
    return r;
}

static void test_no_service_passes_at_once(void **state)
{
    struct seen s = {0};
    vg_scan_checks *sc;
    vg_error err;
    (void)state;
    assert_int_equal(vg_scan_checks_new(&sc, 2000, 500, on_port, &s, &err), VG_OK);
    vg_result closed = port_result(22, IPPROTO_TCP, VG_STATE_CLOSED);
    vg_result filtered = port_result(80, IPPROTO_TCP, VG_STATE_FILTERED);
    vg_result udp = port_result(123, IPPROTO_UDP, VG_STATE_OPEN);
    vg_scan_checks_result(sc, &closed);
    vg_scan_checks_result(sc, &filtered);
    vg_scan_checks_result(sc, &udp);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.with_check, 0);
    assert_int_equal(vg_scan_checks_held(sc), 0);
    vg_scan_checks_free(sc);
}

static void test_after_stop_interrupted_at_once(void **state)
{
    struct seen s = {0};
    vg_scan_checks *sc;
    vg_error err;
    uint64_t count[4];
    (void)state;
    assert_int_equal(vg_scan_checks_new(&sc, 2000, 500, on_port, &s, &err), VG_OK);
    vg_scan_checks_stop(sc);
    vg_result open = port_result(8080, IPPROTO_TCP, VG_STATE_OPEN);
    vg_scan_checks_result(sc, &open);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.with_check, 1);
    assert_int_equal(s.state, VG_CHECK_UNKNOWN);
    assert_int_equal(s.reason, VG_CR_INTERRUPTED);
    assert_string_equal(s.kind, "tcp");
    assert_non_null(strstr(s.message, "interrupted before the check started"));
    vg_scan_checks_counts(sc, count);
    assert_int_equal(count[VG_CHECK_UNKNOWN], 1);
    assert_int_equal(vg_scan_checks_held(sc), 0);
    vg_scan_checks_free(sc);
}

/* Whatever allocation fails, the port's record still comes out, once. */
static void test_allocation_failure_keeps_the_record(void **state)
{
    (void)state;
    for(unsigned long n = 1; n <= 3; n++) {
        struct seen s = {0};
        vg_scan_checks *sc;
        vg_error err;
        assert_int_equal(vg_scan_checks_new(&sc, 2000, 500, on_port, &s, &err), VG_OK);
        vg_scan_checks_stop(sc);
        vg_result open = port_result(8080, IPPROTO_TCP, VG_STATE_OPEN);
        vg_alloc_fail_after(n);
        vg_scan_checks_result(sc, &open);
        vg_alloc_fail_after(0);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.port, 8080);
        vg_scan_checks_free(sc);
    }
}

static void test_open_port_is_checked(void **state)
{
    struct seen s = {0};
    vg_scan_checks *sc;
    vg_error err;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    (void)state;
    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);

    assert_int_equal(vg_scan_checks_new(&sc, 2000, 300, on_port, &s, &err), VG_OK);
    vg_result open = port_result(ntohs(a.sin_port), IPPROTO_TCP, VG_STATE_OPEN);
    vg_scan_checks_result(sc, &open);
    assert_int_equal(s.n, 0); /* held for its check */
    assert_int_equal(vg_scan_checks_held(sc), 1);
    /* A silent listener: banner wait, HTTP, then a connect verdict; bounded. */
    for(int i = 0; i < 100 && vg_scan_checks_held(sc); i++)
        assert_true(vg_scan_checks_poll(sc, 100, &err) >= 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.with_check, 1);
    assert_int_equal(s.port, ntohs(a.sin_port));
    assert_true(s.state == VG_CHECK_OK || s.state == VG_CHECK_WARNING);
    vg_scan_checks_free(sc);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_service_passes_at_once),
        cmocka_unit_test(test_after_stop_interrupted_at_once),
        cmocka_unit_test(test_allocation_failure_keeps_the_record),
        cmocka_unit_test(test_open_port_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
