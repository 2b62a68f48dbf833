/* SPDX-License-Identifier: MIT */
/* Concurrent host name resolution over c-ares: every name is queried at once
 * on one channel, which is driven with poll() until all answers are in or the
 * batch deadline passes. */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "target/resolve.h"

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
    bool localhost;
};

static int64_t resolve_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "localhost" and names under it (RFC 6761 6.3), with or without the root dot. */
static bool resolve_is_localhost(const char *name)
{
    size_t len = strlen(name);

    if(len && name[len - 1] == '.')
        len--;
    if(len == 9)
        return !strncasecmp(name, "localhost", 9);
    return len > 10 && !strncasecmp(name + len - 10, ".localhost", 10);
}

static bool resolve_wanted(const struct resolve_batch *batch, int family)
{
    if(family != AF_INET && family != AF_INET6)
        return false;
    return !batch->family || batch->family == family;
}

/* The loopback address RFC 6761 promises for localhost names. */
static void resolve_loopback(int family, vg_addr *out)
{
    memset(out, 0, sizeof(*out));
    out->family = (uint8_t)family;
    if(family == AF_INET) {
        out->a[0] = 127;
        out->a[3] = 1;
    }
    else
        out->a[15] = 1;
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
    /* A localhost name always has a loopback address, whatever /etc/hosts
     * lists for the other family. */
    if(!n && ctx->localhost)
        n = batch->family ? 1 : 2;
    if(n && !q->all)
        n = 1;
    if(n) {
        q->addrs = calloc(n, sizeof(*q->addrs));
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
    if(!q->naddrs && n) {
        resolve_loopback(batch->family ? batch->family : AF_INET, &q->addrs[0]);
        if(n > 1)
            resolve_loopback(AF_INET6, &q->addrs[1]);
        q->naddrs = n;
    }
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
    struct ares_addrinfo_hints hints, any_hints;
    ares_channel channel = NULL;
    bool lib_ready = false;
    char lookups[] = "fb";
    int timeout_ms = opts->timeout_ms ? opts->timeout_ms : RESOLVE_DEFAULT_TIMEOUT_MS;
    int64_t deadline_ms;
    int result = VG_OK;
    int status;
    size_t i;

    if(!n)
        return VG_OK;
    if(opts->dns_servers && !opts->dns_servers[0])
        return vg_error_set(err, VG_EINVAL, "DNS servers: empty list");

    ctx = calloc(n, sizeof(*ctx));
    if(!ctx) {
        result = vg_error_set(err, VG_ENOMEM, "name resolution: out of memory");
        goto out;
    }

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
    /* /etc/hosts before DNS, whatever the system files say, so that names
     * such as localhost work with no DNS server at all. */
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
    hints.ai_family = opts->family == AF_INET || opts->family == AF_INET6
                      ? opts->family : AF_UNSPEC;
    any_hints = hints;
    any_hints.ai_family = AF_UNSPEC;
    deadline_ms = resolve_now_ms() + timeout_ms;
    batch.pending = n;
    batch.family = hints.ai_family;
    for(i = 0; i < n; i++) {
        q[i].addrs = NULL;
        q[i].naddrs = 0;
        q[i].reason = NULL;
        q[i].status = 0;
        q[i].done = false;
        ctx[i].batch = &batch;
        ctx[i].query = &q[i];
    }
    for(i = 0; i < n; i++) {
        /* c-ares 1.18 leaks when its own localhost fallback runs (the name
         * is copied twice), and 1.22+ can report success with no address
         * for AF_INET6: ask for both families and apply RFC 6761 in
         * resolve_callback instead. */
        ctx[i].localhost = resolve_is_localhost(q[i].name);
        ares_getaddrinfo(channel, q[i].name, NULL,
                         ctx[i].localhost ? &any_hints : &hints,
                         resolve_callback, &ctx[i]);
    }

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
