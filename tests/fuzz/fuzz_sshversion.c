/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the SSH version exchange (RFC 4253 4.2) as the ssh
 * check reads it: up to 32 lines before the "SSH-" line, each within 256
 * bytes. The line rule is ssh.c's (its reader is static, and ssh.c is not
 * ours to change right now); what runs is the library's code the version
 * line goes through: vg_escape() into the record's banner, the
 * --expect-version regex match on that banner, and scan --check's
 * classifier, both on the raw bytes and on the escaped banner
 * (vg_check_classify_result undoes the escaping). A version line must come
 * back as "ssh" both ways, and the banner must be printable. */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"

#define VERSION_MAX 256    /* ssh.c: a line must end within 256 bytes */
#define PRELINES_MAX 32    /* ssh.c: SSH_MAX_PRELINES */

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
    size_t off = 0;
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    for(int lines = 0; lines <= PRELINES_MAX; lines++) {
        size_t rest = size - off, scan = rest < VERSION_MAX ? rest : VERSION_MAX;
        const uint8_t *nl = memchr(buf + off, '\n', scan);
        size_t n;
        if(!nl)
            break; /* more needed, or "not an SSH version line" */
        n = (size_t)(nl - (buf + off));
        if(n && buf[off + n - 1] == '\r')
            n--;
        if(n >= 4 && !memcmp(buf + off, "SSH-", 4)) {
            version_line(buf + off, n, size);
            break;
        }
        off += (size_t)(nl - (buf + off)) + 1;
    }
    free(buf);
    return 0;
}
