/* SPDX-License-Identifier: MIT */
/* The per-check options of `vigia check`, one row each, filling a
 * vg_check_opts: the CLI builds its getopt arrays and --help from this
 * table, the checks file loader accepts exactly its names as keys, and the
 * man page's list of check options is generated from it. Options whose
 * value needs more than a range check keep a callback in their row (and
 * name the field it fills, so that a check can tell the option was given:
 * lib/check/optfit.c). vg_check_opts_default() is here too. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "vigia/options.h"

#define MAX_LIST 64
#define MAX_DATA_FILE (64u << 20)

#define F(field) VG_OPT_FIELD(vg_check_opts, field)
#define PHASE(arr, p) .offset = offsetof(vg_check_opts, arr) + (p) * sizeof(uint32_t), .size = sizeof(uint32_t)

static const char *const state_names[] = {"ok", "warning", "critical", "unknown", NULL};
static const char *const policy_names[] = {"all", "any", NULL};

static int opt_fail(const vg_opt *o, const char *arg, vg_error *err, const char *what)
{
    char name[64];
    return vg_error_set(err, VG_EINVAL, "%s '%s': %s", vg_opt_display(o, name, sizeof(name)), arg, what);
}

static int check_method(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    (void)base, (void)st;
    if(!*arg || strlen(arg) > 20 || strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != strlen(arg))
        return opt_fail(o, arg, err, o->expect);
    return VG_OK;
}

static int check_header(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    (void)base, (void)st;
    if(!strchr(arg, ':') || arg[0] == ':' || strpbrk(arg, "\r\n"))
        return opt_fail(o, arg, err, o->expect);
    return VG_OK;
}

static int check_resolve(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    (void)base, (void)st;
    if(!strchr(arg, ':') || !strchr(strchr(arg, ':') + 1, ':'))
        return opt_fail(o, arg, err, o->expect);
    return VG_OK;
}

/* --cacert, --cert, --key: the file must be readable now. */
static int check_readable(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    (void)base, (void)st;
    if(access(arg, R_OK) != 0)
        return opt_fail(o, arg, err, strerror(errno));
    return VG_OK;
}

static int parse_data(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    (void)o, (void)st, (void)err;
    opts->data = arg;
    opts->data_len = strlen(arg);
    return VG_OK;
}

static int parse_data_file(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    FILE *fp = fopen(arg, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if(!fp)
        return opt_fail(o, arg, err, strerror(errno));
    for(;;) {
        size_t n;
        if(len == cap) {
            char *b;
            cap = cap ? cap * 2 : 65536;
            if(cap > MAX_DATA_FILE + 1)
                cap = MAX_DATA_FILE + 1;
            b = vg_realloc(buf, cap + 1);
            if(!b)
                break;
            buf = b;
        }
        n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if(n == 0 || len > MAX_DATA_FILE)
            break;
    }
    fclose(fp);
    if(!buf || len > MAX_DATA_FILE) {
        free(buf);
        return opt_fail(o, arg, err, "larger than 64 MiB");
    }
    buf[len] = '\0';
    if(!vg_optstore_keep(st, buf))
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    opts->data = buf;
    opts->data_len = len;
    return VG_OK;
}

static int parse_status(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    vg_error e = {0};
    (void)o, (void)st;
    if(vg_status_set_parse(&opts->expect_status, arg, &e))
        return vg_error_set(err, VG_EINVAL, "--expect-status: %s", e.msg);
    return VG_OK;
}

/* --max-redirects N also turns following on. */
static int parse_redirects(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    uint64_t v;
    (void)st;
    if(!vg_opt_parse_u64(arg, 0, 100, &v))
        return opt_fail(o, arg, err, o->expect);
    opts->max_redirects = (long)v;
    opts->follow = true;
    return VG_OK;
}

static int parse_send(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    char *buf = vg_optstore_keep(st, vg_malloc(strlen(arg) + 1));
    long n;
    if(!buf)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    n = vg_unescape(buf, strlen(arg), arg);
    if(n < 0)
        return opt_fail(o, arg, err, o->expect);
    opts->send = buf;
    opts->send_len = (size_t)n;
    return VG_OK;
}

/* --warn D (total) or --warn phase=D,phase=D. */
static int parse_limits(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    bool crit = !strcmp(o->name, "crit");
    uint32_t *dst = crit ? opts->crit_us : opts->warn_us;
    const char *opt = crit ? "--crit" : "--warn";
    char buf[256], *save = NULL;
    uint64_t ms;
    (void)st;
    if(!strchr(arg, '=')) {
        if(!vg_opt_parse_duration_ms(arg, &ms) || ms == 0 || ms > 3600000)
            return vg_error_set(err, VG_EINVAL, "%s '%s': expected a duration (e.g. 500ms, 2s) or PHASE=DURATION,...",
                                opt, arg);
        dst[VG_PHASE_TOTAL] = (uint32_t)(ms * 1000);
        return VG_OK;
    }
    if(strlen(arg) >= sizeof(buf))
        return vg_error_set(err, VG_EINVAL, "%s: list too long", opt);
    memcpy(buf, arg, strlen(arg) + 1);
    for(char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        int p;
        if(!eq)
            return vg_error_set(err, VG_EINVAL, "%s '%s': expected PHASE=DURATION items", opt, arg);
        *eq = '\0';
        p = vg_phase_parse(tok);
        if(p < 0)
            return vg_error_set(err, VG_EINVAL, "%s: unknown phase '%s' (dns, connect, tls, firstbyte, total)",
                                opt, tok);
        if(!vg_opt_parse_duration_ms(eq + 1, &ms) || ms == 0 || ms > 3600000)
            return vg_error_set(err, VG_EINVAL, "%s: bad duration '%s' for %s", opt, eq + 1, tok);
        dst[p] = (uint32_t)(ms * 1000);
    }
    return VG_OK;
}

static int parse_rcodes(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    char buf[256], *save = NULL;
    (void)o, (void)st;
    if(strlen(arg) >= sizeof(buf))
        return vg_error_set(err, VG_EINVAL, "--expect-rcode: list too long");
    memcpy(buf, arg, strlen(arg) + 1);
    opts->expect_rcodes = 0;
    for(char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int rcode = vg_dns_rcode_parse(tok);
        if(rcode < 0)
            return vg_error_set(err, VG_EINVAL,
                                "--expect-rcode '%s': expected NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...", tok);
        opts->expect_rcodes |= 1u << rcode;
    }
    return VG_OK;
}

/* "20" or "20%". */
static int parse_loss(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    vg_check_opts *opts = base;
    char pct[16];
    size_t pl = strlen(arg);
    uint64_t v;
    (void)st;
    if(pl && pl < sizeof(pct) && arg[pl - 1] == '%')
        pl--;
    if(pl == 0 || pl >= sizeof(pct))
        return opt_fail(o, arg, err, o->expect);
    memcpy(pct, arg, pl);
    pct[pl] = '\0';
    if(!vg_opt_parse_u64(pct, 0, 100, &v))
        return opt_fail(o, arg, err, o->expect);
    *(int *)((char *)opts + o->offset) = (int)v;
    return VG_OK;
}

#define HTTP VG_KIND_HTTP
#define TLSK (VG_KIND_HTTP | VG_KIND_TLS | VG_KIND_STARTTLS)
#define STREAM (VG_KIND_TCP | VG_KIND_TLS | VG_KIND_UDP)
#define FILEOPT VG_OPTF_FILE
/* What a check of another kind says when given the option (vg_opt.wrong_kind). */
#define HTTP_ONLY "HTTP options need an http:// or https:// target"
#define SSH_ONLY "SSH options need an ssh:// target"
#define SEND_ONLY "--send/--expect work on tcp://, tls:// and udp:// only"
#define DNS_ONLY "DNS options (--expect-answer, --expect-rcode, ...) need a dns:// target"
#define LOSS_ONLY "--warn-loss/--crit-loss need an icmp:// target"
#define DUR_EXPECT "expected a duration such as 500ms, 2s or 1m"
#define PHASE_ROW(nm, arr, p) \
    {.name = nm, .type = VG_OPT_DURATION, .flags = FILEOPT | VG_OPTF_US, .kinds = VG_KIND_ALL, \
     PHASE(arr, p), .min = 1, .max = 3600000, .arg = "D", .expect = "expected a duration, e.g. 200ms"}

static const vg_opt check_rows[] = {
    {.type = VG_OPT_NOTE, .help = "HTTP(S):"},
    {.name = "method", .alias = "request", .letter = 'X', .type = VG_OPT_STRING, .flags = FILEOPT,
     .kinds = HTTP, F(method), .wrong_kind = HTTP_ONLY, .parse = check_method, .arg = "M",
     .help = "GET (default), HEAD, POST, PUT, PATCH, DELETE, ...",
     .expect = "expected an upper-case HTTP method such as GET or POST"},
    {.name = "data", .letter = 'd', .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = HTTP, F(data),
     .wrong_kind = HTTP_ONLY, .parse = parse_data, .arg = "STRING", .help = "request body (method POST unless -X says otherwise)"},
    {.name = "data-file", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = HTTP, F(data),
     .wrong_kind = HTTP_ONLY, .parse = parse_data_file,
     .arg = "FILE", .help = "request body from FILE (at most 64 MiB)"},
    {.name = "header", .letter = 'H', .type = VG_OPT_LIST, .flags = FILEOPT, .kinds = HTTP, F(headers),
     .wrong_kind = HTTP_ONLY,
     .max = MAX_LIST, .parse = check_header, .arg = "'N: V'", .help = "extra request header (repeatable)",
     .expect = "expected 'Name: value'"},
    {.name = "expect-status", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = HTTP, F(expect_status.n),
     .wrong_kind = HTTP_ONLY, .parse = parse_status,
     .arg = "SET", .help = "e.g. 200-299,401 (default 200-399)"},
    {.name = "expect-body", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = HTTP, F(expect_body),
     .wrong_kind = HTTP_ONLY,
     .arg = "REGEX", .help = "the body must match (POSIX extended regex)"},
    {.name = "follow", .alias = "location", .letter = 'L', .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = HTTP,
     F(follow), .wrong_kind = HTTP_ONLY, .help = "follow redirects (default: not followed)"},
    {.name = "max-redirects", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = HTTP, F(max_redirects),
     .wrong_kind = HTTP_ONLY, .parse = parse_redirects, .arg = "N", .help = "implies -L (default 10)", .expect = "expected 0 to 100"},
    {.name = "max-body", .type = VG_OPT_SIZE, .flags = FILEOPT, .kinds = HTTP, F(max_body), .max = 1u << 30,
     .arg = "SIZE", .help = "bytes of body read and matched (default 1M)",
     .expect = "expected a size such as 64K or 1M (at most 1G)"},
    {.name = "resolve", .type = VG_OPT_LIST, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(resolve), .max = MAX_LIST,
     .parse = check_resolve, .arg = "HOST:PORT:ADDR",
     .help = "connect to ADDR for HOST:PORT (repeatable; all kinds)", .expect = "expected HOST:PORT:ADDRESS"},
    {.name = "proxy", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = HTTP, F(proxy), .arg = "URL",
     .help = "go through this proxy"},
    {.name = "proxy-from-env", .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = HTTP, F(proxy_from_env),
     .help = "honour http_proxy/https_proxy/no_proxy (ignored otherwise)"},
    {.name = "user-agent", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = HTTP, F(user_agent),
     .arg = "STRING", .help = "(default vigia/VERSION)"},
    {.name = "reuse-connections", .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = HTTP,
     F(reuse_connections),
     .help = "http(s) checks of one host may share connections (default: each its own)"},

    {.type = VG_OPT_NOTE, .help = "TLS (https://, tls://, STARTTLS):"},
    {.name = "insecure", .letter = 'k', .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = TLSK, F(insecure),
     .help = "do not verify the chain's trust or the host name"},
    {.name = "cacert", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = TLSK, F(cacert),
     .parse = check_readable, .arg = "FILE", .help = "trust these CAs (PEM) instead of the system's"},
    {.name = "cert", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = TLSK, F(client_cert),
     .parse = check_readable, .arg = "FILE", .help = "client certificate (PEM)"},
    {.name = "key", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = TLSK, F(client_key),
     .parse = check_readable, .arg = "FILE", .help = "its key (PEM; default: in --cert)"},
    {.name = "sni", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = VG_KIND_TLS, F(sni), .arg = "NAME",
     .help = "tls://: server name to send and verify"},
    {.name = "cert-warn-days", .type = VG_OPT_UINT, .flags = FILEOPT, .kinds = TLSK, F(cert_warn_days),
     .max = 36500, .arg = "N", .help = "WARNING when a chain certificate expires within N days",
     .expect = "expected a number of days"},
    {.name = "cert-crit-days", .type = VG_OPT_UINT, .flags = FILEOPT, .kinds = TLSK, F(cert_crit_days),
     .max = 36500, .arg = "N", .help = "CRITICAL within N days (expired is always CRITICAL)",
     .expect = "expected a number of days"},

    {.type = VG_OPT_NOTE, .help = "SSH (ssh://), MySQL (mysql://):"},
    {.name = "expect-version", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = VG_KIND_SSH | VG_KIND_MYSQL,
     F(expect_version), .wrong_kind = SSH_ONLY, .arg = "REGEX",
     .help = "the version line (MySQL: the greeting's server version)\nmust match, e.g. 'OpenSSH_9'"},
    {.name = "expect-hostkey", .type = VG_OPT_LIST, .flags = FILEOPT | VG_OPTF_SPLIT, .kinds = VG_KIND_SSH,
     F(expect_hostkey), .wrong_kind = SSH_ONLY, .max = MAX_LIST, .arg = "SHA256:…",
     .help = "the host key fingerprint (repeatable: any may match); the\n"
             "server must also prove it holds the key, else hostkey-unverified"},

    {.type = VG_OPT_NOTE, .help = "Generic (tcp://, tls://, udp://):"},
    {.name = "send", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = STREAM, F(send),
     .wrong_kind = SEND_ONLY, .parse = parse_send,
     .arg = "STRING", .help = "send once connected (escapes: \\r \\n \\t \\0 \\\\ \\xNN)",
     .expect = "bad escape (use \\r \\n \\t \\0 \\\\ \\xNN)"},
    {.name = "expect", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = STREAM, F(expect),
     .wrong_kind = SEND_ONLY, .arg = "REGEX",
     .help = "the answer must match"},
    {.name = "max-read", .type = VG_OPT_SIZE, .flags = FILEOPT, .kinds = STREAM | VG_KIND_SSH, F(max_read),
     .max = 16u << 20, .arg = "SIZE", .help = "bytes read while waiting for a match (default 64K)",
     .expect = "expected a size such as 4K (at most 16M)"},
    {.name = "step", .type = VG_OPT_LIST, .flags = FILEOPT, .kinds = STREAM, F(steps), .max = MAX_LIST,
     .wrong_kind = "--step works on tcp://, tls:// and udp:// only",
     .arg = "send:TEXT|expect:REGEX",
     .help = "instead of --send/--expect: send TEXT (escapes as --send;\n"
             "${1}..${9}: groups of the last match) or wait for REGEX;\nrepeat --step, in order"},

    {.type = VG_OPT_NOTE, .help = "DNS (dns://SERVER[:PORT]/NAME?type=A|AAAA|MX|TXT|CNAME|NS|SOA|PTR|SRV):"},
    {.name = "expect-answer", .type = VG_OPT_LIST, .flags = FILEOPT | VG_OPTF_SPLIT, .kinds = VG_KIND_DNS,
     F(expect_answer), .wrong_kind = DNS_ONLY, .max = MAX_LIST, .arg = "V[,V]",
     .help = "an answer must be V (a value, or an address/CIDR for A/AAAA)"},
    {.name = "expect-all", .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = VG_KIND_DNS, F(expect_all),
     .wrong_kind = DNS_ONLY,
     .help = "every --expect-answer value must be in the answer"},
    {.name = "expect-rcode", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = VG_KIND_DNS,
     F(expect_rcodes), .wrong_kind = DNS_ONLY, .parse = parse_rcodes, .arg = "R[,R]", .help = "rcodes that pass (default NOERROR), e.g. NXDOMAIN"},
    {.name = "expect-authoritative", .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = VG_KIND_DNS,
     F(expect_authoritative), .wrong_kind = DNS_ONLY, .help = "the answer must have the AA bit"},

    {.type = VG_OPT_NOTE, .help = "ICMP (icmp://HOST):"},
    {.name = "count", .type = VG_OPT_UINT, .flags = FILEOPT, .kinds = VG_KIND_ICMP, F(icmp_count), .min = 1,
     .max = 100, .arg = "N", .help = "echo requests (default 5); --warn/--crit limit the average RTT",
     .expect = "expected 1 to 100"},
    {.name = "ping-interval", .type = VG_OPT_DURATION, .flags = FILEOPT, .kinds = VG_KIND_ICMP,
     F(icmp_interval_ms), .min = 10, .max = 60000, .arg = "D", .help = "between requests (default 200ms)",
     .expect = "expected 10ms to 1m"},
    {.name = "warn-loss", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = VG_KIND_ICMP, F(warn_loss_pct),
     .wrong_kind = LOSS_ONLY, .parse = parse_loss, .arg = "P", .help = "loss above P percent is WARNING",
     .expect = "expected a percentage 0 to 100"},
    {.name = "crit-loss", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = VG_KIND_ICMP, F(crit_loss_pct),
     .wrong_kind = LOSS_ONLY, .parse = parse_loss, .arg = "P", .help = "loss above P percent is CRITICAL",
     .expect = "expected a percentage 0 to 100"},

    {.type = VG_OPT_NOTE, .help = "Every address (all kinds but http/https):"},
    {.name = "all-addresses", .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = VG_KIND_ALL & ~HTTP,
     F(all_addresses), .wrong_kind = "--all-addresses does not apply to http(s):// (libcurl picks the address)",
     .help = "probe each address of a name (up to 8) and report each"},
    {.name = "policy", .type = VG_OPT_ENUM, .flags = FILEOPT, .kinds = VG_KIND_ALL & ~HTTP, F(policy),
     .names = policy_names, .arg = "all|any", .help = "all must pass (default) or one is enough",
     .expect = "expected any or all"},

    {.type = VG_OPT_NOTE, .help = "\nTiming and verdicts:"},
    {.name = "timeout", .type = VG_OPT_DURATION, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(timeout_ms),
     .min = 1, .max = 86400000, .arg = "D",
     .help = "per check, retries included (default 10s); with --wait:\nthe whole wait (default 60s)",
     .expect = DUR_EXPECT},
    {.name = "warn", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = VG_KIND_ALL, .parse = parse_limits,
     .arg = "D", .help = "limit on total time; or a list: --warn connect=100ms,tls=1s"},
    {.name = "crit", .type = VG_OPT_CALLBACK, .flags = FILEOPT, .kinds = VG_KIND_ALL, .parse = parse_limits,
     .arg = "D", .help = "the same for CRITICAL"},
    {.type = VG_OPT_NOTE, .help = "  --warn-PHASE D, --crit-PHASE D   PHASE: dns, connect, tls, firstbyte, total"},
    PHASE_ROW("warn-dns", warn_us, VG_PHASE_DNS),
    PHASE_ROW("warn-connect", warn_us, VG_PHASE_CONNECT),
    PHASE_ROW("warn-tls", warn_us, VG_PHASE_TLS),
    PHASE_ROW("warn-firstbyte", warn_us, VG_PHASE_FIRSTBYTE),
    PHASE_ROW("warn-total", warn_us, VG_PHASE_TOTAL),
    PHASE_ROW("crit-dns", crit_us, VG_PHASE_DNS),
    PHASE_ROW("crit-connect", crit_us, VG_PHASE_CONNECT),
    PHASE_ROW("crit-tls", crit_us, VG_PHASE_TLS),
    PHASE_ROW("crit-firstbyte", crit_us, VG_PHASE_FIRSTBYTE),
    PHASE_ROW("crit-total", crit_us, VG_PHASE_TOTAL),
    {.name = "retries", .type = VG_OPT_UINT, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(retries), .max = 100,
     .arg = "N", .help = "extra attempts after a failed one (default 0)", .expect = "expected 0 to 100"},
    {.name = "retry-delay", .type = VG_OPT_DURATION, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(retry_delay_ms),
     .max = 86400000, .arg = "D", .help = "pause between attempts (default 1s)", .expect = DUR_EXPECT},
    {.name = "retry-is-warning", .type = VG_OPT_FLAG, .flags = FILEOPT, .kinds = VG_KIND_ALL,
     F(retry_is_warning), .help = "a pass that needed a retry is WARNING"},
    {.name = "on-timeout", .type = VG_OPT_ENUM, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(on_timeout),
     .names = state_names, .arg = "STATE",
     .help = "verdict for *-timeout reasons (ok, warning, critical, unknown)",
     .expect = "expected ok, warning, critical or unknown"},
    {.name = "on-refused", .type = VG_OPT_ENUM, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(on_refused),
     .names = state_names, .arg = "STATE", .help = "verdict for conn-refused",
     .expect = "expected ok, warning, critical or unknown"},
    {.name = "ipv4", .letter = '4', .type = VG_OPT_CONST, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(family),
     .min = AF_INET, .help = "resolve names to IPv4 only"},
    {.name = "ipv6", .letter = '6', .type = VG_OPT_CONST, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(family),
     .min = AF_INET6, .help = "resolve names to IPv6 only"},
    {.name = "dns-servers", .type = VG_OPT_STRING, .flags = FILEOPT, .kinds = VG_KIND_ALL, F(dns_servers),
     .arg = "A[:P],...", .help = "resolve with these servers, not the system's"},
};

void vg_check_opts_default(vg_check_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_ms = 10000;
    o->retry_delay_ms = 1000;
    o->on_timeout = -1;
    o->on_refused = -1;
    o->max_redirects = 10;
    o->max_body = 1 << 20;
    o->max_read = 64 << 10;
    o->icmp_count = 5;
    o->icmp_interval_ms = 200;
    o->warn_loss_pct = -1;
    o->crit_loss_pct = -1;
}

const vg_opt *vg_check_options(size_t *n)
{
    *n = sizeof(check_rows) / sizeof(check_rows[0]);
    return check_rows;
}
