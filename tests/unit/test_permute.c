/* SPDX-License-Identifier: MIT */
/* The walk's permutation must be a bijection on [0, n) for every n, and
 * depend on the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vigia/permute.h"

static void check_bijection(uint64_t n, uint64_t seed)
{
    vg_perm p;
    uint8_t *seen = calloc((size_t)(n + 7) / 8 + 1, 1);
    assert_non_null(seen);
    vg_perm_init(&p, n, seed);
    for(uint64_t i = 0; i < n; i++) {
        uint64_t x = vg_perm_at(&p, i);
        assert_true(x < n);
        assert_false(seen[x / 8] & (1u << (x % 8)));
        seen[x / 8] |= (uint8_t)(1u << (x % 8));
    }
    free(seen);
}

static void test_small_sizes(void **state)
{
    (void)state;
    for(uint64_t n = 1; n <= 600; n++)
        check_bijection(n, n * 7919);
}

static void test_interesting_sizes(void **state)
{
    static const uint64_t sizes[] = {
        1023, 1024, 1025, 4095, 4096, 4097, 65535, 65536, 65537, 65521, 104729,
        262143, 262144, 262145, 1048573, 1048575, 1048576,
    };
    (void)state;
    for(size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        check_bijection(sizes[i], 42);
}

static void test_large_sizes_sampled(void **state)
{
    /* Beyond what we can enumerate: outputs stay in range and distinct
     * inputs give distinct outputs on a sample. */
    static const uint64_t sizes[] = {
        (1ULL << 32) + 15, 131072ULL * 65535ULL, (1ULL << 63) + 3, UINT64_MAX,
    };
    (void)state;
    for(size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        vg_perm p;
        uint64_t out[512];
        vg_perm_init(&p, sizes[s], 99);
        for(uint64_t i = 0; i < 512; i++) {
            out[i] = vg_perm_at(&p, i * 1000003ULL);
            assert_true(out[i] < sizes[s]);
            for(uint64_t j = 0; j < i; j++)
                assert_true(out[i] != out[j]);
        }
    }
}

static void test_seed_changes_order(void **state)
{
    vg_perm a, b;
    int same = 0;
    (void)state;
    vg_perm_init(&a, 10000, 1);
    vg_perm_init(&b, 10000, 2);
    for(uint64_t i = 0; i < 10000; i++)
        same += vg_perm_at(&a, i) == vg_perm_at(&b, i);
    assert_true(same < 100);
    /* Same seed, same order. */
    vg_perm_init(&b, 10000, 1);
    for(uint64_t i = 0; i < 10000; i++)
        assert_int_equal(vg_perm_at(&a, i), vg_perm_at(&b, i));
}

static void test_order_is_scrambled(void **state)
{
    /* Consecutive positions should not be consecutive elements. */
    vg_perm p;
    int adjacent = 0;
    (void)state;
    vg_perm_init(&p, 65535, 7);
    for(uint64_t i = 1; i < 65535; i++) {
        uint64_t a = vg_perm_at(&p, i - 1), b = vg_perm_at(&p, i);
        adjacent += (a + 1 == b);
    }
    assert_true(adjacent < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_sizes),
        cmocka_unit_test(test_interesting_sizes),
        cmocka_unit_test(test_large_sizes_sampled),
        cmocka_unit_test(test_seed_changes_order),
        cmocka_unit_test(test_order_is_scrambled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
