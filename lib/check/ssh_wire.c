/* SPDX-License-Identifier: MIT */
/* The SSH wire format for the ssh check: bounds-checked readers, growable
 * writers, packet framing, name-list negotiation and host key fingerprints
 * (the key exchange itself is in ssh_kex.c). Pure functions over buffers
 * (no I/O, no state), so unit tests and fuzz targets call them directly. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/ssh_wire.h"
#include "util/alloc.h"

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
        q = vg_realloc(b->p, cap);
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
