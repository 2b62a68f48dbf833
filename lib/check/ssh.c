/* SPDX-License-Identifier: MIT */
/* ssh://host[:port]: read the server's version line, then run the first
 * half of an SSH transport key exchange (RFC 4253; curve25519-sha256 of
 * RFC 8731 or ecdh-sha2-nistp256/384/521 of RFC 5656, as negotiated) just
 * far enough to receive KEX_ECDH_REPLY: it carries the server's host key
 * and a signature over the exchange hash, which ssh_kex.c judges, so a
 * fingerprint match means the server holds the private key. Nothing is
 * encrypted and no authentication happens; we close right after.
 *
 * Every attempt that got a connection ends in ssh_end(), which is the only
 * place that turns the key exchange into findings: with a pinned host key,
 * anything but SSH_HK_VERIFIED is CRITICAL hostkey-unverified, whatever
 * path led there. Every byte from the server goes through bounded readers. */
#include <openssl/rand.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "check/ssh_kex.h"
#include "check/ssh_wire.h"
#include "util/alloc.h"
#include "vigia_config.h"

#define SSH_BUF (64u << 10)

enum ssh_step { SSH_BANNER = 0, SSH_KEXINIT, SSH_REPLY };

struct ssh_ctx {
    vg_stream stream;
    int step;
    int prelines;
    char vc[64];                /* our version line, no CRLF */
    char vs[SSH_VERSION_MAX];   /* theirs, raw (for the hash); shorter than this */
    size_t vs_len;
    vg_wr ic;                   /* our KEXINIT payload */
    uint8_t *is;                /* theirs */
    size_t is_len;
    ssh_kex kex;
    ssh_hk_verdict verdict;     /* zero (not verified) until a signature verifies */
    /* What stopped the exchange short of a verified key, for ssh_end():
     * a finding (state, reason) that is reported with or without a pinned
     * key when always is set, else only a note on an unpinned check. */
    int prob_state, prob_reason;
    bool prob_always, prob_set;
    char prob[220];
    char banner_mismatch[300];  /* the --expect-version finding, or "" */
};

/* --- the kind ----------------------------------------------------------------- */

static const check_wrong_kind ssh_wrong_kind[] = {
    {"send", "--send/--expect work on tcp:// and tls://; for SSH use --expect-version"},
    {"expect", "--send/--expect work on tcp:// and tls://; for SSH use --expect-version"},
    {NULL, NULL},
};

static int ssh_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->expect_version) {
        regex_t re;
        int rc = sendexpect_compile(&re, o->expect_version, "--expect-version", err);
        if(rc)
            return rc;
        regfree(&re);
    }
    for(const char *const *h = o->expect_hostkey; h && *h; h++)
        if(strncmp(*h, "SHA256:", 7) || strlen(*h) < 20 || strlen(*h) > 60)
            return vg_error_set(err, VG_EINVAL,
                                "--expect-hostkey '%s': expected SHA256:... as ssh-keygen -lf prints it", *h);
    return VG_OK;
}

/* Whether an option pins the host key: then only a verified signature
 * passes. --expect-hostkey is the one such option; given at all, it pins
 * (an empty list matches no key). */
static bool hostkey_pinned(const vg_check_opts *o)
{
    return o->expect_hostkey != NULL;
}

static bool hostkey_expected(const vg_check_opts *o, const char *fp)
{
    for(const char *const *h = o->expect_hostkey; h && *h; h++) {
        size_t n = strlen(*h);
        while(n && (*h)[n - 1] == '=')
            n--;
        if(n == strlen(fp) && !memcmp(*h, fp, n))
            return true;
    }
    return false;
}

static bool ssh_send_packet(vg_stream *s, const uint8_t *payload, size_t n)
{
    vg_wr b = {0};
    bool ok;
    ssh_packet_write(&b, payload, n);
    ok = vg_wr_ok(&b) && stream_write(s, b.p, b.len) == 0;
    vg_wr_free(&b);
    return ok;
}

/* Records what stopped the exchange (the first thing only). */
static void ssh_problem(struct ssh_ctx *x, int state, int reason, bool always, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void ssh_problem(struct ssh_ctx *x, int state, int reason, bool always, const char *fmt, ...)
{
    va_list ap;
    if(x->prob_set)
        return;
    x->prob_set = true;
    x->prob_state = state;
    x->prob_reason = reason;
    x->prob_always = always;
    va_start(ap, fmt);
    vsnprintf(x->prob, sizeof(x->prob), fmt, ap);
    va_end(ap);
}

/* The end of every attempt that reached the server: the findings, in
 * order of importance, then the summary. timed_out: the deadline passed
 * (the stream driver words that finding). */
static void ssh_end(vg_check *ck, struct ssh_ctx *x, bool timed_out)
{
    const vg_check_opts *o = ck->opts;
    vg_check_result *r = &ck->run->res;
    bool pinned = hostkey_pinned(o);
    bool verified = x->verdict == SSH_HK_VERIFIED;
    char t[32];

    r->hostkey_verified = verified;
    if(pinned && !verified) {
        /* What stopped the exchange is said in this finding when it is a
         * protocol matter; a timeout, reset or local failure keeps its own
         * finding (and reason) after this one. */
        bool merge = x->prob_set && !timed_out &&
                     (x->prob_reason == VG_CR_PROTOCOL_ERROR || x->prob_reason == VG_CR_OK);
        if(merge)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_HOSTKEY_UNVERIFIED, "host key not verified: %s", x->prob);
        else
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_HOSTKEY_UNVERIFIED,
                          "host key not verified: the server did not prove it holds the pinned key");
        if(timed_out)
            stream_timeout_finding(&x->stream, x->step == SSH_BANNER ? "an SSH version line" : "the key exchange reply");
        else if(!merge && x->prob_set && x->prob_reason)
            check_finding(ck, x->prob_state, x->prob_reason, "%s", x->prob);
    }
    else if(timed_out) {
        if(x->step == SSH_BANNER)
            stream_timeout_finding(&x->stream, "an SSH version line");
    }
    else if(x->prob_set && x->prob_reason && (x->prob_always || pinned))
        check_finding(ck, x->prob_state, x->prob_reason, "%s", x->prob);
    if(pinned && r->hostkey_fp[0] && !hostkey_expected(o, r->hostkey_fp))
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_HOSTKEY_MISMATCH, "host key %s (%s) is not the expected one",
                      r->hostkey_fp, r->hostkey_type);
    if(x->banner_mismatch[0])
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_BANNER_MISMATCH, "%s", x->banner_mismatch);
    if(r->hostkey_fp[0])
        check_summary(ck, "%s; %s key %s%s in %s", r->banner, r->hostkey_type, r->hostkey_fp,
                      verified ? "" : " (unverified)", check_fmt_us(check_since_attempt(ck), t, sizeof(t)));
    else if(r->banner[0]) {
        const char *note = "";
        char nb[sizeof(x->prob) + 40];
        if(pinned)
            ; /* the hostkey-unverified finding says why */
        else if(timed_out)
            note = " (host key not read: the key exchange did not finish in time)";
        else if(x->prob_set && !x->prob_reason) {
            snprintf(nb, sizeof(nb), " (host key not read: %s)", x->prob);
            note = nb;
        }
        check_summary(ck, "%s in %s%s", r->banner, check_fmt_us(check_since_attempt(ck), t, sizeof(t)), note);
    }
    check_attempt_done(ck);
}

static void ssh_open(vg_stream *s)
{
    struct ssh_ctx *x = s->ud;
    vg_check *ck = s->ck;
    uint8_t cookie[16];
    char line[80];
    vg_wr *b = &x->ic;

    snprintf(x->vc, sizeof(x->vc), "SSH-2.0-vigia_%s", VIGIA_VERSION);
    snprintf(line, sizeof(line), "%s\r\n", x->vc);
    if(RAND_bytes(cookie, sizeof(cookie)) != 1) {
        ssh_problem(x, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, true, "no random bytes for the KEXINIT cookie");
        ssh_end(ck, x, false);
        return;
    }
    ssh_kexinit_write(b, cookie);
    if(!vg_wr_ok(b) || stream_write(s, line, strlen(line)) || !ssh_send_packet(s, b->p, b->len)) {
        ssh_problem(x, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, true, "out of memory");
        ssh_end(ck, x, false);
    }
}

/* One line before or at the version. Returns 1 when the banner is read,
 * 0 when more is needed, -1 when the server is not speaking SSH (the
 * problem is recorded). */
static int ssh_banner(vg_stream *s, struct ssh_ctx *x)
{
    vg_check *ck = s->ck;
    const uint8_t *l;
    size_t used, n;
    char where[128], got[80];
    int rc = ssh_version_read(s->in, s->in_len, &x->prelines, &used, &l, &n);

    switch(rc) {
    case SSH_V_FOUND:
        memcpy(x->vs, l, n);
        x->vs_len = n;
        vg_escape(ck->run->res.banner, sizeof(ck->run->res.banner), l, n);
        stream_consume(s, used);
        return 1;
    case SSH_V_LONG:
        check_where(ck, where, sizeof(where));
        vg_escape(got, sizeof(got), l, n < 48 ? n : 48);
        ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true,
                    "%s answers, but not with an SSH version line: \"%s\"", where, got);
        return -1;
    case SSH_V_PRELINES:
        check_where(ck, where, sizeof(where));
        vg_escape(got, sizeof(got), l, n < 48 ? n : 48);
        ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true,
                    "%s answers, but sent %d lines without an SSH version line (last: \"%s\")", where,
                    SSH_MAX_PRELINES, got);
        return -1;
    default:
        stream_consume(s, used);
        return 0;
    }
}

static void ssh_after_banner(vg_stream *s, struct ssh_ctx *x)
{
    vg_check *ck = s->ck;
    const vg_check_opts *o = ck->opts;
    if(o->expect_version) {
        regex_t re;
        if(sendexpect_compile(&re, o->expect_version, "--expect-version", NULL) == VG_OK) {
            bool ok = sendexpect_match(&re, ck->run->res.banner, strlen(ck->run->res.banner));
            regfree(&re);
            if(!ok) {
                char want[128];
                vg_escape(want, sizeof(want), o->expect_version, strlen(o->expect_version));
                snprintf(x->banner_mismatch, sizeof(x->banner_mismatch), "version \"%.120s\" does not match /%s/",
                         ck->run->res.banner, want);
            }
        }
    }
}

/* The server's KEXINIT: negotiate, then send our ephemeral key. Returns
 * false when the exchange cannot go on (the problem is recorded). */
static bool ssh_on_kexinit(vg_stream *s, struct ssh_ctx *x, const uint8_t *p, size_t n)
{
    ssh_kexinit ki;
    const ssh_kex_alg *alg;
    char hk[32];
    vg_wr b = {0};

    if(!ssh_kexinit_parse(p, n, &ki)) {
        ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true, "malformed KEXINIT from the server");
        return false;
    }
    if(!ssh_kexinit_negotiate(&ki, &alg, hk, sizeof(hk))) {
        ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_OK, false,
                    "no key exchange or host key algorithm in common with the server (vigia does "
                    "curve25519-sha256 and ecdh-sha2-nistp256/384/521 with ed25519, ecdsa or rsa-sha2 keys)");
        return false;
    }
    x->is = vg_malloc(n);
    if(!x->is || !ssh_kex_start(&x->kex, alg, hk)) {
        ssh_problem(x, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, true, "out of memory, or OpenSSL cannot make a %s key",
                    alg->name);
        return false;
    }
    memcpy(x->is, p, n);
    x->is_len = n;
    snprintf(s->ck->run->res.ssh_kex, sizeof(s->ck->run->res.ssh_kex), "%s", alg->name);
    snprintf(s->ck->run->res.hostkey_alg, sizeof(s->ck->run->res.hostkey_alg), "%s", hk);
    vg_wr_u8(&b, SSH_MSG_KEX_ECDH_INIT);
    vg_wr_str32(&b, x->kex.qc, x->kex.qc_len);
    if(!vg_wr_ok(&b) || !ssh_send_packet(s, b.p, b.len)) {
        vg_wr_free(&b);
        ssh_problem(x, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, true, "out of memory");
        return false;
    }
    vg_wr_free(&b);
    x->step = SSH_REPLY;
    return true;
}

/* KEX_ECDH_REPLY: the verdict on the host key, then the end. */
static void ssh_reply(vg_stream *s, struct ssh_ctx *x, const uint8_t *p, size_t n)
{
    vg_check *ck = s->ck;
    vg_check_result *res = &ck->run->res;
    ssh_transcript t = {
        .vc = (const uint8_t *)x->vc, .vcn = strlen(x->vc), .vs = (const uint8_t *)x->vs, .vsn = x->vs_len,
        .ic = x->ic.p, .icn = x->ic.len, .is = x->is, .isn = x->is_len,
    };
    ssh_hostkey hk;
    const char *why = NULL;

    x->verdict = ssh_kex_judge_reply(&x->kex, &t, p, n, &hk, &why);
    /* What is reported is what was judged: the same K_S bytes. */
    snprintf(res->hostkey_type, sizeof(res->hostkey_type), "%s", hk.type);
    snprintf(res->hostkey_fp, sizeof(res->hostkey_fp), "%s", hk.ks ? hk.fp : "");
    if(x->verdict == SSH_HK_INVALID)
        ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true, "%s (%s, %s)", why, x->kex.alg->name,
                    x->kex.hostkey_alg);
    else if(x->verdict != SSH_HK_VERIFIED)
        ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_OK, false, "%s", why ? why : "not judged");
    ssh_end(ck, x, false);
}

static void ssh_data(vg_stream *s)
{
    struct ssh_ctx *x = s->ud;
    vg_check *ck = s->ck;
    char where[128];
    if(x->step == SSH_BANNER) {
        int rc = ssh_banner(s, x);
        if(rc == 0)
            return;
        if(rc < 0) {
            ssh_end(ck, x, false);
            return;
        }
        ssh_after_banner(s, x);
        if(strncmp(x->vs, "SSH-2.0-", 8) && strncmp(x->vs, "SSH-1.99-", 9)) {
            ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_OK, false, "the server speaks an SSH version other than 2.0");
            ssh_end(ck, x, false);
            return;
        }
        x->step = SSH_KEXINIT;
    }
    /* Each round consumes a whole packet (at least 9 bytes) of a bounded
     * buffer, so this ends. */
    for(;;) {
        ssh_msg m;
        switch(ssh_msg_read(s->in, s->in_len, &m)) {
        case SSH_M_MORE:
            if(s->in_len == s->in_cap) {
                ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true, "SSH packet larger than the buffer");
                ssh_end(ck, x, false);
            }
            return;
        case SSH_M_BAD:
            check_where(ck, where, sizeof(where));
            ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true,
                        "%s sent a malformed SSH packet during key exchange", where);
            ssh_end(ck, x, false);
            return;
        case SSH_M_SKIP:
            break;
        case SSH_M_DISCONNECT: {
            char why[160];
            vg_escape(why, sizeof(why), m.desc, m.descn);
            ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_OK, false, "the server ended the key exchange (code %u: %s)",
                        m.code, why);
            ssh_end(ck, x, false);
            return;
        }
        default:
            if(m.type == SSH_MSG_KEXINIT && x->step == SSH_KEXINIT) {
                if(!ssh_on_kexinit(s, x, m.payload, m.plen)) {
                    ssh_end(ck, x, false);
                    return;
                }
                break;
            }
            if(m.type == SSH_MSG_KEXINIT) {
                ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true,
                            "unexpected second KEXINIT from the server");
                ssh_end(ck, x, false);
                return;
            }
            if(m.type == SSH_MSG_KEX_ECDH_REPLY && x->step == SSH_REPLY) {
                ssh_reply(s, x, m.payload, m.plen);
                return;
            }
            check_where(ck, where, sizeof(where));
            ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, true,
                        "%s sent an unexpected SSH message %u during key exchange", where, m.type);
            ssh_end(ck, x, false);
            return;
        }
        stream_consume(s, m.used);
    }
}

static void ssh_close(vg_stream *s, int err)
{
    struct ssh_ctx *x = s->ud;
    vg_check *ck = s->ck;
    char where[128];
    check_where(ck, where, sizeof(where));
    if(x->step == SSH_BANNER) {
        if(err)
            ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_CONN_RESET, true,
                        "connected to %s, but it reset the connection before sending an SSH version", where);
        else
            ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_CONN_CLOSED, true,
                        "connected to %s, but it closed the connection before sending an SSH version", where);
    }
    else
        ssh_problem(x, VG_CHECK_CRITICAL, VG_CR_OK, false,
                    "the server %s the connection during the key exchange%s", err ? "reset" : "closed",
                    s->in_len ? " (in the middle of a packet)" : "");
    ssh_end(ck, x, false);
}

static const vg_stream_ops ssh_ops = {
    .on_open = ssh_open,
    .on_data = ssh_data,
    .on_close = ssh_close,
};

static int ssh_start(vg_check *ck)
{
    struct ssh_ctx *x = check_kctx_new(ck, sizeof(*x));
    if(!x)
        return -1;
    return stream_open(&x->stream, ck, &ssh_ops, x, SSH_BUF, false);
}

static void ssh_timeout(vg_check *ck)
{
    struct ssh_ctx *x = ck->kctx;
    if(x->stream.st != ST_OPEN) {
        /* Never connected: nothing was said about any key. */
        stream_timeout_finding(&x->stream, "an SSH version line");
        check_attempt_done(ck);
        return;
    }
    ssh_end(ck, x, true);
}

static void ssh_release(vg_check *ck)
{
    struct ssh_ctx *x = ck->kctx;
    if(!x)
        return;
    if(x->stream.ck)
        stream_close(&x->stream);
    vg_wr_free(&x->ic);
    free(x->is);
    ssh_kex_free(&x->kex);
    free(x);
    ck->kctx = NULL;
}

const vg_check_type vg_check_ssh = {
    .name = "ssh",
    .label = "SSH",
    .detail = VG_REC_DETAIL_SSH,
    .default_port = 22,
    .tls = false,
    .kind = VG_KIND_SSH,
    .fds = CHECK_FDS_STREAM,
    .wrong_kind = ssh_wrong_kind,
    .validate = ssh_validate,
    .start = ssh_start,
    .on_timeout = ssh_timeout,
    .release = ssh_release,
};
