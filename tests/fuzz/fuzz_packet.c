/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the raw engines' reply parser. Arbitrary bytes go
 * through vg_pkt_parse() (IPv4/IPv6, extension headers, ICMP errors and
 * their quoted packets), then through every probe module's classify()
 * and the ARP parser, as a captured packet would. Every pointer the
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
    static const vg_probe_type *const types[] = {
        &vg_probe_tcp_syn, &vg_probe_udp, &vg_probe_icmp_echo, &vg_probe_tcp_ack,
        &vg_probe_ndp,
    };
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
        for(size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            memset(&r, 0, sizeof(r));
            if(types[i]->classify(&pkt, &r))
                check_reply(&r);
        }
    }
    /* ARP replies come from a packet socket: the same bytes as an ARP
     * payload. */
    memset(&r, 0, sizeof(r));
    if(vg_probe_arp.parse(buf, size, &r)) {
        check_reply(&r);
        if(!r.has_mac)
            abort();
    }
    free(buf);
    return 0;
}
