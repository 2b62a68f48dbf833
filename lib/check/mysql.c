/* SPDX-License-Identifier: MIT */
/* mysql://host[:3306]: connect and read the server's first packet, without
 * credentials: the handshake greeting (protocol and server version,
 * connection id, capability flags) or an error packet such as "Host ... is
 * not allowed to connect". --expect-version REGEX is matched against the
 * server version. The parser is mysql_wire.c. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "check/mysql_wire.h"

struct mysql_ctx {
    vg_stream stream;
};

static const check_wrong_kind mysql_wrong_kind[] = {
    {"expect-hostkey", "--expect-hostkey needs an ssh:// target"},
    {"send", "--send/--expect do not apply to mysql:// (use --expect-version)"},
    {"expect", "--send/--expect do not apply to mysql:// (use --expect-version)"},
    {NULL, NULL},
};

static int mysql_validate(const vg_check_opts *o, vg_error *err)
{
    if(o->expect_version) {
        regex_t re;
        int rc = sendexpect_compile(&re, o->expect_version, "--expect-version", err);
        if(rc)
            return rc;
        regfree(&re);
    }
    return VG_OK;
}

static void mysql_open(vg_stream *s)
{
    (void)s; /* the server speaks first */
}

static void mysql_judge(vg_stream *s, const mysql_greeting *g)
{
    vg_check *ck = s->ck;
    vg_check_result *r = &ck->run->res;
    char where[160], t[32];

    check_where(ck, where, sizeof(where));
    if(g->is_error) {
        r->mysql_error = g->err_code;
        memcpy(r->mysql_sqlstate, g->sqlstate, sizeof(r->mysql_sqlstate));
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_SERVER_ERROR,
                      "MySQL server at %s answered with error %d%s%s: %s (reachable, but it refuses this client)",
                      where, g->err_code, g->sqlstate[0] ? " " : "", g->sqlstate, g->err_msg);
        return;
    }
    r->mysql_protocol = (int)g->protocol;
    r->mysql_caps = g->caps;
    r->mysql_conn_id = g->conn_id;
    snprintf(r->banner, sizeof(r->banner), "%s", g->version);
    check_summary(ck, "MySQL server at %s greeted in %s: version %s, protocol %u, connection %u%s%s", where,
                  check_fmt_us(r->phase_us[VG_PHASE_FIRSTBYTE], t, sizeof(t)), g->version, g->protocol,
                  g->conn_id, g->auth_plugin[0] ? ", auth " : "", g->auth_plugin);
    if(ck->opts->expect_version) {
        regex_t re;
        if(sendexpect_compile(&re, ck->opts->expect_version, "--expect-version", NULL)) {
            check_finding(ck, VG_CHECK_UNKNOWN, VG_CR_INTERNAL, "cannot compile --expect-version");
            return;
        }
        if(!sendexpect_match(&re, g->version, strlen(g->version)))
            check_finding(ck, VG_CHECK_CRITICAL, VG_CR_BANNER_MISMATCH,
                          "server version '%s' does not match --expect-version", g->version);
        regfree(&re);
    }
}

static void mysql_data(vg_stream *s)
{
    vg_check *ck = s->ck;
    mysql_greeting g;
    size_t used;
    const char *why;
    char where[160];
    int rc = mysql_parse_greeting(s->in, s->in_len, &g, &used, &why);

    if(rc == 1 && s->in_len < s->in_cap)
        return;
    if(rc == 0)
        mysql_judge(s, &g);
    else {
        char head[64];
        check_where(ck, where, sizeof(where));
        vg_escape(head, sizeof(head), s->in, s->in_len < 24 ? s->in_len : 24);
        snprintf(ck->run->res.banner, sizeof(ck->run->res.banner), "%s", head);
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                      "%s does not speak MySQL: %s (it sent \"%s\")", where, why ? why : "greeting too long", head);
    }
    check_attempt_done(ck);
}

static void mysql_close(vg_stream *s, int err)
{
    vg_check *ck = s->ck;
    char where[160];
    check_where(ck, where, sizeof(where));
    if(s->in_len)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_PROTOCOL_ERROR,
                      "connected to %s, but it %s after a truncated greeting (%zu bytes)", where,
                      err ? "reset the connection" : "closed the connection", s->in_len);
    else if(err)
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_RESET,
                      "connected to %s, but it reset the connection without a greeting", where);
    else
        check_finding(ck, VG_CHECK_CRITICAL, VG_CR_CONN_CLOSED,
                      "connected to %s, but it closed the connection without a greeting", where);
    check_attempt_done(ck);
}

static const vg_stream_ops mysql_ops = {
    .on_open = mysql_open,
    .on_data = mysql_data,
    .on_close = mysql_close,
};

static int mysql_start(vg_check *ck)
{
    struct mysql_ctx *m = check_kctx_new(ck, sizeof(*m));
    if(!m)
        return -1;
    return stream_open(&m->stream, ck, &mysql_ops, m, MYSQL_MAX_GREETING + 4, false);
}

static void mysql_timeout(vg_check *ck)
{
    struct mysql_ctx *m = ck->kctx;
    stream_timeout_finding(&m->stream, "the server greeting");
    check_attempt_done(ck);
}

static void mysql_release(vg_check *ck)
{
    struct mysql_ctx *m = ck->kctx;
    if(!m)
        return;
    ck->kctx = NULL;
    if(m->stream.ck)
        stream_close(&m->stream);
    free(m);
}

const vg_check_type vg_check_mysql = {
    .name = "mysql",
    .label = "MYSQL",
    .detail = VG_REC_DETAIL_MYSQL,
    .default_port = 3306,
    .tls = false,
    .kind = VG_KIND_MYSQL,
    .fds = CHECK_FDS_STREAM,
    .wrong_kind = mysql_wrong_kind,
    .validate = mysql_validate,
    .start = mysql_start,
    .on_timeout = mysql_timeout,
    .release = mysql_release,
};
