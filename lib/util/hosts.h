/* SPDX-License-Identifier: MIT */
/* Names that never go to DNS: the special-use names of RFC 6761 that a
 * resolver answers itself (localhost, .localhost, .invalid), and a lookup
 * in the hosts file that opens no socket. Used by the resolver
 * (lib/resolve/resolve.c), which holds the one policy built on them. */
#ifndef VIGIA_HOSTS_H
#define VIGIA_HOSTS_H

#include <stddef.h>

#include "vigia/addr.h"

#define VG_HOSTS_PATH "/etc/hosts"

typedef enum vg_name_kind {
    VG_NAME_DNS,        /* an ordinary name: hosts file, then DNS */
    VG_NAME_LOCALHOST,  /* "localhost" or under ".localhost": loopback, never DNS */
    VG_NAME_INVALID,    /* under ".invalid": never exists, never DNS */
} vg_name_kind;

/* Which kind name is; case-insensitive, with or without the root dot. */
vg_name_kind vg_name_special(const char *name);

/* The addresses the hosts file at path (NULL: /etc/hosts) lists for name,
 * of family (AF_INET, AF_INET6, or 0 for both), in file order and without
 * duplicates; at most max are stored in out. Returns how many were stored:
 * 0 when the name is not listed or the file cannot be read. Names compare
 * case-insensitively, a trailing root dot ignored. No socket is opened. */
size_t vg_hosts_lookup(const char *path, const char *name, int family, vg_addr *out, size_t max);

/* The same over a buffer of len bytes (no NUL needed): tests and fuzzing. */
size_t vg_hosts_lookup_buf(const char *buf, size_t len, const char *name, int family, vg_addr *out,
                           size_t max);

/* The answer for a VG_NAME_LOCALHOST name (RFC 6761 6.3): what the hosts
 * file lists for it, else 127.0.0.1 and ::1 (only the one of family when
 * family is set). Returns the count stored (at least 1 when max >= 1). */
size_t vg_localhost_addrs(const char *path, const char *name, int family, vg_addr *out, size_t max);

#endif
