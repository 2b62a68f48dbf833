/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the SSH version exchange (RFC 4253 4.2) as the ssh
 * check reads it, through ssh_version_read() (lib/check/ssh_wire.c): up to
 * 32 lines before the "SSH-" line, each within 256 bytes. The version line
 * then goes where ssh.c sends it: vg_escape() into the record's banner, the
 * --expect-version regex match on that banner, and scan --check's
 * classifier, both on the raw bytes and on the escaped banner
 * (vg_check_classify_result undoes the escaping). A version line must come
 * back as "ssh" both ways, and the banner must be printable; whatever the
 * reader hands out must lie inside the input. */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "check/ssh_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if(n == cap)
        abort();
    for(size_t i = 0; i < n; i++)
        if((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static void version_line(const uint8_t *l, size_t n, size_t total)
{
    static regex_t re;
    static bool have_re;
    vg_check_result *res = calloc(1, sizeof(*res));
    const char *kind;
    bool v2;
    if(!res)
        return;
    if(!have_re) {
        if(sendexpect_compile(&re, "^SSH-2\\.0-", "--expect-version", NULL))
            abort();
        have_re = true;
    }
    vg_escape(res->banner, sizeof(res->banner), l, n);
    check_printable(res->banner, sizeof(res->banner));
    v2 = n >= 8 && !memcmp(l, "SSH-2.0-", 8);
    if(sendexpect_match(&re, res->banner, strlen(res->banner)) != v2)
        abort();
    kind = vg_check_classify_banner(l, n);
    if(!kind || strcmp(kind, "ssh"))
        abort();
    res->bytes_read = total;
    kind = vg_check_classify_result(res);
    if(!kind || strcmp(kind, "ssh"))
        abort();
    free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    const uint8_t *line = NULL;
    size_t used = 0, n = 0;
    int pre = 0, rc;
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    rc = ssh_version_read(buf, size, &pre, &used, &line, &n);
    if(used > size || pre < 0 || pre > SSH_MAX_PRELINES + 1)
        abort();
    if(rc != SSH_V_MORE && (!line || line < buf || n > size || line + n > buf + size))
        abort();
    if(rc == SSH_V_FOUND) {
        if(n >= SSH_VERSION_MAX || n < 4 || memcmp(line, "SSH-", 4) || line + n > buf + used)
            abort();
        version_line(line, n, size);
    }
    free(buf);
    return 0;
}
