/* SPDX-License-Identifier: MIT */
/* Internal to lib/check: the pure pieces of the icmp, udp, http and dns
 * kinds that read what a server or the kernel hands back. Each lives in its
 * kind's file; they are declared here so unit tests and fuzz targets can
 * call them without a socket. */
#ifndef VIGIA_CHECK_PARSE_H
#define VIGIA_CHECK_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check/dns_msg.h"

/* icmp.c: an echo reply as a ping socket (or, with raw, a raw socket; raw
 * IPv4 includes the IP header) delivers it. True with its id and sequence
 * number; false for anything else. */
bool icmp_parse_echo_reply(const uint8_t *p, size_t n, bool raw, bool v6, uint16_t *id, uint16_t *seq);

/* udp.c: the reason (VG_CR_*) and a static text for the ICMP errors in the
 * control messages of a recvmsg(MSG_ERRQUEUE) result; -1 when none. */
int udp_errqueue_reason(struct msghdr *mh, const char **what);

/* http.c: when the header line ptr[0..n) is a status line ("HTTP/..."),
 * stores it escaped, line ending stripped, in out and returns true. */
bool http_status_line(char *out, size_t outlen, const char *ptr, size_t n);

/* dns_check.c: whether an --expect-answer item (a value, an address or a
 * CIDR block) matches the answer record rr. */
bool dns_item_matches(const char *item, const dnsmsg_rr *rr);

#endif
