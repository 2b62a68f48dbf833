/* SPDX-License-Identifier: MIT */
/* The name resolver: RFC 6761 names and HOSTS_ONLY lookups answered here,
 * without a socket; every other name asked of one c-ares channel whose
 * sockets and retry timer live on the caller's vg_loop (ares_loop.c). */
#include <ares.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resolve/ares_loop.h"
#include "resolve/resolve.h"
#include "util/alloc.h"
#include "util/hosts.h"

/* Addresses kept from /etc/hosts or for a localhost name; a DNS answer
 * with more than this is copied to the heap. */
#define RESOLVE_LOCAL_MAX 32

struct vg_resolver {
    vg_ares_loop al;            /* al.channel: made when first needed; NULL before */
    bool lib_ready;             /* ares_library_init() succeeded */
    bool destroying;            /* ares_destroy() is running: drop every answer */
    unsigned flags;
    int try_ms;
    char *servers;              /* the server list it was made for, or NULL */
};

struct vg_lookup {
    vg_resolver *r;
    vg_lookup_fn fn;            /* NULL once cancelled */
    void *ud;
    vg_lookup **slot;           /* the caller's handle, reset before fn runs */
    int family;                 /* wanted: AF_INET, AF_INET6 or 0 */
};

static int resolver_init_error(int st, vg_error *err)
{
    return vg_error_set(err, st == ARES_ENOMEM ? VG_ENOMEM : VG_ESYS, "cannot initialise the resolver: %s",
                        ares_strerror(st));
}

/* The c-ares channel: /etc/hosts before DNS whatever the system files
 * say, try_ms per try, three tries, sockets on the loop. */
static int resolver_channel(vg_resolver *r, vg_error *err)
{
    struct ares_options o;
    char lookups[] = "fb";
    int st;

    if(r->al.channel)
        return VG_OK;
    if(!r->lib_ready) {
        /* Reference-counted by c-ares: no process-wide state of our own. */
        st = ares_library_init(ARES_LIB_INIT_ALL);
        if(st != ARES_SUCCESS)
            return resolver_init_error(st, err);
        r->lib_ready = true;
    }
    memset(&o, 0, sizeof(o));
    o.lookups = lookups;
    o.timeout = r->try_ms;
    o.tries = 3;
    vg_ares_loop_options(&r->al, &o);
    st = ares_init_options(&r->al.channel, &o,
                           ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
    if(st != ARES_SUCCESS) {
        r->al.channel = NULL;
        return resolver_init_error(st, err);
    }
    if(r->servers) {
        st = ares_set_servers_ports_csv(r->al.channel, r->servers);
        if(st == ARES_ENOMEM)
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        if(st != ARES_SUCCESS)
            return vg_error_set(err, VG_EINVAL,
                                "--dns-servers '%.200s': %s (expected ADDR[:PORT], [ADDR6]:PORT for IPv6)",
                                r->servers, ares_strerror(st));
    }
    return VG_OK;
}

int vg_resolver_new(vg_resolver **out, vg_loop *loop, const char *servers, unsigned flags, int try_ms,
                    vg_error *err)
{
    vg_resolver *r;
    int result;

    *out = NULL;
    if(servers && !*servers)
        return vg_error_set(err, VG_EINVAL, "--dns-servers: empty list");
    r = vg_calloc(1, sizeof(*r));
    if(!r)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    vg_ares_loop_init(&r->al, loop);
    r->flags = flags;
    r->try_ms = try_ms > 0 ? try_ms : 1000;
    if(servers) {
        r->servers = vg_strdup(servers);
        if(!r->servers) {
            vg_resolver_free(r);
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        }
        if(!(flags & VG_RESOLVER_HOSTS_ONLY)) {
            result = resolver_channel(r, err);
            if(result) {
                vg_resolver_free(r);
                return result;
            }
        }
    }
    *out = r;
    return VG_OK;
}

void vg_resolver_free(vg_resolver *r)
{
    if(!r)
        return;
    /* Pending lookups get ARES_EDESTRUCTION and free themselves. */
    r->destroying = true;
    if(r->al.channel)
        ares_destroy(r->al.channel);
    vg_ares_loop_stop(&r->al);
    if(r->lib_ready)
        ares_library_cleanup();
    free(r->servers);
    free(r);
}

bool vg_resolver_matches(const vg_resolver *r, const char *servers)
{
    if(!r->servers || !servers)
        return r->servers == servers;
    return !strcmp(r->servers, servers);
}

static void lookup_fail(vg_lookup_result *res, int status, const char *reason)
{
    res->status = status;
    res->reason = reason;
    res->naddrs = 0;
}

/* Answers names that never reach c-ares into res; false when the name
 * needs a DNS query. */
static bool lookup_local(const vg_resolver *r, const char *name, int family, vg_addr *addrs,
                         vg_lookup_result *res)
{
    memset(res, 0, sizeof(*res));
    res->addrs = addrs;
    switch(vg_name_special(name)) {
    case VG_NAME_INVALID:
        res->invalid = true;
        lookup_fail(res, ARES_ENOTFOUND, ".invalid names never exist, per RFC 6761; not looked up");
        return true;
    case VG_NAME_LOCALHOST:
        /* Never handed to c-ares, which would ask DNS for names under it. */
        res->naddrs = vg_localhost_addrs(NULL, name, family, addrs, RESOLVE_LOCAL_MAX);
        res->status = ARES_SUCCESS;
        return true;
    case VG_NAME_DNS:
        break;
    }
    if(!(r->flags & VG_RESOLVER_HOSTS_ONLY))
        return false;
    res->naddrs = vg_hosts_lookup(NULL, name, family, addrs, RESOLVE_LOCAL_MAX);
    res->status = ARES_SUCCESS;
    if(!res->naddrs) {
        res->needs_dns = true;
        lookup_fail(res, ARES_ENOTFOUND, "not in " VG_HOSTS_PATH ", and DNS queries are off");
    }
    return true;
}

static bool lookup_wanted(const vg_lookup *q, int family)
{
    return (family == AF_INET || family == AF_INET6) && (!q->family || q->family == family);
}

/* c-ares' answer: the addresses of the wanted family, in its order. Runs
 * inside ares_process_fd(), inside ares_getaddrinfo() itself when
 * /etc/hosts answers, or inside ares_destroy(). */
static void lookup_done(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    vg_lookup *q = arg;
    vg_addr local[RESOLVE_LOCAL_MAX], *addrs = local;
    vg_lookup_result res;
    struct ares_addrinfo_node *node;
    size_t n = 0;

    (void)timeouts;
    if(!q->fn || q->r->destroying) {
        /* Cancelled, or dropped by vg_resolver_free(): the caller's slot
         * may be gone already, so it is not touched. */
        if(ai)
            ares_freeaddrinfo(ai);
        free(q);
        return;
    }
    memset(&res, 0, sizeof(res));
    if(status == ARES_SUCCESS && ai)
        for(node = ai->nodes; node; node = node->ai_next)
            if(lookup_wanted(q, node->ai_family))
                n++;
    if(n > RESOLVE_LOCAL_MAX) {
        addrs = vg_calloc(n, sizeof(*addrs));
        if(!addrs) {
            addrs = local;
            n = 0;
            status = ARES_ENOMEM;
        }
    }
    for(node = status == ARES_SUCCESS && ai ? ai->nodes : NULL; node && res.naddrs < n; node = node->ai_next)
        if(lookup_wanted(q, node->ai_family) && vg_addr_from_sockaddr(&addrs[res.naddrs], node->ai_addr))
            res.naddrs++;
    if(ai)
        ares_freeaddrinfo(ai);
    res.addrs = addrs;
    if(res.naddrs)
        res.status = ARES_SUCCESS;
    else {
        /* An answer without an address of the family: no data. */
        res.status = status == ARES_SUCCESS ? ARES_ENODATA : status;
        res.reason = ares_strerror(res.status);
    }
    if(q->slot)
        *q->slot = NULL;
    q->fn(q->ud, &res);
    if(addrs != local)
        free(addrs);
    free(q);
}

int vg_resolve_lookup(vg_resolver *r, const char *name, int family, vg_lookup_fn fn, void *ud,
                      vg_lookup **handle, vg_error *err)
{
    vg_addr addrs[RESOLVE_LOCAL_MAX];
    struct ares_addrinfo_hints hints;
    vg_lookup_result res;
    vg_lookup *q;
    int result;

    if(family != AF_INET && family != AF_INET6)
        family = 0;
    *handle = NULL;
    if(lookup_local(r, name, family, addrs, &res)) {
        fn(ud, &res);
        return VG_OK;
    }
    result = resolver_channel(r, err);
    if(result)
        return result;
    q = vg_calloc(1, sizeof(*q));
    if(!q)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    q->r = r;
    q->fn = fn;
    q->ud = ud;
    q->slot = handle;
    q->family = family;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family ? family : AF_UNSPEC;
    *handle = q;
    /* May answer at once (from /etc/hosts), calling lookup_done before it
     * returns: q must not be touched after this call. */
    ares_getaddrinfo(r->al.channel, name, NULL, &hints, lookup_done, q);
    vg_ares_loop_rearm(&r->al);
    return VG_OK;
}

void vg_lookup_cancel(vg_lookup *q)
{
    if(!q)
        return;
    q->fn = NULL;
    q->slot = NULL;
}
