/* SPDX-License-Identifier: MIT */
/* tcp://host:port (and bare host:port): the service is up when it accepts
 * the connection; with --send/--expect, when it also answers as expected
 * (lib/check/sendexpect.c). */
#include <regex.h>
#include <stdlib.h>

#include "check/check_internal.h"

static int tcp_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->expect) {
        regex_t re;
        int rc = sendexpect_compile(&re, o->expect, "--expect", err);
        if(rc)
            return rc;
        regfree(&re);
    }
    return VG_OK;
}

static void tcp_open(vg_stream *s)
{
    vg_check *ck = s->ck;
    char where[128], t[32];
    check_where(ck, where, sizeof(where));
    check_summary(ck, "%s accepted the connection in %s", where,
                  check_fmt_us(ck->run->res.phase_us[VG_PHASE_CONNECT], t, sizeof(t)));
    check_attempt_done(ck);
}

static const vg_stream_ops tcp_connect_ops = {
    .on_open = tcp_open,
    .on_data = stream_discard_data,
    .on_close = stream_ignore_close,
};

static int tcp_start(vg_check *ck)
{
    return sendexpect_kind_start(ck, &tcp_connect_ops, false);
}

const vg_check_type vg_check_tcp = {
    .name = "tcp",
    .label = "TCP",
    .default_port = 0,
    .tls = false,
    .kind = VG_KIND_TCP,
    .fds = CHECK_FDS_STREAM,
    .validate = tcp_validate,
    .start = tcp_start,
    .on_timeout = sendexpect_kind_timeout,
    .release = sendexpect_kind_release,
};
