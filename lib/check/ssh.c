/* SPDX-License-Identifier: MIT */
/* ssh://host[:port]: read the server's version line, then run the first
 * half of an SSH transport key exchange (RFC 4253 with curve25519-sha256,
 * RFC 8731) just far enough to receive KEX_ECDH_REPLY: it carries the
 * server's host key and a signature over the exchange hash, which we
 * verify, so a fingerprint match means the server holds the private key.
 * Nothing is encrypted and no authentication happens; we close right after.
 * Every byte from the server goes through the bounded readers below. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "check/ssh_wire.h"
#include "vigia_config.h"

#define SSH_MAX_PRELINES 32     /* lines a server may send before its version */
#define SSH_BUF (64u << 10)

#define SSH_MSG_DISCONNECT 1
#define SSH_MSG_IGNORE 2
#define SSH_MSG_UNIMPLEMENTED 3
#define SSH_MSG_DEBUG 4
#define SSH_MSG_KEXINIT 20
#define SSH_MSG_KEX_ECDH_INIT 30
#define SSH_MSG_KEX_ECDH_REPLY 31

static const char kex_algs[] = "curve25519-sha256,curve25519-sha256@libssh.org";
static const char hostkey_algs[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256";
/* We never encrypt, but the server must find something in common to go on. */
static const char cipher_algs[] =
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com,aes128-cbc,aes256-cbc,3des-cbc";
static const char mac_algs[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1,umac-64@openssh.com";
static const char comp_algs[] = "none,zlib@openssh.com,zlib";

enum ssh_step { SSH_BANNER = 0, SSH_KEXINIT, SSH_REPLY };

struct ssh_ctx {
    vg_stream stream;
    int step;
    int prelines;
    char vc[64];                /* our version line, no CRLF */
    char vs[256];               /* theirs, raw (for the hash) */
    size_t vs_len;
    ssh_buf ic;                 /* our KEXINIT payload */
    uint8_t *is;                /* theirs */
    size_t is_len;
    EVP_PKEY *eph;              /* our X25519 key */
    uint8_t qc[32];
    char kex[40];
    char hostkey_alg[32];
};

/* --- the kind ----------------------------------------------------------------- */

static int ssh_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->expect_body || o->expect_status.n || o->method || o->data || o->headers || o->follow)
        return vg_error_set(err, VG_EINVAL, "HTTP options need an http:// or https:// target");
    if(o->send || o->expect)
        return vg_error_set(err, VG_EINVAL, "--send/--expect work on tcp:// and tls://; for SSH use --expect-version");
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
    ssh_buf b = {0};
    uint8_t pad[16] = {0};
    size_t padn = 8 - ((5 + n) % 8);
    bool ok;
    if(padn < 4)
        padn += 8;
    ssh_wb_u32(&b, (uint32_t)(1 + n + padn));
    ssh_wb_u8(&b, (uint8_t)padn);
    ssh_wb_bytes(&b, payload, n);
    ssh_wb_bytes(&b, pad, padn);
    ok = !b.err && stream_write(s, b.p, b.len) == 0;
    ssh_buf_free(&b);
    return ok;
}

static void ssh_fail(vg_check *ck, int state, int reason, const char *msg)
{
    check_finding(ck, state, reason, "%s", msg);
    check_attempt_done(ck);
}

static void ssh_done_summary(vg_check *ck, const char *extra)
{
    char t[32];
    vg_check_result *r = &ck->res;
    if(r->hostkey_fp[0])
        check_summary(ck, "%s; %s key %s%s in %s", r->banner, r->hostkey_type, r->hostkey_fp,
                      r->hostkey_verified ? "" : " (unverified)",
                      check_fmt_us(check_since_attempt(ck), t, sizeof(t)));
    else
        check_summary(ck, "%s in %s%s", r->banner, check_fmt_us(check_since_attempt(ck), t, sizeof(t)),
                      extra ? extra : "");
}

static void ssh_open(vg_stream *s)
{
    struct ssh_ctx *x = s->ud;
    vg_check *ck = s->ck;
    uint8_t cookie[16];
    char line[80];
    ssh_buf *b = &x->ic;

    snprintf(x->vc, sizeof(x->vc), "SSH-2.0-vigia_%s", VIGIA_VERSION);
    snprintf(line, sizeof(line), "%s\r\n", x->vc);
    RAND_bytes(cookie, sizeof(cookie));
    ssh_wb_u8(b, SSH_MSG_KEXINIT);
    ssh_wb_bytes(b, cookie, sizeof(cookie));
    ssh_wb_string(b, kex_algs, strlen(kex_algs));
    ssh_wb_string(b, hostkey_algs, strlen(hostkey_algs));
    ssh_wb_string(b, cipher_algs, strlen(cipher_algs));
    ssh_wb_string(b, cipher_algs, strlen(cipher_algs));
    ssh_wb_string(b, mac_algs, strlen(mac_algs));
    ssh_wb_string(b, mac_algs, strlen(mac_algs));
    ssh_wb_string(b, comp_algs, strlen(comp_algs));
    ssh_wb_string(b, comp_algs, strlen(comp_algs));
    ssh_wb_string(b, "", 0);
    ssh_wb_string(b, "", 0);
    ssh_wb_u8(b, 0);
    ssh_wb_u32(b, 0);
    if(b->err || stream_write(s, line, strlen(line)) || !ssh_send_packet(s, b->p, b->len))
        ssh_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
}

/* One line before or at the version. Returns 1 when the banner is read,
 * 0 when more is needed, -1 after finishing the attempt. */
static int ssh_banner(vg_stream *s, struct ssh_ctx *x)
{
    vg_check *ck = s->ck;
    for(;;) {
        const uint8_t *nl = memchr(s->in, '\n', s->in_len < 256 ? s->in_len : 256);
        size_t n;
        char where[128], got[80];
        if(!nl) {
            if(s->in_len >= 256) {
                check_where(ck, where, sizeof(where));
                vg_escape(got, sizeof(got), s->in, 48);
                check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                              "%s answers, but not with an SSH version line: \"%s\"", where, got);
                check_attempt_done(ck);
                return -1;
            }
            return 0;
        }
        n = (size_t)(nl - s->in);
        if(n && s->in[n - 1] == '\r')
            n--;
        if(n >= 4 && !memcmp(s->in, "SSH-", 4)) {
            memcpy(x->vs, s->in, n);
            x->vs_len = n;
            vg_escape(ck->res.banner, sizeof(ck->res.banner), s->in, n);
            stream_consume(s, (size_t)(nl - s->in) + 1);
            return 1;
        }
        if(++x->prelines > SSH_MAX_PRELINES) {
            check_where(ck, where, sizeof(where));
            vg_escape(got, sizeof(got), s->in, n < 48 ? n : 48);
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                          "%s answers, but sent %d lines without an SSH version line (last: \"%s\")", where,
                          SSH_MAX_PRELINES, got);
            check_attempt_done(ck);
            return -1;
        }
        stream_consume(s, (size_t)(nl - s->in) + 1);
    }
}

static void ssh_after_banner(vg_stream *s, struct ssh_ctx *x)
{
    vg_check *ck = s->ck;
    const vg_check_opts *o = ck->opts;
    (void)x;
    if(o->expect_version) {
        regex_t re;
        if(sendexpect_compile(&re, o->expect_version, "--expect-version", NULL) == VG_OK) {
            bool ok = sendexpect_match(&re, ck->res.banner, strlen(ck->res.banner));
            regfree(&re);
            if(!ok) {
                char want[128];
                vg_escape(want, sizeof(want), o->expect_version, strlen(o->expect_version));
                check_finding(ck, VG_CHECK_CRITICAL, VG_CR_BANNER_MISMATCH,
                              "version \"%s\" does not match /%s/", ck->res.banner, want);
            }
        }
    }
}

static void ssh_kexinit(vg_stream *s, struct ssh_ctx *x, const uint8_t *p, size_t n)
{
    vg_check *ck = s->ck;
    ssh_rd r = {p, n, 0, false};
    const uint8_t *kex, *hk;
    size_t kexn, hkn;
    uint8_t msg;
    size_t qn = sizeof(x->qc);
    ssh_buf b = {0};
    EVP_PKEY_CTX *pc;

    ssh_rd_u8(&r, &msg);
    ssh_rd_skip(&r, 16);
    ssh_rd_string(&r, &kex, &kexn);
    ssh_rd_string(&r, &hk, &hkn);
    if(r.err) {
        ssh_fail(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "malformed KEXINIT from the server");
        return;
    }
    x->is = malloc(n);
    if(!x->is) {
        ssh_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        return;
    }
    memcpy(x->is, p, n);
    x->is_len = n;
    if(!ssh_namelist_pick(kex_algs, kex, kexn, x->kex, sizeof(x->kex)) ||
       !ssh_namelist_pick(hostkey_algs, hk, hkn, x->hostkey_alg, sizeof(x->hostkey_alg))) {
        if(ck->opts->expect_hostkey)
            ssh_fail(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                     "no key exchange or host key algorithm in common with the server (need curve25519-sha256 "
                     "and ed25519, ecdsa or rsa-sha2 keys): cannot read its host key");
        else {
            ssh_done_summary(ck, " (host key not read: no common key exchange)");
            check_attempt_done(ck);
        }
        return;
    }
    pc = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
    if(!pc || EVP_PKEY_keygen_init(pc) != 1 || EVP_PKEY_keygen(pc, &x->eph) != 1 ||
       EVP_PKEY_get_raw_public_key(x->eph, x->qc, &qn) != 1) {
        EVP_PKEY_CTX_free(pc);
        ssh_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot make an X25519 key");
        return;
    }
    EVP_PKEY_CTX_free(pc);
    ssh_wb_u8(&b, SSH_MSG_KEX_ECDH_INIT);
    ssh_wb_string(&b, x->qc, sizeof(x->qc));
    if(b.err || !ssh_send_packet(s, b.p, b.len)) {
        ssh_buf_free(&b);
        ssh_fail(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        return;
    }
    ssh_buf_free(&b);
    x->step = SSH_REPLY;
}

/* Exchange hash of curve25519-sha256 (RFC 8731 3.1, RFC 5656 4). */
static bool ssh_exchange_hash(struct ssh_ctx *x, const uint8_t *ks, size_t ksn, const uint8_t *qs,
                              size_t qsn, const uint8_t *k, size_t kn, uint8_t h[32])
{
    ssh_buf b = {0};
    bool ok;
    ssh_wb_string(&b, x->vc, strlen(x->vc));
    ssh_wb_string(&b, x->vs, x->vs_len);
    ssh_wb_string(&b, x->ic.p, x->ic.len);
    ssh_wb_string(&b, x->is, x->is_len);
    ssh_wb_string(&b, ks, ksn);
    ssh_wb_string(&b, x->qc, sizeof(x->qc));
    ssh_wb_string(&b, qs, qsn);
    ssh_wb_mpint(&b, k, kn);
    ok = !b.err && EVP_Digest(b.p, b.len, h, NULL, EVP_sha256(), NULL) == 1;
    ssh_buf_free(&b);
    return ok;
}

static void ssh_reply(vg_stream *s, struct ssh_ctx *x, const uint8_t *p, size_t n)
{
    vg_check *ck = s->ck;
    vg_check_result *res = &ck->res;
    ssh_rd r = {p, n, 0, false};
    const uint8_t *ks, *qs, *sig, *kt;
    size_t ksn, qsn, sign, ktn;
    uint8_t msg, k[32], h[32];
    size_t kn = sizeof(k);
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *dc = NULL;
    int v = -1;

    ssh_rd_u8(&r, &msg);
    ssh_rd_string(&r, &ks, &ksn);
    ssh_rd_string(&r, &qs, &qsn);
    ssh_rd_string(&r, &sig, &sign);
    if(r.err || ksn == 0) {
        ssh_fail(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "malformed KEX_ECDH_REPLY from the server");
        return;
    }
    {
        ssh_rd kr = {ks, ksn, 0, false};
        if(ssh_rd_string(&kr, &kt, &ktn))
            vg_escape(res->hostkey_type, sizeof(res->hostkey_type), kt, ktn);
    }
    ssh_fingerprint(ks, ksn, res->hostkey_fp, sizeof(res->hostkey_fp));
    /* The server proves it holds the key: verify its signature over H. */
    if(qsn == 32)
        peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, qs, qsn);
    if(peer && (dc = EVP_PKEY_CTX_new(x->eph, NULL)) && EVP_PKEY_derive_init(dc) == 1 &&
       EVP_PKEY_derive_set_peer(dc, peer) == 1 && EVP_PKEY_derive(dc, k, &kn) == 1 && kn == 32 &&
       ssh_exchange_hash(x, ks, ksn, qs, qsn, k, kn, h))
        v = ssh_verify_signature(ks, ksn, sig, sign, h, sizeof(h));
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(peer);
    res->hostkey_verified = v == 1;
    if(v == 0)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                      "the server's signature over the key exchange does not verify with its host key %s",
                      res->hostkey_fp);
    if(ck->opts->expect_hostkey && !hostkey_expected(ck->opts, res->hostkey_fp))
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_HOSTKEY_MISMATCH,
                      "host key %s (%s) is not the expected one", res->hostkey_fp, res->hostkey_type);
    ssh_done_summary(ck, NULL);
    check_attempt_done(ck);
}

static void ssh_data(vg_stream *s)
{
    struct ssh_ctx *x = s->ud;
    vg_check *ck = s->ck;
    if(x->step == SSH_BANNER) {
        int rc = ssh_banner(s, x);
        if(rc <= 0)
            return;
        if(s->ck->res.banner[0] && strncmp(x->vs, "SSH-2.0-", 8) && strncmp(x->vs, "SSH-1.99-", 9)) {
            ssh_after_banner(s, x);
            if(ck->opts->expect_hostkey)
                check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                              "the server speaks an SSH version other than 2.0: cannot read its host key");
            ssh_done_summary(ck, NULL);
            check_attempt_done(ck);
            return;
        }
        ssh_after_banner(s, x);
        x->step = SSH_KEXINIT;
    }
    for(int guard = 0; guard < 64; guard++) {
        const uint8_t *payload;
        size_t plen, used;
        int rc = ssh_packet_parse(s->in, s->in_len, &used, &payload, &plen);
        char where[128];
        if(rc == 0) {
            if(s->in_len == s->in_cap)
                ssh_fail(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "SSH packet larger than the buffer");
            return;
        }
        if(rc < 0 || plen == 0) {
            check_where(ck, where, sizeof(where));
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                          "%s sent a malformed SSH packet during key exchange", where);
            check_attempt_done(ck);
            return;
        }
        switch(payload[0]) {
        case SSH_MSG_IGNORE:
        case SSH_MSG_DEBUG:
        case SSH_MSG_UNIMPLEMENTED:
            break;
        case SSH_MSG_DISCONNECT: {
            ssh_rd r = {payload, plen, 0, false};
            uint8_t m;
            uint32_t code = 0;
            const uint8_t *d = (const uint8_t *)"";
            size_t dn = 0;
            char why[160];
            ssh_rd_u8(&r, &m);
            ssh_rd_u32(&r, &code);
            ssh_rd_string(&r, &d, &dn);
            vg_escape(why, sizeof(why), d, r.err ? 0 : dn);
            if(ck->opts->expect_hostkey)
                check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                              "the server ended the key exchange (code %u: %s): cannot read its host key", code, why);
            ssh_done_summary(ck, " (the server ended the key exchange)");
            check_attempt_done(ck);
            return;
        }
        case SSH_MSG_KEXINIT:
            if(x->step == SSH_KEXINIT) {
                ssh_kexinit(s, x, payload, plen);
                if(x->step != SSH_REPLY)
                    return; /* finished */
                break;
            }
            ssh_fail(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "unexpected second KEXINIT from the server");
            return;
        case SSH_MSG_KEX_ECDH_REPLY:
            if(x->step == SSH_REPLY) {
                ssh_reply(s, x, payload, plen);
                return;
            }
            /* fall through */
        default:
            check_where(ck, where, sizeof(where));
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                          "%s sent an unexpected SSH message %u during key exchange", where, payload[0]);
            check_attempt_done(ck);
            return;
        }
        stream_consume(s, used);
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
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_RESET,
                          "connected to %s, but it reset the connection before sending an SSH version", where);
        else
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_CLOSED,
                          "connected to %s, but it closed the connection before sending an SSH version", where);
    }
    else if(ck->opts->expect_hostkey)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                      "the server closed the connection during the key exchange: cannot read its host key");
    else
        ssh_done_summary(ck, " (the server closed the connection during the key exchange)");
    check_attempt_done(ck);
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
    if(x->stream.st != ST_OPEN || x->step == SSH_BANNER)
        stream_timeout_finding(&x->stream, "an SSH version line");
    else if(ck->opts->expect_hostkey)
        stream_timeout_finding(&x->stream, "the key exchange reply");
    else {
        ssh_done_summary(ck, " (host key not read: the key exchange did not finish in time)");
    }
    check_attempt_done(ck);
}

static void ssh_release(vg_check *ck)
{
    struct ssh_ctx *x = ck->kctx;
    if(!x)
        return;
    if(x->stream.ck)
        stream_close(&x->stream);
    ssh_buf_free(&x->ic);
    free(x->is);
    EVP_PKEY_free(x->eph);
    free(x);
    ck->kctx = NULL;
}

const vg_check_type vg_check_ssh = {
    .name = "ssh",
    .label = "SSH",
    .default_port = 22,
    .tls = false,
    .validate = ssh_validate,
    .start = ssh_start,
    .on_timeout = ssh_timeout,
    .release = ssh_release,
};
