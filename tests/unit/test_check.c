/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure parts of lib/check: target specs, status sets,
 * escaping of wire bytes, --send escapes, verdict order, and the SSH wire
 * helpers (packet framing, name-list negotiation, mpint, fingerprints),
 * and which options each kind takes (the option table's kinds). */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "check/check_internal.h"
#include "check/ssh_wire.h"
#include "vigia/check.h"
#include "vigia/options.h"

static void test_target_parse_ok(void **state)
{
    vg_check_target t;
    vg_error err = {0};
    (void)state;
    assert_int_equal(vg_check_target_parse(&t, "127.0.0.1:80", &err), VG_OK);
    assert_string_equal(t.scheme, "tcp");
    assert_string_equal(t.host, "127.0.0.1");
    assert_int_equal(t.port, 80);
    assert_int_equal(vg_check_target_parse(&t, "tcp://[::1]:65535", &err), VG_OK);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 65535);
    assert_string_equal(t.url, "tcp://[::1]:65535");
    assert_int_equal(vg_check_target_parse(&t, "ssh://root@host.example", &err), VG_OK);
    assert_string_equal(t.host, "host.example");
    assert_int_equal(t.port, 22);
    assert_int_equal(vg_check_target_parse(&t, "TLS://localhost:443/", &err), VG_OK);
    assert_string_equal(t.scheme, "tls");
    assert_int_equal(vg_check_target_parse(&t, "https://[::1]:8443/a?b=c", &err), VG_OK);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 8443);
    assert_string_equal(t.url, "https://[::1]:8443/a?b=c");
    assert_int_equal(vg_check_target_parse(&t, "http://example.test/", &err), VG_OK);
    assert_int_equal(t.port, 80);
    assert_int_equal(vg_check_target_parse(&t, "https://example.test", &err), VG_OK);
    assert_int_equal(t.port, 443);
    assert_int_equal(vg_check_target_parse(&t, "[fe80::1%eth0]:22", &err), VG_OK);
    assert_string_equal(t.host, "fe80::1%eth0");
}

static void test_target_parse_bad(void **state)
{
    static const char *const bad[] = {
        "", "127.0.0.1", "tcp://127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x",
        "::1:80", "[::1", "[::1]x", "gopher://a:1", "tcp://a:1/path", "tcp://user@a:1", "a b:1",
        "a\x1b:1", "tls://:443", "http://", "http://[::1:80/", "tcp://h\xc3\xa9:1",
    };
    vg_check_target t;
    (void)state;
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vg_error err = {0};
        if(vg_check_target_parse(&t, bad[i], &err) != VG_EINVAL)
            fail_msg("accepted bad target '%s'", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
}

static void test_status_sets(void **state)
{
    vg_status_set s;
    vg_error err = {0};
    (void)state;
    memset(&s, 0, sizeof(s));
    assert_true(vg_status_set_has(&s, 200));
    assert_true(vg_status_set_has(&s, 399));
    assert_false(vg_status_set_has(&s, 404));
    assert_int_equal(vg_status_set_parse(&s, "200-299,401", &err), VG_OK);
    assert_true(vg_status_set_has(&s, 204));
    assert_true(vg_status_set_has(&s, 401));
    assert_false(vg_status_set_has(&s, 301));
    assert_int_equal(vg_status_set_parse(&s, "500", &err), VG_OK);
    assert_true(vg_status_set_has(&s, 500));
    assert_false(vg_status_set_has(&s, 200));
    static const char *const bad[] = {"", "abc", "99", "1000", "300-200", "200,", ",200", "2000-3000",
                                      "200--300", "20x"};
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vg_status_set_parse(&s, bad[i], &err), VG_EINVAL);
}

static void test_escape(void **state)
{
    char out[64];
    (void)state;
    vg_escape(out, sizeof(out), "plain", 5);
    assert_string_equal(out, "plain");
    vg_escape(out, sizeof(out), "a\x1b[2Jb\r\n", 8);
    assert_string_equal(out, "a\\x1b[2Jb\\r\\n");
    vg_escape(out, sizeof(out), "back\\slash", 10);
    assert_string_equal(out, "back\\\\slash");
    vg_escape(out, sizeof(out), "caf\xc3\xa9", 5); /* valid UTF-8 passes */
    assert_string_equal(out, "caf\xc3\xa9");
    vg_escape(out, sizeof(out), "\xc2\x9b", 2);   /* C1 CSI */
    assert_string_equal(out, "\\xc2\\x9b");
    vg_escape(out, sizeof(out), "\xe2\x80\xae", 3); /* RTL override */
    assert_string_equal(out, "\\xe2\\x80\\xae");
    vg_escape(out, sizeof(out), "\xff\xfe\xc0\xaf", 4); /* invalid, overlong */
    assert_string_equal(out, "\\xff\\xfe\\xc0\\xaf");
    vg_escape(out, sizeof(out), "\xed\xa0\x80", 3); /* surrogate */
    assert_string_equal(out, "\\xed\\xa0\\x80");
    vg_escape(out, sizeof(out), "a\0b", 3);
    assert_string_equal(out, "a\\x00b");
    /* truncation stays inside the buffer and says so */
    char small[8];
    vg_escape(small, sizeof(small), "\x01\x02\x03\x04", 4);
    assert_string_equal(small, "\\x01...");
    char big[300];
    memset(big, 'A', sizeof(big));
    vg_escape(out, sizeof(out), big, sizeof(big));
    assert_int_equal(strlen(out), sizeof(out) - 1);
    assert_memory_equal(out + sizeof(out) - 4, "...", 3);
    vg_escape(out, 1, "x", 1);
    assert_string_equal(out, "");
}

static void test_unescape(void **state)
{
    char out[32];
    (void)state;
    assert_int_equal(vg_unescape(out, sizeof(out), "GET / HTTP/1.0\\r\\n\\r\\n"), 18);
    assert_memory_equal(out, "GET / HTTP/1.0\r\n\r\n", 18);
    assert_int_equal(vg_unescape(out, sizeof(out), "\\x00\\x41\\0\\\\\\t"), 5);
    assert_memory_equal(out, "\0A\0\\\t", 5);
    assert_int_equal(vg_unescape(out, sizeof(out), "\\q"), -1);
    assert_int_equal(vg_unescape(out, sizeof(out), "\\x4"), -1);
    assert_int_equal(vg_unescape(out, sizeof(out), "trailing\\"), -1);
    assert_int_equal(vg_unescape(out, 3, "abcd"), -1);
}

static void test_states_and_names(void **state)
{
    (void)state;
    assert_int_equal(vg_check_state_worst(VG_CHECK_OK, VG_CHECK_UNKNOWN), VG_CHECK_UNKNOWN);
    assert_int_equal(vg_check_state_worst(VG_CHECK_UNKNOWN, VG_CHECK_WARNING), VG_CHECK_WARNING);
    assert_int_equal(vg_check_state_worst(VG_CHECK_CRITICAL, VG_CHECK_WARNING), VG_CHECK_CRITICAL);
    assert_int_equal(vg_check_state_worst(VG_CHECK_UNKNOWN, VG_CHECK_CRITICAL), VG_CHECK_CRITICAL);
    assert_int_equal(vg_check_state_parse("Warning"), VG_CHECK_WARNING);
    assert_int_equal(vg_check_state_parse("meh"), -1);
    assert_int_equal(vg_phase_parse("firstbyte"), VG_PHASE_FIRSTBYTE);
    assert_int_equal(vg_phase_parse("ttfb"), VG_PHASE_FIRSTBYTE);
    assert_int_equal(vg_phase_parse("time"), VG_PHASE_TOTAL);
    assert_int_equal(vg_phase_parse("nope"), -1);
    for(int r = 0; r < VG_CR__COUNT; r++) {
        const char *n = vg_check_reason_name(r);
        assert_non_null(n);
        for(int q = 0; q < r; q++)
            assert_string_not_equal(n, vg_check_reason_name(q));
    }
    assert_string_equal(vg_check_reason_name(VG_CR_CONN_REFUSED), "conn-refused");
    assert_true(vg_check_reason_is_timeout(VG_CR_READ_TIMEOUT));
    assert_false(vg_check_reason_is_timeout(VG_CR_CONN_REFUSED));
}

static void test_regex_with_nul_bytes(void **state)
{
    regex_t re;
    vg_error err = {0};
    (void)state;
    assert_int_equal(sendexpect_compile(&re, "^220 .*ready", "--expect", &err), VG_OK);
    assert_true(sendexpect_match(&re, "220 mail ready\r\n", 16));
    assert_false(sendexpect_match(&re, "221 mail ready", 14));
    assert_false(sendexpect_match(&re, NULL, 0));
    regfree(&re);
    assert_int_equal(sendexpect_compile(&re, "(", "--expect", &err), VG_EINVAL);
    /* NUL bytes do not end the subject: a match after them is found. */
    assert_int_equal(sendexpect_compile(&re, "220 ok", "--expect", &err), VG_OK);
    assert_true(sendexpect_match(&re, "\0\0\x01" "220 ok", 9));
    regfree(&re);
}

static void test_ssh_packet_parse(void **state)
{
    /* length 12: pad 4, payload 7 bytes */
    uint8_t pkt[16] = {0, 0, 0, 12, 4, 20, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0};
    const uint8_t *payload;
    size_t plen, used;
    (void)state;
    assert_int_equal(ssh_packet_parse(pkt, sizeof(pkt), &used, &payload, &plen), 1);
    assert_int_equal(used, 16);
    assert_int_equal(plen, 7);
    assert_int_equal(payload[0], 20);
    assert_int_equal(ssh_packet_parse(pkt, 15, &used, &payload, &plen), 0);
    assert_int_equal(ssh_packet_parse(pkt, 4, &used, &payload, &plen), 0);
    uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0};
    assert_int_equal(ssh_packet_parse(huge, sizeof(huge), &used, &payload, &plen), -1);
    uint8_t badpad[16] = {0, 0, 0, 12, 11, 20};
    assert_int_equal(ssh_packet_parse(badpad, sizeof(badpad), &used, &payload, &plen), -1);
    uint8_t smallpad[16] = {0, 0, 0, 12, 3, 20};
    assert_int_equal(ssh_packet_parse(smallpad, sizeof(smallpad), &used, &payload, &plen), -1);
}

static void test_ssh_reader_bounds(void **state)
{
    uint8_t b[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 1, 0};
    vg_rd r;
    const uint8_t *s;
    size_t n;
    uint32_t v;
    (void)state;
    vg_rd_init(&r, b, sizeof(b));
    assert_true(vg_rd_str32(&r, &s, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    assert_false(vg_rd_str32(&r, &s, &n)); /* claims 256 bytes */
    assert_false(vg_rd_ok(&r));
    assert_false(vg_rd_be32(&r, &v));      /* sticky */
}

static void test_ssh_version_read(void **state)
{
    const uint8_t *l;
    size_t used, n;
    int pre = 0;
    (void)state;
    /* lines before the version are consumed and counted; CR LF stripped */
    const char *a = "hello\r\nworld\nSSH-2.0-OpenSSH_9.6\r\nrest";
    assert_int_equal(ssh_version_read((const uint8_t *)a, strlen(a), &pre, &used, &l, &n), SSH_V_FOUND);
    assert_int_equal(pre, 2);
    assert_int_equal(n, strlen("SSH-2.0-OpenSSH_9.6"));
    assert_memory_equal(l, "SSH-2.0-OpenSSH_9.6", n);
    assert_int_equal(used, strlen(a) - 4);
    /* an incomplete line waits; complete lines before it may go */
    pre = 0;
    const char *b = "motd\nSSH-2.0-par";
    assert_int_equal(ssh_version_read((const uint8_t *)b, strlen(b), &pre, &used, &l, &n), SSH_V_MORE);
    assert_int_equal(used, 5);
    assert_int_equal(pre, 1);
    /* 256 bytes without LF: not SSH */
    uint8_t longl[300];
    memset(longl, 'x', sizeof(longl));
    pre = 0;
    assert_int_equal(ssh_version_read(longl, SSH_VERSION_MAX - 1, &pre, &used, &l, &n), SSH_V_MORE);
    assert_int_equal(ssh_version_read(longl, SSH_VERSION_MAX, &pre, &used, &l, &n), SSH_V_LONG);
    assert_ptr_equal(l, longl);
    assert_int_equal(n, SSH_VERSION_MAX);
    longl[SSH_VERSION_MAX - 1] = '\n'; /* a 255-byte line is still a line */
    assert_int_equal(ssh_version_read(longl, sizeof(longl), &pre, &used, &l, &n), SSH_V_MORE);
    assert_int_equal(used, SSH_VERSION_MAX);
    /* the 33rd line before the version ends it */
    char many[33 * 3 + 1] = "";
    for(int i = 0; i < 33; i++)
        strcat(many, "z\r\n");
    pre = 0;
    assert_int_equal(ssh_version_read((const uint8_t *)many, strlen(many), &pre, &used, &l, &n), SSH_V_PRELINES);
    assert_int_equal(n, 1);
    assert_memory_equal(l, "z", 1);
    pre = 0;
    assert_int_equal(ssh_version_read((const uint8_t *)many, strlen(many) - 3, &pre, &used, &l, &n), SSH_V_MORE);
    assert_int_equal(pre, SSH_MAX_PRELINES);
}

static void test_ssh_msg_read(void **state)
{
    vg_wr w = {0};
    ssh_msg m;
    (void)state;
    /* DISCONNECT with code and description, framed by ssh_packet_write */
    uint8_t disc[] = {SSH_MSG_DISCONNECT, 0, 0, 0, 11, 0, 0, 0, 3, 'b', 'y', 'e'};
    ssh_packet_write(&w, disc, sizeof(disc));
    assert_true(vg_wr_ok(&w));
    assert_int_equal(w.len % 8, 0);
    assert_int_equal(ssh_msg_read(w.p, w.len - 1, &m), SSH_M_MORE);
    assert_int_equal(ssh_msg_read(w.p, w.len, &m), SSH_M_DISCONNECT);
    assert_int_equal(m.used, w.len);
    assert_int_equal(m.code, 11);
    assert_int_equal(m.descn, 3);
    assert_memory_equal(m.desc, "bye", 3);
    vg_wr_free(&w);
    /* a DISCONNECT whose description runs past the payload keeps the code */
    disc[8] = 40;
    ssh_packet_write(&w, disc, sizeof(disc));
    assert_int_equal(ssh_msg_read(w.p, w.len, &m), SSH_M_DISCONNECT);
    assert_int_equal(m.code, 11);
    assert_int_equal(m.descn, 0);
    vg_wr_free(&w);
    uint8_t ign[] = {SSH_MSG_IGNORE, 1, 2};
    ssh_packet_write(&w, ign, sizeof(ign));
    assert_int_equal(ssh_msg_read(w.p, w.len, &m), SSH_M_SKIP);
    vg_wr_free(&w);
    uint8_t ki[] = {SSH_MSG_KEXINIT};
    ssh_packet_write(&w, ki, sizeof(ki));
    assert_int_equal(ssh_msg_read(w.p, w.len, &m), SSH_M_OTHER);
    assert_int_equal(m.type, SSH_MSG_KEXINIT);
    assert_int_equal(m.plen, 1);
    vg_wr_free(&w);
    uint8_t bad[16] = {0, 0, 0, 12, 11, 20};
    assert_int_equal(ssh_msg_read(bad, sizeof(bad), &m), SSH_M_BAD);
}

static void test_ssh_namelist(void **state)
{
    char out[32];
    const char *srv = "ecdh-sha2-nistp256,curve25519-sha256@libssh.org,curve25519-sha256";
    (void)state;
    assert_true(ssh_namelist_pick("curve25519-sha256,curve25519-sha256@libssh.org",
                                  (const uint8_t *)srv, strlen(srv), out, sizeof(out)));
    assert_string_equal(out, "curve25519-sha256");
    assert_false(ssh_namelist_pick("sntrup", (const uint8_t *)srv, strlen(srv), out, sizeof(out)));
    assert_false(ssh_namelist_pick("curve25519", (const uint8_t *)srv, strlen(srv), out, sizeof(out)));
    assert_false(ssh_namelist_pick("a", (const uint8_t *)"", 0, out, sizeof(out)));
}

static void test_ssh_mpint(void **state)
{
    vg_wr b = {0};
    const uint8_t k1[] = {0, 0, 0x7f, 1};
    const uint8_t k2[] = {0x80, 1};
    const uint8_t zero[] = {0, 0};
    (void)state;
    ssh_wr_mpint(&b, k1, sizeof(k1));
    ssh_wr_mpint(&b, k2, sizeof(k2));
    ssh_wr_mpint(&b, zero, sizeof(zero));
    const uint8_t want[] = {0, 0, 0, 2, 0x7f, 1, 0, 0, 0, 3, 0, 0x80, 1, 0, 0, 0, 0};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.p, want, sizeof(want));
    vg_wr_free(&b);
}

static void test_ssh_fingerprint(void **state)
{
    char fp[64];
    (void)state;
    /* SHA-256 of the empty string, base64 without padding. */
    ssh_fingerprint((const uint8_t *)"", 0, fp, sizeof(fp));
    assert_string_equal(fp, "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
}

static void test_opts_default(void **state)
{
    vg_check_opts o;
    (void)state;
    vg_check_opts_default(&o);
    assert_int_equal(o.timeout_ms, 10000);
    assert_int_equal(o.on_timeout, -1);
    assert_int_equal(o.max_body, 1 << 20);
}

static const vg_check_type *const all_kinds[] = {
    &vg_check_tcp, &vg_check_tls, &vg_check_http, &vg_check_https, &vg_check_ssh, &vg_check_dns,
    &vg_check_mysql, &vg_check_icmp, &vg_check_udp, &vg_check_smtp, &vg_check_imap, &vg_check_postgres,
};

/* The data the generic option check reads is consistent: a row that can
 * be an error for other kinds has a field to tell whether it was given,
 * and a kind's own message names a row that does not apply to it. */
static void test_option_rows_and_kinds(void **state)
{
    size_t n;
    const vg_opt *rows = vg_check_options(&n);
    (void)state;
    for(size_t i = 0; i < n; i++)
        if(rows[i].wrong_kind) {
            assert_true(rows[i].size > 0);
            assert_true(rows[i].kinds != 0 && rows[i].kinds != VG_KIND_ALL);
        }
    for(size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
        const vg_check_type *t = all_kinds[k];
        assert_true(t->kind != 0 && (t->kind & (t->kind - 1)) == 0 && (t->kind & VG_KIND_ALL));
        assert_true(t->fds >= 1);
        for(const check_wrong_kind *w = t->wrong_kind; w && w->opt; w++) {
            const vg_opt *o = vg_opt_find(rows, n, w->opt);
            assert_non_null(o);
            assert_true(o->size > 0);
            assert_int_equal(o->kinds & t->kind, 0);
        }
    }
}

/* Adds spec with options given as the command line gives them ("NAME",
 * value; NULL ends); NULL expect: accepted. */
static void expect_add(const char *spec, const char *expect, ...)
{
    size_t n;
    const vg_opt *rows = vg_check_options(&n);
    vg_check_opts o;
    vg_optstore st = {0};
    vg_error err = {0};
    vg_checker *c = NULL;
    va_list ap;
    const char *name;
    int rc;

    vg_check_opts_default(&o);
    va_start(ap, expect);
    while((name = va_arg(ap, const char *))) {
        const char *value = va_arg(ap, const char *);
        const vg_opt *row = vg_opt_find(rows, n, name);
        assert_non_null(row);
        assert_int_equal(vg_opt_apply(row, &o, value, &st, &err), VG_OK);
    }
    va_end(ap);
    assert_int_equal(vg_checker_new(&c, NULL, &err), VG_OK);
    rc = vg_checker_add(c, spec, &o, &err);
    if(!expect)
        assert_int_equal(rc, VG_OK);
    else {
        char want[sizeof(err.msg)];
        snprintf(want, sizeof(want), "%s (for %s)", expect, spec);
        assert_int_equal(rc, VG_EINVAL);
        assert_string_equal(err.msg, want);
    }
    vg_checker_free(c);
    vg_optstore_free(&st);
}

static void test_options_of_other_kinds(void **state)
{
    const char *http_only = "HTTP options need an http:// or https:// target";
    (void)state;
    /* an error where the row or the kind says what is wrong */
    expect_add("tcp://127.0.0.1:1", http_only, "expect-body", "x", NULL);
    expect_add("tcp://127.0.0.1:1", http_only, "max-redirects", "10", NULL); /* the default count, but follows */
    expect_add("udp://127.0.0.1:1", "SSH options need an ssh:// target", "expect-version", "x", NULL);
    expect_add("mysql://127.0.0.1:1", "--expect-hostkey needs an ssh:// target", "expect-hostkey",
               "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL);
    expect_add("dns://127.0.0.1/x", "--send/--expect do not apply to dns:// (use --expect-answer)", "expect", "x", NULL);
    expect_add("smtp://127.0.0.1:1", "--send/--expect do not apply to STARTTLS kinds (use tls://)", "send", "x", NULL);
    expect_add("tcp://127.0.0.1:1", "DNS options (--expect-answer, --expect-rcode, ...) need a dns:// target",
               "expect-rcode", "NXDOMAIN", NULL);
    expect_add("tcp://127.0.0.1:1", "--warn-loss/--crit-loss need an icmp:// target", "crit-loss", "0", NULL);
    expect_add("http://127.0.0.1:1/", "--all-addresses does not apply to http(s):// (libcurl picks the address)",
               "all-addresses", NULL, NULL);
    expect_add("https://127.0.0.1:1/", "--step works on tcp://, tls:// and udp:// only", "step", "send:x", NULL);
    expect_add("https://127.0.0.1:1/",
               "--sni works on tls://; for https use the name in the URL and --resolve NAME:PORT:ADDR", "sni", "x",
               NULL);
    /* ignored where neither says so: one command line serves mixed kinds */
    expect_add("tcp://127.0.0.1:1", NULL, "insecure", NULL, "proxy", "http://127.0.0.1:1", "count", "3", NULL);
    expect_add("ssh://127.0.0.1:1", NULL, "sni", "x", "max-body", "4K", NULL);
    expect_add("http://127.0.0.1:1/", NULL, "policy", "any", "max-read", "4K", NULL);
    /* and taken where they apply */
    expect_add("tls://127.0.0.1:1", NULL, "sni", "x", "step", "send:x", "all-addresses", NULL, NULL);
    expect_add("icmp://127.0.0.1", NULL, "warn-loss", "5", "crit-loss", "50", NULL);
    expect_add("dns://127.0.0.1/x", NULL, "expect-rcode", "NXDOMAIN", "expect-all", NULL, NULL);
    /* the kind's own checks of its values still run */
    expect_add("udp://127.0.0.1:1", "--step replaces --send/--expect: use one or the other", "step", "send:x",
               "send", "x", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_parse_ok),
        cmocka_unit_test(test_target_parse_bad),
        cmocka_unit_test(test_status_sets),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test(test_states_and_names),
        cmocka_unit_test(test_regex_with_nul_bytes),
        cmocka_unit_test(test_ssh_packet_parse),
        cmocka_unit_test(test_ssh_reader_bounds),
        cmocka_unit_test(test_ssh_version_read),
        cmocka_unit_test(test_ssh_msg_read),
        cmocka_unit_test(test_ssh_namelist),
        cmocka_unit_test(test_ssh_mpint),
        cmocka_unit_test(test_ssh_fingerprint),
        cmocka_unit_test(test_opts_default),
        cmocka_unit_test(test_option_rows_and_kinds),
        cmocka_unit_test(test_options_of_other_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
