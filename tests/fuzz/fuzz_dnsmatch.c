/* SPDX-License-Identifier: MIT */
/* libFuzzer target: DNS answer comparison (lib/check/dns_check.c,
 * dns_item_matches): an --expect-answer item (value, address or CIDR
 * block) against every answer record of a DNS message read by dnsmsg_parse,
 * and against a record made directly from the input. Input: the item up to
 * the first '\n', then the message. An address item matches only a record
 * of its family holding that very address; a /0 block matches every such
 * record. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct item {
    const char *text;
    int fam;                    /* an address item: AF_INET or AF_INET6, else 0 */
    uint8_t addr[16];
    bool zero_prefix;           /* "ADDR/0" */
    bool plain;                 /* "ADDR" */
};

static void one(const struct item *it, const dnsmsg_rr *rr)
{
    bool m = dns_item_matches(it->text, rr);
    bool fam_ok = (it->fam == AF_INET && rr->type == 1) || (it->fam == AF_INET6 && rr->type == 28);
    size_t alen = it->fam == AF_INET ? 4 : 16;
    if(!it->fam)
        return;
    if(m && !fam_ok)
        abort();
    if(it->plain && m != (fam_ok && !memcmp(rr->rdata, it->addr, alen)))
        abort();
    if(it->zero_prefix && m != fam_ok)
        abort();
}

static void on_rr(const dnsmsg_rr *rr, void *ud)
{
    one(ud, rr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    struct item it = {0};
    char text[256], a[64];
    const char *slash;
    dnsmsg *m;
    uint8_t *msg;
    size_t il, ml;
    const char *why;

    if(!nl || (il = (size_t)(nl - data)) >= sizeof(text) || memchr(data, 0, il))
        return 0;
    memcpy(text, data, il);
    text[il] = '\0';
    it.text = text;
    slash = strchr(text, '/');
    if((size_t)((slash ? slash : text + il) - text) < sizeof(a)) {
        size_t al = (size_t)((slash ? slash : text + il) - text);
        memcpy(a, text, al);
        a[al] = '\0';
        if(inet_pton(AF_INET, a, it.addr) == 1)
            it.fam = AF_INET;
        else if(inet_pton(AF_INET6, a, it.addr) == 1)
            it.fam = AF_INET6;
        it.plain = it.fam && !slash;
        it.zero_prefix = it.fam && slash && !strcmp(slash, "/0");
    }
    ml = size - il - 1;
    /* Exact-size copies, so that ASan sees any read past the end. */
    msg = malloc(ml ? ml : 1);
    m = malloc(sizeof(*m));
    if(!msg || !m) {
        free(msg);
        free(m);
        return 0;
    }
    memcpy(msg, nl + 1, ml);
    (void)dnsmsg_parse(msg, ml, m, &why, on_rr, &it);
    /* A record straight from the bytes: type, then address and text. */
    if(ml >= 2) {
        dnsmsg_rr rr;
        size_t tl;
        memset(&rr, 0, sizeof(rr));
        rr.type = (msg[0] & 1) ? 28 : (msg[0] & 2) ? 1 : msg[1];
        memcpy(rr.rdata, msg + 2, ml - 2 < sizeof(rr.rdata) ? ml - 2 : sizeof(rr.rdata));
        tl = ml - 2 < sizeof(rr.text) - 1 ? ml - 2 : sizeof(rr.text) - 1;
        for(size_t i = 0; i < tl; i++)
            rr.text[i] = (char)(0x20 + msg[2 + i] % 0x5f); /* records are printable */
        one(&it, &rr);
        (void)dns_item_matches(text, &rr);
    }
    free(m);
    free(msg);
    return 0;
}
