/* SPDX-License-Identifier: MIT */
/* Internal to libvigia: the one name resolver. Asynchronous, on a vg_loop
 * (c-ares' sockets are watched by the loop, its retry timer sits in the
 * loop's heap), with the one policy for names that never go to DNS:
 * localhost and names under .localhost are answered from /etc/hosts or as
 * loopback, names under .invalid fail (RFC 6761), and with
 * VG_RESOLVER_HOSTS_ONLY every name is looked up in /etc/hosts only, with
 * no c-ares channel at all. Other names go through c-ares, /etc/hosts
 * first, then DNS. The scan's targets (lib/targetspec/resolve.c, which drives
 * a loop of its own until its batch is done) and the checker
 * (lib/check/checker.c, on its run loop) both resolve through it. */
#ifndef VIGIA_RESOLVE_H
#define VIGIA_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/loop.h"
#include "vigia/addr.h"
#include "vigia/error.h"

typedef struct vg_resolver vg_resolver;
typedef struct vg_lookup vg_lookup;

/* No DNS query, no socket, no c-ares: names come from /etc/hosts and the
 * RFC 6761 rules alone (a dry run). */
#define VG_RESOLVER_HOSTS_ONLY 0x1u

/* What one lookup found; given to its callback, valid until it returns. */
typedef struct vg_lookup_result {
    int status;            /* ARES_SUCCESS (then naddrs >= 1) or an ARES_* failure */
    const char *reason;    /* NULL on success, else why, as static text */
    const vg_addr *addrs;  /* the name's addresses of the wanted family, in
                            * resolver order (RFC 6724 for DNS answers) */
    size_t naddrs;
    bool needs_dns;        /* HOSTS_ONLY: not in /etc/hosts, only DNS could answer */
    bool invalid;          /* under .invalid: never exists, no query was made,
                            * and asking again cannot change the answer */
} vg_lookup_result;

typedef void (*vg_lookup_fn)(void *ud, const vg_lookup_result *res);

/* Makes a resolver on loop (which must outlive it). servers is a c-ares
 * server list ("ADDR[:PORT],...", IPv6 with a port as "[ADDR]:PORT") or
 * NULL for the system's; try_ms is c-ares' timeout per try (3 tries). The
 * c-ares channel is made on the first lookup that needs DNS, or here when
 * servers is given so that a list c-ares rejects fails at once
 * ("--dns-servers '...': ...", VG_EINVAL); with HOSTS_ONLY it is never
 * made. Returns VG_OK, VG_EINVAL, VG_ENOMEM or VG_ESYS. */
int vg_resolver_new(vg_resolver **out, vg_loop *loop, const char *servers, unsigned flags,
                    int try_ms, vg_error *err);

/* Drops every pending lookup without calling its callback; NULL is a no-op. */
void vg_resolver_free(vg_resolver *r);

/* Whether r was made for this server list (NULL: the system's). */
bool vg_resolver_matches(const vg_resolver *r, const char *servers);

/* Resolves name for family (AF_INET, AF_INET6, or 0 for both) and calls
 * fn(ud, result) once, from the loop or before this returns (localhost,
 * .invalid, HOSTS_ONLY, and names c-ares finds in /etc/hosts). *handle is
 * the lookup while it is in flight: set before fn can run and reset to
 * NULL just before fn runs, so the caller's slot always says whether an
 * answer is still to come. Returns VG_OK, or an error (VG_ENOMEM; VG_ESYS
 * when the c-ares channel cannot be made) and then fn is never called. */
int vg_resolve_lookup(vg_resolver *r, const char *name, int family, vg_lookup_fn fn, void *ud,
                      vg_lookup **handle, vg_error *err);

/* The lookup's callback will not run (its DNS query, if any, still gets
 * its answer, which is dropped). NULL is a no-op. */
void vg_lookup_cancel(vg_lookup *q);

#endif
