/* SPDX-License-Identifier: MIT */
/* The names of port states and reasons: part of the output schema. */
#include "vigia/scan.h"

static const char *const state_names[VG_STATE__COUNT] = {
    [VG_STATE_UNKNOWN] = "unknown",
    [VG_STATE_OPEN] = "open",
    [VG_STATE_CLOSED] = "closed",
    [VG_STATE_FILTERED] = "filtered",
    [VG_STATE_OPEN_FILTERED] = "open|filtered",
    [VG_STATE_CLOSED_FILTERED] = "closed|filtered",
};

static const char *const reason_names[VG_REASON__COUNT] = {
    [VG_REASON_NONE] = "none",
    [VG_REASON_SYN_ACK] = "syn-ack",
    [VG_REASON_CONN_REFUSED] = "conn-refused",
    [VG_REASON_NO_RESPONSE] = "no-response",
    [VG_REASON_HOST_UNREACH] = "host-unreach",
    [VG_REASON_NET_UNREACH] = "net-unreach",
    [VG_REASON_ADMIN_PROHIBITED] = "admin-prohibited",
    [VG_REASON_PROTO_UNREACH] = "proto-unreach",
    [VG_REASON_PORT_UNREACH] = "port-unreach",
    [VG_REASON_TTL_EXCEEDED] = "ttl-exceeded",
    [VG_REASON_RESET] = "reset",
    [VG_REASON_UDP_RESPONSE] = "udp-response",
    [VG_REASON_ECHO_REPLY] = "echo-reply",
    [VG_REASON_ARP_RESPONSE] = "arp-response",
    [VG_REASON_ND_RESPONSE] = "nd-response",
    [VG_REASON_HOST_TIMEOUT] = "host-timeout",
};

const char *vg_state_name(int state)
{
    if(state < 0 || state >= VG_STATE__COUNT)
        return "unknown";
    return state_names[state];
}

const char *vg_reason_name(int reason)
{
    if(reason < 0 || reason >= VG_REASON__COUNT)
        return "none";
    return reason_names[reason];
}
