/* SPDX-License-Identifier: MIT */
/* Internal to lib/check: the plain-text part of smtp://, imap:// and
 * postgres:// (lib/check/starttls.c) as pure functions over the server's
 * bytes. They decide what the check does next (keep reading, send a
 * command, start TLS, fail); starttls.c does it. Unit tests and fuzz
 * targets call them without a socket. */
#ifndef VIGIA_CHECK_STARTTLS_WIRE_H
#define VIGIA_CHECK_STARTTLS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lines longer than this are judged by their first ST_LINE_KEEP bytes. */
#define ST_LINE_KEEP 512

enum st_proto { P_SMTP, P_IMAP, P_PG };
enum st_step { S_GREETING, S_EHLO, S_REPLY, S_TLS };

typedef struct st_parser {
    int proto;                  /* enum st_proto */
    int step;                   /* enum st_step */
    bool offers_starttls;       /* SMTP: seen in the EHLO reply */
} st_parser;

enum st_action {
    ST_A_WAIT,                  /* no complete line or reply yet: read more */
    ST_A_MORE,                  /* a line was handled: go on with the next */
    ST_A_SEND,                  /* send the command in send, then go on */
    ST_A_TLS,                   /* the server agreed: start TLS */
    ST_A_FAIL,                  /* end the attempt: state, reason, what, text */
};

enum st_banner { ST_BANNER_NONE, ST_BANNER_FIRST, ST_BANNER_SET };

typedef struct st_verdict {
    int action;                 /* enum st_action */
    const char *send;           /* ST_A_SEND: a C string */
    int state, reason;          /* ST_A_FAIL: VG_CHECK_*, VG_CR_* */
    const char *what;           /* ST_A_FAIL: static text */
    const uint8_t *text;        /* ST_A_FAIL: the server's bytes to quote */
    size_t len;
    /* The line is the greeting: kept as the banner if none is yet
     * (FIRST) or always (SET); then text/len hold it. */
    int banner;                 /* enum st_banner */
} st_verdict;

/* SMTP and IMAP: takes the first line of in[0..len) (the receive buffer
 * holds at most cap bytes), copies up to ST_LINE_KEEP bytes of it, CRLF
 * stripped, into line, and judges it. Returns the bytes to consume (0 with
 * ST_A_WAIT, or with ST_A_FAIL for a line longer than cap). v->text may
 * point into line or into in. */
size_t st_feed(st_parser *p, const uint8_t *in, size_t len, size_t cap, uint8_t line[ST_LINE_KEEP],
               st_verdict *v);

/* PostgreSQL: the answer to the SSLRequest at in[0..len). Returns the
 * bytes to consume. v->text points into in. */
size_t st_pg_reply(const uint8_t *in, size_t len, st_verdict *v);

#endif
