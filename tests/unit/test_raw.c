/* SPDX-License-Identifier: MIT */
/* The raw engine's arithmetic: the pacing of a fixed --rate (held within
 * 5% over every second), and the walk as --dry-run prints it (every
 * (target, port) exactly once, shards partition it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "engine/scan_internal.h"

/* A path paced at a fixed rate (--min-rate = --max-rate). */
static void bucket(vg_path *p, double rate)
{
    vg_path_params prm = {.initial_rate = rate, .min_rate = rate, .max_rate = rate,
                          .fixed = true};
    vg_path_init(p, &prm, 0);
}

/* Simulates a sender that asks for `want` probes, then polls again after
 * step_us, or after the pacing's wait hint when it got nothing (as the
 * engine's loop does); returns what each second got. */
static void simulate(double rate, unsigned want, uint64_t step_us, int seconds, uint64_t *per_s)
{
    static vg_path w;
    uint64_t wait, now = 0;
    bucket(&w, rate);
    memset(per_s, 0, sizeof(*per_s) * (size_t)seconds);
    while(now < (uint64_t)seconds * 1000000) {
        unsigned got = vg_path_take(&w, now, want, &wait);
        assert_true(got <= want);
        per_s[now / 1000000] += got;
        if(!got) {
            assert_true(wait > 0);
            now += wait > step_us ? wait : step_us;
        }
        else
            now += step_us;
    }
}

static void test_rate_within_five_percent(void **state)
{
    static const double rates[] = {10, 100, 2000, 10000, 100000, 1000000};
    uint64_t per_s[4];
    (void)state;
    for(size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        double r = rates[i];
        /* Greedy batches of 64 polled every 50 us, and single probes every
         * millisecond: both pace to the rate. */
        simulate(r, 64, 50, 4, per_s);
        for(int s = 1; s < 4; s++) {
            if((double)per_s[s] < r * 0.95 || (double)per_s[s] > r * 1.05)
                fail_msg("rate %.0f, second %d: %llu probes", r, s,
                         (unsigned long long)per_s[s]);
        }
        if(r <= 1000) {
            simulate(r, 1, 1000, 4, per_s);
            for(int s = 1; s < 4; s++)
                assert_true((double)per_s[s] >= r * 0.95 && (double)per_s[s] <= r * 1.05);
        }
    }
}

static void test_rate_wait_hint(void **state)
{
    static vg_path w;
    uint64_t wait;
    (void)state;
    bucket(&w, 1000); /* one token per ms, burst 8 */
    assert_int_equal(vg_path_take(&w, 0, 100, &wait), 1);
    assert_int_equal(vg_path_take(&w, 0, 100, &wait), 0);
    /* The next token is about 1 ms away. */
    assert_true(wait >= 900 && wait <= 1100);
    /* A long pause refills only the burst, not a second's worth. */
    assert_int_equal(vg_path_take(&w, 5000000, 1000, &wait), 8);
}

static void test_walk_covers_everything_once(void **state)
{
    vg_error err = {0};
    (void)state;
    vg_targets *t = vg_targets_new();
    vg_ports *p = vg_ports_new();
    assert_int_equal(vg_targets_add(t, "198.18.0.0/29", NULL, &err), 0);
    assert_int_equal(vg_targets_add(t, "2001:db8::/126", NULL, &err), 0);
    vg_resolve_opts ro = {0};
    assert_int_equal(vg_targets_finalize(t, &ro, &err), 0);
    assert_int_equal(vg_ports_add(p, "1-300,443,65535", &err), 0);
    uint64_t nt = vg_targets_count(t), np = vg_ports_count(p), total = nt * np;
    uint8_t *seen = calloc(total, 1);
    assert_non_null(seen);

    for(uint32_t shards = 1; shards <= 5; shards++) {
        memset(seen, 0, total);
        for(uint32_t s = 0; s < shards; s++) {
            vg_scan_opts o;
            vg_scan *scan;
            vg_scan_stats st;
            vg_scan_opts_default(&o);
            o.engine = VG_ENGINE_SYN;
            o.seed = 99;
            o.shard_index = s;
            o.shard_count = shards;
            o.threads = 1;
            assert_int_equal(vg_scan_new(&scan, t, p, &o, &err), 0);
            assert_string_equal(vg_scan_engine_name(scan), "syn");
            vg_scan_get_stats(scan, &st);
            for(uint64_t i = 0; i < st.total; i++) {
                vg_addr a;
                uint16_t port;
                vg_scan_probe_at(scan, i, &a, &port);
                /* Find the element's index: target by search, port by rank. */
                uint64_t ti = nt;
                for(uint64_t k = 0; k < nt; k++) {
                    vg_addr b;
                    vg_targets_get(t, k, &b);
                    if(!vg_addr_cmp(&a, &b))
                        ti = k;
                }
                assert_true(ti < nt);
                uint64_t pi = np;
                for(uint64_t k = 0; k < np; k++) {
                    if(vg_ports_get(p, k) == port)
                        pi = k;
                }
                assert_true(pi < np);
                assert_int_equal(seen[ti * np + pi], 0);
                seen[ti * np + pi] = 1;
            }
            vg_scan_free(scan);
        }
        for(uint64_t i = 0; i < total; i++)
            assert_int_equal(seen[i], 1);
    }
    free(seen);
    vg_targets_free(t);
    vg_ports_free(p);
}


/* The targets and ports of the mixed-protocol tests. */
static void mixed_setup(vg_targets **t, vg_ports **p, const char *spec)
{
    vg_error err = {0};
    vg_resolve_opts ro = {0};
    *t = vg_targets_new();
    *p = vg_ports_new();
    assert_int_equal(vg_targets_add(*t, "198.18.0.0/30", NULL, &err), 0);
    assert_int_equal(vg_targets_add(*t, "2001:db8::1", NULL, &err), 0);
    assert_int_equal(vg_targets_finalize(*t, &ro, &err), 0);
    assert_int_equal(vg_ports_add(*p, spec, &err), 0);
}

/* -sS -sU: every (target, port, protocol) entry is walked exactly once,
 * over all shards: ports without a prefix over both protocols, T: over
 * TCP, U: over UDP; the total counts entries, not port numbers. */
static void test_walk_mixed_protocols(void **state)
{
    (void)state;
    vg_error err = {0};
    vg_targets *t;
    vg_ports *p;
    mixed_setup(&t, &p, "22,80,T:443,8080,U:53,161-162");
    uint64_t nt = vg_targets_count(t);
    /* TCP: 22 80 443 8080; UDP: 22 80 53 161 162. */
    const uint16_t tcp[] = {22, 80, 443, 8080}, udp[] = {22, 53, 80, 161, 162};
    uint64_t ne = 4 + 5;
    uint8_t *seen = calloc(nt * 65536 * 2, 1);
    assert_non_null(seen);

    for(uint32_t shards = 1; shards <= 3; shards++) {
        uint64_t sum = 0;
        memset(seen, 0, nt * 65536 * 2);
        for(uint32_t sh = 0; sh < shards; sh++) {
            vg_scan_opts o;
            vg_scan *scan;
            vg_scan_stats st;
            vg_scan_opts_default(&o);
            o.engine = VG_ENGINE_SYN_UDP;
            o.shard_index = sh;
            o.shard_count = shards;
            assert_int_equal(vg_scan_new(&scan, t, p, &o, &err), 0);
            uint64_t ntcp, nudp;
            vg_scan_port_counts(scan, &ntcp, &nudp);
            assert_int_equal(ntcp, 4);
            assert_int_equal(nudp, 5);
            vg_scan_get_stats(scan, &st);
            sum += st.total;
            for(uint64_t i = 0; i < st.total; i++) {
                vg_addr a;
                uint16_t port;
                uint8_t proto;
                vg_scan_probe_at_proto(scan, i, &a, &port, &proto);
                uint64_t ti = nt;
                for(uint64_t k = 0; k < nt; k++) {
                    vg_addr b;
                    vg_targets_get(t, k, &b);
                    if(!vg_addr_cmp(&a, &b))
                        ti = k;
                }
                assert_true(ti < nt);
                assert_true(proto == IPPROTO_TCP || proto == IPPROTO_UDP);
                size_t at = (size_t)((ti * 65536 + port) * 2 + (proto == IPPROTO_UDP));
                assert_int_equal(seen[at], 0);
                seen[at] = 1;
            }
            vg_scan_free(scan);
        }
        assert_int_equal(sum, nt * ne);
        for(uint64_t ti = 0; ti < nt; ti++) {
            for(size_t k = 0; k < 4; k++)
                assert_int_equal(seen[(ti * 65536 + tcp[k]) * 2], 1);
            for(size_t k = 0; k < 5; k++)
                assert_int_equal(seen[(ti * 65536 + udp[k]) * 2 + 1], 1);
        }
    }
    free(seen);
    vg_targets_free(t);
    vg_ports_free(p);
}

/* Each engine walks its protocol's view; prefixed ports it cannot probe
 * are an error, not silently dropped. */
static void test_engine_port_views(void **state)
{
    (void)state;
    vg_error err = {0};
    vg_targets *t;
    vg_ports *p;
    vg_scan *scan;
    vg_scan_opts o;
    uint64_t ntcp, nudp;

    mixed_setup(&t, &p, "22,T:80");
    vg_scan_opts_default(&o);
    o.engine = VG_ENGINE_SYN;
    assert_int_equal(vg_scan_new(&scan, t, p, &o, &err), 0);
    vg_scan_port_counts(scan, &ntcp, &nudp);
    assert_int_equal(ntcp, 2);
    assert_int_equal(nudp, 0);
    vg_scan_free(scan);
    o.engine = VG_ENGINE_UDP;
    assert_int_equal(vg_scan_new(&scan, t, p, &o, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "T: (TCP) ports need a TCP scan"));
    vg_targets_free(t);
    vg_ports_free(p);

    mixed_setup(&t, &p, "22,U:53");
    for(int e = VG_ENGINE_CONNECT; e <= VG_ENGINE_SYN; e++) {
        o.engine = e;
        assert_int_equal(vg_scan_new(&scan, t, p, &o, &err), VG_EINVAL);
        assert_non_null(strstr(err.msg, "U: (UDP) ports need a UDP scan"));
    }
    o.engine = VG_ENGINE_UDP;
    assert_int_equal(vg_scan_new(&scan, t, p, &o, &err), 0);
    vg_scan_port_counts(scan, &ntcp, &nudp);
    assert_int_equal(ntcp, 0);
    assert_int_equal(nudp, 2);
    vg_scan_free(scan);
    vg_targets_free(t);
    vg_ports_free(p);
}

/* The library picks the thread count: one worker per CPU for the raw
 * engines, two per CPU for connect, at most 4, never more than probes. */
static void test_default_threads(void **state)
{
    (void)state;
    vg_error err = {0};
    vg_targets *t;
    vg_ports *p;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if(ncpu < 1)
        ncpu = 1;
    mixed_setup(&t, &p, "1-1000");
    const int engines[] = {VG_ENGINE_CONNECT, VG_ENGINE_SYN, VG_ENGINE_UDP, VG_ENGINE_SYN_UDP,
                           VG_ENGINE_PING};
    for(size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
        vg_scan_opts o;
        vg_scan *scan;
        vg_scan_stats st;
        vg_scan_opts_default(&o);
        o.engine = engines[i];
        o.concurrency = 1000;
        assert_int_equal(vg_scan_new(&scan, t, p, &o, &err), 0);
        vg_scan_get_stats(scan, &st);
        long per_cpu = engines[i] == VG_ENGINE_CONNECT ? 2 : 1;
        long want = per_cpu * ncpu > 4 ? 4 : per_cpu * ncpu;
        assert_int_equal(st.threads, want);
        vg_scan_free(scan);
    }
    vg_targets_free(t);
    vg_ports_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_within_five_percent),
        cmocka_unit_test(test_rate_wait_hint),
        cmocka_unit_test(test_walk_covers_everything_once),
        cmocka_unit_test(test_walk_mixed_protocols),
        cmocka_unit_test(test_engine_port_views),
        cmocka_unit_test(test_default_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
