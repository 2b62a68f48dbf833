/* SPDX-License-Identifier: MIT */
/* Helpers the subcommands of the CLI share: exit codes, the signal flags
 * main() owns, limits and output specs. */
#ifndef VIGIA_CLI_H
#define VIGIA_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of `vigia scan` (check has its own, monitoring-plugin ones). */
enum {
    EXIT_SCAN_OK = 0,
    EXIT_SCAN_USAGE = 1,
    EXIT_SCAN_RUNTIME = 2,
    EXIT_INTERRUPTED = 130,
};

/* Set by the SIGINT/SIGTERM handler (count of signals received). */
extern volatile sig_atomic_t cli_interrupted;

/* Installs the handlers for SIGINT and SIGTERM and ignores SIGPIPE (write
 * errors are handled where they happen). */
void cli_signals_init(void);

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
