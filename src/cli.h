/* SPDX-License-Identifier: MIT */
/* Helpers the subcommands of the CLI share: number and duration parsing,
 * exit codes, and the signal flags main() owns. */
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

/* "500ms", "2s", "1.5s", "1m", "1h", or a bare number meaning seconds.
 * Returns false on junk, negative or overflowing values. */
bool cli_parse_duration_ms(const char *s, uint64_t *ms);

/* A whole decimal number in [min, max]. */
bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A positive decimal number (may have a fraction). */
bool cli_parse_double(const char *s, double *out);

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
