/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure readers the fuzz targets drive: STARTTLS replies
 * (starttls_wire.h), ICMP echo replies, the UDP error queue, the HTTP
 * status line, DNS answer matching (check_parse.h) and the services table
 * (services_internal.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <time.h> /* before linux/errqueue.h, which uses struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>

#include "check/check_parse.h"
#include "check/starttls_wire.h"
#include "ports/services_internal.h"
#include "vigia/check.h"

/* Feeds text to st_feed line by line; returns the last verdict's action
 * and counts the commands it asked to send. */
static int feed_all(st_parser *p, const char *text, unsigned *sends, st_verdict *last)
{
    const uint8_t *in = (const uint8_t *)text;
    size_t len = strlen(text);
    /* Static: the verdict's text may point into it, and the caller reads
     * that text after this function has returned. */
    static uint8_t line[ST_LINE_KEEP];
    *sends = 0;
    for(;;) {
        size_t used = st_feed(p, in, len, 16384, line, last);
        in += used;
        len -= used;
        if(last->action == ST_A_SEND)
            (*sends)++;
        else if(last->action != ST_A_MORE)
            return last->action;
    }
}

static void test_smtp(void **state)
{
    st_parser p = {.proto = P_SMTP};
    st_verdict v;
    unsigned sends;
    (void)state;
    assert_int_equal(feed_all(&p, "220-mx ESMTP\r\n220 ready\r\n250-mx\r\n250-SIZE 1000\r\n250 STARTTLS\r\n220 go\r\n",
                              &sends, &v), ST_A_TLS);
    assert_int_equal(sends, 2);
    assert_int_equal(p.step, S_REPLY);

    p = (st_parser){.proto = P_SMTP};
    assert_int_equal(feed_all(&p, "220 mx\r\n250-mx\r\n250 8BITMIME\r\n", &sends, &v), ST_A_FAIL);
    assert_int_equal(v.reason, VG_CR_STARTTLS);
    assert_memory_equal(v.text, "250 8BITMIME", 12);

    /* "STARTTLSX" is not the STARTTLS keyword */
    p = (st_parser){.proto = P_SMTP};
    assert_int_equal(feed_all(&p, "220 mx\r\n250 STARTTLSX\r\n", &sends, &v), ST_A_FAIL);
    assert_int_equal(v.reason, VG_CR_STARTTLS);

    p = (st_parser){.proto = P_SMTP};
    assert_int_equal(feed_all(&p, "554 no service\r\n", &sends, &v), ST_A_FAIL);
    assert_int_equal(v.reason, VG_CR_SERVER_ERROR);
    assert_int_equal(v.banner, ST_BANNER_FIRST);

    p = (st_parser){.proto = P_SMTP};
    assert_int_equal(feed_all(&p, "SSH-2.0-x\r\n", &sends, &v), ST_A_FAIL);
    assert_int_equal(v.reason, VG_CR_PROTOCOL_ERROR);

    /* an incomplete line waits; a full buffer without a newline fails */
    p = (st_parser){.proto = P_SMTP};
    assert_int_equal(feed_all(&p, "220 partial", &sends, &v), ST_A_WAIT);
    {
        uint8_t big[100], line[ST_LINE_KEEP];
        memset(big, 'a', sizeof(big));
        assert_int_equal(st_feed(&p, big, sizeof(big), sizeof(big), line, &v), 0);
        assert_int_equal(v.action, ST_A_FAIL);
        assert_int_equal(v.len, 64);
    }
}

static void test_imap(void **state)
{
    st_parser p = {.proto = P_IMAP};
    st_verdict v;
    unsigned sends;
    (void)state;
    assert_int_equal(feed_all(&p, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n* CAPABILITY X\r\nv1 OK go\r\n",
                              &sends, &v), ST_A_TLS);
    assert_int_equal(sends, 1);
    p = (st_parser){.proto = P_IMAP};
    assert_int_equal(feed_all(&p, "* BYE busy\r\n", &sends, &v), ST_A_FAIL);
    assert_int_equal(v.reason, VG_CR_SERVER_ERROR);
    assert_int_equal(v.banner, ST_BANNER_SET);
    p = (st_parser){.proto = P_IMAP};
    assert_int_equal(feed_all(&p, "* OK ready\r\nv1 BAD no\r\n", &sends, &v), ST_A_FAIL);
    assert_int_equal(v.reason, VG_CR_STARTTLS);
}

static void test_pg(void **state)
{
    static const uint8_t err[] = "E\0\0\0\x14SFATAL\0Mno ssl\0\0";
    st_verdict v;
    (void)state;
    assert_int_equal(st_pg_reply((const uint8_t *)"S", 1, &v), 1);
    assert_int_equal(v.action, ST_A_TLS);
    assert_int_equal(st_pg_reply((const uint8_t *)"N", 1, &v), 0);
    assert_int_equal(v.reason, VG_CR_STARTTLS);
    assert_int_equal(st_pg_reply(err, sizeof(err) - 1, &v), 0);
    assert_int_equal(v.action, ST_A_FAIL);
    assert_int_equal(v.reason, VG_CR_SERVER_ERROR);
    assert_int_equal(v.len, 6);
    assert_memory_equal(v.text, "no ssl", 6);
    /* the error is not complete yet */
    assert_int_equal(st_pg_reply(err, 10, &v), 0);
    assert_int_equal(v.action, ST_A_WAIT);
    assert_int_equal(st_pg_reply((const uint8_t *)"E\x7f\0\0\0", 5, &v), 0);
    assert_int_equal(v.reason, VG_CR_PROTOCOL_ERROR);
}

static void test_icmp(void **state)
{
    uint8_t ping[8] = {0, 0, 0, 0, 0x12, 0x34, 0, 7};
    uint8_t raw[28] = {0x45};
    uint16_t id = 0, seq = 0;
    (void)state;
    assert_true(icmp_parse_echo_reply(ping, 8, false, false, &id, &seq));
    assert_int_equal(id, 0x1234);
    assert_int_equal(seq, 7);
    assert_false(icmp_parse_echo_reply(ping, 7, false, false, &id, &seq));
    assert_false(icmp_parse_echo_reply(ping, 8, false, true, &id, &seq)); /* not an ICMPv6 echo reply */
    memcpy(raw + 20, ping, 8);
    assert_true(icmp_parse_echo_reply(raw, sizeof(raw), true, false, &id, &seq));
    raw[0] = 0x4f; /* a header longer than the packet */
    assert_false(icmp_parse_echo_reply(raw, sizeof(raw), true, false, &id, &seq));
}

static void test_udp_errqueue(void **state)
{
    union {
        struct cmsghdr c;
        uint8_t b[CMSG_SPACE(sizeof(struct sock_extended_err))];
    } u;
    struct sock_extended_err ee = {.ee_errno = 111, .ee_origin = SO_EE_ORIGIN_ICMP, .ee_type = 3, .ee_code = 3};
    struct msghdr mh;
    const char *what;
    (void)state;
    memset(&u, 0, sizeof(u));
    u.c.cmsg_len = CMSG_LEN(sizeof(ee));
    u.c.cmsg_level = SOL_IP;
    u.c.cmsg_type = IP_RECVERR;
    memcpy(CMSG_DATA(&u.c), &ee, sizeof(ee));
    memset(&mh, 0, sizeof(mh));
    mh.msg_control = u.b;
    mh.msg_controllen = sizeof(u.b);
    assert_int_equal(udp_errqueue_reason(&mh, &what), VG_CR_PORT_UNREACH);
    assert_string_equal(what, "ICMP port unreachable");
    /* A first header that claims more than the buffer holds is not read. */
    mh.msg_controllen = sizeof(struct cmsghdr) + 4;
    assert_int_equal(udp_errqueue_reason(&mh, &what), -1);
    assert_null(what);
}

/* Fills u with one error-queue header and returns the reason read from it. */
static int errqueue_one(int level, int type, size_t data_len, const struct sock_extended_err *ee,
                        const char **what)
{
    static union {
        struct cmsghdr c;
        uint8_t b[CMSG_SPACE(sizeof(struct sock_extended_err))];
    } u;
    struct msghdr mh;
    memset(&u, 0, sizeof(u));
    u.c.cmsg_len = CMSG_LEN(data_len);
    u.c.cmsg_level = level;
    u.c.cmsg_type = type;
    memcpy(CMSG_DATA(&u.c), ee, data_len < sizeof(*ee) ? data_len : sizeof(*ee));
    memset(&mh, 0, sizeof(mh));
    mh.msg_control = u.b;
    mh.msg_controllen = sizeof(u.b);
    return udp_errqueue_reason(&mh, what);
}

static void test_udp_errqueue_kinds(void **state)
{
    static const struct {
        int level, type;
        uint8_t origin, icmp_type, icmp_code;
        uint32_t err;
        int reason;
        const char *what;
    } cases[] = {
        {SOL_IP, IP_RECVERR, SO_EE_ORIGIN_ICMP, 3, 0, 113, VG_CR_NET_UNREACH, "ICMP network unreachable"},
        {SOL_IP, IP_RECVERR, SO_EE_ORIGIN_ICMP, 3, 1, 113, VG_CR_HOST_UNREACH, "ICMP host unreachable or prohibited"},
        {SOL_IP, IP_RECVERR, SO_EE_ORIGIN_ICMP, 3, 13, 113, VG_CR_HOST_UNREACH, "ICMP host unreachable or prohibited"},
        {SOL_IP, IP_RECVERR, SO_EE_ORIGIN_ICMP, 11, 0, 113, VG_CR_CONN_ERROR, "ICMP error"},
        {SOL_IPV6, IPV6_RECVERR, SO_EE_ORIGIN_ICMP6, 1, 4, 111, VG_CR_PORT_UNREACH, "ICMPv6 port unreachable"},
        {SOL_IPV6, IPV6_RECVERR, SO_EE_ORIGIN_ICMP6, 1, 0, 101, VG_CR_NET_UNREACH, "ICMPv6 no route"},
        {SOL_IPV6, IPV6_RECVERR, SO_EE_ORIGIN_ICMP6, 1, 1, 113,
         VG_CR_HOST_UNREACH, "ICMPv6 destination unreachable or prohibited"},
        {SOL_IPV6, IPV6_RECVERR, SO_EE_ORIGIN_ICMP6, 3, 0, 113, VG_CR_CONN_ERROR, "ICMPv6 error"},
        /* Not from ICMP (the local stack): only a refusal means something. */
        {SOL_IP, IP_RECVERR, SO_EE_ORIGIN_LOCAL, 0, 0, 111, VG_CR_PORT_UNREACH, "port unreachable"},
        {SOL_IP, IP_RECVERR, SO_EE_ORIGIN_LOCAL, 0, 0, 90, -1, NULL},
        /* Headers that are not an extended error are passed over. */
        {SOL_IP, IP_TTL, SO_EE_ORIGIN_ICMP, 3, 3, 111, -1, NULL},
        {SOL_SOCKET, IPV6_RECVERR, SO_EE_ORIGIN_ICMP6, 1, 4, 111, -1, NULL},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sock_extended_err ee = {.ee_errno = cases[i].err, .ee_origin = cases[i].origin,
                                       .ee_type = cases[i].icmp_type, .ee_code = cases[i].icmp_code};
        const char *what = "unset";
        assert_int_equal(errqueue_one(cases[i].level, cases[i].type, sizeof(ee), &ee, &what), cases[i].reason);
        if(cases[i].what)
            assert_string_equal(what, cases[i].what);
        else
            assert_null(what);
    }
    /* A header too short for the error it claims to carry is passed over. */
    struct sock_extended_err ee = {.ee_errno = 111, .ee_origin = SO_EE_ORIGIN_ICMP, .ee_type = 3, .ee_code = 3};
    const char *what;
    assert_int_equal(errqueue_one(SOL_IP, IP_RECVERR, sizeof(ee) - 4, &ee, &what), -1);
    assert_null(what);
}

static void test_http_status(void **state)
{
    char out[160];
    (void)state;
    assert_true(http_status_line(out, sizeof(out), "HTTP/1.1 200 OK\r\n", 17));
    assert_string_equal(out, "HTTP/1.1 200 OK");
    assert_false(http_status_line(out, sizeof(out), "Server: x\r\n", 11));
    assert_true(http_status_line(out, sizeof(out), "HTTP/1.1 200 \x1b[31m\r\n", 19));
    assert_null(strchr(out, '\x1b'));
}

static void test_dns_match(void **state)
{
    dnsmsg_rr a = {.type = 1, .rdata = {198, 18, 0, 7}};
    dnsmsg_rr mx = {.type = 15};
    (void)state;
    strcpy(a.text, "198.18.0.7");
    assert_true(dns_item_matches("198.18.0.7", &a));
    assert_true(dns_item_matches("198.18.0.0/15", &a));
    assert_false(dns_item_matches("198.18.0.8", &a));
    assert_false(dns_item_matches("198.18.0.0/33", &a));
    assert_false(dns_item_matches("2001:db8::/32", &a));
    strcpy(mx.text, "10 mx.vigia.test.");
    assert_true(dns_item_matches("MX.vigia.test", &mx));
    assert_true(dns_item_matches("10 mx.vigia.test", &mx));
    assert_false(dns_item_matches("20 mx.vigia.test", &mx));
}

static void test_services(void **state)
{
    char longname[80];
    vg_services *s = services_new();
    (void)state;
    assert_non_null(s);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    services_add(s, "ssh", 22, "tcp");
    services_add(s, "other", 22, "tcp");
    services_add(s, "domain", 53, "udp");
    services_add(s, longname, 9999, "tcp");
    services_add(s, "after", 9999, "tcp");
    services_add(s, "sctp-only", 9, "sctp");
    assert_string_equal(vg_services_name(s, 22, IPPROTO_TCP), "ssh");
    assert_null(vg_services_name(s, 22, IPPROTO_UDP));
    assert_string_equal(vg_services_name(s, 53, IPPROTO_UDP), "domain");
    assert_string_equal(vg_services_name(s, 9999, IPPROTO_TCP), "after");
    assert_null(vg_services_name(s, 9, IPPROTO_TCP));
    vg_services_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smtp),        cmocka_unit_test(test_imap),
        cmocka_unit_test(test_pg),          cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_udp_errqueue), cmocka_unit_test(test_udp_errqueue_kinds),
        cmocka_unit_test(test_http_status),
        cmocka_unit_test(test_dns_match),   cmocka_unit_test(test_services),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
