/* SPDX-License-Identifier: MIT */
/* vglink's pure parts: impairment specs, the RNG, the shaper (token bucket
 * with a bounded FIFO queue), the impairment path and the delay line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vglink_core.h"

#define MS 1000000ull

static void test_parse_full(void **state)
{
    struct vgl_dir_opts o;
    char err[256];
    (void)state;
    assert_int_equal(vgl_parse_dir("delay=25.5,jitter=2,loss=2,rate=50000,queue=64,reorder", &o,
                                   err, sizeof(err)), 0);
    assert_true(o.delay_ms == 25.5);
    assert_true(o.jitter_ms == 2);
    assert_true(o.loss_pct == 2);
    assert_int_equal(o.rate_pps, 50000);
    assert_int_equal(o.queue, 64);
    assert_true(o.reorder);
    char buf[160];
    vgl_format_dir(&o, buf, sizeof(buf));
    assert_string_equal(buf, "delay=25.5,jitter=2,loss=2,rate=50000,queue=64,reorder");
}

static void test_parse_empty_and_defaults(void **state)
{
    struct vgl_dir_opts o;
    char err[256];
    (void)state;
    assert_int_equal(vgl_parse_dir("", &o, err, sizeof(err)), 0);
    assert_true(o.delay_ms == 0 && o.loss_pct == 0 && o.rate_pps == 0 && !o.reorder);
    assert_int_equal(vgl_parse_dir("none", &o, err, sizeof(err)), 0);
    assert_int_equal(o.rate_pps, 0);
    /* a rate without a queue gets the default queue of 64 */
    assert_int_equal(vgl_parse_dir("rate=1000", &o, err, sizeof(err)), 0);
    assert_int_equal(o.queue, 64);
}

static void test_parse_errors(void **state)
{
    struct vgl_dir_opts o;
    char err[256];
    (void)state;
    const char *bad[] = {"delay=", "delay=abc", "delay=-1", "loss=101", "loss=2x", "rate=0",
                         "rate=1.5", "queue=10", "speed=3", "reorder", "delay=10,,bogus",
                         "jitter=nan"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(vgl_parse_dir(bad[i], &o, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(vgl_parse_dir("speed=3", &o, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "speed"));
}

static void test_rng_seeded(void **state)
{
    struct vgl_rng a, b, c;
    (void)state;
    vgl_rng_seed(&a, 42);
    vgl_rng_seed(&b, 42);
    vgl_rng_seed(&c, 43);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = vgl_rng_next(&a);
        assert_true(x == vgl_rng_next(&b));
        same_c += x == vgl_rng_next(&c);
    }
    assert_int_equal(same_c, 0);
}

/* A burst arriving at once: the bucket's 2 tokens plus the queue go, the
 * rest is tail-dropped; departures after the burst are 1/rate apart. */
static void test_shaper_burst(void **state)
{
    struct vgl_shaper s;
    (void)state;
    vgl_shaper_init(&s, 1000, 10, 2); /* 1 ms per packet */
    uint64_t now = 5 * VGL_NS_PER_SEC, dep[100];
    int admitted = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t d;
        if (vgl_shaper_admit(&s, now, &d))
            dep[admitted++] = d;
    }
    assert_int_equal(admitted, 2 + 10);
    assert_true(dep[0] == now && dep[1] == now);
    for (int i = 2; i < admitted; i++)
        assert_true(dep[i] == now + (uint64_t)(i - 1) * MS);
    /* once the queue has drained, a new packet goes at once */
    uint64_t d;
    uint64_t later = now + 20 * MS;
    assert_true(vgl_shaper_admit(&s, later, &d));
    assert_true(d == later);
}

/* Offered twice the rate for one second: about the rate gets through, and
 * any n consecutive departures span at least (n - burst) intervals. */
static uint64_t deps[60000];

static void test_shaper_long_run(void **state)
{
    struct vgl_shaper s;
    (void)state;
    vgl_shaper_init(&s, 50000, 64, 2);
    uint64_t t0 = VGL_NS_PER_SEC;
    int admitted = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t now = t0 + (uint64_t)i * 10000; /* 100k pps offered */
        uint64_t d;
        if (vgl_shaper_admit(&s, now, &d)) {
            assert_true(d >= now);
            assert_true(d - now <= 64 * 20000ull); /* never waits beyond the queue */
            assert_true(admitted < 60000);
            deps[admitted++] = d;
        }
    }
    assert_in_range(admitted, 50000, 50000 + 2 + 64 + 1);
    for (int k = 1; k < admitted; k++)
        assert_true(deps[k] >= deps[k - 1]);
    for (int k = 100; k < admitted; k++)
        assert_true(deps[k] - deps[k - 100] >= 99 * 20000ull);
}

static void test_path_delay_fifo(void **state)
{
    struct vgl_dir_opts o;
    char err[128];
    struct vgl_path p;
    (void)state;
    assert_int_equal(vgl_parse_dir("delay=25,jitter=5", &o, err, sizeof(err)), 0);
    vgl_path_init(&p, &o, 7);
    uint64_t prev = 0;
    int bumped = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t now = VGL_NS_PER_SEC + (uint64_t)i * 100000; /* 10k pps */
        uint64_t rel;
        assert_int_equal(vgl_path_admit(&p, now, &rel), VGL_PASS);
        assert_true(rel >= now + 25 * MS);
        /* FIFO without reorder: never before the previous frame */
        assert_true(rel >= prev);
        if (rel >= now + 30 * MS)
            bumped++; /* held back behind an earlier, more jittered frame */
        prev = rel;
    }
    assert_true(bumped < 10000);
}

static void test_path_reorder(void **state)
{
    struct vgl_dir_opts o;
    char err[128];
    struct vgl_path p;
    (void)state;
    assert_int_equal(vgl_parse_dir("delay=1,jitter=5,reorder", &o, err, sizeof(err)), 0);
    vgl_path_init(&p, &o, 7);
    uint64_t prev = 0;
    int out_of_order = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t now = VGL_NS_PER_SEC + (uint64_t)i * 100000;
        uint64_t rel;
        assert_int_equal(vgl_path_admit(&p, now, &rel), VGL_PASS);
        assert_true(rel >= now + 1 * MS && rel < now + 6 * MS);
        out_of_order += rel < prev;
        prev = rel;
    }
    assert_true(out_of_order > 100);
}

static void test_path_loss(void **state)
{
    struct vgl_dir_opts o;
    char err[128];
    struct vgl_path p, q;
    (void)state;
    assert_int_equal(vgl_parse_dir("loss=2", &o, err, sizeof(err)), 0);
    vgl_path_init(&p, &o, 99);
    vgl_path_init(&q, &o, 99);
    int lost = 0, n = 200000;
    for (int i = 0; i < n; i++) {
        uint64_t r1, r2;
        enum vgl_verdict v = vgl_path_admit(&p, (uint64_t)i, &r1);
        assert_int_equal(v, vgl_path_admit(&q, (uint64_t)i, &r2)); /* same seed, same drops */
        lost += v == VGL_DROP_LOSS;
    }
    /* 2 % of 200,000 = 4000, sigma ~ 63: within 6 sigma */
    assert_in_range(lost, 4000 - 380, 4000 + 380);
    assert_int_equal(vgl_parse_dir("loss=100", &o, err, sizeof(err)), 0);
    vgl_path_init(&p, &o, 1);
    for (int i = 0; i < 1000; i++) {
        uint64_t r;
        assert_int_equal(vgl_path_admit(&p, 0, &r), VGL_DROP_LOSS);
    }
}

static void test_path_cap_drops_queue(void **state)
{
    struct vgl_dir_opts o;
    char err[128];
    struct vgl_path p;
    (void)state;
    assert_int_equal(vgl_parse_dir("delay=10,rate=1000,queue=4", &o, err, sizeof(err)), 0);
    vgl_path_init(&p, &o, 1);
    int pass = 0, qdrop = 0;
    for (int i = 0; i < 50; i++) {
        uint64_t r;
        enum vgl_verdict v = vgl_path_admit(&p, VGL_NS_PER_SEC, &r);
        if (v == VGL_PASS) {
            assert_true(r >= VGL_NS_PER_SEC + 10 * MS);
            pass++;
        }
        qdrop += v == VGL_DROP_QUEUE;
    }
    assert_int_equal(pass, 6);
    assert_int_equal(qdrop, 44);
}

static void fill(struct vgl_line *l, uint64_t rel, unsigned char tag)
{
    struct vgl_slot *s = vgl_line_reserve(l);
    assert_non_null(s);
    memset(s->data, tag, 60);
    vgl_line_commit(l, s, rel, 60);
}

static void test_line_ring(void **state)
{
    struct vgl_line l;
    (void)state;
    assert_int_equal(vgl_line_init(&l, 4, 1518, false), 0);
    assert_null(vgl_line_peek(&l));
    for (unsigned char i = 0; i < 4; i++)
        fill(&l, 100 + i, i);
    assert_null(vgl_line_reserve(&l)); /* full */
    /* reserving without committing (a dropped frame) changes nothing */
    vgl_line_pop(&l);
    assert_non_null(vgl_line_reserve(&l));
    assert_int_equal(l.count, 3);
    fill(&l, 200, 9); /* wraps around */
    unsigned char want[] = {1, 2, 3, 9};
    for (int i = 0; i < 4; i++) {
        struct vgl_slot *s = vgl_line_peek(&l);
        assert_non_null(s);
        assert_int_equal(s->data[0], want[i]);
        assert_int_equal(s->data[59], want[i]);
        assert_int_equal(s->len, 60);
        vgl_line_pop(&l);
    }
    assert_null(vgl_line_peek(&l));
    vgl_line_free(&l);
}

static void test_line_heap(void **state)
{
    struct vgl_line l;
    (void)state;
    assert_int_equal(vgl_line_init(&l, 64, 1518, true), 0);
    uint64_t times[] = {50, 10, 40, 10, 30, 20, 60, 5};
    for (unsigned char i = 0; i < 8; i++)
        fill(&l, times[i], i);
    /* by time, ties by arrival: 5(7) 10(1) 10(3) 20(5) 30(4) ... 40(2) 50(0) 60(6) */
    /* after four pops a frame due at 35 arrives and goes between 30 and 40 */
    unsigned char want[] = {7, 1, 3, 5, 4, 100, 2, 0, 6};
    for (int i = 0; i < 9; i++) {
        struct vgl_slot *s = vgl_line_peek(&l);
        assert_non_null(s);
        assert_int_equal(s->data[0], want[i]);
        vgl_line_pop(&l);
        if (i == 3) { /* slots are reused while others wait */
            fill(&l, 35, 100);
        }
    }
    struct vgl_slot *s = vgl_line_peek(&l);
    assert_null(s);
    vgl_line_free(&l);
}

/* Many frames through a small heap, interleaved with releases: every
 * frame comes out once, in time order. */
static void test_line_heap_churn(void **state)
{
    struct vgl_line l;
    struct vgl_rng r;
    (void)state;
    assert_int_equal(vgl_line_init(&l, 32, 64, true), 0);
    vgl_rng_seed(&r, 5);
    uint64_t now = 0, last = 0;
    int in = 0, out = 0;
    while (out < 5000) {
        while (in < 5000 && l.count < 32 && vgl_rng_next(&r) % 3 != 0) {
            struct vgl_slot *s = vgl_line_reserve(&l);
            vgl_line_commit(&l, s, now + vgl_rng_next(&r) % 100, 8);
            in++;
        }
        now += 10;
        struct vgl_slot *s;
        while ((s = vgl_line_peek(&l)) != NULL && s->release_ns <= now) {
            assert_true(s->release_ns >= last);
            last = s->release_ns;
            vgl_line_pop(&l);
            out++;
        }
    }
    assert_int_equal(in, 5000);
    assert_int_equal(l.count, 0);
    vgl_line_free(&l);
}

static void test_wlog_moves_answers_of_late_writes_back(void **state)
{
    (void)state;
    static struct vgl_wlog l;
    memset(&l, 0, sizeof(l));
    /* Nothing written yet: times stay. */
    assert_int_equal(vgl_wlog_adjust(&l, 5000, 200), 5000);
    /* Due at 1000, 1020, 1040 but written at 3000, 3100, 3200 (a held-back
     * writer); then one on time. */
    vgl_wlog_add(&l, 1000, 3000);
    vgl_wlog_add(&l, 1020, 3100);
    vgl_wlog_add(&l, 1040, 3200);
    vgl_wlog_add(&l, 4000, 4000);
    /* An answer made in a write is moved back by that write's lateness. */
    assert_int_equal(vgl_wlog_adjust(&l, 3100 + 5, 200), 1020 + 5);
    assert_int_equal(vgl_wlog_adjust(&l, 3200 + 7, 200), 1040 + 7);
    /* Too long after the write to be its answer; after an on-time write;
     * before any write. */
    assert_int_equal(vgl_wlog_adjust(&l, 3200 + 500, 200), 3700);
    assert_int_equal(vgl_wlog_adjust(&l, 4010, 200), 4010);
    assert_int_equal(vgl_wlog_adjust(&l, 2000, 200), 2000);
    /* The log wraps: only the newest entries count. */
    for (uint64_t i = 0; i < 2 * VGL_WLOG_SIZE; i++)
        vgl_wlog_add(&l, 10000 + i, 10000 + i);
    assert_int_equal(vgl_wlog_adjust(&l, 3100 + 5, 200), 3105);
    vgl_wlog_add(&l, 20000, 90000);
    assert_int_equal(vgl_wlog_adjust(&l, 90100, 200), 20100);
}

/* An ethernet frame: 14-byte header, then the network layer. */
static size_t frame(unsigned char *f, unsigned ethertype, const unsigned char *l3, size_t n)
{
    memset(f, 0, 14);
    f[12] = (unsigned char)(ethertype >> 8);
    f[13] = (unsigned char)ethertype;
    memcpy(f + 14, l3, n);
    return 14 + n;
}

static void test_frame_is_answer(void **state)
{
    (void)state;
    unsigned char f[128], ip4[40], ip6[60];
    memset(ip4, 0, sizeof(ip4));
    ip4[0] = 0x45;
    ip4[9] = 6;
    ip4[20 + 13] = 0x12; /* SYN+ACK */
    assert_true(vgl_frame_is_answer(f, frame(f, 0x0800, ip4, 40)));
    ip4[20 + 13] = 0x14; /* RST+ACK */
    assert_true(vgl_frame_is_answer(f, frame(f, 0x0800, ip4, 40)));
    ip4[20 + 13] = 0x02; /* SYN: a probe */
    assert_false(vgl_frame_is_answer(f, frame(f, 0x0800, ip4, 40)));
    ip4[20 + 13] = 0x10; /* ACK */
    assert_false(vgl_frame_is_answer(f, frame(f, 0x0800, ip4, 40)));
    ip4[9] = 1;
    ip4[20] = 3; /* ICMP unreachable */
    assert_true(vgl_frame_is_answer(f, frame(f, 0x0800, ip4, 28)));
    ip4[20] = 8; /* echo request */
    assert_false(vgl_frame_is_answer(f, frame(f, 0x0800, ip4, 28)));
    memset(ip6, 0, sizeof(ip6));
    ip6[0] = 0x60;
    ip6[6] = 6;
    ip6[40 + 13] = 0x04;
    assert_true(vgl_frame_is_answer(f, frame(f, 0x86dd, ip6, 60)));
    ip6[6] = 58;
    ip6[40] = 128; /* echo request */
    assert_false(vgl_frame_is_answer(f, frame(f, 0x86dd, ip6, 48)));
    ip6[40] = 136; /* neighbour advertisement */
    assert_true(vgl_frame_is_answer(f, frame(f, 0x86dd, ip6, 48)));
    unsigned char arp[28] = {0, 1, 8, 0, 6, 4, 0, 2};
    assert_true(vgl_frame_is_answer(f, frame(f, 0x0806, arp, 28)));
    arp[7] = 1; /* request */
    assert_false(vgl_frame_is_answer(f, frame(f, 0x0806, arp, 28)));
    /* Short and truncated frames are not answers. */
    assert_false(vgl_frame_is_answer(f, 10));
    ip4[0] = 0x45;
    ip4[9] = 6;
    assert_false(vgl_frame_is_answer(f, frame(f, 0x0800, ip4, 20)));
}

static void test_line_size(void **state)
{
    (void)state;
    /* 300 ms at 150k pps = 45,000 frames, plus queue and slack */
    assert_int_equal(vgl_line_size_for(300, 0, 150000, 64), 45000 + 64 + 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_empty_and_defaults),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_rng_seeded),
        cmocka_unit_test(test_shaper_burst),
        cmocka_unit_test(test_shaper_long_run),
        cmocka_unit_test(test_path_delay_fifo),
        cmocka_unit_test(test_path_reorder),
        cmocka_unit_test(test_path_loss),
        cmocka_unit_test(test_path_cap_drops_queue),
        cmocka_unit_test(test_line_ring),
        cmocka_unit_test(test_line_heap),
        cmocka_unit_test(test_line_heap_churn),
        cmocka_unit_test(test_line_size),
        cmocka_unit_test(test_wlog_moves_answers_of_late_writes_back),
        cmocka_unit_test(test_frame_is_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
