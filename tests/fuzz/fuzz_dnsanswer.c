/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the DNS message reader (lib/check/dns_msg.c). It must
 * terminate on compression loops, never read outside the message, and
 * return record texts that are printable ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/dns_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if(n == cap)
        abort();
    for(size_t i = 0; i < n; i++)
        if((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            abort();
}

static void on_rr(const dnsmsg_rr *rr, void *ud)
{
    (*(unsigned *)ud)++;
    check_text(rr->text, sizeof(rr->text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dnsmsg *m = malloc(sizeof(*m));
    uint8_t *buf = malloc(size ? size : 1);
    const char *why = NULL;
    unsigned seen = 0;
    if(!m || !buf) {
        free(m);
        free(buf);
        return 0;
    }
    memcpy(buf, data, size);
    if(dnsmsg_parse(buf, size, m, &why, on_rr, &seen) == 0) {
        if(seen != m->ancount || m->nrr > DNSMSG_MAX_RR)
            abort();
    }
    else if(!why)
        abort();
    /* The name reader alone, from every offset. */
    for(size_t off = 0; off < size && off < 64; off++) {
        char name[DNSMSG_TEXT];
        size_t o = off;
        if(dnsmsg_read_name(buf, size, &o, name, sizeof(name)) == 0) {
            if(o > size || o <= off)
                abort();
            check_text(name, sizeof(name));
        }
    }
    free(buf);
    free(m);
    return 0;
}
