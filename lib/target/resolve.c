/* SPDX-License-Identifier: MIT */
/* Concurrent host name resolution over c-ares: every name is queried at once
 * on one channel, which is driven with poll() until all answers are in or the
 * batch deadline passes. Special-use names (RFC 6761: localhost, .localhost,
 * .invalid) are answered here and never reach c-ares, nor does any name when
 * the caller forbids DNS (hosts_only). */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "target/resolve.h"
#include "util/hosts.h"
#include "util/alloc.h"

#define RESOLVE_DEFAULT_TIMEOUT_MS 5000

/* Shared by the callbacks of one batch; lives on vg_resolve_names' stack. */
struct resolve_batch {
    size_t pending; /* queries whose callback has not run yet */
    int family;     /* wanted: AF_INET, AF_INET6 or 0 for both */
    bool nomem;     /* a callback could not store its answer */
};

/* What ares_getaddrinfo's callback receives as its argument. */
struct resolve_ctx {
    struct resolve_batch *batch;
    vg_resolve_query *query;
};

static int64_t resolve_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool resolve_wanted(const struct resolve_batch *batch, int family)
{
    if(family != AF_INET && family != AF_INET6)
        return false;
    return !batch->family || batch->family == family;
}

/* Stores n addresses (only the first unless q->all) in q. */
static bool resolve_store(vg_resolve_query *q, const vg_addr *addrs, size_t n)
{
    if(n && !q->all)
        n = 1;
    q->addrs = n ? vg_calloc(n, sizeof(*q->addrs)) : NULL;
    if(n && !q->addrs)
        return false;
    if(n)
        memcpy(q->addrs, addrs, n * sizeof(*addrs));
    q->naddrs = n;
    return true;
}

/* Names answered without DNS: RFC 6761 localhost and .invalid names, and
 * with opts->hosts_only every name (from the hosts file or not at all).
 * Returns false when the name needs a DNS query. */
static bool resolve_local(vg_resolve_query *q, const vg_resolve_opts *opts, int family, bool *nomem)
{
    vg_addr addrs[32];
    size_t n;

    switch(vg_name_special(q->name)) {
    case VG_NAME_INVALID:
        q->status = ARES_ENOTFOUND;
        q->reason = ".invalid names never exist, per RFC 6761; not looked up";
        break;
    case VG_NAME_LOCALHOST:
        n = vg_localhost_addrs(NULL, q->name, family, addrs, sizeof(addrs) / sizeof(addrs[0]));
        if(!resolve_store(q, addrs, n))
            *nomem = true;
        break;
    case VG_NAME_DNS:
        if(!opts->hosts_only)
            return false;
        n = vg_hosts_lookup(NULL, q->name, family, addrs, sizeof(addrs) / sizeof(addrs[0]));
        if(!n) {
            q->status = ARES_ENOTFOUND;
            q->reason = "not in " VG_HOSTS_PATH ", and DNS queries are off";
            q->needs_dns = true;
        }
        else if(!resolve_store(q, addrs, n))
            *nomem = true;
        break;
    }
    q->done = true;
    return true;
}

/* Copies the answer's addresses of the wanted family (all of them or only
 * the first, in c-ares' RFC 6724 order) into the query. Runs inside
 * ares_process_fd(), or inside ares_getaddrinfo() itself when /etc/hosts
 * answers. */
static void resolve_callback(void *arg, int status, int timeouts,
                             struct ares_addrinfo *res)
{
    struct resolve_ctx *ctx = arg;
    struct resolve_batch *batch = ctx->batch;
    vg_resolve_query *q = ctx->query;
    struct ares_addrinfo_node *node;
    size_t n = 0;

    (void)timeouts;
    q->done = true;
    batch->pending--;
    q->status = status;
    if(status == ARES_SUCCESS && res)
        for(node = res->nodes; node; node = node->ai_next)
            if(resolve_wanted(batch, node->ai_family))
                n++;
    if(n && !q->all)
        n = 1;
    if(n) {
        q->addrs = vg_calloc(n, sizeof(*q->addrs));
        if(!q->addrs) {
            batch->nomem = true;
            n = 0;
        }
    }
    q->naddrs = 0;
    for(node = res && status == ARES_SUCCESS ? res->nodes : NULL;
        node && q->naddrs < n; node = node->ai_next)
        if(resolve_wanted(batch, node->ai_family) &&
           vg_addr_from_sockaddr(&q->addrs[q->naddrs], node->ai_addr))
            q->naddrs++;
    if(q->naddrs)
        q->status = ARES_SUCCESS;
    else if(!batch->nomem) {
        /* Our own deadline cancels the channel; say so plainly. */
        if(status == ARES_ECANCELLED || status == ARES_EDESTRUCTION)
            q->status = ARES_ETIMEOUT;
        else if(status == ARES_SUCCESS)
            q->status = ARES_ENODATA;
        q->reason = ares_strerror(q->status);
    }
    if(res)
        ares_freeaddrinfo(res);
}

/* Waits for the channel's sockets (at most until deadline_ms) and lets
 * c-ares process whatever is ready, timeouts included. */
static int resolve_step(ares_channel channel, int64_t deadline_ms, vg_error *err)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    struct pollfd pfd[ARES_GETSOCK_MAXNUM];
    struct timeval maxtv, tv, *tvp;
    nfds_t nfds = 0;
    int64_t left = deadline_ms - resolve_now_ms();
    int bits, i, rc, wait_ms;

    if(left < 0)
        left = 0;
    bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    for(i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
        short events = 0;
        /* ARES_GETSOCK_WRITABLE() shifts a signed 1 into the sign bit for
         * the last socket; test the bits unsigned instead. */
        if((unsigned)bits & (1u << i))
            events |= POLLIN;
        if((unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
            events |= POLLOUT;
        if(!events)
            continue;
        pfd[nfds].fd = socks[i];
        pfd[nfds].events = events;
        pfd[nfds].revents = 0;
        nfds++;
    }
    maxtv.tv_sec = left / 1000;
    maxtv.tv_usec = (left % 1000) * 1000;
    tvp = ares_timeout(channel, &maxtv, &tv);
    wait_ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);

    rc = poll(pfd, nfds, wait_ms);
    if(rc < 0) {
        if(errno == EINTR)
            return VG_OK;
        int e = errno;
        char ebuf[128];
        if(err)
            err->sys_errno = e;
        return vg_error_set(err, VG_ESYS, "name resolution: poll failed: %s",
                            strerror_r(e, ebuf, sizeof(ebuf)));
    }
    for(i = 0; i < (int)nfds; i++) {
        ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
        if(pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
            rfd = pfd[i].fd;
        if(pfd[i].revents & (POLLOUT | POLLERR | POLLHUP))
            wfd = pfd[i].fd;
        if(rfd != ARES_SOCKET_BAD || wfd != ARES_SOCKET_BAD)
            ares_process_fd(channel, rfd, wfd);
    }
    /* With no socket given, c-ares only handles expired retries. */
    ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    return VG_OK;
}

int vg_resolve_names(vg_resolve_query *q, size_t n, const vg_resolve_opts *opts,
                     vg_error *err)
{
    struct resolve_batch batch = { 0, 0, false };
    struct resolve_ctx *ctx = NULL;
    struct ares_options options;
    struct ares_addrinfo_hints hints;
    ares_channel channel = NULL;
    bool lib_ready = false;
    char lookups[] = "fb";
    int timeout_ms = opts->timeout_ms ? opts->timeout_ms : RESOLVE_DEFAULT_TIMEOUT_MS;
    int family = opts->family == AF_INET || opts->family == AF_INET6 ? opts->family : 0;
    int64_t deadline_ms;
    int result = VG_OK;
    int status;
    size_t i, ndns = 0;

    if(!n)
        return VG_OK;
    if(opts->dns_servers && !opts->dns_servers[0])
        return vg_error_set(err, VG_EINVAL, "DNS servers: empty list");

    ctx = vg_calloc(n, sizeof(*ctx));
    if(!ctx) {
        result = vg_error_set(err, VG_ENOMEM, "name resolution: out of memory");
        goto out;
    }
    batch.family = family;
    for(i = 0; i < n; i++) {
        q[i].addrs = NULL;
        q[i].naddrs = 0;
        q[i].reason = NULL;
        q[i].status = 0;
        q[i].done = false;
        q[i].needs_dns = false;
        ctx[i].batch = &batch;
        ctx[i].query = &q[i];
        /* Special-use names, and every name under hosts_only, are answered
         * here and never reach c-ares, which would query DNS for them. */
        if(!resolve_local(&q[i], opts, family, &batch.nomem))
            ndns++;
    }
    if(batch.nomem) {
        result = vg_error_set(err, VG_ENOMEM, "name resolution: out of memory");
        goto out;
    }
    if(!ndns)
        goto out; /* no channel: not even /etc/resolv.conf is read */

    /* Reference-counted by c-ares, so one init per batch keeps us free of
     * process-wide state of our own. */
    status = ares_library_init(ARES_LIB_INIT_ALL);
    if(status != ARES_SUCCESS) {
        result = vg_error_set(err, status == ARES_ENOMEM ? VG_ENOMEM : VG_ESYS,
                              "cannot initialise the resolver: %s",
                              ares_strerror(status));
        goto out;
    }
    lib_ready = true;

    memset(&options, 0, sizeof(options));
    /* /etc/hosts before DNS, whatever the system files say. */
    options.lookups = lookups;
    /* Per-try timeout: leave room for a retry inside the batch deadline. */
    options.timeout = timeout_ms / 3;
    if(options.timeout < 100)
        options.timeout = 100;
    if(options.timeout > 2000)
        options.timeout = 2000;
    status = ares_init_options(&channel, &options,
                               ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS);
    if(status != ARES_SUCCESS) {
        channel = NULL;
        result = vg_error_set(err, status == ARES_ENOMEM ? VG_ENOMEM : VG_ESYS,
                              "cannot initialise the resolver: %s",
                              ares_strerror(status));
        goto out;
    }
    if(opts->dns_servers) {
        status = ares_set_servers_ports_csv(channel, opts->dns_servers);
        if(status != ARES_SUCCESS) {
            result = vg_error_set(err, status == ARES_ENOMEM ? VG_ENOMEM : VG_EINVAL,
                                  "DNS servers '%.200s': %s (expected ADDR[:PORT],"
                                  " with [ADDR]:PORT for IPv6)",
                                  opts->dns_servers, ares_strerror(status));
            goto out;
        }
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family ? family : AF_UNSPEC;
    deadline_ms = resolve_now_ms() + timeout_ms;
    batch.pending = ndns;
    for(i = 0; i < n; i++)
        if(!q[i].done)
            ares_getaddrinfo(channel, q[i].name, NULL, &hints, resolve_callback, &ctx[i]);

    while(batch.pending && resolve_now_ms() < deadline_ms) {
        result = resolve_step(channel, deadline_ms, err);
        if(result)
            goto out;
    }
    /* Whatever is still out of time fails with ARES_ECANCELLED, which the
     * callback reports as a timeout. */
    if(batch.pending)
        ares_cancel(channel);
    if(batch.nomem)
        result = vg_error_set(err, VG_ENOMEM, "name resolution: out of memory");

out:
    if(channel)
        ares_destroy(channel);
    if(lib_ready)
        ares_library_cleanup();
    free(ctx);
    return result;
}

/* One "ADDR", "ADDR:PORT", "[ADDR6]" or "[ADDR6]:PORT" of a server list. */
static bool server_item_ok(const char *item, size_t len)
{
    char host[INET6_ADDRSTRLEN + 1];
    unsigned char buf[sizeof(struct in6_addr)];
    const char *port = NULL;
    size_t hlen;

    if(!len)
        return false;
    if(item[0] == '[') {
        const char *close = memchr(item, ']', len);
        if(!close)
            return false;
        hlen = (size_t)(close - item - 1);
        if(hlen == 0 || hlen >= sizeof(host))
            return false;
        memcpy(host, item + 1, hlen);
        host[hlen] = '\0';
        if(inet_pton(AF_INET6, host, buf) != 1)
            return false;
        if((size_t)(close - item + 1) < len) {
            if(close[1] != ':')
                return false;
            port = close + 2;
        }
    }
    else {
        const char *colon = memchr(item, ':', len);
        const char *last = colon;
        for(const char *c = item; c < item + len; c++) {
            if(*c == ':')
                last = c;
        }
        if(colon && colon != last) {
            /* Several colons and no brackets: a bare IPv6 address. */
            if(len >= sizeof(host))
                return false;
            memcpy(host, item, len);
            host[len] = '\0';
            return inet_pton(AF_INET6, host, buf) == 1;
        }
        hlen = colon ? (size_t)(colon - item) : len;
        if(hlen == 0 || hlen >= sizeof(host))
            return false;
        memcpy(host, item, hlen);
        host[hlen] = '\0';
        if(inet_pton(AF_INET, host, buf) != 1)
            return false;
        if(colon)
            port = colon + 1;
    }
    if(port) {
        unsigned long v = 0;
        const char *end = item + len;
        if(port >= end)
            return false;
        for(const char *c = port; c < end; c++) {
            if(*c < '0' || *c > '9')
                return false;
            v = v * 10 + (unsigned long)(*c - '0');
            if(v > 65535)
                return false;
        }
        if(v == 0)
            return false;
    }
    return true;
}

int vg_dns_servers_check(const char *list, vg_error *err)
{
    const char *p = list;

    if(!list || !*list)
        return vg_error_set(err, VG_EINVAL, "--dns-servers: empty list");
    for(;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if(!server_item_ok(p, len))
            return vg_error_set(err, VG_EINVAL,
                                "--dns-servers: '%.*s' is not ADDR[:PORT] (IPv6 with a "
                                "port as [ADDR]:PORT; port 1-65535)",
                                (int)(len > 100 ? 100 : len), p);
        if(!comma)
            break;
        p = comma + 1;
    }
    return VG_OK;
}
