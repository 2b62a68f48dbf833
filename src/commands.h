/* SPDX-License-Identifier: MIT */
/* The subcommands; each takes argv with argv[0] = its own name. */
#ifndef VIGIA_COMMANDS_H
#define VIGIA_COMMANDS_H

int cmd_scan(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif
