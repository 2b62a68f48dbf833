/* SPDX-License-Identifier: MIT */
/* The OUI registry reader: the registry's line format, hostile input
 * (control characters, junk, huge names), lookups, and the real file when
 * Debian's ieee-data is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/oui.h"

static const char sample[] =
    "OUI/MA-L                                                    Organization                                 \r\n"
    "company_id                                                  Organization                                 \r\n"
    "                                                            Address                                      \r\n"
    "\r\n"
    "00-00-0C   (hex)\t\tCisco Systems, Inc\r\n"
    "00000C     (base 16)\t\tCisco Systems, Inc\r\n"
    "\t\t\t\t170 WEST TASMAN DRIVE\r\n"
    "\r\n"
    "F4-F5-D8   (hex)\t\tGoogle, Inc.\n"
    "a4-83-e7   (hex)\t\tApple, Inc.   \n"
    "3C-22-FB   (hex)\t\tEvil\x1b[31mVendor\n"
    "ZZ-22-FB   (hex)\t\tNot hex\n"
    "00-00-0D   (base 16)\t\tNot the hex line\n"
    "00-00-0E   (hex)\n"
    "00-00-0F (hex)";

static void test_parse_sample(void **state)
{
    (void)state;
    vg_oui *db = vg_oui_parse(sample, sizeof(sample) - 1);
    assert_non_null(db);
    assert_int_equal(vg_oui_count(db), 4);
    static const uint8_t cisco[6] = {0x00, 0x00, 0x0c, 0x12, 0x34, 0x56};
    static const uint8_t google[6] = {0xf4, 0xf5, 0xd8, 0, 0, 1};
    static const uint8_t apple[6] = {0xa4, 0x83, 0xe7, 9, 9, 9};
    static const uint8_t evil[6] = {0x3c, 0x22, 0xfb, 0, 0, 0};
    static const uint8_t unknown[6] = {0x00, 0x00, 0x0d, 0, 0, 0};
    static const uint8_t local[6] = {0x02, 0x00, 0x0c, 0, 0, 0};
    assert_string_equal(vg_oui_vendor(db, cisco), "Cisco Systems, Inc");
    assert_string_equal(vg_oui_vendor(db, google), "Google, Inc.");
    assert_string_equal(vg_oui_vendor(db, apple), "Apple, Inc."); /* trimmed, lower-case hex */
    /* A control character never reaches a terminal. */
    assert_string_equal(vg_oui_vendor(db, evil), "Evil [31mVendor");
    assert_null(vg_oui_vendor(db, unknown));
    assert_null(vg_oui_vendor(db, local));
    vg_oui_free(db);
}

static void test_garbage_and_limits(void **state)
{
    (void)state;
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    srand(5);
    for(int round = 0; round < 200; round++) {
        size_t n = (size_t)(rand() % (1 << 16));
        for(size_t i = 0; i < n; i++)
            buf[i] = (char)(rand() % 4 == 0 ? "-0A( hex)\t\n"[rand() % 11] : rand());
        vg_oui *db = vg_oui_parse(buf, n);
        assert_non_null(db);
        vg_oui_free(db);
    }
    /* A name longer than the cap is cut, not overflowed. */
    size_t n = (size_t)snprintf(buf, 64, "00-11-22   (hex)\t\t");
    memset(buf + n, 'x', 5000);
    n += 5000;
    vg_oui *db = vg_oui_parse(buf, n);
    static const uint8_t mac[6] = {0x00, 0x11, 0x22, 0, 0, 0};
    assert_true(strlen(vg_oui_vendor(db, mac)) < 100);
    vg_oui_free(db);
    assert_null(vg_oui_load("/nonexistent/oui.txt"));
    assert_null(vg_oui_vendor(NULL, mac));
    free(buf);
}

static void test_debian_registry(void **state)
{
    (void)state;
    if(access(VG_OUI_DEFAULT_PATH, R_OK) != 0) {
        skip(); /* ieee-data not installed */
        return;
    }
    vg_oui *db = vg_oui_load(NULL);
    assert_non_null(db);
    assert_true(vg_oui_count(db) > 20000);
    static const uint8_t xerox[6] = {0x00, 0x00, 0x00, 1, 2, 3};
    static const uint8_t cisco[6] = {0x00, 0x00, 0x0c, 1, 2, 3};
    assert_non_null(vg_oui_vendor(db, xerox));
    assert_non_null(strstr(vg_oui_vendor(db, cisco), "Cisco"));
    vg_oui_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sample),
        cmocka_unit_test(test_garbage_and_limits),
        cmocka_unit_test(test_debian_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
