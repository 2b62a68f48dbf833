/* SPDX-License-Identifier: MIT */
/* Internal to lib/check: the key-exchange half of the ssh check, as pure
 * functions over buffers (no I/O): our KEXINIT and the negotiation, the
 * client's ephemeral ECDH key (curve25519-sha256, ecdh-sha2-nistp256/384/521),
 * and the judgment of the server's KEX_ECDH_REPLY: is its host key's
 * signature over the exchange hash valid? Unit tests and fuzz targets call
 * these directly. */
#ifndef VIGIA_CHECK_SSH_KEX_H
#define VIGIA_CHECK_SSH_KEX_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/ssh_wire.h"

/* Whether the server proved that it holds its host key. The zero value is
 * "not verified", so a result nobody set is a failure; only
 * SSH_HK_VERIFIED, which only a signature that verifies over the exchange
 * hash produces, may pass a check that pins the key. */
typedef enum ssh_hk_verdict {
    SSH_HK_UNVERIFIED = 0,      /* not judged (yet), or could not be judged */
    SSH_HK_INVALID,             /* judged: malformed, inconsistent or a wrong signature */
    SSH_HK_VERIFIED,            /* the signature over H verifies with the host key */
} ssh_hk_verdict;

/* One key exchange method we implement. */
typedef struct ssh_kex_alg {
    const char *name;           /* "curve25519-sha256" */
    const char *group;          /* OpenSSL group name; NULL for X25519 */
    size_t qlen;                /* length of an ephemeral public key on the wire */
    const char *md;             /* the exchange hash */
} ssh_kex_alg;

/* Our preference order, as a name-list for KEXINIT. */
extern const char ssh_kex_names[];
/* The host key algorithms whose signatures we verify, preferred first. */
extern const char ssh_hostkey_names[];
/* The method of that name, or NULL. */
const ssh_kex_alg *ssh_kex_find(const char *name);

/* The ten name-lists of our KEXINIT, in wire order. We never encrypt, but
 * the server must find a cipher, MAC and compression in common to go on. */
extern const char *const ssh_client_namelists[10];
/* Our KEXINIT payload (message number included) with the given cookie. */
void ssh_kexinit_write(vg_wr *w, const uint8_t cookie[16]);

/* RFC 4253 7.1 negotiation against ssh_kex_names / ssh_hostkey_names.
 * False when there is no key exchange or no host key algorithm in common. */
bool ssh_kexinit_negotiate(const ssh_kexinit *ki, const ssh_kex_alg **kex, char *hostkey_alg,
                           size_t hostkey_alg_len);

/* The client side of one exchange. */
typedef struct ssh_kex {
    const ssh_kex_alg *alg;
    char hostkey_alg[32];       /* negotiated; the signature must use it */
    EVP_PKEY *eph;              /* our ephemeral key */
    uint8_t qc[160];            /* its public half as sent (Q_C) */
    size_t qc_len;
} ssh_kex;

/* Makes the ephemeral key for alg. Returns false when OpenSSL cannot. */
bool ssh_kex_start(ssh_kex *k, const ssh_kex_alg *alg, const char *hostkey_alg);
void ssh_kex_free(ssh_kex *k);

/* What the exchange hash covers besides the reply: the version lines
 * without CR LF, and both KEXINIT payloads. */
typedef struct ssh_transcript {
    const uint8_t *vc, *vs, *ic, *is;
    size_t vcn, vsn, icn, isn;
} ssh_transcript;

/* What the reply said about the host key. ks points into the reply: the
 * very bytes that were fingerprinted are the ones that were verified. */
typedef struct ssh_hostkey {
    const uint8_t *ks;          /* K_S, NULL when the reply is too broken to have one */
    size_t ksn;
    char type[32];              /* the key blob's type name, escaped; "" if none */
    char fp[64];                /* ssh_fingerprint(ks) or "" */
} ssh_hostkey;

/* Judges a KEX_ECDH_REPLY payload (message number included): strict
 * parsing (no trailing bytes anywhere), the server's ephemeral key (length,
 * a valid point, a non-zero shared secret), the exchange hash, and the
 * signature (algorithm as negotiated, consistent with the key type, valid).
 * Fills *hk as far as the reply allows; *why says what failed (a static
 * string) unless the result is SSH_HK_VERIFIED. */
ssh_hk_verdict ssh_kex_judge_reply(const ssh_kex *k, const ssh_transcript *t, const uint8_t *p,
                                   size_t n, ssh_hostkey *hk, const char **why);

/* Verifies a signature blob (string alg, string sig; nothing after) over h
 * with the host key blob ks, for the negotiated host key algorithm alg.
 * *why (may be NULL) says what failed. */
ssh_hk_verdict ssh_verify_signature(const char *alg, const uint8_t *ks, size_t ksn, const uint8_t *sigb,
                                    size_t sign, const uint8_t *h, size_t hn, const char **why);

#endif
