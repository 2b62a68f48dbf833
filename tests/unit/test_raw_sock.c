/* SPDX-License-Identifier: MIT */
/* The raw engine's sockets and privileges (lib/engine/raw_sock.c,
 * raw_priv.c): each way of opening a socket fails with a message that
 * names what failed (and, when the capability is missing, what raw scans
 * need); the capture ring sees datagrams sent to loopback through its
 * filter; on-link lookups follow the prefix bit by bit; dropping
 * privileges refuses bad users and reports the call the kernel refused.
 * Nothing leaves the host: the only packets sent go to 127.0.0.1. Needs
 * root (skipped otherwise); the tests that give up capabilities do so in
 * a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/loop.h"
#include "engine/raw.h"
#include "vigia/scan.h"
#include "vigia/target.h"

#define NO_SUCH_IF "vgnosuchif0"
#define NO_SUCH_IFINDEX 0x7ffffff0

#define SKIP_UNLESS_ROOT()                                                                         \
    do {                                                                                           \
        if(geteuid() != 0) {                                                                       \
            skip();                                                                                \
        }                                                                                          \
    } while(0)

static vg_addr addr4(const char *s)
{
    vg_addr a;
    memset(&a, 0, sizeof(a));
    a.family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, s, a.a), 1);
    return a;
}

static vg_addr addr6(const char *s)
{
    vg_addr a;
    memset(&a, 0, sizeof(a));
    a.family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, s, a.a), 1);
    return a;
}

static void test_bad_interface_names(void **state)
{
    (void)state;
    SKIP_UNLESS_ROOT();
    vg_error err = {0};
    assert_int_equal(raw_send_socket(AF_INET, NO_SUCH_IF, &err), VG_ESYS);
    assert_int_equal(err.sys_errno, ENODEV);
    assert_non_null(strstr(err.msg, "SO_BINDTODEVICE " NO_SUCH_IF ": "));
    assert_null(strstr(err.msg, "CAP_NET_RAW")); /* not a privilege problem */
    memset(&err, 0, sizeof(err));
    assert_int_equal(raw_route_socket(AF_INET6, NO_SUCH_IF, &err), VG_ESYS);
    assert_int_equal(err.sys_errno, ENODEV);
    assert_non_null(strstr(err.msg, "SO_BINDTODEVICE " NO_SUCH_IF));
    memset(&err, 0, sizeof(err));
    assert_int_equal(raw_arp_socket(NO_SUCH_IFINDEX, &err), VG_ESYS);
    assert_non_null(strstr(err.msg, "bind ARP socket: "));
    raw_cap c;
    memset(&err, 0, sizeof(err));
    assert_int_equal(raw_cap_open(&c, NO_SUCH_IFINDEX, "udp", &err), VG_ESYS);
    assert_non_null(strstr(err.msg, "bind capture socket: "));
    assert_int_equal(c.fd, -1); /* closed again */
    assert_null(c.ring);
    /* Without an interface name the sockets open. */
    int fd = raw_send_socket(AF_INET6, NULL, &err);
    assert_true(fd >= 0);
    close(fd);
    fd = raw_route_socket(AF_INET, "lo", &err);
    assert_true(fd >= 0);
    close(fd);
}

static void test_bad_capture_filter(void **state)
{
    (void)state;
    SKIP_UNLESS_ROOT();
    vg_error err = {0};
    raw_cap c;
    assert_int_equal(raw_cap_open(&c, 1, "udp and (((", &err), VG_EINVAL);
    assert_non_null(strstr(err.msg, "capture filter 'udp and ((('"));
    assert_int_equal(c.fd, -1);
    /* A closed ring delivers nothing and counts nothing. */
    assert_int_equal(raw_cap_drain(&c, NULL, NULL), 0);
    raw_cap_stats(&c);
    assert_int_equal(c.drops, 0);
    raw_cap_close(&c); /* twice is harmless */
}

struct captured {
    unsigned n;
    uint16_t dport;
    size_t len[8];
    bool mac;
    uint8_t mac_bytes[6];
    uint64_t at_us[8];
};

static void on_packet(const uint8_t *data, size_t len, const uint8_t *mac, uint64_t at_us,
                      void *ud)
{
    struct captured *c = ud;
    /* IPv4 + UDP: the destination port behind a 20-byte header. */
    if(len >= 28 && (data[0] >> 4) == 4 && data[9] == IPPROTO_UDP && c->n < 8) {
        c->dport = (uint16_t)(data[22] << 8 | data[23]);
        c->at_us[c->n] = at_us;
        c->len[c->n++] = len;
        c->mac = mac != NULL;
        if(mac)
            memcpy(c->mac_bytes, mac, 6);
    }
}

static void test_capture_sees_loopback_datagrams(void **state)
{
    (void)state;
    SKIP_UNLESS_ROOT();
    vg_error err = {0};
    raw_cap c;
    /* A port of our own to aim at: bound, so nothing else uses it. */
    int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sin);
    assert_true(rx >= 0);
    assert_int_equal(bind(rx, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(rx, (struct sockaddr *)&sin, &sl), 0);
    char expr[64];
    snprintf(expr, sizeof(expr), "udp and dst port %u", ntohs(sin.sin_port));
    assert_int_equal(raw_cap_open(&c, 1 /* lo */, expr, &err), VG_OK);
    assert_true(c.fd >= 0 && c.ring);

    /* Three datagrams at once, so a block usually holds more than one. */
    int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(tx >= 0);
    uint64_t sent_us = vg_now_us();
    for(int i = 1; i <= 3; i++)
        assert_int_equal(sendto(tx, "vigia", (size_t)i, 0, (struct sockaddr *)&sin, sizeof(sin)), i);
    struct captured got = {0};
    for(int i = 0; i < 200 && got.n < 3; i++) {
        struct pollfd p = {.fd = c.fd, .events = POLLIN};
        poll(&p, 1, 10);
        raw_cap_drain(&c, on_packet, &got);
    }
    uint64_t drained_us = vg_now_us();
    /* Each seen once (our own outgoing copies are ignored), whole and in
     * order, with the port the filter asked for and loopback's all-zero
     * link-layer address. */
    assert_int_equal(got.n, 3);
    for(int i = 0; i < 3; i++)
        assert_int_equal(got.len[i], 20 + 8 + (size_t)i + 1);
    /* Each carries its capture time on the monotonic clock: after the send
     * began (within the clocks' conversion, a few microseconds), before the
     * drain ended, in order. */
    for(int i = 0; i < 3; i++) {
        assert_true(got.at_us[i] + 100 >= sent_us);
        assert_true(got.at_us[i] <= drained_us);
        if(i)
            assert_true(got.at_us[i] >= got.at_us[i - 1]);
    }
    assert_int_equal(got.dport, ntohs(sin.sin_port));
    assert_true(got.mac);
    assert_memory_equal(got.mac_bytes, "\0\0\0\0\0\0", 6);
    assert_true(c.packets >= 3);
    raw_cap_stats(&c);
    assert_int_equal(c.drops, 0);
    raw_cap_close(&c);
    assert_int_equal(c.fd, -1);
    close(tx);
    close(rx);
}

static void test_route_source(void **state)
{
    (void)state;
    SKIP_UNLESS_ROOT();
    vg_error err = {0};
    int fd = raw_route_socket(AF_INET, NULL, &err);
    assert_true(fd >= 0);
    vg_addr dst = addr4("127.0.0.9"), src;
    memset(&src, 0xff, sizeof(src));
    assert_int_equal(raw_route_source(fd, &dst, &src), 0);
    assert_int_equal(src.family, AF_INET);
    assert_int_equal(src.scope_id, 0);
    assert_int_equal(src.a[0], 127);
    /* The wrong family for the socket: the kernel's error, negated. */
    vg_addr six = addr6("::1");
    int rc = raw_route_source(fd, &six, &src);
    assert_true(rc < 0);
    assert_true(rc == -EAFNOSUPPORT || rc == -EINVAL);
    close(fd);
}

static void test_onlink_by_prefix(void **state)
{
    (void)state;
    struct raw_iface ifs[4];
    memset(ifs, 0, sizeof(ifs));
    ifs[0].addr = addr4("198.18.0.1"); /* no prefix: never on-link */
    ifs[1].addr = addr4("198.18.16.1");
    ifs[1].prefix = 20;                /* 198.18.16.0 - 198.18.31.255 */
    ifs[1].ether = true;
    ifs[2].addr = addr6("2001:db8::1");
    ifs[2].prefix = 64;
    ifs[3].addr = addr4("198.18.64.7");
    ifs[3].prefix = 32;
    vg_addr a = addr4("198.18.31.200");
    assert_ptr_equal(raw_iface_onlink(ifs, 4, &a), &ifs[1]);
    a = addr4("198.18.16.0");
    assert_ptr_equal(raw_iface_onlink(ifs, 4, &a), &ifs[1]);
    a = addr4("198.18.32.1"); /* the 21st bit differs */
    assert_null(raw_iface_onlink(ifs, 4, &a));
    a = addr4("198.18.0.2");
    assert_null(raw_iface_onlink(ifs, 4, &a));
    a = addr4("198.18.64.7");
    assert_ptr_equal(raw_iface_onlink(ifs, 4, &a), &ifs[3]);
    a = addr4("198.18.64.6");
    assert_null(raw_iface_onlink(ifs, 4, &a));
    a = addr6("2001:db8::ffff:1");
    assert_ptr_equal(raw_iface_onlink(ifs, 4, &a), &ifs[2]);
    a = addr6("2001:db8:0:1::1");
    assert_null(raw_iface_onlink(ifs, 4, &a));
    assert_null(raw_iface_onlink(ifs, 0, &a));
}

static void test_loopback_targets_not_onlink(void **state)
{
    (void)state;
    /* Loopback is no ethernet segment: discovery's ARP has nothing to ask. */
    vg_targets *t = vg_targets_new();
    vg_error err = {0};
    assert_int_equal(vg_targets_add(t, "127.0.0.0/24", NULL, &err), VG_OK);
    assert_int_equal(vg_targets_finalize(t, NULL, &err), VG_OK);
    assert_false(vg_targets_onlink(t));
    vg_targets_free(t);
    /* The interfaces list has loopback, with its prefix. */
    struct raw_iface *ifs;
    unsigned n;
    assert_int_equal(raw_ifaces_load(&ifs, &n, &err), VG_OK);
    bool lo = false;
    for(unsigned i = 0; i < n; i++)
        if(ifs[i].addr.family == AF_INET && ifs[i].addr.a[0] == 127 && ifs[i].prefix == 8 && !ifs[i].ether)
            lo = true;
    assert_true(lo);
    free(ifs);
}

static void test_drop_refuses_bad_users(void **state)
{
    (void)state;
    SKIP_UNLESS_ROOT();
    /* Both are refused before anything is given up. */
    vg_error err = {0};
    assert_int_equal(vg_drop_privileges("vg-no-such-user", &err), VG_EINVAL);
    assert_string_equal(err.msg, "--user vg-no-such-user: no such user");
    assert_int_equal(vg_drop_privileges("root", &err), VG_EINVAL);
    assert_string_equal(err.msg, "--user root: must not be root");
    assert_int_equal(getuid(), 0);
    assert_true(vg_have_raw_privileges());
}

/* --- in a child: fewer capabilities ------------------------------------- */

/* Takes cap out of the calling process's effective set (it stays
 * permitted); the process is still uid 0. */
static int lose_effective(int cap)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    if(syscall(SYS_capget, &hdr, data) < 0)
        return -1;
    data[cap / 32].effective &= ~(1u << (cap % 32));
    return (int)syscall(SYS_capset, &hdr, data);
}

#define CHILD_CHECK(cond)                                                                          \
    do {                                                                                           \
        if(!(cond)) {                                                                              \
            fprintf(stderr, "child: line %d: %s failed (%s)\n", __LINE__, #cond, err.msg);         \
            exit(1);                                                                               \
        }                                                                                          \
    } while(0)

/* Runs fn in a child process (exit, not _exit: coverage counts are kept)
 * and asserts it succeeded. */
static void in_child(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if(pid == 0) {
        fn();
        exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void without_net_raw(void)
{
    vg_error err = {0};
    raw_cap c;
    CHILD_CHECK(lose_effective(CAP_NET_RAW) == 0);
    CHILD_CHECK(!vg_have_raw_privileges());
    CHILD_CHECK(raw_send_socket(AF_INET, NULL, &err) == VG_ESYS);
    CHILD_CHECK(err.sys_errno == EPERM);
    CHILD_CHECK(!strcmp(err.msg, "raw IPv4 socket: Operation not permitted"
                                 " (raw scans need root or CAP_NET_RAW)"));
    CHILD_CHECK(raw_send_socket(AF_INET6, NULL, &err) == VG_ESYS);
    CHILD_CHECK(!strncmp(err.msg, "raw IPv6 socket: ", 17) && strstr(err.msg, "CAP_NET_RAW"));
    CHILD_CHECK(raw_cap_open(&c, 1, "udp", &err) == VG_ESYS);
    CHILD_CHECK(!strncmp(err.msg, "capture socket (AF_PACKET): ", 28) && strstr(err.msg, "CAP_NET_RAW"));
    CHILD_CHECK(raw_arp_socket(1, &err) == VG_ESYS);
    CHILD_CHECK(!strncmp(err.msg, "ARP socket (AF_PACKET): ", 24));
    /* A route lookup socket needs no privilege. */
    int fd = raw_route_socket(AF_INET, NULL, &err);
    CHILD_CHECK(fd >= 0);
    close(fd);
}

static void test_sockets_without_net_raw(void **state)
{
    (void)state;
    SKIP_UNLESS_ROOT();
    in_child(without_net_raw);
}

static void drop_without_setgid(void)
{
    vg_error err = {0};
    CHILD_CHECK(lose_effective(CAP_SETGID) == 0);
    CHILD_CHECK(vg_drop_privileges("nobody", &err) == VG_ESYS);
    CHILD_CHECK(err.code == VG_ESYS && err.sys_errno == EPERM);
    CHILD_CHECK(!strcmp(err.msg, "dropping privileges: setgroups: Operation not permitted"));
    CHILD_CHECK(getuid() == 0); /* stopped before the user changed */
    /* A NULL record is allowed: only the code comes back. */
    CHILD_CHECK(vg_drop_privileges(NULL, NULL) == VG_ESYS);
}

static void drop_without_setuid(void)
{
    vg_error err = {0};
    CHILD_CHECK(lose_effective(CAP_SETUID) == 0);
    CHILD_CHECK(vg_drop_privileges("nobody", &err) == VG_ESYS);
    CHILD_CHECK(!strcmp(err.msg, "dropping privileges: setresuid: Operation not permitted"));
    CHILD_CHECK(getuid() == 0 && getgid() != 0); /* the group went first */
}

static void test_drop_reports_the_refused_call(void **state)
{
    (void)state;
    SKIP_UNLESS_ROOT();
    in_child(drop_without_setgid);
    in_child(drop_without_setuid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_interface_names),
        cmocka_unit_test(test_bad_capture_filter),
        cmocka_unit_test(test_capture_sees_loopback_datagrams),
        cmocka_unit_test(test_route_source),
        cmocka_unit_test(test_onlink_by_prefix),
        cmocka_unit_test(test_loopback_targets_not_onlink),
        cmocka_unit_test(test_drop_refuses_bad_users),
        cmocka_unit_test(test_sockets_without_net_raw),
        cmocka_unit_test(test_drop_reports_the_refused_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
