/* SPDX-License-Identifier: MIT */
/* The CLI's adapters to the outputs: each builds the record of what the
 * command knows (on the stack: records are only valid during the write)
 * and writes it to one format. */
#include <time.h>

#include "cli_output.h"

#define MAX_PATHS 16

int cli_scan_begin(vg_output *o, const vg_scan_info *info)
{
    vg_rec_scan hdr;
    vg_scan_record_header(&hdr, info);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_SCAN, .scan = &hdr});
}

int cli_scan_port(vg_output *o, const vg_scan_names *names, const vg_result *res,
                  const vg_check_result *chk)
{
    vg_rec_port port;
    vg_rec_check check;
    vg_rec_limits lim;
    vg_scan_record_port(&port, res, names);
    if(chk) {
        vg_check_record(&check, &lim, chk);
        port.check = &check;
    }
    return vg_output_write(o, &(vg_record){.kind = VG_REC_PORT, .port = &port});
}

int cli_scan_host(vg_output *o, const vg_scan_names *names, const vg_result *host)
{
    vg_rec_host h;
    vg_scan_record_host(&h, host, names);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_HOST, .host = &h});
}

int cli_scan_end(vg_output *o, const vg_scan_end *end)
{
    vg_rec_scan_summary sum;
    vg_rec_path paths[MAX_PATHS];
    vg_scan_end e = *end;
    if(e.npaths > MAX_PATHS)
        e.npaths = MAX_PATHS;
    vg_scan_record_summary(&sum, paths, &e);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_SCAN_SUMMARY, .scan_summary = &sum});
}

int cli_check_begin(vg_output *o, const vg_check_info *info)
{
    return vg_output_write(o, &(vg_record){.kind = VG_REC_CHECK_RUN, .check_run = info});
}

int cli_check_result(vg_output *o, const vg_check_result *res)
{
    vg_rec_check check;
    vg_rec_limits lim;
    vg_check_record(&check, &lim, res);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_CHECK, .check = &check});
}

int cli_check_change(vg_output *o, const vg_check_result *res, int previous)
{
    vg_rec_check check;
    vg_rec_limits lim;
    vg_rec_change ch = {.check = &check, .previous = previous};
    vg_check_record(&check, &lim, res);
    clock_gettime(CLOCK_REALTIME, &ch.time);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_CHANGE, .change = &ch});
}

int cli_check_watch_summary(vg_output *o, const vg_check_watch_stats *st)
{
    vg_rec_watch w;
    vg_check_watch_record(&w, st);
    return vg_output_write(o, &(vg_record){.kind = VG_REC_WATCH_SUMMARY, .watch = &w});
}

int cli_check_end(vg_output *o, const vg_check_summary *sum)
{
    return vg_output_write(o, &(vg_record){.kind = VG_REC_CHECK_SUMMARY, .check_summary = sum});
}
