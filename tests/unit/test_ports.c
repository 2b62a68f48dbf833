/* SPDX-License-Identifier: MIT */
/* Unit tests for port specifications: numbers, ranges, names, sets, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>

#include "vigia/ports.h"

/* Parses spec into a fresh set; the caller frees it. */
static vg_ports *parse_ok(const char *spec)
{
    vg_error err;
    vg_ports *p = vg_ports_new();

    assert_non_null(p);
    memset(&err, 0, sizeof(err));
    if(vg_ports_add(p, spec, &err) != VG_OK)
        fail_msg("'%s' failed: %s", spec, err.msg);
    return p;
}

/* Expects spec to fail with VG_EINVAL and a message containing want. */
static void parse_fails(const char *spec, const char *want)
{
    vg_error err;
    vg_ports *p = vg_ports_new();

    memset(&err, 0, sizeof(err));
    assert_int_equal(vg_ports_add(p, spec, &err), VG_EINVAL);
    assert_int_equal(err.code, VG_EINVAL);
    if(!strstr(err.msg, want))
        fail_msg("'%s': message '%s' lacks '%s'", spec, err.msg, want);
    /* A failed add leaves the set unchanged (empty here). */
    assert_int_equal(vg_ports_count(p), 0);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 0);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 0);
    vg_ports_free(p);
}

static void test_single_and_list(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("443,22,80");
    assert_int_equal(vg_ports_count(p), 3);
    assert_int_equal(vg_ports_get(p, 0), 22);
    assert_int_equal(vg_ports_get(p, 1), 80);
    assert_int_equal(vg_ports_get(p, 2), 443);
    vg_ports_free(p);
}

static void test_range_and_duplicates(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("10-20,15-25,20,25");
    assert_int_equal(vg_ports_count(p), 16);
    assert_int_equal(vg_ports_get(p, 0), 10);
    assert_int_equal(vg_ports_get(p, 15), 25);
    vg_ports_free(p);
}

static void test_bounds(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("65535,1");
    assert_int_equal(vg_ports_count(p), 2);
    assert_int_equal(vg_ports_get(p, 0), 1);
    assert_int_equal(vg_ports_get(p, 1), 65535);
    vg_ports_free(p);
}

static void test_open_ranges(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("65530-");
    assert_int_equal(vg_ports_count(p), 6);
    assert_int_equal(vg_ports_get(p, 0), 65530);
    assert_int_equal(vg_ports_get(p, 5), 65535);
    vg_ports_free(p);

    p = parse_ok("-5");
    assert_int_equal(vg_ports_count(p), 5);
    assert_int_equal(vg_ports_get(p, 0), 1);
    assert_int_equal(vg_ports_get(p, 4), 5);
    vg_ports_free(p);
}

static void test_all(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("-");
    assert_int_equal(vg_ports_count(p), 65535);
    assert_int_equal(vg_ports_get(p, 0), 1);
    assert_int_equal(vg_ports_get(p, 65534), 65535);
    vg_ports_free(p);

    p = parse_ok("ALL");
    assert_int_equal(vg_ports_count(p), 65535);
    vg_ports_free(p);
}

static void test_named_sets(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("well-known");
    assert_int_equal(vg_ports_count(p), 1023);
    assert_int_equal(vg_ports_get(p, 1022), 1023);
    vg_ports_free(p);

    p = parse_ok("Essential");
    assert_int_equal(vg_ports_count(p), 14);
    assert_int_equal(vg_ports_get(p, 0), 21);
    assert_int_equal(vg_ports_get(p, 13), 8080);
    vg_ports_free(p);

    /* The default: 1-1023 plus the essential ports above 1023. */
    p = parse_ok(VG_PORTS_DEFAULT);
    assert_int_equal(vg_ports_count(p), 1023 + 5);
    assert_int_equal(vg_ports_get(p, 1023), 3306);
    vg_ports_free(p);
}

static void test_service_names(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("ssh,http");
    assert_int_equal(vg_ports_count(p), 2);
    assert_int_equal(vg_ports_get(p, 0), 22);
    assert_int_equal(vg_ports_get(p, 1), 80);
    vg_ports_free(p);

    p = parse_ok("HTTPS, SSH");
    assert_int_equal(vg_ports_count(p), 2);
    assert_int_equal(vg_ports_get(p, 0), 22);
    assert_int_equal(vg_ports_get(p, 1), 443);
    vg_ports_free(p);
}

static void test_incremental_add(void **state)
{
    (void)state;
    vg_error err;
    vg_ports *p = parse_ok("80");

    assert_int_equal(vg_ports_add(p, "22,80", &err), VG_OK);
    assert_int_equal(vg_ports_count(p), 2);
    /* A bad spec leaves what was there. */
    assert_int_equal(vg_ports_add(p, "443,0", &err), VG_EINVAL);
    assert_int_equal(vg_ports_count(p), 2);
    assert_int_equal(vg_ports_get(p, 0), 22);
    assert_int_equal(vg_ports_get(p, 1), 80);
    vg_ports_free(p);
}

static void test_errors(void **state)
{
    (void)state;
    parse_fails("70000", "'70000': port 70000 out of range 1-65535");
    parse_fails("65536", "out of range 1-65535");
    parse_fails("1-99999999999999999999", "out of range 1-65535");
    parse_fails("10-5", "'10-5': reversed range 10-5");
    parse_fails("0", "'0': port 0 is not allowed");
    parse_fails("0-10", "port 0 is not allowed");
    parse_fails("nosuchsvc", "'nosuchsvc': unknown service name");
    parse_fails("22,,80", "'22,,80': item 2 is empty");
    parse_fails("22,", "item 2 is empty");
    parse_fails(",22", "item 1 is empty");
    parse_fails("", "empty port specification");
    parse_fails("8o", "'8o': not a port number (unexpected 'o' at position 2)");
    parse_fails("1-2-3", "'1-2-3': not a port or port range");
    parse_fails("http;ssh", "unexpected character ';'");
}

static void test_port_service(void **state)
{
    (void)state;
    char buf[32];

    assert_non_null(vg_port_service(22, "tcp", buf, sizeof(buf)));
    assert_string_equal(buf, "ssh");
    assert_non_null(vg_port_service(80, "tcp", buf, sizeof(buf)));
    assert_string_equal(buf, "http");
    assert_null(vg_port_service(1, "nosuchproto", buf, sizeof(buf)));
    assert_null(vg_port_service(22, "tcp", buf, 0));
}


/* Without prefixes every port applies to both protocols, so the old and
 * the per-protocol views agree. */
static void test_unprefixed_views(void **state)
{
    (void)state;
    vg_ports *p = parse_ok("443,22,80");
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 3);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 3);
    for(size_t i = 0; i < 3; i++) {
        assert_int_equal(vg_ports_get_proto(p, IPPROTO_TCP, i), vg_ports_get(p, i));
        assert_int_equal(vg_ports_get_proto(p, IPPROTO_UDP, i), vg_ports_get(p, i));
    }
    assert_int_equal(vg_ports_count_prefixed(p, 0), 3);
    assert_int_equal(vg_ports_count_prefixed(p, IPPROTO_TCP), 0);
    assert_int_equal(vg_ports_count_prefixed(p, IPPROTO_UDP), 0);
    /* Unknown protocols and indexes out of range read as nothing. */
    assert_int_equal(vg_ports_count_proto(p, 1), 0);
    assert_int_equal(vg_ports_get_proto(p, 1, 0), 0);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_TCP, 3), 0);
    assert_int_equal(vg_ports_get(p, 3), 0);
    vg_ports_free(p);
}

static void test_prefixes(void **state)
{
    (void)state;
    /* A prefix holds until the next one. */
    vg_ports *p = parse_ok("22,T:80,443,U:53,161-162,t:8080");
    assert_int_equal(vg_ports_count(p), 7);
    assert_int_equal(vg_ports_count_prefixed(p, 0), 1);
    assert_int_equal(vg_ports_count_prefixed(p, IPPROTO_TCP), 3);
    assert_int_equal(vg_ports_count_prefixed(p, IPPROTO_UDP), 3);
    /* TCP: 22 (no prefix), 80, 443, 8080. */
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 4);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_TCP, 0), 22);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_TCP, 1), 80);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_TCP, 2), 443);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_TCP, 3), 8080);
    /* UDP: 22 (no prefix), 53, 161, 162. */
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 4);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_UDP, 0), 22);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_UDP, 1), 53);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_UDP, 3), 162);
    vg_ports_free(p);

    /* The same port under both prefixes: one number, in both views. */
    p = parse_ok("T:53,U:53");
    assert_int_equal(vg_ports_count(p), 1);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 1);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 1);
    vg_ports_free(p);

    /* Blanks around the prefix, names, sets and "all" after it; UDP names
     * come from the UDP services. */
    p = parse_ok(" U: domain , ntp,T:essential");
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 2);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_UDP, 0), 53);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_UDP, 1), 123);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 14);
    vg_ports_free(p);

    p = parse_ok("U:-");
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 65535);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 0);
    vg_ports_free(p);

    /* A prefix lasts for one spec only: the next add starts without. */
    vg_error err;
    p = parse_ok("U:53");
    assert_int_equal(vg_ports_add(p, "80", &err), VG_OK);
    assert_int_equal(vg_ports_count_prefixed(p, 0), 1);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 1);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 2);
    vg_ports_free(p);
}

static void test_prefix_errors(void **state)
{
    (void)state;
    parse_fails("S:80", "'S:80': unknown protocol prefix 'S:' (T: for TCP, U: for UDP)");
    parse_fails("T:", "'T:': no port after the prefix");
    parse_fails("80,U: ", "no port after the prefix");
    parse_fails("T:0", "port 0 is not allowed");
    parse_fails("U:nosuchsvc", "'nosuchsvc': unknown udp service name");
    parse_fails("T:U:80", "unexpected character ':'");
    parse_fails("TCP:80", "unexpected character ':'");

    /* A failed add keeps the views as they were. */
    vg_error err;
    vg_ports *p = parse_ok("T:80,U:53");
    assert_int_equal(vg_ports_add(p, "U:161,T:0", &err), VG_EINVAL);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 1);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 1);
    vg_ports_free(p);
}

static void test_set_default_proto(void **state)
{
    (void)state;
    vg_error err;
    vg_ports *p = parse_ok("22,80,U:53");

    assert_int_equal(vg_ports_set_default_proto(p, IPPROTO_TCP, &err), VG_OK);
    assert_int_equal(vg_ports_count_prefixed(p, 0), 0);
    assert_int_equal(vg_ports_count_prefixed(p, IPPROTO_TCP), 2);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_TCP), 2);
    assert_int_equal(vg_ports_count_proto(p, IPPROTO_UDP), 1);
    assert_int_equal(vg_ports_get_proto(p, IPPROTO_UDP, 0), 53);
    assert_int_equal(vg_ports_count(p), 3);
    assert_int_equal(vg_ports_set_default_proto(p, 1, &err), VG_EINVAL);
    vg_ports_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_and_list),
        cmocka_unit_test(test_range_and_duplicates),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_open_ranges),
        cmocka_unit_test(test_all),
        cmocka_unit_test(test_named_sets),
        cmocka_unit_test(test_service_names),
        cmocka_unit_test(test_incremental_add),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_port_service),
        cmocka_unit_test(test_unprefixed_views),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_prefix_errors),
        cmocka_unit_test(test_set_default_proto),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
