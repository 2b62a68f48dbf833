/* SPDX-License-Identifier: MIT */
/* The SSH wire format for the ssh check: the server's version exchange,
 * packet framing, the messages read during key exchange, name-list
 * negotiation and host key fingerprints (the key exchange itself is in
 * ssh_kex.c). Pure functions over buffers (no I/O, no state), so unit
 * tests and fuzz targets call them directly. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "check/ssh_wire.h"
#include "util/alloc.h"

#define SSH_MAX_PACKET 35000u   /* RFC 4253 6.1 */

void ssh_wr_mpint(vg_wr *w, const uint8_t *be, size_t n)
{
    while(n && !be[0]) {
        be++;
        n--;
    }
    if(n && (be[0] & 0x80)) {
        vg_wr_be32(w, (uint32_t)n + 1);
        vg_wr_u8(w, 0);
        vg_wr_bytes(w, be, n);
    }
    else
        vg_wr_str32(w, be, n);
}

int ssh_version_read(const uint8_t *buf, size_t len, int *prelines, size_t *used, const uint8_t **line,
                     size_t *n)
{
    vg_rd r;
    vg_rd_init(&r, buf, len);
    *used = 0;
    /* Every round takes a whole line (at least its LF) or returns. */
    for(;;) {
        const uint8_t *l = NULL;
        size_t ll, k;
        if(!vg_rd_find(&r, '\n', SSH_VERSION_MAX, &ll)) {
            if(vg_rd_left(&r) < SSH_VERSION_MAX)
                return SSH_V_MORE;
            *line = vg_rd_ptr(&r);
            *n = SSH_VERSION_MAX;
            return SSH_V_LONG;
        }
        vg_rd_take(&r, ll + 1, &l);
        k = ll;
        if(k && l[k - 1] == '\r')
            k--;
        if(k >= 4 && !memcmp(l, "SSH-", 4)) {
            *line = l;
            *n = k;
            *used = vg_rd_pos(&r);
            return SSH_V_FOUND;
        }
        if(++*prelines > SSH_MAX_PRELINES) {
            *line = l;
            *n = k;
            return SSH_V_PRELINES;
        }
        *used = vg_rd_pos(&r);
    }
}

int ssh_packet_parse(const uint8_t *buf, size_t len, size_t *consumed, const uint8_t **payload,
                     size_t *plen)
{
    vg_rd r, pk;
    uint32_t pl = 0;
    uint8_t pad = 0;
    vg_rd_init(&r, buf, len);
    if(vg_rd_left(&r) < 5)
        return 0;
    vg_rd_be32(&r, &pl);
    if(pl < 5 || pl > SSH_MAX_PACKET)
        return -1;
    if(!vg_rd_sub(&r, pl, &pk))
        return 0;
    vg_rd_u8(&pk, &pad);
    if(pad < 4 || (size_t)pad + 1 >= pl)
        return -1;
    *plen = pl - pad - 1;
    vg_rd_take(&pk, *plen, payload);
    *consumed = vg_rd_pos(&r);
    return 1;
}

int ssh_msg_read(const uint8_t *buf, size_t len, ssh_msg *m)
{
    vg_rd r;
    const uint8_t *d;
    size_t dn;
    int rc;

    memset(m, 0, sizeof(*m));
    m->desc = (const uint8_t *)"";
    rc = ssh_packet_parse(buf, len, &m->used, &m->payload, &m->plen);
    if(rc == 0)
        return m->kind = SSH_M_MORE;
    if(rc < 0 || m->plen == 0)
        return m->kind = SSH_M_BAD;
    vg_rd_init(&r, m->payload, m->plen);
    vg_rd_u8(&r, &m->type);
    switch(m->type) {
    case SSH_MSG_IGNORE:
    case SSH_MSG_DEBUG:
    case SSH_MSG_UNIMPLEMENTED:
        return m->kind = SSH_M_SKIP;
    case SSH_MSG_DISCONNECT:
        /* What is there of code and description is reported. */
        vg_rd_be32(&r, &m->code);
        if(vg_rd_str32(&r, &d, &dn)) {
            m->desc = d;
            m->descn = dn;
        }
        return m->kind = SSH_M_DISCONNECT;
    default:
        return m->kind = SSH_M_OTHER;
    }
}

bool ssh_kexinit_parse(const uint8_t *p, size_t n, ssh_kexinit *out)
{
    vg_rd r;
    uint8_t msg = 0, follows = 0;
    uint32_t reserved;
    memset(out, 0, sizeof(*out));
    vg_rd_init(&r, p, n);
    vg_rd_u8(&r, &msg);
    vg_rd_skip(&r, 16); /* cookie */
    for(int i = 0; i < 10; i++)
        vg_rd_str32(&r, &out->list[i], &out->listn[i]);
    vg_rd_u8(&r, &follows);
    vg_rd_be32(&r, &reserved);
    /* Bytes after the reserved word are tolerated: the whole payload is
     * part of the exchange hash, so the signature covers them. */
    out->kex = out->list[0];
    out->kexn = out->listn[0];
    out->hostkey = out->list[1];
    out->hostkeyn = out->listn[1];
    out->first_kex_follows = follows != 0;
    return vg_rd_ok(&r) && msg == SSH_MSG_KEXINIT;
}

void ssh_packet_write(vg_wr *w, const uint8_t *payload, size_t n)
{
    size_t padn = 8 - ((5 + n) % 8);
    if(padn < 4)
        padn += 8;
    vg_wr_be32(w, (uint32_t)(1 + n + padn));
    vg_wr_u8(w, (uint8_t)padn);
    vg_wr_bytes(w, payload, n);
    vg_wr_zeros(w, padn);
}

bool ssh_namelist_pick(const char *client, const uint8_t *server, size_t slen, char *out, size_t outlen)
{
    const char *c = client;
    while(*c) {
        size_t cl = strcspn(c, ",");
        vg_rd r;
        vg_rd_init(&r, server, slen);
        while(vg_rd_left(&r)) {
            const uint8_t *name = NULL;
            size_t j;
            if(!vg_rd_find(&r, ',', SIZE_MAX, &j))
                j = vg_rd_left(&r);
            vg_rd_take(&r, j, &name);
            if(vg_rd_left(&r))
                vg_rd_skip(&r, 1); /* the comma */
            if(j == cl && !memcmp(name, c, cl)) {
                if(cl >= outlen)
                    return false;
                memcpy(out, c, cl);
                out[cl] = '\0';
                return true;
            }
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
