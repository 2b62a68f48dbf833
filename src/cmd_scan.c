/* SPDX-License-Identifier: MIT */
/* `vigia scan`: parses the command line, builds targets and ports, runs the
 * scan, feeds every output, shows progress, and maps the end to an exit
 * status. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "scan_check.h"
#include "vigia/output.h"
#include "util/oui.h"
#include "vigia/scan.h"
#include "vigia_config.h"

#define MAX_OUTPUTS 8

struct out_spec {
    vg_output *out;
    FILE *fp;
    bool is_stdout;
    bool owns_fp;
    const char *path;
};

struct scan_cli {
    vg_targets *targets;
    vg_ports *ports;
    vg_scan_opts opts;
    vg_resolve_opts ropts;
    struct out_spec outs[MAX_OUTPUTS];
    int nouts;
    int verbose;
    bool quiet;
    bool open_only;
    bool stdout_broken;
    int io_error;
    char *targets_desc;
    size_t targets_desc_len;
    char *ports_desc;
    size_t ports_desc_len;
    /* raw engines (-sS, -sU): chosen kinds, and what runs unprivileged */
    bool want_syn, want_udp, want_connect, dry_run;
    const char *user;
    /* host discovery: -sn lists live hosts; -Pn skips discovery */
    bool ping_only, no_ping;
    /* MACs that discovery saw, sorted by address after it: port records
     * of those hosts carry them too */
    struct host_mac *macs;
    size_t nmacs, capmacs;
    /* no discovery because it would cost more than the scan: port answers
     * tell which hosts are up (vg_liveness) */
    vg_liveness *life;
    uint64_t life_skipped;
    /* --check: a service check on every open port (src/scan_check.c) */
    bool check;
    uint32_t check_timeout_ms;
    scan_checks *checks;
};

struct host_mac {
    vg_addr addr;
    uint8_t mac[6];
};

static void scan_usage(FILE *fp)
{
    fprintf(fp,
"Usage: " PROG " scan [OPTIONS] TARGET...\n"
"\n"
"Reports every port of every target as open, closed or filtered, with the\n"
"evidence: reason, round-trip time and number of tries.\n"
"\n"
"Targets: 198.18.0.1  2001:db8::5  fe80::1%%eth0  198.18.0.0/15  2001:db8::/120\n"
"         198.18.0.1-20  198.18.0.1-198.18.1.5  localhost\n"
"  -iL, --input-file FILE   read targets from FILE (one or more per line, # comments)\n"
"  --exclude SPEC[,SPEC]    never scan these\n"
"  --exclude-file FILE      never scan the targets listed in FILE\n"
"  -4, -6                   resolve names to IPv4 / IPv6 only\n"
"  --all-addresses          scan every address of a name (default: the first)\n"
"  --dns-servers A[:P],...  resolve names with these servers, not the system's\n"
"  --allow-special          also scan 0.0.0.0/8, multicast, reserved (240/4) and\n"
"                           broadcast addresses a range merely includes\n"
"\n"
"Ports:\n"
"  -p, --ports SPEC         80  1-1024  22,80,443  ssh,http  - or all (1-65535)\n"
"                           essential (" VG_PORTS_ESSENTIAL ")\n"
"                           well-known (1-1023); default: well-known,essential\n"
"                           T:80,443,U:53,161  TCP and UDP ports (raw scans; a\n"
"                           prefix holds until the next one; without one the\n"
"                           scan kind decides: -sS TCP, -sU UDP, both: both;\n"
"                           no kind given: TCP, and U: ports add a UDP scan)\n"
"\n"
"Engine and timing:\n"
"  -sT, --connect           TCP connect() scan, needs no privileges (default\n"
"                           without CAP_NET_RAW)\n"
"  -sS, --syn               TCP SYN scan with raw packets (default with root or\n"
"                           CAP_NET_RAW)\n"
"  -sU, --udp               UDP scan with protocol payloads (with -sS: both)\n"
"  -e, --interface IFACE    raw scans: send and capture on IFACE only\n"
"  -S, --source ADDR        raw scans: source address (default: the route's)\n"
"  --source-port PORT       raw scans: fixed source port (default: per probe)\n"
"  --user USER              raw scans as root: run as USER once the sockets are\n"
"                           open (default nobody)\n"
"  --dry-run                print the probes in walk order, send nothing (no DNS\n"
"                           either: names from /etc/hosts only)\n"
"  -sn, --ping-only         host discovery only: list the live hosts (with MAC\n"
"                           address and vendor on the local segment)\n"
"  -Pn, --no-ping           raw scans: scan every target, skip host discovery\n"
"                           (ICMP echo, TCP SYN 443 / ACK 80, ARP or neighbour\n"
"                           solicitation on-link); the connect scan never pings\n"
"  --retries N              a fixed number of extra tries for unanswered probes\n"
"                           (default: chosen from the measured loss, so that the\n"
"                           whole scan expects under 0.1 wrong answers)\n"
"  --max-retries N          cap on the adaptive extra tries (default 10)\n"
"  --timeout D              fixed probe timeout (default: adaptive per host)\n"
"  --min-rtt-timeout D      floor of the adaptive timeout (default 50ms)\n"
"  --max-rtt-timeout D      ceiling of the adaptive timeout (default 3s)\n"
"  --initial-rtt-timeout D  timeout before a host has answered (default 1s)\n"
"  --max-rate PPS, --rate PPS  at most PPS probes per second (default: as fast as\n"
"                           the path delivers, measured as the scan goes)\n"
"  --min-rate PPS           never slower than PPS, even when the path seems\n"
"                           congested (with --max-rate equal: a fixed rate)\n"
"  --host-timeout D         give a host's silent ports no more tries after D\n"
"  --defeat-rst-ratelimit   do not wait out a target's RST rate limit: ports it\n"
"                           kept silent are reported closed|filtered\n"
"  -T0..-T5                 nmap's timing templates (paranoid, sneaky, polite,\n"
"                           normal, aggressive, insane); later options override\n"
"  --concurrency N          probes in flight (default: from the open-file limit)\n"
"  --threads N              worker threads (default, at most 4: two per CPU for\n"
"                           the connect scan, one per CPU for raw scans)\n"
"  --seed N                 order of the walk (same seed, same order)\n"
"  --shard I/N              scan only shard I (0-based) of N, e.g. 0/4 .. 3/4\n"
"  Durations take units: 500ms, 2s, 1m; a bare number means seconds.\n"
"\n"
"Service checks:\n"
"  --check                  check the service on every open TCP port as it is\n"
"                           found (22 ssh, 25/587 smtp, 53 dns, 80 http, 143 imap,\n"
"                           443 https, 3306 mysql; other ports: by their banner)\n"
"                           and add the verdict to the port's record\n"
"  --check-timeout D        budget of each check (default 5s)\n"
"\n"
"Output:\n"
"  -o, --output FMT[=FILE]  text or ndjson; repeatable; without =FILE to stdout\n"
"                           instead of the table; FILE '-' is stdout\n"
"  --open                   show only open ports (in every format)\n"
"  -v, --verbose            also list closed and filtered ports\n"
"  -q, --quiet              no progress line on stderr\n"
"  -h, --help               this text\n"
"\n"
"Exit status: 0 scan completed, 1 usage error (bad target, port or option),\n"
"2 runtime error, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP (results\n"
"found so far are written).\n"
"With --check the verdicts are in the records; they do not change the exit status.\n");
}

enum {
    OPT_EXCLUDE = 256, OPT_EXCLUDE_FILE, OPT_ALL_ADDR, OPT_DNS, OPT_CONNECT, OPT_PN,
    OPT_RETRIES, OPT_TIMEOUT, OPT_MIN_RTT, OPT_MAX_RTT, OPT_INIT_RTT, OPT_RATE,
    OPT_CONC, OPT_THREADS, OPT_SEED, OPT_SHARD, OPT_OPEN, OPT_INPUT, OPT_ALLOW_SPECIAL,
    OPT_MAX_RETRIES, OPT_MIN_RATE, OPT_HOST_TIMEOUT, OPT_DEFEAT_RST,
};

/* Options of the raw engines. */
enum {
    OPT_SYN = 400, OPT_UDP, OPT_SOURCE_PORT, OPT_USER, OPT_DRY_RUN, OPT_PING_ONLY,
};

/* --check */
enum { OPT_CHECK = 500, OPT_CHECK_TIMEOUT };

static const struct option long_opts[] = {
    {"syn", no_argument, NULL, OPT_SYN},
    {"udp", no_argument, NULL, OPT_UDP},
    {"interface", required_argument, NULL, 'e'},
    {"source", required_argument, NULL, 'S'},
    {"source-port", required_argument, NULL, OPT_SOURCE_PORT},
    {"user", required_argument, NULL, OPT_USER},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"ping-only", no_argument, NULL, OPT_PING_ONLY},
    {"input-file", required_argument, NULL, OPT_INPUT},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"exclude-file", required_argument, NULL, OPT_EXCLUDE_FILE},
    {"all-addresses", no_argument, NULL, OPT_ALL_ADDR},
    {"dns-servers", required_argument, NULL, OPT_DNS},
    {"ports", required_argument, NULL, 'p'},
    {"connect", no_argument, NULL, OPT_CONNECT},
    {"no-ping", no_argument, NULL, OPT_PN},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"min-rtt-timeout", required_argument, NULL, OPT_MIN_RTT},
    {"max-rtt-timeout", required_argument, NULL, OPT_MAX_RTT},
    {"initial-rtt-timeout", required_argument, NULL, OPT_INIT_RTT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"max-rate", required_argument, NULL, OPT_RATE},
    {"min-rate", required_argument, NULL, OPT_MIN_RATE},
    {"max-retries", required_argument, NULL, OPT_MAX_RETRIES},
    {"host-timeout", required_argument, NULL, OPT_HOST_TIMEOUT},
    {"defeat-rst-ratelimit", no_argument, NULL, OPT_DEFEAT_RST},
    {"concurrency", required_argument, NULL, OPT_CONC},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"output", required_argument, NULL, 'o'},
    {"open", no_argument, NULL, OPT_OPEN},
    {"allow-special", no_argument, NULL, OPT_ALLOW_SPECIAL},
    {"check", no_argument, NULL, OPT_CHECK},
    {"check-timeout", required_argument, NULL, OPT_CHECK_TIMEOUT},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* nmap's multi-letter short options, rewritten to our long ones before
 * getopt sees them. */
static const char *nmap_alias(const char *arg)
{
    static const struct { const char *from, *to; } map[] = {
        {"-iL", "--input-file"},
        {"-sT", "--connect"},
        {"-sS", "--syn"},
        {"-sU", "--udp"},
        {"-sn", "--ping-only"},
        {"-Pn", "--no-ping"},
    };
    for(size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if(!strcmp(arg, map[i].from))
            return map[i].to;
    }
    return NULL;
}

/* -T0..-T5: nmap's timing templates, by number or name. */
static bool timing_template(const char *arg, int *out)
{
    static const char *const names[] = {"paranoid", "sneaky", "polite", "normal",
                                        "aggressive", "insane"};
    if(arg[0] >= '0' && arg[0] <= '5' && !arg[1]) {
        *out = arg[0] - '0';
        return true;
    }
    for(int i = 0; i < 6; i++) {
        if(!strcmp(arg, names[i])) {
            *out = i;
            return true;
        }
    }
    return false;
}

/* Which timing options were given explicitly (a template does not
 * override them). */
struct timing_set {
    bool retries, max_retries, rate, max_rtt, init_rtt;
};

/* The templates' values, as nmap documents them: T0-T2 wait between
 * probes (5 min, 15 s, 0.4 s), here as a rate cap; T4 and T5 shorten the
 * timeouts and cap the retries. The adaptive tries and rate stay on. */
static void apply_template(vg_scan_opts *o, int t, const struct timing_set *set, bool min_rtt_set)
{
    static const struct {
        double rate;
        uint32_t min_rtt, max_rtt, init_rtt;
        unsigned max_retries;
    } tp[6] = {
        {1.0 / 300, 100, 10000, 300000, 10},
        {1.0 / 15, 100, 10000, 15000, 10},
        {2.5, 100, 10000, 1000, 10},
        {0, 50, 3000, 1000, 10},
        {0, 100, 1250, 500, 6},
        {0, 50, 300, 250, 2},
    };
    if(!set->rate && tp[t].rate > 0)
        o->rate = tp[t].rate;
    if(!min_rtt_set)
        o->min_rtt_timeout_ms = tp[t].min_rtt;
    if(!set->max_rtt)
        o->max_rtt_timeout_ms = tp[t].max_rtt;
    if(!set->init_rtt)
        o->init_rtt_timeout_ms = tp[t].init_rtt;
    if(!set->max_retries)
        o->max_retries = tp[t].max_retries;
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG " scan: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '" PROG " scan --help')\n");
    return EXIT_SCAN_USAGE;
}

static int lib_error(const vg_error *err)
{
    fprintf(stderr, PROG " scan: %s\n", err->msg);
    if(err->code == VG_EINVAL || err->code == VG_ERESOLVE)
        return EXIT_SCAN_USAGE;
    return EXIT_SCAN_RUNTIME;
}

static bool append_desc(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *b = realloc(*buf, *len + n + 2);
    if(!b)
        return false;
    if(*len)
        b[(*len)++] = ' ';
    memcpy(b + *len, s, n + 1);
    *len += n;
    *buf = b;
    return true;
}

static int add_output(struct scan_cli *c, const char *spec)
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
    /* Create the formatter first so an unknown format is a usage error
     * before any file is touched. */
    vg_output_opts oo = {0};
    o->out = vg_output_new(fmt, stdout, &oo, &err);
    if(!o->out)
        return lib_error(&err);
    c->nouts++;
    return 0;
}

static int open_outputs(struct scan_cli *c, const vg_services *svc, const vg_oui *oui)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!o->path || !strcmp(o->path, "-")) {
            o->fp = stdout;
            o->is_stdout = true;
        }
        else {
            o->fp = fopen(o->path, "w");
            if(!o->fp) {
                fprintf(stderr, PROG " scan: cannot write '%s': %s\n", o->path, strerror(errno));
                return EXIT_SCAN_RUNTIME;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        o->out->opts.verbose = c->verbose;
        o->out->opts.open_only = c->open_only;
        o->out->opts.targets = c->targets;
        o->out->opts.services = svc;
        o->out->opts.oui = oui;
    }
    return 0;
}

/* A write failed: on stdout that means the reader went away (`| head`),
 * which ends the scan quietly; on a file it is an error worth saying. */
static void output_failed(struct scan_cli *c, struct out_spec *o)
{
    if(o->is_stdout)
        c->stdout_broken = true;
    else if(!c->io_error) {
        fprintf(stderr, PROG " scan: writing '%s' failed: %s\n", o->path, strerror(errno));
        c->io_error = 1;
    }
}

static void add_known_mac(const struct scan_cli *c, vg_result *res);

/* Writes one port record (with its check, under --check) to every output. */
static void emit_result(const vg_result *res, const vg_check_result *chk, void *ud)
{
    struct scan_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_result_check(o->out, res, chk))
            output_failed(c, o);
    }
}

static void host_record(const vg_result *host, void *ud)
{
    struct scan_cli *c = ud;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_host(o->out, host))
            output_failed(c, o);
    }
}

static void port_result(const vg_result *res, void *ud);

static void on_result(const vg_result *res, void *ud)
{
    struct scan_cli *c = ud;
    if(c->life) {
        vg_result host;
        bool first;
        if(vg_liveness_feed(c->life, res, &host, &first) == VG_LIVE_HELD)
            return;
        if(first)
            host_record(&host, c);
    }
    port_result(res, ud);
}

static void port_result(const vg_result *res, void *ud)
{
    struct scan_cli *c = ud;
    vg_result r = *res;
    if(!r.has_mac && c->nmacs)
        add_known_mac(c, &r);
    if(c->checks)
        scan_checks_result(c->checks, &r); /* open ports wait for their check */
    else
        emit_result(&r, NULL, c);
}

static void flush_outputs(struct scan_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_flush(o->out))
            output_failed(c, o);
    }
}

static void progress(const vg_scan_stats *st, bool final)
{
    double pct = st->total ? 100.0 * (double)st->done / (double)st->total : 100.0;
    double pps = st->elapsed_s > 0 ? (double)st->sent / st->elapsed_s : 0;
    double rate_done = st->elapsed_s > 0 ? (double)st->done / st->elapsed_s : 0;
    double eta = rate_done > 0 ? (double)(st->total - st->done) / rate_done : 0;
    if(final) {
        fputs("\r\033[K", stderr);
        return;
    }
    fprintf(stderr, "\r\033[K%5.1f%%  %" PRIu64 "/%" PRIu64 "  %.0f probes/s  %" PRIu64
            " open  %" PRIu64 " in flight  ETA %.0fs",
            pct, st->done, st->total, pps, st->open, st->in_flight, eta);
}

/* Raw engines: what the wire shows, appended to the progress line. */
static void progress_raw(vg_scan *scan, const vg_scan_stats *st)
{
    vg_raw_stats rs;
    vg_scan_get_raw_stats(scan, &rs);
    if(!rs.replies && !rs.invalid && !rs.cap_drops && !rs.send_errors)
        return;
    double rps = st->elapsed_s > 0 ? (double)rs.replies / st->elapsed_s : 0;
    fprintf(stderr, "  %.0f replies/s  %" PRIu64 " dropped by capture  %" PRIu64 " invalid",
            rps, rs.cap_drops, rs.invalid);
}

static int parse_args(struct scan_cli *c, int argc, char **argv)
{
    int opt, rc;
    uint64_t v;
    double d;
    vg_error err = {0};
    bool have_ports = false;
    bool min_rtt_set = false;
    char where[64];
    int tmpl = -1;
    struct timing_set set = {0};

    /* Rewrite nmap-style options in place; getopt permutes argv anyway. */
    for(int i = 1; i < argc; i++) {
        if(!strcmp(argv[i], "--"))
            break;
        const char *alias = nmap_alias(argv[i]);
        if(alias)
            argv[i] = (char *)alias;
    }
    optind = 1;
    opterr = 0;
    while((opt = getopt_long(argc, argv, ":p:o:vq46he:S:T:", long_opts, NULL)) != -1) {
        switch(opt) {
        case 'p':
            if(vg_ports_add(c->ports, optarg, &err)) {
                fprintf(stderr, PROG " scan: -p %s: %s\n", optarg, err.msg);
                return EXIT_SCAN_USAGE;
            }
            if(!append_desc(&c->ports_desc, &c->ports_desc_len, optarg))
                return EXIT_SCAN_RUNTIME;
            have_ports = true;
            break;
        case 'o':
            rc = add_output(c, optarg);
            if(rc)
                return rc;
            break;
        case 'v': c->verbose++; break;
        case 'q': c->quiet = true; break;
        case '4': c->ropts.family = AF_INET; break;
        case '6': c->ropts.family = AF_INET6; break;
        case 'h': scan_usage(stdout); return -1;
        case OPT_INPUT:
            if(vg_targets_add_file(c->targets, optarg, false, &err))
                return lib_error(&err);
            snprintf(where, sizeof(where), "-iL %s", optarg);
            append_desc(&c->targets_desc, &c->targets_desc_len, where);
            break;
        case OPT_EXCLUDE: {
            char *dup = strdup(optarg), *save = NULL;
            if(!dup)
                return EXIT_SCAN_RUNTIME;
            for(char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if(vg_targets_exclude(c->targets, tok, "--exclude", &err)) {
                    free(dup);
                    return lib_error(&err);
                }
            }
            free(dup);
            break;
        }
        case OPT_EXCLUDE_FILE:
            if(vg_targets_add_file(c->targets, optarg, true, &err))
                return lib_error(&err);
            break;
        case OPT_ALL_ADDR: c->ropts.all_addresses = true; break;
        case OPT_DNS: c->ropts.dns_servers = optarg; break;
        case OPT_CONNECT: c->want_connect = true; break;
        case OPT_PN: c->no_ping = true; break;
        case OPT_RETRIES:
            if(!cli_parse_u64(optarg, 0, 50, &v))
                return usage_error("--retries '%s': expected a number from 0 to 50", optarg);
            c->opts.retries = (unsigned)v;
            set.retries = true;
            break;
        case OPT_MAX_RETRIES:
            if(!cli_parse_u64(optarg, 0, 50, &v))
                return usage_error("--max-retries '%s': expected a number from 0 to 50", optarg);
            c->opts.max_retries = (unsigned)v;
            set.max_retries = true;
            break;
        case OPT_MIN_RATE:
            if(!cli_parse_double(optarg, &d) || d < 1 || d > 1e8)
                return usage_error("--min-rate '%s': expected probes per second, 1 or more", optarg);
            c->opts.min_rate = d;
            break;
        case OPT_HOST_TIMEOUT:
            if(!cli_parse_duration_ms(optarg, &v) || v == 0 || v > 86400000)
                return usage_error("--host-timeout '%s': expected e.g. 30s, 15m (at most 24h)", optarg);
            c->opts.host_timeout_ms = v;
            break;
        case OPT_DEFEAT_RST: c->opts.defeat_rst_ratelimit = true; break;
        case 'T':
            if(!timing_template(optarg, &tmpl))
                return usage_error("-T '%s': expected 0-5 or paranoid, sneaky, polite, normal, "
                                   "aggressive, insane", optarg);
            break;
        case OPT_TIMEOUT:
        case OPT_MIN_RTT:
        case OPT_MAX_RTT:
        case OPT_INIT_RTT:
            if(!cli_parse_duration_ms(optarg, &v) || v == 0 || v > 600000)
                return usage_error("bad duration '%s': expected e.g. 500ms, 2s (at most 10m)", optarg);
            if(opt == OPT_TIMEOUT)
                c->opts.timeout_ms = (uint32_t)v;
            else if(opt == OPT_MIN_RTT) {
                c->opts.min_rtt_timeout_ms = (uint32_t)v;
                min_rtt_set = true;
            }
            else if(opt == OPT_MAX_RTT) {
                c->opts.max_rtt_timeout_ms = (uint32_t)v;
                set.max_rtt = true;
            }
            else {
                c->opts.init_rtt_timeout_ms = (uint32_t)v;
                set.init_rtt = true;
            }
            break;
        case OPT_CHECK: c->check = true; break;
        case OPT_CHECK_TIMEOUT:
            if(!cli_parse_duration_ms(optarg, &v) || v == 0 || v > 600000)
                return usage_error("--check-timeout '%s': expected e.g. 500ms, 5s (at most 10m)", optarg);
            c->check_timeout_ms = (uint32_t)v;
            break;
        case OPT_RATE:
            if(!cli_parse_double(optarg, &d) || d < 1 || d > 1e8)
                return usage_error("--rate/--max-rate '%s': expected probes per second, 1 or more",
                                   optarg);
            c->opts.rate = d;
            set.rate = true;
            break;
        case OPT_CONC:
            if(!cli_parse_u64(optarg, 1, 1000000, &v))
                return usage_error("--concurrency '%s': expected a number from 1 to 1000000", optarg);
            c->opts.concurrency = (unsigned)v;
            break;
        case OPT_THREADS:
            if(!cli_parse_u64(optarg, 1, 64, &v))
                return usage_error("--threads '%s': expected a number from 1 to 64", optarg);
            c->opts.threads = (unsigned)v;
            break;
        case OPT_SEED:
            if(!cli_parse_u64(optarg, 0, UINT64_MAX, &v))
                return usage_error("--seed '%s': expected a non-negative integer", optarg);
            c->opts.seed = v;
            break;
        case OPT_SHARD: {
            char *slash = strchr(optarg, '/');
            uint64_t i, n;
            char ibuf[32];
            if(!slash || (size_t)(slash - optarg) >= sizeof(ibuf))
                return usage_error("--shard '%s': expected I/N, e.g. 0/4", optarg);
            memcpy(ibuf, optarg, (size_t)(slash - optarg));
            ibuf[slash - optarg] = '\0';
            if(!cli_parse_u64(ibuf, 0, UINT32_MAX, &i) || !cli_parse_u64(slash + 1, 1, UINT32_MAX, &n) || i >= n)
                return usage_error("--shard '%s': expected I/N with 0 <= I < N, e.g. 0/4", optarg);
            c->opts.shard_index = (uint32_t)i;
            c->opts.shard_count = (uint32_t)n;
            break;
        }
        case OPT_OPEN: c->open_only = true; break;
        case OPT_ALLOW_SPECIAL: c->ropts.allow_special = true; break;
        /* raw engines */
        case OPT_SYN: c->want_syn = true; break;
        case OPT_UDP: c->want_udp = true; break;
        case 'e': c->opts.iface = optarg; break;
        case 'S': {
            struct sockaddr_storage ss;
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            memset(&ss, 0, sizeof(ss));
            if(inet_pton(AF_INET, optarg, &sin->sin_addr) == 1)
                ss.ss_family = AF_INET;
            else if(inet_pton(AF_INET6, optarg, &sin6->sin6_addr) == 1)
                ss.ss_family = AF_INET6;
            else
                return usage_error("-S '%s': expected an IPv4 or IPv6 address", optarg);
            vg_addr_from_sockaddr(&c->opts.source, (struct sockaddr *)&ss);
            break;
        }
        case OPT_SOURCE_PORT:
            if(!cli_parse_u64(optarg, 1, 65535, &v))
                return usage_error("--source-port '%s': expected a port from 1 to 65535", optarg);
            c->opts.source_port = (uint16_t)v;
            break;
        case OPT_USER: c->user = optarg; break;
        case OPT_DRY_RUN: c->dry_run = true; break;
        case OPT_PING_ONLY: c->ping_only = true; break;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if(tmpl >= 0)
        apply_template(&c->opts, tmpl, &set, min_rtt_set);
    if(c->opts.min_rate > 0 && c->opts.rate > 0 && c->opts.min_rate > c->opts.rate)
        return usage_error("--min-rate (%.0f) is above --max-rate (%.0f)", c->opts.min_rate,
                           c->opts.rate);
    for(int i = optind; i < argc; i++) {
        snprintf(where, sizeof(where), "target argument %d", i - optind + 1);
        if(vg_targets_add(c->targets, argv[i], where, &err))
            return lib_error(&err);
        append_desc(&c->targets_desc, &c->targets_desc_len, argv[i]);
    }
    if(c->opts.min_rtt_timeout_ms > c->opts.max_rtt_timeout_ms) {
        /* Only --max-rtt-timeout given, below the default floor: lower the
         * floor with it. Both given and contradictory: say so. */
        if(!min_rtt_set)
            c->opts.min_rtt_timeout_ms = c->opts.max_rtt_timeout_ms;
        else
            return usage_error("--min-rtt-timeout (%u ms) is above --max-rtt-timeout (%u ms)",
                               c->opts.min_rtt_timeout_ms, c->opts.max_rtt_timeout_ms);
    }
    if(!c->targets_desc_len) {
        fprintf(stderr, PROG " scan: no targets given (try '" PROG " scan --help')\n");
        return EXIT_SCAN_USAGE;
    }
    if(!have_ports) {
        if(vg_ports_add(c->ports, VG_PORTS_DEFAULT, &err))
            return lib_error(&err);
        c->ports_desc = strdup(VG_PORTS_DEFAULT);
    }
    /* The engine: what was asked for; else SYN when we may open raw
     * sockets (or only print probes), connect otherwise. "T:" / "U:" ports
     * must fit the kinds asked for; with no kind given, "U:" ports add a
     * UDP scan and the ports without a prefix stay TCP. */
    if(c->want_connect && (c->want_syn || c->want_udp))
        return usage_error("--connect cannot be combined with --syn or --udp");
    if(c->ping_only && (c->want_connect || c->want_syn || c->want_udp || c->no_ping))
        return usage_error("--ping-only cannot be combined with -sT, -sS, -sU or -Pn");
    size_t n_t = vg_ports_count_prefixed(c->ports, IPPROTO_TCP);
    size_t n_u = vg_ports_count_prefixed(c->ports, IPPROTO_UDP);
    size_t n_any = vg_ports_count_prefixed(c->ports, 0);
    bool raw_ok = c->dry_run || vg_have_raw_privileges();
    if(c->ping_only)
        c->opts.engine = VG_ENGINE_PING;
    else if(c->want_syn && c->want_udp)
        c->opts.engine = VG_ENGINE_SYN_UDP;
    else if(c->want_udp) {
        if(n_t)
            return usage_error("-p: T: ports need a TCP scan: add -sS (-sU alone scans UDP)");
        c->opts.engine = VG_ENGINE_UDP;
    }
    else if(c->want_syn) {
        if(n_u)
            return usage_error("-p: U: ports need a UDP scan: add -sU (-sS alone scans TCP)");
        c->opts.engine = VG_ENGINE_SYN;
    }
    else if(n_u && (c->want_connect || !raw_ok))
        return usage_error("-p: U: ports need a raw UDP scan (-sU), which needs root or "
                           "CAP_NET_RAW; %s", c->want_connect ? "--connect scans TCP only"
                                                              : "the connect scan is TCP only");
    else if(n_u) {
        c->opts.engine = n_t || n_any ? VG_ENGINE_SYN_UDP : VG_ENGINE_UDP;
        if(n_any && vg_ports_set_default_proto(c->ports, IPPROTO_TCP, &err))
            return lib_error(&err);
    }
    else if(!c->want_connect && raw_ok)
        c->opts.engine = VG_ENGINE_SYN;
    else
        c->opts.engine = VG_ENGINE_CONNECT;
    if(c->opts.engine != VG_ENGINE_CONNECT && !c->dry_run && !vg_have_raw_privileges()) {
        fprintf(stderr, PROG " scan: %s needs root or CAP_NET_RAW%s\n",
                c->ping_only ? "--ping-only" : c->opts.engine == VG_ENGINE_UDP ? "--udp"
                : c->opts.engine == VG_ENGINE_SYN_UDP ? "--syn --udp" : "--syn",
                c->ping_only ? "" : " (or use --connect)");
        return EXIT_SCAN_USAGE;
    }
    if(c->opts.engine == VG_ENGINE_CONNECT && (c->opts.iface || c->opts.source.family ||
                                                c->opts.source_port))
        return usage_error("-e, -S and --source-port need a raw scan (--syn or --udp)");
    if(c->check_timeout_ms && !c->check)
        return usage_error("--check-timeout needs --check");
    if(c->check && c->ping_only)
        return usage_error("--check needs a port scan, not --ping-only");
    if(c->check && !c->check_timeout_ms)
        c->check_timeout_ms = 5000;
    /* The table goes to stdout unless an -o without =FILE took its place. */
    bool stdout_taken = false;
    for(int i = 0; i < c->nouts; i++) {
        if(!c->outs[i].path || !strcmp(c->outs[i].path, "-"))
            stdout_taken = true;
    }
    if(!stdout_taken)
        return add_output(c, "text");
    return 0;
}

/* --- host discovery (-sn; and before a raw port scan unless -Pn) ---------- */

/* Packets discovery sends to each host: ICMP echo, SYN 443, ACK 80, and
 * ARP or a neighbour solicitation on-link. */
#define DISCOVERY_PROBES_PER_HOST 4
/* Below this many targets discovery is cheap whatever it costs per host,
 * and its records keep their place before every port record. */
#define LIVENESS_MIN_TARGETS 256

/* Probes the port scan sends to each host (before retries). */
static uint64_t scan_ports_per_host(const struct scan_cli *c)
{
    bool tcp = c->opts.engine != VG_ENGINE_UDP;
    bool udp = c->opts.engine == VG_ENGINE_UDP || c->opts.engine == VG_ENGINE_SYN_UDP;
    return (tcp ? vg_ports_count_proto(c->ports, IPPROTO_TCP) : 0) +
           (udp ? vg_ports_count_proto(c->ports, IPPROTO_UDP) : 0);
}



struct discovery {
    struct scan_cli *cli;
    uint8_t *live;   /* bit per target index: up; NULL with -sn */
    uint64_t up, down;
};

/* Index of addr in the sorted target set (results carry addresses). */

static void remember_mac(struct scan_cli *c, const vg_result *res)
{
    if(c->nmacs == c->capmacs) {
        size_t cap = c->capmacs ? c->capmacs * 2 : 64;
        struct host_mac *m = realloc(c->macs, cap * sizeof(*m));
        if(!m)
            return; /* a nicety: the port records just lack the MAC */
        c->macs = m;
        c->capmacs = cap;
    }
    c->macs[c->nmacs].addr = res->addr;
    memcpy(c->macs[c->nmacs].mac, res->mac, 6);
    c->nmacs++;
}

static int mac_cmp(const void *a, const void *b)
{
    return vg_addr_cmp(&((const struct host_mac *)a)->addr, &((const struct host_mac *)b)->addr);
}

/* Every output sees every discovery result (the formats decide what to
 * write); a port scan after it probes only the hosts found up. */
static void on_host(const vg_result *res, void *ud)
{
    struct discovery *d = ud;
    struct scan_cli *c = d->cli;

    if(res->state == VG_STATE_OPEN) {
        d->up++;
        uint64_t i = vg_targets_index(c->targets, &res->addr);
        if(i != UINT64_MAX && d->live)
            d->live[i / 8] |= (uint8_t)(1u << (i % 8));
        if(d->live && res->has_mac)
            remember_mac(c, res);
    }
    else
        d->down++;
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_host(o->out, res))
            output_failed(c, o);
    }
}

/* Runs a discovery scan (prepared, privileges dropped) to its end. */
static int run_discovery(vg_scan *ping, struct discovery *d)
{
    struct scan_cli *c = d->cli;
    vg_error err = {0};
    bool stopped = false;
    int rc;

    if(vg_scan_start(ping, &err))
        return lib_error(&err);
    for(;;) {
        rc = vg_scan_poll(ping, 100, on_host, d, &err);
        flush_outputs(c);
        if(rc < 0) {
            fprintf(stderr, PROG " scan: %s\n", err.msg);
            return EXIT_SCAN_RUNTIME;
        }
        if(rc == 1)
            break;
        if(!stopped && (cli_interrupted || c->stdout_broken || c->io_error)) {
            vg_scan_stop(ping);
            stopped = true;
        }
    }
    if(c->nmacs)
        qsort(c->macs, c->nmacs, sizeof(*c->macs), mac_cmp);
    return cli_interrupted ? cli_interrupt_status() : EXIT_SCAN_OK;
}

/* The MAC discovery saw for a port result's host, when the reply itself
 * did not show one (a filtered port, a reply through a router). */
static void add_known_mac(const struct scan_cli *c, vg_result *res)
{
    size_t lo = 0, hi = c->nmacs;
    while(lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = vg_addr_cmp(&c->macs[mid].addr, &res->addr);
        if(!cmp) {
            res->has_mac = 1;
            memcpy(res->mac, c->macs[mid].mac, 6);
            return;
        }
        if(cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
}

/* --dry-run: the probes in the order the walk visits them. Nothing is
 * sent, DNS queries included: names that only DNS could resolve come first,
 * each with a line per probe kind that says so (their probes cannot be
 * listed). scan is NULL when no target resolved. */
static int dry_run(struct scan_cli *c, vg_scan *scan)
{
    vg_scan_stats st = {0};
    char buf[VG_ADDR_STRLEN];
    const char *tcp = c->opts.engine == VG_ENGINE_CONNECT ? "tcp-connect"
                    : c->opts.engine == VG_ENGINE_PING ? "ping" : "tcp-syn";
    bool has_tcp = c->opts.engine != VG_ENGINE_UDP;
    bool has_udp = c->opts.engine == VG_ENGINE_UDP || c->opts.engine == VG_ENGINE_SYN_UDP;

    cli_signals_defer(); /* stdout gets whole lines up to the signal */
    for(size_t i = 0; i < vg_targets_unresolved_count(c->targets); i++) {
        bool exclude = false;
        const char *name = vg_targets_unresolved(c->targets, i, &exclude);
        if(exclude) {
            fprintf(stderr, PROG " scan: note: --exclude %s is not resolved (--dry-run sends no DNS"
                    " queries), so the probes below may include its addresses\n", name);
            continue;
        }
        if((has_tcp && printf("%s %s (not resolved: --dry-run sends no DNS queries)\n", tcp, name) < 0) ||
           (has_udp && printf("udp %s (not resolved: --dry-run sends no DNS queries)\n", name) < 0))
            return EXIT_SCAN_RUNTIME;
    }
    if(scan)
        vg_scan_get_stats(scan, &st);
    for(uint64_t i = 0; i < st.total && !cli_interrupted; i++) {
        vg_addr a;
        uint16_t port;
        uint8_t proto;
        vg_scan_probe_at_proto(scan, i, &a, &port, &proto);
        vg_addr_format(&a, buf, sizeof(buf));
        int n = c->opts.engine == VG_ENGINE_PING ? printf("ping %s\n", buf)
              : printf("%s %s %u\n", proto == IPPROTO_UDP ? "udp" : tcp, buf, port);
        if(n < 0)
            return EXIT_SCAN_RUNTIME;
    }
    if(fflush(stdout) != 0)
        return EXIT_SCAN_RUNTIME;
    return cli_interrupted ? cli_interrupt_status() : EXIT_SCAN_OK;
}

/* Writes the scan line of every output. */
static void begin_outputs(struct scan_cli *c, const vg_scan_info *info)
{
    for(int i = 0; i < c->nouts; i++) {
        if(vg_output_begin(c->outs[i].out, info))
            output_failed(c, &c->outs[i]);
    }
    flush_outputs(c);
}

/* Writes the summary line of every output. */
static void end_outputs(struct scan_cli *c, const vg_scan_end *end)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(vg_output_end(o->out, end) || vg_output_flush(o->out))
            output_failed(c, o);
    }
}

/* -sn: discovery is the whole job; its results are host records in every
 * output format. */
static int ping_only(struct scan_cli *c, vg_scan *ping, struct discovery *d, const vg_oui *oui)
{
    vg_error err = {0};
    cli_signals_defer();
    int rc = open_outputs(c, NULL, oui);
    if(rc)
        return rc;
    if(vg_scan_prepare(ping, &err) || vg_drop_privileges(c->user, &err))
        return lib_error(&err);
    vg_scan_stats st;
    vg_scan_get_stats(ping, &st);
    vg_scan_opts eff = c->opts;
    eff.concurrency = st.concurrency;
    eff.threads = st.threads;
    vg_scan_info info = {
        .version = VIGIA_VERSION,
        .engine = vg_scan_engine_name(ping),
        .targets = c->targets_desc,
        .ports = "",
        .n_targets = vg_targets_count(c->targets),
        .n_ports = 0,
        .opts = &eff,
        .start_time = cli_unix_time(),
        .kind = VG_ENGINE_PING,
    };
    begin_outputs(c, &info);
    int status = run_discovery(ping, d);
    if(status != EXIT_SCAN_OK && !(cli_interrupted && status == cli_interrupt_status()))
        return status;
    vg_scan_end end = {.interrupted = cli_interrupted || c->stdout_broken, .end_time = cli_unix_time(),
                       .signal = cli_signal_name(cli_stop_signal(c->stdout_broken))};
    vg_scan_get_stats(ping, &end.stats);
    end_outputs(c, &end);
    if(status == EXIT_SCAN_OK && c->io_error)
        status = EXIT_SCAN_RUNTIME;
    return status;
}

int cmd_scan(int argc, char **argv)
{
    struct scan_cli c = {0};
    vg_scan *scan = NULL;
    vg_services *svc = NULL;
    vg_oui *oui = NULL;
    vg_error err = {0};
    int rc, status = EXIT_SCAN_OK;
    bool stopped = false;
    vg_ports *ping_ports = NULL; /* host discovery */
    vg_scan *ping = NULL;
    struct discovery disc = {.cli = &c};
    bool discovery_interrupted = false;

    vg_scan_opts_default(&c.opts);
    c.targets = vg_targets_new();
    c.ports = vg_ports_new();
    if(!c.targets || !c.ports) {
        fprintf(stderr, PROG " scan: out of memory\n");
        status = EXIT_SCAN_RUNTIME;
        goto out;
    }
    rc = parse_args(&c, argc, argv);
    if(rc) {
        status = rc < 0 ? EXIT_SCAN_OK : rc;
        goto out;
    }
    c.ropts.hosts_only = c.dry_run; /* a dry run sends no DNS query either */
    if(vg_targets_finalize(c.targets, &c.ropts, &err)) {
        status = lib_error(&err);
        goto out;
    }
    if(c.dry_run && !vg_targets_count(c.targets)) {
        status = dry_run(&c, NULL); /* only names that DNS would have to resolve */
        goto out;
    }
    if(vg_targets_special_skipped(c.targets) && !c.quiet)
        fprintf(stderr, PROG " scan: note: skipping %" PRIu64 " multicast, reserved, broadcast or"
                " 0.0.0.0/8 addresses inside the given ranges (--allow-special scans them)\n",
                vg_targets_special_skipped(c.targets));
    cli_raise_nofile();
    /* Discovery sends about four packets per host; when the port scan sends
     * no more, a port's answer is proof of life enough: scan every host
     * and let the answers say which are up. On an attached segment ARP
     * answers for hosts that answer nothing else, so discovery runs. */
    if(c.opts.engine != VG_ENGINE_PING && c.opts.engine != VG_ENGINE_CONNECT && !c.no_ping &&
       !c.dry_run && scan_ports_per_host(&c) <= DISCOVERY_PROBES_PER_HOST &&
       vg_targets_count(c.targets) >= LIVENESS_MIN_TARGETS && !vg_targets_onlink(c.targets)) {
        if(vg_liveness_new(&c.life, c.targets, &err)) {
            status = lib_error(&err);
            goto out;
        }
        c.no_ping = true;
    }
    /* Host discovery walks the targets once: one "port" per host. */
    if(c.opts.engine == VG_ENGINE_PING || (c.opts.engine != VG_ENGINE_CONNECT && !c.no_ping &&
                                            !c.dry_run)) {
        vg_scan_opts po = c.opts;
        po.engine = VG_ENGINE_PING;
        po.shard_count = 0; /* every host of this shard's elements may be needed */
        po.shard_index = 0;
        ping_ports = vg_ports_new();
        if(!ping_ports || vg_ports_add(ping_ports, "1", &err) ||
           vg_scan_new(&ping, c.targets, ping_ports, &po, &err)) {
            status = lib_error(&err);
            goto out;
        }
    }
    /* MAC vendors: only raw scans see MACs; read before privileges go. */
    if(c.opts.engine != VG_ENGINE_CONNECT && !c.dry_run)
        oui = vg_oui_load(NULL);
    if(c.opts.engine == VG_ENGINE_PING) {
        status = c.dry_run ? dry_run(&c, ping) : ping_only(&c, ping, &disc, oui);
        goto out;
    }
    if(vg_scan_new(&scan, c.targets, c.ports, &c.opts, &err)) {
        status = lib_error(&err);
        goto out;
    }
    if(c.dry_run) {
        status = dry_run(&c, scan);
        goto out;
    }
    svc = vg_services_load();
    cli_signals_defer();
    rc = open_outputs(&c, svc, oui);
    if(rc) {
        status = rc;
        goto out;
    }
    /* Raw engines: open the raw and capture sockets now that every file is
     * open, then give up root and capabilities before any reply is read. */
    if(c.opts.engine != VG_ENGINE_CONNECT) {
        if((ping && vg_scan_prepare(ping, &err)) || vg_scan_prepare(scan, &err) ||
           (ping && vg_scan_follow_discovery(scan, ping, &err)) ||
           vg_drop_privileges(c.user, &err)) {
            status = lib_error(&err);
            goto out;
        }
    }

    vg_scan_stats st;
    vg_scan_get_stats(scan, &st);
    vg_scan_opts eff = c.opts;
    eff.concurrency = st.concurrency;
    eff.threads = st.threads;
    vg_scan_info info = {
        .version = VIGIA_VERSION,
        .engine = vg_scan_engine_name(scan),
        .targets = c.targets_desc,
        .ports = c.ports_desc ? c.ports_desc : "",
        .n_targets = vg_targets_count(c.targets),
        .n_ports = vg_ports_count(c.ports),
        .opts = &eff,
        .start_time = cli_unix_time(),
        .kind = c.opts.engine,
        .check_timeout_ms = c.check ? c.check_timeout_ms : 0,
    };
    vg_scan_port_counts(scan, &info.n_tcp_ports, &info.n_udp_ports);
    /* --check: the checker runs on this thread, polled from the loop below;
     * created after privileges are gone. The banner wait is 1 s at most. */
    if(c.check && scan_checks_new(&c.checks, c.check_timeout_ms, 1000, emit_result, &c, &err)) {
        status = lib_error(&err);
        goto out;
    }
    begin_outputs(&c, &info);

    /* Raw port scans skip the hosts that discovery did not find up; the
     * outputs get a host record for each live one first. */
    if(ping) {
        uint64_t n = vg_targets_count(c.targets);
        disc.live = n < (UINT64_C(1) << 35) ? calloc((size_t)(n / 8 + 1), 1) : NULL;
        if(!disc.live) {
            fprintf(stderr, PROG " scan: too many targets for host discovery; use -Pn\n");
            status = EXIT_SCAN_USAGE;
            goto out;
        }
        double t0 = cli_unix_time();
        status = run_discovery(ping, &disc);
        if((cli_interrupted && status == cli_interrupt_status()) ||
           (status == EXIT_SCAN_OK && (c.stdout_broken || c.io_error)))
            discovery_interrupted = true;
        else if(status != EXIT_SCAN_OK)
            goto out;
        status = EXIT_SCAN_OK;
        if(!discovery_interrupted && !c.quiet && isatty(STDERR_FILENO))
            fprintf(stderr, PROG " scan: host discovery: %" PRIu64 " of %" PRIu64
                    " host%s up (%.2f s); -Pn scans all\n", disc.up, n, n == 1 ? "" : "s",
                    cli_unix_time() - t0);
        if(vg_scan_set_live(scan, disc.live, &err)) {
            status = lib_error(&err);
            goto out;
        }
    }

    if(discovery_interrupted) {
        /* Stopped during discovery: no port scan, but a summary. */
        stopped = true;
    }
    else if(vg_scan_start(scan, &err)) {
        status = lib_error(&err);
        goto out;
    }

    bool show_progress = !c.quiet && isatty(STDERR_FILENO);
    uint64_t last_progress = 0;
    bool checks_stopped = false;
    while(!discovery_interrupted) {
        rc = vg_scan_poll(scan, c.checks ? 10 : 100, on_result, &c, &err);
        if(rc >= 0 && c.checks && scan_checks_poll(c.checks, 0, &err) < 0)
            rc = -1;
        flush_outputs(&c);
        if(rc < 0) {
            if(show_progress)
                progress(&st, true);
            fprintf(stderr, PROG " scan: %s\n", err.msg);
            status = EXIT_SCAN_RUNTIME;
            break;
        }
        if(rc == 1)
            break;
        if(!stopped && (cli_interrupted || c.stdout_broken || c.io_error)) {
            vg_scan_stop(scan);
            stopped = true;
            if(c.checks) {
                scan_checks_stop(c.checks); /* held ports come out as interrupted */
                checks_stopped = true;
            }
        }
        if(show_progress) {
            uint64_t now = (uint64_t)(cli_unix_time() * 1000);
            if(now - last_progress >= 250) {
                vg_scan_get_stats(scan, &st);
                progress(&st, false);
                progress_raw(scan, &st);
                last_progress = now;
            }
        }
    }
    /* --check: the scan is over; wait for the checks of the ports it held.
     * Each check has a deadline (banner wait + two check timeouts at most
     * per port), so this ends; the extra deadline only guards the loop. */
    if(c.checks) {
        double give_up = cli_unix_time() + 1.0 + 2.0 * c.check_timeout_ms / 1000.0 + 5.0;
        for(;;) {
            long held = scan_checks_poll(c.checks, 50, &err);
            flush_outputs(&c);
            if(held < 0) {
                fprintf(stderr, PROG " scan: %s\n", err.msg);
                status = EXIT_SCAN_RUNTIME;
                break;
            }
            if(held == 0)
                break;
            if(!checks_stopped && (cli_interrupted || c.stdout_broken || c.io_error ||
                                   cli_unix_time() > give_up)) {
                scan_checks_stop(c.checks);
                checks_stopped = true;
                stopped = stopped || cli_interrupted;
            }
            if(show_progress)
                fprintf(stderr, "\r\033[Kchecking %ld open port%s", held, held == 1 ? "" : "s");
        }
    }
    if(show_progress)
        progress(&st, true);

    vg_scan_end end = {.interrupted = stopped && (cli_interrupted || c.stdout_broken),
                       .end_time = cli_unix_time()};
    end.signal = end.interrupted ? cli_signal_name(cli_stop_signal(c.stdout_broken)) : NULL;
    vg_scan_get_stats(scan, &end.stats);
    if(c.life) {
        /* Silent ports of hosts that never answered: skipped, host down. */
        uint64_t sk = vg_liveness_finish(c.life, port_result, host_record, &c);
        flush_outputs(&c);
        end.stats.skipped += sk;
        end.stats.done -= sk < end.stats.done ? sk : end.stats.done;
        end.stats.total -= sk < end.stats.total ? sk : end.stats.total;
        end.stats.filtered -= sk < end.stats.filtered ? sk : end.stats.filtered;
    }
    vg_path_report paths[16];
    end.npaths = vg_scan_get_paths(scan, paths, 16);
    if(end.npaths > 16)
        end.npaths = 16;
    end.paths = paths;
    end.max_tries = vg_scan_max_tries(scan);
    end.tries_policy = vg_scan_tries_policy(scan);
    if(strcmp(vg_scan_engine_name(scan), "connect")) {
        vg_raw_stats rs;
        vg_scan_get_raw_stats(scan, &rs);
        end.raw = true;
        end.replies_rejected = rs.invalid;
        end.replies_late = rs.late;
    }
    if(c.checks) {
        end.checked = true;
        scan_checks_counts(c.checks, end.check_count);
    }
    end_outputs(&c, &end);
    if(status == EXIT_SCAN_OK) {
        if(end.interrupted && cli_interrupted)
            status = cli_interrupt_status();
        else if(c.io_error)
            status = EXIT_SCAN_RUNTIME;
    }

out:
    vg_liveness_free(c.life);
    scan_checks_free(c.checks);
    vg_scan_free(scan);
    vg_scan_free(ping);
    vg_ports_free(ping_ports);
    free(disc.live);
    free(c.macs);
    vg_oui_free(oui);
    for(int i = 0; i < c.nouts; i++) {
        vg_output_free(c.outs[i].out);
        if(c.outs[i].owns_fp && fclose(c.outs[i].fp) != 0 && status == EXIT_SCAN_OK) {
            fprintf(stderr, PROG " scan: writing '%s' failed: %s\n", c.outs[i].path, strerror(errno));
            status = EXIT_SCAN_RUNTIME;
        }
    }
    vg_services_free(svc);
    vg_targets_free(c.targets);
    vg_ports_free(c.ports);
    free(c.targets_desc);
    free(c.ports_desc);
    if(c.stdout_broken && !cli_interrupted && status == EXIT_SCAN_OK) {
        cli_exit_broken_pipe();
    }
    return status;
}
