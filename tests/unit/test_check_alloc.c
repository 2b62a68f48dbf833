/* SPDX-License-Identifier: MIT */
/* Allocation failures in vigia check: a checks file is loaded and its
 * checks run against servers this test opens on 127.0.0.1 (a listener, a
 * bound port that refuses, a banner server for send/expect and a --step
 * script, a tiny HTTP server, a UDP echo), with text and NDJSON output;
 * the whole run is repeated once for every allocation it makes, with
 * exactly that allocation failing. Each run must end with VG_ENOMEM and a
 * message, or deliver every check once with its right state or an UNKNOWN
 * internal-error verdict that says it ran out of memory; it must never
 * crash, hang or leak (the suite runs this under ASan with leak detection
 * and under Valgrind). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
#include "vigia/check.h"
#include "vigia/output.h"

/* --- the servers, on a thread of their own -------------------------------- */

enum { SRV_BANNER, SRV_HTTP };

#define MAX_CLIENTS 32

struct client {
    int fd;
    int kind;
    char buf[2048];
    size_t len;
    double since;
};

struct servers {
    int open_fd, refused_fd, banner_fd, http_fd, udp_fd;
    uint16_t open_port, refused_port, banner_port, http_port, udp_port;
    int stop[2];
    pthread_t thread;
    struct client cl[MAX_CLIENTS];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Binds 127.0.0.1 on a free port; listens when asked. */
static int open_sock(int type, bool listening, uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if(listening)
        assert_int_equal(listen(fd, 128), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void send_all(int fd, const char *s)
{
    /* Short answers on loopback: one send fits the socket buffer. */
    ssize_t n = send(fd, s, strlen(s), MSG_NOSIGNAL);
    (void)n;
}

static void client_close(struct client *c)
{
    close(c->fd);
    c->fd = -1;
}

/* The banner server greets, answers QUIT with BYE and anything else with
 * +OK; the HTTP server answers the first request and closes. */
static void client_data(struct client *c)
{
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
    if(n <= 0 || c->len + (size_t)n >= sizeof(c->buf) - 1) {
        client_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if(c->kind == SRV_HTTP) {
        if(strstr(c->buf, "\r\n\r\n")) {
            send_all(c->fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
                            "Connection: close\r\n\r\nhello vigia\n");
            client_close(c);
        }
        return;
    }
    char *nl;
    while((nl = strchr(c->buf, '\n'))) {
        bool quit = !strncmp(c->buf, "QUIT", 4);
        send_all(c->fd, quit ? "BYE\r\n" : "+OK got it\r\n");
        size_t used = (size_t)(nl + 1 - c->buf);
        memmove(c->buf, nl + 1, c->len - used + 1);
        c->len -= used;
    }
}

static void accept_one(struct servers *s, int lfd, int kind)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if(fd < 0)
        return;
    for(int i = 0; i < MAX_CLIENTS; i++)
        if(s->cl[i].fd < 0) {
            s->cl[i] = (struct client){.fd = fd, .kind = kind, .since = now_s()};
            if(kind == SRV_BANNER)
                send_all(fd, "+OK vigia test ready\r\n");
            return;
        }
    close(fd);
}

static void *serve(void *arg)
{
    struct servers *s = arg;
    for(;;) {
        struct pollfd p[4 + MAX_CLIENTS];
        int map[4 + MAX_CLIENTS], n = 0;
        p[n++] = (struct pollfd){.fd = s->stop[0], .events = POLLIN};
        p[n++] = (struct pollfd){.fd = s->banner_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = s->http_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = s->udp_fd, .events = POLLIN};
        for(int i = 0; i < MAX_CLIENTS; i++) {
            /* A client the check left open is closed after a while. */
            if(s->cl[i].fd >= 0 && now_s() - s->cl[i].since > 3)
                client_close(&s->cl[i]);
            if(s->cl[i].fd >= 0) {
                map[n] = i;
                p[n++] = (struct pollfd){.fd = s->cl[i].fd, .events = POLLIN};
            }
        }
        if(poll(p, (nfds_t)n, 200) < 0 && errno != EINTR)
            break;
        if(p[0].revents)
            break;
        if(p[1].revents)
            accept_one(s, s->banner_fd, SRV_BANNER);
        if(p[2].revents)
            accept_one(s, s->http_fd, SRV_HTTP);
        if(p[3].revents) {
            char d[512] = "ECHO ";
            struct sockaddr_storage from;
            socklen_t fl = sizeof(from);
            ssize_t r = recvfrom(s->udp_fd, d + 5, sizeof(d) - 5, 0, (struct sockaddr *)&from, &fl);
            if(r >= 0)
                sendto(s->udp_fd, d, (size_t)r + 5, 0, (struct sockaddr *)&from, fl);
        }
        for(int k = 4; k < n; k++)
            if(p[k].revents && s->cl[map[k]].fd >= 0)
                client_data(&s->cl[map[k]]);
    }
    for(int i = 0; i < MAX_CLIENTS; i++)
        if(s->cl[i].fd >= 0)
            client_close(&s->cl[i]);
    return NULL;
}

/* Accepts and closes what the last run left in the plain listener's queue:
 * a full accept queue would drop connections. */
static void drain(const struct servers *s)
{
    int c;
    while((c = accept(s->open_fd, NULL, NULL)) >= 0)
        close(c);
}

static int setup(void **state)
{
    struct servers *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    for(int i = 0; i < MAX_CLIENTS; i++)
        s->cl[i].fd = -1;
    s->open_fd = open_sock(SOCK_STREAM, true, &s->open_port);
    s->refused_fd = open_sock(SOCK_STREAM, false, &s->refused_port);
    s->banner_fd = open_sock(SOCK_STREAM, true, &s->banner_port);
    s->http_fd = open_sock(SOCK_STREAM, true, &s->http_port);
    s->udp_fd = open_sock(SOCK_DGRAM, false, &s->udp_port);
    assert_int_equal(pipe2(s->stop, O_CLOEXEC), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct servers *s = *state;
    assert_int_equal(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->stop[0]);
    close(s->stop[1]);
    close(s->open_fd);
    close(s->refused_fd);
    close(s->banner_fd);
    close(s->http_fd);
    close(s->udp_fd);
    free(s);
    return 0;
}

/* --- one run: load the file, run its checks, write the outputs ------------ */

#define NCHECKS 6
#define MAX_STEPS 4

/* The check names of the file, in order, and the state each must get. */
static const char *const names[NCHECKS] = {"open", "refused", "banner", "steps", "web", "udp"};
static const int want[NCHECKS] = {VG_CHECK_OK,       VG_CHECK_CRITICAL, VG_CHECK_OK,
                                  VG_CHECK_OK,       VG_CHECK_OK,       VG_CHECK_OK};

struct outcome {
    int rc;
    vg_error err;
    unsigned seen[NCHECKS];
    int state[NCHECKS];
    int reason[NCHECKS];
    char msg[NCHECKS][200];
    bool output_ok; /* the NDJSON output has a record per check */
};

/* A check record, as the CLI builds it (src/cli_output.c). */
static int write_check(vg_output *o, const vg_check_result *r)
{
    vg_rec_check rec;
    vg_rec_limits lim;
    vg_check_record(&rec, &lim, r);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_CHECK, .check = &rec});
}

struct run {
    vg_checkfile *file;
    vg_check_opts opts[NCHECKS];
    const char *steps[NCHECKS][MAX_STEPS + 1];
    struct outcome *out;
    vg_output *text, *nd;
    int orc;
    size_t count[4];
};

/* A stand-in for the CLI's option table. */
static int key_kind(const char *key, void *ud)
{
    (void)ud;
    if(!strcmp(key, "step"))
        return VG_CHECKFILE_LIST;
    if(!strcmp(key, "timeout") || !strcmp(key, "send") || !strcmp(key, "expect") ||
       !strcmp(key, "expect-body"))
        return VG_CHECKFILE_VALUE;
    return VG_CHECKFILE_UNKNOWN;
}

/* The options of one file entry, as the CLI would set them. */
static void entry_opts(struct run *run, size_t i)
{
    const vg_checkfile_entry *e = &run->file->checks[i];
    vg_check_opts *o = &run->opts[i];
    unsigned nsteps = 0;

    vg_check_opts_default(o);
    o->retries = 0;
    for(size_t k = 0; k < e->nopts; k++) {
        const char *key = e->opts[k].key, *v = e->opts[k].value;
        if(!strcmp(key, "timeout")) {
            o->timeout_ms = (uint32_t)strtoul(v, NULL, 10) * 1000u;
        } else if(!strcmp(key, "send")) {
            o->send = v;
            o->send_len = strlen(v);
        } else if(!strcmp(key, "expect")) {
            o->expect = v;
        } else if(!strcmp(key, "expect-body")) {
            o->expect_body = v;
        } else if(!strcmp(key, "step")) {
            assert_true(nsteps < MAX_STEPS);
            run->steps[i][nsteps++] = v;
            run->steps[i][nsteps] = NULL;
            o->steps = run->steps[i];
        }
    }
}

static void on_result(const vg_check_result *r, void *ud)
{
    struct run *run = ud;
    assert_true(r->index < NCHECKS);
    /* The file's order is the order added. */
    assert_non_null(r->name);
    assert_string_equal(r->name, names[r->index]);
    run->out->seen[r->index]++;
    run->out->state[r->index] = r->state;
    run->out->reason[r->index] = r->reason;
    snprintf(run->out->msg[r->index], sizeof(run->out->msg[0]), "%.190s", r->message);
    if(r->state >= 0 && r->state < 4)
        run->count[r->state]++;
    int rc = write_check(run->text, r);
    if(!rc)
        rc = write_check(run->nd, r);
    if(rc && !run->orc)
        run->orc = rc;
}

static void run_checks(const struct servers *s, struct outcome *out)
{
    char file[1024];
    struct run run = {.out = out};
    vg_checker *c = NULL;
    vg_error *err = &out->err;
    FILE *tfp = tmpfile(), *nfp = tmpfile();
    int rc;

    memset(out, 0, sizeof(*out));
    assert_non_null(tfp);
    assert_non_null(nfp);
    drain(s);
    snprintf(file, sizeof(file),
             "defaults:\n"
             "  timeout: 5\n"
             "checks:\n"
             "  - name: open\n"
             "    target: tcp://127.0.0.1:%u\n"
             "  - name: refused\n"
             "    target: tcp://127.0.0.1:%u\n"
             "  - name: banner\n"
             "    target: tcp://127.0.0.1:%u\n"
             "    send: \"PING\\r\\n\"\n"
             "    expect: \"^\\\\+OK\"\n"
             "  - name: steps\n"
             "    target: tcp://localhost:%u\n"
             "    step:\n"
             "      - 'expect:^\\+OK'\n"
             "      - 'send:QUIT\\r\\n'\n"
             "      - 'expect:^BYE'\n"
             "  - name: web\n"
             "    target: http://127.0.0.1:%u/\n"
             "    expect-body: hello\n"
             "  - name: udp\n"
             "    target: udp://127.0.0.1:%u\n"
             "    send: ping\n"
             "    expect: \"^ECHO ping\"\n",
             s->open_port, s->refused_port, s->banner_port, s->banner_port, s->http_port, s->udp_port);
    if((rc = vg_checkfile_parse(&run.file, file, strlen(file), key_kind, NULL, err)))
        goto done;
    assert_int_equal(run.file->n, NCHECKS);
    if(!(run.text = vg_output_new("text", VG_OUTPUT_CHECK, tfp, NULL, err)) ||
       !(run.nd = vg_output_new("ndjson", VG_OUTPUT_CHECK, nfp, NULL, err))) {
        rc = err->code;
        goto done;
    }
    if((rc = vg_checker_new(&c, NULL, err)))
        goto done;
    for(size_t i = 0; i < NCHECKS; i++) {
        entry_opts(&run, i);
        if((rc = vg_checker_add_named(c, run.file->checks[i].name, run.file->checks[i].target,
                                      &run.opts[i], NULL, err)))
            goto done;
    }
    vg_check_info info = {.version = "test", .mode = "once", .n_checks = NCHECKS, .timeout_ms = 5000};
    vg_record hdr = {.kind = VG_REC_CHECK_RUN, .check_run = &info};
    if((rc = vg_output_write(run.text, &hdr)) || (rc = vg_output_write(run.nd, &hdr))) {
        vg_error_set(err, rc, "output failed");
        goto done;
    }
    double deadline = now_s() + 30;
    for(;;) {
        int prc = vg_checker_poll(c, 100, on_result, &run, err);
        if(prc < 0) {
            rc = prc;
            goto done;
        }
        if(prc == 1)
            break;
        /* A run that neither finishes nor fails is a bug too. */
        assert_true(now_s() < deadline);
    }
    if(run.orc) {
        rc = vg_error_set(err, run.orc, "output failed");
        goto done;
    }
    vg_check_summary sum = {.elapsed_s = 0.1};
    memcpy(sum.count, run.count, sizeof(sum.count));
    vg_record end = {.kind = VG_REC_CHECK_SUMMARY, .check_summary = &sum};
    if((rc = vg_output_write(run.text, &end)) || (rc = vg_output_write(run.nd, &end))) {
        vg_error_set(err, rc, "output end failed");
        goto done;
    }
    char text[16384];
    fflush(nfp);
    rewind(nfp);
    size_t len = fread(text, 1, sizeof(text) - 1, nfp);
    text[len] = '\0';
    out->output_ok = true;
    for(int i = 0; i < NCHECKS; i++) {
        char rec[64];
        snprintf(rec, sizeof(rec), "\"type\":\"check\",\"index\":%d,\"name\":\"%s\"", i, names[i]);
        if(!strstr(text, rec))
            out->output_ok = false;
    }
done:
    out->rc = rc;
    /* The checker borrows the options, which borrow the file's strings. */
    vg_checker_free(c);
    vg_output_free(run.text);
    vg_output_free(run.nd);
    vg_checkfile_free(run.file);
    fclose(tfp);
    fclose(nfp);
}

/* Whether check i got its right verdict, or an UNKNOWN one that says the
 * library ran out of memory. */
static bool verdict_ok(const struct outcome *out, int i, bool *oom)
{
    *oom = false;
    if(out->seen[i] != 1)
        return false;
    if(out->state[i] == want[i])
        return want[i] != VG_CHECK_CRITICAL || out->reason[i] == VG_CR_CONN_REFUSED;
    *oom = out->state[i] == VG_CHECK_UNKNOWN && out->reason[i] == VG_CR_INTERNAL &&
           strcasestr(out->msg[i], "memory");
    return *oom;
}

static void test_fail_each_allocation(void **state)
{
    const struct servers *s = *state;
    struct outcome out;
    bool oom;

    /* Without injection every check gets its right verdict; the run also
     * says how many allocations it makes. */
    vg_alloc_fail_after(0);
    run_checks(s, &out);
    unsigned long total = vg_alloc_count();
    if(out.rc)
        fail_msg("run without injection: %s", out.err.msg);
    for(int i = 0; i < NCHECKS; i++) {
        if(out.seen[i] != 1 || out.state[i] != want[i])
            fail_msg("check %s: %s", names[i], out.msg[i]);
        assert_true(verdict_ok(&out, i, &oom));
    }
    assert_true(out.output_ok);
    assert_true(total > 0);

    unsigned failed = 0, unknown = 0;
    /* A few past the count: allocations that depend on timing (a buffer
     * that grows with what one read returned) may add some in other runs. */
    for(unsigned long n = 1; n <= total + 4; n++) {
        vg_alloc_fail_after(n);
        run_checks(s, &out);
        bool hit = vg_alloc_count() >= n;
        vg_alloc_fail_after(0);
        if(out.rc == VG_OK) {
            bool any = false;
            for(int i = 0; i < NCHECKS; i++) {
                if(!verdict_ok(&out, i, &oom))
                    fail_msg("allocation %lu failing: check %s got state %d: %s", n, names[i],
                             out.state[i], out.msg[i]);
                any |= oom;
            }
            assert_true(out.output_ok);
            if(any) {
                assert_true(hit);
                unknown++;
            }
        } else {
            if(out.rc != VG_ENOMEM)
                fail_msg("allocation %lu failing: error %d: %s", n, out.rc, out.err.msg);
            assert_true(out.err.msg[0] != '\0');
            assert_true(hit);
            failed++;
        }
    }
    /* Both kinds of ending must occur: the loader and the setup cannot go
     * on without their allocations, and a kind's attempt fails alone. */
    assert_true(failed > 0);
    assert_true(unknown > 0);
    print_message("%lu allocations: %u runs ended with VG_ENOMEM, %u with an out-of-memory verdict\n",
                  total, failed, unknown);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fail_each_allocation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
