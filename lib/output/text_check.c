/* SPDX-License-Identifier: MIT */
/* The text format's check records: one line per check in
 * monitoring-plugin form,
 *   HTTP OK - http://host/ - HTTP/1.1 200 OK, 612 bytes in 1.2 ms | time=0.0012s;;;0;10 ...
 * with perfdata for every phase even when the check failed ("U" for a
 * phase not reached). All strings in records are already escaped. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output/formats.h"
#include "util/escape.h"

static void perf_limit(FILE *fp, uint32_t us)
{
    if(us)
        fprintf(fp, "%.6f", (double)us / 1e6);
}

static void perf_phase(FILE *fp, const char *name, int64_t v, uint32_t warn, uint32_t crit,
                       const char *tail)
{
    if(v < 0)
        fprintf(fp, " %s=U", name);
    else
        fprintf(fp, " %s=%.6fs", name, (double)v / 1e6);
    fputc(';', fp);
    perf_limit(fp, warn);
    fputc(';', fp);
    perf_limit(fp, crit);
    fputs(";0", fp);
    if(tail)
        fprintf(fp, ";%s", tail);
}

/* Writes s with '|' escaped: in plugin output it starts the perfdata, and
 * a server must not be able to inject perfdata through a status line. */
static void put_plain(FILE *fp, const char *s)
{
    for(; *s; s++) {
        if(*s == '|')
            fputs("\\x7c", fp);
        else
            fputc(*s, fp);
    }
}

int text_check(vg_output *o, const vg_record *rec)
{
    const vg_rec_check *r = rec->check;
    FILE *fp = o->fp;
    const vg_rec_limits *op = r->limits;
    char target[300], upper[16], tmo[32] = "";
    const char *st = vg_check_state_name(r->state);
    size_t i;

    vg_escape(target, sizeof(target), r->target, strlen(r->target));
    for(i = 0; st[i] && i < sizeof(upper) - 1; i++)
        upper[i] = (char)(st[i] >= 'a' && st[i] <= 'z' ? st[i] - 32 : st[i]);
    upper[i] = '\0';
    if(op)
        snprintf(tmo, sizeof(tmo), "%.3f", (double)op->timeout_ms / 1000.0);
    fprintf(fp, "%s %s - ", r->label, upper);
    put_plain(fp, target);
    if(r->name && strcmp(r->name, r->target)) { /* -f: the check's name */
        char name[300];
        vg_escape(name, sizeof(name), r->name, strlen(r->name));
        fputs(" [", fp);
        put_plain(fp, name);
        fputc(']', fp);
    }
    fputs(" - ", fp);
    put_plain(fp, r->message);
    fputs(" |", fp);
    perf_phase(fp, "time", r->phase_us[VG_PHASE_TOTAL], op ? op->warn_us[VG_PHASE_TOTAL] : 0,
               op ? op->crit_us[VG_PHASE_TOTAL] : 0, tmo);
    for(int p = VG_PHASE_DNS; p < VG_PHASE_TOTAL; p++)
        perf_phase(fp, vg_phase_name(p), r->phase_us[p], op ? op->warn_us[p] : 0, op ? op->crit_us[p] : 0,
                   NULL);
    if(r->detail == VG_REC_DETAIL_HTTP)
        fprintf(fp, " size=%lluB;;;0", (unsigned long long)r->body_bytes);
    if(r->ncerts) {
        int min = r->certs[0].days_left;
        for(unsigned c = 1; c < r->ncerts; c++)
            if(r->certs[c].days_left < min)
                min = r->certs[c].days_left;
        fprintf(fp, " cert_days=%d;", min);
        if(op && op->cert_warn_days)
            fprintf(fp, "%d", op->cert_warn_days);
        fputc(';', fp);
        if(op && op->cert_crit_days)
            fprintf(fp, "%d", op->cert_crit_days);
    }
    if(r->detail == VG_REC_DETAIL_ICMP && r->icmp_sent) {
        /* check_icmp's names: round-trip average and packet loss */
        unsigned pl = (r->icmp_sent - r->icmp_received) * 100u / r->icmp_sent;
        if(r->icmp_received)
            fprintf(fp, " rta=%.6fs;;;0", (double)r->rtt_avg_us / 1e6);
        else
            fputs(" rta=U;;;0", fp);
        fprintf(fp, " pl=%u%%;", pl);
        if(op && op->warn_loss_pct >= 0)
            fprintf(fp, "%d", op->warn_loss_pct);
        fputc(';', fp);
        if(op && op->crit_loss_pct >= 0)
            fprintf(fp, "%d", op->crit_loss_pct);
        fputs(";0;100", fp);
    }
    if(r->attempts > 1)
        fprintf(fp, " attempts=%u", r->attempts);
    fputc('\n', fp);
    if(o->opts.verbose) {
        for(unsigned c = 0; c < r->ncerts; c++)
            fprintf(fp, "  cert %u: %s (issuer %s), %d days left\n", c, r->certs[c].subject,
                    r->certs[c].issuer, r->certs[c].days_left);
        if(r->tls_version[0])
            fprintf(fp, "  tls: %s %s\n", r->tls_version, r->tls_cipher);
        for(unsigned k = 0; k < r->dns_nanswers && k < VG_REC_MAX_ANSWERS; k++)
            fprintf(fp, "  answer: %s\n", r->dns_answers[k]);
        if(r->hostkey_fp[0])
            fprintf(fp, "  host key: %s %s%s\n", r->hostkey_type, r->hostkey_fp,
                    r->hostkey_verified ? " (signature verified)" : "");
        if(o->opts.verbose > 1) {
            fputs("  reasons:", fp);
            for(unsigned k = 0; k < r->nreasons; k++)
                fprintf(fp, " %s", r->reasons[k]);
            fputc('\n', fp);
        }
    }
    return VG_OK;
}

/* --- --watch ----------------------------------------------------- */

static void upper_state(int state, char *buf, size_t len)
{
    const char *st = state >= 0 ? vg_check_state_name(state) : "none";
    size_t i;
    for(i = 0; st[i] && i < len - 1; i++)
        buf[i] = (char)(st[i] >= 'a' && st[i] <= 'z' ? st[i] - 32 : st[i]);
    buf[i] = '\0';
}

/* "NAME (TARGET)" or "TARGET", escaped. */
static void who(FILE *fp, const char *name, const char *target)
{
    char buf[300];
    if(name && strcmp(name, target)) {
        vg_escape(buf, sizeof(buf), name, strlen(name));
        fputs(buf, fp);
        fputs(" (", fp);
    }
    vg_escape(buf, sizeof(buf), target, strlen(target));
    fputs(buf, fp);
    if(name && strcmp(name, target))
        fputc(')', fp);
}

/* "2026-01-02T03:04:05.678Z web (http://x/): OK -> CRITICAL conn-refused - message" */
int text_change(vg_output *o, const vg_record *rec)
{
    const vg_rec_check *r = rec->change->check;
    int previous = rec->change->previous;
    struct timespec now = rec->change->time;
    FILE *fp = o->fp;
    struct tm tm;
    time_t secs;
    char ts[40], from[16], to[16];

    secs = now.tv_sec;
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    upper_state(previous, from, sizeof(from));
    upper_state(r->state, to, sizeof(to));
    fprintf(fp, "%s.%03ldZ ", ts, now.tv_nsec / 1000000);
    who(fp, r->name, r->target);
    fprintf(fp, ": %s -> %s %s - %s\n", from, to, r->reason, r->message);
    return VG_OK;
}

int text_watch(vg_output *o, const vg_record *rec)
{
    const vg_rec_watch *st = rec->watch;
    FILE *fp = o->fp;
    char now[16], a[32], b[32], c[32];
    upper_state(st->state, now, sizeof(now));
    fputs("summary ", fp);
    who(fp, st->name, st->target);
    fprintf(fp, ": %u runs, now %s; time in state:", st->runs, now);
    for(int i = 0; i < 4; i++)
        fprintf(fp, " %s %.1fs", vg_check_state_name(i), st->state_s[i]);
    fputc('\n', fp);
    for(int p = 0; p < VG_PHASE__COUNT; p++) {
        const vg_rec_watch_phase *ph = &st->phase[p];
        if(!ph->n)
            continue;
        fprintf(fp, "  %-9s min %s  avg %s  p95 %s  (%u runs)\n", vg_phase_name(p),
                vg_fmt_us(ph->min_us, a, sizeof(a)), vg_fmt_us(ph->avg_us, b, sizeof(b)),
                vg_fmt_us(ph->p95_us, c, sizeof(c)), ph->n);
    }
    return VG_OK;
}
