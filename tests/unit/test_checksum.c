/* SPDX-License-Identifier: MIT */
/* The Internet checksum: RFC 1071's worked example, a real IPv4 header,
 * odd lengths, and RFC 1624 incremental updates against full recomputation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/checksum.h"

/* A naive reference: sum 16-bit big-endian words in 64 bits, fold, invert. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    for(size_t i = 0; i + 1 < len; i += 2)
        sum += (uint64_t)(p[i] << 8 | p[i + 1]);
    if(len & 1)
        sum += (uint64_t)p[len - 1] << 8;
    while(sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void test_rfc1071_example(void **state)
{
    /* RFC 1071 section 3: the sum of these words is ddf2 (one's complement). */
    static const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    (void)state;
    assert_int_equal(vg_csum_finish(vg_csum_add(0, d, sizeof(d))), (uint16_t)~0xddf2);
}

static void test_ipv4_header(void **state)
{
    /* A captured IPv4 header whose checksum field holds b861. */
    uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    (void)state;
    /* A header with a correct checksum sums to zero. */
    assert_int_equal(vg_csum_finish(vg_csum_add(0, h, sizeof(h))), 0);
    h[10] = h[11] = 0;
    assert_int_equal(vg_csum_finish(vg_csum_add(0, h, sizeof(h))), 0xb861);
}

static void test_odd_lengths_and_chunks(void **state)
{
    uint8_t buf[257];
    (void)state;
    srand(7);
    for(size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    for(size_t len = 0; len <= sizeof(buf); len++) {
        assert_int_equal(vg_csum_finish(vg_csum_add(0, buf, len)), ref_csum(buf, len));
        /* Even-length chunks then an odd tail give the same sum. */
        size_t cut = (len / 2) & ~(size_t)1;
        uint32_t s = vg_csum_add(0, buf, cut);
        s = vg_csum_add(s, buf + cut, len - cut);
        assert_int_equal(vg_csum_finish(s), ref_csum(buf, len));
    }
}

static void test_all_ones_and_zero(void **state)
{
    uint8_t ff[4096];
    (void)state;
    memset(ff, 0xff, sizeof(ff));
    /* Carries must fold all the way around. */
    assert_int_equal(vg_csum_finish(vg_csum_add(0, ff, sizeof(ff))), ref_csum(ff, sizeof(ff)));
    assert_int_equal(vg_csum_finish(0), 0xffff);
}

static void test_incremental_update(void **state)
{
    uint8_t buf[40];
    (void)state;
    srand(11);
    for(int round = 0; round < 2000; round++) {
        for(size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (uint8_t)rand();
        uint16_t before = ref_csum(buf, sizeof(buf));
        size_t at = (size_t)(rand() % 18) * 2;
        uint16_t old16 = (uint16_t)(buf[at] << 8 | buf[at + 1]);
        uint16_t new16 = (uint16_t)rand();
        if(round % 7 == 0)
            new16 = (uint16_t)~old16; /* the case RFC 1141's formula got wrong */
        buf[at] = (uint8_t)(new16 >> 8);
        buf[at + 1] = (uint8_t)new16;
        uint16_t upd = vg_csum_update16(before, old16, new16);
        uint16_t full = ref_csum(buf, sizeof(buf));
        /* 0x0000 and 0xffff are the same number in one's complement. */
        if(!(upd == full || (upd == 0 && full == 0xffff) || (upd == 0xffff && full == 0)))
            fail_msg("round %d: update %04x != full %04x", round, upd, full);

        before = ref_csum(buf, sizeof(buf));
        at = (size_t)(rand() % 9) * 4;
        uint32_t old32 = (uint32_t)buf[at] << 24 | (uint32_t)buf[at + 1] << 16 |
                         (uint32_t)buf[at + 2] << 8 | buf[at + 3];
        uint32_t new32 = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
        buf[at] = (uint8_t)(new32 >> 24);
        buf[at + 1] = (uint8_t)(new32 >> 16);
        buf[at + 2] = (uint8_t)(new32 >> 8);
        buf[at + 3] = (uint8_t)new32;
        upd = vg_csum_update32(before, old32, new32);
        full = ref_csum(buf, sizeof(buf));
        if(!(upd == full || (upd == 0 && full == 0xffff) || (upd == 0xffff && full == 0)))
            fail_msg("round %d (32): update %04x != full %04x", round, upd, full);
    }
}

static void test_pseudo_headers(void **state)
{
    static const uint8_t s4[4] = {198, 18, 0, 1}, d4[4] = {198, 18, 0, 2};
    uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8}, d6[16] = {0x20, 0x01, 0x0d, 0xb8};
    (void)state;
    s6[15] = 1;
    d6[15] = 2;
    /* IPv4 pseudo header: src, dst, zero, proto, length (RFC 793). */
    uint8_t ph4[12];
    memcpy(ph4, s4, 4);
    memcpy(ph4 + 4, d4, 4);
    ph4[8] = 0;
    ph4[9] = 6;
    ph4[10] = 0;
    ph4[11] = 24;
    assert_int_equal(vg_csum_finish(vg_csum_pseudo4(s4, d4, 6, 24)), ref_csum(ph4, 12));
    /* IPv6: src, dst, 32-bit length, 3 zero bytes, next header (RFC 8200). */
    uint8_t ph6[40] = {0};
    memcpy(ph6, s6, 16);
    memcpy(ph6 + 16, d6, 16);
    ph6[34] = 0x01;
    ph6[35] = 0x02; /* length 0x0102 */
    ph6[39] = 17;
    assert_int_equal(vg_csum_finish(vg_csum_pseudo6(s6, d6, 17, 0x0102)), ref_csum(ph6, 40));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_ipv4_header),
        cmocka_unit_test(test_odd_lengths_and_chunks),
        cmocka_unit_test(test_all_ones_and_zero),
        cmocka_unit_test(test_incremental_update),
        cmocka_unit_test(test_pseudo_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
