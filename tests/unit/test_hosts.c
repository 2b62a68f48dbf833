/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/util/hosts.c: the RFC 6761 special-use names and the
 * hosts-file lookup, over buffers and a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/hosts.h"

static void expect_addr(const vg_addr *a, const char *want)
{
    char buf[VG_ADDR_STRLEN];
    vg_addr_format(a, buf, sizeof(buf));
    if(strcmp(buf, want))
        fail_msg("got %s, want %s", buf, want);
}

static void test_special(void **state)
{
    (void)state;
    assert_int_equal(vg_name_special("localhost"), VG_NAME_LOCALHOST);
    assert_int_equal(vg_name_special("LOCALHOST."), VG_NAME_LOCALHOST);
    assert_int_equal(vg_name_special("foo.localhost"), VG_NAME_LOCALHOST);
    assert_int_equal(vg_name_special("a.b.LocalHost."), VG_NAME_LOCALHOST);
    assert_int_equal(vg_name_special("x.invalid"), VG_NAME_INVALID);
    assert_int_equal(vg_name_special("invalid"), VG_NAME_INVALID);
    assert_int_equal(vg_name_special("X.INVALID."), VG_NAME_INVALID);
    /* Look-alikes are ordinary names. */
    assert_int_equal(vg_name_special("notlocalhost"), VG_NAME_DNS);
    assert_int_equal(vg_name_special("localhost.vigia.test"), VG_NAME_DNS);
    assert_int_equal(vg_name_special(".localhost"), VG_NAME_DNS);
    assert_int_equal(vg_name_special("xinvalid"), VG_NAME_DNS);
    assert_int_equal(vg_name_special(""), VG_NAME_DNS);
    assert_int_equal(vg_name_special("."), VG_NAME_DNS);
}

static const char hosts[] =
    "# comment line\n"
    "127.0.0.1\tlocalhost  lab.vigia.test # trailing comment\n"
    "::1 localhost ip6-localhost\n"
    "\n"
    "   198.18.0.7 Lab.Vigia.Test. other\n"
    "198.18.0.7 lab.vigia.test\n"            /* a duplicate: reported once */
    "not-an-address lab.vigia.test\n"        /* ignored */
    "2001:db8::7 lab.vigia.test\r\n"
    "198.18.0.8 #lab.vigia.test\n"           /* commented out */
    "198.18.0.9 lab.vigia.test.example";     /* no final newline; another name */

static void test_lookup_buf(void **state)
{
    vg_addr a[8];
    size_t n;
    (void)state;

    n = vg_hosts_lookup_buf(hosts, strlen(hosts), "LAB.vigia.test.", 0, a, 8);
    assert_int_equal(n, 3);
    expect_addr(&a[0], "127.0.0.1");
    expect_addr(&a[1], "198.18.0.7");
    expect_addr(&a[2], "2001:db8::7");
    n = vg_hosts_lookup_buf(hosts, strlen(hosts), "lab.vigia.test", AF_INET6, a, 8);
    assert_int_equal(n, 1);
    expect_addr(&a[0], "2001:db8::7");
    n = vg_hosts_lookup_buf(hosts, strlen(hosts), "lab.vigia.test", AF_INET, a, 1);
    assert_int_equal(n, 1);
    expect_addr(&a[0], "127.0.0.1");
    n = vg_hosts_lookup_buf(hosts, strlen(hosts), "lab.vigia.test.example", 0, a, 8);
    assert_int_equal(n, 1);
    expect_addr(&a[0], "198.18.0.9");
    assert_int_equal(vg_hosts_lookup_buf(hosts, strlen(hosts), "vigia.test", 0, a, 8), 0);
    assert_int_equal(vg_hosts_lookup_buf(hosts, strlen(hosts), "", 0, a, 8), 0);
    assert_int_equal(vg_hosts_lookup_buf(hosts, strlen(hosts), "other", 0, a, 0), 0);
    /* Only len bytes count: a name past the end is not seen. */
    assert_int_equal(vg_hosts_lookup_buf(hosts, 20, "lab.vigia.test", 0, a, 8), 0);
}

static void test_localhost_file(void **state)
{
    char path[] = "/tmp/vigia-hosts-XXXXXX";
    int fd = mkstemp(path);
    vg_addr a[4];
    size_t n;
    (void)state;

    assert_true(fd >= 0);
    static const char text[] = "127.0.0.5 localhost\n198.18.0.3 box.localhost\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);

    /* Listed: the file's answer. */
    n = vg_localhost_addrs(path, "localhost", 0, a, 4);
    assert_int_equal(n, 1);
    expect_addr(&a[0], "127.0.0.5");
    n = vg_localhost_addrs(path, "BOX.localhost.", AF_INET, a, 4);
    assert_int_equal(n, 1);
    expect_addr(&a[0], "198.18.0.3");
    /* Not listed (for this family): loopback. */
    n = vg_localhost_addrs(path, "localhost", AF_INET6, a, 4);
    assert_int_equal(n, 1);
    expect_addr(&a[0], "::1");
    n = vg_localhost_addrs(path, "other.localhost", 0, a, 4);
    assert_int_equal(n, 2);
    expect_addr(&a[0], "127.0.0.1");
    expect_addr(&a[1], "::1");
    n = vg_localhost_addrs(path, "other.localhost", 0, a, 1);
    assert_int_equal(n, 1);
    unlink(path);

    /* No file at all: still loopback. */
    n = vg_localhost_addrs(path, "localhost", AF_INET, a, 4);
    assert_int_equal(n, 1);
    expect_addr(&a[0], "127.0.0.1");
    assert_int_equal(vg_hosts_lookup(path, "localhost", 0, a, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special),
        cmocka_unit_test(test_lookup_buf),
        cmocka_unit_test(test_localhost_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
