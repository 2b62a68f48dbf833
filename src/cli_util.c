/* SPDX-License-Identifier: MIT */
/* Shared CLI helpers: parsing of numbers and durations, signals, limits. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    if(cli_interrupted < 100)
        cli_interrupted++;
}

void cli_signals_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool cli_parse_double(const char *s, double *out)
{
    char *end;
    double v;
    if(!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    v = strtod(s, &end);
    if(errno || *end || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

bool cli_parse_duration_ms(const char *s, uint64_t *ms)
{
    char *end;
    double v, mult = 1000.0;

    if(!s || !*s || !((*s >= '0' && *s <= '9') || *s == '.'))
        return false;
    errno = 0;
    v = strtod(s, &end);
    if(errno || !isfinite(v) || v < 0 || end == s)
        return false;
    if(!strcmp(end, "") || !strcmp(end, "s"))
        mult = 1000.0;
    else if(!strcmp(end, "ms"))
        mult = 1.0;
    else if(!strcmp(end, "us"))
        mult = 0.001;
    else if(!strcmp(end, "m"))
        mult = 60000.0;
    else if(!strcmp(end, "h"))
        mult = 3600000.0;
    else
        return false;
    v *= mult;
    if(v > 1e12)
        return false;
    *ms = (uint64_t)llround(v);
    return true;
}

bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if(!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if(errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

uint64_t cli_raise_nofile(void)
{
    struct rlimit rl;
    if(getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024;
    if(rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        /* Past a million the kernel's per-process table is the limit. */
        if(want == RLIM_INFINITY || want > 1048576)
            want = 1048576;
        rl.rlim_cur = want;
        if(setrlimit(RLIMIT_NOFILE, &rl) < 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

double cli_unix_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_output_split(const char *spec, char *fmt, size_t fmtlen, const char **path)
{
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : strlen(spec);

    if(n == 0 || n >= fmtlen)
        return "expected FORMAT[=FILE]";
    memcpy(fmt, spec, n);
    fmt[n] = '\0';
    *path = eq ? eq + 1 : NULL;
    if(*path && !**path)
        return "empty file name";
    return NULL;
}
