/* SPDX-License-Identifier: MIT */
/* The out-of-line half of the wire reader and writer (see buf.h): seeking,
 * sub-readers, strings and the growing writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"

bool vg_rd_be64(vg_rd *r, uint64_t *v)
{
    uint32_t hi = 0, lo = 0;
    if(!vg_rd_need(r, 8))
        return false;
    vg_rd_be32(r, &hi);
    vg_rd_be32(r, &lo);
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

bool vg_rd_peek(const vg_rd *r, size_t n, const uint8_t **p)
{
    if(r->err || r->len - r->off < n)
        return false;
    *p = r->p + r->off;
    return true;
}

bool vg_rd_seek(vg_rd *r, size_t pos)
{
    if(r->err || pos > r->len)
        return vg_rd_fail(r);
    r->off = pos;
    return true;
}

bool vg_rd_sub(vg_rd *r, size_t n, vg_rd *sub)
{
    const uint8_t *p;
    if(!vg_rd_take(r, n, &p))
        return false;
    vg_rd_init(sub, p, n);
    return true;
}

/* A string of n bytes after a length field already read: the whole
 * string or nothing, so the cursor goes back to before the length. */
static bool rd_string(vg_rd *r, size_t start, size_t n, const uint8_t **s, size_t *sn)
{
    if(r->len - r->off < n) {
        r->off = start;
        return vg_rd_fail(r);
    }
    *s = r->p + r->off;
    *sn = n;
    r->off += n;
    return true;
}

bool vg_rd_str32(vg_rd *r, const uint8_t **s, size_t *n)
{
    size_t start = r->off;
    uint32_t l;
    if(!vg_rd_be32(r, &l))
        return false;
    return rd_string(r, start, l, s, n);
}

bool vg_rd_str8(vg_rd *r, const uint8_t **s, size_t *n)
{
    size_t start = r->off;
    uint8_t l;
    if(!vg_rd_u8(r, &l))
        return false;
    return rd_string(r, start, l, s, n);
}

bool vg_rd_find(const vg_rd *r, uint8_t c, size_t max, size_t *n)
{
    const uint8_t *at;
    size_t left = r->len - r->off;
    if(r->err || left == 0 || max == 0)
        return false;
    at = memchr(r->p + r->off, c, max < left ? max : left);
    if(!at)
        return false;
    *n = (size_t)(at - (r->p + r->off));
    return true;
}

bool vg_rd_cstr(vg_rd *r, const uint8_t **s, size_t *n)
{
    size_t l;
    if(!vg_rd_find(r, 0, SIZE_MAX, &l))
        return vg_rd_fail(r);
    *s = r->p + r->off;
    *n = l;
    r->off += l + 1;
    return true;
}

bool vg_rd_lenenc(vg_rd *r, uint64_t *v)
{
    size_t start = r->off;
    uint8_t b;
    uint16_t v16;
    uint32_t v32 = 0, hi = 0;
    if(!vg_rd_u8(r, &b))
        return false;
    if(b < 0xfb) {
        *v = b;
        return true;
    }
    if(b == 0xfc && vg_rd_le16(r, &v16)) {
        *v = v16;
        return true;
    }
    if(b == 0xfd && vg_rd_le24(r, &v32)) {
        *v = v32;
        return true;
    }
    if(b == 0xfe && r->len - r->off >= 8) {
        vg_rd_le32(r, &v32);
        vg_rd_le32(r, &hi);
        *v = (uint64_t)hi << 32 | v32;
        return true;
    }
    r->off = start;
    return vg_rd_fail(r);
}

bool vg_rd_lenenc_str(vg_rd *r, const uint8_t **s, size_t *n)
{
    size_t start = r->off;
    uint64_t l;
    if(!vg_rd_lenenc(r, &l))
        return false;
    if(l > r->len - r->off) {
        r->off = start;
        return vg_rd_fail(r);
    }
    return rd_string(r, start, (size_t)l, s, n);
}

/* --- the writer -------------------------------------------------------------------- */

void vg_wr_init_fixed(vg_wr *w, void *buf, size_t cap)
{
    w->p = buf;
    w->len = 0;
    w->cap = buf ? cap : 0;
    w->err = false;
    w->fixed = true;
}

void vg_wr_free(vg_wr *w)
{
    if(!w->fixed)
        free(w->p);
    memset(w, 0, sizeof(*w));
}

/* Room for n more bytes, growing a buffer we own. */
static bool wr_room(vg_wr *w, size_t n)
{
    size_t cap;
    uint8_t *q;
    if(w->err)
        return false;
    if(w->cap - w->len >= n)
        return true;
    if(w->fixed || n > SIZE_MAX / 2 - w->len) {
        w->err = true;
        return false;
    }
    cap = w->cap ? w->cap : 256;
    while(cap - w->len < n)
        cap *= 2;
    q = vg_realloc(w->p, cap);
    if(!q) {
        w->err = true;
        return false;
    }
    w->p = q;
    w->cap = cap;
    return true;
}

void vg_wr_bytes(vg_wr *w, const void *p, size_t n)
{
    if(!wr_room(w, n) || !n)
        return;
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

void vg_wr_zeros(vg_wr *w, size_t n)
{
    if(!wr_room(w, n) || !n)
        return;
    memset(w->p + w->len, 0, n);
    w->len += n;
}

void vg_wr_u8(vg_wr *w, uint8_t v)
{
    vg_wr_bytes(w, &v, 1);
}

void vg_wr_be16(vg_wr *w, uint16_t v)
{
    uint8_t b[2];
    vg_put_be16(b, v);
    vg_wr_bytes(w, b, 2);
}

void vg_wr_be32(vg_wr *w, uint32_t v)
{
    uint8_t b[4];
    vg_put_be32(b, v);
    vg_wr_bytes(w, b, 4);
}

void vg_wr_le16(vg_wr *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    vg_wr_bytes(w, b, 2);
}

void vg_wr_le24(vg_wr *w, uint32_t v)
{
    uint8_t b[3] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16)};
    vg_wr_bytes(w, b, 3);
}

void vg_wr_le32(vg_wr *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    vg_wr_bytes(w, b, 4);
}

void vg_wr_str32(vg_wr *w, const void *s, size_t n)
{
    if(n > UINT32_MAX) {
        w->err = true;
        return;
    }
    if(!wr_room(w, 4 + n))
        return;
    vg_wr_be32(w, (uint32_t)n);
    vg_wr_bytes(w, s, n);
}
