/* SPDX-License-Identifier: MIT */
/* Internal: making bytes safe to show, and durations short to read. Used
 * by the checks (messages) and the output formats alike. */
#ifndef VIGIA_UTIL_ESCAPE_H
#define VIGIA_UTIL_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* Declared for library users in vigia/check.h, where it is documented. */
char *vg_escape(char *dst, size_t dstlen, const void *src, size_t len);

/* A duration for people: "?" (negative), "1.23 ms", "45 ms", "1.50 s".
 * Returns buf. */
const char *vg_fmt_us(int64_t us, char *buf, size_t len);

#endif
