/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

/* The one piece of process-wide mutable state in the library: the fault
 * injection switch that only tests set. Off (fail_at == 0) by default, so
 * callers that never touch it see plain malloc. Atomics keep the count
 * exact when several scan workers allocate at once. */
static atomic_ulong alloc_count;
static atomic_ulong fail_at;

/* True when this allocation is the one chosen to fail. */
static int alloc_should_fail(void)
{
    unsigned long n = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
    unsigned long f = atomic_load_explicit(&fail_at, memory_order_relaxed);
    return f != 0 && n == f;
}

void vg_alloc_fail_after(unsigned long n)
{
    atomic_store(&fail_at, 0);
    atomic_store(&alloc_count, 0);
    atomic_store(&fail_at, n);
}

unsigned long vg_alloc_count(void)
{
    return atomic_load(&alloc_count);
}

void *vg_malloc(size_t size)
{
    return alloc_should_fail() ? NULL : malloc(size);
}

void *vg_calloc(size_t n, size_t size)
{
    return alloc_should_fail() ? NULL : calloc(n, size);
}

void *vg_realloc(void *ptr, size_t size)
{
    return alloc_should_fail() ? NULL : realloc(ptr, size);
}

char *vg_strdup(const char *s)
{
    return alloc_should_fail() ? NULL : strdup(s);
}
