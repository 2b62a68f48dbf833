/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the services table (lib/ports/services.c) filled from
 * services(5)-style lines in the input, "name port/proto [aliases]",
 * through services_add() as vg_services_load() feeds it getservent_r()
 * entries (glibc reads /etc/services; the table, its string pool and the
 * first-entry-wins rule are ours). Every lookup must return the first name
 * given for that port and protocol that is shorter than 64 bytes. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ports/services_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 4096

struct entry {
    char name[128];
    uint16_t port;
    int proto;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vg_services *s = services_new();
    struct entry *e = calloc(MAX_ENTRIES, sizeof(*e));
    size_t off = 0, ne = 0;
    if(!s || !e)
        goto out;
    while(off < size && ne < MAX_ENTRIES) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
        char line[256], name[128], proto[16];
        unsigned port;
        if(n < sizeof(line)) {
            memcpy(line, data + off, n);
            line[n] = '\0';
            if(line[0] != '#' && sscanf(line, "%127s %u/%15s", name, &port, proto) == 3 && port < 65536) {
                services_add(s, name, (uint16_t)port, proto);
                if(!strcmp(proto, "tcp") || !strcmp(proto, "udp")) {
                    snprintf(e[ne].name, sizeof(e[ne].name), "%s", name);
                    e[ne].port = (uint16_t)port;
                    e[ne].proto = proto[0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
                    ne++;
                }
            }
        }
        off += n + 1;
    }
    for(size_t i = 0; i < ne; i++) {
        const char *got = vg_services_name(s, e[i].port, e[i].proto);
        const char *want = NULL;
        /* The first name for the port and protocol that fits (under 64
         * bytes) is the one kept. */
        for(size_t j = 0; j < ne && !want; j++)
            if(e[j].port == e[i].port && e[j].proto == e[i].proto && strlen(e[j].name) < 64)
                want = e[j].name;
        if(want ? !got || strcmp(got, want) : got != NULL)
            abort();
    }
out:
    vg_services_free(s);
    free(e);
    return 0;
}
