/* SPDX-License-Identifier: MIT */
/* Unit tests for target specifications: parsing, merging, excludes, files,
 * indexing and name resolution against /etc/hosts and a DNS server the test
 * runs itself on loopback (never the real DNS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vigia/target.h"

/* ---- a tiny DNS server on 127.0.0.1 ------------------------------------ */

/* Answers A/AAAA for two.vigia.test (198.18.0.1, 198.18.0.2 / 2001:db8::1)
 * and A for v4only.vigia.test (198.18.0.9); NXDOMAIN for everything else.
 * A silent server reads queries and never answers. */
struct dns_server {
    int fd;
    int stop[2];
    uint16_t port;
    bool silent;
    unsigned queries;
    pthread_t thread;
    char servers[64]; /* "127.0.0.1:PORT" for vg_resolve_opts */
};

static size_t dns_put_answer(uint8_t *out, size_t off, uint16_t type, const void *rdata,
                             uint16_t rdlen)
{
    static const uint8_t hdr[] = { 0xc0, 0x0c }; /* the question's name */
    memcpy(out + off, hdr, 2);
    out[off + 2] = (uint8_t)(type >> 8);
    out[off + 3] = (uint8_t)type;
    out[off + 4] = 0;
    out[off + 5] = 1;                                   /* class IN */
    out[off + 6] = 0, out[off + 7] = 0, out[off + 8] = 0, out[off + 9] = 60; /* TTL */
    out[off + 10] = (uint8_t)(rdlen >> 8);
    out[off + 11] = (uint8_t)rdlen;
    memcpy(out + off + 12, rdata, rdlen);
    return off + 12 + rdlen;
}

static size_t dns_reply(const uint8_t *q, size_t n, uint8_t *out)
{
    char name[256];
    size_t off = 12, nlen = 0, len;
    uint16_t qtype, ancount = 0;
    uint8_t rcode = 0;

    if(n < 12)
        return 0;
    while(off < n && q[off]) {
        size_t l = q[off];
        if(off + 1 + l >= n || nlen + l + 1 >= sizeof(name))
            return 0;
        if(nlen)
            name[nlen++] = '.';
        memcpy(name + nlen, q + off + 1, l);
        nlen += l;
        off += 1 + l;
    }
    name[nlen] = '\0';
    if(off + 5 > n)
        return 0;
    qtype = (uint16_t)(q[off + 1] << 8 | q[off + 2]);
    off += 5;
    memcpy(out, q, off);
    len = off;
    if(!strcasecmp(name, "two.vigia.test")) {
        static const uint8_t a1[] = { 198, 18, 0, 1 }, a2[] = { 198, 18, 0, 2 };
        static const uint8_t aaaa[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 1 };
        if(qtype == 1) {
            len = dns_put_answer(out, len, 1, a1, 4);
            len = dns_put_answer(out, len, 1, a2, 4);
            ancount = 2;
        }
        else if(qtype == 28) {
            len = dns_put_answer(out, len, 28, aaaa, 16);
            ancount = 1;
        }
    }
    else if(!strcasecmp(name, "v4only.vigia.test")) {
        static const uint8_t a[] = { 198, 18, 0, 9 };
        if(qtype == 1) {
            len = dns_put_answer(out, len, 1, a, 4);
            ancount = 1;
        }
    }
    else
        rcode = 3; /* NXDOMAIN */
    out[2] = (uint8_t)(0x84 | (q[2] & 0x01)); /* QR, AA, RD copied */
    out[3] = (uint8_t)(0x80 | rcode);         /* RA */
    out[4] = 0, out[5] = 1;
    out[6] = 0, out[7] = (uint8_t)ancount;
    memset(out + 8, 0, 4);
    return len;
}

static void *dns_thread(void *arg)
{
    struct dns_server *s = arg;

    for(;;) {
        struct pollfd pfd[2] = { { s->fd, POLLIN, 0 }, { s->stop[0], POLLIN, 0 } };
        uint8_t q[512], out[1024];
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n;
        size_t len;

        if(poll(pfd, 2, -1) < 0 || pfd[1].revents)
            break;
        n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
        if(n <= 0)
            continue;
        __atomic_add_fetch(&s->queries, 1, __ATOMIC_SEQ_CST);
        if(s->silent)
            continue;
        len = dns_reply(q, (size_t)n, out);
        if(len)
            sendto(s->fd, out, len, 0, (struct sockaddr *)&from, fromlen);
    }
    return NULL;
}

static struct dns_server *dns_start(bool silent)
{
    struct dns_server *s = calloc(1, sizeof(*s));
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);

    assert_non_null(s);
    s->silent = silent;
    s->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s->fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sin, &slen), 0);
    s->port = ntohs(sin.sin_port);
    snprintf(s->servers, sizeof(s->servers), "127.0.0.1:%u", s->port);
    assert_int_equal(pipe(s->stop), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, dns_thread, s), 0);
    return s;
}

static void dns_stop(struct dns_server *s)
{
    assert_int_equal(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    close(s->stop[0]);
    close(s->stop[1]);
    free(s);
}

/* ---- helpers ------------------------------------------------------------ */

static vg_resolve_opts opts_for(const struct dns_server *s, int family, bool all)
{
    vg_resolve_opts o = { family, all, s ? s->servers : NULL, 2000 };
    return o;
}

/* Adds every spec (targets, or excludes after a "!" prefix) and finalizes
 * with opts; fails the test on any error. */
static vg_targets *build(const vg_resolve_opts *opts, const char *const *specs)
{
    vg_targets *t = vg_targets_new();
    vg_error err;
    size_t i;

    assert_non_null(t);
    memset(&err, 0, sizeof(err));
    for(i = 0; specs[i]; i++) {
        int rc = specs[i][0] == '!' ? vg_targets_exclude(t, specs[i] + 1, "test", &err)
                                    : vg_targets_add(t, specs[i], "test", &err);
        if(rc)
            fail_msg("adding '%s' failed: %s", specs[i], err.msg);
    }
    if(vg_targets_finalize(t, opts, &err))
        fail_msg("finalize failed: %s", err.msg);
    return t;
}

#define BUILD(opts, ...) build((opts), (const char *const[]){ __VA_ARGS__, NULL })

/* Asserts that the index-th target prints as want. */
static void expect_at(const vg_targets *t, uint64_t index, const char *want)
{
    char buf[VG_ADDR_STRLEN];
    vg_addr a;

    vg_targets_get(t, index, &a);
    vg_addr_format(&a, buf, sizeof(buf));
    if(strcmp(buf, want))
        fail_msg("index %llu: got %s, want %s", (unsigned long long)index, buf, want);
}

static void expect_msg(const vg_error *err, const char *want)
{
    if(!strstr(err->msg, want))
        fail_msg("message '%s' lacks '%s'", err->msg, want);
}

/* Expects vg_targets_add(spec, "argument 1") to fail with VG_EINVAL and a
 * message that contains want. */
static void add_fails(const char *spec, const char *want)
{
    vg_targets *t = vg_targets_new();
    vg_error err;

    memset(&err, 0, sizeof(err));
    if(vg_targets_add(t, spec, "argument 1", &err) != VG_EINVAL)
        fail_msg("'%s' was accepted", spec);
    assert_int_equal(err.code, VG_EINVAL);
    expect_msg(&err, want);
    expect_msg(&err, "argument 1: '");
    vg_targets_free(t);
}

/* Expects finalize to fail with code and a message containing want. */
static void finalize_fails(const vg_resolve_opts *opts, const char *const *specs,
                           int code, const char *want)
{
    vg_targets *t = vg_targets_new();
    vg_error err;
    size_t i;

    memset(&err, 0, sizeof(err));
    for(i = 0; specs[i]; i++) {
        char where[32];
        snprintf(where, sizeof(where), "argument %zu", i + 1);
        int rc = specs[i][0] == '!' ? vg_targets_exclude(t, specs[i] + 1, where, &err)
                                    : vg_targets_add(t, specs[i], where, &err);
        if(rc)
            fail_msg("adding '%s' failed: %s", specs[i], err.msg);
    }
    assert_int_equal(vg_targets_finalize(t, opts, &err), code);
    expect_msg(&err, want);
    vg_targets_free(t);
}

#define FINALIZE_FAILS(opts, code, want, ...) \
    finalize_fails((opts), (const char *const[]){ __VA_ARGS__, NULL }, (code), (want))

static char *write_temp(const char *content)
{
    char *path = strdup("/tmp/vigia-test-XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

/* ---- literals ----------------------------------------------------------- */

static void test_ipv4_single(void **state)
{
    (void)state;
    vg_targets *t = BUILD(NULL, "198.18.0.1");
    vg_addr a;

    assert_int_equal(vg_targets_count(t), 1);
    expect_at(t, 0, "198.18.0.1");
    vg_targets_get(t, 0, &a);
    assert_int_equal(a.family, AF_INET);
    assert_int_equal(a.scope_id, 0);
    assert_null(vg_targets_name(t, &a));
    vg_targets_free(t);

    t = BUILD(NULL, "0.0.0.0");
    assert_int_equal(vg_targets_count(t), 1);
    expect_at(t, 0, "0.0.0.0");
    vg_targets_free(t);
}

static void test_ipv4_cidr(void **state)
{
    vg_resolve_opts allow = { 0, false, NULL, 0, true };
    (void)state;
    vg_targets *t = BUILD(&allow, "0.0.0.0/0");
    assert_int_equal(vg_targets_count(t), UINT64_C(1) << 32);
    expect_at(t, 0, "0.0.0.0");
    expect_at(t, 0x7f000001, "127.0.0.1");
    expect_at(t, UINT32_MAX, "255.255.255.255");
    vg_targets_free(t);

    /* By default /0 leaves out 0/8, multicast 224/4 and reserved 240/4. */
    t = BUILD(NULL, "0.0.0.0/0");
    assert_int_equal(vg_targets_count(t), (UINT64_C(1) << 32) - (1u << 24) - (2u << 28));
    expect_at(t, 0, "1.0.0.0");
    vg_targets_free(t);

    t = BUILD(NULL, "198.18.0.7/32");
    assert_int_equal(vg_targets_count(t), 1);
    expect_at(t, 0, "198.18.0.7");
    vg_targets_free(t);

    /* Host bits are masked off. */
    t = BUILD(NULL, "198.18.0.77/24");
    assert_int_equal(vg_targets_count(t), 256);
    expect_at(t, 0, "198.18.0.0");
    expect_at(t, 255, "198.18.0.255");
    vg_targets_free(t);

    t = BUILD(NULL, "255.255.255.255/31");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 0, "255.255.255.254");
    expect_at(t, 1, "255.255.255.255");
    vg_targets_free(t);
}

static void test_ipv4_ranges(void **state)
{
    (void)state;
    vg_targets *t = BUILD(NULL, "198.18.0.1-20");
    assert_int_equal(vg_targets_count(t), 20);
    expect_at(t, 0, "198.18.0.1");
    expect_at(t, 19, "198.18.0.20");
    vg_targets_free(t);

    t = BUILD(NULL, "198.18.0.250-198.18.1.5");
    assert_int_equal(vg_targets_count(t), 12);
    expect_at(t, 5, "198.18.0.255");
    expect_at(t, 6, "198.18.1.0");
    vg_targets_free(t);

    t = BUILD(NULL, "198.18.0.9-9");
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_free(t);
}

static void test_ipv6(void **state)
{
    (void)state;
    vg_targets *t = BUILD(NULL, "2001:db8::5");
    vg_addr a;
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_get(t, 0, &a);
    assert_int_equal(a.family, AF_INET6);
    expect_at(t, 0, "2001:db8::5");
    vg_targets_free(t);

    t = BUILD(NULL, "2001:db8::5/128");
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_free(t);

    t = BUILD(NULL, "2001:db8::1:77/120");
    assert_int_equal(vg_targets_count(t), 256);
    expect_at(t, 0, "2001:db8::1:0");
    expect_at(t, 255, "2001:db8::1:ff");
    vg_targets_free(t);

    t = BUILD(NULL, "2001:db8::1-2001:db8::ff");
    assert_int_equal(vg_targets_count(t), 255);
    expect_at(t, 254, "2001:db8::ff");
    vg_targets_free(t);

    /* 2^63 addresses still fit; the index reaches the top of the block. */
    t = BUILD(NULL, "2001:db8::/65");
    assert_int_equal(vg_targets_count(t), UINT64_C(1) << 63);
    expect_at(t, (UINT64_C(1) << 63) - 1, "2001:db8::7fff:ffff:ffff:ffff");
    vg_targets_free(t);

    t = BUILD(NULL, "::ffff:198.18.0.1");
    expect_at(t, 0, "::ffff:198.18.0.1");
    vg_targets_free(t);
}

static void test_too_many(void **state)
{
    (void)state;
    FINALIZE_FAILS(NULL, VG_EINVAL, "too many addresses", "::/0");
    /* 2^64 is one more than uint64_t holds. */
    FINALIZE_FAILS(NULL, VG_EINVAL, "too many addresses", "2001:db8::/64");
    FINALIZE_FAILS(NULL, VG_EINVAL, "too many addresses", "2001:db8::/65",
                   "2001:db8:1::/65", "198.18.0.0/31");
}

static void test_link_local(void **state)
{
    (void)state;
    unsigned lo = if_nametoindex("lo");
    vg_targets *t;
    vg_addr a;
    char spec[32];

    assert_true(lo > 0);
    t = BUILD(NULL, "fe80::1%lo");
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_get(t, 0, &a);
    assert_int_equal(a.scope_id, lo);
    expect_at(t, 0, "fe80::1%lo");
    vg_targets_free(t);

    /* Numeric scope; the same address on the same interface merges. */
    snprintf(spec, sizeof(spec), "fe80::1%%%u", lo);
    t = BUILD(NULL, spec, "fe80::1%lo", "fe80::/127%lo", "fe80::%lo/128");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 0, "fe80::%lo");
    expect_at(t, 1, "fe80::1%lo");
    vg_targets_free(t);

    /* The same address without a scope is a different target. */
    t = BUILD(NULL, "fe80::1", "fe80::1%lo");
    assert_int_equal(vg_targets_count(t), 2);
    vg_targets_free(t);

    /* An exclude without a scope matches every interface. */
    t = BUILD(NULL, "fe80::1-fe80::3%lo", "!fe80::2");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 1, "fe80::3%lo");
    vg_targets_free(t);

    add_fails("fe80::1%nosuchif0", "unknown interface 'nosuchif0'");
    add_fails("fe80::1%", "missing interface name");
    add_fails("198.18.0.1%lo", "needs an IPv6 address");
}

/* ---- merging, ordering, excludes ---------------------------------------- */

static void test_merge(void **state)
{
    (void)state;
    vg_targets *t = BUILD(NULL, "198.18.0.0/24", "198.18.0.128/25", "198.18.1.0-10",
                          "198.18.0.5", "198.18.0.5");
    /* The /25 and the duplicate are inside the /24; .1.0-10 is adjacent. */
    assert_int_equal(vg_targets_count(t), 256 + 11);
    expect_at(t, 255, "198.18.0.255");
    expect_at(t, 256, "198.18.1.0");
    expect_at(t, 266, "198.18.1.10");
    vg_targets_free(t);

    t = BUILD(NULL, "198.18.0.1", "198.18.0.1", "198.18.0.1");
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_free(t);

    /* Overlapping ranges given out of order. */
    t = BUILD(NULL, "198.18.0.50-198.18.0.60", "198.18.0.10-55", "198.18.0.58-70");
    assert_int_equal(vg_targets_count(t), 61);
    expect_at(t, 0, "198.18.0.10");
    expect_at(t, 60, "198.18.0.70");
    vg_targets_free(t);

    t = BUILD(NULL, "255.255.255.255", "255.255.255.254", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
              "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
    assert_int_equal(vg_targets_count(t), 4);
    expect_at(t, 3, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    vg_targets_free(t);
}

static void test_order(void **state)
{
    (void)state;
    vg_targets *t = BUILD(NULL, "2001:db8::1", "198.18.0.5", "::", "198.18.0.1");
    vg_addr a;

    assert_int_equal(vg_targets_count(t), 4);
    expect_at(t, 0, "198.18.0.1");
    expect_at(t, 1, "198.18.0.5");
    expect_at(t, 2, "::");
    expect_at(t, 3, "2001:db8::1");
    /* Out of range: a zeroed address. */
    vg_targets_get(t, 4, &a);
    assert_int_equal(a.family, 0);
    vg_targets_free(t);
}

static void test_excludes(void **state)
{
    (void)state;
    vg_targets *t = BUILD(NULL, "198.18.0.0/24", "!198.18.0.0-9", "!198.18.0.5-19",
                          "!198.18.0.255", "!198.18.0.100", "!198.19.0.0/16", "!2001:db8::/32");
    /* 256 - 20 (0-19) - 1 (255) - 1 (100) */
    assert_int_equal(vg_targets_count(t), 234);
    expect_at(t, 0, "198.18.0.20");
    expect_at(t, 79, "198.18.0.99");
    expect_at(t, 80, "198.18.0.101");
    expect_at(t, 233, "198.18.0.254");
    vg_targets_free(t);

    /* An exclude covering several targets and reaching past them. */
    t = BUILD(NULL, "198.18.0.1", "198.18.0.3", "198.18.0.5", "198.18.0.9",
              "!198.18.0.2-198.18.0.6");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 0, "198.18.0.1");
    expect_at(t, 1, "198.18.0.9");
    vg_targets_free(t);

    t = BUILD(NULL, "2001:db8::/120", "!2001:db8::/121");
    assert_int_equal(vg_targets_count(t), 128);
    expect_at(t, 0, "2001:db8::80");
    vg_targets_free(t);

    FINALIZE_FAILS(NULL, VG_EINVAL, "no targets left after exclusions",
                   "198.18.0.0/24", "!198.18.0.0/25", "!198.18.0.100-198.18.0.255");
    FINALIZE_FAILS(NULL, VG_EINVAL, "no targets left after exclusions",
                   "198.18.0.1", "!0.0.0.0/0");
    FINALIZE_FAILS(NULL, VG_EINVAL, "no targets given", "!198.18.0.1");

    vg_targets *e = vg_targets_new();
    vg_error err;
    assert_int_equal(vg_targets_finalize(e, NULL, &err), VG_EINVAL);
    expect_msg(&err, "no targets given");
    vg_targets_free(e);
}

static void test_family_filter(void **state)
{
    (void)state;
    vg_resolve_opts v4 = opts_for(NULL, AF_INET, false);
    vg_resolve_opts v6 = opts_for(NULL, AF_INET6, false);

    FINALIZE_FAILS(&v4, VG_EINVAL, "argument 2: '::1': IPv6 target, but only IPv4",
                   "198.18.0.1", "::1");
    FINALIZE_FAILS(&v6, VG_EINVAL, "argument 1: '198.18.0.0/24': IPv4 target, but only IPv6",
                   "198.18.0.0/24", "::1");
    /* Excludes of the other family are simply irrelevant. */
    vg_targets *t = BUILD(&v4, "198.18.0.1", "!::1");
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_free(t);
}

/* ---- syntax errors ------------------------------------------------------ */

static void test_invalid(void **state)
{
    (void)state;
    add_fails("300.1.1.1", "argument 1: '300.1.1.1': octet 300 out of range 0-255");
    add_fails("1.2.3.4/33", "'1.2.3.4/33': prefix length 33 out of range 0-32");
    add_fails("1.2.3", "'1.2.3': expected 4 octets, found 3");
    add_fails("1.2.3.4.5", "expected 4 octets");
    add_fails("198.18.0.20-10", "reversed range: start 198.18.0.20 is after end 198.18.0.10");
    add_fails("198.18.1.0-198.18.0.255", "reversed range");
    add_fails("198.18.0.1-256", "end of range 256 out of range 0-255");
    add_fails("198.18.0.1-", "missing end of range");
    add_fails("-198.18.0.1", "missing start of range");
    add_fails("1.2.3.4/", "missing prefix length after '/'");
    add_fails("/24", "missing address before '/'");
    add_fails("1.2.3.4/x", "prefix length 'x' is not a number");
    add_fails("1.2.3.4/24/1", "is not a number");
    add_fails("198.18.0.1-5/24", "a range cannot have a prefix length");
    add_fails("", "empty target specification");
    add_fails("a..b", "'a..b': empty label at position 3");
    add_fails(".example", "empty label at position 1");
    add_fails("foo bar", "unexpected character ' ' at position 4");
    add_fails("-foo", "label starts with '-'");
    add_fails("foo-.bar", "label ends with '-'");
    add_fails("1..2.3", "empty octet 2 at position 3");
    add_fails("1.2.3.04", "octet '04' has a leading zero");
    add_fails("::1/129", "'::1/129': prefix length 129 out of range 0-128");
    add_fails("2001:db8::1::2", "'::' appears more than once");
    add_fails("12345::1", "more than 4 hex digits");
    add_fails("2001:db8::g", "unexpected character 'g'");
    add_fails("1:2:3:4:5:6:7:8:9", "not a valid IPv6 address");
    add_fails("2001:db8::ff-2001:db8::1", "reversed range");
    add_fails("bad\x1b[31m", "'bad?[31m'");

    /* Without `where` the message starts with the quoted spec. */
    vg_targets *t = vg_targets_new();
    vg_error err;
    assert_int_equal(vg_targets_add(t, "1.2.3", NULL, &err), VG_EINVAL);
    assert_int_equal(strncmp(err.msg, "'1.2.3': ", 9), 0);
    vg_targets_free(t);
}

static void test_finalized_is_read_only(void **state)
{
    (void)state;
    vg_targets *t = BUILD(NULL, "198.18.0.1");
    vg_error err;

    assert_int_equal(vg_targets_add(t, "198.18.0.2", NULL, &err), VG_EINVAL);
    expect_msg(&err, "finalized");
    assert_int_equal(vg_targets_finalize(t, NULL, &err), VG_EINVAL);
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_free(t);
}

/* ---- files -------------------------------------------------------------- */

static void test_file(void **state)
{
    (void)state;
    char *path = write_temp("# targets for the test\n"
                            "\n"
                            "198.18.0.1 198.18.0.2,198.18.0.3   # trailing comment\n"
                            "   \t\n"
                            "2001:db8::/126\r\n"
                            "198.18.0.3");
    char *ex = write_temp("198.18.0.2\n# nothing else\n");
    vg_targets *t = vg_targets_new();
    vg_error err;

    assert_int_equal(vg_targets_add_file(t, path, false, &err), VG_OK);
    assert_int_equal(vg_targets_add_file(t, ex, true, &err), VG_OK);
    assert_int_equal(vg_targets_finalize(t, NULL, &err), VG_OK);
    assert_int_equal(vg_targets_count(t), 2 + 4);
    expect_at(t, 0, "198.18.0.1");
    expect_at(t, 1, "198.18.0.3");
    expect_at(t, 2, "2001:db8::");
    vg_targets_free(t);
    unlink(path);
    unlink(ex);
    free(path);
    free(ex);
}

static void test_file_errors(void **state)
{
    (void)state;
    char *bad = write_temp("198.18.0.1\n# comment\n198.18.0.2, 300.1.1.1\n");
    char *empty = write_temp("# only a comment\n\n   \n");
    char *nothing = write_temp("");
    char where[64];
    vg_targets *t = vg_targets_new();
    vg_error err;

    assert_int_equal(vg_targets_add_file(t, bad, false, &err), VG_EINVAL);
    snprintf(where, sizeof(where), "%s:3: '300.1.1.1': octet 300", bad);
    expect_msg(&err, where);

    assert_int_equal(vg_targets_add_file(t, empty, false, &err), VG_EINVAL);
    expect_msg(&err, "no target specification in file");
    expect_msg(&err, empty);
    assert_int_equal(vg_targets_add_file(t, nothing, true, &err), VG_EINVAL);
    expect_msg(&err, "no target specification in file");

    assert_int_equal(vg_targets_add_file(t, "/nonexistent/vigia-targets", false, &err),
                     VG_EINVAL);
    expect_msg(&err, "/nonexistent/vigia-targets: cannot open target file");
    expect_msg(&err, "No such file");

    assert_int_equal(vg_targets_add_file(t, "/tmp", false, &err), VG_EINVAL);
    expect_msg(&err, "/tmp: cannot read target file");
    vg_targets_free(t);

    unlink(bad);
    unlink(empty);
    unlink(nothing);
    free(bad);
    free(empty);
    free(nothing);
}

/* ---- names -------------------------------------------------------------- */

static void test_localhost(void **state)
{
    struct dns_server *dns = *state;
    vg_resolve_opts o = opts_for(dns, AF_INET, false);
    vg_targets *t = BUILD(&o, "localhost");
    vg_addr a;

    assert_int_equal(vg_targets_count(t), 1);
    expect_at(t, 0, "127.0.0.1");
    vg_targets_get(t, 0, &a);
    assert_string_equal(vg_targets_name(t, &a), "localhost");
    vg_targets_free(t);

    /* Both families, first address: /etc/hosts only has 127.0.0.1. */
    o = opts_for(dns, 0, false);
    t = BUILD(&o, "localhost", "127.0.0.2");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 0, "127.0.0.1");
    vg_targets_get(t, 1, &a);
    assert_null(vg_targets_name(t, &a));
    vg_targets_free(t);

    /* Case does not matter, nor a final dot. */
    o = opts_for(dns, AF_INET, true);
    t = BUILD(&o, "LocalHost");
    expect_at(t, 0, "127.0.0.1");
    vg_targets_get(t, 0, &a);
    assert_string_equal(vg_targets_name(t, &a), "LocalHost");
    vg_targets_free(t);

    /* /etc/hosts has no ::1 line for localhost: ::1 per RFC 6761. */
    o = opts_for(dns, AF_INET6, false);
    t = BUILD(&o, "localhost");
    assert_int_equal(vg_targets_count(t), 1);
    expect_at(t, 0, "::1");
    vg_targets_free(t);

    /* Resolution also works without a DNS server list of our own: /etc/hosts
     * answers before any DNS server would be asked. */
    o = opts_for(NULL, AF_INET, false);
    t = BUILD(&o, "localhost");
    expect_at(t, 0, "127.0.0.1");
    vg_targets_free(t);
}

static unsigned dns_queries(struct dns_server *dns)
{
    return __atomic_load_n(&dns->queries, __ATOMIC_SEQ_CST);
}

/* RFC 6761: localhost names are loopback and .invalid names fail, and
 * neither is ever sent to the DNS server; other names are. */
static void test_special_names_never_queried(void **state)
{
    struct dns_server *dns = *state;
    vg_resolve_opts o = opts_for(dns, 0, true);
    unsigned before = dns_queries(dns);
    vg_targets *t;

    /* Not in /etc/hosts: both loopback addresses. */
    t = BUILD(&o, "foo.localhost", "A.B.LocalHost.");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 0, "127.0.0.1");
    expect_at(t, 1, "::1");
    vg_targets_free(t);
    o = opts_for(dns, AF_INET6, true);
    t = BUILD(&o, "foo.localhost");
    assert_int_equal(vg_targets_count(t), 1);
    expect_at(t, 0, "::1");
    vg_targets_free(t);
    FINALIZE_FAILS(&o, VG_ERESOLVE, "RFC 6761", "x.invalid");
    FINALIZE_FAILS(&o, VG_ERESOLVE, "RFC 6761", "INVALID.");
    assert_int_equal(dns_queries(dns), before);

    /* Look-alikes are ordinary names: the server is asked (and says
     * NXDOMAIN). */
    o = opts_for(dns, AF_INET, false);
    FINALIZE_FAILS(&o, VG_ERESOLVE, "does not resolve", "notlocalhost");
    assert_true(dns_queries(dns) > before);
    before = dns_queries(dns);
    FINALIZE_FAILS(&o, VG_ERESOLVE, "does not resolve", "localhost.vigia.test");
    assert_true(dns_queries(dns) > before);
}

/* hosts_only: no DNS query at all; names only DNS knows stay unresolved. */
static void test_hosts_only(void **state)
{
    struct dns_server *dns = *state;
    vg_resolve_opts o = opts_for(dns, AF_INET, false);
    unsigned before = dns_queries(dns);
    bool exclude = true;
    vg_targets *t;

    o.hosts_only = true;
    t = BUILD(&o, "two.vigia.test", "localhost", "198.18.0.5", "!v4only.vigia.test");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 0, "127.0.0.1");
    expect_at(t, 1, "198.18.0.5");
    assert_int_equal(vg_targets_unresolved_count(t), 2);
    assert_string_equal(vg_targets_unresolved(t, 0, &exclude), "two.vigia.test");
    assert_false(exclude);
    assert_string_equal(vg_targets_unresolved(t, 1, &exclude), "v4only.vigia.test");
    assert_true(exclude);
    assert_null(vg_targets_unresolved(t, 2, NULL));
    vg_targets_free(t);

    /* Nothing resolved but a name is pending: an empty set, not an error. */
    t = BUILD(&o, "two.vigia.test");
    assert_int_equal(vg_targets_count(t), 0);
    assert_int_equal(vg_targets_unresolved_count(t), 1);
    vg_targets_free(t);
    /* .invalid stays an error. */
    FINALIZE_FAILS(&o, VG_ERESOLVE, "RFC 6761", "two.vigia.test", "x.invalid");
    assert_int_equal(dns_queries(dns), before);

    /* The same name without hosts_only is asked and resolves. */
    o.hosts_only = false;
    t = BUILD(&o, "two.vigia.test");
    assert_int_equal(vg_targets_count(t), 1);
    assert_int_equal(vg_targets_unresolved_count(t), 0);
    vg_targets_free(t);
    assert_true(dns_queries(dns) > before);
}

static void test_dns_names(void **state)
{
    struct dns_server *dns = *state;
    vg_resolve_opts o = opts_for(dns, AF_INET, true);
    vg_targets *t = BUILD(&o, "two.vigia.test", "v4only.vigia.test");
    vg_addr a;

    assert_int_equal(vg_targets_count(t), 3);
    expect_at(t, 0, "198.18.0.1");
    expect_at(t, 1, "198.18.0.2");
    expect_at(t, 2, "198.18.0.9");
    vg_targets_get(t, 1, &a);
    assert_string_equal(vg_targets_name(t, &a), "two.vigia.test");
    vg_targets_get(t, 2, &a);
    assert_string_equal(vg_targets_name(t, &a), "v4only.vigia.test");
    vg_targets_free(t);

    /* Only the first address without all_addresses. */
    o = opts_for(dns, AF_INET, false);
    t = BUILD(&o, "two.vigia.test");
    assert_int_equal(vg_targets_count(t), 1);
    vg_targets_free(t);

    o = opts_for(dns, AF_INET6, true);
    t = BUILD(&o, "two.vigia.test");
    assert_int_equal(vg_targets_count(t), 1);
    expect_at(t, 0, "2001:db8::1");
    vg_targets_free(t);

    o = opts_for(dns, 0, true);
    t = BUILD(&o, "two.vigia.test", "198.18.0.1");
    assert_int_equal(vg_targets_count(t), 3);
    expect_at(t, 2, "2001:db8::1");
    /* The literal and the name share 198.18.0.1: the name is still known. */
    vg_targets_get(t, 0, &a);
    assert_string_equal(vg_targets_name(t, &a), "two.vigia.test");
    vg_targets_free(t);

    /* A name as an exclude removes all of its addresses. */
    o = opts_for(dns, AF_INET, false);
    t = BUILD(&o, "198.18.0.0/30", "!two.vigia.test");
    assert_int_equal(vg_targets_count(t), 2);
    expect_at(t, 0, "198.18.0.0");
    expect_at(t, 1, "198.18.0.3");
    vg_targets_free(t);
}

static void test_dns_errors(void **state)
{
    struct dns_server *dns = *state;
    vg_resolve_opts o = opts_for(dns, 0, false);
    vg_resolve_opts o6 = opts_for(dns, AF_INET6, false);
    vg_resolve_opts bad = { 0, false, "not-an-address", 1000 };
    vg_resolve_opts empty = { 0, false, "", 1000 };

    FINALIZE_FAILS(&o, VG_ERESOLVE,
                   "argument 2: 'nosuch.invalid': name does not resolve (",
                   "198.18.0.1", "nosuch.invalid");
    FINALIZE_FAILS(&o6, VG_ERESOLVE,
                   "argument 1: 'v4only.vigia.test': name does not resolve to an IPv6"
                   " address", "v4only.vigia.test");
    FINALIZE_FAILS(&o, VG_ERESOLVE, "'nosuch.invalid'", "198.18.0.1", "!nosuch.invalid");
    FINALIZE_FAILS(&bad, VG_EINVAL, "--dns-servers: 'not-an-address' is not ADDR[:PORT]",
                   "nosuch.invalid");
    FINALIZE_FAILS(&empty, VG_EINVAL, "--dns-servers: empty list", "nosuch.invalid");
    /* Checked even when no name needs resolving. */
    FINALIZE_FAILS(&bad, VG_EINVAL, "--dns-servers", "198.18.0.1");
}

static void test_dns_timeout(void **state)
{
    (void)state;
    struct dns_server *silent = dns_start(true);
    vg_resolve_opts o = { AF_INET, false, silent->servers, 300 };
    struct timespec t0, t1;
    double secs;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    FINALIZE_FAILS(&o, VG_ERESOLVE, "name does not resolve to an IPv4 address (Timeout",
                   "slow.vigia.test");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs >= 0.25 && secs < 2.0);
    assert_true(__atomic_load_n(&silent->queries, __ATOMIC_SEQ_CST) >= 1);
    dns_stop(silent);
}

/* --dns-servers: ADDR, ADDR:PORT, [ADDR6], [ADDR6]:PORT and bare IPv6,
 * comma-separated; anything else names the bad item. */
static void test_dns_server_lists(void **state)
{
    static const char *const good[] = {
        "127.0.0.1", "127.0.0.1:5353", "[::1]", "[::1]:53", "::1", "2001:db8::1",
        "127.0.0.1,[::1]:5353,2001:db8::53", "198.18.0.1:65535",
    };
    static const char *const bad[] = {
        "", "127.0.0.1,", ",127.0.0.1", "[::1", "[]", "[::1]x", "[::1]:", "[zz]", "[::1]:0",
        "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:5x", ":53", "300.1.2.3",
        "::1::2", "host.example", "[127.0.0.1]",
    };
    vg_error err;
    (void)state;
    for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if(vg_dns_servers_check(good[i], &err) != VG_OK)
            fail_msg("'%s' refused: %s", good[i], err.msg);
    }
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        if(vg_dns_servers_check(bad[i], &err) == VG_OK)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err.msg, "--dns-servers"));
    }
    assert_int_not_equal(vg_dns_servers_check(NULL, &err), VG_OK);
}

/* A deadline shorter than three of the shortest tries still asks once and
 * ends in time. */
static void test_dns_short_deadline(void **state)
{
    (void)state;
    struct dns_server *silent = dns_start(true);
    vg_resolve_opts o = { AF_INET, false, silent->servers, 150 };
    struct timespec t0, t1;
    double secs;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    FINALIZE_FAILS(&o, VG_ERESOLVE, "Timeout", "slow.vigia.test");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs >= 0.1 && secs < 2.0);
    dns_stop(silent);
}

static int group_setup(void **state)
{
    *state = dns_start(false);
    return 0;
}

static int group_teardown(void **state)
{
    dns_stop(*state);
    return 0;
}

/* Special blocks are dropped from ranges that merely include them, kept
 * when a spec names them, and all kept with allow_special. */
static void test_special_addresses(void **state)
{
    vg_resolve_opts allow = { 0, false, NULL, 0, true };
    vg_targets *t;
    (void)state;

    t = BUILD(NULL, "0.0.0.0/7");
    assert_int_equal(vg_targets_count(t), 1u << 24);
    assert_int_equal(vg_targets_special_skipped(t), 1u << 24);
    expect_at(t, 0, "1.0.0.0");
    vg_targets_free(t);

    t = BUILD(NULL, "223.255.255.254-224.0.0.1");
    assert_int_equal(vg_targets_count(t), 2);
    assert_int_equal(vg_targets_special_skipped(t), 2);
    vg_targets_free(t);

    /* Named explicitly: wholly inside a special block. */
    t = BUILD(NULL, "224.0.0.1", "0.0.0.0", "ff02::1", "255.255.255.255");
    assert_int_equal(vg_targets_count(t), 4);
    assert_int_equal(vg_targets_special_skipped(t), 0);
    vg_targets_free(t);

    t = BUILD(NULL, "::/127", "feff:ffff:ffff:ffff:ffff:ffff:ffff:fff0-ff00::f");
    assert_int_equal(vg_targets_count(t), 1 + 16);
    assert_int_equal(vg_targets_special_skipped(t), 1 + 16);
    expect_at(t, 0, "::1");
    vg_targets_free(t);

    /* 240.0.0.0/4 is reserved; with 224.0.0.0/4 nothing is left. */
    FINALIZE_FAILS(NULL, VG_EINVAL, "no targets left", "224.0.0.0/3");

    t = BUILD(&allow, "224.0.0.0/3");
    assert_int_equal(vg_targets_count(t), 1u << 29);
    assert_int_equal(vg_targets_special_skipped(t), 0);
    vg_targets_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_single),
        cmocka_unit_test(test_ipv4_cidr),
        cmocka_unit_test(test_ipv4_ranges),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_link_local),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_excludes),
        cmocka_unit_test(test_family_filter),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_finalized_is_read_only),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_localhost),
        cmocka_unit_test(test_dns_names),
        cmocka_unit_test(test_special_names_never_queried),
        cmocka_unit_test(test_hosts_only),
        cmocka_unit_test(test_dns_errors),
        cmocka_unit_test(test_dns_timeout),
        cmocka_unit_test(test_dns_server_lists),
        cmocka_unit_test(test_dns_short_deadline),
        cmocka_unit_test(test_special_addresses),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
