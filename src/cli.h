/* SPDX-License-Identifier: MIT */
/* Helpers the subcommands of the CLI share: exit codes, the signal flags
 * main() owns, limits and output specs. */
#ifndef VIGIA_CLI_H
#define VIGIA_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of `vigia scan` (check has its own, monitoring-plugin ones).
 * A run that SIGINT, SIGTERM or SIGHUP stopped exits 128 + the signal's
 * number (cli_interrupt_status()), in both commands. */
enum {
    EXIT_SCAN_OK = 0,
    EXIT_SCAN_USAGE = 1,
    EXIT_SCAN_RUNTIME = 2,
};

/* Count of SIGINT/SIGTERM/SIGHUP received once cli_signals_defer() ran. */
extern volatile sig_atomic_t cli_interrupted;

/* Called first thing: handlers for SIGINT, SIGTERM and SIGHUP (an ignored
 * SIGHUP, under nohup, stays ignored), SIGPIPE ignored (write errors are
 * handled where they happen), and the three unblocked. Until
 * cli_signals_defer() a signal ends the process at once with 128 + its
 * number: nothing is open that could be left half-written. */
void cli_signals_init(void);

/* Called before the first output is opened: from now on a signal only
 * counts in cli_interrupted, and the run stops, writes what it has and
 * its summary, and exits with cli_interrupt_status(). */
void cli_signals_defer(void);

/* 128 + the first signal caught (130 if none was). */
int cli_interrupt_status(void);

/* The signal that cut the run short: the first one caught; else SIGPIPE
 * when stdout's reader went away; else 0. */
int cli_stop_signal(bool stdout_broken);

/* "SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE"; NULL for anything else. */
const char *cli_signal_name(int sig);

/* Ends the process the way a filter ends when its reader goes away: by
 * SIGPIPE (a shell shows 141). */
__attribute__((noreturn)) void cli_exit_broken_pipe(void);

/* Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft
 * limit. */
uint64_t cli_raise_nofile(void);

/* Splits an -o argument "FORMAT[=FILE]" into fmt (NUL-terminated, capacity
 * fmtlen) and *path (NULL without "=FILE"). Returns NULL, or what is wrong
 * with spec, for a usage message. */
const char *cli_output_split(const char *spec, char *fmt, size_t fmtlen, const char **path);

/* Unix time now, in seconds. */
double cli_unix_time(void);

/* The program name for messages. */
#define PROG "vigia"

#endif
