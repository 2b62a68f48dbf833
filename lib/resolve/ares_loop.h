/* SPDX-License-Identifier: MIT */
/* Internal to libvigia: a c-ares channel driven by a vg_loop, its sockets
 * watched by the loop and its retry timer kept in the loop's heap. The
 * resolver (resolve.c) and the dns:// check (lib/check/dns_check.c) each
 * embed one for their own channels. */
#ifndef VIGIA_ARES_LOOP_H
#define VIGIA_ARES_LOOP_H

#include <ares.h>

#include "engine/loop.h"

typedef struct vg_ares_loop {
    vg_loop *loop;
    ares_channel channel;       /* the owner's; NULL until it is made */
    vg_timer timer;             /* c-ares' next retry */
} vg_ares_loop;

/* Ties al to loop, with no channel yet. */
void vg_ares_loop_init(vg_ares_loop *al, vg_loop *loop);

/* Points o's socket callback at al: the owner adds ARES_OPT_SOCK_STATE_CB
 * to its option mask, then stores the channel that ares_init_options()
 * made in al->channel. */
void vg_ares_loop_options(vg_ares_loop *al, struct ares_options *o);

/* Arms the timer for c-ares' next timeout, or disarms it when there is
 * none; call after every call that may have sent a query. */
void vg_ares_loop_rearm(vg_ares_loop *al);

/* Disarms the timer (the owner destroys the channel). */
void vg_ares_loop_stop(vg_ares_loop *al);

#endif
