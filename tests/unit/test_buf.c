/* SPDX-License-Identifier: MIT */
/* The wire reader and writer (lib/util/buf.h): every accessor at the end
 * and past it, the sticky error, sub-readers, seek bounds, the string
 * forms, and the fixed and growing writers. Every buffer is read at its
 * exact size, so a read past the end would show under ASan/Valgrind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/alloc.h"
#include "util/buf.h"

/* A heap copy of exactly n bytes. */
static uint8_t *exact(const void *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    memcpy(q, p, n);
    return q;
}

static void test_fixed_width(void **state)
{
    static const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    uint8_t *p = exact(b, sizeof(b));
    vg_rd r;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    (void)state;

    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_be16(&r, &v16));
    assert_int_equal(v16, 0x0102);
    assert_true(vg_rd_le16(&r, &v16));
    assert_int_equal(v16, 0x0403);
    assert_true(vg_rd_le24(&r, &v32));
    assert_int_equal(v32, 0x070605);
    assert_int_equal(vg_rd_pos(&r), 7);
    assert_int_equal(vg_rd_left(&r), 2);
    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_be32(&r, &v32));
    assert_int_equal(v32, 0x01020304);
    assert_true(vg_rd_le32(&r, &v32));
    assert_int_equal(v32, 0x08070605);
    assert_true(vg_rd_u8(&r, &v8));
    assert_int_equal(v8, 9);
    assert_true(vg_rd_done(&r));
    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_be64(&r, &v64));
    assert_true(v64 == 0x0102030405060708ull);
    assert_int_equal(vg_rd_left(&r), 1);
    free(p);
}

/* Each accessor with exactly one byte too few: fails, leaves its output
 * and the cursor alone, and sets the sticky error; with exactly enough it
 * reads to the end. */
static void test_each_accessor_at_the_end(void **state)
{
    static const uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const size_t width[] = {1, 2, 3, 4, 2, 4, 8};
    (void)state;
    for(size_t k = 0; k < sizeof(width) / sizeof(width[0]); k++) {
        for(size_t have = width[k] - 1; have <= width[k]; have++) {
            uint8_t *p = exact(b, have);
            vg_rd r;
            uint8_t v8 = 0xaa;
            uint16_t v16 = 0xaaaa;
            uint32_t v32 = 0xaaaaaaaa;
            uint64_t v64 = 0xaaaaaaaaaaaaaaaaull;
            bool ok = false, untouched = false;
            vg_rd_init(&r, p, have);
            switch(k) {
            case 0: ok = vg_rd_u8(&r, &v8); untouched = v8 == 0xaa; break;
            case 1: ok = vg_rd_be16(&r, &v16); untouched = v16 == 0xaaaa; break;
            case 2: ok = vg_rd_le24(&r, &v32); untouched = v32 == 0xaaaaaaaa; break;
            case 3: ok = vg_rd_be32(&r, &v32); untouched = v32 == 0xaaaaaaaa; break;
            case 4: ok = vg_rd_le16(&r, &v16); untouched = v16 == 0xaaaa; break;
            case 5: ok = vg_rd_le32(&r, &v32); untouched = v32 == 0xaaaaaaaa; break;
            case 6: ok = vg_rd_be64(&r, &v64); untouched = v64 == 0xaaaaaaaaaaaaaaaaull; break;
            }
            if(have < width[k]) {
                assert_false(ok);
                assert_true(untouched);
                assert_int_equal(vg_rd_pos(&r), 0);
                assert_false(vg_rd_ok(&r));
                assert_int_equal(vg_rd_left(&r), 0);
                /* sticky: even a read that would fit now fails */
                assert_false(vg_rd_skip(&r, 0));
            }
            else {
                assert_true(ok);
                assert_false(untouched);
                assert_true(vg_rd_done(&r));
            }
            free(p);
        }
    }
}

static void test_bytes_take_skip_peek(void **state)
{
    static const uint8_t b[] = {'a', 'b', 'c', 'd'};
    uint8_t *p = exact(b, sizeof(b));
    uint8_t out[4] = {0}, v;
    const uint8_t *q;
    vg_rd r;
    (void)state;

    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_peek_u8(&r, &v));
    assert_int_equal(v, 'a');
    assert_true(vg_rd_peek(&r, 4, &q));
    assert_ptr_equal(q, p);
    assert_false(vg_rd_peek(&r, 5, &q));
    assert_true(vg_rd_ok(&r)); /* a failed peek is not an error */
    assert_int_equal(vg_rd_pos(&r), 0);
    assert_true(vg_rd_bytes(&r, out, 2));
    assert_memory_equal(out, "ab", 2);
    assert_true(vg_rd_take(&r, 1, &q));
    assert_ptr_equal(q, p + 2);
    assert_ptr_equal(vg_rd_ptr(&r), p + 3);
    assert_false(vg_rd_bytes(&r, out, 2));
    assert_false(vg_rd_ok(&r));
    assert_false(vg_rd_peek_u8(&r, &v));
    free(p);

    vg_rd_init(&r, p = exact(b, sizeof(b)), sizeof(b));
    assert_true(vg_rd_skip(&r, 4));
    assert_true(vg_rd_done(&r));
    assert_false(vg_rd_peek_u8(&r, &v));
    assert_true(vg_rd_ok(&r));
    assert_true(vg_rd_skip(&r, 0));
    assert_false(vg_rd_take(&r, 1, &q));
    assert_false(vg_rd_done(&r));
    free(p);

    /* a huge length cannot wrap the bounds check */
    vg_rd_init(&r, p = exact(b, sizeof(b)), sizeof(b));
    assert_true(vg_rd_skip(&r, 1));
    assert_false(vg_rd_skip(&r, SIZE_MAX));
    assert_int_equal(vg_rd_pos(&r), 1);
    free(p);

    /* an empty reader, and one over no buffer at all */
    vg_rd_init(&r, NULL, 10);
    assert_int_equal(vg_rd_left(&r), 0);
    assert_false(vg_rd_u8(&r, &v));
}

static void test_sub_reader(void **state)
{
    static const uint8_t b[] = {0, 3, 'x', 'y', 'z', 0xee};
    uint8_t *p = exact(b, sizeof(b));
    vg_rd r, sub, none;
    uint16_t n = 0;
    uint8_t v;
    (void)state;

    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_be16(&r, &n));
    assert_true(vg_rd_sub(&r, n, &sub));
    assert_int_equal(vg_rd_pos(&r), 5);  /* the parent moved past the field */
    assert_int_equal(vg_rd_pos(&sub), 0); /* positions start again */
    assert_int_equal(vg_rd_left(&sub), 3);
    assert_true(vg_rd_skip(&sub, 2));
    assert_true(vg_rd_u8(&sub, &v));
    assert_int_equal(v, 'z');
    /* the byte after the field is not the sub-reader's */
    assert_false(vg_rd_u8(&sub, &v));
    assert_false(vg_rd_ok(&sub));
    assert_true(vg_rd_ok(&r));           /* the error stays in the sub-reader */
    assert_true(vg_rd_u8(&r, &v));
    assert_int_equal(v, 0xee);
    /* a sub-reader longer than what is left fails and moves nothing */
    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_skip(&r, 2));
    assert_false(vg_rd_sub(&r, 5, &none));
    assert_int_equal(vg_rd_pos(&r), 2);
    assert_false(vg_rd_ok(&r));
    /* seek inside a sub-reader is bounded by the sub-reader */
    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_skip(&r, 2));
    assert_true(vg_rd_sub(&r, 3, &sub));
    assert_true(vg_rd_seek(&sub, 3));
    assert_false(vg_rd_seek(&sub, 4));
    free(p);
}

/* Seeking as a DNS compression pointer does: backwards and forwards, to
 * the end (then nothing is left), never past it. */
static void test_seek_bounds(void **state)
{
    static const uint8_t b[] = {10, 20, 30, 40};
    uint8_t *p = exact(b, sizeof(b));
    vg_rd r;
    uint8_t v;
    (void)state;

    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_skip(&r, 3));
    assert_true(vg_rd_seek(&r, 1));
    assert_true(vg_rd_u8(&r, &v));
    assert_int_equal(v, 20);
    assert_true(vg_rd_seek(&r, 0));
    assert_true(vg_rd_u8(&r, &v));
    assert_int_equal(v, 10);
    assert_true(vg_rd_seek(&r, sizeof(b)));
    assert_int_equal(vg_rd_left(&r), 0);
    assert_false(vg_rd_u8(&r, &v));
    vg_rd_init(&r, p, sizeof(b));
    assert_false(vg_rd_seek(&r, sizeof(b) + 1));
    assert_false(vg_rd_ok(&r));
    assert_false(vg_rd_seek(&r, 0)); /* sticky */
    vg_rd_init(&r, p, sizeof(b));
    assert_false(vg_rd_seek(&r, SIZE_MAX));
    /* a copy of a reader is a second cursor over the same bytes */
    vg_rd_init(&r, p, sizeof(b));
    assert_true(vg_rd_skip(&r, 2));
    vg_rd j = r;
    assert_true(vg_rd_seek(&j, 0));
    assert_true(vg_rd_u8(&j, &v));
    assert_int_equal(v, 10);
    assert_int_equal(vg_rd_pos(&r), 2);
    free(p);
}

static void test_strings(void **state)
{
    const uint8_t *s;
    size_t n;
    vg_rd r;
    uint8_t *p;
    (void)state;

    /* SSH strings: whole, empty, one byte short, a length near 2^32 */
    static const uint8_t ssh[] = {0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0, 0, 0, 0, 2, 'x'};
    vg_rd_init(&r, p = exact(ssh, sizeof(ssh)), sizeof(ssh));
    assert_true(vg_rd_str32(&r, &s, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(s, "hi", 2);
    assert_true(vg_rd_str32(&r, &s, &n));
    assert_int_equal(n, 0);
    s = NULL;
    n = 99;
    assert_false(vg_rd_str32(&r, &s, &n));
    assert_null(s);
    assert_int_equal(n, 99);
    assert_int_equal(vg_rd_pos(&r), 10); /* back before the length */
    free(p);
    static const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 'a'};
    vg_rd_init(&r, p = exact(big, sizeof(big)), sizeof(big));
    assert_false(vg_rd_str32(&r, &s, &n));
    free(p);
    static const uint8_t shortlen[] = {0, 0, 1};
    vg_rd_init(&r, p = exact(shortlen, sizeof(shortlen)), sizeof(shortlen));
    assert_false(vg_rd_str32(&r, &s, &n));
    free(p);

    /* one-byte lengths */
    static const uint8_t s8[] = {3, 'a', 'b', 'c', 2, 'd'};
    vg_rd_init(&r, p = exact(s8, sizeof(s8)), sizeof(s8));
    assert_true(vg_rd_str8(&r, &s, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    assert_false(vg_rd_str8(&r, &s, &n));
    assert_int_equal(vg_rd_pos(&r), 4);
    free(p);

    /* NUL-terminated: the cursor moves past the NUL; none, none */
    static const uint8_t cs[] = {'o', 'k', 0, 0, 'n', 'o'};
    vg_rd_init(&r, p = exact(cs, sizeof(cs)), sizeof(cs));
    assert_true(vg_rd_cstr(&r, &s, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(s, "ok", 2);
    assert_int_equal(vg_rd_pos(&r), 3);
    assert_true(vg_rd_cstr(&r, &s, &n));
    assert_int_equal(n, 0);
    assert_true(vg_rd_find(&r, 'o', SIZE_MAX, &n));
    assert_int_equal(n, 1);
    assert_false(vg_rd_find(&r, 'o', 1, &n)); /* not within one byte */
    assert_false(vg_rd_find(&r, 0, SIZE_MAX, &n));
    assert_true(vg_rd_ok(&r));
    assert_false(vg_rd_cstr(&r, &s, &n));
    assert_int_equal(vg_rd_pos(&r), 4);
    assert_false(vg_rd_ok(&r));
    free(p);
    vg_rd_init(&r, p = exact("", 0), 0);
    assert_false(vg_rd_find(&r, 0, SIZE_MAX, &n));
    assert_false(vg_rd_cstr(&r, &s, &n));
    free(p);
}

static void test_lenenc(void **state)
{
    uint64_t v;
    const uint8_t *s;
    size_t n;
    vg_rd r;
    uint8_t *p;
    (void)state;

    static const uint8_t ints[] = {0xfa, 0xfc, 0x34, 0x12, 0xfd, 0x56, 0x34, 0x12,
                                   0xfe, 1, 2, 3, 4, 5, 6, 7, 8};
    vg_rd_init(&r, p = exact(ints, sizeof(ints)), sizeof(ints));
    assert_true(vg_rd_lenenc(&r, &v));
    assert_true(v == 0xfa);
    assert_true(vg_rd_lenenc(&r, &v));
    assert_true(v == 0x1234);
    assert_true(vg_rd_lenenc(&r, &v));
    assert_true(v == 0x123456);
    assert_true(vg_rd_lenenc(&r, &v));
    assert_true(v == 0x0807060504030201ull);
    assert_true(vg_rd_done(&r));
    free(p);
    /* NULL (0xfb) and 0xff are not integers; each width one byte short */
    static const uint8_t bad[][8] = {{0xfb}, {0xff}, {0xfc, 1}, {0xfd, 1, 2}, {0xfe, 1, 2, 3, 4, 5, 6, 7}};
    static const size_t badn[] = {1, 1, 2, 3, 8};
    for(size_t i = 0; i < 5; i++) {
        vg_rd_init(&r, p = exact(bad[i], badn[i]), badn[i]);
        v = 77;
        assert_false(vg_rd_lenenc(&r, &v));
        assert_true(v == 77);
        assert_int_equal(vg_rd_pos(&r), 0);
        free(p);
    }
    vg_rd_init(&r, NULL, 0);
    assert_false(vg_rd_lenenc(&r, &v));

    static const uint8_t strs[] = {3, 'a', 'b', 'c', 0xfc, 2, 0, 'd', 'e', 5, 'x'};
    vg_rd_init(&r, p = exact(strs, sizeof(strs)), sizeof(strs));
    assert_true(vg_rd_lenenc_str(&r, &s, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    assert_true(vg_rd_lenenc_str(&r, &s, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(s, "de", 2);
    assert_false(vg_rd_lenenc_str(&r, &s, &n)); /* claims 5, has 1 */
    assert_int_equal(vg_rd_pos(&r), 9);
    free(p);
    /* a 64-bit length larger than any buffer */
    static const uint8_t huge[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'a'};
    vg_rd_init(&r, p = exact(huge, sizeof(huge)), sizeof(huge));
    assert_false(vg_rd_lenenc_str(&r, &s, &n));
    free(p);
}

static void test_fail_is_sticky(void **state)
{
    static const uint8_t b[] = {5, 0, 0, 0, 0};
    vg_rd r;
    uint8_t v;
    uint32_t w;
    (void)state;
    vg_rd_init(&r, b, sizeof(b));
    assert_true(vg_rd_u8(&r, &v));
    assert_false(vg_rd_fail(&r)); /* a parser's own check on what it read */
    assert_false(vg_rd_be32(&r, &w));
    assert_false(vg_rd_done(&r));
    assert_int_equal(vg_rd_left(&r), 0);
}

static void test_writer_fixed(void **state)
{
    uint8_t buf[12];
    vg_wr w;
    (void)state;
    memset(buf, 0xcc, sizeof(buf));
    vg_wr_init_fixed(&w, buf, 11);
    vg_wr_u8(&w, 1);
    vg_wr_be16(&w, 0x0203);
    vg_wr_le16(&w, 0x0504);
    vg_wr_le24(&w, 0x080706);
    vg_wr_be32(&w, 0x090a0b0c); /* does not fit: nothing of it is written */
    assert_false(vg_wr_ok(&w));
    assert_int_equal(w.len, 8);
    vg_wr_u8(&w, 0x55);         /* sticky, though it would fit */
    assert_int_equal(w.len, 8);
    const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8, 0xcc, 0xcc, 0xcc, 0xcc};
    assert_memory_equal(buf, want, sizeof(want));
    vg_wr_free(&w);             /* never frees the caller's buffer */

    vg_wr_init_fixed(&w, buf, sizeof(buf));
    vg_wr_le32(&w, 0x04030201);
    vg_wr_zeros(&w, 2);
    vg_wr_str32(&w, "ab", 2);
    assert_true(vg_wr_ok(&w));
    assert_int_equal(w.len, 12);
    const uint8_t want2[] = {1, 2, 3, 4, 0, 0, 0, 0, 0, 2, 'a', 'b'};
    assert_memory_equal(buf, want2, sizeof(want2));
    vg_wr_str32(&w, "", 0);    /* the length alone does not fit either */
    assert_false(vg_wr_ok(&w));
    assert_int_equal(w.len, 12);
}

static void test_writer_grows(void **state)
{
    vg_wr w = {0};
    uint8_t big[1000];
    (void)state;
    for(size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    vg_wr_str32(&w, big, sizeof(big));
    vg_wr_bytes(&w, big, 0);
    vg_wr_u8(&w, 0x7f);
    assert_true(vg_wr_ok(&w));
    assert_int_equal(w.len, 4 + sizeof(big) + 1);
    assert_true(w.cap >= w.len);
    /* what was written reads back */
    vg_rd r;
    const uint8_t *s;
    size_t n;
    uint8_t v;
    vg_rd_init(&r, w.p, w.len);
    assert_true(vg_rd_str32(&r, &s, &n));
    assert_int_equal(n, sizeof(big));
    assert_memory_equal(s, big, sizeof(big));
    assert_true(vg_rd_u8(&r, &v));
    assert_int_equal(v, 0x7f);
    assert_true(vg_rd_done(&r));
    vg_wr_free(&w);
    assert_null(w.p);
    assert_int_equal(w.len, 0);

    /* an allocation that fails sets the error and keeps what was written */
    vg_wr_u8(&w, 1);
    vg_alloc_fail_after(1);
    vg_wr_bytes(&w, big, sizeof(big));
    vg_alloc_fail_after(0);
    assert_false(vg_wr_ok(&w));
    assert_int_equal(w.len, 1);
    assert_int_equal(w.p[0], 1);
    vg_wr_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_width),
        cmocka_unit_test(test_each_accessor_at_the_end),
        cmocka_unit_test(test_bytes_take_skip_peek),
        cmocka_unit_test(test_sub_reader),
        cmocka_unit_test(test_seek_bounds),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_lenenc),
        cmocka_unit_test(test_fail_is_sticky),
        cmocka_unit_test(test_writer_fixed),
        cmocka_unit_test(test_writer_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
