/* SPDX-License-Identifier: MIT */
/* tls://host:port: connect, complete a TLS handshake, and judge the
 * certificate chain (trust, host name, expiry of every certificate: see
 * tls_cert.c, which https:// and STARTTLS use too). With --send or
 * --expect the exchange runs inside the TLS session. */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/check_internal.h"

/* --- the tls:// kind ----------------------------------------------------- */

static int tls_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->cacert && access(o->cacert, R_OK) != 0)
        return vg_error_set(err, VG_EINVAL, "--cacert '%s': cannot read it", o->cacert);
    if(o->expect) {
        regex_t re;
        int rc = sendexpect_compile(&re, o->expect, "--expect", err);
        if(rc)
            return rc;
        regfree(&re);
    }
    return VG_OK;
}

/* Plain handshake check: the summary describes the session and the leaf. */
static void tls_open(vg_stream *s)
{
    vg_check *ck = s->ck;
    vg_check_result *r = &ck->run->res;
    char t[32], date[40];
    if(r->ncerts) {
        tls_fmt_date(r->certs[0].not_after, date, sizeof(date));
        check_summary(ck, "%s handshake in %s; certificate %s valid until %s (%d days)",
                      r->tls_version, check_fmt_us(r->phase_us[VG_PHASE_TLS], t, sizeof(t)),
                      r->certs[0].subject, date, r->certs[0].days_left);
    }
    else
        check_summary(ck, "%s handshake in %s", r->tls_version,
                      check_fmt_us(r->phase_us[VG_PHASE_TLS], t, sizeof(t)));
    check_attempt_done(ck);
}

static const vg_stream_ops tls_plain_ops = {
    .on_open = tls_open,
    .on_data = stream_discard_data,
    .on_close = stream_ignore_close,
};

static int tls_start(vg_check *ck)
{
    return sendexpect_kind_start(ck, &tls_plain_ops, true);
}

const vg_check_type vg_check_tls = {
    .name = "tls",
    .label = "TLS",
    .default_port = 0,
    .tls = true,
    .kind = VG_KIND_TLS,
    .fds = CHECK_FDS_STREAM,
    .validate = tls_validate,
    .start = tls_start,
    .on_timeout = sendexpect_kind_timeout,
    .release = sendexpect_kind_release,
};
