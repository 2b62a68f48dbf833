/* SPDX-License-Identifier: MIT */
/* libFuzzer target: scan --check's banner classifier (lib/check/classify.c)
 * on a service's first bytes, raw (vg_check_classify_banner) and as a
 * record holds them (vg_check_classify_result: the escaped first line and
 * the byte count). Every verdict must be one of the check kinds, and each
 * kind needs its own marker at the start of the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_kind(const char *k, const uint8_t *b, size_t n)
{
    if(!k)
        return;
    if(!strcmp(k, "ssh")) {
        if(n < 4 || memcmp(b, "SSH-", 4))
            abort();
    }
    else if(!strcmp(k, "http")) {
        if(n < 5 || memcmp(b, "HTTP/", 5))
            abort();
    }
    else if(!strcmp(k, "smtp")) {
        if(n < 4 || memcmp(b, "220", 3) || (b[3] != ' ' && b[3] != '-'))
            abort();
    }
    else if(!strcmp(k, "imap")) {
        if(n < 4 || memcmp(b, "* OK", 4))
            abort();
    }
    else if(!strcmp(k, "mysql")) {
        if(n < 5 || b[3] != 0 || (b[4] != 0x0a && b[4] != 0xff))
            abort();
    }
    else
        abort();
}

static bool line_kind(const char *k)
{
    return k && strcmp(k, "mysql");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    vg_check_result *r = calloc(1, sizeof(*r));
    const uint8_t *nl;
    size_t line;
    if(!buf || !r)
        goto out;
    memcpy(buf, data, size);
    check_kind(vg_check_classify_banner(buf, size), buf, size);
    /* As a record: the first line escaped, as the tcp check stores it. */
    nl = memchr(buf, '\n', size);
    line = nl ? (size_t)(nl - buf) : size;
    vg_escape(r->banner, sizeof(r->banner), buf, line);
    r->bytes_read = size;
    {
        const char *k = vg_check_classify_result(r);
        const char *raw = vg_check_classify_banner(buf, size);
        check_kind(k, buf, size);
        /* ssh, http, smtp and imap depend on the first line only: a
         * record whose banner holds all of it must agree with the bytes. */
        if(line < 60 && line_kind(raw) != line_kind(k))
            abort();
        if(line < 60 && line_kind(raw) && strcmp(raw, k))
            abort();
    }
out:
    free(r);
    free(buf);
    return 0;
}
