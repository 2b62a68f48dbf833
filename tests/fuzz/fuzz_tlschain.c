/* SPDX-License-Identifier: MIT */
/* libFuzzer target: TLS chain evaluation and subject formatting
 * (lib/check/tls_cert.c, tls_evaluate): certificates built from the input with
 * d2i_X509, as a server's chain, run through our date conversion, one-line
 * subject and issuer formatting, host-name check and findings. Input:
 *   byte 0   options: bit 0 --insecure, bits 1-3 --cert-warn days / 8,
 *            bits 4-6 --cert-crit days / 8
 *   byte 1   the verification error (0: X509_V_OK)
 *   byte 2   the depth it happened at (signed)
 *   then     the host name to check, up to a NUL (none without one)
 *   the rest DER certificates, one after the other (leaf first)
 * Every stored text must be printable and NUL-terminated; at most
 * VG_CHECK_MAX_CHAIN certificates are kept. */
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if(n == cap)
        abort();
    for(size_t i = 0; i < n; i++)
        if((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STACK_OF(X509) *chain;
    vg_check *ck;
    vg_check_opts o;
    const uint8_t *p, *end = data + size, *nul;
    char host[256];
    const char *check_host = NULL;
    int n = 0;

    if(size < 3)
        return 0;
    ck = calloc(1, sizeof(*ck));
    chain = sk_X509_new_null();
    if(ck)
        ck->run = calloc(1, sizeof(*ck->run));
    if(!ck || !ck->run || !chain) {
        if(ck)
            free(ck->run);
        free(ck);
        sk_X509_free(chain);
        return 0;
    }
    vg_check_opts_default(&o);
    o.insecure = data[0] & 1;
    o.cert_warn_days = ((data[0] >> 1) & 7) * 8;
    o.cert_crit_days = ((data[0] >> 4) & 7) * 8;
    ck->opts = &o;
    p = data + 3;
    nul = memchr(p, 0, (size_t)(end - p));
    if(nul && (size_t)(nul - p) < sizeof(host)) {
        memcpy(host, p, (size_t)(nul - p) + 1);
        check_host = host;
        p = nul + 1;
    }
    /* One more than is kept, to see the cap work. */
    while(p < end && n <= VG_CHECK_MAX_CHAIN) {
        const unsigned char *q = p;
        X509 *x = d2i_X509(NULL, &q, (long)(end - p));
        if(!x)
            break;
        if(!sk_X509_push(chain, x)) {
            X509_free(x);
            break;
        }
        n++;
        p = q;
    }
    tls_evaluate(ck, chain, data[1], (int)(int8_t)data[2], check_host);
    if(ck->run->res.ncerts != (unsigned)(n < VG_CHECK_MAX_CHAIN ? n : VG_CHECK_MAX_CHAIN))
        abort();
    for(unsigned i = 0; i < ck->run->res.ncerts; i++) {
        check_text(ck->run->res.certs[i].subject, sizeof(ck->run->res.certs[i].subject));
        check_text(ck->run->res.certs[i].issuer, sizeof(ck->run->res.certs[i].issuer));
    }
    if(ck->run->nfindings > CHECK_MAX_FINDINGS)
        abort();
    for(unsigned i = 0; i < ck->run->nfindings; i++) {
        if(ck->run->findings[i].reason <= VG_CR_OK || ck->run->findings[i].reason >= VG_CR__COUNT)
            abort();
        if(strnlen(ck->run->findings[i].msg, sizeof(ck->run->findings[i].msg)) == sizeof(ck->run->findings[i].msg))
            abort();
    }
    sk_X509_pop_free(chain, X509_free);
    free(ck->run);
    free(ck);
    return 0;
}
