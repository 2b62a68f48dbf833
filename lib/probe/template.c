/* SPDX-License-Identifier: MIT */
/* What the templates of the IP probe kinds share: the IP header written
 * once per (family, source) and the sums of its constant parts. */
#include <string.h>

#include "probe/probe.h"

uint32_t vg_tmpl_ip(vg_tmpl *t, int family, uint8_t proto, const vg_addr *src,
                    uint16_t l4_len)
{
    vg_addr zero = {.family = (uint8_t)family};
    size_t ip = vg_ip_hdr_len(family);

    memset(t, 0, sizeof(*t));
    t->family = (uint8_t)family;
    t->proto = proto;
    t->l4_off = (uint16_t)ip;
    t->len = (uint16_t)(ip + l4_len);
    t->src = *src;
    vg_ip_write(t->buf, family, proto, src, &zero, l4_len, 0);
    if(family == AF_INET) {
        /* Destination and id are zero here, and so is the checksum field. */
        vg_put_be16(t->buf + 10, 0);
        t->ip_sum = vg_csum_add(0, t->buf, VG_IP4_HDR);
        if(proto == IPPROTO_ICMP)
            return 0;
        return vg_csum_add(0, src->a, 4) + proto + l4_len;
    }
    return vg_csum_add(0, src->a, 16) + proto + l4_len;
}
