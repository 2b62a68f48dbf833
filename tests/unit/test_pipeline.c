/* SPDX-License-Identifier: MIT */
/* The scan pipeline through its public API alone (vigia/pipeline.h and
 * the headers it includes): a connect scan of ports this test opens on
 * 127.0.0.1; with raw privileges a SYN scan after host discovery, a stop
 * during discovery, discovery alone and proof of life from port answers,
 * all on loopback; the walk a dry run would list; and scan --check against
 * a banner listener and a silent one run by this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vigia/pipeline.h"

/* Ports of the test: 0 listens, 1 is bound but not listening (closed). */
struct ports2 {
    int fd[2];
    uint16_t port[2];
    char spec[32];
};

/* Binds 127.0.0.1 on a free port; listens when asked. */
static int open_port(bool listening, uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if(listening)
        assert_int_equal(listen(fd, 128), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void ports2_open(struct ports2 *p)
{
    p->fd[0] = open_port(true, &p->port[0]);
    p->fd[1] = open_port(false, &p->port[1]);
    snprintf(p->spec, sizeof(p->spec), "%u,%u", p->port[0], p->port[1]);
}

static void ports2_close(struct ports2 *p)
{
    close(p->fd[0]);
    close(p->fd[1]);
}

/* What the callbacks saw, in order. */
#define MAX_SEEN 1024
struct seen {
    unsigned nport, nhost, ndiscovered;
    unsigned port_before_host; /* port records that came before any host record */
    vg_result port[MAX_SEEN];
    vg_result host[MAX_SEEN];
    bool has_chk[MAX_SEEN];
    char chk_kind[MAX_SEEN][16];
    int chk_state[MAX_SEEN];
    char chk_msg[MAX_SEEN][256];
    uint64_t up, down;
};

static void on_host(const vg_result *res, void *ud)
{
    struct seen *s = ud;
    assert_true(s->nhost < MAX_SEEN);
    s->host[s->nhost++] = *res;
}

static void on_port(const vg_result *res, const vg_check_result *chk, void *ud)
{
    struct seen *s = ud;
    unsigned i = s->nport++;
    assert_true(i < MAX_SEEN);
    if(!s->nhost)
        s->port_before_host++;
    s->port[i] = *res;
    s->has_chk[i] = chk != NULL;
    if(chk) {
        snprintf(s->chk_kind[i], sizeof(s->chk_kind[i]), "%s", chk->kind);
        s->chk_state[i] = chk->state;
        snprintf(s->chk_msg[i], sizeof(s->chk_msg[i]), "%.255s", chk->message);
    }
}

static void on_discovered(uint64_t up, uint64_t down, double elapsed_s, void *ud)
{
    struct seen *s = ud;
    assert_true(elapsed_s >= 0);
    s->ndiscovered++;
    s->up = up;
    s->down = down;
}

static vg_targets *targets_of(const char *spec)
{
    vg_error err = {0};
    vg_resolve_opts ro = {0};
    vg_targets *t = vg_targets_new();
    assert_non_null(t);
    assert_int_equal(vg_targets_add(t, spec, "test", &err), VG_OK);
    assert_int_equal(vg_targets_finalize(t, &ro, &err), VG_OK);
    return t;
}

static vg_ports *ports_of(const char *spec)
{
    vg_error err = {0};
    vg_ports *p = vg_ports_new();
    assert_non_null(p);
    assert_int_equal(vg_ports_add(p, spec, &err), VG_OK);
    return p;
}

/* Polls to the end (bounded: 30 s); the phases seen, as bits. */
static unsigned run_to_end(vg_pipeline *p)
{
    vg_error err = {0};
    unsigned phases = 1u << vg_pipeline_phase(p);
    for(int i = 0; i < 3000; i++) {
        int rc = vg_pipeline_poll(p, 10, &err);
        assert_true(rc >= 0);
        phases |= 1u << vg_pipeline_phase(p);
        if(rc == 1) {
            assert_int_equal(vg_pipeline_phase(p), VG_PIPELINE_DONE);
            return phases;
        }
    }
    fail_msg("the pipeline did not end within 30 s");
    return 0;
}

static const vg_result *port_record(const struct seen *s, uint16_t port, unsigned *idx)
{
    for(unsigned i = 0; i < s->nport; i++) {
        if(s->port[i].port == port) {
            if(idx)
                *idx = i;
            return &s->port[i];
        }
    }
    return NULL;
}

static void test_connect_scan(void **state)
{
    (void)state;
    struct ports2 pp;
    struct seen s = {0};
    vg_error err = {0};
    vg_pipeline *p = NULL;
    ports2_open(&pp);
    vg_targets *t = targets_of("127.0.0.1");
    vg_ports *ports = ports_of(pp.spec);
    vg_pipeline_opts o;
    vg_pipeline_opts_default(&o);
    o.scan.engine = VG_ENGINE_CONNECT;
    vg_pipeline_cb cb = {.host = on_host, .port = on_port, .discovered = on_discovered, .ud = &s};

    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    assert_int_equal(vg_pipeline_phase(p), VG_PIPELINE_IDLE);
    assert_string_equal(vg_scan_engine_name(vg_pipeline_scan(p)), "connect");
    assert_int_equal(vg_pipeline_prepare(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_poll(p, 0, &err), VG_EINVAL); /* not started */
    assert_int_equal(vg_pipeline_start(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_phase(p), VG_PIPELINE_SCAN); /* connect: no discovery */
    assert_int_not_equal(vg_pipeline_start(p, &err), VG_OK);
    unsigned phases = run_to_end(p);
    assert_false(phases & (1u << VG_PIPELINE_DISCOVERY));
    assert_false(phases & (1u << VG_PIPELINE_CHECKS));

    assert_int_equal(s.nport, 2);
    assert_int_equal(s.nhost, 0);
    assert_int_equal(s.ndiscovered, 0);
    const vg_result *r0 = port_record(&s, pp.port[0], NULL);
    const vg_result *r1 = port_record(&s, pp.port[1], NULL);
    assert_non_null(r0);
    assert_non_null(r1);
    assert_int_equal(r0->state, VG_STATE_OPEN);
    assert_int_equal(r1->state, VG_STATE_CLOSED);
    assert_false(s.has_chk[0] || s.has_chk[1]);

    vg_scan_stats st;
    vg_pipeline_get_stats(p, &st);
    assert_int_equal(st.total, 2);
    assert_int_equal(st.done, 2);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.skipped, 0);
    uint64_t counts[4];
    assert_false(vg_pipeline_check_counts(p, counts));
    assert_int_equal(vg_pipeline_held(p), 0);
    vg_pipeline_free(p);
    vg_ports_free(ports);
    vg_targets_free(t);
    ports2_close(&pp);
}

/* What --dry-run lists: the port scan's walk, every (target, port) once;
 * no discovery in it, and nothing opened or sent. */
static void test_dry_walk(void **state)
{
    (void)state;
    struct seen s = {0};
    vg_error err = {0};
    vg_pipeline *p = NULL;
    vg_targets *t = targets_of("127.0.0.1-127.0.0.3");
    vg_ports *ports = ports_of("7,9");
    vg_pipeline_opts o;
    vg_pipeline_opts_default(&o);
    o.scan.engine = VG_ENGINE_SYN;
    o.no_discovery = true;
    vg_pipeline_cb cb = {.host = on_host, .port = on_port, .ud = &s};

    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    vg_scan *scan = vg_pipeline_scan(p);
    assert_string_equal(vg_scan_engine_name(scan), "syn");
    vg_scan_stats st;
    vg_scan_get_stats(scan, &st);
    assert_int_equal(st.total, 6);
    unsigned seen_mask = 0;
    for(uint64_t i = 0; i < st.total; i++) {
        vg_addr a;
        uint16_t port;
        uint8_t proto;
        char buf[VG_ADDR_STRLEN];
        vg_scan_probe_at_proto(scan, i, &a, &port, &proto);
        vg_addr_format(&a, buf, sizeof(buf));
        assert_int_equal(proto, IPPROTO_TCP);
        assert_true(port == 7 || port == 9);
        assert_int_equal(strncmp(buf, "127.0.0.", 8), 0);
        unsigned host = (unsigned)(buf[8] - '1');
        assert_true(host < 3 && buf[9] == 0);
        seen_mask |= 1u << (host * 2 + (port == 9));
    }
    assert_int_equal(seen_mask, 0x3f);
    vg_pipeline_free(p);
    assert_int_equal(s.nport + s.nhost, 0);

    /* With discovery asked for, the walk is still the port scan's. */
    o.no_discovery = false;
    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    assert_string_equal(vg_scan_engine_name(vg_pipeline_scan(p)), "syn");
    vg_pipeline_free(p);

    /* Checks need a port scan. */
    o.scan.engine = VG_ENGINE_PING;
    o.check = true;
    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_EINVAL);
    assert_null(p);
    vg_ports_free(ports);
    vg_targets_free(t);
}

static bool raw_or_skip(void)
{
    if(!vg_have_raw_privileges()) {
        skip();
        return false;
    }
    return true;
}

/* Discovery finds 127.0.0.1 up (a host record before any port record),
 * says so through `discovered`, and the SYN scan of its ports follows. */
static void test_syn_after_discovery(void **state)
{
    (void)state;
    if(!raw_or_skip())
        return;
    struct ports2 pp;
    struct seen s = {0};
    vg_error err = {0};
    vg_pipeline *p = NULL;
    ports2_open(&pp);
    vg_targets *t = targets_of("127.0.0.1");
    vg_ports *ports = ports_of(pp.spec);
    vg_pipeline_opts o;
    vg_pipeline_opts_default(&o);
    o.scan.engine = VG_ENGINE_SYN;
    vg_pipeline_cb cb = {.host = on_host, .port = on_port, .discovered = on_discovered, .ud = &s};

    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    assert_int_equal(vg_pipeline_prepare(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_start(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_phase(p), VG_PIPELINE_DISCOVERY);
    unsigned phases = run_to_end(p);
    assert_true(phases & (1u << VG_PIPELINE_SCAN));

    assert_int_equal(s.nhost, 1);
    assert_int_equal(s.host[0].state, VG_STATE_OPEN);
    assert_int_equal(s.port_before_host, 0);
    assert_int_equal(s.ndiscovered, 1);
    assert_int_equal(s.up, 1);
    assert_int_equal(s.down, 0);
    assert_int_equal(s.nport, 2);
    assert_int_equal(port_record(&s, pp.port[0], NULL)->state, VG_STATE_OPEN);
    assert_int_equal(port_record(&s, pp.port[1], NULL)->state, VG_STATE_CLOSED);
    vg_scan_stats st;
    vg_pipeline_get_stats(p, &st);
    assert_int_equal(st.total, 2);
    assert_int_equal(st.skipped, 0);
    vg_pipeline_free(p);
    vg_ports_free(ports);
    vg_targets_free(t);
    ports2_close(&pp);
}

/* A stop while discovery runs, or after it ended but before the next
 * poll: no port scan follows. */
static void test_stop_in_discovery(void **state)
{
    (void)state;
    if(!raw_or_skip())
        return;
    for(int when = 0; when < 2; when++) {
        struct ports2 pp;
        struct seen s = {0};
        vg_error err = {0};
        vg_pipeline *p = NULL;
        ports2_open(&pp);
        vg_targets *t = targets_of("127.0.0.1");
        vg_ports *ports = ports_of(pp.spec);
        vg_pipeline_opts o;
        vg_pipeline_opts_default(&o);
        o.scan.engine = VG_ENGINE_SYN;
        vg_pipeline_cb cb = {.host = on_host, .port = on_port, .discovered = on_discovered, .ud = &s};

        assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
        assert_int_equal(vg_pipeline_prepare(p, &err), VG_OK);
        assert_int_equal(vg_pipeline_start(p, &err), VG_OK);
        if(when == 1) {
            /* until the host record is in: discovery is over, or nearly */
            for(int i = 0; i < 3000 && !s.nhost; i++)
                assert_true(vg_pipeline_poll(p, 10, &err) >= 0);
            assert_int_equal(s.nhost, 1);
        }
        vg_pipeline_stop(p);
        unsigned phases = run_to_end(p);
        assert_false(phases & (1u << VG_PIPELINE_SCAN));
        assert_int_equal(s.nport, 0);
        assert_int_equal(s.ndiscovered, 0);
        vg_pipeline_free(p);
        vg_ports_free(ports);
        vg_targets_free(t);
        ports2_close(&pp);
    }
}

/* -sn: discovery is the run; its host records are the results. */
static void test_discovery_only(void **state)
{
    (void)state;
    if(!raw_or_skip())
        return;
    struct seen s = {0};
    vg_error err = {0};
    vg_pipeline *p = NULL;
    vg_targets *t = targets_of("127.0.0.1-127.0.0.2");
    vg_ports *ports = ports_of("80");
    vg_pipeline_opts o;
    vg_pipeline_opts_default(&o);
    o.scan.engine = VG_ENGINE_PING;
    vg_pipeline_cb cb = {.host = on_host, .port = on_port, .discovered = on_discovered, .ud = &s};

    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    assert_int_equal(vg_pipeline_prepare(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_start(p, &err), VG_OK);
    run_to_end(p);
    assert_int_equal(s.nhost, 2);
    assert_int_equal(s.host[0].state, VG_STATE_OPEN);
    assert_int_equal(s.host[1].state, VG_STATE_OPEN);
    assert_int_equal(s.nport, 0);
    assert_int_equal(s.ndiscovered, 0); /* no port scan follows */
    vg_scan_stats st;
    vg_pipeline_get_stats(p, &st);
    assert_int_equal(st.total, 2);
    vg_pipeline_free(p);
    vg_ports_free(ports);
    vg_targets_free(t);
}

/* 256 loopback hosts and one port: discovery would cost more than the
 * scan, so port answers prove life. Every loopback address answers (a
 * reset), so each host's record comes with its first answer. */
static void test_proof_of_life(void **state)
{
    (void)state;
    if(!raw_or_skip())
        return;
    struct ports2 pp;
    struct seen *s = calloc(1, sizeof(*s));
    vg_error err = {0};
    vg_pipeline *p = NULL;
    assert_non_null(s);
    ports2_open(&pp);
    vg_targets *t = targets_of("127.0.1.0/24");
    char spec[16];
    snprintf(spec, sizeof(spec), "%u", pp.port[1]);
    vg_ports *ports = ports_of(spec);
    vg_pipeline_opts o;
    vg_pipeline_opts_default(&o);
    o.scan.engine = VG_ENGINE_SYN;
    vg_pipeline_cb cb = {.host = on_host, .port = on_port, .discovered = on_discovered, .ud = s};

    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    assert_int_equal(vg_pipeline_prepare(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_start(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_phase(p), VG_PIPELINE_SCAN); /* no discovery */
    run_to_end(p);
    assert_int_equal(s->ndiscovered, 0);
    assert_int_equal(s->nport, 256);
    assert_int_equal(s->nhost, 256);
    for(unsigned i = 0; i < s->nport; i++)
        assert_int_equal(s->port[i].state, VG_STATE_CLOSED);
    for(unsigned i = 0; i < s->nhost; i++)
        assert_int_equal(s->host[i].state, VG_STATE_OPEN);
    vg_scan_stats st;
    vg_pipeline_get_stats(p, &st);
    assert_int_equal(st.total, 256);
    assert_int_equal(st.skipped, 0);
    vg_pipeline_free(p);
    vg_ports_free(ports);
    vg_targets_free(t);
    ports2_close(&pp);
    free(s);
}

/* --- scan --check -------------------------------------------------------- */

/* Two listeners: one greets with a banner no kind claims, one accepts and
 * says nothing (it reads and ignores what it is sent). */
struct servers {
    int lfd[2];
    uint16_t port[2];
    volatile int stop;
    pthread_t thread;
};

#define MAX_CONN 32
static void *serve(void *arg)
{
    struct servers *sv = arg;
    struct pollfd pfd[2 + MAX_CONN];
    int nconn = 0;
    char buf[512];
    time_t deadline = time(NULL) + 30;

    while(!sv->stop && time(NULL) < deadline) {
        for(int i = 0; i < 2; i++)
            pfd[i] = (struct pollfd){.fd = sv->lfd[i], .events = POLLIN};
        if(poll(pfd, (nfds_t)(2 + nconn), 50) <= 0)
            continue;
        for(int i = 2; i < 2 + nconn; i++) {
            if(pfd[i].revents && read(pfd[i].fd, buf, sizeof(buf)) <= 0) {
                close(pfd[i].fd);
                pfd[i] = pfd[1 + nconn];
                nconn--;
                i--;
            }
        }
        for(int i = 0; i < 2; i++) {
            if(!(pfd[i].revents & POLLIN))
                continue;
            int fd = accept(sv->lfd[i], NULL, NULL);
            if(fd < 0)
                continue;
            if(i == 0) {
                static const char banner[] = "hello from the vigia test\r\n";
                if(write(fd, banner, sizeof(banner) - 1) < 0) {
                    close(fd);
                    continue;
                }
            }
            if(nconn == MAX_CONN) {
                close(fd);
                continue;
            }
            pfd[2 + nconn++] = (struct pollfd){.fd = fd, .events = POLLIN};
        }
    }
    for(int i = 2; i < 2 + nconn; i++)
        close(pfd[i].fd);
    return NULL;
}

static void test_scan_check(void **state)
{
    (void)state;
    struct servers sv = {0};
    struct seen s = {0};
    vg_error err = {0};
    vg_pipeline *p = NULL;
    uint16_t closed;
    int cfd = open_port(false, &closed);
    for(int i = 0; i < 2; i++)
        sv.lfd[i] = open_port(true, &sv.port[i]);
    assert_int_equal(pthread_create(&sv.thread, NULL, serve, &sv), 0);

    char spec[48];
    snprintf(spec, sizeof(spec), "%u,%u,%u", sv.port[0], sv.port[1], closed);
    vg_targets *t = targets_of("127.0.0.1");
    vg_ports *ports = ports_of(spec);
    vg_pipeline_opts o;
    vg_pipeline_opts_default(&o);
    o.scan.engine = VG_ENGINE_CONNECT;
    o.check = true;
    o.check_timeout_ms = 1000;
    o.banner_ms = 200;
    vg_pipeline_cb cb = {.host = on_host, .port = on_port, .discovered = on_discovered, .ud = &s};

    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    assert_int_equal(vg_pipeline_prepare(p, &err), VG_OK);
    assert_int_equal(vg_pipeline_start(p, &err), VG_OK);
    unsigned phases = run_to_end(p);
    /* the silent port's HTTP check outlives the scan */
    assert_true(phases & (1u << VG_PIPELINE_CHECKS));
    sv.stop = 1;
    pthread_join(sv.thread, NULL);

    assert_int_equal(s.nport, 3);
    unsigned ib = 0, is = 0, ic = 0;
    assert_non_null(port_record(&s, sv.port[0], &ib));
    assert_non_null(port_record(&s, sv.port[1], &is));
    assert_non_null(port_record(&s, closed, &ic));
    /* the banner read is the check of a banner no kind claims */
    assert_true(s.has_chk[ib]);
    assert_string_equal(s.chk_kind[ib], "tcp");
    assert_int_equal(s.chk_state[ib], VG_CHECK_OK);
    /* silent, and no HTTP answer: judged as a connect check */
    assert_true(s.has_chk[is]);
    assert_string_equal(s.chk_kind[is], "tcp");
    assert_int_equal(s.chk_state[is], VG_CHECK_OK);
    assert_non_null(strstr(s.chk_msg[is], "sent nothing within 0.2 s"));
    /* a closed port has no service to check */
    assert_int_equal(s.port[ic].state, VG_STATE_CLOSED);
    assert_false(s.has_chk[ic]);

    uint64_t counts[4];
    assert_true(vg_pipeline_check_counts(p, counts));
    assert_int_equal(counts[VG_CHECK_OK], 2);
    assert_int_equal(counts[VG_CHECK_WARNING] + counts[VG_CHECK_CRITICAL] + counts[VG_CHECK_UNKNOWN], 0);
    assert_int_equal(vg_pipeline_held(p), 0);
    vg_pipeline_free(p);
    vg_ports_free(ports);
    vg_targets_free(t);
    close(sv.lfd[0]);
    close(sv.lfd[1]);
    close(cfd);
}

/* A stop while checks run: the held port comes out with an interrupted
 * check, not lost. */
static void test_scan_check_stop(void **state)
{
    (void)state;
    struct servers sv = {0};
    struct seen s = {0};
    vg_error err = {0};
    vg_pipeline *p = NULL;
    for(int i = 0; i < 2; i++)
        sv.lfd[i] = open_port(true, &sv.port[i]);
    assert_int_equal(pthread_create(&sv.thread, NULL, serve, &sv), 0);

    char spec[16];
    snprintf(spec, sizeof(spec), "%u", sv.port[1]); /* the silent one */
    vg_targets *t = targets_of("127.0.0.1");
    vg_ports *ports = ports_of(spec);
    vg_pipeline_opts o;
    vg_pipeline_opts_default(&o);
    o.scan.engine = VG_ENGINE_CONNECT;
    o.check = true;
    o.check_timeout_ms = 5000;
    o.banner_ms = 5000;
    vg_pipeline_cb cb = {.host = on_host, .port = on_port, .ud = &s};

    assert_int_equal(vg_pipeline_new(&p, t, ports, &o, &cb, &err), VG_OK);
    assert_int_equal(vg_pipeline_start(p, &err), VG_OK);
    for(int i = 0; i < 3000 && vg_pipeline_held(p) == 0; i++)
        assert_true(vg_pipeline_poll(p, 10, &err) >= 0);
    assert_int_equal(vg_pipeline_held(p), 1);
    assert_int_equal(s.nport, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vg_pipeline_stop(p);
    run_to_end(p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 3); /* not the 5 s banner wait */
    sv.stop = 1;
    pthread_join(sv.thread, NULL);
    assert_int_equal(s.nport, 1);
    assert_true(s.has_chk[0]);
    assert_int_equal(s.chk_state[0], VG_CHECK_UNKNOWN);
    vg_pipeline_free(p);
    vg_ports_free(ports);
    vg_targets_free(t);
    close(sv.lfd[0]);
    close(sv.lfd[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_scan),
        cmocka_unit_test(test_dry_walk),
        cmocka_unit_test(test_syn_after_discovery),
        cmocka_unit_test(test_stop_in_discovery),
        cmocka_unit_test(test_discovery_only),
        cmocka_unit_test(test_proof_of_life),
        cmocka_unit_test(test_scan_check),
        cmocka_unit_test(test_scan_check_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
