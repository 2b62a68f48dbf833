/* SPDX-License-Identifier: MIT */
/* Target specifications (addresses, CIDR blocks, ranges, host names, files)
 * turned into a deduplicated, indexable set of addresses. */
#ifndef VIGIA_TARGET_H
#define VIGIA_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "vigia/addr.h"
#include "vigia/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_targets vg_targets;

typedef struct vg_resolve_opts {
    int family;           /* 0: both, AF_INET (-4) or AF_INET6 (-6) */
    bool all_addresses;   /* a name yields every address, not just the first */
    const char *dns_servers; /* "ADDR[:PORT],..." (c-ares syntax) or NULL for the system's */
    int timeout_ms;       /* for the whole resolution; 0 means 5000 */
    /* false: addresses in 0.0.0.0/8, 224.0.0.0/4 (multicast), 240.0.0.0/4
     * (reserved, incl. 255.255.255.255), ::/128 and ff00::/8 (multicast) are
     * dropped from any
     * spec that merely includes them; a spec that lies wholly inside such a
     * block (say 224.0.0.1) is kept, since it names them explicitly. true:
     * keep them all. */
    bool allow_special;
    /* true: no DNS query at all (say, for a dry run): names come only from
     * /etc/hosts and the RFC 6761 rules below; a name that /etc/hosts does
     * not list is left unresolved (vg_targets_unresolved) instead of being an
     * error. Whatever this says, "localhost" and names under ".localhost"
     * never go to DNS (/etc/hosts, else 127.0.0.1 and ::1), and names under
     * ".invalid" are an error without a query. */
    bool hosts_only;
} vg_resolve_opts;

vg_targets *vg_targets_new(void);
void vg_targets_free(vg_targets *t);

/* Adds one spec: "198.18.0.1", "2001:db8::5", "fe80::1%eth0", "198.18.0.0/15",
 * "2001:db8::/120", "198.18.0.1-20", "198.18.0.1-198.18.1.5", or a host name
 * (resolved later by vg_targets_finalize). `where` names the spec's origin
 * for error messages ("argument 2", "targets.txt:7"); may be NULL. */
int vg_targets_add(vg_targets *t, const char *spec, const char *where, vg_error *err);

/* Same syntax; addresses matched by an exclude spec are never scanned. */
int vg_targets_exclude(vg_targets *t, const char *spec, const char *where, vg_error *err);

/* Reads one spec per line (blank lines and '#' comments skipped; several
 * specs on a line may be separated by spaces or commas). A file with no spec
 * at all is an error. exclude selects vg_targets_exclude over vg_targets_add. */
int vg_targets_add_file(vg_targets *t, const char *path, bool exclude, vg_error *err);

/* Resolves all names concurrently (c-ares), applies the family filter, sorts
 * and merges the ranges (so duplicates are scanned once), subtracts the
 * excludes. After this the set is read-only and safe to share between
 * threads. An empty result is an error, except with hosts_only when some
 * names were left unresolved (then the count may be 0). */
int vg_targets_finalize(vg_targets *t, const vg_resolve_opts *opts, vg_error *err);

/* Validates a --dns-servers list: "ADDR[:PORT],...", IPv6 with a port as
 * "[ADDR]:PORT", ports 1-65535. vg_targets_finalize() calls it too. */
int vg_dns_servers_check(const char *list, vg_error *err);

/* How many special addresses finalize dropped (see allow_special);
 * saturates at UINT64_MAX. */
uint64_t vg_targets_special_skipped(const vg_targets *t);

/* Number of distinct addresses (after finalize). */
uint64_t vg_targets_count(const vg_targets *t);

/* The index-th address in ascending order, 0 <= index < count. O(log ranges). */
void vg_targets_get(const vg_targets *t, uint64_t index, vg_addr *out);

/* With vg_resolve_opts.hosts_only: how many name specs finalize left
 * unresolved because only DNS could answer them, and the index-th of them
 * (0 <= index < count, in the order given) with whether it was an exclude.
 * Always 0 without hosts_only. */
size_t vg_targets_unresolved_count(const vg_targets *t);
const char *vg_targets_unresolved(const vg_targets *t, size_t index, bool *exclude);

/* The host name the user gave for this address, or NULL. */
const char *vg_targets_name(const vg_targets *t, const vg_addr *addr);

/* The index of addr among the targets (as vg_targets_get numbers them),
 * or UINT64_MAX when it is not one. */
uint64_t vg_targets_index(const vg_targets *t, const vg_addr *addr);

#ifdef __cplusplus
}
#endif
#endif
