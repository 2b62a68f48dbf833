/* SPDX-License-Identifier: MIT */
/* Unit tests of the parsers of lib/check: dns:// and the other new
 * target specs, the DNS message reader (names, compression, every record
 * type, hostile messages) and the MySQL greeting parser (greetings, error
 * packets, truncated and oversized input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/dns_msg.h"
#include "check/mysql_wire.h"
#include "vigia/check.h"

/* --- specs ------------------------------------------------------------------ */

static void test_spec_dns(void **state)
{
    vg_check_target t;
    vg_error err = {0};
    (void)state;
    assert_int_equal(vg_check_target_parse(&t, "dns://127.0.0.1/www.example.org", &err), VG_OK);
    assert_string_equal(t.scheme, "dns");
    assert_int_equal(t.port, 53);
    assert_string_equal(t.dns_name, "www.example.org");
    assert_int_equal(t.dns_qtype, 1);
    assert_string_equal(t.url, "dns://127.0.0.1:53/www.example.org?type=A");
    assert_int_equal(vg_check_target_parse(&t, "dns://[::1]:5353/example.org?type=mx", &err), VG_OK);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 5353);
    assert_int_equal(t.dns_qtype, 15);
    assert_int_equal(vg_check_target_parse(&t, "DNS://ns1/x.org.?type=SOA", &err), VG_OK);
    assert_int_equal(t.dns_qtype, 6);
    assert_string_equal(t.dns_name, "x.org.");
    assert_int_equal(vg_check_target_parse(&t, "dns://ns1/_sip._tcp.x.org?type=SRV", &err), VG_OK);
    assert_int_equal(t.dns_qtype, 33);
    const char *bad[] = {
        "dns://127.0.0.1", "dns://127.0.0.1/", "dns://127.0.0.1/x?type=", "dns://127.0.0.1/x?type=ANY",
        "dns://127.0.0.1/x?kind=A", "dns://127.0.0.1/a..b", "dns://127.0.0.1/.a", "dns://127.0.0.1/a b",
        "dns://127.0.0.1:0/x", NULL,
    };
    for(int i = 0; bad[i]; i++)
        assert_int_equal(vg_check_target_parse(&t, bad[i], &err), VG_EINVAL);
}

static void test_spec_other_kinds(void **state)
{
    vg_check_target t;
    vg_error err = {0};
    (void)state;
    assert_int_equal(vg_check_target_parse(&t, "mysql://db", &err), VG_OK);
    assert_int_equal(t.port, 3306);
    assert_int_equal(vg_check_target_parse(&t, "postgres://db", &err), VG_OK);
    assert_string_equal(t.scheme, "postgres");
    assert_int_equal(t.port, 5432);
    assert_int_equal(vg_check_target_parse(&t, "icmp://[::1]", &err), VG_OK);
    assert_int_equal(t.port, 0);
    assert_string_equal(t.url, "icmp://[::1]");
    assert_int_equal(vg_check_target_parse(&t, "icmp://127.0.0.1:7", &err), VG_EINVAL);
    assert_int_equal(vg_check_target_parse(&t, "udp://127.0.0.1", &err), VG_EINVAL);
    assert_int_equal(vg_check_target_parse(&t, "udp://127.0.0.1:53", &err), VG_OK);
    assert_int_equal(vg_check_target_parse(&t, "mysql://db/x", &err), VG_EINVAL);
    assert_int_equal(vg_dns_rcode_parse("nxdomain"), 3);
    assert_int_equal(vg_dns_rcode_parse("bogus"), -1);
    assert_int_equal(vg_dns_type_parse("aaaa"), 28);
    assert_string_equal(vg_dns_type_name(16), "TXT");
}

/* --- DNS messages -------------------------------------------------------- */

struct msg {
    uint8_t b[1024];
    size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof(m->b));
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

/* Header + question "www.example.org" type qtype. */
static void start_msg(struct msg *m, unsigned flags, unsigned an, unsigned qtype)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, flags);
    put16(m, 1);
    put16(m, an);
    put16(m, 0);
    put16(m, 0);
    put(m, "\3www\7example\3org\0", 17);
    put16(m, qtype);
    put16(m, 1);
}

static void rr_head(struct msg *m, unsigned type, unsigned rdlen)
{
    put(m, "\xc0\x0c", 2); /* the question's name */
    put16(m, type);
    put16(m, 1);
    put32(m, 300);
    put16(m, rdlen);
}

static void test_dns_records(void **state)
{
    struct msg m;
    dnsmsg d;
    const char *why;
    (void)state;

    start_msg(&m, 0x8580, 6, 1);
    rr_head(&m, 1, 4);
    put(&m, "\xc0\x00\x02\x01", 4);
    rr_head(&m, 28, 16);
    put(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    rr_head(&m, 15, 7);
    put16(&m, 10);
    put(&m, "\2mx\xc0\x10", 5);
    rr_head(&m, 16, 12);
    put(&m, "\5hello\5world", 12);
    rr_head(&m, 5, 2);
    put(&m, "\xc0\x10", 2);
    rr_head(&m, 6, 2 + 2 + 20);
    put(&m, "\xc0\x10\xc0\x0c", 4);
    put32(&m, 2024010101);
    put32(&m, 3600);
    put32(&m, 600);
    put32(&m, 86400);
    put32(&m, 60);
    assert_int_equal(dnsmsg_parse(m.b, m.n, &d, &why, NULL, NULL), 0);
    assert_true(d.qr && d.aa && !d.tc);
    assert_int_equal(d.rcode, 0);
    assert_int_equal(d.nrr, 6);
    assert_string_equal(d.rr[0].text, "192.0.2.1");
    assert_string_equal(d.rr[1].text, "2001:db8::1");
    assert_string_equal(d.rr[2].text, "10 mx.example.org.");
    assert_string_equal(d.rr[3].text, "helloworld");
    assert_string_equal(d.rr[4].text, "example.org.");
    assert_string_equal(d.rr[5].text, "example.org. www.example.org. 2024010101 3600 600 86400 60");
}

static void test_dns_rcode_and_flags(void **state)
{
    struct msg m;
    dnsmsg d;
    const char *why;
    char buf[16];
    (void)state;
    start_msg(&m, 0x8383, 0, 1); /* NXDOMAIN, TC */
    assert_int_equal(dnsmsg_parse(m.b, m.n, &d, &why, NULL, NULL), 0);
    assert_int_equal(d.rcode, 3);
    assert_true(d.tc && !d.aa);
    assert_string_equal(dnsmsg_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN");
    assert_string_equal(dnsmsg_rcode_name(14, buf, sizeof(buf)), "RCODE14");
}

static void test_dns_hostile(void **state)
{
    struct msg m;
    dnsmsg d;
    const char *why;
    char name[64];
    size_t off;
    (void)state;

    /* an answer whose name points at itself */
    start_msg(&m, 0x8180, 1, 1);
    put16(&m, 0xC000 | (unsigned)m.n);
    put16(&m, 1);
    put16(&m, 1);
    put32(&m, 1);
    put16(&m, 4);
    put(&m, "\1\2\3\4", 4);
    assert_int_equal(dnsmsg_parse(m.b, m.n, &d, &why, NULL, NULL), -1);
    /* a forward pointer */
    start_msg(&m, 0x8180, 1, 1);
    put16(&m, 0xC000 | (unsigned)(m.n + 2));
    put(&m, "\0\0\1\0\1\0\0\0\1\0\4\1\2\3\4", 15);
    assert_int_equal(dnsmsg_parse(m.b, m.n, &d, &why, NULL, NULL), -1);
    /* two pointers pointing at each other */
    {
        uint8_t loop[] = {0xc0, 0x02, 0xc0, 0x00};
        off = 2;
        assert_int_equal(dnsmsg_read_name(loop, sizeof(loop), &off, name, sizeof(name)), -1);
    }
    /* every truncation of a good message is rejected, never over-read */
    start_msg(&m, 0x8180, 1, 16);
    rr_head(&m, 16, 6);
    put(&m, "\5hello", 6);
    for(size_t n = 0; n < m.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, m.b, n);
        assert_int_equal(dnsmsg_parse(copy, n, &d, &why, NULL, NULL), -1);
        free(copy);
    }
    assert_int_equal(dnsmsg_parse(m.b, m.n, &d, &why, NULL, NULL), 0);
    /* a TXT string longer than its rdata; an A record of 5 bytes */
    start_msg(&m, 0x8180, 1, 16);
    rr_head(&m, 16, 3);
    put(&m, "\7ab", 3);
    assert_int_equal(dnsmsg_parse(m.b, m.n, &d, &why, NULL, NULL), -1);
    start_msg(&m, 0x8180, 1, 1);
    rr_head(&m, 1, 5);
    put(&m, "\1\2\3\4\5", 5);
    assert_int_equal(dnsmsg_parse(m.b, m.n, &d, &why, NULL, NULL), -1);
    /* a label over 255 bytes in total */
    {
        uint8_t big[300];
        size_t i = 0;
        while(i + 64 < sizeof(big) - 1) {
            big[i] = 63;
            memset(big + i + 1, 'a', 63);
            i += 64;
        }
        big[i] = 0;
        off = 0;
        assert_int_equal(dnsmsg_read_name(big, i + 1, &off, name, sizeof(name)), -1);
    }
    /* control characters in a name come out as \DDD */
    {
        uint8_t nm[] = {3, 'a', 0x1b, '.', 0};
        off = 0;
        assert_int_equal(dnsmsg_read_name(nm, sizeof(nm), &off, name, sizeof(name)), 0);
        assert_string_equal(name, "a\\027\\046.");
        assert_int_equal(off, sizeof(nm));
    }
}

/* --- MySQL greetings ---------------------------------------------------- */

static size_t greeting(uint8_t *out, const char *version, uint32_t caps)
{
    uint8_t p[256];
    size_t n = 0, vl = strlen(version);
    p[n++] = 10;
    memcpy(p + n, version, vl + 1);
    n += vl + 1;
    memcpy(p + n, "\x2a\0\0\0" "abcdefgh" "\0", 13);
    n += 13;
    p[n++] = (uint8_t)caps;
    p[n++] = (uint8_t)(caps >> 8);
    p[n++] = 0x21;
    p[n++] = 2;
    p[n++] = 0;
    p[n++] = (uint8_t)(caps >> 16);
    p[n++] = (uint8_t)(caps >> 24);
    p[n++] = 21;
    memset(p + n, 0, 10);
    n += 10;
    memcpy(p + n, "ijklmnopqrst\0", 13);
    n += 13;
    memcpy(p + n, "mysql_native_password\0", 22);
    n += 22;
    out[0] = (uint8_t)n;
    out[1] = (uint8_t)(n >> 8);
    out[2] = 0;
    out[3] = 0;
    memcpy(out + 4, p, n);
    return n + 4;
}

static void test_mysql_greeting(void **state)
{
    uint8_t buf[300];
    mysql_greeting g;
    size_t used, n = greeting(buf, "10.11.6-MariaDB", 0x000ff7ffu | (1u << 19));
    const char *why;
    (void)state;
    assert_int_equal(mysql_parse_greeting(buf, n, &g, &used, &why), 0);
    assert_int_equal(used, n);
    assert_false(g.is_error);
    assert_int_equal(g.protocol, 10);
    assert_string_equal(g.version, "10.11.6-MariaDB");
    assert_int_equal(g.conn_id, 42);
    assert_true(g.caps & (1u << 15));
    assert_string_equal(g.auth_plugin, "mysql_native_password");
    /* every prefix needs more bytes or is malformed, never more */
    for(size_t k = 0; k < n; k++) {
        int rc = mysql_parse_greeting(buf, k, &g, &used, &why);
        assert_int_equal(rc, 1);
    }
    /* the packet itself cut short (length fixed to match): malformed
     * inside the version and the fixed fields, never "need more" */
    for(size_t k = 5; k < n; k++) {
        uint8_t cut[300];
        int rc;
        memcpy(cut, buf, k);
        cut[0] = (uint8_t)(k - 4);
        cut[1] = 0;
        rc = mysql_parse_greeting(cut, k, &g, &used, &why);
        assert_int_not_equal(rc, 1);
        if(k < 4 + 1 + 16 + 13)
            assert_int_equal(rc, -1);
    }
}

static void test_mysql_error_and_hostile(void **state)
{
    const uint8_t host[] = "\x3d\0\0\0\xff\x6a\x04Host '198.18.0.1' is not allowed to connect to this server";
    const uint8_t state_err[] = "\x1a\0\0\0\xff\x10\x04#08004Too many connections";
    const uint8_t huge[] = "\xff\xff\xff\0\x0a";
    const uint8_t http[] = "HTTP/1.1 400 Bad\r\n";
    const uint8_t esc[] = "\x09\0\0\0\x0a\x1b[2J\xff\0\1\2";
    mysql_greeting g;
    size_t used;
    const char *why;
    (void)state;
    assert_int_equal(mysql_parse_greeting(host, sizeof(host) - 1, &g, &used, &why), 0);
    assert_true(g.is_error);
    assert_int_equal(g.err_code, 1130);
    assert_string_equal(g.sqlstate, "");
    assert_string_equal(g.err_msg, "Host '198.18.0.1' is not allowed to connect to this server");
    assert_int_equal(mysql_parse_greeting(state_err, sizeof(state_err) - 1, &g, &used, &why), 0);
    assert_int_equal(g.err_code, 1040);
    assert_string_equal(g.sqlstate, "08004");
    assert_int_equal(mysql_parse_greeting(huge, sizeof(huge) - 1, &g, &used, &why), -1);
    assert_string_equal(why, "oversized greeting packet");
    assert_int_equal(mysql_parse_greeting(http, sizeof(http) - 1, &g, &used, &why), -1);
    assert_int_equal(mysql_parse_greeting((const uint8_t *)"\0\0\0\0", 4, &g, &used, &why), -1);
    assert_int_equal(mysql_parse_greeting(esc, sizeof(esc) - 1, &g, &used, &why), -1); /* cut after the version */
    {
        const uint8_t ok9[] = "\x0c\0\0\0\x09" "4.0\0\1\0\0\0" "ab\0";
        assert_int_equal(mysql_parse_greeting(ok9, sizeof(ok9) - 1, &g, &used, &why), 0);
        assert_int_equal(g.protocol, 9);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_dns),
        cmocka_unit_test(test_spec_other_kinds),
        cmocka_unit_test(test_dns_records),
        cmocka_unit_test(test_dns_rcode_and_flags),
        cmocka_unit_test(test_dns_hostile),
        cmocka_unit_test(test_mysql_greeting),
        cmocka_unit_test(test_mysql_error_and_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
