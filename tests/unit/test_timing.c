/* SPDX-License-Identifier: MIT */
/* The RTT estimator: RFC 6298 arithmetic, floor, ceiling, fixed timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/timing.h"

static const vg_timing_limits lim = {
    .min_us = 100000, .max_us = 3000000, .initial_us = 1000000, .fixed_us = 0,
};

static void test_initial(void **state)
{
    vg_rtt r;
    (void)state;
    vg_rtt_init(&r);
    assert_int_equal(vg_rtt_timeout_us(&r, &lim), 1000000);
}

static void test_first_sample(void **state)
{
    vg_rtt r;
    (void)state;
    vg_rtt_init(&r);
    vg_rtt_sample(&r, 200000, 1); /* 200 ms */
    assert_int_equal(r.srtt_us, 200000);
    assert_int_equal(r.rttvar_us, 100000);
    /* srtt + 4 * rttvar = 600 ms */
    assert_int_equal(vg_rtt_timeout_us(&r, &lim), 600000);
}

static void test_smoothing(void **state)
{
    vg_rtt r;
    (void)state;
    vg_rtt_init(&r);
    vg_rtt_sample(&r, 200000, 1);
    vg_rtt_sample(&r, 100000, 1);
    /* rttvar = 3/4 * 100000 + 1/4 * |200000 - 100000| = 100000 */
    assert_int_equal(r.rttvar_us, 100000);
    /* srtt = 7/8 * 200000 + 1/8 * 100000 = 187500 */
    assert_int_equal(r.srtt_us, 187500);
    assert_int_equal(vg_rtt_timeout_us(&r, &lim), 587500);
}

static void test_floor(void **state)
{
    vg_rtt r;
    (void)state;
    vg_rtt_init(&r);
    for(int i = 0; i < 50; i++)
        vg_rtt_sample(&r, 50, 1); /* loopback: 50 us */
    assert_int_equal(vg_rtt_timeout_us(&r, &lim), 100000);
    vg_timing_limits low = lim;
    low.min_us = 1000;
    /* srtt 50 us + the 1 ms variance floor */
    assert_true(vg_rtt_timeout_us(&r, &low) >= 1000);
    assert_true(vg_rtt_timeout_us(&r, &low) < 2000);
}

static void test_ceiling(void **state)
{
    vg_rtt r;
    (void)state;
    vg_rtt_init(&r);
    vg_rtt_sample(&r, 5000000, 1);
    assert_int_equal(vg_rtt_timeout_us(&r, &lim), 3000000);
}

static void test_fixed(void **state)
{
    vg_rtt r;
    vg_timing_limits f = lim;
    (void)state;
    f.fixed_us = 250000;
    vg_rtt_init(&r);
    assert_int_equal(vg_rtt_timeout_us(&r, &f), 250000);
    vg_rtt_sample(&r, 10, 1);
    assert_int_equal(vg_rtt_timeout_us(&r, &f), 250000);
}

static void test_counters(void **state)
{
    vg_rtt r;
    (void)state;
    vg_rtt_init(&r);
    vg_rtt_sample(&r, 1000, 1);
    vg_rtt_sample(&r, 1000, 2);
    vg_rtt_sample(&r, 1000, 3);
    vg_rtt_timeout(&r);
    assert_int_equal(r.samples, 3);
    assert_int_equal(r.answered_first_try, 1);
    assert_int_equal(r.answered_retry, 2);
    assert_int_equal(r.timeouts, 1);
}

static void test_negative_sample_clamped(void **state)
{
    vg_rtt r;
    (void)state;
    vg_rtt_init(&r);
    vg_rtt_sample(&r, -5, 1);
    assert_int_equal(r.srtt_us, 0);
    assert_int_equal(vg_rtt_timeout_us(&r, &lim), 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial),
        cmocka_unit_test(test_first_sample),
        cmocka_unit_test(test_smoothing),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_negative_sample_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
