/* SPDX-License-Identifier: MIT */
/* A c-ares channel on a vg_loop: c-ares says which sockets to watch
 * (ARES_OPT_SOCK_STATE_CB), the loop says which are ready, and the retry
 * timer runs c-ares' timeouts. */
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include "resolve/ares_loop.h"

void vg_ares_loop_rearm(vg_ares_loop *al)
{
    struct timeval tv;
    if(al->channel && ares_timeout(al->channel, NULL, &tv))
        vg_timer_arm(al->loop, &al->timer,
                     vg_now_us() + (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec + 1000);
    else
        vg_timer_disarm(al->loop, &al->timer);
}

static void ares_loop_io(vg_loop *loop, int fd, uint32_t events, void *ud)
{
    vg_ares_loop *al = ud;
    (void)loop;
    ares_process_fd(al->channel, events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
                    events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
    vg_ares_loop_rearm(al);
}

static void ares_loop_timer(vg_loop *loop, vg_timer *t)
{
    vg_ares_loop *al = (vg_ares_loop *)((char *)t - offsetof(vg_ares_loop, timer));
    (void)loop;
    /* With no socket given, c-ares only handles expired retries. */
    ares_process_fd(al->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    vg_ares_loop_rearm(al);
}

/* c-ares says which of its sockets to watch; (0, 0) comes before a close. */
static void ares_loop_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    vg_ares_loop *al = data;
    if(!readable && !writable)
        vg_loop_unwatch(al->loop, fd, 1);
    else
        vg_loop_watch(al->loop, fd, (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0), ares_loop_io, al);
}

void vg_ares_loop_init(vg_ares_loop *al, vg_loop *loop)
{
    al->loop = loop;
    al->channel = NULL;
    vg_timer_init(&al->timer, ares_loop_timer);
}

void vg_ares_loop_options(vg_ares_loop *al, struct ares_options *o)
{
    o->sock_state_cb = ares_loop_sock_state;
    o->sock_state_cb_data = al;
}

void vg_ares_loop_stop(vg_ares_loop *al)
{
    vg_timer_disarm(al->loop, &al->timer);
}
