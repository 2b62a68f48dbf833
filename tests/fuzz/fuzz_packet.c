/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the raw engines' reply parser. Arbitrary bytes go
 * through vg_pkt_parse() (IPv4/IPv6, extension headers, ICMP errors and
 * their quoted packets), then through the reply recognisers of every
 * kind in the probe registry (IP packets, and link-layer payloads for ARP),
 * as a captured packet would. Every pointer the
 * parser hands out must lie inside the input, and every verdict must be
 * a state and a reason the output schema knows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "probe/probe.h"
#include "vigia/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_l3(const vg_pkt_l3 *l3, const uint8_t *buf, size_t len)
{
    if(l3->family != AF_INET && l3->family != AF_INET6)
        abort();
    if(l3->l4 < buf || l3->l4 > buf + len || l3->l4_len > (size_t)(buf + len - l3->l4))
        abort();
}

static void check_reply(const vg_probe_reply *r)
{
    if(r->state >= VG_STATE__COUNT || r->reason >= VG_REASON__COUNT)
        abort();
    if(r->target.family != AF_INET && r->target.family != AF_INET6)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    vg_pkt pkt;
    vg_probe_reply r;

    if(!buf)
        return 0;
    memcpy(buf, data, size);
    if(vg_pkt_parse(buf, size, &pkt)) {
        check_l3(&pkt.ip, buf, size);
        if(pkt.icmp_error) {
            check_l3(&pkt.inner, buf, size);
            if(pkt.inner.family != pkt.ip.family)
                abort();
        }
        for(size_t i = 0; vg_probe_at(i); i++) {
            memset(&r, 0, sizeof(r));
            if(vg_probe_at(i)->classify && vg_probe_at(i)->classify(&pkt, &r))
                check_reply(&r);
        }
    }
    /* Replies below IP (ARP) come from a packet socket: the same bytes as
     * a link-layer payload. */
    for(size_t i = 0; vg_probe_at(i); i++) {
        memset(&r, 0, sizeof(r));
        if(vg_probe_at(i)->classify_frame && vg_probe_at(i)->classify_frame(buf, size, &r)) {
            check_reply(&r);
            if(!r.has_mac)
                abort();
        }
    }
    free(buf);
    return 0;
}
