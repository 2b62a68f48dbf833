/* SPDX-License-Identifier: MIT */
/* Internal to lib/check: the SSH wire format (RFC 4251 5, RFC 4253 4.2, 6,
 * 7.1) as pure functions over buffers: the server's version exchange, its
 * binary packets and the messages the check reads from them (DISCONNECT,
 * KEXINIT), our packet framing, name-list negotiation and host key
 * fingerprints. Bytes are read with vg_rd and written with vg_wr
 * (util/buf.h). ssh.c does the I/O around them; unit tests and fuzz
 * targets call them directly. */
#ifndef VIGIA_CHECK_SSH_WIRE_H
#define VIGIA_CHECK_SSH_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define SSH_VERSION_MAX 256     /* a line must end (LF) within this many bytes */
#define SSH_MAX_PRELINES 32     /* lines a server may send before its version */

#define SSH_MSG_DISCONNECT 1
#define SSH_MSG_IGNORE 2
#define SSH_MSG_UNIMPLEMENTED 3
#define SSH_MSG_DEBUG 4
#define SSH_MSG_KEXINIT 20
#define SSH_MSG_KEX_ECDH_INIT 30
#define SSH_MSG_KEX_ECDH_REPLY 31

/* An mpint from unsigned big-endian bytes (leading zeros dropped, a zero
 * byte added when the top bit is set). */
void ssh_wr_mpint(vg_wr *w, const uint8_t *be, size_t n);

/* --- what the server sends ------------------------------------------------------ */

enum ssh_version_rc {
    SSH_V_MORE = 0,             /* no version line yet: consume used, read more */
    SSH_V_FOUND = 1,            /* line, n: the version line without CR LF */
    SSH_V_LONG = -1,            /* a line without LF in SSH_VERSION_MAX bytes;
                                 * line, n: its first SSH_VERSION_MAX bytes */
    SSH_V_PRELINES = -2,        /* more than SSH_MAX_PRELINES lines before the
                                 * version; line, n: the last, without CR LF */
};

/* The version exchange (RFC 4253 4.2) at the front of buf[0..len): lines
 * before the one starting "SSH-" are counted in *prelines, which the
 * caller keeps across calls (0 at the start). *used is what the caller
 * may consume: the complete lines before the version (SSH_V_MORE), or
 * those and the version line with its LF (SSH_V_FOUND). A version line
 * is under SSH_VERSION_MAX bytes. */
int ssh_version_read(const uint8_t *buf, size_t len, int *prelines, size_t *used, const uint8_t **line,
                     size_t *n);

/* One unencrypted binary packet at the front of buf. Returns 1 with the
 * payload and the bytes used, 0 when more bytes are needed, -1 when the
 * framing is invalid (length over 35000 or under 5, bad padding). */
int ssh_packet_parse(const uint8_t *buf, size_t len, size_t *consumed, const uint8_t **payload,
                     size_t *plen);

enum ssh_msg_kind {
    SSH_M_MORE = 0,             /* an incomplete packet: read more */
    SSH_M_BAD,                  /* invalid framing, or an empty payload */
    SSH_M_SKIP,                 /* IGNORE, DEBUG, UNIMPLEMENTED: go on */
    SSH_M_DISCONNECT,           /* code and description are filled */
    SSH_M_OTHER,                /* any other message: see type */
};

/* One message of the server, as ssh_msg_read() found it. */
typedef struct ssh_msg {
    int kind;                   /* enum ssh_msg_kind */
    uint8_t type;               /* the message number */
    const uint8_t *payload;     /* message number included */
    size_t plen;
    size_t used;                /* bytes of the packet, to consume */
    uint32_t code;              /* DISCONNECT: the reason code, 0 if missing */
    const uint8_t *desc;        /* DISCONNECT: the description, "" if missing */
    size_t descn;
} ssh_msg;

/* Reads the packet at the front of buf[0..len) and sorts its message.
 * Returns m->kind. */
int ssh_msg_read(const uint8_t *buf, size_t len, ssh_msg *m);

/* The server's KEXINIT: pointers into the payload. */
typedef struct ssh_kexinit {
    const uint8_t *kex, *hostkey;
    size_t kexn, hostkeyn;
    /* All ten name-lists in wire order (kex, host key, ciphers both ways,
     * MACs both ways, compression both ways, languages both ways). */
    const uint8_t *list[10];
    size_t listn[10];
    bool first_kex_follows;
} ssh_kexinit;

/* Parses a KEXINIT payload (message number included): the cookie, all ten
 * name-lists, the guess flag and the reserved word must be there. */
bool ssh_kexinit_parse(const uint8_t *p, size_t n, ssh_kexinit *out);

/* --- what we send -------------------------------------------------------------------- */

/* Frames payload[0..n) as one unencrypted binary packet (length, padding
 * length, payload, zero padding to a multiple of 8, at least 4). */
void ssh_packet_write(vg_wr *w, const uint8_t *payload, size_t n);

/* RFC 4253 7.1 negotiation: the first name of the client's list (a C
 * string) that the server's name-list (wire bytes) also has. */
bool ssh_namelist_pick(const char *client, const uint8_t *server, size_t slen, char *out, size_t outlen);

/* "SHA256:<unpadded base64>" of a host key blob, as ssh-keygen -l prints. */
void ssh_fingerprint(const uint8_t *key, size_t n, char *out, size_t outlen);

#endif
