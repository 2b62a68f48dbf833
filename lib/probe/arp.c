/* SPDX-License-Identifier: MIT */
/* ARP as a host-discovery probe (RFC 826): a who-has request for the target
 * on an ethernet segment; a live host answers with its MAC even when a
 * firewall drops everything above ARP. The request carries no cookie:
 * a reply counts only for an address we asked about (the engine checks). */
#include <netinet/in.h>
#include <string.h>

#include "probe/probe.h"
#include "vigia/scan.h"

#define ARP_LEN 28
#define ETHERTYPE_ARP_ 0x0806
#define ARPHRD_ETHER_ 1
#define ARPOP_REQUEST_ 1
#define ARPOP_REPLY_ 2

/* The request with our IPv4 address in place; our MAC and the target's
 * address vary. ARP has no checksum. */
static bool arp_template_init(vg_tmpl *t, const vg_addr *src, uint16_t dport)
{
    uint8_t *b = t->buf;
    (void)dport;
    memset(t, 0, sizeof(*t));
    if(src->family != AF_INET)
        return false;
    t->family = AF_INET;
    t->len = ARP_LEN;
    t->src = *src;
    vg_put_be16(b, ARPHRD_ETHER_);
    vg_put_be16(b + 2, 0x0800); /* IPv4 */
    b[4] = 6;
    b[5] = 4;
    vg_put_be16(b + 6, ARPOP_REQUEST_);
    memcpy(b + 14, src->a, 4);
    return true;
}

static size_t arp_build(const vg_tmpl *t, const vg_probe_args *a, uint8_t *b)
{
    memcpy(b, t->buf, ARP_LEN);
    if(a->src_mac)
        memcpy(b + 8, a->src_mac, 6);
    memcpy(b + 24, a->dst->a, 4);
    return ARP_LEN;
}

static bool arp_parse(const uint8_t *buf, size_t len, vg_probe_reply *r)
{
    vg_rd rd;
    uint16_t htype, ptype, op;
    uint8_t hlen, plen;

    memset(r, 0, sizeof(*r));
    vg_rd_init(&rd, buf, len);
    if(!vg_rd_be16(&rd, &htype) || !vg_rd_be16(&rd, &ptype) || !vg_rd_u8(&rd, &hlen) ||
       !vg_rd_u8(&rd, &plen) || !vg_rd_be16(&rd, &op))
        return false;
    if(htype != ARPHRD_ETHER_ || ptype != 0x0800 || hlen != 6 || plen != 4 || op != ARPOP_REPLY_)
        return false;
    r->target.family = AF_INET;
    r->local.family = AF_INET;
    if(!vg_rd_bytes(&rd, r->mac, 6) || !vg_rd_bytes(&rd, r->target.a, 4) ||
       !vg_rd_skip(&rd, 6) || !vg_rd_bytes(&rd, r->local.a, 4))
        return false;
    r->has_mac = true;
    r->from = r->target;
    r->state = VG_STATE_OPEN;
    r->reason = VG_REASON_ARP_RESPONSE;
    return true;
}

const vg_probe_type vg_probe_arp = {
    .name = "arp",
    .help = "ARP who-has request (IPv4 host discovery on ethernet)",
    .ethertype = ETHERTYPE_ARP_,
    .cookieless = true,
    .variants = 1,
    .template_init = arp_template_init,
    .build = arp_build,
    .classify_frame = arp_parse,
};
