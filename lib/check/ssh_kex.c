/* SPDX-License-Identifier: MIT */
/* The key exchange of the ssh check (RFC 4253 7-8, RFC 5656 4 and 6.2,
 * RFC 8731): negotiation, our ephemeral key, and the judgment of the
 * server's KEX_ECDH_REPLY. Every path that does not end in a signature
 * that verifies returns something other than SSH_HK_VERIFIED; the verdict
 * starts as "not verified" and only the final, successful signature check
 * changes it. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "check/ssh_kex.h"
#include "check/ssh_wire.h"
#include "vigia/check.h"

const char ssh_kex_names[] =
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521";
const char ssh_hostkey_names[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256";

static const ssh_kex_alg kex_algs[] = {
    {"curve25519-sha256", NULL, 32, "SHA256"},
    {"curve25519-sha256@libssh.org", NULL, 32, "SHA256"},
    {"ecdh-sha2-nistp256", "P-256", 65, "SHA256"},
    {"ecdh-sha2-nistp384", "P-384", 97, "SHA384"},
    {"ecdh-sha2-nistp521", "P-521", 133, "SHA512"},
};

const ssh_kex_alg *ssh_kex_find(const char *name)
{
    for(size_t i = 0; i < sizeof(kex_algs) / sizeof(kex_algs[0]); i++)
        if(!strcmp(kex_algs[i].name, name))
            return &kex_algs[i];
    return NULL;
}

/* --- KEXINIT ------------------------------------------------------------------ */

/* We never encrypt, but the server must find something in common to go on. */
static const char cipher_algs[] =
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com,aes128-cbc,aes256-cbc,3des-cbc";
static const char mac_algs[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1,umac-64@openssh.com";
static const char comp_algs[] = "none,zlib@openssh.com,zlib";

const char *const ssh_client_namelists[10] = {
    ssh_kex_names, ssh_hostkey_names, cipher_algs, cipher_algs, mac_algs, mac_algs, comp_algs, comp_algs, "", "",
};

void ssh_kexinit_write(vg_wr *w, const uint8_t cookie[16])
{
    vg_wr_u8(w, SSH_MSG_KEXINIT);
    vg_wr_bytes(w, cookie, 16);
    for(int i = 0; i < 10; i++)
        vg_wr_str32(w, ssh_client_namelists[i], strlen(ssh_client_namelists[i]));
    vg_wr_u8(w, 0);     /* first_kex_packet_follows */
    vg_wr_be32(w, 0);   /* reserved */
}

bool ssh_kexinit_negotiate(const ssh_kexinit *ki, const ssh_kex_alg **kex, char *hostkey_alg,
                           size_t hostkey_alg_len)
{
    char name[40];
    *kex = NULL;
    if(!ssh_namelist_pick(ssh_kex_names, ki->kex, ki->kexn, name, sizeof(name)) ||
       !ssh_namelist_pick(ssh_hostkey_names, ki->hostkey, ki->hostkeyn, hostkey_alg, hostkey_alg_len))
        return false;
    *kex = ssh_kex_find(name);
    return *kex != NULL;
}

/* --- our ephemeral key ---------------------------------------------------------- */

bool ssh_kex_start(ssh_kex *k, const ssh_kex_alg *alg, const char *hostkey_alg)
{
    memset(k, 0, sizeof(*k));
    size_t n = strnlen(hostkey_alg, sizeof(k->hostkey_alg));
    if(!alg || n == sizeof(k->hostkey_alg))
        return false;
    k->alg = alg;
    memcpy(k->hostkey_alg, hostkey_alg, n + 1);
    k->eph = alg->group ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", alg->group)
                        : EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    if(!k->eph ||
       EVP_PKEY_get_octet_string_param(k->eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, k->qc, sizeof(k->qc),
                                       &k->qc_len) != 1 ||
       k->qc_len != alg->qlen) {
        ssh_kex_free(k);
        return false;
    }
    return true;
}

void ssh_kex_free(ssh_kex *k)
{
    EVP_PKEY_free(k->eph);
    k->eph = NULL;
}

/* An EC public key of group from an uncompressed point, checked to be on
 * the curve (the NIST curves have cofactor 1, so that is the full check). */
static EVP_PKEY *ec_public(const char *group, const uint8_t *q, size_t qn)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = NULL, *vc = NULL;
    EVP_PKEY *pk = NULL;
    if(!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
       !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, qn) ||
       !(params = OSSL_PARAM_BLD_to_param(bld)) || !(pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
       EVP_PKEY_fromdata_init(pc) != 1 || EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    vc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    if(!vc || EVP_PKEY_public_check(vc) != 1) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
out:
    EVP_PKEY_CTX_free(vc);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

/* The shared secret with the server's ephemeral key qs. Returns its
 * length, 0 when qs is not a usable key or the secret is all zero (a
 * low-order curve25519 point, RFC 8731 3). */
static size_t kex_derive(const ssh_kex *k, const uint8_t *qs, size_t qsn, uint8_t *out, size_t outlen)
{
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *dc = NULL;
    size_t kn = 0, len = 0;
    uint8_t any = 0;
    if(qsn != k->alg->qlen)
        return 0;
    if(k->alg->group)
        peer = qs[0] == 0x04 ? ec_public(k->alg->group, qs, qsn) : NULL;
    else
        peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, qs, qsn);
    if(peer && (dc = EVP_PKEY_CTX_new_from_pkey(NULL, k->eph, NULL)) && EVP_PKEY_derive_init(dc) == 1 &&
       EVP_PKEY_derive_set_peer(dc, peer) == 1 && EVP_PKEY_derive(dc, NULL, &len) == 1 && len <= outlen &&
       EVP_PKEY_derive(dc, out, &len) == 1)
        kn = len;
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(peer);
    for(size_t i = 0; i < kn; i++)
        any |= out[i];
    return any ? kn : 0;
}

/* H = HASH(V_C || V_S || I_C || I_S || K_S || Q_C || Q_S || K), RFC 5656 4;
 * curve25519-sha256 has the same layout (RFC 8731 3.1). */
static size_t exchange_hash(const ssh_kex *k, const ssh_transcript *t, const uint8_t *ks, size_t ksn,
                            const uint8_t *qs, size_t qsn, const uint8_t *kk, size_t kn, uint8_t *h)
{
    vg_wr b = {0};
    unsigned hn = 0;
    EVP_MD *md = EVP_MD_fetch(NULL, k->alg->md, NULL);
    vg_wr_str32(&b, t->vc, t->vcn);
    vg_wr_str32(&b, t->vs, t->vsn);
    vg_wr_str32(&b, t->ic, t->icn);
    vg_wr_str32(&b, t->is, t->isn);
    vg_wr_str32(&b, ks, ksn);
    vg_wr_str32(&b, k->qc, k->qc_len);
    vg_wr_str32(&b, qs, qsn);
    ssh_wr_mpint(&b, kk, kn);
    if(!md || !vg_wr_ok(&b) || EVP_Digest(b.p, b.len, h, &hn, md, NULL) != 1)
        hn = 0;
    EVP_MD_free(md);
    vg_wr_free(&b);
    return hn;
}

ssh_hk_verdict ssh_kex_judge_reply(const ssh_kex *k, const ssh_transcript *t, const uint8_t *p,
                                   size_t n, ssh_hostkey *hk, const char **why)
{
    vg_rd r;
    const uint8_t *qs, *sig;
    size_t qsn, sign, kn;
    uint8_t msg = 0, kk[80], h[EVP_MAX_MD_SIZE];
    size_t hn;
    ssh_hk_verdict v;
    const char *dummy;

    if(!why)
        why = &dummy;
    memset(hk, 0, sizeof(*hk));
    *why = "no key exchange in progress";
    if(!k || !k->alg || !k->eph)
        return SSH_HK_UNVERIFIED;
    vg_rd_init(&r, p, n);
    if(!vg_rd_u8(&r, &msg) || msg != SSH_MSG_KEX_ECDH_REPLY || !vg_rd_str32(&r, &hk->ks, &hk->ksn)) {
        hk->ks = NULL;
        *why = "malformed KEX_ECDH_REPLY (no host key)";
        return SSH_HK_INVALID;
    }
    if(hk->ksn == 0) {
        hk->ks = NULL;
        *why = "malformed KEX_ECDH_REPLY (empty host key)";
        return SSH_HK_INVALID;
    }
    ssh_fingerprint(hk->ks, hk->ksn, hk->fp, sizeof(hk->fp));
    {
        vg_rd kr;
        const uint8_t *kt;
        size_t ktn;
        vg_rd_init(&kr, hk->ks, hk->ksn);
        if(vg_rd_str32(&kr, &kt, &ktn))
            vg_escape(hk->type, sizeof(hk->type), kt, ktn);
    }
    vg_rd_str32(&r, &qs, &qsn);
    vg_rd_str32(&r, &sig, &sign);
    if(!vg_rd_done(&r)) {
        *why = !vg_rd_ok(&r) ? "malformed KEX_ECDH_REPLY (truncated)" : "malformed KEX_ECDH_REPLY (bytes after the signature)";
        return SSH_HK_INVALID;
    }
    if(qsn != k->alg->qlen) {
        *why = "the server's ephemeral key has the wrong length for the negotiated key exchange";
        return SSH_HK_INVALID;
    }
    kn = kex_derive(k, qs, qsn, kk, sizeof(kk));
    if(!kn) {
        *why = "the server's ephemeral key is not a valid point (or gives an all-zero shared secret)";
        return SSH_HK_INVALID;
    }
    hn = exchange_hash(k, t, hk->ks, hk->ksn, qs, qsn, kk, kn, h);
    OPENSSL_cleanse(kk, sizeof(kk));
    if(!hn) {
        *why = "cannot compute the exchange hash";
        return SSH_HK_UNVERIFIED;
    }
    v = ssh_verify_signature(k->hostkey_alg, hk->ks, hk->ksn, sig, sign, h, hn, why);
    return v;
}

/* --- host key signatures ---------------------------------------------------- */

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pk = NULL;
    if(params && pc && EVP_PKEY_fromdata_init(pc) == 1)
        EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    return pk;
}

static bool name_is(const uint8_t *s, size_t n, const char *want)
{
    return n == strlen(want) && !memcmp(s, want, n);
}

/* A positive mpint's magnitude (RFC 4251 5): not negative, not empty. */
static bool mpint_positive(const uint8_t *p, size_t n)
{
    return n > 0 && !(p[0] & 0x80);
}

ssh_hk_verdict ssh_verify_signature(const char *alg, const uint8_t *ks, size_t ksn, const uint8_t *sigb,
                                    size_t sign, const uint8_t *h, size_t hn, const char **why)
{
    vg_rd k, s;
    const uint8_t *kt, *st, *sd;
    size_t ktn, stn, sdn;
    const char *mdname = NULL;
    EVP_PKEY *pk = NULL;
    EVP_MD_CTX *mc = NULL;
    EVP_MD *md = NULL;
    uint8_t *der = NULL;
    size_t dern = 0;
    ssh_hk_verdict v = SSH_HK_INVALID;
    const char *dummy;

    if(!why)
        why = &dummy;
    vg_rd_init(&k, ks, ksn);
    vg_rd_init(&s, sigb, sign);
    if(!vg_rd_str32(&k, &kt, &ktn)) {
        *why = "malformed host key blob";
        return SSH_HK_INVALID;
    }
    if(!vg_rd_str32(&s, &st, &stn) || !vg_rd_str32(&s, &sd, &sdn) || !vg_rd_done(&s)) {
        *why = "malformed signature blob";
        return SSH_HK_INVALID;
    }
    if(!name_is(st, stn, alg)) {
        *why = "the signature's algorithm is not the negotiated host key algorithm";
        return SSH_HK_INVALID;
    }
    if(!strcmp(alg, "ssh-ed25519")) {
        const uint8_t *pub;
        size_t pn;
        if(!name_is(kt, ktn, "ssh-ed25519")) {
            *why = "the host key type does not match the signature algorithm";
            return SSH_HK_INVALID;
        }
        if(!vg_rd_str32(&k, &pub, &pn) || pn != 32 || !vg_rd_done(&k)) {
            *why = "malformed ssh-ed25519 host key";
            return SSH_HK_INVALID;
        }
        if(sdn != 64) {
            *why = "an ssh-ed25519 signature must be 64 bytes";
            return SSH_HK_INVALID;
        }
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
        if((der = OPENSSL_malloc(64))) {
            memcpy(der, sd, 64);
            dern = 64;
        }
    }
    else if(!strncmp(alg, "ecdsa-sha2-nistp", 16)) {
        const uint8_t *curve, *q, *r_, *s_;
        size_t cn, qn, rn, sn, flen;
        const char *group;
        vg_rd sr;
        ECDSA_SIG *es;
        if(!strcmp(alg, "ecdsa-sha2-nistp256")) {
            group = "P-256";
            mdname = "SHA256";
            flen = 32;
        }
        else if(!strcmp(alg, "ecdsa-sha2-nistp384")) {
            group = "P-384";
            mdname = "SHA384";
            flen = 48;
        }
        else if(!strcmp(alg, "ecdsa-sha2-nistp521")) {
            group = "P-521";
            mdname = "SHA512";
            flen = 66;
        }
        else {
            *why = "unsupported host key algorithm";
            return SSH_HK_UNVERIFIED;
        }
        if(!name_is(kt, ktn, alg)) {
            *why = "the host key type does not match the signature algorithm";
            return SSH_HK_INVALID;
        }
        if(!vg_rd_str32(&k, &curve, &cn) || !vg_rd_str32(&k, &q, &qn) || !vg_rd_done(&k) ||
           !name_is(curve, cn, alg + 11) || qn != 1 + 2 * flen || q[0] != 0x04) {
            *why = "malformed ECDSA host key";
            return SSH_HK_INVALID;
        }
        vg_rd_init(&sr, sd, sdn);
        if(!vg_rd_str32(&sr, &r_, &rn) || !vg_rd_str32(&sr, &s_, &sn) || !vg_rd_done(&sr) ||
           !mpint_positive(r_, rn) || !mpint_positive(s_, sn) || rn > flen + 1 || sn > flen + 1) {
            *why = "malformed ECDSA signature";
            return SSH_HK_INVALID;
        }
        pk = ec_public(group, q, qn);
        if(!pk) {
            *why = "the ECDSA host key is not a valid point";
            return SSH_HK_INVALID;
        }
        if((es = ECDSA_SIG_new())) {
            BIGNUM *br = BN_bin2bn(r_, (int)rn, NULL), *bs = BN_bin2bn(s_, (int)sn, NULL);
            if(br && bs && ECDSA_SIG_set0(es, br, bs)) {
                int l = i2d_ECDSA_SIG(es, &der);
                dern = l > 0 ? (size_t)l : 0;
            }
            else {
                BN_free(br);
                BN_free(bs);
            }
            ECDSA_SIG_free(es);
        }
    }
    else if(!strcmp(alg, "rsa-sha2-256") || !strcmp(alg, "rsa-sha2-512")) {
        const uint8_t *e, *nn;
        size_t en, nnn, modlen;
        OSSL_PARAM_BLD *bld;
        BIGNUM *be, *bn;
        mdname = alg[9] == '2' ? "SHA256" : "SHA512";
        if(!name_is(kt, ktn, "ssh-rsa")) {
            *why = "the host key type does not match the signature algorithm";
            return SSH_HK_INVALID;
        }
        if(!vg_rd_str32(&k, &e, &en) || !vg_rd_str32(&k, &nn, &nnn) || !vg_rd_done(&k) ||
           !mpint_positive(e, en) || !mpint_positive(nn, nnn) || en > 8) {
            *why = "malformed ssh-rsa host key";
            return SSH_HK_INVALID;
        }
        be = BN_bin2bn(e, (int)en, NULL);
        bn = BN_bin2bn(nn, (int)nnn, NULL);
        if(!be || !bn) {
            BN_free(be);
            BN_free(bn);
            *why = "cannot check the signature (out of memory)";
            return SSH_HK_UNVERIFIED;
        }
        /* OpenSSH refuses RSA keys under 1024 bits; so do we. */
        if(BN_num_bits(bn) < 1024 || BN_num_bits(bn) > 16384 || !BN_is_odd(be)) {
            BN_free(be);
            BN_free(bn);
            *why = "unacceptable ssh-rsa host key (modulus under 1024 or over 16384 bits, or even exponent)";
            return SSH_HK_INVALID;
        }
        modlen = (size_t)BN_num_bytes(bn);
        if(sdn == 0 || sdn > modlen) {
            BN_free(be);
            BN_free(bn);
            *why = "an RSA signature longer than the modulus";
            return SSH_HK_INVALID;
        }
        if((bld = OSSL_PARAM_BLD_new())) {
            if(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
               OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
                pk = pkey_from_params("RSA", bld);
            OSSL_PARAM_BLD_free(bld);
        }
        BN_free(be);
        BN_free(bn);
        /* A signature with its leading zero bytes left out is padded
         * back to the modulus length, as OpenSSH does; OpenSSL wants it
         * whole. */
        if((der = OPENSSL_zalloc(modlen))) {
            memcpy(der + modlen - sdn, sd, sdn);
            dern = modlen;
        }
    }
    else {
        *why = "unsupported host key algorithm";
        return SSH_HK_UNVERIFIED;
    }
    if(mdname)
        md = EVP_MD_fetch(NULL, mdname, NULL);
    mc = EVP_MD_CTX_new();
    if(!pk) {
        *why = "the host key is not a usable key";
        v = SSH_HK_INVALID;
    }
    else if(!mc || !der || !dern || (mdname && !md) || EVP_DigestVerifyInit(mc, NULL, md, NULL, pk) != 1) {
        *why = "cannot check the signature (out of memory)";
        v = SSH_HK_UNVERIFIED;
    }
    else if(EVP_DigestVerify(mc, der, dern, h, hn) == 1)
        v = SSH_HK_VERIFIED;
    else
        *why = "the signature over the key exchange does not verify with the host key";
    EVP_MD_CTX_free(mc);
    EVP_MD_free(md);
    EVP_PKEY_free(pk);
    OPENSSL_free(der);
    return v;
}
