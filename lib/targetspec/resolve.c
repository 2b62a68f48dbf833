/* SPDX-License-Identifier: MIT */
/* The scan's batch of host names, resolved at once: every name is handed
 * to the one resolver (lib/resolve) on a loop of our own, which runs until
 * all answers are in or the batch deadline passes. The resolver keeps the
 * policy (RFC 6761 names, /etc/hosts, hosts_only); this file only gathers
 * the answers. Also the syntax check of a --dns-servers list. */
#include <arpa/inet.h>
#include <ares.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "resolve/resolve.h"
#include "targetspec/resolve.h"
#include "util/alloc.h"

#define RESOLVE_DEFAULT_TIMEOUT_MS 5000

/* Shared by the callbacks of one batch; lives on vg_resolve_names' stack. */
struct resolve_batch {
    size_t pending; /* queries whose answer has not come yet */
    bool nomem;     /* a callback could not store its answer */
};

/* One query's callback argument and its lookup while in flight. */
struct resolve_ctx {
    struct resolve_batch *batch;
    vg_resolve_query *query;
    vg_lookup *lookup;
};

/* Stores the answer (every address, or the first unless q->all). */
static void resolve_answer(void *ud, const vg_lookup_result *res)
{
    struct resolve_ctx *ctx = ud;
    vg_resolve_query *q = ctx->query;
    size_t n = res->naddrs;

    q->done = true;
    ctx->batch->pending--;
    q->status = res->status;
    q->reason = res->reason;
    q->needs_dns = res->needs_dns;
    if(res->status == ARES_ENOMEM) {
        ctx->batch->nomem = true;
        return;
    }
    if(n && !q->all)
        n = 1;
    if(!n)
        return;
    q->addrs = vg_calloc(n, sizeof(*q->addrs));
    if(!q->addrs) {
        ctx->batch->nomem = true;
        return;
    }
    memcpy(q->addrs, res->addrs, n * sizeof(*q->addrs));
    q->naddrs = n;
}

/* The loop's descriptor table: c-ares' sockets are numbered among all of
 * the process' descriptors. */
static int resolve_max_fds(void)
{
    struct rlimit rl;
    if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        return rl.rlim_cur > 1048576 ? 1048576 : (int)rl.rlim_cur;
    return 1048576;
}

int vg_resolve_names(vg_resolve_query *q, size_t n, const vg_resolve_opts *opts,
                     vg_error *err)
{
    struct resolve_batch batch = { 0, false };
    struct resolve_ctx *ctx = NULL;
    vg_resolver *resolver = NULL;
    vg_loop *loop = NULL;
    int timeout_ms = opts->timeout_ms ? opts->timeout_ms : RESOLVE_DEFAULT_TIMEOUT_MS;
    int family = opts->family == AF_INET || opts->family == AF_INET6 ? opts->family : 0;
    int try_ms;
    uint64_t deadline_us, now;
    int result = VG_OK;
    size_t i;

    if(!n)
        return VG_OK;
    if(opts->dns_servers && !opts->dns_servers[0])
        return vg_error_set(err, VG_EINVAL, "DNS servers: empty list");

    for(i = 0; i < n; i++) {
        q[i].addrs = NULL;
        q[i].naddrs = 0;
        q[i].reason = NULL;
        q[i].status = 0;
        q[i].done = false;
        q[i].needs_dns = false;
    }
    ctx = vg_calloc(n, sizeof(*ctx));
    loop = vg_loop_new(resolve_max_fds());
    if(!ctx || !loop || vg_loop_reserve_timers(loop, 1) < 0) {
        result = vg_error_set(err, VG_ENOMEM, "name resolution: out of memory");
        goto out;
    }
    for(i = 0; i < n; i++) {
        ctx[i].batch = &batch;
        ctx[i].query = &q[i];
    }
    /* Per-try timeout: leave room for a retry inside the batch deadline. */
    try_ms = timeout_ms / 3;
    if(try_ms < 100)
        try_ms = 100;
    if(try_ms > 2000)
        try_ms = 2000;
    result = vg_resolver_new(&resolver, loop, opts->dns_servers,
                             opts->hosts_only ? VG_RESOLVER_HOSTS_ONLY : 0, try_ms, err);
    if(result)
        goto out;

    deadline_us = vg_now_us() + (uint64_t)timeout_ms * 1000u;
    for(i = 0; i < n; i++) {
        batch.pending++;
        result = vg_resolve_lookup(resolver, q[i].name, family, resolve_answer, &ctx[i],
                                   &ctx[i].lookup, err);
        if(result) {
            batch.pending--;
            goto out;
        }
    }

    while(batch.pending && (now = vg_now_us()) < deadline_us) {
        int rc = vg_loop_run_once_us(loop, (int64_t)(deadline_us - now));
        if(rc < 0) {
            char ebuf[128];
            if(err)
                err->sys_errno = -rc;
            result = vg_error_set(err, VG_ESYS, "name resolution: poll failed: %s",
                                  strerror_r(-rc, ebuf, sizeof(ebuf)));
            goto out;
        }
    }
    /* Whatever is still out of time failed for want of an answer. */
    for(i = 0; i < n; i++)
        if(!q[i].done) {
            vg_lookup_cancel(ctx[i].lookup);
            ctx[i].lookup = NULL;
            q[i].done = true;
            q[i].status = ARES_ETIMEOUT;
            q[i].reason = ares_strerror(ARES_ETIMEOUT);
        }
    if(batch.nomem)
        result = vg_error_set(err, VG_ENOMEM, "name resolution: out of memory");

out:
    vg_resolver_free(resolver);
    vg_loop_free(loop);
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
