/* SPDX-License-Identifier: MIT */
/* The options of `vigia scan`: one table row each (include/vigia/options.h)
 * from which getopt, --help and the man page's list come, the callbacks of
 * the options that build targets and ports, and the checks that need more
 * than one option (engine choice, timing templates, ranges that must be
 * ordered). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "scan_cli.h"
#include "vigia_config.h"

#define S(field) VG_OPT_FIELD(struct scan_cli, field)

int scan_lib_error(const vg_error *err)
{
    fprintf(stderr, PROG " scan: %s\n", err->msg);
    if(err->code == VG_EINVAL || err->code == VG_ERESOLVE)
        return EXIT_SCAN_USAGE;
    return EXIT_SCAN_RUNTIME;
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
    vg_output_opts oo = {0};
    const char *why;

    if(c->nouts == MAX_OUTPUTS)
        return usage_error("too many outputs (at most 8): '%s'", spec);
    o = &c->outs[c->nouts];
    why = cli_output_split(spec, fmt, sizeof(fmt), &o->path);
    if(why)
        return usage_error("bad output '%s': %s", spec, why);
    /* Create the formatter first so an unknown format is a usage error
     * before any file is touched. */
    o->out = vg_output_new(fmt, VG_OUTPUT_SCAN, stdout, &oo, &err);
    if(!o->out)
        return scan_lib_error(&err);
    c->nouts++;
    return 0;
}

/* --- callbacks: base is the struct scan_cli ------------------------------- */

static int opt_output(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    (void)o, (void)st, (void)err;
    return add_output(base, arg);
}

static int opt_ports(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    struct scan_cli *c = base;
    vg_error e = {0};
    (void)o, (void)st;
    if(vg_ports_add(c->ports, arg, &e)) {
        fprintf(stderr, PROG " scan: -p %s: %s\n", arg, e.msg);
        return EXIT_SCAN_USAGE;
    }
    if(!append_desc(&c->ports_desc, &c->ports_desc_len, arg))
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    c->have_ports = true;
    return VG_OK;
}

static int opt_input(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    struct scan_cli *c = base;
    char where[64];
    (void)st;
    if(vg_targets_add_file(c->targets, arg, !strcmp(o->name, "exclude-file"), err))
        return scan_lib_error(err);
    if(!strcmp(o->name, "input-file")) {
        snprintf(where, sizeof(where), "-iL %s", arg);
        append_desc(&c->targets_desc, &c->targets_desc_len, where);
    }
    return VG_OK;
}

static int opt_exclude(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    struct scan_cli *c = base;
    char *dup = strdup(arg), *save = NULL;
    (void)o, (void)st;
    if(!dup)
        return vg_error_set(err, VG_ENOMEM, "out of memory");
    for(char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if(vg_targets_exclude(c->targets, tok, "--exclude", err)) {
            free(dup);
            return scan_lib_error(err);
        }
    }
    free(dup);
    return VG_OK;
}

/* -T0..-T5: nmap's timing templates, by number or name; applied after the
 * parse (explicit options win whatever their place). */
static int opt_template(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    struct scan_cli *c = base;
    (void)st;
    if(arg[0] >= '0' && arg[0] <= '5' && !arg[1]) {
        c->tmpl = arg[0] - '0';
        return VG_OK;
    }
    for(int i = 0; o->names[i]; i++)
        if(!strcmp(arg, o->names[i])) {
            c->tmpl = i;
            return VG_OK;
        }
    return vg_error_set(err, VG_EINVAL, "-T '%s': %s", arg, o->expect);
}

static int opt_shard(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    struct scan_cli *c = base;
    const char *slash = strchr(arg, '/');
    uint64_t i, n;
    char ibuf[32];
    (void)o, (void)st;
    if(!slash || (size_t)(slash - arg) >= sizeof(ibuf))
        return vg_error_set(err, VG_EINVAL, "--shard '%s': expected I/N, e.g. 0/4", arg);
    memcpy(ibuf, arg, (size_t)(slash - arg));
    ibuf[slash - arg] = '\0';
    if(!vg_opt_parse_u64(ibuf, 0, UINT32_MAX, &i) || !vg_opt_parse_u64(slash + 1, 1, UINT32_MAX, &n) || i >= n)
        return vg_error_set(err, VG_EINVAL, "--shard '%s': expected I/N with 0 <= I < N, e.g. 0/4", arg);
    c->opts.shard_index = (uint32_t)i;
    c->opts.shard_count = (uint32_t)n;
    return VG_OK;
}

static int opt_source(const vg_opt *o, void *base, const char *arg, vg_optstore *st, vg_error *err)
{
    struct scan_cli *c = base;
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    (void)o, (void)st;
    memset(&ss, 0, sizeof(ss));
    if(inet_pton(AF_INET, arg, &sin->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if(inet_pton(AF_INET6, arg, &sin6->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        return vg_error_set(err, VG_EINVAL, "-S '%s': expected an IPv4 or IPv6 address", arg);
    vg_addr_from_sockaddr(&c->opts.source, (struct sockaddr *)&ss);
    return VG_OK;
}

/* --- the table --------------------------------------------------------------- */

static const char *const template_names[] = {"paranoid", "sneaky", "polite", "normal", "aggressive",
                                             "insane", NULL};

#define RTT_EXPECT "expected e.g. 500ms, 2s (at most 10m)"

static const vg_opt scan_rows[] = {
    {.type = VG_OPT_NOTE, .help = "Targets: 198.18.0.1  2001:db8::5  fe80::1%eth0  198.18.0.0/15  2001:db8::/120\n"
                                  "         198.18.0.1-20  198.18.0.1-198.18.1.5  localhost"},
    {.name = "input-file", .type = VG_OPT_CALLBACK, .parse = opt_input, .arg = "FILE",
     .help = "read targets from FILE (one or more per line, # comments);\nalso -iL FILE"},
    {.name = "exclude", .type = VG_OPT_CALLBACK, .parse = opt_exclude, .arg = "SPEC[,SPEC]",
     .help = "never scan these"},
    {.name = "exclude-file", .type = VG_OPT_CALLBACK, .parse = opt_input, .arg = "FILE",
     .help = "never scan the targets listed in FILE"},
    {.letter = '4', .type = VG_OPT_CONST, S(ropts.family), .min = AF_INET, .help = NULL},
    {.letter = '6', .type = VG_OPT_CONST, S(ropts.family), .min = AF_INET6, .help = NULL},
    {.type = VG_OPT_NOTE, .help = "  -4, -6                   resolve names to IPv4 / IPv6 only"},
    {.name = "all-addresses", .type = VG_OPT_FLAG, S(ropts.all_addresses),
     .help = "scan every address of a name (default: the first)"},
    {.name = "dns-servers", .type = VG_OPT_STRING, S(ropts.dns_servers), .arg = "A[:P],...",
     .help = "resolve names with these servers, not the system's"},
    {.name = "allow-special", .type = VG_OPT_FLAG, S(ropts.allow_special),
     .help = "also scan 0.0.0.0/8, multicast, reserved (240/4) and\n"
             "broadcast addresses a range merely includes"},

    {.type = VG_OPT_NOTE, .help = "\nPorts:"},
    {.name = "ports", .letter = 'p', .type = VG_OPT_CALLBACK, .parse = opt_ports, .arg = "SPEC",
     .help = "80  1-1024  22,80,443  ssh,http  - or all (1-65535)\n"
             "essential (" VG_PORTS_ESSENTIAL ")\n"
             "well-known (1-1023); default: well-known,essential\n"
             "T:80,443,U:53,161  TCP and UDP ports (raw scans; a\n"
             "prefix holds until the next one; without one the\n"
             "scan kind decides: -sS TCP, -sU UDP, both: both;\n"
             "no kind given: TCP, and U: ports add a UDP scan)"},

    {.type = VG_OPT_NOTE, .help = "\nEngine and timing:"},
    {.name = "connect", .type = VG_OPT_FLAG, S(want_connect),
     .help = "-sT: TCP connect() scan, needs no privileges (default\nwithout CAP_NET_RAW)"},
    {.name = "syn", .type = VG_OPT_FLAG, S(want_syn),
     .help = "-sS: TCP SYN scan with raw packets (default with root or\nCAP_NET_RAW)"},
    {.name = "udp", .type = VG_OPT_FLAG, S(want_udp), .help = "-sU: UDP scan with protocol payloads (with -sS: both)"},
    {.name = "interface", .letter = 'e', .type = VG_OPT_STRING, S(opts.iface), .arg = "IFACE",
     .help = "raw scans: send and capture on IFACE only"},
    {.name = "source", .letter = 'S', .type = VG_OPT_CALLBACK, .parse = opt_source, .arg = "ADDR",
     .help = "raw scans: source address (default: the route's)"},
    {.name = "source-port", .type = VG_OPT_UINT, S(opts.source_port), .min = 1, .max = 65535, .arg = "PORT",
     .help = "raw scans: fixed source port (default: per probe)", .expect = "expected a port from 1 to 65535"},
    {.name = "user", .type = VG_OPT_STRING, S(user), .arg = "USER",
     .help = "raw scans as root: run as USER once the sockets are\nopen (default nobody)"},
    {.name = "dry-run", .type = VG_OPT_FLAG, S(dry_run),
     .help = "print the probes in walk order, send nothing (no DNS\neither: names from /etc/hosts only)"},
    {.name = "ping-only", .type = VG_OPT_FLAG, S(ping_only),
     .help = "-sn: host discovery only: list the live hosts (with MAC\naddress and vendor on the local segment)"},
    {.name = "no-ping", .type = VG_OPT_FLAG, S(no_ping),
     .help = "-Pn: raw scans: scan every target, skip host discovery\n"
             "(ICMP echo, TCP SYN 443 / ACK 80, ARP or neighbour\n"
             "solicitation on-link); the connect scan never pings"},
    {.name = "retries", .type = VG_OPT_UINT, S(opts.retries), .max = 50, .arg = "N",
     .help = "a fixed number of extra tries for unanswered probes\n"
             "(default: chosen from the measured loss, so that the\n"
             "whole scan expects under 0.1 wrong answers)",
     .expect = "expected a number from 0 to 50"},
    {.name = "max-retries", .type = VG_OPT_UINT, S(opts.max_retries), .max = 50, .arg = "N",
     .help = "cap on the adaptive extra tries (default 10)", .expect = "expected a number from 0 to 50"},
    {.name = "timeout", .type = VG_OPT_DURATION, S(opts.timeout_ms), .min = 1, .max = 600000, .arg = "D",
     .help = "fixed probe timeout (default: adaptive per host)", .expect = RTT_EXPECT},
    {.name = "min-rtt-timeout", .type = VG_OPT_DURATION, S(opts.min_rtt_timeout_ms), .min = 1, .max = 600000,
     .arg = "D", .help = "floor of the adaptive timeout (default 50ms)", .expect = RTT_EXPECT},
    {.name = "max-rtt-timeout", .type = VG_OPT_DURATION, S(opts.max_rtt_timeout_ms), .min = 1, .max = 600000,
     .arg = "D", .help = "ceiling of the adaptive timeout (default 3s)", .expect = RTT_EXPECT},
    {.name = "initial-rtt-timeout", .type = VG_OPT_DURATION, S(opts.init_rtt_timeout_ms), .min = 1,
     .max = 600000, .arg = "D", .help = "timeout before a host has answered (default 1s)", .expect = RTT_EXPECT},
    {.name = "rate", .alias = "max-rate", .type = VG_OPT_DOUBLE, S(opts.rate), .dmin = 1, .dmax = 1e8,
     .arg = "PPS", .help = "(or --max-rate) at most PPS probes per second (default: as\n"
                           "fast as the path delivers, measured as the scan goes)",
     .expect = "expected probes per second, 1 or more"},
    {.name = "min-rate", .type = VG_OPT_DOUBLE, S(opts.min_rate), .dmin = 1, .dmax = 1e8, .arg = "PPS",
     .help = "never slower than PPS, even when the path seems\ncongested (with --max-rate equal: a fixed rate)",
     .expect = "expected probes per second, 1 or more"},
    {.name = "host-timeout", .type = VG_OPT_DURATION, S(opts.host_timeout_ms), .min = 1, .max = 86400000,
     .arg = "D", .help = "give a host's silent ports no more tries after D",
     .expect = "expected e.g. 30s, 15m (at most 24h)"},
    {.name = "defeat-rst-ratelimit", .type = VG_OPT_FLAG, S(opts.defeat_rst_ratelimit),
     .help = "do not wait out a target's RST rate limit: ports it\nkept silent are reported closed|filtered"},
    {.letter = 'T', .type = VG_OPT_CALLBACK, .parse = opt_template, .names = template_names, .arg = "0-5",
     .help = "nmap's timing templates (paranoid, sneaky, polite,\n"
             "normal, aggressive, insane); later options override",
     .expect = "expected 0-5 or paranoid, sneaky, polite, normal, aggressive, insane"},
    {.name = "concurrency", .type = VG_OPT_UINT, S(opts.concurrency), .min = 1, .max = 1000000, .arg = "N",
     .help = "probes in flight (default: from the open-file limit)",
     .expect = "expected a number from 1 to 1000000"},
    {.name = "threads", .type = VG_OPT_UINT, S(opts.threads), .min = 1, .max = 64, .arg = "N",
     .help = "worker threads (default, at most 4: two per CPU for\nthe connect scan, one per CPU for raw scans)",
     .expect = "expected a number from 1 to 64"},
    {.name = "seed", .type = VG_OPT_UINT, S(opts.seed), .max = UINT64_MAX, .arg = "N",
     .help = "order of the walk (same seed, same order)", .expect = "expected a non-negative integer"},
    {.name = "shard", .type = VG_OPT_CALLBACK, .parse = opt_shard, .arg = "I/N",
     .help = "scan only shard I (0-based) of N, e.g. 0/4 .. 3/4"},
    {.type = VG_OPT_NOTE, .help = "  Durations take units: 500ms, 2s, 1m; a bare number means seconds."},

    {.type = VG_OPT_NOTE, .help = "\nService checks:"},
    {.name = "check", .type = VG_OPT_FLAG, S(check),
     .help = "check the service on every open TCP port as it is\n"
             "found (22 ssh, 25/587 smtp, 53 dns, 80 http, 143 imap,\n"
             "443 https, 3306 mysql; other ports: by their banner)\n"
             "and add the verdict to the port's record"},
    {.name = "check-timeout", .type = VG_OPT_DURATION, S(check_timeout_ms), .min = 1, .max = 600000, .arg = "D",
     .help = "budget of each check (default 5s)", .expect = "expected e.g. 500ms, 5s (at most 10m)"},

    {.type = VG_OPT_NOTE, .help = "\nOutput:"},
    {.name = "output", .letter = 'o', .type = VG_OPT_CALLBACK, .parse = opt_output, .arg = "FMT[=FILE]",
     .help = "text or ndjson; repeatable; without =FILE to stdout\ninstead of the table; FILE '-' is stdout"},
    {.name = "open", .type = VG_OPT_FLAG, S(open_only), .help = "show only open ports (in every format)"},
    {.name = "verbose", .letter = 'v', .type = VG_OPT_INCR, S(verbose),
     .help = "also list closed and filtered ports"},
    {.name = "quiet", .letter = 'q', .type = VG_OPT_FLAG, S(quiet), .help = "no progress line on stderr"},
    {.name = "help", .letter = 'h', .type = VG_OPT_FLAG, .flags = VG_OPTF_STOP, .help = "this text"},
};

#define SCAN_ROWS (sizeof(scan_rows) / sizeof(scan_rows[0]))

/* nmap's multi-letter short options, rewritten to our long ones before
 * getopt sees them. */
static const char *nmap_alias(const char *arg)
{
    static const struct { const char *from, *to; } map[] = {
        {"-iL", "--input-file"}, {"-sT", "--connect"}, {"-sS", "--syn"},
        {"-sU", "--udp"},        {"-sn", "--ping-only"}, {"-Pn", "--no-ping"},
    };
    for(size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if(!strcmp(arg, map[i].from))
            return map[i].to;
    return NULL;
}

static void scan_usage(FILE *fp, const struct cli_opts *p)
{
    fputs("Usage: " PROG " scan [OPTIONS] TARGET...\n"
          "\n"
          "Reports every port of every target as open, closed or filtered, with the\n"
          "evidence: reason, round-trip time and number of tries.\n"
          "\n", fp);
    cli_opts_help(fp, p, 27);
    fputs("\n"
          "Exit status: 0 scan completed, 1 usage error (bad target, port or option),\n"
          "2 runtime error, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP (results\n"
          "found so far are written).\n"
          "With --check the verdicts are in the records; they do not change the exit status.\n", fp);
}

/* The templates' values, as nmap documents them: T0-T2 wait between
 * probes (5 min, 15 s, 0.4 s), here as a rate cap; T4 and T5 shorten the
 * timeouts and cap the retries. The adaptive tries and rate stay on.
 * Options given explicitly are kept. */
static void apply_template(vg_scan_opts *o, int t, const struct cli_opts *p)
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
    if(!cli_opts_given(p, "rate") && tp[t].rate > 0)
        o->rate = tp[t].rate;
    if(!cli_opts_given(p, "min-rtt-timeout"))
        o->min_rtt_timeout_ms = tp[t].min_rtt;
    if(!cli_opts_given(p, "max-rtt-timeout"))
        o->max_rtt_timeout_ms = tp[t].max_rtt;
    if(!cli_opts_given(p, "initial-rtt-timeout"))
        o->init_rtt_timeout_ms = tp[t].init_rtt;
    if(!cli_opts_given(p, "max-retries"))
        o->max_retries = tp[t].max_retries;
}

/* Which engine runs: what was asked for; else SYN when we may open raw
 * sockets (or only print probes), connect otherwise. "T:" / "U:" ports
 * must fit the kinds asked for; with no kind given, "U:" ports add a UDP
 * scan and the ports without a prefix stay TCP. */
static int choose_engine(struct scan_cli *c)
{
    vg_error err = {0};
    size_t n_t = vg_ports_count_prefixed(c->ports, IPPROTO_TCP);
    size_t n_u = vg_ports_count_prefixed(c->ports, IPPROTO_UDP);
    size_t n_any = vg_ports_count_prefixed(c->ports, 0);
    bool raw_ok = c->dry_run || vg_have_raw_privileges();

    if(c->want_connect && (c->want_syn || c->want_udp))
        return usage_error("--connect cannot be combined with --syn or --udp");
    if(c->ping_only && (c->want_connect || c->want_syn || c->want_udp || c->no_ping))
        return usage_error("--ping-only cannot be combined with -sT, -sS, -sU or -Pn");
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
            return scan_lib_error(&err);
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
    if(c->opts.engine == VG_ENGINE_CONNECT && (c->opts.iface || c->opts.source.family || c->opts.source_port))
        return usage_error("-e, -S and --source-port need a raw scan (--syn or --udp)");
    return 0;
}

/* After the options: the values that must agree with each other. */
static int finish_args(struct scan_cli *c, const struct cli_opts *p, int argc, char **argv)
{
    vg_error err = {0};
    char where[64];
    int rc;

    if(c->tmpl >= 0)
        apply_template(&c->opts, c->tmpl, p);
    if(c->opts.min_rate > 0 && c->opts.rate > 0 && c->opts.min_rate > c->opts.rate)
        return usage_error("--min-rate (%.0f) is above --max-rate (%.0f)", c->opts.min_rate, c->opts.rate);
    for(int i = p->first_operand; i < argc; i++) {
        snprintf(where, sizeof(where), "target argument %d", i - p->first_operand + 1);
        if(vg_targets_add(c->targets, argv[i], where, &err))
            return scan_lib_error(&err);
        append_desc(&c->targets_desc, &c->targets_desc_len, argv[i]);
    }
    if(c->opts.min_rtt_timeout_ms > c->opts.max_rtt_timeout_ms) {
        /* Only --max-rtt-timeout given, below the default floor: lower the
         * floor with it. Both given and contradictory: say so. */
        if(!cli_opts_given(p, "min-rtt-timeout"))
            c->opts.min_rtt_timeout_ms = c->opts.max_rtt_timeout_ms;
        else
            return usage_error("--min-rtt-timeout (%u ms) is above --max-rtt-timeout (%u ms)",
                               c->opts.min_rtt_timeout_ms, c->opts.max_rtt_timeout_ms);
    }
    if(!c->targets_desc_len) {
        fprintf(stderr, PROG " scan: no targets given (try '" PROG " scan --help')\n");
        return EXIT_SCAN_USAGE;
    }
    if(!c->have_ports) {
        if(vg_ports_add(c->ports, VG_PORTS_DEFAULT, &err))
            return scan_lib_error(&err);
        c->ports_desc = strdup(VG_PORTS_DEFAULT);
    }
    if((rc = choose_engine(c)))
        return rc;
    if(c->check_timeout_ms && !c->check)
        return usage_error("--check-timeout needs --check");
    if(c->check && c->ping_only)
        return usage_error("--check needs a port scan, not --ping-only");
    if(c->check && !c->check_timeout_ms)
        c->check_timeout_ms = 5000;
    /* The table goes to stdout unless an -o without =FILE took its place. */
    for(int i = 0; i < c->nouts; i++)
        if(!c->outs[i].path || !strcmp(c->outs[i].path, "-"))
            return 0;
    return add_output(c, "text");
}

int scan_parse_args(struct scan_cli *c, int argc, char **argv)
{
    struct cli_opts p = {0};
    vg_error err = {0};
    int rc;

    /* Rewrite nmap-style options in place; getopt permutes argv anyway. */
    for(int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        const char *alias = nmap_alias(argv[i]);
        if(alias)
            argv[i] = (char *)alias;
    }
    c->tmpl = -1;
    cli_opts_add(&p, scan_rows, SCAN_ROWS, c);
    rc = cli_opts_parse(&p, argc, argv, &err);
    if(rc < 0)
        rc = err.code == VG_EINVAL ? usage_error("%s", err.msg) : scan_lib_error(&err);
    else if(!rc && p.stopped) {
        scan_usage(stdout, &p);
        rc = -1;
    }
    else if(!rc)
        rc = finish_args(c, &p, argc, argv);
    cli_opts_free(&p);
    return rc;
}
