/* SPDX-License-Identifier: MIT */
/* The epoll event loop: a watcher table indexed by fd and a binary min-heap
 * of timers. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "engine/loop.h"
#include "util/alloc.h"

#define LOOP_BATCH 256

struct watcher {
    vg_io_fn fn;
    void *ud;
    uint32_t events; /* 0: not registered with epoll */
    uint32_t gen;    /* bumped on every add, so stale events of a reused fd are dropped */
};

struct vg_loop {
    int epfd;
    int max_fds;
    struct watcher *watchers;
    vg_timer **heap;
    uint32_t heap_len;
    uint32_t heap_cap;
    bool no_pwait2;      /* the kernel lacks epoll_pwait2 */
    bool backlog;        /* the last wait filled its batch: more may be ready */
};

uint64_t vg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

vg_loop *vg_loop_new(int max_fds)
{
    vg_loop *loop = vg_calloc(1, sizeof(*loop));
    if(!loop)
        return NULL;
    loop->max_fds = max_fds > 0 ? max_fds : 1024;
    loop->watchers = vg_calloc((size_t)loop->max_fds, sizeof(*loop->watchers));
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if(!loop->watchers || loop->epfd < 0) {
        vg_loop_free(loop);
        return NULL;
    }
    return loop;
}

void vg_loop_free(vg_loop *loop)
{
    if(!loop)
        return;
    if(loop->epfd >= 0)
        close(loop->epfd);
    free(loop->watchers);
    free(loop->heap);
    free(loop);
}

int vg_loop_watch(vg_loop *loop, int fd, uint32_t events, vg_io_fn fn, void *ud)
{
    struct epoll_event ev;
    struct watcher *w;
    int op;

    if(fd < 0 || fd >= loop->max_fds)
        return -EMFILE;
    w = &loop->watchers[fd];
    op = w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if(op == EPOLL_CTL_ADD)
        w->gen++;
    ev.events = events;
    ev.data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd;
    if(epoll_ctl(loop->epfd, op, fd, &ev) < 0)
        return -errno;
    w->fn = fn;
    w->ud = ud;
    w->events = events ? events : EPOLLERR;
    return 0;
}

void vg_loop_unwatch(vg_loop *loop, int fd, int also_epoll_del)
{
    if(fd < 0 || fd >= loop->max_fds)
        return;
    if(also_epoll_del && loop->watchers[fd].events)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->watchers[fd].events = 0;
    loop->watchers[fd].fn = NULL;
    loop->watchers[fd].ud = NULL;
}

/* --- timer heap ------------------------------------------------------- */

static void heap_set(vg_loop *loop, uint32_t pos, vg_timer *t)
{
    loop->heap[pos] = t;
    t->heap_pos = pos;
}

static void heap_up(vg_loop *loop, uint32_t pos)
{
    vg_timer *t = loop->heap[pos];
    while(pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if(loop->heap[parent]->deadline_us <= t->deadline_us)
            break;
        heap_set(loop, pos, loop->heap[parent]);
        pos = parent;
    }
    heap_set(loop, pos, t);
}

static void heap_down(vg_loop *loop, uint32_t pos)
{
    vg_timer *t = loop->heap[pos];
    for(;;) {
        uint32_t child = pos * 2 + 1;
        if(child >= loop->heap_len)
            break;
        if(child + 1 < loop->heap_len &&
           loop->heap[child + 1]->deadline_us < loop->heap[child]->deadline_us)
            child++;
        if(t->deadline_us <= loop->heap[child]->deadline_us)
            break;
        heap_set(loop, pos, loop->heap[child]);
        pos = child;
    }
    heap_set(loop, pos, t);
}

void vg_timer_init(vg_timer *t, vg_timer_fn fn)
{
    t->deadline_us = 0;
    t->fn = fn;
    t->heap_pos = UINT32_MAX;
}

int vg_loop_reserve_timers(vg_loop *loop, uint32_t n)
{
    if(n <= loop->heap_cap)
        return 0;
    vg_timer **h = vg_realloc(loop->heap, (size_t)n * sizeof(*h));
    if(!h)
        return -ENOMEM;
    loop->heap = h;
    loop->heap_cap = n;
    return 0;
}

int vg_timer_arm(vg_loop *loop, vg_timer *t, uint64_t deadline_us)
{
    if(vg_timer_armed(t)) {
        uint64_t old = t->deadline_us;
        t->deadline_us = deadline_us;
        if(deadline_us < old)
            heap_up(loop, t->heap_pos);
        else
            heap_down(loop, t->heap_pos);
        return 0;
    }
    if(loop->heap_len == loop->heap_cap) {
        uint32_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        vg_timer **h = vg_realloc(loop->heap, cap * sizeof(*h));
        if(!h)
            return -ENOMEM;
        loop->heap = h;
        loop->heap_cap = cap;
    }
    t->deadline_us = deadline_us;
    loop->heap[loop->heap_len] = t;
    t->heap_pos = loop->heap_len++;
    heap_up(loop, t->heap_pos);
    return 0;
}

void vg_timer_disarm(vg_loop *loop, vg_timer *t)
{
    uint32_t pos = t->heap_pos;
    if(pos == UINT32_MAX)
        return;
    t->heap_pos = UINT32_MAX;
    loop->heap_len--;
    if(pos == loop->heap_len)
        return;
    vg_timer *last = loop->heap[loop->heap_len];
    heap_set(loop, pos, last);
    if(pos > 0 && loop->heap[(pos - 1) / 2]->deadline_us > last->deadline_us)
        heap_up(loop, pos);
    else
        heap_down(loop, pos);
}

uint32_t vg_loop_timer_count(const vg_loop *loop)
{
    return loop->heap_len;
}

bool vg_loop_backlogged(const vg_loop *loop)
{
    return loop->backlog;
}

/* --- dispatch ----------------------------------------------------------- */

static void run_timers(vg_loop *loop)
{
    uint64_t now = vg_now_us();
    /* Bound the work so a timer that re-arms itself for "now" cannot starve
     * I/O. */
    uint32_t budget = loop->heap_len + 16;
    while(loop->heap_len && budget--) {
        vg_timer *t = loop->heap[0];
        if(t->deadline_us > now)
            break;
        vg_timer_disarm(loop, t);
        t->fn(loop, t);
    }
}

int vg_loop_run_once(vg_loop *loop, int max_wait_ms)
{
    return vg_loop_run_once_us(loop, max_wait_ms < 0 ? -1 : (int64_t)max_wait_ms * 1000);
}

/* epoll_wait with a timeout in microseconds: epoll_pwait2 where the kernel
 * has it (5.11), else rounded up to milliseconds. */
static int wait_us(vg_loop *loop, struct epoll_event *evs, int max, int64_t us)
{
    if(us >= 0 && !loop->no_pwait2) {
        struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
        int n = epoll_pwait2(loop->epfd, evs, max, &ts, NULL);
        if(n >= 0 || errno != ENOSYS)
            return n;
        loop->no_pwait2 = true;
    }
    return epoll_wait(loop->epfd, evs, max, us < 0 ? -1 : (int)((us + 999) / 1000));
}

int vg_loop_run_once_us(vg_loop *loop, int64_t max_wait_us)
{
    struct epoll_event evs[LOOP_BATCH];
    int64_t wait = max_wait_us;
    int n;

    if(loop->heap_len) {
        uint64_t now = vg_now_us();
        uint64_t next = loop->heap[0]->deadline_us;
        int64_t until = next <= now ? 0 : (int64_t)(next - now);
        if(wait < 0 || until < wait)
            wait = until;
    }
    n = wait_us(loop, evs, LOOP_BATCH, wait);
    if(n < 0) {
        if(errno != EINTR)
            return -errno;
        n = 0;
    }
    loop->backlog = n == LOOP_BATCH;
    for(int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        struct watcher *w = &loop->watchers[fd];
        /* A callback earlier in this batch may have closed this fd, and
         * even opened a new socket that got the same number. */
        if(w->fn && w->gen == gen)
            w->fn(loop, fd, evs[i].events, w->ud);
    }
    run_timers(loop);
    return n;
}
