/* SPDX-License-Identifier: MIT */
/* Unit tests of the ssh check's key exchange (lib/check/ssh_kex.c): the
 * tests play the server with OpenSSL (an ed25519 host key, their own
 * ephemeral key, the exchange hash, the signature) and check that only an
 * intact reply gives SSH_HK_VERIFIED, and that negotiation picks what the
 * client prefers. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "check/ssh_kex.h"
#include "check/ssh_wire.h"

static const char VC[] = "SSH-2.0-vigia_test", VS[] = "SSH-2.0-Server_1.0";
static const uint8_t IC[] = {20, 1, 2, 3}, IS[] = {20, 4, 5, 6};

/* What the test server changes in its reply. */
enum mutation {
    M_NONE, M_SIG_BYTE, M_SIG_NAME, M_TRAILING, M_ZERO_POINT, M_SHORT_POINT, M_OTHER_HASH, M_KS_TRAILING,
};

struct server {
    EVP_PKEY *host;
    uint8_t ks[51];             /* string "ssh-ed25519", string pub[32] */
};

static void server_init(struct server *sv)
{
    uint8_t pub[32];
    size_t pn = sizeof(pub);
    vg_wr b = {0};
    sv->host = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(sv->host);
    assert_int_equal(EVP_PKEY_get_raw_public_key(sv->host, pub, &pn), 1);
    vg_wr_str32(&b, "ssh-ed25519", 11);
    vg_wr_str32(&b, pub, 32);
    assert_int_equal(b.len, sizeof(sv->ks));
    memcpy(sv->ks, b.p, b.len);
    vg_wr_free(&b);
}

static ssh_transcript transcript(void)
{
    ssh_transcript t = {(const uint8_t *)VC, (const uint8_t *)VS, IC, IS, strlen(VC), strlen(VS), sizeof(IC),
                        sizeof(IS)};
    return t;
}

/* The client's ephemeral public key, from the bytes it sent. */
static EVP_PKEY *client_key(const ssh_kex *k)
{
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *pc;
    OSSL_PARAM params[3];
    if(!k->alg->group)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, k->qc, k->qc_len);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)k->alg->group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)k->qc, k->qc_len);
    params[2] = OSSL_PARAM_construct_end();
    pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
    assert_int_equal(EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(pc);
    return pk;
}

/* The server's KEX_ECDH_REPLY to client k, changed by m. */
static void server_reply(struct server *sv, const ssh_kex *k, enum mutation m, vg_wr *out)
{
    EVP_PKEY *eph = k->alg->group ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", k->alg->group)
                                  : EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *dc;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    uint8_t qs[160], kk[80], h[64], sig[64];
    size_t qsn = 0, kn = sizeof(kk), sign = sizeof(sig), ksn = sizeof(sv->ks);
    unsigned hn = 0;
    uint8_t ks[sizeof(sv->ks) + 1];
    vg_wr hb = {0}, sb = {0};

    assert_non_null(eph);
    assert_int_equal(EVP_PKEY_get_octet_string_param(eph, "encoded-pub-key", qs, sizeof(qs), &qsn), 1);
    peer = client_key(k);
    dc = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
    assert_int_equal(EVP_PKEY_derive_init(dc), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(dc, peer), 1);
    assert_int_equal(EVP_PKEY_derive(dc, kk, &kn), 1);
    EVP_PKEY_CTX_free(dc);
    memcpy(ks, sv->ks, sizeof(sv->ks));
    if(m == M_KS_TRAILING)
        ks[ksn++] = 0;
    if(m == M_ZERO_POINT) {
        memset(qs, 0, qsn);
        memset(kk, 0, kn);
    }
    if(m == M_SHORT_POINT)
        qsn--;
    vg_wr_str32(&hb, VC, strlen(VC));
    vg_wr_str32(&hb, VS, strlen(VS));
    vg_wr_str32(&hb, IC, sizeof(IC));
    vg_wr_str32(&hb, IS, sizeof(IS));
    vg_wr_str32(&hb, ks, ksn);
    vg_wr_str32(&hb, k->qc, k->qc_len);
    vg_wr_str32(&hb, qs, qsn);
    ssh_wr_mpint(&hb, kk, kn);
    assert_false(hb.err);
    assert_int_equal(EVP_Digest(hb.p, hb.len, h, &hn, m == M_OTHER_HASH ? EVP_sha512() : EVP_get_digestbyname(k->alg->md), NULL), 1);
    assert_int_equal(EVP_DigestSignInit(mc, NULL, NULL, NULL, sv->host), 1);
    assert_int_equal(EVP_DigestSign(mc, sig, &sign, h, hn), 1);
    if(m == M_SIG_BYTE)
        sig[10] ^= 1;
    vg_wr_str32(&sb, m == M_SIG_NAME ? "ssh-ed448" : "ssh-ed25519", m == M_SIG_NAME ? 9 : 11);
    vg_wr_str32(&sb, sig, sign);
    vg_wr_u8(out, 31);
    vg_wr_str32(out, ks, ksn);
    vg_wr_str32(out, qs, qsn);
    vg_wr_str32(out, sb.p, sb.len);
    if(m == M_TRAILING)
        vg_wr_u8(out, 0);
    assert_false(out->err);
    vg_wr_free(&hb);
    vg_wr_free(&sb);
    EVP_MD_CTX_free(mc);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(eph);
}

static ssh_hk_verdict judge(const char *kex, enum mutation m, ssh_hostkey *hk, const char **why)
{
    struct server sv;
    ssh_kex k;
    ssh_transcript t = transcript();
    vg_wr reply = {0};
    ssh_hk_verdict v;
    server_init(&sv);
    assert_true(ssh_kex_start(&k, ssh_kex_find(kex), "ssh-ed25519"));
    server_reply(&sv, &k, m, &reply);
    v = ssh_kex_judge_reply(&k, &t, reply.p, reply.len, hk, why);
    if(m == M_NONE) {
        char fp[64];
        ssh_fingerprint(sv.ks, sizeof(sv.ks), fp, sizeof(fp));
        assert_string_equal(hk->fp, fp);
        assert_string_equal(hk->type, "ssh-ed25519");
    }
    vg_wr_free(&reply);
    ssh_kex_free(&k);
    EVP_PKEY_free(sv.host);
    return v;
}

static void test_verdict_zero_is_not_verified(void **state)
{
    ssh_hk_verdict v = {0};
    ssh_kex k;
    ssh_hostkey hk;
    ssh_transcript t = transcript();
    const char *why = NULL;
    uint8_t junk[8] = {31};
    (void)state;
    assert_int_equal(v, SSH_HK_UNVERIFIED);
    assert_int_not_equal(SSH_HK_VERIFIED, 0);
    /* no exchange was started: nothing can verify */
    memset(&k, 0, sizeof(k));
    assert_int_equal(ssh_kex_judge_reply(&k, &t, junk, sizeof(junk), &hk, &why), SSH_HK_UNVERIFIED);
    assert_non_null(why);
}

static void test_honest_reply_verifies(void **state)
{
    ssh_hostkey hk;
    const char *why = NULL;
    (void)state;
    assert_int_equal(judge("curve25519-sha256", M_NONE, &hk, &why), SSH_HK_VERIFIED);
    assert_int_equal(judge("curve25519-sha256@libssh.org", M_NONE, &hk, &why), SSH_HK_VERIFIED);
    assert_int_equal(judge("ecdh-sha2-nistp256", M_NONE, &hk, &why), SSH_HK_VERIFIED);
    assert_int_equal(judge("ecdh-sha2-nistp384", M_NONE, &hk, &why), SSH_HK_VERIFIED);
    assert_int_equal(judge("ecdh-sha2-nistp521", M_NONE, &hk, &why), SSH_HK_VERIFIED);
}

static void test_broken_replies_do_not_verify(void **state)
{
    static const enum mutation ms[] = {M_SIG_BYTE, M_SIG_NAME, M_TRAILING, M_ZERO_POINT, M_SHORT_POINT,
                                       M_OTHER_HASH, M_KS_TRAILING};
    static const char *const kexes[] = {"curve25519-sha256", "ecdh-sha2-nistp256"};
    (void)state;
    for(size_t j = 0; j < 2; j++)
        for(size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
            ssh_hostkey hk;
            const char *why = NULL;
            ssh_hk_verdict v = judge(kexes[j], ms[i], &hk, &why);
            if(v != SSH_HK_INVALID)
                fail_msg("%s mutation %d: verdict %d, want INVALID", kexes[j], (int)ms[i], (int)v);
            assert_non_null(why);
        }
}

static void test_signature_algorithm_must_be_negotiated(void **state)
{
    struct server sv;
    uint8_t h[32] = {1, 2, 3}, sig[64];
    size_t sign = sizeof(sig);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    vg_wr sb = {0};
    const char *why = NULL;
    (void)state;
    server_init(&sv);
    assert_int_equal(EVP_DigestSignInit(mc, NULL, NULL, NULL, sv.host), 1);
    assert_int_equal(EVP_DigestSign(mc, sig, &sign, h, sizeof(h)), 1);
    vg_wr_str32(&sb, "ssh-ed25519", 11);
    vg_wr_str32(&sb, sig, sign);
    assert_int_equal(ssh_verify_signature("ssh-ed25519", sv.ks, sizeof(sv.ks), sb.p, sb.len, h, sizeof(h), &why),
                     SSH_HK_VERIFIED);
    /* the same valid signature, but another algorithm was negotiated */
    assert_int_equal(ssh_verify_signature("ecdsa-sha2-nistp256", sv.ks, sizeof(sv.ks), sb.p, sb.len, h,
                                          sizeof(h), &why), SSH_HK_INVALID);
    assert_int_equal(ssh_verify_signature("ssh-dss", sv.ks, sizeof(sv.ks), sb.p, sb.len, h, sizeof(h), &why),
                     SSH_HK_INVALID);
    /* a hash other than the one signed */
    h[0] ^= 1;
    assert_int_equal(ssh_verify_signature("ssh-ed25519", sv.ks, sizeof(sv.ks), sb.p, sb.len, h, sizeof(h), &why),
                     SSH_HK_INVALID);
    vg_wr_free(&sb);
    EVP_MD_CTX_free(mc);
    EVP_PKEY_free(sv.host);
}

/* RSA signatures whose leading zero bytes were left out still verify (they
 * are padded back), and the SHA-1 ssh-rsa name is never accepted. */
static void test_rsa_short_signature(void **state)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    BIGNUM *n = NULL, *e = NULL;
    uint8_t nb[129], eb[8], h[32] = {0}, sig[128];
    size_t sign = 0;
    int nl, el, tries;
    vg_wr ks = {0}, sb = {0};
    const char *why = NULL;
    (void)state;
    assert_non_null(rsa);
    assert_int_equal(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    nl = BN_bn2bin(n, nb);
    el = BN_bn2bin(e, eb);
    vg_wr_str32(&ks, "ssh-rsa", 7);
    ssh_wr_mpint(&ks, eb, (size_t)el);
    ssh_wr_mpint(&ks, nb, (size_t)nl);
    /* find a hash whose signature starts with a zero byte (1 in 256) */
    for(tries = 0; tries < 20000; tries++) {
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        memcpy(h, &tries, sizeof(tries));
        sign = sizeof(sig);
        assert_int_equal(EVP_DigestSignInit(mc, NULL, EVP_sha256(), NULL, rsa), 1);
        assert_int_equal(EVP_DigestSign(mc, sig, &sign, h, sizeof(h)), 1);
        EVP_MD_CTX_free(mc);
        if(sig[0] == 0)
            break;
    }
    assert_true(tries < 20000);
    assert_int_equal(sign, 128);
    vg_wr_str32(&sb, "rsa-sha2-256", 12);
    vg_wr_str32(&sb, sig, sign);
    assert_int_equal(ssh_verify_signature("rsa-sha2-256", ks.p, ks.len, sb.p, sb.len, h, sizeof(h), &why),
                     SSH_HK_VERIFIED);
    vg_wr_free(&sb);
    vg_wr_str32(&sb, "rsa-sha2-256", 12);
    vg_wr_str32(&sb, sig + 1, sign - 1);
    assert_int_equal(ssh_verify_signature("rsa-sha2-256", ks.p, ks.len, sb.p, sb.len, h, sizeof(h), &why),
                     SSH_HK_VERIFIED);
    /* the same bytes under another name, or a name we refuse */
    assert_int_equal(ssh_verify_signature("rsa-sha2-512", ks.p, ks.len, sb.p, sb.len, h, sizeof(h), &why),
                     SSH_HK_INVALID);
    vg_wr_free(&sb);
    vg_wr_str32(&sb, "ssh-rsa", 7);
    vg_wr_str32(&sb, sig, sign);
    assert_int_not_equal(ssh_verify_signature("ssh-rsa", ks.p, ks.len, sb.p, sb.len, h, sizeof(h), &why),
                         SSH_HK_VERIFIED);
    vg_wr_free(&sb);
    vg_wr_free(&ks);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(rsa);
}

static void kexinit(vg_wr *b, const char *kex, const char *hk, bool full)
{
    static const uint8_t cookie[16];
    vg_wr_u8(b, 20);
    vg_wr_bytes(b, cookie, 16);
    vg_wr_str32(b, kex, strlen(kex));
    vg_wr_str32(b, hk, strlen(hk));
    for(int i = 0; i < 8; i++)
        vg_wr_str32(b, "none", full || i < 7 ? 4 : 0);
    if(full) {
        vg_wr_u8(b, 0);
        vg_wr_be32(b, 0);
    }
}

static void test_kexinit_negotiation(void **state)
{
    vg_wr b = {0};
    ssh_kexinit ki;
    const ssh_kex_alg *alg;
    char hk[32];
    (void)state;
    /* the client's preference wins (RFC 4253 7.1) */
    kexinit(&b, "ecdh-sha2-nistp256,curve25519-sha256", "rsa-sha2-256,ssh-ed25519", true);
    assert_true(ssh_kexinit_parse(b.p, b.len, &ki));
    assert_true(ssh_kexinit_negotiate(&ki, &alg, hk, sizeof(hk)));
    assert_string_equal(alg->name, "curve25519-sha256");
    assert_string_equal(hk, "ssh-ed25519");
    vg_wr_free(&b);
    kexinit(&b, "sntrup761x25519-sha512@openssh.com,ecdh-sha2-nistp384", "ecdsa-sha2-nistp521", true);
    assert_true(ssh_kexinit_parse(b.p, b.len, &ki));
    assert_true(ssh_kexinit_negotiate(&ki, &alg, hk, sizeof(hk)));
    assert_string_equal(alg->name, "ecdh-sha2-nistp384");
    assert_int_equal(alg->qlen, 97);
    vg_wr_free(&b);
    /* nothing in common: no DH groups, no ssh-rsa (SHA-1) signatures */
    kexinit(&b, "diffie-hellman-group14-sha256", "ssh-ed25519", true);
    assert_true(ssh_kexinit_parse(b.p, b.len, &ki));
    assert_false(ssh_kexinit_negotiate(&ki, &alg, hk, sizeof(hk)));
    assert_null(alg);
    vg_wr_free(&b);
    kexinit(&b, "curve25519-sha256", "ssh-rsa,ssh-dss", true);
    assert_true(ssh_kexinit_parse(b.p, b.len, &ki));
    assert_false(ssh_kexinit_negotiate(&ki, &alg, hk, sizeof(hk)));
    vg_wr_free(&b);
    /* truncated: the guess flag and reserved word are missing */
    kexinit(&b, "curve25519-sha256", "ssh-ed25519", false);
    assert_false(ssh_kexinit_parse(b.p, b.len, &ki));
    vg_wr_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_zero_is_not_verified),
        cmocka_unit_test(test_honest_reply_verifies),
        cmocka_unit_test(test_broken_replies_do_not_verify),
        cmocka_unit_test(test_signature_algorithm_must_be_negotiated),
        cmocka_unit_test(test_rsa_short_signature),
        cmocka_unit_test(test_kexinit_negotiation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
