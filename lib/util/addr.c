/* SPDX-License-Identifier: MIT */
/* Conversions between vg_addr, text and socket addresses. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "vigia/addr.h"

const char *vg_addr_format(const vg_addr *addr, char *buf, size_t len)
{
    char tmp[INET6_ADDRSTRLEN];

    if(!len)
        return buf;
    if(!inet_ntop(addr->family == AF_INET ? AF_INET : AF_INET6, addr->a, tmp, sizeof(tmp))) {
        snprintf(buf, len, "?");
        return buf;
    }
    if(addr->family == AF_INET6 && addr->scope_id) {
        char ifname[IF_NAMESIZE];
        if(if_indextoname(addr->scope_id, ifname))
            snprintf(buf, len, "%s%%%s", tmp, ifname);
        else
            snprintf(buf, len, "%s%%%u", tmp, addr->scope_id);
    }
    else
        snprintf(buf, len, "%s", tmp);
    return buf;
}

socklen_t vg_addr_to_sockaddr(const vg_addr *addr, uint16_t port,
                              struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if(addr->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, addr->a, 4);
        return sizeof(*sin);
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_scope_id = addr->scope_id;
    memcpy(&sin6->sin6_addr, addr->a, 16);
    return sizeof(*sin6);
}

bool vg_addr_from_sockaddr(vg_addr *addr, const struct sockaddr *sa)
{
    memset(addr, 0, sizeof(*addr));
    if(sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        addr->family = AF_INET;
        memcpy(addr->a, &sin->sin_addr, 4);
        return true;
    }
    if(sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        addr->family = AF_INET6;
        addr->scope_id = sin6->sin6_scope_id;
        memcpy(addr->a, &sin6->sin6_addr, 16);
        return true;
    }
    return false;
}

int vg_addr_cmp(const vg_addr *x, const vg_addr *y)
{
    if(x->family != y->family)
        return x->family == AF_INET ? -1 : 1;
    int c = memcmp(x->a, y->a, 16);
    if(c)
        return c < 0 ? -1 : 1;
    if(x->scope_id != y->scope_id)
        return x->scope_id < y->scope_id ? -1 : 1;
    return 0;
}
