/* SPDX-License-Identifier: MIT */
/* Allocation failures: a small connect scan of 127.0.0.1 (two listening
 * ports and one bound but not listening, all opened here) with its text
 * output, run once for every allocation it makes with exactly that
 * allocation failing. Each run must end with VG_ENOMEM and a message, or
 * succeed with every port's right state; it must never crash, hang or
 * leak (the suite runs this under ASan with leak detection and under
 * Valgrind). */
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
#include <sys/socket.h>

#include <cmocka.h>

#include "util/alloc.h"
#include "vigia/output.h"
#include "vigia/ports.h"
#include "vigia/scan.h"
#include "vigia/scan_record.h"
#include "vigia/target.h"

#define NPORTS 3

struct fixture {
    int fd[NPORTS];
    uint16_t port[NPORTS];
    int want[NPORTS]; /* the state each port must get */
    char spec[64];
};

struct outcome {
    int rc;
    vg_error err;
    unsigned seen[NPORTS];
    int state[NPORTS];
    unsigned other; /* results for ports the scan was not given */
    bool table_ok;  /* the text table lists every port, or says it cannot */
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

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    for(int i = 0; i < NPORTS; i++) {
        bool listening = i < 2;
        f->fd[i] = open_port(listening, &f->port[i]);
        f->want[i] = listening ? VG_STATE_OPEN : VG_STATE_CLOSED;
    }
    snprintf(f->spec, sizeof(f->spec), "%u,%u,%u", f->port[0], f->port[1], f->port[2]);
    *state = f;
    return 0;
}

/* Accepts and closes what the last run left in the listeners' queues: a
 * full accept queue drops SYNs, and an open port would look filtered. */
static void drain(const struct fixture *f)
{
    for(int i = 0; i < 2; i++) {
        int c;
        while((c = accept(f->fd[i], NULL, NULL)) >= 0)
            close(c);
    }
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for(int i = 0; i < NPORTS; i++)
        close(f->fd[i]);
    free(f);
    return 0;
}

struct deliver {
    const struct fixture *f;
    struct outcome *out;
    vg_output *o;
    const vg_scan_names *names;
    int orc;
};

/* The records of a scan, as the CLI builds them (src/cli_output.c). */
static int write_port(vg_output *o, const vg_result *r, const vg_scan_names *names)
{
    vg_rec_port port;
    vg_scan_record_port(&port, r, names);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_PORT, .port = &port});
}

static int write_header(vg_output *o, const vg_scan_info *info)
{
    vg_rec_scan hdr;
    vg_scan_record_header(&hdr, info);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_SCAN, .scan = &hdr});
}

static int write_summary(vg_output *o, const vg_scan_end *end)
{
    vg_rec_scan_summary sum;
    vg_scan_record_summary(&sum, NULL, end);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_SCAN_SUMMARY, .scan_summary = &sum});
}

static void on_result(const vg_result *r, void *ud)
{
    struct deliver *d = ud;
    int i;
    for(i = 0; i < NPORTS && d->f->port[i] != r->port; i++)
        ;
    if(i == NPORTS) {
        d->out->other++;
    } else {
        d->out->seen[i]++;
        d->out->state[i] = r->state;
    }
    int rc = write_port(d->o, r, d->names);
    if(rc && !d->orc)
        d->orc = rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One whole scan, as the CLI would run it: targets, ports, scan, text
 * output. Stops at the first error and frees everything. */
static void run_scan(const struct fixture *f, unsigned threads, struct outcome *out)
{
    vg_targets *t = NULL;
    vg_ports *p = NULL;
    vg_scan *s = NULL;
    vg_output *o = NULL;
    vg_error *err = &out->err;
    FILE *fp = tmpfile();
    int rc;

    memset(out, 0, sizeof(*out));
    assert_non_null(fp);
    drain(f);
    t = vg_targets_new();
    p = vg_ports_new();
    if(!t || !p) {
        rc = vg_error_set(err, VG_ENOMEM, "out of memory");
        goto done;
    }
    vg_resolve_opts ro = {.hosts_only = true};
    if((rc = vg_targets_add(t, "127.0.0.1", "test", err)) ||
       (rc = vg_targets_finalize(t, &ro, err)) || (rc = vg_ports_add(p, f->spec, err)))
        goto done;
    vg_scan_opts so;
    vg_scan_opts_default(&so);
    so.engine = VG_ENGINE_CONNECT;
    so.threads = threads;
    so.concurrency = 8;
    so.timeout_ms = 2000;
    if((rc = vg_scan_new(&s, t, p, &so, err)))
        goto done;
    vg_output_opts oo = {.verbose = 1};
    vg_scan_names names = {.targets = t};
    o = vg_output_new("text", VG_OUTPUT_SCAN, fp, &oo, err);
    if(!o) {
        rc = err->code;
        goto done;
    }
    vg_scan_info info = {.version = "test", .engine = vg_scan_engine_name(s),
                         .targets = "127.0.0.1", .ports = f->spec, .n_targets = 1,
                         .n_ports = NPORTS, .opts = &so};
    if((rc = write_header(o, &info)) || (rc = vg_scan_start(s, err)))
        goto done;
    struct deliver d = {.f = f, .out = out, .o = o, .names = &names};
    double deadline = now_s() + 30;
    for(;;) {
        int prc = vg_scan_poll(s, 100, on_result, &d, err);
        if(prc < 0) {
            rc = prc;
            goto done;
        }
        if(prc == 1)
            break;
        /* A run that neither finishes nor fails is a bug too. */
        assert_true(now_s() < deadline);
    }
    if(d.orc) {
        rc = vg_error_set(err, d.orc, "output failed");
        goto done;
    }
    vg_scan_end end = {.tries_policy = vg_scan_tries_policy(s)};
    vg_scan_get_stats(s, &end.stats);
    if((rc = write_summary(o, &end)))
        vg_error_set(err, rc, "output end failed");
    /* -v lists every port; a table that lost rows must say so. */
    char text[4096];
    fflush(fp);
    rewind(fp);
    size_t len = fread(text, 1, sizeof(text) - 1, fp);
    text[len] = '\0';
    out->table_ok = strstr(text, "warning: out of memory") != NULL;
    if(!out->table_ok) {
        out->table_ok = true;
        for(int i = 0; i < NPORTS; i++) {
            char row[16];
            snprintf(row, sizeof(row), "%u/tcp", f->port[i]);
            if(!strstr(text, row))
                out->table_ok = false;
        }
    }
done:
    out->rc = rc;
    vg_output_free(o);
    vg_scan_free(s);
    vg_ports_free(p);
    vg_targets_free(t);
    fclose(fp);
}

static void assert_complete(const struct fixture *f, const struct outcome *out)
{
    assert_int_equal(out->other, 0);
    assert_true(out->table_ok);
    for(int i = 0; i < NPORTS; i++) {
        assert_int_equal(out->seen[i], 1);
        assert_int_equal(out->state[i], f->want[i]);
    }
}

static void sweep(const struct fixture *f, unsigned threads)
{
    struct outcome out;

    /* Without injection the scan is complete and right; it also says
     * how many allocations a run makes. */
    vg_alloc_fail_after(0);
    run_scan(f, threads, &out);
    unsigned long total = vg_alloc_count();
    assert_int_equal(out.rc, VG_OK);
    assert_complete(f, &out);
    assert_true(total > 0);

    unsigned failed = 0;
    /* A few past the count: allocations that depend on timing (a queue
     * that grows) may add some in other runs. */
    for(unsigned long n = 1; n <= total + 4; n++) {
        vg_alloc_fail_after(n);
        run_scan(f, threads, &out);
        bool hit = vg_alloc_count() >= n;
        vg_alloc_fail_after(0);
        if(out.rc == VG_OK) {
            /* Either nothing failed, or the library recovered. */
            assert_complete(f, &out);
        } else {
            assert_int_equal(out.rc, VG_ENOMEM);
            assert_true(out.err.msg[0] != '\0');
            assert_true(hit);
            failed++;
        }
    }
    /* Most failures must be reported: the setup alone cannot proceed
     * without its allocations. */
    assert_true(failed > 0);
    print_message("threads %u: %lu allocations, %u runs ended with VG_ENOMEM\n", threads, total,
                  failed);
}

static void test_fail_each_allocation_1_thread(void **state)
{
    sweep(*state, 1);
}

static void test_fail_each_allocation_2_threads(void **state)
{
    sweep(*state, 2);
}

static void test_counter(void **state)
{
    (void)state;
    vg_alloc_fail_after(2);
    void *a = vg_malloc(8);
    char *b = vg_strdup("x");
    void *c = vg_calloc(1, 8);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    assert_int_equal(vg_alloc_count(), 3);
    vg_alloc_fail_after(1);
    assert_null(vg_realloc(a, 16)); /* a stays valid, as with realloc */
    free(a);
    free(c);
    vg_alloc_fail_after(0);
    assert_int_equal(vg_alloc_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter),
        cmocka_unit_test_setup_teardown(test_fail_each_allocation_1_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_each_allocation_2_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
