/* SPDX-License-Identifier: MIT */
/* The subcommands; each takes argv with argv[0] = its own name. */
#ifndef VIGIA_COMMANDS_H
#define VIGIA_COMMANDS_H

#include <stdio.h>

int cmd_scan(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_demo(int argc, char **argv);

/* The man page's list of check options, as roff, from the option tables
 * (`vigia --help-man`; scripts/gen-man.sh puts it into docs/vigia.1). */
void check_write_man(FILE *fp);

#endif
