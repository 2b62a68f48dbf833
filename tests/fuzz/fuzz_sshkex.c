/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the key exchange a hostile server drives. The input is
 * a server KEXINIT and a KEX_ECDH_REPLY (a 2-byte little-endian length of
 * the KEXINIT, then both); they go through parsing, negotiation and the
 * judgment of the reply against a real ephemeral key of the negotiated
 * method. Nothing a fuzzer writes can carry a valid signature over an
 * exchange hash that includes our fresh key, so SSH_HK_VERIFIED is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/ssh_kex.h"
#include "check/ssh_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One ephemeral key per method, made once: the harness stays fast and
 * deterministic enough, and the library keeps no state of its own. */
static ssh_kex *kex_for(const ssh_kex_alg *alg, const char *hostkey_alg)
{
    static ssh_kex cache[8];
    static const ssh_kex_alg *algs[8];
    for(size_t i = 0; i < 8; i++) {
        if(!algs[i]) {
            if(!ssh_kex_start(&cache[i], alg, hostkey_alg))
                return NULL;
            algs[i] = alg;
        }
        if(algs[i] == alg) {
            strcpy(cache[i].hostkey_alg, hostkey_alg);
            return &cache[i];
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t vc[] = "SSH-2.0-vigia_fuzz", vs[] = "SSH-2.0-Fuzz";
    size_t kin;
    const uint8_t *ki_p, *rp;
    size_t rn;
    ssh_kexinit ki;
    const ssh_kex_alg *alg = NULL;
    char hk[32] = "ssh-ed25519";
    ssh_kex *k;
    ssh_hostkey out;
    const char *why = NULL;
    ssh_hk_verdict v;

    if(size < 2)
        return 0;
    kin = (size_t)data[0] | (size_t)data[1] << 8;
    if(kin > size - 2)
        kin = size - 2;
    ki_p = data + 2;
    rp = ki_p + kin;
    rn = size - 2 - kin;
    if(!ssh_kexinit_parse(ki_p, kin, &ki) || !ssh_kexinit_negotiate(&ki, &alg, hk, sizeof(hk))) {
        /* still judge the reply, as if curve25519 and ed25519 were agreed */
        alg = ssh_kex_find("curve25519-sha256");
        strcpy(hk, "ssh-ed25519");
    }
    if(!alg || !(k = kex_for(alg, hk)))
        abort();
    {
        ssh_transcript t = {vc, vs, data, ki_p, sizeof(vc) - 1, sizeof(vs) - 1, 2, kin};
        v = ssh_kex_judge_reply(k, &t, rp, rn, &out, &why);
    }
    if(v == SSH_HK_VERIFIED)
        abort();
    if(v != SSH_HK_UNVERIFIED && v != SSH_HK_INVALID)
        abort();
    if(!why)
        abort();
    if(out.ks && (out.ks < rp || out.ks + out.ksn > rp + rn))
        abort();
    /* the signature check alone, on the reply bytes split in two (here
     * the input chooses the hash too, so any verdict is possible) */
    if(rn >= 2) {
        size_t half = rn / 2;
        why = NULL;
        v = ssh_verify_signature(hk, rp, half, rp + half, rn - half, data, size < 64 ? size : 64, &why);
        if(v != SSH_HK_VERIFIED && !why)
            abort();
    }
    return 0;
}
