/* SPDX-License-Identifier: MIT */
/* The first packet a MySQL/MariaDB server sends: the handshake greeting
 * (protocol 10: server version, connection id, capability flags, auth
 * plugin) or an error packet ("Host ... is not allowed to connect"). A pure,
 * bounds-checked parser over a buffer, fuzzed by tests/fuzz/fuzz_mysql.c. */
#ifndef VIGIA_MYSQL_WIRE_H
#define VIGIA_MYSQL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A greeting is ~100 bytes; anything announcing more than this is hostile. */
#define MYSQL_MAX_GREETING 16384

typedef struct mysql_greeting {
    bool is_error;              /* an error packet, not a greeting */
    unsigned protocol;          /* 10 (or 9 for very old servers) */
    char version[128];          /* escaped */
    uint32_t conn_id;
    uint32_t caps;              /* lower and (when sent) upper capability flags */
    uint8_t charset;
    uint16_t status;
    char auth_plugin[64];       /* escaped; "" when not sent */
    int err_code;               /* error packet */
    char sqlstate[6];           /* "" when the packet has none */
    char err_msg[256];          /* escaped */
} mysql_greeting;

/* Parses the first packet at buf[0..len). Returns 1 when more bytes are
 * needed, 0 when *g is filled (*used = bytes of the packet), -1 when it is
 * malformed or oversized (why = static text). Never reads past len. */
int mysql_parse_greeting(const uint8_t *buf, size_t len, mysql_greeting *g, size_t *used, const char **why);

#endif
