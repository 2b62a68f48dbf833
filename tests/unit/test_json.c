/* SPDX-License-Identifier: MIT */
/* The JSON string writer every NDJSON record goes through: quotes and
 * backslashes escaped, control bytes as \uXXXX, valid UTF-8 kept as it is,
 * and every byte of an invalid sequence (overlong, surrogate, past
 * U+10FFFF, cut short) escaped on its own so the output is valid JSON;
 * and the record timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output/formats.h"
#include "vigia/output.h"

/* vg_json_string(in) as a string (in may hold any bytes but NUL). */
static char *json(const char *in)
{
    static char out[512];
    FILE *fp = fmemopen(out, sizeof(out), "w");
    assert_non_null(fp);
    vg_json_string(fp, in);
    assert_int_equal(fclose(fp), 0);
    return out;
}

static void test_escapes(void **state)
{
    (void)state;
    assert_string_equal(json("plain"), "\"plain\"");
    assert_string_equal(json(NULL), "\"\"");
    assert_string_equal(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(json("l1\nl2\r\tx"), "\"l1\\nl2\\r\\tx\"");
    assert_string_equal(json("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
}

static void test_valid_utf8_kept(void **state)
{
    (void)state;
    /* 2, 3 and 4 bytes: é, €, U+1F600 */
    assert_string_equal(json("\xc3\xa9"), "\"\xc3\xa9\"");
    assert_string_equal(json("\xe2\x82\xac"), "\"\xe2\x82\xac\"");
    assert_string_equal(json("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
    /* the last code point, U+10FFFF */
    assert_string_equal(json("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");
}

static void test_invalid_utf8_escaped(void **state)
{
    (void)state;
    /* overlong 2-byte form of '/' */
    assert_string_equal(json("\xc0\xaf"), "\"\\u00c0\\u00af\"");
    /* overlong 3-byte and 4-byte forms */
    assert_string_equal(json("\xe0\x80\xaf"), "\"\\u00e0\\u0080\\u00af\"");
    assert_string_equal(json("\xf0\x80\x80\xaf"), "\"\\u00f0\\u0080\\u0080\\u00af\"");
    /* a UTF-16 surrogate, U+D800 */
    assert_string_equal(json("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");
    /* past U+10FFFF, and a lead byte that starts nothing */
    assert_string_equal(json("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"");
    assert_string_equal(json("\xf8"), "\"\\u00f8\"");
    /* cut short: a 3-byte lead with one continuation, then ASCII */
    assert_string_equal(json("\xe2\x82z"), "\"\\u00e2\\u0082z\"");
    /* a lone continuation byte */
    assert_string_equal(json("\x80"), "\"\\u0080\"");
}

static void test_iso_time(void **state)
{
    char buf[40];
    (void)state;
    json_iso_time(0.0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    json_iso_time(1764633600.25, buf, sizeof(buf));
    assert_string_equal(buf, "2025-12-02T00:00:00.250Z");
}

static void test_mac(void **state)
{
    char buf[18];
    const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0xab, 0xff};
    (void)state;
    vg_mac_format(mac, buf, sizeof(buf));
    assert_string_equal(buf, "02:00:5e:10:ab:ff");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_valid_utf8_kept),
        cmocka_unit_test(test_invalid_utf8_escaped),
        cmocka_unit_test(test_iso_time),
        cmocka_unit_test(test_mac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
