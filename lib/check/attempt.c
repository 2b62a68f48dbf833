/* SPDX-License-Identifier: MIT */
/* The attempt layer: what a check kind calls while it runs an attempt
 * (findings, the summary, timing texts, the next address, its per-attempt
 * state) and its way back to the runner that runs it, which goes through
 * the runner's operations (check_runner_ops) so that no kind depends on the
 * runner itself. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "check/check_internal.h"
#include "util/escape.h"
#include "util/alloc.h"

/* --- the way back to the runner ------------------------------------------------ */

vg_loop *check_loop(const vg_check *ck)
{
    return ck->rt->loop(ck->checker);
}

SSL_CTX *check_ssl_ctx(vg_check *ck, vg_error *err)
{
    return ck->rt->ssl_ctx(ck->checker, ck->opts, err);
}

http_multi *check_http_multi(vg_check *ck, vg_error *err)
{
    return ck->rt->http_multi(ck->checker, err);
}

void check_attempt_done(vg_check *ck)
{
    ck->rt->attempt_done(ck);
}

void check_fd_shortage(vg_check *ck)
{
    ck->rt->fd_shortage(ck);
}

/* --- findings, texts and the attempt's state ------------------------------------- */

void check_finding(vg_check *ck, int state, int reason, const char *fmt, ...)
{
    struct check_finding *f;
    va_list ap;
    if(ck->run->nfindings == CHECK_MAX_FINDINGS)
        return;
    f = &ck->run->findings[ck->run->nfindings++];
    f->state = state;
    f->reason = reason;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
}

void check_summary(vg_check *ck, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ck->run->summary, sizeof(ck->run->summary), fmt, ap);
    va_end(ap);
}

const char *check_fmt_us(int64_t us, char *buf, size_t len)
{
    return vg_fmt_us(us, buf, len);
}

int check_errno_reason(int e, bool connecting)
{
    switch(e) {
    case ECONNREFUSED: return VG_CR_CONN_REFUSED;
    case ETIMEDOUT: return connecting ? VG_CR_CONN_TIMEOUT : VG_CR_READ_TIMEOUT;
    case ECONNRESET:
    case EPIPE: return VG_CR_CONN_RESET;
    case EHOSTUNREACH:
    case EHOSTDOWN: return VG_CR_HOST_UNREACH;
    case ENETUNREACH:
    case ENETDOWN: return VG_CR_NET_UNREACH;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOBUFS:
    case EADDRNOTAVAIL: return VG_CR_INTERNAL;
    default: return VG_CR_CONN_ERROR;
    }
}

int64_t check_since_attempt(const vg_check *ck)
{
    return (int64_t)(vg_now_us() - ck->attempt_us);
}

const char *check_where(const vg_check *ck, char *buf, size_t len)
{
    char a[VG_ADDR_STRLEN];
    if(!ck->have_addr)
        snprintf(buf, len, "%s port %u", ck->tgt.host, ck->tgt.port);
    else
        snprintf(buf, len, "%s port %u", vg_addr_format(&ck->addr, a, sizeof(a)), ck->tgt.port);
    return buf;
}

bool check_next_addr(vg_check *ck)
{
    if(ck->opts->all_addresses) /* each address is judged on its own */
        return false;
    if(ck->addr_idx + 1 >= ck->naddrs)
        return false;
    ck->addr = ck->addrs[++ck->addr_idx];
    return true;
}

void *check_kctx_new(vg_check *ck, size_t size)
{
    void *ctx = vg_calloc(1, size);
    if(!ctx) {
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        check_attempt_done(ck);
        return NULL;
    }
    ck->kctx = ctx;
    return ctx;
}

bool check_errno_is_fd_shortage(int e)
{
    return e == EMFILE || e == ENFILE;
}
