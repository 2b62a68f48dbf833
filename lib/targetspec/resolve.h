/* SPDX-License-Identifier: MIT */
/* Internal to lib/targetspec: resolves a batch of host names concurrently
 * through the one resolver (lib/resolve) and reports, per name, its
 * addresses or why it failed. */
#ifndef VIGIA_TARGET_RESOLVE_H
#define VIGIA_TARGET_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "vigia/addr.h"
#include "vigia/error.h"
#include "vigia/target.h"

/* One name to resolve. The caller fills the inputs and zeroes the rest;
 * vg_resolve_names() fills the outputs. */
typedef struct vg_resolve_query {
    const char *name;   /* in: host name, NUL-terminated, borrowed */
    bool all;           /* in: keep every address, not only the first */
    vg_addr *addrs;     /* out: malloc'd array the caller frees, or NULL */
    size_t naddrs;      /* out: 0 when the name failed */
    const char *reason; /* out: why it failed (static text), NULL on success */
    int status;         /* out: the c-ares status, 0 on success */
    bool needs_dns;     /* out: not resolved because only DNS could answer it
                         * and opts->hosts_only forbids DNS queries */
    bool done;          /* internal: the answer is in */
} vg_resolve_query;

/* Resolves all n queries at once, asking for opts->family addresses (0:
 * both) from /etc/hosts first, then DNS (opts->dns_servers or the system's),
 * within opts->timeout_ms for the whole batch. localhost and names under
 * .localhost come from /etc/hosts or are loopback, and names under .invalid
 * fail, without any DNS query (RFC 6761); with opts->hosts_only no name is
 * sent to DNS at all and no socket is opened. Returns VG_OK when the batch
 * ran, even if some names failed: the caller inspects each query's naddrs
 * and reason. Returns an error only when the resolver could not be set up
 * (bad dns_servers: VG_EINVAL) or the system failed (VG_ENOMEM, VG_ESYS). */
int vg_resolve_names(vg_resolve_query *q, size_t n, const vg_resolve_opts *opts,
                     vg_error *err);

#endif
