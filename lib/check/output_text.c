/* SPDX-License-Identifier: MIT */
/* Text: one line per check in monitoring-plugin form,
 *   HTTP OK - http://host/ - HTTP/1.1 200 OK, 612 bytes in 1.2 ms | time=0.0012s;;;0;10 ...
 * with perfdata for every phase even when the check failed ("U" for a
 * phase not reached). All strings in records are already escaped. */
#include <string.h>

#include "check/output_formats.h"

static const char *label_of(const char *kind)
{
    if(!strcmp(kind, "http") || !strcmp(kind, "https"))
        return "HTTP";
    if(!strcmp(kind, "tls"))
        return "TLS";
    if(!strcmp(kind, "ssh"))
        return "SSH";
    return "TCP";
}

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

static int text_result(vg_check_output *o, const vg_check_result *r)
{
    FILE *fp = o->fp;
    const vg_check_opts *op = r->opts;
    char target[300], upper[16], tmo[32] = "";
    const char *st = vg_check_state_name(r->state);
    size_t i;

    vg_escape(target, sizeof(target), r->target, strlen(r->target));
    for(i = 0; st[i] && i < sizeof(upper) - 1; i++)
        upper[i] = (char)(st[i] >= 'a' && st[i] <= 'z' ? st[i] - 32 : st[i]);
    upper[i] = '\0';
    if(op)
        snprintf(tmo, sizeof(tmo), "%.3f", (double)op->timeout_ms / 1000.0);
    fprintf(fp, "%s %s - ", label_of(r->kind), upper);
    put_plain(fp, target);
    fputs(" - ", fp);
    put_plain(fp, r->message);
    fputs(" |", fp);
    perf_phase(fp, "time", r->phase_us[VG_PHASE_TOTAL], op ? op->warn_us[VG_PHASE_TOTAL] : 0,
               op ? op->crit_us[VG_PHASE_TOTAL] : 0, tmo);
    for(int p = VG_PHASE_DNS; p < VG_PHASE_TOTAL; p++)
        perf_phase(fp, vg_phase_name(p), r->phase_us[p], op ? op->warn_us[p] : 0, op ? op->crit_us[p] : 0,
                   NULL);
    if(!strcmp(r->kind, "http") || !strcmp(r->kind, "https"))
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
    if(r->attempts > 1)
        fprintf(fp, " attempts=%u", r->attempts);
    fputc('\n', fp);
    if(o->verbose) {
        for(unsigned c = 0; c < r->ncerts; c++)
            fprintf(fp, "  cert %u: %s (issuer %s), %d days left\n", c, r->certs[c].subject,
                    r->certs[c].issuer, r->certs[c].days_left);
        if(r->tls_version[0])
            fprintf(fp, "  tls: %s %s\n", r->tls_version, r->tls_cipher);
        if(r->hostkey_fp[0])
            fprintf(fp, "  host key: %s %s%s\n", r->hostkey_type, r->hostkey_fp,
                    r->hostkey_verified ? " (signature verified)" : "");
        if(o->verbose > 1) {
            fputs("  reasons:", fp);
            for(unsigned k = 0; k < r->nreasons; k++)
                fprintf(fp, " %s", vg_check_reason_name(r->reasons[k]));
            fputc('\n', fp);
        }
    }
    return VG_OK;
}

const vg_check_output_type vg_check_output_text = {
    .name = "text",
    .help = "one monitoring-plugin line per check, with perfdata",
    .result = text_result,
};
