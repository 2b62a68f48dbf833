/* SPDX-License-Identifier: MIT */
/* `vigia check`: parses the command line into check options, runs the
 * checks once (exit 0/1/2/3 as a monitoring plugin) or, with --wait, polls
 * them until all are OK (then execs the command after --), feeds every
 * output, and maps the outcome to an exit status. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "commands.h"
#include "vigia/check.h"
#include "vigia_config.h"

enum {
    EXIT_CHECK_OK = 0,
    EXIT_CHECK_WARNING = 1,
    EXIT_CHECK_CRITICAL = 2,
    EXIT_CHECK_UNKNOWN = 3, /* also usage errors */
    EXIT_CHECK_WAIT_TIMEOUT = 124,
    EXIT_CHECK_EXEC_FAILED = 127,
};

#define MAX_OUTPUTS 8
#define MAX_LIST 64
#define MAX_DATA_FILE (64u << 20)

struct out_spec {
    vg_check_output *out;
    FILE *fp;
    bool is_stdout;
    bool owns_fp;
    const char *path;
    char *tmp_path;             /* openmetrics=FILE: written here, then renamed */
};

struct check_cli {
    vg_check_opts opts;
    unsigned concurrency;
    bool wait;
    uint64_t wait_timeout_ms;   /* --timeout in --wait mode */
    uint64_t check_timeout_ms;  /* per attempt in --wait mode */
    bool have_timeout;
    uint64_t interval_ms;
    const char *headers[MAX_LIST + 1];
    int nheaders;
    const char *resolve[MAX_LIST + 1];
    int nresolve;
    const char *hostkeys[MAX_LIST + 1];
    int nhostkeys;
    char *owned[MAX_LIST * 2];  /* strings we allocated (freed at exit) */
    int nowned;
    char **targets;
    int ntargets;
    char **cmd;                 /* after --, for --wait */
    struct out_spec outs[MAX_OUTPUTS];
    int nouts;
    int verbose;
    bool quiet;
    bool stdout_broken;
    bool io_error;
    vg_check_summary sum;
    /* --- dns://, icmp:// options ------------------------------------------ */
    const char *answers[MAX_LIST + 1];
    int nanswers;
    const char *steps[MAX_LIST + 1];
    int nsteps;
    /* --- -f checks files, --watch, openmetrics ---------------------------- */
    const char *file;           /* -f FILE */
    uint64_t watch_ms;          /* --watch INTERVAL; 0: off */
    char **file_targets;        /* with -f: c->targets points here ... */
    const char **names;         /* ... the checks' names ... */
    vg_check_opts **item_opts;  /* ... and options (NULL: &opts for all) */
    struct check_cli **subs;    /* with -f: each check's parse state */
    char **kept;                /* strings optarg points into (with -f) */
    size_t nkept, capkept;
    struct { int opt; const char *arg; } cli_opts[128]; /* per-check options given with -f */
    int ncli_opts;
};

static void check_usage(FILE *fp)
{
    fprintf(fp,
"Usage: " PROG " check [OPTIONS] TARGET... [--wait [-- COMMAND ARGS...]]\n"
"\n"
"Says whether each service is reachable and healthy, why not if not, and how\n"
"long each phase took (dns, connect, tls, firstbyte, total).\n"
"\n"
"Targets: tcp://HOST:PORT  HOST:PORT  [::1]:PORT  http://URL  https://URL\n"
"         tls://HOST:PORT  ssh://HOST[:PORT]   (mixed kinds run concurrently)\n"
"\n"
"HTTP(S):\n"
"  -X, --method M            GET (default), HEAD, POST, PUT, PATCH, DELETE, ...\n"
"  -d, --data STRING         request body (method POST unless -X says otherwise)\n"
"  --data-file FILE          request body from FILE\n"
"  -H, --header 'N: V'       extra request header (repeatable)\n"
"  --expect-status SET       e.g. 200-299,401 (default 200-399)\n"
"  --expect-body REGEX       the body must match (POSIX extended regex)\n"
"  -L, --follow              follow redirects (default: not followed)\n"
"  --max-redirects N         with -L (default 10)\n"
"  --max-body SIZE           bytes of body read and matched (default 1M)\n"
"  --resolve HOST:PORT:ADDR  connect to ADDR for HOST:PORT (repeatable; all kinds)\n"
"  --proxy URL               go through this proxy\n"
"  --proxy-from-env          honour http_proxy/https_proxy/no_proxy (ignored otherwise)\n"
"  --user-agent STRING       (default vigia/" VIGIA_VERSION ")\n"
"TLS (https://, tls://):\n"
"  -k, --insecure            do not verify the chain's trust or the host name\n"
"  --cacert FILE             trust these CAs (PEM) instead of the system's\n"
"  --cert FILE, --key FILE   client certificate and key (PEM)\n"
"  --sni NAME                tls://: server name to send and verify\n"
"  --cert-warn-days N        WARNING when a chain certificate expires within N days\n"
"  --cert-crit-days N        CRITICAL within N days (expired is always CRITICAL)\n"
"SSH (ssh://):\n"
"  --expect-version REGEX    the version line must match, e.g. 'OpenSSH_9'\n"
"  --expect-hostkey SHA256:… the host key fingerprint (repeatable: any may match); the\n"
"                            server must also prove it holds the key, else hostkey-unverified\n"
"Generic (tcp://, tls://):\n"
"  --send STRING             send once connected (escapes: \\r \\n \\t \\0 \\\\ \\xNN)\n"
"  --expect REGEX            the answer must match\n"
"  --max-read SIZE           bytes read while waiting for a match (default 64K)\n"
"\n"
"DNS (dns://SERVER[:PORT]/NAME?type=A|AAAA|MX|TXT|CNAME|NS|SOA|PTR|SRV):\n"
"  --expect-answer V[,V]     an answer must be V (a value, or an address/CIDR for A/AAAA)\n"
"  --expect-all              every --expect-answer value must be in the answer\n"
"  --expect-rcode R[,R]      rcodes that pass (default NOERROR), e.g. NXDOMAIN\n"
"  --expect-authoritative    the answer must have the AA bit\n"
"MySQL (mysql://HOST[:3306]): --expect-version REGEX on the greeting's server version\n"
"ICMP (icmp://HOST):\n"
"  --count N                 echo requests (default 5); --warn/--crit limit the average RTT\n"
"  --ping-interval D         between requests (default 200ms)\n"
"  --warn-loss P, --crit-loss P   loss above P percent is WARNING / CRITICAL\n"
"UDP (udp://HOST:PORT): --send and --expect as above; ICMP port unreachable -> port-unreach\n"
"Multi-step (tcp://, tls://, udp://), instead of --send/--expect:\n"
"  --step send:TEXT          send TEXT (escapes as --send; ${1}..${9}: groups of the last match)\n"
"  --step expect:REGEX       wait for REGEX (repeat --step, in order)\n"
"Every address (all kinds but http/https):\n"
"  --all-addresses           probe each address of a name (up to 8) and report each\n"
"  --policy all|any          all must pass (default) or one is enough\n"
"\n"
"Timing and verdicts:\n"
"  --timeout D               per check, retries included (default 10s); with --wait:\n"
"                            the whole wait (default 60s)\n"
"  --warn D, --crit D        limits on total time; or a list: --warn connect=100ms,tls=1s\n"
"  --warn-PHASE D, --crit-PHASE D   PHASE: dns, connect, tls, firstbyte, total\n"
"  --retries N               extra attempts after a failed one (default 0)\n"
"  --retry-delay D           pause between attempts (default 1s)\n"
"  --retry-is-warning        a pass that needed a retry is WARNING\n"
"  --on-timeout STATE        verdict for *-timeout reasons (ok, warning, critical, unknown)\n"
"  --on-refused STATE        verdict for conn-refused\n"
"  -4, -6                    resolve names to IPv4 / IPv6 only\n"
"  --dns-servers A[:P],...   resolve with these servers, not the system's\n"
"  --concurrency N           checks in flight (default 256)\n"
"  Durations take units: 500ms, 2s, 1m; a bare number means seconds.\n"
"\n"
"Modes:\n"
"  (default)                 run every check once\n"
"  --wait                    poll until every check is OK, then run COMMAND (after --)\n"
"  --interval D              pause between polls (default 1s)\n"
"  --check-timeout D         with --wait: timeout of each attempt (default 5s)\n""  --watch INTERVAL          run every check each INTERVAL until Ctrl-C; print state\n"
"                            changes, then a summary per check (exit: worst current state)\n"
"  -f, --file FILE           checks from a YAML file (docs/check.md); options on the\n"
"                            command line apply to each of its checks\n"
"\n"
"Output:\n"
"  -o, --output FMT[=FILE]   text (default), ndjson or openmetrics; repeatable; FILE '-'\n"
"                            is stdout; openmetrics=FILE is replaced atomically\n"
"                            With --wait only what -o asks for is written.\n"
"  -v, --verbose             text: certificate and host key details\n"
"  -q, --quiet               no --wait progress on stderr\n"
"  -h, --help                this text\n"
"\n"
"Exit status (monitoring-plugin convention): 0 OK, 1 WARNING, 2 CRITICAL,\n"
"3 UNKNOWN (also usage errors) - the worst of all checks. With --wait: 0 when\n"
"all are OK (or COMMAND's status), 124 on timeout, 127 when COMMAND cannot run.\n"
"A signal ends any mode with 130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP).\n");
}

enum {
    OPT_DATA_FILE = 256, OPT_EXPECT_STATUS, OPT_EXPECT_BODY, OPT_MAX_REDIRECTS, OPT_MAX_BODY,
    OPT_RESOLVE, OPT_PROXY, OPT_PROXY_ENV, OPT_UA, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_SNI,
    OPT_CERT_WARN, OPT_CERT_CRIT, OPT_EXPECT_VERSION, OPT_EXPECT_HOSTKEY, OPT_SEND, OPT_EXPECT,
    OPT_MAX_READ, OPT_TIMEOUT, OPT_WARN, OPT_CRIT, OPT_RETRIES, OPT_RETRY_DELAY, OPT_RETRY_WARN,
    OPT_ON_TIMEOUT, OPT_ON_REFUSED, OPT_DNS, OPT_CONC, OPT_WAIT, OPT_INTERVAL, OPT_CHECK_TIMEOUT,
    /* --warn-PHASE / --crit-PHASE: OPT_PHASE_WARN + phase, OPT_PHASE_CRIT + phase */
    OPT_PHASE_WARN = 400,
    OPT_PHASE_CRIT = 420,
};
/* checks files, --watch and openmetrics options */
enum { OPT_WATCH = 500 };

/* dns:// and icmp:// options */
enum {
    OPT_EXPECT_ANSWER = 600, OPT_EXPECT_ALL, OPT_EXPECT_RCODE, OPT_EXPECT_AUTH, OPT_COUNT,
    OPT_PING_INTERVAL, OPT_WARN_LOSS, OPT_CRIT_LOSS, OPT_STEP, OPT_ALL_ADDRESSES, OPT_POLICY,
};

static const struct option long_opts[] = {
    {"method", required_argument, NULL, 'X'},
    {"request", required_argument, NULL, 'X'},
    {"data", required_argument, NULL, 'd'},
    {"data-file", required_argument, NULL, OPT_DATA_FILE},
    {"header", required_argument, NULL, 'H'},
    {"expect-status", required_argument, NULL, OPT_EXPECT_STATUS},
    {"expect-body", required_argument, NULL, OPT_EXPECT_BODY},
    {"follow", no_argument, NULL, 'L'},
    {"location", no_argument, NULL, 'L'},
    {"max-redirects", required_argument, NULL, OPT_MAX_REDIRECTS},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"resolve", required_argument, NULL, OPT_RESOLVE},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"proxy-from-env", no_argument, NULL, OPT_PROXY_ENV},
    {"user-agent", required_argument, NULL, OPT_UA},
    {"insecure", no_argument, NULL, 'k'},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"sni", required_argument, NULL, OPT_SNI},
    {"cert-warn-days", required_argument, NULL, OPT_CERT_WARN},
    {"cert-crit-days", required_argument, NULL, OPT_CERT_CRIT},
    {"expect-version", required_argument, NULL, OPT_EXPECT_VERSION},
    {"expect-hostkey", required_argument, NULL, OPT_EXPECT_HOSTKEY},
    {"send", required_argument, NULL, OPT_SEND},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"max-read", required_argument, NULL, OPT_MAX_READ},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"warn", required_argument, NULL, OPT_WARN},
    {"crit", required_argument, NULL, OPT_CRIT},
    {"warn-dns", required_argument, NULL, OPT_PHASE_WARN + VG_PHASE_DNS},
    {"warn-connect", required_argument, NULL, OPT_PHASE_WARN + VG_PHASE_CONNECT},
    {"warn-tls", required_argument, NULL, OPT_PHASE_WARN + VG_PHASE_TLS},
    {"warn-firstbyte", required_argument, NULL, OPT_PHASE_WARN + VG_PHASE_FIRSTBYTE},
    {"warn-total", required_argument, NULL, OPT_PHASE_WARN + VG_PHASE_TOTAL},
    {"crit-dns", required_argument, NULL, OPT_PHASE_CRIT + VG_PHASE_DNS},
    {"crit-connect", required_argument, NULL, OPT_PHASE_CRIT + VG_PHASE_CONNECT},
    {"crit-tls", required_argument, NULL, OPT_PHASE_CRIT + VG_PHASE_TLS},
    {"crit-firstbyte", required_argument, NULL, OPT_PHASE_CRIT + VG_PHASE_FIRSTBYTE},
    {"crit-total", required_argument, NULL, OPT_PHASE_CRIT + VG_PHASE_TOTAL},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"retry-is-warning", no_argument, NULL, OPT_RETRY_WARN},
    {"on-timeout", required_argument, NULL, OPT_ON_TIMEOUT},
    {"on-refused", required_argument, NULL, OPT_ON_REFUSED},
    {"dns-servers", required_argument, NULL, OPT_DNS},
    {"concurrency", required_argument, NULL, OPT_CONC},
    {"wait", no_argument, NULL, OPT_WAIT},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"check-timeout", required_argument, NULL, OPT_CHECK_TIMEOUT},
    {"output", required_argument, NULL, 'o'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    /* -f, --watch; long names for -4/-6 so checks files can say them */
    {"file", required_argument, NULL, 'f'},
    {"watch", required_argument, NULL, OPT_WATCH},
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    /* dns://, icmp:// */
    {"expect-answer", required_argument, NULL, OPT_EXPECT_ANSWER},
    {"expect-all", no_argument, NULL, OPT_EXPECT_ALL},
    {"expect-rcode", required_argument, NULL, OPT_EXPECT_RCODE},
    {"expect-authoritative", no_argument, NULL, OPT_EXPECT_AUTH},
    {"count", required_argument, NULL, OPT_COUNT},
    {"ping-interval", required_argument, NULL, OPT_PING_INTERVAL},
    {"warn-loss", required_argument, NULL, OPT_WARN_LOSS},
    {"crit-loss", required_argument, NULL, OPT_CRIT_LOSS},
    {"step", required_argument, NULL, OPT_STEP},
    {"all-addresses", no_argument, NULL, OPT_ALL_ADDRESSES},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* "--name" of an option, for messages (argv[optind - 1] may be its value). */
static const char *optname(int opt)
{
    static char buf[40];
    for(const struct option *o = long_opts; o->name; o++)
        if(o->val == opt) {
            snprintf(buf, sizeof(buf), "--%s", o->name);
            return buf;
        }
    return "option";
}

/* -f: "FILE:LINE:COL" of the value being parsed, for usage_error(). */
static const char *usage_where;

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG " check: ");
    if(usage_where)
        fprintf(stderr, "%s: ", usage_where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '" PROG " check --help')\n");
    return EXIT_CHECK_UNKNOWN;
}

static bool keep(struct check_cli *c, char *s)
{
    if(!s || c->nowned == (int)(sizeof(c->owned) / sizeof(c->owned[0]))) {
        free(s);
        return false;
    }
    c->owned[c->nowned++] = s;
    return true;
}

/* "1M", "64K", "1000": bytes. */
static bool parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    unsigned long long mult = 1;
    if(!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if(errno)
        return false;
    if(!strcasecmp(end, "k") || !strcasecmp(end, "kb") || !strcasecmp(end, "kib"))
        mult = 1024;
    else if(!strcasecmp(end, "m") || !strcasecmp(end, "mb") || !strcasecmp(end, "mib"))
        mult = 1024 * 1024;
    else if(*end)
        return false;
    if(v == 0 || v > (1ull << 30) / mult)
        return false;
    *out = (size_t)(v * mult);
    return true;
}

static bool parse_dur_us(const char *s, uint32_t *us)
{
    uint64_t ms;
    if(!cli_parse_duration_ms(s, &ms) || ms == 0 || ms > 3600000)
        return false;
    *us = (uint32_t)(ms * 1000);
    return true;
}

/* --warn D (total) or --warn phase=D,phase=D. */
static int parse_limits(struct check_cli *c, const char *arg, bool crit)
{
    uint32_t *dst = crit ? c->opts.crit_us : c->opts.warn_us;
    const char *opt = crit ? "--crit" : "--warn";
    char buf[256], *save = NULL;
    if(!strchr(arg, '=')) {
        if(!parse_dur_us(arg, &dst[VG_PHASE_TOTAL]))
            return usage_error("%s '%s': expected a duration (e.g. 500ms, 2s) or PHASE=DURATION,...", opt, arg);
        return 0;
    }
    if(strlen(arg) >= sizeof(buf))
        return usage_error("%s: list too long", opt);
    strcpy(buf, arg);
    for(char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        int p;
        if(!eq)
            return usage_error("%s '%s': expected PHASE=DURATION items", opt, arg);
        *eq = '\0';
        p = vg_phase_parse(tok);
        if(p < 0)
            return usage_error("%s: unknown phase '%s' (dns, connect, tls, firstbyte, total)", opt, tok);
        if(!parse_dur_us(eq + 1, &dst[p]))
            return usage_error("%s: bad duration '%s' for %s", opt, eq + 1, tok);
    }
    return 0;
}

static int add_output(struct check_cli *c, const char *spec)
{
    char fmt[32];
    struct out_spec *o;
    vg_error err = {0};
    const char *why;

    if(c->nouts == MAX_OUTPUTS)
        return usage_error("too many outputs (at most 8): '%s'", spec);
    o = &c->outs[c->nouts];
    why = cli_output_split(spec, fmt, sizeof(fmt), &o->path);
    if(why)
        return usage_error("bad output '%s': %s", spec, why);
    o->out = vg_check_output_new(fmt, stdout, &err);
    if(!o->out)
        return usage_error("%s", err.msg);
    c->nouts++;
    return 0;
}

static int read_data_file(struct check_cli *c, const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if(!fp)
        return usage_error("--data-file '%s': %s", path, strerror(errno));
    for(;;) {
        size_t n;
        if(len == cap) {
            char *b;
            cap = cap ? cap * 2 : 65536;
            if(cap > MAX_DATA_FILE + 1)
                cap = MAX_DATA_FILE + 1;
            b = realloc(buf, cap + 1);
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
        return usage_error("--data-file '%s': larger than 64 MiB", path);
    }
    buf[len] = '\0';
    keep(c, buf);
    c->opts.data = buf;
    c->opts.data_len = len;
    return 0;
}

static int parse_state_arg(const char *opt, const char *arg, int *out)
{
    int s = vg_check_state_parse(arg);
    if(s < 0)
        return usage_error("%s '%s': expected ok, warning, critical or unknown", opt, arg);
    *out = s;
    return 0;
}

static int add_list(const char **list, int *n, const char *v, const char *opt)
{
    if(*n == MAX_LIST)
        return usage_error("%s: at most %d", opt, MAX_LIST);
    list[(*n)++] = v;
    list[*n] = NULL;
    return 0;
}


static int record_cli_opt(struct check_cli *c, int opt);
static bool is_om(const struct out_spec *o);
static bool om_atomic(const struct out_spec *o);
static FILE *om_open_tmp(struct out_spec *o);
static int om_commit(struct out_spec *o);

/* Returns 0, -1 for --help, or an exit status. */
static int parse_args(struct check_cli *c, int argc, char **argv)
{
    int opt, rc;
    uint64_t v;
    size_t sz;

    /* Everything after a bare "--" is the command to run after --wait. */
    for(int i = 1; i < argc; i++) {
        if(!strcmp(argv[i], "--")) {
            c->cmd = argv + i + 1;
            argc = i;
            break;
        }
    }
    optind = 0; /* a full reset: -f parses many argument lists */
    opterr = 0;
    while((opt = getopt_long(argc, argv, ":X:d:H:Lko:vq46hf:", long_opts, NULL)) != -1) {
        if((rc = record_cli_opt(c, opt)))
            return rc;
        if(opt >= OPT_PHASE_WARN && opt < OPT_PHASE_CRIT + VG_PHASE__COUNT) {
            bool crit = opt >= OPT_PHASE_CRIT;
            int p = opt - (crit ? OPT_PHASE_CRIT : OPT_PHASE_WARN);
            uint32_t *dst = crit ? &c->opts.crit_us[p] : &c->opts.warn_us[p];
            if(!parse_dur_us(optarg, dst))
                return usage_error("%s '%s': expected a duration, e.g. 200ms", optname(opt), optarg);
            continue;
        }
        switch(opt) {
        case 'X':
            if(!*optarg || strlen(optarg) > 20 || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != strlen(optarg))
                return usage_error("--method '%s': expected an upper-case HTTP method such as GET or POST", optarg);
            c->opts.method = optarg;
            break;
        case 'd':
            c->opts.data = optarg;
            c->opts.data_len = strlen(optarg);
            break;
        case OPT_DATA_FILE:
            rc = read_data_file(c, optarg);
            if(rc)
                return rc;
            break;
        case 'H':
            if(!strchr(optarg, ':') || optarg[0] == ':' || strpbrk(optarg, "\r\n"))
                return usage_error("--header '%s': expected 'Name: value'", optarg);
            if((rc = add_list(c->headers, &c->nheaders, optarg, "--header")))
                return rc;
            c->opts.headers = c->headers;
            break;
        case OPT_EXPECT_STATUS: {
            vg_error err = {0};
            if(vg_status_set_parse(&c->opts.expect_status, optarg, &err))
                return usage_error("--expect-status: %s", err.msg);
            break;
        }
        case OPT_EXPECT_BODY: c->opts.expect_body = optarg; break;
        case 'L': c->opts.follow = true; break;
        case OPT_MAX_REDIRECTS:
            if(!cli_parse_u64(optarg, 0, 100, &v))
                return usage_error("--max-redirects '%s': expected 0 to 100", optarg);
            c->opts.max_redirects = (long)v;
            c->opts.follow = true;
            break;
        case OPT_MAX_BODY:
            if(!parse_size(optarg, &sz))
                return usage_error("--max-body '%s': expected a size such as 64K or 1M (at most 1G)", optarg);
            c->opts.max_body = sz;
            break;
        case OPT_RESOLVE:
            if(strchr(optarg, ':') == NULL || strchr(strchr(optarg, ':') + 1, ':') == NULL)
                return usage_error("--resolve '%s': expected HOST:PORT:ADDRESS", optarg);
            if((rc = add_list(c->resolve, &c->nresolve, optarg, "--resolve")))
                return rc;
            c->opts.resolve = c->resolve;
            break;
        case OPT_PROXY: c->opts.proxy = optarg; break;
        case OPT_PROXY_ENV: c->opts.proxy_from_env = true; break;
        case OPT_UA: c->opts.user_agent = optarg; break;
        case 'k': c->opts.insecure = true; break;
        case OPT_CACERT:
        case OPT_CERT:
        case OPT_KEY:
            if(access(optarg, R_OK) != 0)
                return usage_error("%s '%s': %s", optname(opt), optarg, strerror(errno));
            if(opt == OPT_CACERT)
                c->opts.cacert = optarg;
            else if(opt == OPT_CERT)
                c->opts.client_cert = optarg;
            else
                c->opts.client_key = optarg;
            break;
        case OPT_SNI: c->opts.sni = optarg; break;
        case OPT_CERT_WARN:
        case OPT_CERT_CRIT:
            if(!cli_parse_u64(optarg, 0, 36500, &v))
                return usage_error("%s '%s': expected a number of days", optname(opt), optarg);
            if(opt == OPT_CERT_WARN)
                c->opts.cert_warn_days = (int)v;
            else
                c->opts.cert_crit_days = (int)v;
            break;
        case OPT_EXPECT_VERSION: c->opts.expect_version = optarg; break;
        case OPT_EXPECT_HOSTKEY: {
            char *dup = strdup(optarg), *save = NULL;
            if(!keep(c, dup))
                return usage_error("out of memory");
            for(char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if((rc = add_list(c->hostkeys, &c->nhostkeys, tok, "--expect-hostkey")))
                    return rc;
            c->opts.expect_hostkey = c->hostkeys;
            break;
        }
        case OPT_SEND: {
            char *buf = malloc(strlen(optarg) + 1);
            long n;
            if(!keep(c, buf))
                return usage_error("out of memory");
            n = vg_unescape(buf, strlen(optarg), optarg);
            if(n < 0)
                return usage_error("--send '%s': bad escape (use \\r \\n \\t \\0 \\\\ \\xNN)", optarg);
            c->opts.send = buf;
            c->opts.send_len = (size_t)n;
            break;
        }
        case OPT_EXPECT: c->opts.expect = optarg; break;
        case OPT_MAX_READ:
            if(!parse_size(optarg, &sz) || sz > (16u << 20))
                return usage_error("--max-read '%s': expected a size such as 4K (at most 16M)", optarg);
            c->opts.max_read = sz;
            break;
        case OPT_TIMEOUT:
        case OPT_CHECK_TIMEOUT:
        case OPT_INTERVAL:
        case OPT_RETRY_DELAY:
            if(!cli_parse_duration_ms(optarg, &v) || (v == 0 && opt != OPT_RETRY_DELAY) || v > 86400000)
                return usage_error("%s '%s': expected a duration such as 500ms, 2s or 1m", optname(opt), optarg);
            if(opt == OPT_TIMEOUT) {
                c->wait_timeout_ms = v;
                c->have_timeout = true;
            }
            else if(opt == OPT_CHECK_TIMEOUT)
                c->check_timeout_ms = v;
            else if(opt == OPT_INTERVAL)
                c->interval_ms = v;
            else
                c->opts.retry_delay_ms = (uint32_t)v;
            break;
        case OPT_WARN:
        case OPT_CRIT:
            if((rc = parse_limits(c, optarg, opt == OPT_CRIT)))
                return rc;
            break;
        case OPT_RETRIES:
            if(!cli_parse_u64(optarg, 0, 100, &v))
                return usage_error("--retries '%s': expected 0 to 100", optarg);
            c->opts.retries = (unsigned)v;
            break;
        case OPT_RETRY_WARN: c->opts.retry_is_warning = true; break;
        case OPT_ON_TIMEOUT:
            if((rc = parse_state_arg("--on-timeout", optarg, &c->opts.on_timeout)))
                return rc;
            break;
        case OPT_ON_REFUSED:
            if((rc = parse_state_arg("--on-refused", optarg, &c->opts.on_refused)))
                return rc;
            break;
        case '4': c->opts.family = AF_INET; break;
        case '6': c->opts.family = AF_INET6; break;
        case OPT_DNS: c->opts.dns_servers = optarg; break;
        case OPT_CONC:
            if(!cli_parse_u64(optarg, 1, 100000, &v))
                return usage_error("--concurrency '%s': expected 1 to 100000", optarg);
            c->concurrency = (unsigned)v;
            break;
        case OPT_WAIT: c->wait = true; break;
        case 'o':
            if((rc = add_output(c, optarg)))
                return rc;
            break;
        case 'v': c->verbose++; break;
        case 'q': c->quiet = true; break;
        /* --- checks files, --watch, openmetrics --- */
        case 'f': c->file = optarg; break;
        case OPT_WATCH:
            if(!cli_parse_duration_ms(optarg, &v) || v < 10 || v > 86400000)
                return usage_error("--watch '%s': expected an interval such as 10s or 1m", optarg);
            c->watch_ms = v;
            break;
        /* --- end of checks files, --watch, openmetrics --- */
        /* --- dns://, icmp:// --- */
        case OPT_EXPECT_ANSWER: {
            char *dup = strdup(optarg), *save = NULL;
            if(!keep(c, dup))
                return usage_error("out of memory");
            for(char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if((rc = add_list(c->answers, &c->nanswers, tok, "--expect-answer")))
                    return rc;
            c->opts.expect_answer = c->answers;
            break;
        }
        case OPT_EXPECT_ALL: c->opts.expect_all = true; break;
        case OPT_EXPECT_RCODE: {
            char buf[256], *save = NULL;
            if(strlen(optarg) >= sizeof(buf))
                return usage_error("--expect-rcode: list too long");
            memcpy(buf, optarg, strlen(optarg) + 1);
            c->opts.expect_rcodes = 0;
            for(char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                int rcode = vg_dns_rcode_parse(tok);
                if(rcode < 0)
                    return usage_error("--expect-rcode '%s': expected NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...", tok);
                c->opts.expect_rcodes |= 1u << rcode;
            }
            break;
        }
        case OPT_EXPECT_AUTH: c->opts.expect_authoritative = true; break;
        case OPT_COUNT:
            if(!cli_parse_u64(optarg, 1, 100, &v))
                return usage_error("--count '%s': expected 1 to 100", optarg);
            c->opts.icmp_count = (unsigned)v;
            break;
        case OPT_PING_INTERVAL:
            if(!cli_parse_duration_ms(optarg, &v) || v < 10 || v > 60000)
                return usage_error("--ping-interval '%s': expected 10ms to 1m", optarg);
            c->opts.icmp_interval_ms = (uint32_t)v;
            break;
        case OPT_WARN_LOSS:
        case OPT_CRIT_LOSS: {
            char pct[16];
            size_t pl = strlen(optarg);
            if(pl && pl < sizeof(pct) && optarg[pl - 1] == '%')
                pl--;
            if(pl == 0 || pl >= sizeof(pct))
                return usage_error("%s '%s': expected a percentage 0 to 100", optname(opt), optarg);
            memcpy(pct, optarg, pl);
            pct[pl] = '\0';
            if(!cli_parse_u64(pct, 0, 100, &v))
                return usage_error("%s '%s': expected a percentage 0 to 100", optname(opt), optarg);
            if(opt == OPT_WARN_LOSS)
                c->opts.warn_loss_pct = (int)v;
            else
                c->opts.crit_loss_pct = (int)v;
            break;
        }
        case OPT_STEP:
            if((rc = add_list(c->steps, &c->nsteps, optarg, "--step")))
                return rc;
            c->opts.steps = c->steps;
            break;
        case OPT_ALL_ADDRESSES: c->opts.all_addresses = true; break;
        case OPT_POLICY:
            if(!strcasecmp(optarg, "all"))
                c->opts.policy = VG_POLICY_ALL;
            else if(!strcasecmp(optarg, "any"))
                c->opts.policy = VG_POLICY_ANY;
            else
                return usage_error("--policy '%s': expected any or all", optarg);
            break;
        /* --- end of dns://, icmp:// --- */
        case 'h': check_usage(stdout); return -1;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    c->targets = argv + optind;
    c->ntargets = argc - optind;
    if(!c->ntargets && !c->file)
        return usage_error("no targets given");
    if(c->ntargets && c->file)
        return usage_error("give targets either on the command line or with -f, not both");
    if(c->watch_ms && c->wait)
        return usage_error("--watch and --wait cannot be combined");
    if(c->cmd && !c->wait)
        return usage_error("a command after -- needs --wait");
    if(c->cmd && !c->cmd[0])
        return usage_error("no command after --");
    if(!c->wait && (c->interval_ms || c->check_timeout_ms))
        return usage_error("--interval and --check-timeout need --wait");
    if(c->wait) {
        if(!c->have_timeout)
            c->wait_timeout_ms = 60000;
        if(!c->interval_ms)
            c->interval_ms = 1000;
        if(!c->check_timeout_ms)
            c->check_timeout_ms = 5000;
        c->opts.timeout_ms = (uint32_t)(c->check_timeout_ms < c->wait_timeout_ms ? c->check_timeout_ms
                                                                                   : c->wait_timeout_ms);
    }
    else if(c->have_timeout)
        c->opts.timeout_ms = (uint32_t)(c->wait_timeout_ms > 86400000 ? 86400000 : c->wait_timeout_ms);
    if(!c->nouts && !c->wait)
        return add_output(c, "text");
    return 0;
}

static int open_outputs(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!o->path || !strcmp(o->path, "-")) {
            o->fp = stdout;
            o->is_stdout = true;
        }
        else {
            o->fp = om_atomic(o) ? om_open_tmp(o) : fopen(o->path, "w");
            if(!o->fp) {
                fprintf(stderr, PROG " check: cannot write '%s': %s\n", o->path, strerror(errno));
                return EXIT_CHECK_UNKNOWN;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        o->out->verbose = c->verbose;
    }
    return 0;
}

static void output_failed(struct check_cli *c, struct out_spec *o)
{
    if(o->is_stdout)
        c->stdout_broken = true;
    else if(!c->io_error) {
        fprintf(stderr, PROG " check: writing '%s' failed: %s\n", o->path, strerror(errno));
        c->io_error = true;
    }
}

static void emit_result(struct check_cli *c, const vg_check_result *r)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_check_output_result(o->out, r) || vg_check_output_flush(o->out))
            output_failed(c, o);
    }
}

static void on_result(const vg_check_result *r, void *ud)
{
    struct check_cli *c = ud;
    if(r->state >= 0 && r->state <= 3)
        c->sum.count[r->state]++;
    emit_result(c, r);
}

/* A reader that went away (`vigia check ... | head -1`) shows as POLLERR on
 * our end of the pipe; notice it without waiting for the next record. */
static void watch_stdout(struct check_cli *c)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    bool uses = false;
    for(int i = 0; i < c->nouts; i++)
        uses = uses || c->outs[i].is_stdout;
    if(uses && !c->stdout_broken && poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)))
        c->stdout_broken = true;
}

static int exit_for(const vg_check_summary *s)
{
    if(s->count[VG_CHECK_CRITICAL])
        return EXIT_CHECK_CRITICAL;
    if(s->count[VG_CHECK_WARNING])
        return EXIT_CHECK_WARNING;
    if(s->count[VG_CHECK_UNKNOWN])
        return EXIT_CHECK_UNKNOWN;
    return EXIT_CHECK_OK;
}

/* Builds a checker for the targets with keep[i] set. */
static int build_checker(struct check_cli *c, vg_checker **out, const bool *want, vg_error *err)
{
    vg_checker_opts co = {.concurrency = c->concurrency};
    int rc = vg_checker_new(out, &co, err);
    if(rc)
        return rc;
    for(int i = 0; i < c->ntargets; i++) {
        if(want && !want[i])
            continue;
        rc = vg_checker_add_named(*out, c->names ? c->names[i] : NULL, c->targets[i],
                                  c->item_opts ? c->item_opts[i] : &c->opts, NULL, err);
        if(rc)
            return rc;
    }
    return VG_OK;
}

static void begin_outputs(struct check_cli *c, const char *mode)
{
    vg_check_info info = {
        .version = VIGIA_VERSION,
        .mode = mode,
        .n_checks = (size_t)c->ntargets,
        .timeout_ms = c->wait ? (uint32_t)c->wait_timeout_ms : c->opts.timeout_ms,
        .start_time = cli_unix_time(),
    };
    for(int i = 0; i < c->nouts; i++)
        if(vg_check_output_begin(c->outs[i].out, &info) || vg_check_output_flush(c->outs[i].out))
            output_failed(c, &c->outs[i]);
}

static void end_outputs(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(c->watch_ms && is_om(o))
            continue; /* --watch wrote it after each round */
        if(vg_check_output_end(o->out, &c->sum) || vg_check_output_flush(o->out))
            output_failed(c, o);
        else if(o->tmp_path && om_commit(o))
            output_failed(c, o);
    }
}

/* A run cut short: 128 + the signal that stopped it (SIGPIPE when stdout's
 * reader went away), named in the summary. */
static int stop_status(struct check_cli *c)
{
    int sig = cli_stop_signal(c->stdout_broken);
    c->sum.signal = cli_signal_name(sig);
    return 128 + sig;
}

static int run_once(struct check_cli *c)
{
    vg_checker *ck = NULL;
    vg_error err = {0};
    int rc;
    bool stopped = false;
    double t0 = cli_unix_time();

    rc = build_checker(c, &ck, NULL, &err);
    if(rc) {
        vg_checker_free(ck);
        return usage_error("%s", err.msg);
    }
    rc = vg_checker_start(ck, &err);
    if(rc) {
        vg_checker_free(ck);
        fprintf(stderr, PROG " check: %s\n", err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "once");
    for(;;) {
        rc = vg_checker_poll(ck, 100, on_result, c, &err);
        if(rc < 0) {
            fprintf(stderr, PROG " check: %s\n", err.msg);
            vg_checker_stop(ck);
            stopped = true;
            continue;
        }
        if(rc == 1)
            break;
        watch_stdout(c);
        if(!stopped && (cli_interrupted || c->stdout_broken)) {
            vg_checker_stop(ck);
            stopped = true;
        }
    }
    vg_checker_free(ck);
    c->sum.interrupted = stopped && (cli_interrupted || c->stdout_broken);
    c->sum.elapsed_s = cli_unix_time() - t0;
    c->sum.end_time = cli_unix_time();
    c->sum.exit_code = c->sum.interrupted ? stop_status(c) : exit_for(&c->sum);
    end_outputs(c);
    return c->sum.exit_code;
}

/* --- --wait ------------------------------------------------------------------ */

struct wait_slot {
    vg_check_result last;
    char target[2048];
    char kind[16];
    char host[256];
    char name[256];             /* -f */
    bool have;
    bool ok;
};

struct wait_round {
    struct check_cli *c;
    struct wait_slot *slots;
    int *map;                   /* checker index -> target index */
};

static void wait_on_result(const vg_check_result *r, void *ud)
{
    struct wait_round *w = ud;
    struct wait_slot *s = &w->slots[w->map[r->index]];
    s->last = *r;
    snprintf(s->target, sizeof(s->target), "%s", r->target);
    snprintf(s->kind, sizeof(s->kind), "%s", r->kind);
    snprintf(s->host, sizeof(s->host), "%s", r->host);
    s->last.target = s->target;
    s->last.kind = s->kind;
    s->last.host = s->host;
    snprintf(s->name, sizeof(s->name), "%s", r->name ? r->name : "");
    s->last.name = r->name ? s->name : NULL;
    s->have = true;
    s->ok = r->state == VG_CHECK_OK;
}

static void wait_progress(struct check_cli *c, struct wait_slot *slots, double elapsed, bool tty, bool final,
                          bool timed_out)
{
    int ready = 0, first_bad = -1;
    char target[120];
    for(int i = 0; i < c->ntargets; i++) {
        if(slots[i].ok)
            ready++;
        else if(first_bad < 0)
            first_bad = i;
    }
    if(c->quiet)
        return;
    if(tty)
        fputs("\r\033[K", stderr);
    if(final && !timed_out && ready == c->ntargets) {
        fprintf(stderr, PROG " check: all %d ready after %.1fs\n", c->ntargets, elapsed);
        return;
    }
    if(first_bad >= 0) {
        const vg_check_result *r = &slots[first_bad].last;
        vg_escape(target, sizeof(target), c->targets[first_bad], strlen(c->targets[first_bad]));
        fprintf(stderr, "%s%d/%d ready after %.1fs; waiting for %s (%s)%s",
                final ? PROG " check: gave up: " : "waiting: ", ready, c->ntargets, elapsed, target,
                slots[first_bad].have ? vg_check_reason_name(r->reason) : "not checked yet",
                final || !tty ? "\n" : "");
    }
    fflush(stderr);
}

static bool sleep_interruptible(uint64_t ms)
{
    uint64_t end = (uint64_t)(cli_unix_time() * 1000) + ms;
    while(!cli_interrupted) {
        uint64_t now = (uint64_t)(cli_unix_time() * 1000);
        if(now >= end)
            return true;
        poll(NULL, 0, (int)(end - now > 100 ? 100 : end - now));
    }
    return false;
}

static int run_wait(struct check_cli *c)
{
    struct wait_slot *slots = calloc((size_t)c->ntargets, sizeof(*slots));
    bool *want = calloc((size_t)c->ntargets, sizeof(*want));
    int *map = calloc((size_t)c->ntargets, sizeof(*map));
    double t0 = cli_unix_time();
    bool tty = isatty(STDERR_FILENO);
    bool timed_out = false, interrupted = false, all_ok = false;
    int status;
    char last_line[64] = "";

    if(!slots || !want || !map) {
        free(slots);
        free(want);
        free(map);
        fprintf(stderr, PROG " check: out of memory\n");
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "wait");
    for(;;) {
        vg_checker *ck = NULL;
        vg_error err = {0};
        struct wait_round w = {c, slots, map};
        double elapsed = cli_unix_time() - t0;
        double left_ms = (double)c->wait_timeout_ms - elapsed * 1000.0;
        int n = 0, rc;

        if(left_ms <= 0) {
            timed_out = true;
            break;
        }
        for(int i = 0; i < c->ntargets; i++) {
            want[i] = !slots[i].ok;
            if(want[i])
                map[n++] = i;
        }
        /* Each attempt ends by the overall deadline. */
        c->opts.timeout_ms = (uint32_t)(c->check_timeout_ms < (uint64_t)left_ms ? c->check_timeout_ms
                                                                                : (uint64_t)left_ms + 1);
        for(int i = 0; c->item_opts && i < c->ntargets; i++) /* -f */
            c->item_opts[i]->timeout_ms = c->opts.timeout_ms;
        rc = build_checker(c, &ck, want, &err);
        if(!rc)
            rc = vg_checker_start(ck, &err);
        if(rc) {
            vg_checker_free(ck);
            fprintf(stderr, PROG " check: %s\n", err.msg);
            free(slots);
            free(want);
            free(map);
            return EXIT_CHECK_UNKNOWN;
        }
        for(;;) {
            rc = vg_checker_poll(ck, 100, wait_on_result, &w, &err);
            if(rc != 0)
                break;
            if(cli_interrupted)
                vg_checker_stop(ck);
        }
        vg_checker_free(ck);
        if(cli_interrupted) {
            interrupted = true;
            break;
        }
        all_ok = true;
        for(int i = 0; i < c->ntargets; i++)
            all_ok = all_ok && slots[i].ok;
        if(all_ok)
            break;
        elapsed = cli_unix_time() - t0;
        if(tty)
            wait_progress(c, slots, elapsed, true, false, false);
        else {
            /* Without a terminal, a line only when the picture changes. */
            char line[64];
            int ready = 0, first = -1;
            for(int i = 0; i < c->ntargets; i++) {
                ready += slots[i].ok;
                if(!slots[i].ok && first < 0)
                    first = i;
            }
            snprintf(line, sizeof(line), "%d/%d/%d", ready, first, first >= 0 ? slots[first].last.reason : 0);
            if(strcmp(line, last_line)) {
                wait_progress(c, slots, elapsed, false, false, false);
                snprintf(last_line, sizeof(last_line), "%s", line);
            }
        }
        left_ms = (double)c->wait_timeout_ms - elapsed * 1000.0;
        if(left_ms <= 0) {
            timed_out = true;
            break;
        }
        if(!sleep_interruptible(c->interval_ms < (uint64_t)left_ms ? c->interval_ms : (uint64_t)left_ms)) {
            interrupted = true;
            break;
        }
    }
    interrupted = interrupted || cli_interrupted; /* a signal as the last check passed */
    wait_progress(c, slots, cli_unix_time() - t0, tty, true, timed_out || interrupted);
    for(int i = 0; i < c->ntargets; i++) {
        if(!slots[i].have)
            continue;
        c->sum.count[slots[i].last.state]++;
        slots[i].last.index = (size_t)i;
        emit_result(c, &slots[i].last);
    }
    c->sum.timed_out = timed_out;
    c->sum.interrupted = interrupted;
    c->sum.signal = interrupted ? cli_signal_name(cli_stop_signal(false)) : NULL;
    c->sum.elapsed_s = cli_unix_time() - t0;
    c->sum.end_time = cli_unix_time();
    status = interrupted ? cli_interrupt_status() : timed_out ? EXIT_CHECK_WAIT_TIMEOUT : EXIT_CHECK_OK;
    c->sum.exit_code = status;
    end_outputs(c);
    free(slots);
    free(want);
    free(map);
    return status;
}

/* --- checks files (-f) -------------------------------------------------------
 * Each check of the file is parsed by parse_args() itself: its keys become
 * "--key=value" arguments (a true flag "--key"), followed by the per-check
 * options given on the command line (so those win over the file, and list
 * options add to it), followed by the target. One code path for flags and
 * files, so every option works in both. Each value is first parsed alone
 * so that an error names its line and column. */

/* Options of the whole run: not per check, not allowed in files. */
static bool is_run_option(int opt)
{
    switch(opt) {
    case 'o': case 'v': case 'q': case 'h': case 'f': case ':': case '?':
    case OPT_WATCH: case OPT_WAIT: case OPT_INTERVAL: case OPT_CHECK_TIMEOUT: case OPT_CONC:
        return true;
    default:
        return false;
    }
}

static const struct option *long_opt_by_val(int val)
{
    for(const struct option *o = long_opts; o->name; o++)
        if(o->val == val)
            return o;
    return NULL;
}

/* Remembers a per-check option of the command line, for -f. */
static int record_cli_opt(struct check_cli *c, int opt)
{
    if(is_run_option(opt) || !long_opt_by_val(opt))
        return 0;
    if(c->ncli_opts == (int)(sizeof(c->cli_opts) / sizeof(c->cli_opts[0])))
        return usage_error("too many options");
    c->cli_opts[c->ncli_opts].opt = opt;
    c->cli_opts[c->ncli_opts].arg = optarg;
    c->ncli_opts++;
    return 0;
}

static int file_key_kind(const char *key, void *ud)
{
    static const char *const lists[] = {"header", "resolve", "expect-hostkey", "expect-answer", "step", NULL};
    (void)ud;
    for(const struct option *o = long_opts; o->name; o++) {
        if(strcmp(o->name, key))
            continue;
        if(is_run_option(o->val))
            return VG_CHECKFILE_UNKNOWN;
        if(o->has_arg == no_argument)
            return VG_CHECKFILE_FLAG;
        for(int i = 0; lists[i]; i++)
            if(!strcmp(lists[i], key))
                return VG_CHECKFILE_LIST;
        return VG_CHECKFILE_VALUE;
    }
    return VG_CHECKFILE_UNKNOWN;
}

/* Keeps s (allocated) until exit: parsed options point into it. */
static char *keep_str(struct check_cli *c, char *s)
{
    if(!s)
        return NULL;
    if(c->nkept == c->capkept) {
        size_t cap = c->capkept ? c->capkept * 2 : 64;
        char **v = realloc(c->kept, cap * sizeof(*v));
        if(!v) {
            free(s);
            return NULL;
        }
        c->kept = v;
        c->capkept = cap;
    }
    c->kept[c->nkept++] = s;
    return s;
}

__attribute__((format(printf, 2, 3)))
static char *kept_printf(struct check_cli *c, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;
    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : keep_str(c, s);
}

static void free_sub(struct check_cli *t)
{
    if(!t)
        return;
    for(int i = 0; i < t->nouts; i++)
        vg_check_output_free(t->outs[i].out);
    for(int i = 0; i < t->nowned; i++)
        free(t->owned[i]);
    free(t);
}

static struct check_cli *new_sub(void)
{
    struct check_cli *t = calloc(1, sizeof(*t));
    if(t)
        vg_check_opts_default(&t->opts);
    return t;
}

/* parse_args() on argv as a check of the file; where names the position. */
static int parse_sub(struct check_cli *t, int argc, char **argv, const char *where)
{
    int rc;
    usage_where = where;
    rc = parse_args(t, argc, argv);
    usage_where = NULL;
    /* The default text output parse_args adds is not the sub's to use. */
    for(int i = 0; i < t->nouts; i++)
        vg_check_output_free(t->outs[i].out);
    t->nouts = 0;
    return rc < 0 ? EXIT_CHECK_UNKNOWN : rc;
}

static char *read_whole_file(const char *path, size_t max, size_t *len, int *err)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    size_t n;
    if(!fp) {
        *err = errno;
        return NULL;
    }
    buf = malloc(max + 1);
    if(!buf) {
        fclose(fp);
        *err = ENOMEM;
        return NULL;
    }
    n = fread(buf, 1, max + 1, fp);
    *err = ferror(fp) ? EIO : 0;
    fclose(fp);
    if(*err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int load_checks_file(struct check_cli *c)
{
    vg_checkfile *f = NULL;
    vg_checker *scratch = NULL;
    vg_error err = {0};
    size_t len = 0;
    int e = 0, rc = EXIT_CHECK_UNKNOWN;
    char *buf = read_whole_file(c->file, VG_CHECKFILE_MAX_BYTES, &len, &e);
    char **argv = NULL;

    if(!buf)
        return usage_error("-f '%s': %s", c->file, strerror(e));
    if(vg_checkfile_parse(&f, buf, len, file_key_kind, NULL, &err)) {
        free(buf);
        fprintf(stderr, PROG " check: %s:%s\n", c->file, err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    free(buf);
    c->file_targets = calloc(f->n, sizeof(*c->file_targets));
    c->names = calloc(f->n, sizeof(*c->names));
    c->item_opts = calloc(f->n, sizeof(*c->item_opts));
    c->subs = calloc(f->n + 1, sizeof(*c->subs)); /* NULL-terminated */
    if(!c->file_targets || !c->names || !c->item_opts || !c->subs ||
       vg_checker_new(&scratch, NULL, &err)) {
        usage_error("out of memory");
        goto out;
    }
    for(size_t i = 0; i < f->n; i++) {
        const vg_checkfile_entry *ent = &f->checks[i];
        int argc = 0;
        char where[300];
        struct check_cli *t;

        free(argv);
        argv = calloc(ent->nopts + (size_t)c->ncli_opts + 3, sizeof(*argv));
        if(!argv) {
            usage_error("out of memory");
            goto out;
        }
        argv[argc++] = (char *)"check";
        for(size_t k = 0; k < ent->nopts; k++) {
            const vg_checkfile_opt *o = &ent->opts[k];
            int kind = file_key_kind(o->key, NULL);
            char *arg;
            char *one[4];
            if(kind == VG_CHECKFILE_FLAG && !strcmp(o->value, "false"))
                continue;
            arg = kind == VG_CHECKFILE_FLAG ? kept_printf(c, "--%s", o->key)
                                            : kept_printf(c, "--%s=%s", o->key, o->value);
            t = new_sub();
            if(!arg || !t) {
                free(t);
                usage_error("out of memory");
                goto out;
            }
            one[0] = (char *)"check";
            one[1] = arg;
            one[2] = (char *)"127.0.0.1:1";
            one[3] = NULL;
            snprintf(where, sizeof(where), "%s:%u:%u", c->file, o->line, o->col);
            rc = parse_sub(t, 3, one, where);
            free_sub(t);
            if(rc)
                goto out;
            rc = EXIT_CHECK_UNKNOWN;
            argv[argc++] = arg;
        }
        for(int k = 0; k < c->ncli_opts; k++) {
            const struct option *lo = long_opt_by_val(c->cli_opts[k].opt);
            char *arg;
            if(c->cli_opts[k].opt >= OPT_PHASE_WARN && c->cli_opts[k].opt < OPT_PHASE_CRIT + VG_PHASE__COUNT)
                arg = kept_printf(c, "%s=%s", optname(c->cli_opts[k].opt), c->cli_opts[k].arg);
            else if(lo->has_arg == no_argument)
                arg = kept_printf(c, "--%s", lo->name);
            else
                arg = kept_printf(c, "--%s=%s", lo->name, c->cli_opts[k].arg);
            if(!arg) {
                usage_error("out of memory");
                goto out;
            }
            argv[argc++] = arg;
        }
        c->file_targets[i] = keep_str(c, strdup(ent->target));
        c->names[i] = keep_str(c, strdup(ent->name));
        t = c->subs[i] = new_sub();
        if(!c->file_targets[i] || !c->names[i] || !t) {
            usage_error("out of memory");
            goto out;
        }
        argv[argc++] = c->file_targets[i];
        snprintf(where, sizeof(where), "%s:%u:%u", c->file, ent->line, ent->col);
        rc = parse_sub(t, argc, argv, where);
        if(rc)
            goto out;
        rc = EXIT_CHECK_UNKNOWN;
        c->item_opts[i] = &t->opts;
        /* Targets and option combinations, checked now to name the line. */
        if(vg_checker_add_named(scratch, ent->name, ent->target, &t->opts, NULL, &err)) {
            fprintf(stderr, PROG " check: %s: %s\n", where, err.msg);
            goto out;
        }
    }
    c->targets = c->file_targets;
    c->ntargets = (int)f->n;
    rc = 0;
out:
    free(argv);
    vg_checker_free(scratch);
    vg_checkfile_free(f);
    return rc;
}

static void free_file_state(struct check_cli *c)
{
    for(size_t i = 0; c->subs && c->subs[i]; i++)
        free_sub(c->subs[i]);
    free(c->subs);
    free(c->file_targets);
    free(c->names);
    free(c->item_opts);
    for(size_t i = 0; i < c->nkept; i++)
        free(c->kept[i]);
    free(c->kept);
}
/* --- end of checks files --- */

/* --- openmetrics=FILE, written atomically ----------------------------------- */

static bool is_om(const struct out_spec *o)
{
    return o->out && !strcmp(o->out->type->name, "openmetrics");
}

/* openmetrics=FILE is replaced atomically (FILE.tmp renamed over it) when
 * FILE is a regular file or does not exist yet; anything else (/dev/null,
 * a FIFO, a terminal) is written in place: renaming over it would replace
 * the device or pipe with a file. */
static bool om_atomic(const struct out_spec *o)
{
    struct stat st;
    if(!is_om(o) || !o->path)
        return false;
    if(stat(o->path, &st) != 0)
        return errno == ENOENT;
    return S_ISREG(st.st_mode);
}

/* FILE.tmp next to FILE, so that the rename stays on one file system. */
static FILE *om_open_tmp(struct out_spec *o)
{
    if(!o->tmp_path && asprintf(&o->tmp_path, "%s.tmp", o->path) < 0) {
        o->tmp_path = NULL;
        errno = ENOMEM;
        return NULL;
    }
    return fopen(o->tmp_path, "w");
}

/* FILE.tmp is complete: flush, fsync, rename over FILE. A reader (node
 * exporter's textfile collector) sees the old file or the new one, never a
 * half-written one. */
static int om_commit(struct out_spec *o)
{
    int rc = 0;
    if(!o->fp)
        return -1;
    if(fflush(o->fp) != 0 || fsync(fileno(o->fp)) != 0)
        rc = -1;
    if(fclose(o->fp) != 0)
        rc = -1;
    o->fp = NULL;
    o->out->fp = NULL; /* no stream till the next round opens FILE.tmp */
    o->owns_fp = false;
    if(!rc && rename(o->tmp_path, o->path) != 0)
        rc = -1;
    if(rc)
        unlink(o->tmp_path);
    return rc;
}

/* After a --watch round: each openmetrics output writes the round's records. */
static void om_round(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!is_om(o) || (o->is_stdout && c->stdout_broken))
            continue;
        if(o->tmp_path && !o->fp) {
            o->fp = om_open_tmp(o);
            if(!o->fp) {
                output_failed(c, o);
                continue;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        if(vg_check_output_end(o->out, &c->sum) || vg_check_output_flush(o->out) ||
           (o->tmp_path && om_commit(o)))
            output_failed(c, o);
    }
}

/* A run that ended early leaves no FILE.tmp behind. */
static void om_cleanup(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->tmp_path && o->fp) {
            fclose(o->fp);
            o->fp = NULL;
            o->owns_fp = false;
            unlink(o->tmp_path);
        }
        free(o->tmp_path);
        o->tmp_path = NULL;
    }
}

/* --- --watch ---------------------------------------------------------------------
 * One unordered checker for the whole run: every INTERVAL each check that
 * has finished is re-run on the same loop (a round; a slow round delays the
 * next rather than overlapping it). Text and NDJSON get state changes only;
 * openmetrics gets every round. On Ctrl-C: a summary per check and the
 * worst current state as the exit status. */

#define WATCH_RESERVOIR 1024 /* samples per phase kept for the p95 */

struct watch_phase {
    unsigned n;
    int64_t min, max;
    double sum;
    int64_t *sample;            /* reservoir, WATCH_RESERVOIR */
};

struct watch_check {
    int state;                  /* -1: no result yet */
    int reason;
    double since;               /* when the current state began */
    double state_s[4];
    unsigned runs;
    struct watch_phase ph[VG_PHASE__COUNT];
};

struct watch_run {
    struct check_cli *c;
    struct watch_check *w;
    const char **kinds;         /* per check, for the summary (copied) */
    char **kind_buf;
    bool stopping;
    uint64_t rng;
};

static uint64_t watch_rand(struct watch_run *wr)
{
    /* xorshift64: reservoir sampling needs no quality beyond this */
    wr->rng ^= wr->rng << 13;
    wr->rng ^= wr->rng >> 7;
    wr->rng ^= wr->rng << 17;
    return wr->rng;
}

static void watch_sample(struct watch_run *wr, struct watch_phase *ph, int64_t v)
{
    if(!ph->sample && !(ph->sample = malloc(WATCH_RESERVOIR * sizeof(*ph->sample))))
        return;
    if(!ph->n || v < ph->min)
        ph->min = v;
    if(!ph->n || v > ph->max)
        ph->max = v;
    ph->sum += (double)v;
    if(ph->n < WATCH_RESERVOIR)
        ph->sample[ph->n] = v;
    else {
        uint64_t j = watch_rand(wr) % ((uint64_t)ph->n + 1);
        if(j < WATCH_RESERVOIR)
            ph->sample[j] = v;
    }
    ph->n++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t watch_p95(const struct watch_phase *ph)
{
    unsigned n = ph->n < WATCH_RESERVOIR ? ph->n : WATCH_RESERVOIR;
    int64_t tmp[WATCH_RESERVOIR], idx;
    if(!n || !ph->sample)
        return -1;
    memcpy(tmp, ph->sample, n * sizeof(*tmp));
    qsort(tmp, n, sizeof(*tmp), cmp_i64);
    idx = (int64_t)((n * 95 + 99) / 100) - 1; /* nearest rank */
    return tmp[idx < 0 ? 0 : idx];
}

static void watch_on_result(const vg_check_result *r, void *ud)
{
    struct watch_run *wr = ud;
    struct check_cli *c = wr->c;
    struct watch_check *w = &wr->w[r->index];
    double now = cli_unix_time();
    int previous = w->state;

    /* Ctrl-C ends checks in flight: that is no state of the service. */
    if(wr->stopping && r->reason == VG_CR_INTERRUPTED)
        return;
    if(!wr->kind_buf[r->index])
        wr->kind_buf[r->index] = strdup(r->kind);
    w->runs++;
    for(int p = 0; p < VG_PHASE__COUNT; p++)
        if(r->phase_us[p] >= 0)
            watch_sample(wr, &w->ph[p], r->phase_us[p]);
    if(previous >= 0)
        w->state_s[previous] += now - w->since;
    w->since = now;
    w->state = r->state;
    w->reason = r->reason;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        int rc;
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(is_om(o))
            rc = vg_check_output_result(o->out, r);
        else if(previous != r->state)
            rc = vg_check_output_change(o->out, r, previous) || vg_check_output_flush(o->out);
        else
            continue;
        if(rc)
            output_failed(c, o);
    }
}

static int run_watch(struct check_cli *c)
{
    vg_checker_opts co = {.concurrency = c->concurrency, .unordered = true};
    struct watch_run wr = {.c = c, .rng = 0x9e3779b97f4a7c15ull};
    vg_checker *ck = NULL;
    vg_error err = {0};
    double t0 = cli_unix_time(), next_round = t0, end;
    bool stopped = false, in_round = false;
    unsigned rounds = 0;
    int rc, worst = -1, status;

    wr.w = calloc((size_t)c->ntargets, sizeof(*wr.w));
    wr.kind_buf = calloc((size_t)c->ntargets, sizeof(*wr.kind_buf));
    if(!wr.w || !wr.kind_buf) {
        free(wr.w);
        free(wr.kind_buf);
        fprintf(stderr, PROG " check: out of memory\n");
        return EXIT_CHECK_UNKNOWN;
    }
    for(int i = 0; i < c->ntargets; i++)
        wr.w[i].state = -1;
    rc = vg_checker_new(&ck, &co, &err);
    for(int i = 0; !rc && i < c->ntargets; i++)
        rc = vg_checker_add_named(ck, c->names ? c->names[i] : NULL, c->targets[i],
                                  c->item_opts ? c->item_opts[i] : &c->opts, NULL, &err);
    if(rc) {
        vg_checker_free(ck);
        free(wr.w);
        free(wr.kind_buf);
        return usage_error("%s", err.msg);
    }
    rc = vg_checker_start(ck, &err);
    if(rc) {
        vg_checker_free(ck);
        free(wr.w);
        free(wr.kind_buf);
        fprintf(stderr, PROG " check: %s\n", err.msg);
        return EXIT_CHECK_UNKNOWN;
    }
    begin_outputs(c, "watch");
    for(;;) {
        double now = cli_unix_time();
        int wait_ms = 100;
        watch_stdout(c);
        if(!stopped && (cli_interrupted || c->stdout_broken)) {
            wr.stopping = true;
            vg_checker_stop(ck);
            stopped = true;
        }
        if(!stopped && !in_round && now >= next_round) {
            for(int i = 0; rounds && i < c->ntargets; i++)
                vg_checker_rerun(ck, (size_t)i, NULL);
            rounds++;
            in_round = true;
            next_round += (double)c->watch_ms / 1000.0;
            if(next_round < now)
                next_round = now + (double)c->watch_ms / 1000.0;
        }
        if(!in_round && !stopped) {
            double left = (next_round - now) * 1000.0;
            wait_ms = left < 100 ? (left < 1 ? 1 : (int)left) : 100;
        }
        rc = vg_checker_poll(ck, wait_ms, watch_on_result, &wr, &err);
        if(rc < 0) {
            fprintf(stderr, PROG " check: %s\n", err.msg);
            if(!stopped) {
                wr.stopping = true;
                vg_checker_stop(ck);
                stopped = true;
            }
            continue;
        }
        if(rc == 1 && in_round) {
            in_round = false;
            if(!stopped)
                om_round(c);
        }
        if(stopped && rc == 1)
            break;
        if(rc == 1 && !in_round)
            poll(NULL, 0, wait_ms); /* nothing in flight: sleep till the next round */
    }
    vg_checker_free(ck);
    end = cli_unix_time();
    for(int i = 0; i < c->ntargets; i++) {
        struct watch_check *w = &wr.w[i];
        vg_check_watch_stats st;
        memset(&st, 0, sizeof(st));
        if(w->state >= 0) {
            w->state_s[w->state] += end - w->since;
            worst = worst < 0 ? w->state : vg_check_state_worst(worst, w->state);
            c->sum.count[w->state]++;
        }
        else {
            worst = worst < 0 ? VG_CHECK_UNKNOWN : vg_check_state_worst(worst, VG_CHECK_UNKNOWN);
            c->sum.count[VG_CHECK_UNKNOWN]++;
        }
        st.index = (size_t)i;
        st.name = c->names ? c->names[i] : NULL;
        st.target = c->targets[i];
        st.kind = wr.kind_buf[i] ? wr.kind_buf[i] : "";
        st.runs = w->runs;
        st.state = w->state;
        st.reason = w->reason;
        memcpy(st.state_s, w->state_s, sizeof(st.state_s));
        for(int p = 0; p < VG_PHASE__COUNT; p++) {
            const struct watch_phase *ph = &w->ph[p];
            st.phase[p].n = ph->n;
            if(ph->n) {
                st.phase[p].min_us = ph->min;
                st.phase[p].avg_us = (int64_t)(ph->sum / ph->n);
                st.phase[p].p95_us = watch_p95(ph);
            }
        }
        for(int k = 0; k < c->nouts; k++) {
            struct out_spec *o = &c->outs[k];
            if((o->is_stdout && c->stdout_broken) || is_om(o))
                continue;
            if(vg_check_output_watch_summary(o->out, &st) || vg_check_output_flush(o->out))
                output_failed(c, o);
        }
        for(int p = 0; p < VG_PHASE__COUNT; p++)
            free(w->ph[p].sample);
        free(wr.kind_buf[i]);
    }
    free(wr.w);
    free(wr.kind_buf);
    c->sum.interrupted = stopped && (cli_interrupted || c->stdout_broken);
    status = c->sum.interrupted ? stop_status(c) : worst < 0 ? EXIT_CHECK_UNKNOWN : worst;
    c->sum.elapsed_s = end - t0;
    c->sum.end_time = end;
    c->sum.exit_code = status;
    end_outputs(c);
    return status;
}

int cmd_check(int argc, char **argv)
{
    struct check_cli c;
    int status, rc;

    memset(&c, 0, sizeof(c));
    vg_check_opts_default(&c.opts);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = parse_args(&c, argc, argv);
    if(!rc && c.file)
        rc = load_checks_file(&c);
    if(rc) {
        status = rc < 0 ? EXIT_CHECK_OK : rc;
        goto out;
    }
    cli_signals_defer();
    rc = open_outputs(&c);
    if(rc) {
        status = rc;
        goto out;
    }
    cli_raise_nofile();
    status = c.watch_ms ? run_watch(&c) : c.wait ? run_wait(&c) : run_once(&c);
    if(c.io_error && status == EXIT_CHECK_OK)
        status = EXIT_CHECK_UNKNOWN;

out:
    om_cleanup(&c);
    for(int i = 0; i < c.nouts; i++) {
        vg_check_output_free(c.outs[i].out);
        if(c.outs[i].owns_fp && fclose(c.outs[i].fp) != 0 && status == EXIT_CHECK_OK) {
            fprintf(stderr, PROG " check: writing '%s' failed: %s\n", c.outs[i].path, strerror(errno));
            status = EXIT_CHECK_UNKNOWN;
        }
    }
    if(c.wait && status == EXIT_CHECK_OK && c.cmd && cli_interrupted)
        status = cli_interrupt_status(); /* stopped after the summary: no command */
    if(c.wait && status == EXIT_CHECK_OK && c.cmd) {
        fflush(NULL);
        curl_global_cleanup();
        /* The command gets a normal SIGPIPE, not our "ignore". */
        signal(SIGPIPE, SIG_DFL);
        execvp(c.cmd[0], c.cmd);
        fprintf(stderr, PROG " check: cannot run '%s': %s\n", c.cmd[0], strerror(errno));
        status = EXIT_CHECK_EXEC_FAILED;
    }
    for(int i = 0; i < c.nowned; i++)
        free(c.owned[i]);
    free_file_state(&c);
    curl_global_cleanup();
    if(c.stdout_broken && !cli_interrupted) {
        cli_exit_broken_pipe(); /* as scan does */
    }
    return status;
}
