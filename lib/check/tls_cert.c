/* SPDX-License-Identifier: MIT */
/* The judgement of a TLS session and its certificate chain (trust, host
 * name, expiry of every certificate), shared by tls://, https:// and the
 * STARTTLS kinds through the stream layer. */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check_internal.h"

static bool is_ip_literal(const char *h)
{
    return strchr(h, ':') || strspn(h, "0123456789.") == strlen(h);
}

static int64_t asn1_to_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if(!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

static void name_line(X509_NAME *name, char *out, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    out[0] = '\0';
    if(!b)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    n = BIO_get_mem_data(b, &data);
    if(n > 0 && data)
        vg_escape(out, len, data, (size_t)n);
    BIO_free(b);
}

void tls_fmt_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

void tls_record_session(vg_check *ck, SSL *ssl)
{
    const char *v = SSL_get_version(ssl);
    const char *c = SSL_get_cipher_name(ssl);
    snprintf(ck->run->res.tls_version, sizeof(ck->run->res.tls_version), "%s", v ? v : "");
    snprintf(ck->run->res.tls_cipher, sizeof(ck->run->res.tls_cipher), "%s", c ? c : "");
}

void tls_evaluate(vg_check *ck, STACK_OF(X509) *chain, long verify_err, int verify_depth,
                  const char *check_host)
{
    const vg_check_opts *o = ck->opts;
    vg_check_result *r = &ck->run->res;
    int n = chain ? sk_X509_num(chain) : 0;
    int64_t now = (int64_t)time(NULL);
    char date[40];

    r->ncerts = 0;
    for(int i = 0; i < n && r->ncerts < VG_CHECK_MAX_CHAIN; i++) {
        X509 *x = sk_X509_value(chain, i);
        vg_check_cert *c = &r->certs[r->ncerts++];
        c->not_before = asn1_to_unix(X509_get0_notBefore(x));
        c->not_after = asn1_to_unix(X509_get0_notAfter(x));
        c->days_left = (int)((c->not_after - now) / 86400 - (c->not_after < now ? 1 : 0));
        name_line(X509_get_subject_name(x), c->subject, sizeof(c->subject));
        name_line(X509_get_issuer_name(x), c->issuer, sizeof(c->issuer));
    }
    if(!o->insecure) {
        if(n == 0)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CERT_UNTRUSTED, "the server sent no certificate");
        else if(verify_err != X509_V_OK) {
            int d = verify_depth >= 0 && verify_depth < (int)r->ncerts ? verify_depth : 0;
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CERT_UNTRUSTED,
                          "certificate chain not trusted: %s (depth %d: %s)",
                          X509_verify_cert_error_string(verify_err), d, r->certs[d].subject);
        }
        if(n > 0 && check_host && *check_host) {
            X509 *leaf = sk_X509_value(chain, 0);
            int ok = is_ip_literal(check_host) ? X509_check_ip_asc(leaf, check_host, 0)
                                               : X509_check_host(leaf, check_host, 0, 0, NULL);
            if(ok != 1) {
                char h[300];
                vg_escape(h, sizeof(h), check_host, strlen(check_host));
                check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CERT_HOSTNAME,
                              "certificate (%s) is not valid for '%s'", r->certs[0].subject, h);
            }
        }
    }
    /* Dates are judged for every certificate, even with --insecure: an
     * expired certificate breaks clients whatever they trust. */
    for(unsigned i = 0; i < r->ncerts; i++) {
        vg_check_cert *c = &r->certs[i];
        const char *what = i == 0 ? "server certificate" : "chain certificate";
        if(c->not_after <= now) {
            tls_fmt_date(c->not_after, date, sizeof(date));
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CERT_EXPIRED, "%s %s (depth %u) expired on %s",
                          what, c->subject, i, date);
        }
        else if(c->not_before > now) {
            tls_fmt_date(c->not_before, date, sizeof(date));
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CERT_NOT_YET_VALID,
                          "%s %s (depth %u) is not valid before %s", what, c->subject, i, date);
        }
        else if(o->cert_crit_days > 0 && c->days_left < o->cert_crit_days) {
            tls_fmt_date(c->not_after, date, sizeof(date));
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CERT_EXPIRING,
                          "%s %s (depth %u) expires in %d days (%s; critical below %d)", what,
                          c->subject, i, c->days_left, date, o->cert_crit_days);
        }
        else if(o->cert_warn_days > 0 && c->days_left < o->cert_warn_days) {
            tls_fmt_date(c->not_after, date, sizeof(date));
            check_finding(ck, VG_CHECK_WARNING, VG_CR_CERT_EXPIRING,
                          "%s %s (depth %u) expires in %d days (%s; warning below %d)", what,
                          c->subject, i, c->days_left, date, o->cert_warn_days);
        }
    }
}
