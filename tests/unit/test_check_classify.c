/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/check/classify.c: which check scan --check runs on a
 * port, by number and by the banner the service sends (hostile and
 * truncated banners included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vigia/check.h"

static const char *cls(const char *s, size_t n)
{
    return vg_check_classify_banner(s, n);
}

#define CLS(lit) cls(lit, sizeof(lit) - 1)

static void test_ports(void **state)
{
    (void)state;
    assert_string_equal(vg_check_kind_for_port(22), "ssh");
    assert_string_equal(vg_check_kind_for_port(25), "smtp");
    assert_string_equal(vg_check_kind_for_port(53), "dns");
    assert_string_equal(vg_check_kind_for_port(80), "http");
    assert_string_equal(vg_check_kind_for_port(143), "imap");
    assert_string_equal(vg_check_kind_for_port(443), "https");
    assert_string_equal(vg_check_kind_for_port(3306), "mysql");
    assert_null(vg_check_kind_for_port(0));
    assert_null(vg_check_kind_for_port(8080));
    assert_null(vg_check_kind_for_port(65535));
}

static void test_text_banners(void **state)
{
    (void)state;
    assert_string_equal(CLS("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), "ssh");
    assert_string_equal(CLS("SSH-1.99-x"), "ssh");
    assert_string_equal(CLS("HTTP/1.1 400 Bad Request\r\n"), "http");
    assert_string_equal(CLS("220 mail.example.org ESMTP Postfix\r\n"), "smtp");
    assert_string_equal(CLS("220-mx.example Microsoft SMTP service\r\n220 ready\r\n"), "smtp");
    assert_string_equal(CLS("220 mx esmtp\r\n"), "smtp"); /* case does not matter */
    assert_string_equal(CLS("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n"), "imap");
    /* FTP also greets with 220, but says nothing of SMTP on its line */
    assert_null(CLS("220 ProFTPD Server ready\r\n"));
    assert_null(CLS("220 ftp ready\r\n250 SMTP later\r\n"));
    assert_null(CLS("+OK POP3 ready\r\n"));
    assert_null(CLS("SSH"));  /* cut short */
    assert_null(CLS("HTTP"));
    assert_null(CLS("* O"));
    assert_null(CLS("ssh-2.0-lowercase"));
    assert_null(cls(NULL, 0));
    assert_null(cls("SSH-2.0", 0));
}

static void test_mysql(void **state)
{
    static const unsigned char greeting[] = {0x4a, 0, 0, 0, 0x0a, '8', '.', '0', '.', '3', '6', 0};
    static const unsigned char cut[] = {0x4a, 0, 0, 0, 0x0a}; /* the first line of it */
    static const unsigned char error[] = {0x44, 0, 0, 0, 0xff, 0x6a, 0x04, 'H', 'o', 's', 't'};
    static const unsigned char seq1[] = {0x4a, 0, 0, 1, 0x0a, '8'};
    static const unsigned char huge[] = {0xff, 0xff, 0xff, 0, 0x0a, '8'};
    static const unsigned char notver[] = {0x4a, 0, 0, 0, 0x0a, 'x'};
    static const unsigned char tiny[] = {0x02, 0, 0, 0, 0x0a};
    (void)state;
    assert_string_equal(vg_check_classify_banner(greeting, sizeof(greeting)), "mysql");
    assert_string_equal(vg_check_classify_banner(cut, sizeof(cut)), "mysql");
    assert_string_equal(vg_check_classify_banner(error, sizeof(error)), "mysql");
    assert_null(vg_check_classify_banner(seq1, sizeof(seq1)));
    assert_null(vg_check_classify_banner(huge, sizeof(huge)));
    assert_null(vg_check_classify_banner(notver, sizeof(notver)));
    assert_null(vg_check_classify_banner(tiny, sizeof(tiny)));
    assert_null(vg_check_classify_banner(greeting, 4));
}

/* What a banner read (tcp:// with --expect) stored: the first line,
 * escaped, and the count of bytes read. */
static void test_result(void **state)
{
    static vg_check_result r;
    (void)state;
    memset(&r, 0, sizeof(r));
    assert_null(vg_check_classify_result(&r));
    vg_escape(r.banner, sizeof(r.banner), "SSH-2.0-x", 9);
    r.bytes_read = 11;
    assert_string_equal(vg_check_classify_result(&r), "ssh");
    /* a MySQL greeting's banner ends at its protocol byte (a newline) */
    vg_escape(r.banner, sizeof(r.banner), "\x4a\0\0\0", 4);
    r.bytes_read = 78;
    assert_string_equal(vg_check_classify_result(&r), "mysql");
    r.bytes_read = 4; /* nothing after it: not a greeting */
    assert_null(vg_check_classify_result(&r));
    /* control bytes and invalid UTF-8 survive the escaping round trip */
    vg_escape(r.banner, sizeof(r.banner), "\x1b[2J\xff\xfe", 6);
    r.bytes_read = 6;
    assert_null(vg_check_classify_result(&r));
    /* a banner that is not valid escaping (cannot come from vg_escape) */
    strcpy(r.banner, "\\q");
    assert_null(vg_check_classify_result(&r));
    assert_null(vg_check_classify_result(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_text_banners),
        cmocka_unit_test(test_mysql),
        cmocka_unit_test(test_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
