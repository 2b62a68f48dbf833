/* SPDX-License-Identifier: MIT */
/* vglink: a user-space link emulator for the WAN lab. It joins two network
 * namespaces through two TAP devices (ethernet frames, so ARP and neighbour
 * discovery pass): TAP A in the namespace it starts in, TAP B in the
 * namespace named by --ns. Each direction has its own impairments (delay,
 * jitter, random loss, a packets-per-second cap with a bounded queue) and
 * its own thread, delay line and counters. The kernel here has no netem;
 * this is the lab's substitute.
 *
 * Lifetime: prints "ready" once both taps exist; exits on SIGTERM/SIGINT,
 * when stdin closes, or after --max-seconds. SIGUSR1 prints the counters so
 * far as one JSON line on stdout; at exit they go to stderr. */
#include "vglink_core.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 1518 /* MTU 1500 + ethernet header + one VLAN tag */
#define READ_BATCH 64
#define WRITE_BATCH 256
#define DEFAULT_PPS 150000
#define DEFAULT_MIN_DELAY_MS 300.0
/* A frame stamped this soon after the other direction's write is taken for
 * the far side's immediate answer to it (made inside the write). */
#define ANSWER_WINDOW_NS 200000

enum { EV_IN = 1, EV_TIMER, EV_STOP };

struct counters {
    uint64_t received, forwarded, drop_loss, drop_queue, drop_ring, tx_errors, rx_errors;
};

struct dir {
    const char *name;
    char spec[160];
    int in_fd, out_fd, ep, tfd, stop_fd;
    int timed_fd; /* packet socket on the input tap (shaped directions), or -1 */
    struct vgl_wlog *log;            /* this direction's writes */
    const struct vgl_wlog *log_peer; /* the other direction's, for timed input */
    struct vgl_path path;
    struct vgl_line line;
    uint64_t armed_ns;
    struct counters c; /* written by the direction's thread only */
    pthread_t thread;
    unsigned char scratch[FRAME_MAX];
};

/* The direction's thread is the only writer of its counters; the main
 * thread reads them for SIGUSR1 snapshots. */
#define BUMP(d, field) __atomic_store_n(&(d)->c.field, (d)->c.field + 1, __ATOMIC_RELAXED)
#define LOAD(d, field) __atomic_load_n(&(d)->c.field, __ATOMIC_RELAXED)

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * VGL_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "vglink: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int open_tap(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        die("open /dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (strlen(name) >= IFNAMSIZ) {
        fprintf(stderr, "vglink: interface name '%s' is too long\n", name);
        exit(2);
    }
    strcpy(ifr.ifr_name, name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        die(name);
    return fd;
}

/* Sets the tap's transmit queue length (the ring the kernel fills for us to
 * read), in the namespace the calling thread is in. */
static void set_txqlen(const char *name, int qlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, name);
    ifr.ifr_qlen = qlen;
    if (ioctl(s, SIOCSIFTXQLEN, &ifr) < 0)
        die("SIOCSIFTXQLEN");
    close(s);
}

static void release_due(struct dir *d, uint64_t now)
{
    for (int i = 0; i < WRITE_BATCH; i++) {
        struct vgl_slot *s = vgl_line_peek(&d->line);
        if (s == NULL || s->release_ns > now)
            return;
        vgl_wlog_add(d->log, s->release_ns, mono_ns());
        if (write(d->out_fd, s->data, s->len) < 0)
            BUMP(d, tx_errors);
        else
            BUMP(d, forwarded);
        vgl_line_pop(&d->line);
    }
}

/* The frame's time, from the packet socket's timestamp (CLOCK_REALTIME) on
 * the monotonic clock; now when it has none or it lies ahead. */
static uint64_t frame_time_ns(struct msghdr *mh, int64_t real_minus_mono, uint64_t now)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        int64_t at = (int64_t)ts.tv_sec * (int64_t)VGL_NS_PER_SEC + ts.tv_nsec - real_minus_mono;
        return at <= 0 || (uint64_t)at > now ? now : (uint64_t)at;
    }
    return now;
}

static void admit(struct dir *d, struct vgl_slot *s, uint64_t at_ns, uint32_t len)
{
    uint64_t release;
    switch (vgl_path_admit(&d->path, at_ns, &release)) {
    case VGL_PASS:
        vgl_line_commit(&d->line, s, release, len);
        break;
    case VGL_DROP_LOSS:
        BUMP(d, drop_loss);
        break;
    case VGL_DROP_QUEUE:
        BUMP(d, drop_queue);
        break;
    }
}

/* A shaped direction reads its frames from a packet socket on the input tap,
 * which stamps each frame when the kernel hands it to the tap. A link's
 * queue fills by arrival time; the time this thread gets to read a frame is
 * later, by as long as the scheduler held the thread back, and a
 * millisecond's frames read at once would overflow a 64-frame queue below
 * the cap. The tap's own copies are read and thrown away. */
static void read_timed(struct dir *d)
{
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t now = mono_ns();
    int64_t offset = (int64_t)real.tv_sec * (int64_t)VGL_NS_PER_SEC + real.tv_nsec - (int64_t)now;
    for (int i = 0; i < READ_BATCH; i++) {
        struct vgl_slot *s = vgl_line_reserve(&d->line);
        unsigned char *buf = s != NULL ? s->data : d->scratch;
        union {
            char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = buf, .iov_len = FRAME_MAX};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        ssize_t r = recvmsg(d->timed_fd, &mh, MSG_DONTWAIT);
        if (r <= 0) {
            if (r < 0 && errno != EAGAIN && errno != EINTR)
                BUMP(d, rx_errors);
            break;
        }
        BUMP(d, received);
        if (s == NULL) {
            BUMP(d, drop_ring);
            continue;
        }
        if (mh.msg_flags & MSG_TRUNC) {
            BUMP(d, rx_errors);
            continue;
        }
        uint64_t at = frame_time_ns(&mh, offset, mono_ns());
        if (vgl_frame_is_answer(buf, (size_t)r))
            at = vgl_wlog_adjust(d->log_peer, at, ANSWER_WINDOW_NS);
        admit(d, s, at, (uint32_t)r);
    }
    for (int i = 0; i < 4 * READ_BATCH; i++) {
        if (read(d->in_fd, d->scratch, FRAME_MAX) <= 0)
            break;
    }
}

static void read_batch(struct dir *d)
{
    if (d->timed_fd >= 0) {
        read_timed(d);
        return;
    }
    for (int i = 0; i < READ_BATCH; i++) {
        struct vgl_slot *s = vgl_line_reserve(&d->line);
        unsigned char *buf = s != NULL ? s->data : d->scratch;
        ssize_t r = read(d->in_fd, buf, FRAME_MAX);
        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR)
                BUMP(d, rx_errors);
            return;
        }
        if (r == 0)
            return;
        BUMP(d, received);
        if (s == NULL) {
            BUMP(d, drop_ring);
            continue;
        }
        admit(d, s, mono_ns(), (uint32_t)r);
    }
}

static void *run_dir(void *arg)
{
    struct dir *d = arg;
    struct epoll_event ev[4];
    int wait_ms = -1;
    for (;;) {
        int n = epoll_wait(d->ep, ev, 4, wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        bool stop = false, input = wait_ms == 0;
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u32 == EV_STOP) {
                stop = true;
            } else if (ev[i].data.u32 == EV_TIMER) {
                uint64_t x;
                if (read(d->tfd, &x, sizeof(x)) < 0) {
                    /* spurious: the timer was re-armed meanwhile */
                }
                d->armed_ns = 0;
            } else {
                input = true;
            }
        }
        if (stop)
            break;
        if (input)
            read_batch(d);
        uint64_t now = mono_ns();
        release_due(d, now);
        wait_ms = -1;
        struct vgl_slot *head = vgl_line_peek(&d->line);
        if (head == NULL)
            continue;
        if (head->release_ns <= now) {
            wait_ms = 0; /* more due than one batch: poll again at once */
            continue;
        }
        if (head->release_ns != d->armed_ns) {
            struct itimerspec its;
            memset(&its, 0, sizeof(its));
            its.it_value.tv_sec = (time_t)(head->release_ns / VGL_NS_PER_SEC);
            its.it_value.tv_nsec = (long)(head->release_ns % VGL_NS_PER_SEC);
            if (timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
                break;
            d->armed_ns = head->release_ns;
        }
    }
    return NULL;
}

/* A packet socket that receives the frames the kernel sends out through
 * the tap named name (in the calling thread's namespace), each with its
 * timestamp. Only the outgoing frames pass its filter: the ones the other
 * direction writes into the tap come in. */
static int open_timed(const char *name)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
    if (fd < 0)
        die("packet socket");
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    int on = 1, rcvbuf = 32 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0)
        die("packet socket options");
    /* Room for a long stall: what the socket cannot hold it drops. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, name);
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
        die("SIOCGIFINDEX");
    sll.sll_ifindex = ifr.ifr_ifindex;
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        die("bind packet socket");
    return fd;
}

static void setup_dir(struct dir *d, const char *name, int in_fd, int timed_fd, int out_fd,
                      int stop_fd, const struct vgl_dir_opts *o, uint64_t seed, uint32_t ring)
{
    d->timed_fd = timed_fd;
    d->name = name;
    d->in_fd = in_fd;
    d->out_fd = out_fd;
    d->stop_fd = stop_fd;
    vgl_format_dir(o, d->spec, sizeof(d->spec));
    vgl_path_init(&d->path, o, seed);
    if (ring == 0) {
        double delay = o->delay_ms < DEFAULT_MIN_DELAY_MS ? DEFAULT_MIN_DELAY_MS : o->delay_ms;
        uint64_t pps = o->rate_pps > DEFAULT_PPS ? o->rate_pps : DEFAULT_PPS;
        ring = vgl_line_size_for(delay, o->jitter_ms, pps, o->queue);
    }
    if (vgl_line_init(&d->line, ring, FRAME_MAX, o->reorder) < 0)
        die("delay line");
    d->ep = epoll_create1(EPOLL_CLOEXEC);
    d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (d->ep < 0 || d->tfd < 0)
        die("epoll/timerfd");
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u32 = EV_IN;
    if (epoll_ctl(d->ep, EPOLL_CTL_ADD, timed_fd >= 0 ? timed_fd : in_fd, &ev) < 0)
        die("epoll_ctl");
    ev.data.u32 = EV_TIMER;
    if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->tfd, &ev) < 0)
        die("epoll_ctl");
    ev.data.u32 = EV_STOP;
    if (epoll_ctl(d->ep, EPOLL_CTL_ADD, stop_fd, &ev) < 0)
        die("epoll_ctl");
}

static void print_json(FILE *f, struct dir *dirs, double seconds)
{
    fprintf(f, "{\"vglink\":1,\"seconds\":%.3f", seconds);
    for (int i = 0; i < 2; i++) {
        struct dir *d = &dirs[i];
        fprintf(f,
            ",\"%s\":{\"spec\":\"%s\",\"ring\":%u,\"received\":%" PRIu64
            ",\"forwarded\":%" PRIu64 ",\"dropped_loss\":%" PRIu64
            ",\"dropped_queue\":%" PRIu64 ",\"dropped_ring\":%" PRIu64
            ",\"tx_errors\":%" PRIu64 ",\"rx_errors\":%" PRIu64 ",\"in_line\":%" PRIu64 "}",
            d->name, d->spec, d->line.cap, LOAD(d, received), LOAD(d, forwarded),
            LOAD(d, drop_loss), LOAD(d, drop_queue), LOAD(d, drop_ring), LOAD(d, tx_errors),
            LOAD(d, rx_errors),
            LOAD(d, received) - LOAD(d, forwarded) - LOAD(d, drop_loss) - LOAD(d, drop_queue) -
                LOAD(d, drop_ring) - LOAD(d, tx_errors));
    }
    fprintf(f, "}\n");
    fflush(f);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vglink --ns NAME --tap-a NAME --tap-b NAME [options]\n"
        "  Creates TAP A here and TAP B in namespace NAME (/var/run/netns/NAME or a path),\n"
        "  prints \"ready\" and relays frames both ways until SIGTERM/SIGINT, stdin closes,\n"
        "  or --max-seconds pass. The caller adds addresses and sets the links up.\n"
        "  --a2b SPEC, --b2a SPEC   impairments of one direction; --both SPEC sets both\n"
        "      SPEC: delay=MS,jitter=MS,loss=PCT,rate=PPS,queue=N,reorder (any subset)\n"
        "  --reorder           with jitter, release frames by time (they may overtake);\n"
        "                      without it (and without 'reorder' in a SPEC) order is kept\n"
        "  --seed N            RNG seed (loss and jitter decisions repeat with it)\n"
        "  --max-seconds N     exit after N s (default 900)\n"
        "  --txqueuelen N      both taps' transmit queue (default 10000)\n"
        "  --ring N            delay-line slots per direction (default: 300 ms at 150k pps)\n"
        "  --ignore-stdin      do not exit when stdin closes\n"
        "  --stats-json        print the exit counters as one JSON line (stderr)\n"
        "  SIGUSR1: print the counters so far as one JSON line on stdout.\n");
}

int main(int argc, char **argv)
{
    const char *ns = NULL, *tap_a = NULL, *tap_b = NULL;
    const char *spec[2] = {"", ""};
    uint64_t seed = 1;
    double max_seconds = 900;
    int txqlen = 10000;
    uint32_t ring = 0;
    bool ignore_stdin = false, stats_json = false, reorder = false;
    enum { O_NS = 256, O_TAPA, O_TAPB, O_A2B, O_B2A, O_BOTH, O_SEED, O_MAX, O_TXQ, O_RING,
           O_NOSTDIN, O_JSON, O_REORDER };
    static const struct option longopts[] = {
        {"ns", required_argument, NULL, O_NS},
        {"tap-a", required_argument, NULL, O_TAPA},
        {"tap-b", required_argument, NULL, O_TAPB},
        {"a2b", required_argument, NULL, O_A2B},
        {"b2a", required_argument, NULL, O_B2A},
        {"both", required_argument, NULL, O_BOTH},
        {"seed", required_argument, NULL, O_SEED},
        {"max-seconds", required_argument, NULL, O_MAX},
        {"txqueuelen", required_argument, NULL, O_TXQ},
        {"ring", required_argument, NULL, O_RING},
        {"ignore-stdin", no_argument, NULL, O_NOSTDIN},
        {"stats-json", no_argument, NULL, O_JSON},
        {"reorder", no_argument, NULL, O_REORDER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case O_NS: ns = optarg; break;
        case O_TAPA: tap_a = optarg; break;
        case O_TAPB: tap_b = optarg; break;
        case O_A2B: spec[0] = optarg; break;
        case O_B2A: spec[1] = optarg; break;
        case O_BOTH: spec[0] = spec[1] = optarg; break;
        case O_SEED:
            errno = 0;
            seed = strtoull(optarg, &end, 0);
            if (*end != '\0' || errno != 0) {
                fprintf(stderr, "vglink: --seed %s: not a number\n", optarg);
                return 2;
            }
            break;
        case O_MAX:
            max_seconds = strtod(optarg, &end);
            if (*end != '\0' || !(max_seconds > 0)) {
                fprintf(stderr, "vglink: --max-seconds %s: not a positive number\n", optarg);
                return 2;
            }
            break;
        case O_TXQ:
            txqlen = atoi(optarg);
            if (txqlen <= 0) {
                fprintf(stderr, "vglink: --txqueuelen %s: not a positive number\n", optarg);
                return 2;
            }
            break;
        case O_RING: {
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v <= 0 || v > 4000000) {
                fprintf(stderr, "vglink: --ring %s: expected 1..4000000\n", optarg);
                return 2;
            }
            ring = (uint32_t)v;
            break;
        }
        case O_NOSTDIN: ignore_stdin = true; break;
        case O_JSON: stats_json = true; break;
        case O_REORDER: reorder = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (ns == NULL || tap_a == NULL || tap_b == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    struct vgl_dir_opts opts[2];
    for (int i = 0; i < 2; i++) {
        char err[256];
        if (vgl_parse_dir(spec[i], &opts[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "vglink: --%s: %s\n", i == 0 ? "a2b" : "b2a", err);
            return 2;
        }
        if (reorder && opts[i].jitter_ms > 0)
            opts[i].reorder = true;
    }

    char nspath[512];
    if (strchr(ns, '/') != NULL)
        snprintf(nspath, sizeof(nspath), "%s", ns);
    else
        snprintf(nspath, sizeof(nspath), "/var/run/netns/%s", ns);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int other = open(nspath, O_RDONLY | O_CLOEXEC);
    if (home < 0 || other < 0)
        die(nspath);
    int fd_a = open_tap(tap_a);
    set_txqlen(tap_a, txqlen);
    int timed_a = opts[0].rate_pps != 0 ? open_timed(tap_a) : -1;
    if (setns(other, CLONE_NEWNET) < 0)
        die("setns");
    int fd_b = open_tap(tap_b);
    set_txqlen(tap_b, txqlen);
    int timed_b = opts[1].rate_pps != 0 ? open_timed(tap_b) : -1;
    if (setns(home, CLONE_NEWNET) < 0)
        die("setns back");
    close(home);
    close(other);

    /* Timers wake us within a microsecond, not the default 50 us slack. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0)
        die("sigmask");
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    int stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (sfd < 0 || stop_fd < 0)
        die("signalfd/eventfd");

    static struct dir dirs[2];
    static struct vgl_wlog logs[2];
    for (int i = 0; i < 2; i++) {
        dirs[i].log = &logs[i];
        dirs[i].log_peer = &logs[1 - i];
    }
    setup_dir(&dirs[0], "a2b", fd_a, timed_a, fd_b, stop_fd, &opts[0], seed * 2 + 0, ring);
    setup_dir(&dirs[1], "b2a", fd_b, timed_b, fd_a, stop_fd, &opts[1], seed * 2 + 1, ring);
    uint64_t start = mono_ns();
    for (int i = 0; i < 2; i++) {
        errno = pthread_create(&dirs[i].thread, NULL, run_dir, &dirs[i]);
        if (errno != 0)
            die("pthread_create");
    }
    printf("ready\n");
    fflush(stdout);

    uint64_t deadline = start + (uint64_t)(max_seconds * 1e9);
    const char *why = "max-seconds reached";
    for (;;) {
        uint64_t now = mono_ns();
        if (now >= deadline)
            break;
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        uint64_t left_ms = (deadline - now) / 1000000 + 1;
        int n = poll(p, ignore_stdin ? 1 : 2, left_ms > 1000 ? 1000 : (int)left_ms);
        if (n < 0 && errno != EINTR)
            die("poll");
        if (n <= 0)
            continue;
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGUSR1) {
                    print_json(stdout, dirs, (double)(mono_ns() - start) / 1e9);
                    continue;
                }
                why = strsignal((int)si.ssi_signo);
                break;
            }
        }
        if (!ignore_stdin && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[256];
            ssize_t r = read(0, buf, sizeof(buf));
            if (r <= 0) {
                why = "stdin closed";
                break;
            }
        }
    }
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof(one)) < 0)
        die("eventfd");
    for (int i = 0; i < 2; i++)
        pthread_join(dirs[i].thread, NULL);
    double secs = (double)(mono_ns() - start) / 1e9;
    if (stats_json) {
        print_json(stderr, dirs, secs);
    } else {
        fprintf(stderr, "vglink: exiting (%s) after %.1f s\n", why, secs);
        for (int i = 0; i < 2; i++) {
            struct dir *d = &dirs[i];
            fprintf(stderr,
                "vglink: %s [%s]: received %" PRIu64 ", forwarded %" PRIu64
                ", dropped: loss %" PRIu64 ", queue %" PRIu64 ", ring %" PRIu64
                "; tx errors %" PRIu64 "\n",
                d->name, d->spec, d->c.received, d->c.forwarded, d->c.drop_loss,
                d->c.drop_queue, d->c.drop_ring, d->c.tx_errors);
        }
    }
    for (int i = 0; i < 2; i++)
        vgl_line_free(&dirs[i].line);
    close(fd_a);
    close(fd_b);
    return 0;
}
