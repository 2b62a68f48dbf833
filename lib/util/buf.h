/* SPDX-License-Identifier: MIT */
/* Bounds-checked reading and writing of wire bytes, in the manner of
 * c-ares' ares_buf: every parser of packets, greetings and messages in
 * libvigia reads through a vg_rd, and the few messages we build by hand
 * go through a vg_wr, so no caller indexes a buffer or shifts bytes itself.
 *
 * Reader contract: a vg_rd is a cursor over borrowed, const bytes. Every
 * accessor returns true and moves the cursor on success; on failure it
 * returns false, leaves its outputs and the cursor untouched, and sets a
 * sticky error, after which every accessor fails. So a parser may chain
 * accessors with || and test once, or call them blindly and test
 * vg_rd_ok() at the end. Pointers handed out (take, strings) point into
 * the reader's bytes and live as long as they do.
 *
 * The fixed-width accessors are inline: the raw engine runs them on every
 * captured packet. */
#ifndef VIGIA_BUF_H
#define VIGIA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- storing at a known offset ------------------------------------------------ */

/* For templates patched in place (probe packets): p must have room. */
static inline void vg_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void vg_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* --- reading ---------------------------------------------------------------------- */

typedef struct vg_rd {
    const uint8_t *p;
    size_t len;                 /* bytes readable: positions [0, len) */
    size_t off;                 /* the cursor, 0 <= off <= len */
    bool err;                   /* sticky: some accessor failed */
} vg_rd;

static inline void vg_rd_init(vg_rd *r, const void *p, size_t len)
{
    r->p = p ? p : (const uint8_t *)"";
    r->len = p ? len : 0;
    r->off = 0;
    r->err = false;
}

/* Whether no accessor has failed. */
static inline bool vg_rd_ok(const vg_rd *r)
{
    return !r->err;
}

/* Whether every byte was read and nothing failed: the test for "no
 * trailing bytes". */
static inline bool vg_rd_done(const vg_rd *r)
{
    return !r->err && r->off == r->len;
}

/* Bytes after the cursor (0 once an accessor failed). */
static inline size_t vg_rd_left(const vg_rd *r)
{
    return r->err ? 0 : r->len - r->off;
}

/* The cursor as a position in [0, len]. */
static inline size_t vg_rd_pos(const vg_rd *r)
{
    return r->off;
}

/* The byte at the cursor (valid for vg_rd_left() bytes). */
static inline const uint8_t *vg_rd_ptr(const vg_rd *r)
{
    return r->p + r->off;
}

/* Sets the error and returns false: for a parser's own checks on what it
 * read ("length under 5"), so they stick like a failed read. */
static inline bool vg_rd_fail(vg_rd *r)
{
    r->err = true;
    return false;
}

/* Whether n more bytes are there; sets the error when not. */
static inline bool vg_rd_need(vg_rd *r, size_t n)
{
    if(r->err || r->len - r->off < n)
        return vg_rd_fail(r);
    return true;
}

static inline bool vg_rd_u8(vg_rd *r, uint8_t *v)
{
    if(!vg_rd_need(r, 1))
        return false;
    *v = r->p[r->off++];
    return true;
}

static inline bool vg_rd_be16(vg_rd *r, uint16_t *v)
{
    if(!vg_rd_need(r, 2))
        return false;
    *v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return true;
}

static inline bool vg_rd_be32(vg_rd *r, uint32_t *v)
{
    if(!vg_rd_need(r, 4))
        return false;
    const uint8_t *q = r->p + r->off;
    *v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    r->off += 4;
    return true;
}

static inline bool vg_rd_le16(vg_rd *r, uint16_t *v)
{
    if(!vg_rd_need(r, 2))
        return false;
    *v = (uint16_t)(r->p[r->off] | r->p[r->off + 1] << 8);
    r->off += 2;
    return true;
}

static inline bool vg_rd_le24(vg_rd *r, uint32_t *v)
{
    if(!vg_rd_need(r, 3))
        return false;
    const uint8_t *q = r->p + r->off;
    *v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16;
    r->off += 3;
    return true;
}

static inline bool vg_rd_le32(vg_rd *r, uint32_t *v)
{
    if(!vg_rd_need(r, 4))
        return false;
    const uint8_t *q = r->p + r->off;
    *v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    r->off += 4;
    return true;
}

bool vg_rd_be64(vg_rd *r, uint64_t *v);

/* Copies n bytes out. */
static inline bool vg_rd_bytes(vg_rd *r, void *dst, size_t n)
{
    if(!vg_rd_need(r, n))
        return false;
    for(size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = r->p[r->off + i];
    r->off += n;
    return true;
}

/* Borrows n bytes: *p points at them in the reader's buffer. */
static inline bool vg_rd_take(vg_rd *r, size_t n, const uint8_t **p)
{
    if(!vg_rd_need(r, n))
        return false;
    *p = r->p + r->off;
    r->off += n;
    return true;
}

static inline bool vg_rd_skip(vg_rd *r, size_t n)
{
    if(!vg_rd_need(r, n))
        return false;
    r->off += n;
    return true;
}

/* Peeking looks ahead without moving the cursor. A peek that finds too
 * few bytes returns false but does not set the error: not having a byte
 * to look at is an answer, not a malformed input. */
static inline bool vg_rd_peek_u8(const vg_rd *r, uint8_t *v)
{
    if(r->err || r->off >= r->len)
        return false;
    *v = r->p[r->off];
    return true;
}

bool vg_rd_peek(const vg_rd *r, size_t n, const uint8_t **p);

/* Moves the cursor to pos (a position of this reader, 0 = its first
 * byte): forwards or backwards, e.g. to follow a DNS compression pointer.
 * A position past the end sets the error. */
bool vg_rd_seek(vg_rd *r, size_t pos);

/* A sub-reader over exactly the next n bytes (positions from 0 again);
 * r moves past them. A length field's contents are read through one, so
 * nothing can run past the field. */
bool vg_rd_sub(vg_rd *r, size_t n, vg_rd *sub);

/* Length-prefixed and terminated strings. *s points into the buffer, is
 * not NUL-terminated, and holds *n bytes. */
/* An SSH string (RFC 4251 5): a big-endian uint32 length, then the bytes. */
bool vg_rd_str32(vg_rd *r, const uint8_t **s, size_t *n);
/* A one-byte length, then the bytes (DNS character-string, RFC 1035 3.3). */
bool vg_rd_str8(vg_rd *r, const uint8_t **s, size_t *n);
/* Bytes up to a NUL; the cursor moves past the NUL. Fails without one. */
bool vg_rd_cstr(vg_rd *r, const uint8_t **s, size_t *n);
/* Where the next byte c is among the next max bytes (all that are left
 * when fewer): *n is its distance from the cursor. For lines and strings
 * whose terminator is optional; leaves the cursor and the error alone. */
bool vg_rd_find(const vg_rd *r, uint8_t c, size_t max, size_t *n);
/* A MySQL length-encoded integer: < 0xfb is the value itself; 0xfc, 0xfd,
 * 0xfe are followed by 2, 3, 8 little-endian bytes. 0xfb (NULL) and 0xff
 * are not integers and fail. */
bool vg_rd_lenenc(vg_rd *r, uint64_t *v);
/* A MySQL length-encoded string: a length-encoded integer, then the bytes. */
bool vg_rd_lenenc_str(vg_rd *r, const uint8_t **s, size_t *n);

/* --- writing ---------------------------------------------------------------------- */

/* A writer appends to a buffer. Zero-initialised (vg_wr w = {0}) it owns a
 * buffer that grows through vg_realloc and must be freed with
 * vg_wr_free(); vg_wr_init_fixed() writes into the caller's cap bytes and
 * never allocates. A write that does not fit (or cannot allocate) sets a
 * sticky error and writes nothing; later writes do nothing either, so a
 * builder tests vg_wr_ok() once at the end. */
typedef struct vg_wr {
    uint8_t *p;
    size_t len, cap;
    bool err;
    bool fixed;                 /* p is the caller's buffer of cap bytes */
} vg_wr;

void vg_wr_init_fixed(vg_wr *w, void *buf, size_t cap);
/* Frees a growing writer's buffer (not a fixed one's) and empties it. */
void vg_wr_free(vg_wr *w);

static inline bool vg_wr_ok(const vg_wr *w)
{
    return !w->err;
}

void vg_wr_bytes(vg_wr *w, const void *p, size_t n);
void vg_wr_zeros(vg_wr *w, size_t n);
void vg_wr_u8(vg_wr *w, uint8_t v);
void vg_wr_be16(vg_wr *w, uint16_t v);
void vg_wr_be32(vg_wr *w, uint32_t v);
void vg_wr_le16(vg_wr *w, uint16_t v);
void vg_wr_le24(vg_wr *w, uint32_t v);
void vg_wr_le32(vg_wr *w, uint32_t v);
/* An SSH string: a big-endian uint32 length, then the n bytes. */
void vg_wr_str32(vg_wr *w, const void *s, size_t n);

#endif
