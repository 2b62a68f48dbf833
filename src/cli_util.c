/* SPDX-License-Identifier: MIT */
/* Shared CLI helpers: signals, limits, output specs. (Numbers and
 * durations are read by the option tables: include/vigia/options.h.) */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t cli_interrupted;

/* The first of SIGINT, SIGTERM, SIGHUP caught (0: none), and whether a
 * signal still ends the process at once (before any output is open). */
static volatile sig_atomic_t first_signal;
static volatile sig_atomic_t signals_deferred;

static const int caught[] = {SIGINT, SIGTERM, SIGHUP};

static void on_signal(int sig)
{
    /* Nothing is open yet that a half-finished exit could damage: leave
     * with the signal's status now rather than after a slow step (name
     * resolution) that cannot see the flag. */
    if(!signals_deferred)
        _exit(128 + sig);
    if(!first_signal)
        first_signal = sig;
    if(cli_interrupted < 100)
        cli_interrupted++;
}

void cli_signals_init(void)
{
    struct sigaction sa, old;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    /* Handlers run one at a time, so the first signal is the one kept. A
     * blocking write to a pipe or terminal that a signal interrupts is
     * restarted, not failed with EINTR: a record is never cut short by a
     * signal. poll() and epoll_wait() still return early, as the loops
     * want. */
    sigemptyset(&sa.sa_mask);
    for(size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
        sigaddset(&sa.sa_mask, caught[i]);
    sa.sa_flags = SA_RESTART;
    sigemptyset(&set);
    for(size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++) {
        /* nohup's SIGHUP stays ignored: that is what nohup is for. */
        if(caught[i] == SIGHUP && sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(caught[i], &sa, NULL);
        sigaddset(&set, caught[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    /* A parent may start us with these signals blocked; one sent during
     * our start would then wait for ever. With the handler in place it is
     * taken now. */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void cli_signals_defer(void)
{
    signals_deferred = 1;
}

int cli_stop_signal(bool stdout_broken)
{
    if(first_signal)
        return first_signal;
    return stdout_broken ? SIGPIPE : 0;
}

int cli_interrupt_status(void)
{
    return 128 + (first_signal ? first_signal : SIGINT);
}

const char *cli_signal_name(int sig)
{
    switch(sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGPIPE: return "SIGPIPE";
    default: return NULL;
    }
}

void cli_exit_broken_pipe(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGPIPE);
    _exit(128 + SIGPIPE); /* only if SIGPIPE could not end us */
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
