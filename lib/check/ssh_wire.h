/* SPDX-License-Identifier: MIT */
/* Internal to lib/check: the SSH binary packet format (RFC 4251 5, RFC 4253
 * 6) as bounds-checked readers and growable writers, plus the pure pieces
 * of the ssh check that unit tests and fuzz targets call directly. */
#ifndef VIGIA_CHECK_SSH_WIRE_H
#define VIGIA_CHECK_SSH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reader over borrowed bytes. Once a read fails, err stays set and every
 * further read fails, so callers may check once at the end. */
typedef struct ssh_rd {
    const uint8_t *p;
    size_t len, off;
    bool err;
} ssh_rd;

bool ssh_rd_u8(ssh_rd *r, uint8_t *v);
bool ssh_rd_u32(ssh_rd *r, uint32_t *v);
/* A length-prefixed string: *s points into the buffer (not NUL-terminated). */
bool ssh_rd_string(ssh_rd *r, const uint8_t **s, size_t *n);
bool ssh_rd_skip(ssh_rd *r, size_t n);

/* A growable writer; err is set (and sticks) on allocation failure. */
typedef struct ssh_buf {
    uint8_t *p;
    size_t len, cap;
    bool err;
} ssh_buf;

void ssh_wb_bytes(ssh_buf *b, const void *p, size_t n);
void ssh_wb_u8(ssh_buf *b, uint8_t v);
void ssh_wb_u32(ssh_buf *b, uint32_t v);
void ssh_wb_string(ssh_buf *b, const void *s, size_t n);
/* An mpint from unsigned big-endian bytes (leading zeros dropped, a zero
 * byte added when the top bit is set). */
void ssh_wb_mpint(ssh_buf *b, const uint8_t *be, size_t n);
void ssh_buf_free(ssh_buf *b);

/* One unencrypted binary packet at the front of buf. Returns 1 with the
 * payload and the bytes used, 0 when more bytes are needed, -1 when the
 * framing is invalid (length over 35000 or under 5, bad padding). */
int ssh_packet_parse(const uint8_t *buf, size_t len, size_t *consumed, const uint8_t **payload,
                     size_t *plen);

/* RFC 4253 7.1 negotiation: the first name of the client's list (a C
 * string) that the server's name-list (wire bytes) also has. */
bool ssh_namelist_pick(const char *client, const uint8_t *server, size_t slen, char *out, size_t outlen);

/* "SHA256:<unpadded base64>" of a host key blob, as ssh-keygen -l prints. */
void ssh_fingerprint(const uint8_t *key, size_t n, char *out, size_t outlen);

#endif
