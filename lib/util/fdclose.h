/* SPDX-License-Identifier: MIT */
/* Closing descriptors whose close waits: the kernel releases an AF_PACKET
 * socket only after an RCU grace period (synchronize_net), 10-30 ms on a
 * virtual machine, so closing a scan's capture and ARP sockets one after
 * another costs that much each at the end of every raw scan. */
#ifndef VIGIA_UTIL_FDCLOSE_H
#define VIGIA_UTIL_FDCLOSE_H

#include <stddef.h>

/* Closes the descriptors fds[0..n) that are >= 0, at the same time (one
 * thread each beyond the first; one after another if a thread cannot be
 * had), and returns when all are closed. */
void vg_close_parallel(const int *fds, size_t n);

/* Runs a(pa) and b(pb) at the same time when a thread can be had, else
 * one after the other; returns when both are done. */
void vg_run_pair(void (*a)(void *), void *pa, void (*b)(void *), void *pb);

#endif
