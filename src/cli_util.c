/* SPDX-License-Identifier: MIT */
/* Shared CLI helpers: signals, limits, output specs. (Numbers and
 * durations are read by the option tables: include/vigia/options.h.) */
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
