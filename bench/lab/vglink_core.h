/* SPDX-License-Identifier: MIT */
/* The pure parts of vglink, the lab's user-space link emulator: option
 * parsing, a seedable RNG, the per-direction impairment path (random loss,
 * a packets-per-second shaper with a bounded FIFO queue, delay and jitter)
 * and the delay line that holds frames until their release time. Nothing
 * here does I/O, so the unit tests drive it with made-up clocks. */
#ifndef VGLINK_CORE_H
#define VGLINK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VGL_NS_PER_SEC 1000000000ull

/* Impairments of one direction; all zero means a plain wire. */
struct vgl_dir_opts {
    double delay_ms;  /* constant one-way delay */
    double jitter_ms; /* uniform random extra delay in [0, jitter) */
    double loss_pct;  /* independent random drop, 0..100 */
    uint64_t rate_pps; /* 0: no cap */
    uint32_t queue;   /* packets the shaper may hold waiting (with rate) */
    bool reorder;     /* with jitter: release by time, not arrival order */
};

/* Parses "delay=25,jitter=1.5,loss=2,rate=50000,queue=64,reorder" (any
 * subset, any order; "" and "none" mean no impairment) into *o, which it
 * resets first. Returns 0, or -1 with a message in err. */
int vgl_parse_dir(const char *spec, struct vgl_dir_opts *o, char *err, size_t errlen);

/* Formats o back as a spec string (for the start-up line and the stats). */
void vgl_format_dir(const struct vgl_dir_opts *o, char *buf, size_t len);

/* xoshiro256** seeded through splitmix64: fast, and the same seed gives the
 * same sequence of decisions. */
struct vgl_rng {
    uint64_t s[4];
};
void vgl_rng_seed(struct vgl_rng *r, uint64_t seed);
uint64_t vgl_rng_next(struct vgl_rng *r);

/* The shaper: a token bucket of `burst` packets refilled at rate_pps,
 * serving a FIFO queue of at most `queue` waiting packets. Because service
 * is FIFO and takes a fixed 1/rate, each packet's departure time is known
 * when it arrives (the virtual-scheduling form of the token bucket), so no
 * second buffer is needed: an admitted packet goes straight to the delay
 * line with its departure time. */
struct vgl_shaper {
    uint64_t interval_ns; /* 1/rate */
    uint64_t tau_ns;      /* (burst - 1) * interval: how early a packet may go */
    uint64_t tat_ns;      /* theoretical arrival time of the next packet */
    uint64_t limit_ns;    /* queue * interval: the longest a packet may wait */
};
void vgl_shaper_init(struct vgl_shaper *s, uint64_t rate_pps, uint32_t queue, uint32_t burst);
/* A packet arrives at now: returns true with its departure time, or false
 * when the queue is full (tail drop; the shaper state is unchanged). */
bool vgl_shaper_admit(struct vgl_shaper *s, uint64_t now_ns, uint64_t *depart_ns);

/* One direction's impairment path: loss, then the shaper, then delay and
 * jitter. Release times are non-decreasing unless reorder is set. */
enum vgl_verdict { VGL_PASS, VGL_DROP_LOSS, VGL_DROP_QUEUE };
struct vgl_path {
    struct vgl_dir_opts opts;
    struct vgl_rng rng;
    struct vgl_shaper shaper;
    bool shaped;
    uint64_t loss_threshold; /* drop when rng < threshold */
    bool lossy;
    uint64_t delay_ns, jitter_ns;
    uint64_t last_release_ns;
};
#define VGL_BURST 2
void vgl_path_init(struct vgl_path *p, const struct vgl_dir_opts *o, uint64_t seed);
enum vgl_verdict vgl_path_admit(struct vgl_path *p, uint64_t now_ns, uint64_t *release_ns);

/* The delay line: a preallocated set of frame slots. Without reorder it is
 * a ring (release times are non-decreasing, so the oldest frame is always
 * the next due); with reorder, a binary heap on (release time, arrival
 * order) over the same slots. */
struct vgl_slot {
    uint64_t release_ns;
    uint64_t seq;
    uint32_t len;
    uint32_t pad;
    unsigned char data[]; /* `frame_max` bytes */
};
struct vgl_line {
    unsigned char *mem;  /* cap slots of `stride` bytes */
    size_t stride, frame_max;
    uint32_t cap, count, head; /* ring: head index; heap: heap[] holds slot indices */
    bool reorder;
    uint32_t *heap;  /* reorder: slot indices ordered as a min-heap */
    uint32_t *free;  /* reorder: stack of free slot indices */
    uint32_t nfree;
    uint64_t seq;
};
/* Allocates cap slots for frames of up to frame_max bytes. Returns 0 or -1
 * (out of memory). */
int vgl_line_init(struct vgl_line *l, uint32_t cap, size_t frame_max, bool reorder);
void vgl_line_free(struct vgl_line *l);
/* A slot to read the next frame into, or NULL when the line is full. The
 * slot belongs to the line until vgl_line_commit() is called for it; not
 * committing (the frame was dropped) leaves the line unchanged. */
struct vgl_slot *vgl_line_reserve(struct vgl_line *l);
void vgl_line_commit(struct vgl_line *l, struct vgl_slot *s, uint64_t release_ns, uint32_t len);
/* The frame due first, or NULL when empty. */
struct vgl_slot *vgl_line_peek(const struct vgl_line *l);
void vgl_line_pop(struct vgl_line *l);

/* Delay-line size for a one-way delay and packet rate (what the line must
 * hold while the delay elapses), plus the shaper queue and some slack. */
uint32_t vgl_line_size_for(double delay_ms, double jitter_ms, uint64_t pps, uint32_t queue);

/* The write log of one direction: when each frame it wrote was due and
 * when it was really written. The far side answers many frames at once,
 * inside the write (a SYN-ACK, a RST), and the other direction stamps the
 * answer then. A writer the scheduler held back writes a late batch at
 * once, and its answers would reach the other direction's queue as a burst
 * that a real link, whose writes keep to their times, never makes. The
 * other direction moves such an answer back by the lateness of the write
 * it followed. One thread adds, the other reads: the entries are atomics,
 * and a reader looks only at the newest VGL_WLOG_SCAN of VGL_WLOG_SIZE,
 * which the writer cannot overwrite while it looks. */
#define VGL_WLOG_SIZE 4096
#define VGL_WLOG_SCAN 1024
struct vgl_wlog {
    uint64_t due_ns[VGL_WLOG_SIZE], written_ns[VGL_WLOG_SIZE];
    uint64_t n; /* entries added so far */
};
void vgl_wlog_add(struct vgl_wlog *l, uint64_t due_ns, uint64_t written_ns);
/* The time a frame stamped at_ns would have had if the writes had kept to
 * their times: at_ns moved back by the lateness of the newest write at or
 * before at_ns, when that write was at most window_ns earlier; else at_ns. */
uint64_t vgl_wlog_adjust(const struct vgl_wlog *l, uint64_t at_ns, uint64_t window_ns);
/* Whether an ethernet frame is an immediate answer, the kind a host sends
 * while it handles the frame it answers: a TCP SYN-ACK or RST, an ICMP or
 * ICMPv6 error or echo reply, an ARP reply or neighbour advertisement.
 * Only these are moved back (a probe sent just after a late write is not
 * its answer). */
bool vgl_frame_is_answer(const unsigned char *f, size_t len);

#endif
