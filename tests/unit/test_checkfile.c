/* SPDX-License-Identifier: MIT */
/* Unit tests of the checks file loader (lib/check/checkfile.c): the shape
 * of a good file, defaults merging, and every kind of error, each with the
 * line and column it must name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vigia/check.h"
#include "vigia/options.h"

/* A stand-in for the CLI's option table. */
static int key_kind(const char *key, void *ud)
{
    static const char *const flags[] = {"follow", "insecure", NULL};
    static const char *const lists[] = {"header", "resolve", "expect-hostkey", NULL};
    static const char *const values[] = {"timeout", "expect-status", "expect-body", "method", "retries", NULL};
    (void)ud;
    for(int i = 0; flags[i]; i++)
        if(!strcmp(key, flags[i]))
            return VG_CHECKFILE_FLAG;
    for(int i = 0; lists[i]; i++)
        if(!strcmp(key, lists[i]))
            return VG_CHECKFILE_LIST;
    for(int i = 0; values[i]; i++)
        if(!strcmp(key, values[i]))
            return VG_CHECKFILE_VALUE;
    return VG_CHECKFILE_UNKNOWN;
}

static vg_checkfile *load(const char *text, vg_error *err)
{
    vg_checkfile *f = NULL;
    memset(err, 0, sizeof(*err));
    int rc = vg_checkfile_parse(&f, text, strlen(text), key_kind, NULL, err);
    if(rc)
        assert_null(f);
    return f;
}

static void test_good_file(void **state)
{
    vg_error err;
    const char *text =
        "# a comment\n"
        "defaults:\n"
        "  timeout: 2s\n"
        "  header: 'X-A: 1'\n"
        "checks:\n"
        "  - name: web\n"
        "    target: http://127.0.0.1:8080/\n"
        "    expect-status: 200-299\n"
        "    header:\n"
        "      - 'X-B: 2'\n"
        "      - 'X-C: 3'\n"
        "    follow: yes\n"
        "  - target: 127.0.0.1:22\n"
        "    timeout: 5\n"
        "    insecure: false\n";
    vg_checkfile *f = load(text, &err);
    (void)state;
    assert_non_null(f);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->checks[0].name, "web");
    assert_string_equal(f->checks[0].target, "http://127.0.0.1:8080/");
    assert_int_equal(f->checks[0].line, 6);
    /* the check's own header list replaces the default's; timeout from defaults first */
    assert_int_equal(f->checks[0].nopts, 5);
    assert_string_equal(f->checks[0].opts[0].key, "timeout");
    assert_string_equal(f->checks[0].opts[0].value, "2s");
    assert_int_equal(f->checks[0].opts[0].line, 3);
    assert_int_equal(f->checks[0].opts[0].col, 12);
    assert_string_equal(f->checks[0].opts[1].key, "expect-status");
    assert_string_equal(f->checks[0].opts[2].value, "X-B: 2");
    assert_string_equal(f->checks[0].opts[3].value, "X-C: 3");
    assert_string_equal(f->checks[0].opts[4].key, "follow");
    assert_string_equal(f->checks[0].opts[4].value, "true");
    /* no name: the target; defaults it does not override come first */
    assert_string_equal(f->checks[1].name, "127.0.0.1:22");
    assert_int_equal(f->checks[1].nopts, 3);
    assert_string_equal(f->checks[1].opts[0].key, "header");
    assert_string_equal(f->checks[1].opts[0].value, "X-A: 1");
    assert_string_equal(f->checks[1].opts[1].key, "timeout");
    assert_string_equal(f->checks[1].opts[1].value, "5");
    assert_string_equal(f->checks[1].opts[2].value, "false");
    vg_checkfile_free(f);
}

static void test_flow_style_and_defaults_after(void **state)
{
    vg_error err;
    vg_checkfile *f = load("checks: [{target: 'a:1'}, {target: \"b:2\", name: B}]\ndefaults: {retries: 2}\n", &err);
    (void)state;
    assert_non_null(f);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->checks[0].nopts, 1);
    assert_string_equal(f->checks[0].opts[0].key, "retries");
    assert_string_equal(f->checks[1].name, "B");
    vg_checkfile_free(f);
}

/* Each bad file, and the start of the message it must give. */
static const struct {
    const char *text;
    const char *msg;
} bad[] = {
    {"", "1:1: the file is empty"},
    {"# only a comment\n", "the file is empty"},
    {"---\n", "the file is empty"},
    {"checks: [\n", "YAML syntax error"},
    {"checks:\n  - target: a:1\n   name: x\n", "YAML syntax error"},
    {"- a\n- b\n", "1:1: expected a mapping with 'checks:'"},
    {"defaults: {timeout: 1s}\n", "no 'checks:' list"},
    {"checks: []\n", "1:9: 'checks' is empty"},
    {"checks: x\n", "1:9: 'checks' must be a list"},
    {"checks:\n  - a:1\n", "2:5: each item of 'checks' must be a mapping"},
    {"checks:\n  - name: x\n", "2:5: check 'x' has no target"},
    {"checks:\n  - timeout: 1s\n", "2:5: check 1 has no target"},
    {"checks:\n  - target: a:1\n    expet-status: 200\n", "3:5: unknown option 'expet-status'"},
    {"checks:\n  - target: a:1\n    timeout: [1s, 2s]\n", "3:14: 'timeout' expects a single value, not a list"},
    {"checks:\n  - target: a:1\n    timeout: {a: 1}\n", "3:14: 'timeout' expects a single value, not a mapping"},
    {"checks:\n  - target: a:1\n    timeout:\n", "'timeout' needs a value"},
    {"checks:\n  - target: a:1\n    timeout: ~\n", "3:14: 'timeout' needs a value"},
    {"checks:\n  - target: a:1\n    follow: maybe\n", "3:13: 'follow' takes true or false"},
    {"checks:\n  - target: a:1\n    header: [[a]]\n", "'header' expects a value or a list of values, not a list"},
    {"checks:\n  - target: a:1\n    target: b:2\n", "3:5: 'target' is given twice"},
    {"checks:\n  - target: a:1\n    timeout: 1s\n    timeout: 2s\n", "4:5: 'timeout' is given twice"},
    {"checks:\n  - target: [a]\n", "2:13: 'target' expects a single value"},
    {"checks:\n  - {target: a:1, name: n}\n  - {target: b:1, name: n}\n", "3:5: duplicate check name 'n' (first at line 2)"},
    {"checks:\n  - target: a:1\n  - target: a:1\n", "3:5: duplicate check name 'a:1'"},
    {"checks:\n  - target: -x\n", "2:13: bad target"},
    {"checks:\n  - target: \"a:1\\x01\"\n", "bad target: control characters"},
    {"defaults:\n  target: a:1\nchecks: [{target: b:1}]\n", "2:3: 'target' cannot be a default"},
    {"defaults: [a]\nchecks: [{target: b:1}]\n", "1:11: 'defaults' must be a mapping"},
    {"defaults:\n  bogus: 1\nchecks: [{target: b:1}]\n", "2:3: unknown option 'bogus'"},
    {"checks: [{target: a:1}]\nextra: 1\n", "2:1: unknown top-level key 'extra'"},
    {"checks: [{target: a:1}]\nchecks: [{target: b:1}]\n", "2:1: 'checks' is given twice"},
    {"checks: [{target: a:1}]\n---\nchecks: [{target: b:1}]\n", "only one YAML document"},
    {"defaults: {header: &a ['X: 1']}\nchecks: [{target: a:1, header: *a}]\n", "2:32: YAML aliases"},
    {"checks: [{target: a:1, [k]: v}]\n", "expected an option name"},
    {"checks: [{target: a:1, timeout: \"\\0\"}]\n", "NUL byte"},
};

static void test_bad_files(void **state)
{
    (void)state;
    for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vg_error err;
        vg_checkfile *f = load(bad[i].text, &err);
        if(f || !strstr(err.msg, bad[i].msg)) {
            print_error("file %zu: %s\n  got: %s\n  want: %s\n", i, bad[i].text, f ? "(parsed)" : err.msg,
                        bad[i].msg);
            vg_checkfile_free(f);
            fail();
        }
        assert_int_equal(err.code, VG_EINVAL);
    }
}

static void test_binary_and_limits(void **state)
{
    vg_error err;
    vg_checkfile *f = NULL;
    static const unsigned char junk[] = {0xff, 0xfe, 0x00, 'c', 0x80, 0x81};
    char *big;
    size_t n = 0;
    (void)state;
    assert_int_equal(vg_checkfile_parse(&f, junk, sizeof(junk), key_kind, NULL, &err), VG_EINVAL);
    assert_null(f);
    /* too many options in one check */
    big = malloc(VG_CHECKFILE_MAX_VALUE + 4096);
    assert_non_null(big);
    n += (size_t)sprintf(big, "checks:\n  - target: a:1\n    header:\n");
    for(int i = 0; i < 300; i++)
        n += (size_t)sprintf(big + n, "      - 'X: %d'\n", i);
    assert_int_equal(vg_checkfile_parse(&f, big, n, key_kind, NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "too many options"));
    /* a value over the limit */
    n = (size_t)sprintf(big, "checks:\n  - target: a:1\n    expect-body: ");
    memset(big + n, 'a', VG_CHECKFILE_MAX_VALUE + 1);
    n += VG_CHECKFILE_MAX_VALUE + 1;
    big[n++] = '\n';
    assert_int_equal(vg_checkfile_parse(&f, big, n, key_kind, NULL, &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "3:18: the value of 'expect-body' is too long"));
    free(big);
    /* not NUL-terminated: only len bytes are read */
    assert_int_equal(vg_checkfile_parse(&f, "checks: [{target: a:1}]XXXX", 23, key_kind, NULL, &err), VG_OK);
    assert_int_equal(f->n, 1);
    vg_checkfile_free(f);
}

/* The library's own loader: the keys are the check option table's rows,
 * values land in vg_check_opts, options of the caller's win (lists add). */
static void test_list_load_through_the_table(void **state)
{
    static const char text[] =
        "defaults: {retries: 2, timeout: 3s}\n"
        "checks:\n"
        "  - name: web\n"
        "    target: http://127.0.0.1:1/\n"
        "    header: ['A: 1']\n"
        "    resolve: ['a:1:127.0.0.1']\n"
        "    follow: true\n"
        "    warn-tls: 200ms\n"
        "    on-refused: warning\n"
        "  - target: 127.0.0.1:2\n"
        "    ipv6: true\n"
        "    max-read: 4K\n";
    size_t n;
    const vg_opt *rows = vg_check_options(&n);
    vg_opt_arg extra[] = {{vg_opt_find(rows, n, "retries"), "5"}, {vg_opt_find(rows, n, "resolve"), "b:2:127.0.0.2"}};
    vg_check_list *l = NULL;
    vg_error err = {0};

    (void)state;
    assert_int_equal(vg_check_list_load(&l, text, strlen(text), extra, 2, &err), VG_OK);
    assert_int_equal(l->n, 2);
    assert_string_equal(l->items[0].name, "web");
    assert_int_equal(l->items[0].opts.timeout_ms, 3000);
    assert_int_equal(l->items[0].opts.retries, 5);
    assert_true(l->items[0].opts.follow);
    assert_int_equal(l->items[0].opts.warn_us[VG_PHASE_TLS], 200000);
    assert_int_equal(l->items[0].opts.on_refused, VG_CHECK_WARNING);
    assert_string_equal(l->items[0].opts.headers[0], "A: 1");
    assert_null(l->items[0].opts.headers[1]);
    assert_string_equal(l->items[0].opts.resolve[0], "a:1:127.0.0.1");
    assert_string_equal(l->items[0].opts.resolve[1], "b:2:127.0.0.2");
    assert_null(l->items[0].opts.resolve[2]);
    assert_string_equal(l->items[1].name, "127.0.0.1:2");
    assert_int_equal(l->items[1].opts.max_read, 4096);
    assert_int_equal(l->items[1].opts.family, 10 /* AF_INET6 */);
    assert_null(l->items[1].opts.headers);
    assert_string_equal(l->items[1].opts.resolve[0], "b:2:127.0.0.2");
    vg_check_list_free(l);

    /* a bad value names its line and column, a run option is no key */
    assert_int_equal(vg_check_list_load(&l, "checks:\n  - target: a:1\n    retries: x\n", 39, NULL, 0, &err),
                     VG_EINVAL);
    assert_null(l);
    assert_non_null(strstr(err.msg, "3:14: --retries 'x': expected 0 to 100"));
    assert_int_equal(vg_check_list_load(&l, "checks:\n  - target: a:1\n    wait: true\n", 39, NULL, 0, &err),
                     VG_EINVAL);
    assert_non_null(strstr(err.msg, "unknown option 'wait'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_flow_style_and_defaults_after),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_binary_and_limits),
        cmocka_unit_test(test_list_load_through_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
