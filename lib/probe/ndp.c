/* SPDX-License-Identifier: MIT */
/* IPv6 neighbour discovery as a host-discovery probe (RFC 4861): a
 * neighbour solicitation to the target's solicited-node multicast address
 * with our link-layer address; a live neighbour answers with an
 * advertisement that names its MAC. Only meaningful on-link. ND has no
 * field to carry a cookie: a reply counts only for an address we asked
 * about, which the engine checks. */
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>

#include "probe/probe.h"
#include "vigia/scan.h"

#define NS_LEN 32 /* header 4 + reserved 4 + target 16 + SLLA option 8 */

void vg_ndp_solicited_node(const vg_addr *target, vg_addr *out)
{
    static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    memset(out, 0, sizeof(*out));
    out->family = AF_INET6;
    out->scope_id = target->scope_id;
    memcpy(out->a, prefix, sizeof(prefix));
    memcpy(out->a + 13, target->a + 13, 3);
}

/* The solicitation with the solicited-node prefix (ff02::1:ff00:0/104) in
 * the destination; the target, the group's last three bytes and our MAC
 * vary. The template's sum leaves out the destination's last word pair
 * (ff + the group's first byte from the target), which a probe adds whole. */
static bool ndp_template_init(vg_tmpl *t, const vg_addr *src, uint16_t dport)
{
    static const uint8_t prefix[12] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    (void)dport;
    if(src->family != AF_INET6) {
        memset(t, 0, sizeof(*t));
        return false;
    }
    uint32_t sum = vg_tmpl_ip(t, AF_INET6, IPPROTO_ICMPV6, src, NS_LEN);
    uint8_t *ns = t->buf + t->l4_off;

    t->buf[7] = 255; /* RFC 4861 7.1.1: receivers drop ND with another hop limit */
    memcpy(t->buf + 24, prefix, sizeof(prefix));
    sum = vg_csum_add(sum, prefix, sizeof(prefix));
    t->buf[36] = 0xff; /* counted by the probe, with bytes 37-39 */
    t->csum_off = VG_IP6_HDR + 2;
    ns[0] = ND_NEIGHBOR_SOLICIT;
    ns[24] = ND_OPT_SOURCE_LINKADDR;
    ns[25] = 1; /* 8 bytes */
    t->l4_sum = vg_csum_add(sum, ns, NS_LEN);
    return true;
}

/* a->dst is the target; the packet goes to its solicited-node group. */
static size_t ndp_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *pkt)
{
    uint8_t *ns = pkt + t->l4_off;

    memcpy(pkt, t->buf, t->len);
    memcpy(pkt + 37, a->dst->a + 13, 3);
    memcpy(ns + 8, a->dst->a, 16);
    uint32_t sum = t->l4_sum + vg_csum_add(0, pkt + 36, 4) + vg_csum_add(0, a->dst->a, 16);
    if(a->src_mac) {
        memcpy(ns + 26, a->src_mac, 6);
        sum = vg_csum_add(sum, a->src_mac, 6);
    }
    vg_put_be16(pkt + t->csum_off, vg_csum_finish(sum));
    return t->len;
}

static bool ndp_classify(const vg_pkt *pkt, vg_probe_reply *r)
{
    vg_rd rd;
    uint8_t opt, olen;

    memset(r, 0, sizeof(*r));
    if(!pkt->is_icmp || pkt->ip.family != AF_INET6 || pkt->icmp_type != ND_NEIGHBOR_ADVERT ||
       pkt->icmp_code != 0 || pkt->ip.ttl != 255)
        return false;
    vg_rd_init(&rd, pkt->ip.l4, pkt->ip.l4_len);
    r->target.family = AF_INET6;
    if(!vg_rd_skip(&rd, 8) || !vg_rd_bytes(&rd, r->target.a, 16))
        return false;
    /* Options: the target link-layer address, if present, is the MAC. */
    while(vg_rd_u8(&rd, &opt) && vg_rd_u8(&rd, &olen) && olen) {
        size_t body = (size_t)olen * 8 - 2;
        if(opt == ND_OPT_TARGET_LINKADDR && body >= 6) {
            if(!vg_rd_bytes(&rd, r->mac, 6))
                break;
            r->has_mac = true;
            body -= 6;
        }
        if(!vg_rd_skip(&rd, body))
            break;
    }
    r->local = pkt->ip.dst;
    r->from = pkt->ip.src;
    r->state = VG_STATE_OPEN;
    r->reason = VG_REASON_ND_RESPONSE;
    return true;
}

const vg_probe_type vg_probe_ndp = {
    .name = "ndp",
    .help = "IPv6 neighbour solicitation (host discovery on-link)",
    .proto = IPPROTO_ICMPV6,
    .cookieless = true,
    .variants = 1,
    .template_init = ndp_template_init,
    .build = ndp_build,
    .dest = vg_ndp_solicited_node,
    .classify = ndp_classify,
};
