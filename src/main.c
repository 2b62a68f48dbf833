/* SPDX-License-Identifier: MIT */
/* vigia: the command-line front end. Dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "vigia_config.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: " PROG " COMMAND [OPTIONS]\n"
            "\n"
            "Commands:\n"
            "  scan TARGET...    report ports as open, closed or filtered (vigia scan --help)\n"
            "  check TARGET...   is the service up and healthy, and why not (vigia check --help)\n"
            "  demo              start listeners on loopback and scan them\n"
            "  version           print the version\n"
            "  help              this text\n"
            "\n"
            "vigia " VIGIA_VERSION " - a port scanner and service validator.\n");
}

int main(int argc, char **argv)
{
    if(argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    /* Signals first: from here on each has its own exit status. */
    if(!strcmp(cmd, "scan") || !strcmp(cmd, "check") || !strcmp(cmd, "demo"))
        cli_signals_init();
    if(!strcmp(cmd, "scan"))
        return cmd_scan(argc - 1, argv + 1);
    if(!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if(!strcmp(cmd, "demo"))
        return cmd_demo(argc - 1, argv + 1);
    if(!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("vigia %s\n", VIGIA_VERSION);
        return 0;
    }
    if(!strcmp(cmd, "--help-man")) {
        check_write_man(stdout);
        return 0;
    }
    if(!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, PROG ": unknown command '%s' (try '" PROG " help')\n", cmd);
    return 1;
}
