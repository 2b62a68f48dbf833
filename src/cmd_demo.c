/* SPDX-License-Identifier: MIT */
/* `vigia demo`: opens a few TCP listeners on 127.0.0.1 and ::1 (on ports the
 * kernel picks), scans them together with the essential ports, then checks
 * one of them and a closed port, so a new user sees real results of both
 * jobs without setting anything up. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

#define DEMO_LISTENERS 3

static int listen_any(int family, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if(fd < 0)
        return -1;
    memset(&ss, 0, sizeof(ss));
    if(family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*sin);
    }
    else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        int on = 1;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof(*sin6);
    }
    if(bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0 ||
       getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

int cmd_demo(int argc, char **argv)
{
    int fds[DEMO_LISTENERS * 2];
    int nfds = 0;
    char ports[256] = "essential";
    size_t plen = strlen(ports);
    int status;

    (void)argc;
    (void)argv;
    for(int i = 0; i < DEMO_LISTENERS; i++) {
        uint16_t port;
        int fd = listen_any(AF_INET, &port);
        if(fd < 0)
            continue;
        fds[nfds++] = fd;
        plen += (size_t)snprintf(ports + plen, sizeof(ports) - plen, ",%u", port);
        /* The same port on ::1 when IPv6 is there. */
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                                    .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        int fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if(fd6 >= 0 && bind(fd6, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
           listen(fd6, 64) == 0)
            fds[nfds++] = fd6;
        else if(fd6 >= 0)
            close(fd6);
    }
    printf("demo: listening on 127.0.0.1 and ::1, ports %s\n", ports + strlen("essential,"));
    printf("demo: running: vigia scan -p %s 127.0.0.1 ::1\n\n", ports);
    fflush(stdout);
    char *args[] = {"scan", "-p", ports, "127.0.0.1", "::1", NULL};
    status = cmd_scan(5, args);

    /* Then validate: the first listener over IPv4 and IPv6 (OK), and a port
     * we just closed (CRITICAL: refused), in monitoring-plugin form. */
    if(status == 0 && nfds > 0) {
        char t1[64], t2[64], t3[64];
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        uint16_t open_port = 0, closed_port = 0;
        if(getsockname(fds[0], (struct sockaddr *)&sin, &len) == 0)
            open_port = ntohs(sin.sin_port);
        int tmp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        len = sizeof(any);
        if(tmp >= 0 && bind(tmp, (struct sockaddr *)&any, sizeof(any)) == 0 &&
           getsockname(tmp, (struct sockaddr *)&any, &len) == 0)
            closed_port = ntohs(any.sin_port);
        if(tmp >= 0)
            close(tmp); /* bound, never listened: connecting is refused */
        if(open_port && closed_port) {
            snprintf(t1, sizeof(t1), "tcp://127.0.0.1:%u", open_port);
            snprintf(t2, sizeof(t2), "tcp://[::1]:%u", open_port);
            snprintf(t3, sizeof(t3), "tcp://127.0.0.1:%u", closed_port);
            printf("\ndemo: running: vigia check %s %s %s\n\n", t1, t2, t3);
            fflush(stdout);
            char *cargs[] = {"check", t1, t2, t3, NULL};
            int cs = cmd_check(4, cargs);
            printf("\ndemo: vigia check exited %d (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN:"
                   " the worst check decides)\n", cs);
        }
    }
    for(int i = 0; i < nfds; i++)
        close(fds[i]);
    return status;
}
