/* SPDX-License-Identifier: MIT */
/* Name resolution for checks, on the checker's own event loop: one c-ares
 * channel per set of DNS servers, its sockets watched by the loop and its
 * retry timer kept in the loop's heap. Every check resolves its name as the
 * first phase of each attempt, so the dns phase is timed per check, counts
 * against the check's deadline and is retried with the rest. The rules are
 * lib/target/resolve.c's, with lib/util/hosts.c holding the shared part:
 * /etc/hosts first, then DNS; localhost and names under .localhost come
 * from /etc/hosts or are loopback, and names under .invalid fail, both
 * without any DNS query (RFC 6761). */
#include <ares.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include "check/check_internal.h"
#include "util/alloc.h"
#include "util/hosts.h"

struct check_resolver {
    vg_loop *loop;
    ares_channel channel;
    bool lib_ready;
    vg_timer timer;
    char *servers;              /* the --dns-servers it was made for, or NULL */
    check_resolver *next;
};

struct check_lookup {
    vg_check *ck;               /* NULL once cancelled */
    int family;                 /* wanted: AF_INET, AF_INET6 or 0 */
    check_resolver *r;
};

static void resolver_rearm(check_resolver *r)
{
    struct timeval tv;
    if(ares_timeout(r->channel, NULL, &tv))
        vg_timer_arm(r->loop, &r->timer,
                     vg_now_us() + (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec + 1000);
    else
        vg_timer_disarm(r->loop, &r->timer);
}

static void resolver_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    check_resolver *r = ud;
    (void)loop;
    ares_process_fd(r->channel, events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
                    events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
    resolver_rearm(r);
}

static void resolver_timer(vg_loop *loop, vg_timer *t)
{
    check_resolver *r = (check_resolver *)((char *)t - offsetof(check_resolver, timer));
    (void)loop;
    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    resolver_rearm(r);
}

/* c-ares says which of its sockets to watch; (0, 0) comes before a close. */
static void resolver_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    check_resolver *r = data;
    if(!readable && !writable)
        vg_loop_unwatch(r->loop, fd, 1);
    else
        vg_loop_watch(r->loop, fd, (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0), resolver_io, r);
}

int check_resolver_new(check_resolver **out, vg_loop *loop, const char *servers, vg_error *err)
{
    check_resolver *r = vg_calloc(1, sizeof(*r));
    struct ares_options o;
    char lookups[] = "fb";
    int st;

    *out = NULL;
    if(!r)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    r->loop = loop;
    vg_timer_init(&r->timer, resolver_timer);
    if(servers && !*servers) {
        free(r);
        return vg_error_set(err, VG_EINVAL, "--dns-servers: empty list");
    }
    /* Reference-counted by c-ares: no process-wide state of our own. */
    st = ares_library_init(ARES_LIB_INIT_ALL);
    if(st != ARES_SUCCESS) {
        free(r);
        return vg_error_set(err, VG_ESYS, "cannot initialise the resolver: %s", ares_strerror(st));
    }
    r->lib_ready = true;
    memset(&o, 0, sizeof(o));
    o.lookups = lookups;          /* /etc/hosts first, whatever nsswitch says */
    o.timeout = 1000;             /* per try; the check's deadline bounds the whole */
    o.tries = 3;
    o.sock_state_cb = resolver_sock_state;
    o.sock_state_cb_data = r;
    st = ares_init_options(&r->channel, &o,
                           ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
    if(st != ARES_SUCCESS) {
        r->channel = NULL;
        check_resolver_free(r);
        return vg_error_set(err, VG_ESYS, "cannot initialise the resolver: %s", ares_strerror(st));
    }
    if(servers) {
        st = ares_set_servers_ports_csv(r->channel, servers);
        r->servers = vg_strdup(servers);
        if(st == ARES_ENOMEM || !r->servers) {
            check_resolver_free(r);
            return vg_error_set(err, VG_ENOMEM, "out of memory");
        }
        if(st != ARES_SUCCESS) {
            check_resolver_free(r);
            return vg_error_set(err, VG_EINVAL,
                                "--dns-servers '%.200s': %s (expected ADDR[:PORT], [ADDR6]:PORT for IPv6)",
                                servers, ares_strerror(st));
        }
    }
    *out = r;
    return VG_OK;
}

void check_resolver_free(check_resolver *r)
{
    if(!r)
        return;
    /* Pending lookups get ARES_EDESTRUCTION and free themselves. */
    if(r->channel)
        ares_destroy(r->channel);
    vg_timer_disarm(r->loop, &r->timer);
    if(r->lib_ready)
        ares_library_cleanup();
    free(r->servers);
    free(r);
}

bool check_resolver_matches(const check_resolver *r, const char *servers)
{
    if(!r->servers || !servers)
        return r->servers == servers;
    return !strcmp(r->servers, servers);
}

static void lookup_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    check_lookup *q = arg;
    vg_check *ck = q->ck;
    vg_addr addrs[CHECK_MAX_ADDRS];
    unsigned n = 0;
    (void)timeouts;

    if(ck && status == ARES_SUCCESS && res) {
        for(struct ares_addrinfo_node *a = res->nodes; a && n < CHECK_MAX_ADDRS; a = a->ai_next)
            if((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
               (!q->family || a->ai_family == q->family) && vg_addr_from_sockaddr(&addrs[n], a->ai_addr))
                n++;
    }
    if(res)
        ares_freeaddrinfo(res);
    if(ck && status == ARES_SUCCESS && !n)
        status = ARES_ENODATA;
    free(q);
    if(ck) {
        ck->lookup = NULL;
        check_dns_done(ck, n ? ARES_SUCCESS : status, addrs, n);
    }
}

int check_resolve(check_resolver *r, vg_check *ck, const char *name, int family)
{
    struct ares_addrinfo_hints hints;
    check_lookup *q;
    vg_addr addrs[CHECK_MAX_ADDRS];
    unsigned n;

    switch(vg_name_special(name)) {
    case VG_NAME_LOCALHOST:
        /* Never handed to c-ares, which would ask DNS for names under it. */
        n = (unsigned)vg_localhost_addrs(NULL, name, family, addrs, CHECK_MAX_ADDRS);
        check_dns_done(ck, ARES_SUCCESS, addrs, n);
        return 0;
    case VG_NAME_INVALID:
        ck->dns_us = 0;
        ck->run->res.phase_us[VG_PHASE_DNS] = 0;
        ck->no_retry = true;
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_NXDOMAIN,
                      "cannot resolve %s: .invalid names never exist, per RFC 6761; not looked up"
                      " (service not checked)", name);
        check_attempt_done(ck);
        return 0;
    case VG_NAME_DNS:
        break;
    }
    q = vg_calloc(1, sizeof(*q));
    if(!q)
        return -1;
    q->ck = ck;
    q->family = family;
    q->r = r;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family ? family : AF_UNSPEC;
    ck->lookup = q;
    /* May answer at once (from /etc/hosts), calling lookup_done before it
     * returns: q must not be touched after this call. */
    ares_getaddrinfo(r->channel, name, NULL, &hints, lookup_done, q);
    resolver_rearm(r);
    return 0;
}

void check_lookup_cancel(check_lookup *q)
{
    if(q)
        q->ck = NULL;
}
