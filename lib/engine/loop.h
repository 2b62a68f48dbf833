/* SPDX-License-Identifier: MIT */
/* A small epoll event loop with a timer heap, in the spirit of redis' ae:
 * file-descriptor watchers and one-shot timers, nothing else. One loop per
 * thread; a loop is not thread-safe. */
#ifndef VIGIA_LOOP_H
#define VIGIA_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct vg_loop vg_loop;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, ...) that fired. */
typedef void (*vg_io_fn)(vg_loop *loop, int fd, uint32_t events, void *ud);

/* A timer is embedded by its owner, who keeps it alive while armed. */
typedef struct vg_timer vg_timer;
typedef void (*vg_timer_fn)(vg_loop *loop, vg_timer *timer);
struct vg_timer {
    uint64_t deadline_us; /* monotonic, vg_now_us() clock */
    vg_timer_fn fn;
    uint32_t heap_pos;    /* owned by the loop; UINT32_MAX when not armed */
};

/* Monotonic clock in microseconds. */
uint64_t vg_now_us(void);

/* max_fds sizes the watcher table: fds >= max_fds cannot be watched. */
vg_loop *vg_loop_new(int max_fds);
void vg_loop_free(vg_loop *loop);

/* Returns 0 or -errno. vg_loop_watch adds or modifies. */
int vg_loop_watch(vg_loop *loop, int fd, uint32_t events, vg_io_fn fn, void *ud);
/* Stops watching fd; call before close() (closing alone also works for
 * epoll, but the watcher slot must be cleared). */
void vg_loop_unwatch(vg_loop *loop, int fd, int also_epoll_del);

void vg_timer_init(vg_timer *t, vg_timer_fn fn);
/* Makes room for n armed timers at once, so that arming any of them never
 * fails for want of memory. Returns 0 or -ENOMEM. */
int vg_loop_reserve_timers(vg_loop *loop, uint32_t n);
/* Arms (or re-arms) t to fire at deadline_us. Returns 0, or -ENOMEM when
 * the heap had to grow beyond what vg_loop_reserve_timers() made room for
 * and could not. */
int vg_timer_arm(vg_loop *loop, vg_timer *t, uint64_t deadline_us);
void vg_timer_disarm(vg_loop *loop, vg_timer *t);
static inline int vg_timer_armed(const vg_timer *t) { return t->heap_pos != UINT32_MAX; }

/* Waits up to max_wait_ms (-1: until the next timer or event; 0: do not
 * block) for events, dispatches them, then runs the due timers. Returns the
 * number of events dispatched or -errno. EINTR is not an error. */
int vg_loop_run_once(vg_loop *loop, int max_wait_ms);
/* The same with a wait in microseconds (-1: until an event or a timer). */
int vg_loop_run_once_us(vg_loop *loop, int64_t max_wait_us);

/* Whether the last wait returned a full batch of events, so that more may
 * be ready and not yet dispatched (a timer running now may be due for a
 * socket whose event is still waiting). */
bool vg_loop_backlogged(const vg_loop *loop);

/* Number of armed timers (for tests and sanity checks). */
uint32_t vg_loop_timer_count(const vg_loop *loop);

#endif
