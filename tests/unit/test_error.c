/* SPDX-License-Identifier: MIT */
/* The error record: vg_error_set fills it (or nothing, given NULL) and
 * returns the code; vg_strerror names every code, and unknown ones too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vigia/error.h"

static void test_set_fills_and_returns(void **state)
{
    (void)state;
    vg_error err = {0};
    assert_int_equal(vg_error_set(&err, VG_EINVAL, "port %d of %s", 70000, "argument 2"), VG_EINVAL);
    assert_int_equal(err.code, VG_EINVAL);
    assert_string_equal(err.msg, "port 70000 of argument 2");
    /* No record to fill: only the code comes back. */
    assert_int_equal(vg_error_set(NULL, VG_ESYS, "socket: %s", "denied"), VG_ESYS);
}

static void test_set_truncates_long_messages(void **state)
{
    (void)state;
    vg_error err = {0};
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(vg_error_set(&err, VG_ENOMEM, "%s", big), VG_ENOMEM);
    assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    assert_string_equal(vg_strerror(VG_OK), "success");
    assert_string_equal(vg_strerror(VG_EINVAL), "invalid input");
    assert_string_equal(vg_strerror(VG_ENOMEM), "out of memory");
    assert_string_equal(vg_strerror(VG_ESYS), "system error");
    assert_string_equal(vg_strerror(VG_ERESOLVE), "name resolution failed");
    assert_string_equal(vg_strerror(VG_EIO), "output error");
    assert_string_equal(vg_strerror(-99), "unknown error");
    assert_string_equal(vg_strerror(1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_fills_and_returns),
        cmocka_unit_test(test_set_truncates_long_messages),
        cmocka_unit_test(test_strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
