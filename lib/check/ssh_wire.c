/* SPDX-License-Identifier: MIT */
/* The SSH wire format for the ssh check: bounds-checked readers, growable
 * writers, packet framing, name-list negotiation, host key fingerprints and
 * signature verification. Pure functions over buffers (no I/O, no state), so
 * unit tests and fuzz targets call them directly. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/ssh_wire.h"

#define SSH_MAX_PACKET 35000u   /* RFC 4253 6.1 */

bool ssh_rd_u8(ssh_rd *r, uint8_t *v)
{
    if(r->err || r->len - r->off < 1)
        return !(r->err = true);
    *v = r->p[r->off++];
    return true;
}

bool ssh_rd_u32(ssh_rd *r, uint32_t *v)
{
    if(r->err || r->len - r->off < 4)
        return !(r->err = true);
    *v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
         (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
    r->off += 4;
    return true;
}

bool ssh_rd_string(ssh_rd *r, const uint8_t **s, size_t *n)
{
    uint32_t l;
    if(!ssh_rd_u32(r, &l))
        return false;
    if(r->len - r->off < l)
        return !(r->err = true);
    *s = r->p + r->off;
    *n = l;
    r->off += l;
    return true;
}

bool ssh_rd_skip(ssh_rd *r, size_t n)
{
    if(r->err || r->len - r->off < n)
        return !(r->err = true);
    r->off += n;
    return true;
}

void ssh_wb_bytes(ssh_buf *b, const void *p, size_t n)
{
    if(b->err)
        return;
    if(b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *q;
        while(cap < b->len + n)
            cap *= 2;
        q = realloc(b->p, cap);
        if(!q) {
            b->err = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void ssh_wb_u8(ssh_buf *b, uint8_t v)
{
    ssh_wb_bytes(b, &v, 1);
}

void ssh_wb_u32(ssh_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    ssh_wb_bytes(b, x, 4);
}

void ssh_wb_string(ssh_buf *b, const void *s, size_t n)
{
    ssh_wb_u32(b, (uint32_t)n);
    ssh_wb_bytes(b, s, n);
}

void ssh_wb_mpint(ssh_buf *b, const uint8_t *be, size_t n)
{
    while(n && !be[0]) {
        be++;
        n--;
    }
    if(n && (be[0] & 0x80)) {
        ssh_wb_u32(b, (uint32_t)n + 1);
        ssh_wb_u8(b, 0);
        ssh_wb_bytes(b, be, n);
    }
    else
        ssh_wb_string(b, be, n);
}

void ssh_buf_free(ssh_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

int ssh_packet_parse(const uint8_t *buf, size_t len, size_t *consumed, const uint8_t **payload,
                     size_t *plen)
{
    uint32_t pl;
    uint8_t pad;
    if(len < 5)
        return 0;
    pl = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    if(pl < 5 || pl > SSH_MAX_PACKET)
        return -1;
    if(len - 4 < pl)
        return 0;
    pad = buf[4];
    if(pad < 4 || (size_t)pad + 1 >= pl)
        return -1;
    *payload = buf + 5;
    *plen = pl - pad - 1;
    *consumed = 4 + (size_t)pl;
    return 1;
}

bool ssh_namelist_pick(const char *client, const uint8_t *server, size_t slen, char *out, size_t outlen)
{
    const char *c = client;
    while(*c) {
        size_t cl = strcspn(c, ",");
        size_t i = 0;
        while(i < slen) {
            size_t j = i;
            while(j < slen && server[j] != ',')
                j++;
            if(j - i == cl && !memcmp(server + i, c, cl)) {
                if(cl >= outlen)
                    return false;
                memcpy(out, c, cl);
                out[cl] = '\0';
                return true;
            }
            i = j + 1;
        }
        c += cl;
        if(*c == ',')
            c++;
    }
    return false;
}

void ssh_fingerprint(const uint8_t *key, size_t n, char *out, size_t outlen)
{
    uint8_t md[32];
    unsigned char b64[64];
    int bl;
    EVP_Digest(key, n, md, NULL, EVP_sha256(), NULL);
    bl = EVP_EncodeBlock(b64, md, 32);
    while(bl > 0 && b64[bl - 1] == '=')
        bl--;
    snprintf(out, outlen, "SHA256:%.*s", bl, (const char *)b64);
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

/* Verifies sig_blob (string alg, string sig) over h with host key ks.
 * Returns 1 when valid, 0 when not, -1 for a key or algorithm we cannot
 * judge. */
int ssh_verify_signature(const uint8_t *ks, size_t ksn, const uint8_t *sigb, size_t sign,
                         const uint8_t *h, size_t hn)
{
    ssh_rd k = {ks, ksn, 0, false}, s = {sigb, sign, 0, false};
    const uint8_t *kt, *st, *sd;
    size_t ktn, stn, sdn;
    const EVP_MD *md = NULL;
    EVP_PKEY *pk = NULL;
    EVP_MD_CTX *mc = NULL;
    uint8_t *der = NULL;
    size_t dern = 0;
    int rc = -1;

    if(!ssh_rd_string(&k, &kt, &ktn) || !ssh_rd_string(&s, &st, &stn) || !ssh_rd_string(&s, &sd, &sdn))
        return 0;
    if(ktn == 11 && !memcmp(kt, "ssh-ed25519", 11)) {
        const uint8_t *pub;
        size_t pn;
        if(!ssh_rd_string(&k, &pub, &pn) || pn != 32 || stn != 11 || memcmp(st, "ssh-ed25519", 11) || sdn != 64)
            return 0;
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
        der = malloc(64);
        if(der) {
            memcpy(der, sd, 64);
            dern = 64;
        }
    }
    else if(ktn >= 19 && !memcmp(kt, "ecdsa-sha2-nistp", 16)) {
        const uint8_t *curve, *q, *r_, *s_;
        size_t cn, qn, rn, sn;
        const char *group = NULL;
        ssh_rd sr = {sd, sdn, 0, false};
        OSSL_PARAM_BLD *bld;
        ECDSA_SIG *es;
        if(!ssh_rd_string(&k, &curve, &cn) || !ssh_rd_string(&k, &q, &qn))
            return 0;
        if(cn == 8 && !memcmp(curve, "nistp256", 8)) {
            group = "P-256";
            md = EVP_sha256();
        }
        else if(cn == 8 && !memcmp(curve, "nistp384", 8)) {
            group = "P-384";
            md = EVP_sha384();
        }
        else if(cn == 8 && !memcmp(curve, "nistp521", 8)) {
            group = "P-521";
            md = EVP_sha512();
        }
        else
            return -1;
        if(stn != ktn || memcmp(st, kt, ktn) || !ssh_rd_string(&sr, &r_, &rn) || !ssh_rd_string(&sr, &s_, &sn))
            return 0;
        bld = OSSL_PARAM_BLD_new();
        if(!bld)
            return -1;
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, qn);
        pk = pkey_from_params("EC", bld);
        OSSL_PARAM_BLD_free(bld);
        es = ECDSA_SIG_new();
        if(es) {
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
    else if(ktn == 7 && !memcmp(kt, "ssh-rsa", 7)) {
        const uint8_t *e, *n;
        size_t en, nn;
        OSSL_PARAM_BLD *bld;
        BIGNUM *be, *bnn;
        if(!ssh_rd_string(&k, &e, &en) || !ssh_rd_string(&k, &n, &nn))
            return 0;
        if(stn == 12 && !memcmp(st, "rsa-sha2-256", 12))
            md = EVP_sha256();
        else if(stn == 12 && !memcmp(st, "rsa-sha2-512", 12))
            md = EVP_sha512();
        else
            return -1;
        be = BN_bin2bn(e, (int)en, NULL);
        bnn = BN_bin2bn(n, (int)nn, NULL);
        bld = OSSL_PARAM_BLD_new();
        if(be && bnn && bld) {
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bnn);
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
            pk = pkey_from_params("RSA", bld);
        }
        OSSL_PARAM_BLD_free(bld);
        BN_free(be);
        BN_free(bnn);
        der = malloc(sdn ? sdn : 1);
        if(der) {
            memcpy(der, sd, sdn);
            dern = sdn;
        }
    }
    else
        return -1;
    mc = EVP_MD_CTX_new();
    if(pk && mc && der && dern && EVP_DigestVerifyInit(mc, NULL, md, NULL, pk) == 1)
        rc = EVP_DigestVerify(mc, der, dern, h, hn) == 1 ? 1 : 0;
    EVP_MD_CTX_free(mc);
    EVP_PKEY_free(pk);
    OPENSSL_free(der);
    return rc;
}

