/* SPDX-License-Identifier: MIT */
/* A bounds-checked reader of DNS messages (RFC 1035) for dns:// checks:
 * header flags, rcode and the answer section in presentation form. Pure
 * functions over a buffer, so the unit tests and the fuzzer drive them
 * directly. Every byte is hostile: names follow compression pointers only
 * strictly backwards (so loops cannot happen) and at most 64 times, and
 * every field is checked against the end of the message. */
#ifndef VIGIA_DNS_MSG_H
#define VIGIA_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSMSG_MAX_RR 16        /* answer records kept (more are counted) */
#define DNSMSG_TEXT 160         /* presentation text of one record, NUL included */

typedef struct dnsmsg_rr {
    uint16_t type;
    uint16_t rclass;
    uint32_t ttl;
    uint8_t rdata[16];          /* A / AAAA: the address (for CIDR matching) */
    uint16_t rdlen;
    char text[DNSMSG_TEXT];     /* printable: "192.0.2.1", "10 mx.example.", ... */
} dnsmsg_rr;

typedef struct dnsmsg {
    uint16_t id;
    uint16_t flags;             /* the header's second 16-bit word */
    int rcode;                  /* 0..15 */
    bool qr, aa, tc;
    unsigned qdcount, ancount, nscount, arcount;
    unsigned nrr;               /* records kept in rr[] */
    dnsmsg_rr rr[DNSMSG_MAX_RR];
} dnsmsg;

/* Called for every answer record (rr[] keeps only the first DNSMSG_MAX_RR). */
typedef void (*dnsmsg_rr_fn)(const dnsmsg_rr *rr, void *ud);

/* Parses msg[0..len). Returns 0, or -1 with a short reason in why (static
 * text) when the message is malformed; the header fields are filled as soon
 * as 12 bytes are there. on_rr (may be NULL) sees each answer record as it
 * is read, so a malformed message may have shown it some records. Never
 * reads outside the buffer. Record texts are printable ASCII: presentation
 * form, with \DDD for any other byte. */
int dnsmsg_parse(const uint8_t *msg, size_t len, dnsmsg *out, const char **why, dnsmsg_rr_fn on_rr,
                 void *ud);

/* Reads the (possibly compressed) name at *off into out (capacity outlen,
 * always NUL-terminated; "." for the root) and moves *off past it.
 * Returns 0 or -1. */
int dnsmsg_read_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t outlen);

/* "NOERROR", "NXDOMAIN", ... ("RCODE12" for unnamed ones; buf is used for
 * those). The reverse returns -1 for an unknown name. */
const char *dnsmsg_rcode_name(int rcode, char *buf, size_t len);
int dnsmsg_rcode_parse(const char *s);

#endif
