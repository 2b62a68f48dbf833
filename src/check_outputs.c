/* SPDX-License-Identifier: MIT */
/* The outputs of `vigia check`: opening each -o destination, feeding
 * records, changes and summaries to every output that still works, noticing
 * a stdout whose reader went away, and writing openmetrics=FILE atomically
 * (FILE.tmp renamed over it) once per run or per --watch round. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_cli.h"
#include "cli.h"
#include "cli_output.h"
#include "vigia_config.h"

static bool om_atomic(const struct out_spec *o);
static FILE *om_open_tmp(struct out_spec *o);
static int om_commit(struct out_spec *o);

int open_outputs(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!o->path || !strcmp(o->path, "-")) {
            o->fp = stdout;
            o->is_stdout = true;
        }
        else {
            o->fp = om_atomic(o) ? om_open_tmp(o) : fopen(o->path, "w");
            if(!o->fp) {
                fprintf(stderr, PROG " check: cannot write '%s': %s\n", o->path, strerror(errno));
                return EXIT_CHECK_UNKNOWN;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        o->out->opts.verbose = c->verbose;
    }
    return 0;
}

void output_failed(struct check_cli *c, struct out_spec *o)
{
    if(o->is_stdout)
        c->stdout_broken = true;
    else if(!c->io_error) {
        fprintf(stderr, PROG " check: writing '%s' failed: %s\n", o->path, strerror(errno));
        c->io_error = true;
    }
}

void emit_result(struct check_cli *c, const vg_check_result *r)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(cli_check_result(o->out, r) || vg_output_flush(o->out))
            output_failed(c, o);
    }
}

/* A reader that went away (`vigia check ... | head -1`) shows as POLLERR on
 * our end of the pipe; notice it without waiting for the next record. */
void watch_stdout(struct check_cli *c)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    bool uses = false;
    for(int i = 0; i < c->nouts; i++)
        uses = uses || c->outs[i].is_stdout;
    if(uses && !c->stdout_broken && poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)))
        c->stdout_broken = true;
}

void begin_outputs(struct check_cli *c, const char *mode)
{
    vg_check_info info = {
        .version = VIGIA_VERSION,
        .mode = mode,
        .n_checks = (size_t)c->ntargets,
        .timeout_ms = c->wait ? (uint32_t)c->wait_timeout_ms : c->opts.timeout_ms,
        .start_time = cli_unix_time(),
    };
    for(int i = 0; i < c->nouts; i++)
        if(cli_check_begin(c->outs[i].out, &info) || vg_output_flush(c->outs[i].out))
            output_failed(c, &c->outs[i]);
}

void end_outputs(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->is_stdout && c->stdout_broken)
            continue;
        if(c->watch_ms && is_om(o))
            continue; /* --watch wrote it after each round */
        if(cli_check_end(o->out, &c->sum) || vg_output_flush(o->out))
            output_failed(c, o);
        else if(o->tmp_path && om_commit(o))
            output_failed(c, o);
    }
}

/* --- openmetrics=FILE, written atomically ----------------------------------- */

bool is_om(const struct out_spec *o)
{
    return o->out && !strcmp(o->out->type->name, "openmetrics");
}

/* openmetrics=FILE is replaced atomically (FILE.tmp renamed over it) when
 * FILE is a regular file or does not exist yet; anything else (/dev/null,
 * a FIFO, a terminal) is written in place: renaming over it would replace
 * the device or pipe with a file. */
static bool om_atomic(const struct out_spec *o)
{
    struct stat st;
    if(!is_om(o) || !o->path)
        return false;
    if(stat(o->path, &st) != 0)
        return errno == ENOENT;
    return S_ISREG(st.st_mode);
}

/* FILE.tmp next to FILE, so that the rename stays on one file system. */
static FILE *om_open_tmp(struct out_spec *o)
{
    if(!o->tmp_path && asprintf(&o->tmp_path, "%s.tmp", o->path) < 0) {
        o->tmp_path = NULL;
        errno = ENOMEM;
        return NULL;
    }
    return fopen(o->tmp_path, "w");
}

/* FILE.tmp is complete: flush, fsync, rename over FILE. A reader (node
 * exporter's textfile collector) sees the old file or the new one, never a
 * half-written one. */
static int om_commit(struct out_spec *o)
{
    int rc = 0;
    if(!o->fp)
        return -1;
    if(fflush(o->fp) != 0 || fsync(fileno(o->fp)) != 0)
        rc = -1;
    if(fclose(o->fp) != 0)
        rc = -1;
    o->fp = NULL;
    o->out->fp = NULL; /* no stream till the next round opens FILE.tmp */
    o->owns_fp = false;
    if(!rc && rename(o->tmp_path, o->path) != 0)
        rc = -1;
    if(rc)
        unlink(o->tmp_path);
    return rc;
}

/* After a --watch round: each openmetrics output writes the round's records. */
void om_round(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(!is_om(o) || (o->is_stdout && c->stdout_broken))
            continue;
        if(o->tmp_path && !o->fp) {
            o->fp = om_open_tmp(o);
            if(!o->fp) {
                output_failed(c, o);
                continue;
            }
            o->owns_fp = true;
        }
        o->out->fp = o->fp;
        if(cli_check_end(o->out, &c->sum) || vg_output_flush(o->out) ||
           (o->tmp_path && om_commit(o)))
            output_failed(c, o);
    }
}

/* A run that ended early leaves no FILE.tmp behind. */
void om_cleanup(struct check_cli *c)
{
    for(int i = 0; i < c->nouts; i++) {
        struct out_spec *o = &c->outs[i];
        if(o->tmp_path && o->fp) {
            fclose(o->fp);
            o->fp = NULL;
            o->owns_fp = false;
            unlink(o->tmp_path);
        }
        free(o->tmp_path);
        o->tmp_path = NULL;
    }
}
