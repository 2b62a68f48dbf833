/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "util/fdclose.h"

/* At most this many closing threads; beyond it, the rest go in turn. */
#define MAX_CLOSERS 16

static void *closer(void *arg)
{
    close((int)(intptr_t)arg);
    return NULL;
}

void vg_close_parallel(const int *fds, size_t n)
{
    pthread_t t[MAX_CLOSERS];
    size_t nt = 0;
    int first = -1;
    for(size_t i = 0; i < n; i++) {
        if(fds[i] < 0)
            continue;
        if(first < 0) {
            first = fds[i];
            continue;
        }
        if(nt == MAX_CLOSERS || pthread_create(&t[nt], NULL, closer, (void *)(intptr_t)fds[i]))
            close(fds[i]);
        else
            nt++;
    }
    if(first >= 0)
        close(first);
    for(size_t i = 0; i < nt; i++)
        pthread_join(t[i], NULL);
}

struct pair_job {
    void (*fn)(void *);
    void *arg;
};

static void *pair_run(void *arg)
{
    struct pair_job *j = arg;
    j->fn(j->arg);
    return NULL;
}

void vg_run_pair(void (*a)(void *), void *pa, void (*b)(void *), void *pb)
{
    struct pair_job job = {.fn = b, .arg = pb};
    pthread_t t;
    bool spawned = pthread_create(&t, NULL, pair_run, &job) == 0;
    a(pa);
    if(spawned)
        pthread_join(t, NULL);
    else
        b(pb);
}
