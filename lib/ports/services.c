/* SPDX-License-Identifier: MIT */
/* The services table: two arrays of 65536 name pointers (TCP, UDP) into
 * one string pool, filled from getservent_r(). */
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ports/services_internal.h"
#include "vigia/services.h"
#include "util/alloc.h"

struct vg_services {
    uint32_t tcp[65536]; /* offset + 1 into pool; 0 = unknown */
    uint32_t udp[65536];
    char *pool;
    size_t pool_len, pool_cap;
};

static uint32_t pool_add(vg_services *s, const char *name)
{
    size_t n = strlen(name) + 1;
    if(n > 64)
        return 0;
    if(s->pool_len + n > s->pool_cap) {
        size_t cap = s->pool_cap ? s->pool_cap * 2 : 16384;
        char *p = vg_realloc(s->pool, cap);
        if(!p)
            return 0;
        s->pool = p;
        s->pool_cap = cap;
    }
    memcpy(s->pool + s->pool_len, name, n);
    s->pool_len += n;
    return (uint32_t)(s->pool_len - n + 1);
}

vg_services *services_new(void)
{
    return vg_calloc(1, sizeof(vg_services));
}

void services_add(vg_services *s, const char *name, uint16_t port, const char *proto)
{
    uint32_t *slot = NULL;
    if(!strcmp(proto, "tcp"))
        slot = &s->tcp[port];
    else if(!strcmp(proto, "udp"))
        slot = &s->udp[port];
    /* The first entry for a port is the canonical one. */
    if(slot && !*slot)
        *slot = pool_add(s, name);
}

vg_services *vg_services_load(void)
{
    vg_services *s = services_new();
    struct servent ent, *res;
    char buf[4096];

    if(!s)
        return NULL;
    setservent(0);
    while(getservent_r(&ent, buf, sizeof(buf), &res) == 0 && res)
        services_add(s, res->s_name, ntohs((uint16_t)res->s_port), res->s_proto);
    endservent();
    return s;
}

void vg_services_free(vg_services *s)
{
    if(!s)
        return;
    free(s->pool);
    free(s);
}

const char *vg_services_name(const vg_services *s, uint16_t port, int proto)
{
    uint32_t off;
    if(!s)
        return NULL;
    off = proto == IPPROTO_UDP ? s->udp[port] : s->tcp[port];
    return off ? s->pool + off - 1 : NULL;
}
