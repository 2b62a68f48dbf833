/* SPDX-License-Identifier: MIT */
/* dns://server[:port]/name?type=T: one real query, through c-ares, to the
 * named server (UDP, and TCP when the answer comes back truncated), judged
 * by its rcode, the AA bit and the answer records (--expect-rcode,
 * --expect-authoritative, --expect-answer values or CIDRs, --expect-all).
 * Each attempt has its own c-ares channel on the checker's loop; the answer
 * is read by our own bounds-checked parser (dns_msg.c), so c-ares never
 * interprets it beyond matching it to the question. */
#include <arpa/inet.h>
#include <ares.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check/check_internal.h"
#include "check/check_parse.h"
#include "check/dns_msg.h"
#include "resolve/ares_loop.h"
#include "util/alloc.h"

struct dns_ctx {
    vg_check *ck;
    vg_ares_loop al;            /* the channel (al.channel) on the check's loop */
    bool lib_ready;
    bool destroying;            /* ares_destroy() is running: ignore callbacks */
    bool have_answer;
    int status;                 /* ARES_* of the query */
    uint8_t *abuf;              /* the raw answer (owned) */
    size_t alen;
    uint64_t sent_us;
    vg_timer done_timer;        /* ends the attempt outside c-ares callbacks */
};

static const check_wrong_kind dns_wrong_kind[] = {
    {"expect-version", "--expect-version/--expect-hostkey do not apply to dns://"},
    {"expect-hostkey", "--expect-version/--expect-hostkey do not apply to dns://"},
    {"send", "--send/--expect do not apply to dns:// (use --expect-answer)"},
    {"expect", "--send/--expect do not apply to dns:// (use --expect-answer)"},
    {NULL, NULL},
};

static int dns_validate(const vg_check_opts *o, vg_error *err)
{
    for(const char *const *a = o->expect_answer; a && *a; a++)
        if(!**a || strlen(*a) >= DNSMSG_TEXT)
            return vg_error_set(err, VG_EINVAL, "--expect-answer: empty or overlong value");
    return VG_OK;
}

static struct dns_ctx *ctx_of(vg_timer *t, size_t off)
{
    return (struct dns_ctx *)((char *)t - off);
}

static void dns_answer_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct dns_ctx *d = arg;
    vg_check *ck;
    (void)timeouts;
    if(d->destroying || d->have_answer)
        return;
    ck = d->ck;
    d->have_answer = true;
    d->status = status;
    ck->run->res.phase_us[VG_PHASE_FIRSTBYTE] = (int64_t)(vg_now_us() - d->sent_us);
    if(status == ARES_SUCCESS && abuf && alen > 0) {
        /* A DNS message over TCP is at most 65535 bytes. */
        size_t n = (size_t)alen > 65535 ? 65535 : (size_t)alen;
        d->abuf = vg_malloc(n);
        if(d->abuf) {
            memcpy(d->abuf, abuf, n);
            d->alen = n;
        }
    }
    /* We are inside ares_process_fd(): end the attempt from the loop. */
    vg_timer_arm(check_loop(ck), &d->done_timer, vg_now_us());
}

/* "192.0.2.0/24", "2001:db8::/32" or a plain address: does rr match? */
static bool match_cidr(const char *item, const dnsmsg_rr *rr, bool *is_addr)
{
    char buf[64];
    const char *slash = strchr(item, '/');
    size_t al = slash ? (size_t)(slash - item) : strlen(item);
    uint8_t want[16];
    long bits;
    int fam;
    size_t alen;

    *is_addr = false;
    if(al >= sizeof(buf))
        return false;
    memcpy(buf, item, al);
    buf[al] = '\0';
    if(inet_pton(AF_INET, buf, want) == 1) {
        fam = AF_INET;
        alen = 4;
    }
    else if(inet_pton(AF_INET6, buf, want) == 1) {
        fam = AF_INET6;
        alen = 16;
    }
    else
        return false;
    bits = (long)alen * 8;
    if(slash) {
        char *end;
        bits = strtol(slash + 1, &end, 10);
        if(*end || end == slash + 1 || bits < 0 || bits > (long)alen * 8)
            return false;
    }
    *is_addr = true;
    if((fam == AF_INET && rr->type != 1) || (fam == AF_INET6 && rr->type != 28))
        return false;
    for(long i = 0; i < bits; i++) {
        uint8_t m = (uint8_t)(0x80u >> (i % 8));
        if((want[i / 8] & m) != (rr->rdata[i / 8] & m))
            return false;
    }
    return true;
}

/* Names compare case-insensitively, with or without the final dot. */
static bool same_text(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if(la > 1 && a[la - 1] == '.')
        la--;
    if(lb > 1 && b[lb - 1] == '.')
        lb--;
    return la == lb && !strncasecmp(a, b, la);
}

bool dns_item_matches(const char *item, const dnsmsg_rr *rr)
{
    bool is_addr;
    if(match_cidr(item, rr, &is_addr))
        return true;
    if(is_addr)
        return false;
    if(same_text(item, rr->text))
        return true;
    /* MX and SRV: the target alone matches too ("mx.example" for "10 mx.example."). */
    if(rr->type == 15 || rr->type == 33) {
        const char *sp = strrchr(rr->text, ' ');
        if(sp && !strchr(item, ' ') && same_text(item, sp + 1))
            return true;
    }
    return false;
}

/* What dns_judge gathers from every answer record. */
struct dns_tally {
    vg_check *ck;
    uint16_t qtype;
    unsigned nitems;
    bool item_hit[64];          /* per --expect-answer item (the CLI allows 64) */
    char list[512];             /* the answers, for the message */
    size_t ln;
};

static void dns_on_rr(const dnsmsg_rr *rr, void *ud)
{
    struct dns_tally *t = ud;
    vg_check_result *r = &t->ck->run->res;
    unsigned k = 0;
    if(rr->type != t->qtype)
        return;
    /* rr->text is printable ASCII already (dns_msg.c escapes as \DDD). */
    if(r->dns_nanswers < VG_CHECK_MAX_ANSWERS)
        snprintf(r->dns_answers[r->dns_nanswers], sizeof(r->dns_answers[0]), "%s", rr->text);
    r->dns_nanswers++;
    if(t->ln < sizeof(t->list) - 1) {
        int n = snprintf(t->list + t->ln, sizeof(t->list) - t->ln, "%s%s", t->ln ? ", " : "", rr->text);
        t->ln = n < 0 ? t->ln : t->ln + (size_t)n;
        if(t->ln >= sizeof(t->list))
            t->ln = sizeof(t->list) - 1;
    }
    for(const char *const *a = t->ck->opts->expect_answer; a && *a && k < 64; a++, k++)
        if(!t->item_hit[k] && dns_item_matches(*a, rr))
            t->item_hit[k] = true;
}

static void dns_judge(struct dns_ctx *d)
{
    vg_check *ck = d->ck;
    const vg_check_opts *o = ck->opts;
    vg_check_result *r = &ck->run->res;
    uint16_t qtype = ck->tgt.dns_qtype;
    const char *tname = vg_dns_type_name(qtype);
    dnsmsg m;
    const char *why = NULL;
    char where[160], t[32], rb[16];
    uint32_t accepted = o->expect_rcodes ? o->expect_rcodes : 1u;
    const char *rcname;
    bool rcode_ok;
    struct dns_tally *tl = vg_calloc(1, sizeof(*tl));

    check_where(ck, where, sizeof(where));
    if(!d->abuf || !tl) {
        free(tl);
        check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "out of memory");
        return;
    }
    tl->ck = ck;
    tl->qtype = qtype;
    if(dnsmsg_parse(d->abuf, d->alen, &m, &why, dns_on_rr, tl)) {
        r->dns_nanswers = 0;
        memset(r->dns_answers, 0, sizeof(r->dns_answers));
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                      "DNS server %s answered with a malformed message (%s)", where, why);
        free(tl);
        return;
    }
    r->dns_rcode = m.rcode;
    r->dns_aa = m.aa;
    r->dns_tc = m.tc;
    rcname = dnsmsg_rcode_name(m.rcode, rb, sizeof(rb));
    check_summary(ck, "DNS server %s answered %s%s in %s: %u %s record%s%s%s", where, rcname,
                  m.aa ? " (authoritative)" : "",
                  check_fmt_us(r->phase_us[VG_PHASE_FIRSTBYTE], t, sizeof(t)), r->dns_nanswers, tname,
                  r->dns_nanswers == 1 ? "" : "s", r->dns_nanswers ? " " : "", tl->list);

    rcode_ok = m.rcode < 32 && (accepted & (1u << m.rcode));
    if(!rcode_ok) {
        if(m.rcode == 3)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_NXDOMAIN, "%s does not exist (NXDOMAIN)",
                          ck->tgt.dns_name);
        else if(m.rcode == 2)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_SERVFAIL,
                          "the server failed to answer for %s (SERVFAIL)", ck->tgt.dns_name);
        else if(o->expect_rcodes)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_RCODE_MISMATCH, "rcode %s is not the expected one",
                          rcname);
        else
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_ERROR, "the server answered %s", rcname);
    }
    if(o->expect_authoritative && !m.aa)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_NOT_AUTHORITATIVE,
                      "the answer is not authoritative (AA bit clear)");
    if(o->expect_answer) {
        unsigned nitems = 0, hits = 0;
        for(const char *const *a = o->expect_answer; *a && nitems < 64; a++, nitems++)
            hits += tl->item_hit[nitems];
        if(o->expect_all ? hits < nitems : hits == 0)
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_ANSWER_MISMATCH,
                          "%s of the %u expected value%s in the %s answer", o->expect_all ? "not all" : "none",
                          nitems, nitems == 1 ? "" : "s", tname);
    }
    else if(rcode_ok && m.rcode == 0 && r->dns_nanswers == 0)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_ANSWER_MISMATCH, "%s has no %s records (NODATA)",
                      ck->tgt.dns_name, tname);
    free(tl);
}

static void dns_done_timer(vg_loop *loop, vg_timer *t)
{
    struct dns_ctx *d = ctx_of(t, offsetof(struct dns_ctx, done_timer));
    vg_check *ck = d->ck;
    char where[160], tb[32];
    (void)loop;
    check_where(ck, where, sizeof(where));
    if(d->status == ARES_SUCCESS)
        dns_judge(d);
    else if(d->status == ARES_ETIMEOUT)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_TIMEOUT, "no answer from DNS server %s within %s",
                      where, check_fmt_us(check_since_attempt(ck), tb, sizeof(tb)));
    else if(d->status == ARES_ECONNREFUSED)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_REFUSED,
                      "DNS server %s refused the query (nothing listens: not reachable)", where);
    else if(d->status == ARES_EBADRESP)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR, "DNS server %s sent a malformed answer",
                      where);
    else
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_ERROR, "query to DNS server %s failed: %s", where,
                      ares_strerror(d->status));
    check_attempt_done(ck);
}

static int dns_fail_start(vg_check *ck, const char *what)
{
    check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot start the DNS query: %s", what);
    check_attempt_done(ck);
    return -1;
}

static int dns_start(vg_check *ck)
{
    struct dns_ctx *d = vg_calloc(1, sizeof(*d));
    struct ares_options ao;
    char server[96], a[VG_ADDR_STRLEN];
    unsigned char *q = NULL;
    int qlen = 0, st;
    uint32_t per_try;

    if(!d)
        return dns_fail_start(ck, "out of memory");
    ck->kctx = d;
    d->ck = ck;
    vg_ares_loop_init(&d->al, check_loop(ck));
    vg_timer_init(&d->done_timer, dns_done_timer);
    st = ares_library_init(ARES_LIB_INIT_ALL);
    if(st != ARES_SUCCESS)
        return dns_fail_start(ck, ares_strerror(st));
    d->lib_ready = true;
    memset(&ao, 0, sizeof(ao));
    /* NOCHECKRESP: SERVFAIL and REFUSED are answers to judge, not reasons
     * to try another server. Three tries, doubling, inside the budget. */
    ao.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH;
    per_try = ck->opts->timeout_ms / 4;
    ao.timeout = (int)(per_try < 200 ? 200 : per_try);
    ao.tries = 3;
    vg_ares_loop_options(&d->al, &ao);
    st = ares_init_options(&d->al.channel, &ao,
                           ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
    if(st != ARES_SUCCESS) {
        d->al.channel = NULL;
        return dns_fail_start(ck, ares_strerror(st));
    }
    vg_addr_format(&ck->addr, a, sizeof(a));
    snprintf(server, sizeof(server), ck->addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, ck->tgt.port);
    st = ares_set_servers_ports_csv(d->al.channel, server);
    if(st != ARES_SUCCESS)
        return dns_fail_start(ck, ares_strerror(st));
    st = ares_create_query(ck->tgt.dns_name, 1 /* IN */, ck->tgt.dns_qtype, 0, 1, &q, &qlen, 0);
    if(st != ARES_SUCCESS)
        return dns_fail_start(ck, ares_strerror(st));
    ck->run->res.dns_rcode = -1;
    d->sent_us = vg_now_us();
    ck->attempt_us = d->sent_us;
    /* The answer may come at once (an error): then done_timer ends it. */
    ares_send(d->al.channel, q, qlen, dns_answer_cb, d);
    ares_free_string(q);
    vg_ares_loop_rearm(&d->al);
    return 0;
}

static void dns_timeout(vg_check *ck)
{
    struct dns_ctx *d = ck->kctx;
    char where[160], t[32];
    if(d && d->have_answer) {
        /* The answer is in, only its judgement is pending. */
        vg_timer_disarm(check_loop(ck), &d->done_timer);
        dns_done_timer(check_loop(ck), &d->done_timer);
        return;
    }
    check_where(ck, where, sizeof(where));
    check_finding(ck, VG_CHECK_CRITICAL, VG_CR_DNS_TIMEOUT, "no answer from DNS server %s within %s", where,
                  check_fmt_us((int64_t)ck->opts->timeout_ms * 1000, t, sizeof(t)));
    check_attempt_done(ck);
}

static void dns_release(vg_check *ck)
{
    struct dns_ctx *d = ck->kctx;
    vg_loop *loop = check_loop(ck);
    if(!d)
        return;
    ck->kctx = NULL;
    vg_ares_loop_stop(&d->al);
    vg_timer_disarm(loop, &d->done_timer);
    d->destroying = true;
    if(d->al.channel)
        ares_destroy(d->al.channel);
    if(d->lib_ready)
        ares_library_cleanup();
    free(d->abuf);
    free(d);
}

const vg_check_type vg_check_dns = {
    .name = "dns",
    .label = "DNS",
    .detail = VG_REC_DETAIL_DNS,
    .default_port = 53,
    .tls = false,
    .kind = VG_KIND_DNS,
    .fds = CHECK_FDS_DNS,
    .wrong_kind = dns_wrong_kind,
    .validate = dns_validate,
    .start = dns_start,
    .on_timeout = dns_timeout,
    .release = dns_release,
};
