/* SPDX-License-Identifier: MIT */
/* The library's own allocations go through these wrappers, so a test can
 * make one chosen allocation fail and check that every caller turns that
 * into VG_ENOMEM, frees what it holds and never crashes. The wrappers
 * behave exactly like malloc, calloc, realloc and strdup otherwise; what
 * they return is freed with free(). */
#ifndef VIGIA_ALLOC_H
#define VIGIA_ALLOC_H

#include <stddef.h>

void *vg_malloc(size_t size);
void *vg_calloc(size_t n, size_t size);
void *vg_realloc(void *ptr, size_t size);
char *vg_strdup(const char *s);

/* Test-only fault injection, process-wide and thread-safe. Resets the
 * count of allocations to zero; then the n-th allocation through the
 * wrappers from now on (1 = the next one), and only that one, returns
 * NULL. n = 0 turns injection off (the count still runs). */
void vg_alloc_fail_after(unsigned long n);

/* Allocations through the wrappers since the last vg_alloc_fail_after(),
 * the failed one included. */
unsigned long vg_alloc_count(void);

#endif
