/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the MySQL greeting parser (lib/check/mysql_wire.c). A
 * parsed packet never claims more bytes than it was given, and every string
 * it returns is NUL-terminated within its field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/mysql_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mysql_greeting g;
    size_t used = 0;
    const char *why = NULL;
    /* A copy of exactly size bytes, so ASan sees any over-read. */
    uint8_t *buf = malloc(size ? size : 1);
    int rc;
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    rc = mysql_parse_greeting(buf, size, &g, &used, &why);
    if(rc == 0 && (used > size || used < 5))
        abort();
    if(rc == -1 && !why)
        abort();
    if(rc == 0 && (strnlen(g.version, sizeof(g.version)) == sizeof(g.version) ||
                   strnlen(g.err_msg, sizeof(g.err_msg)) == sizeof(g.err_msg) ||
                   strnlen(g.auth_plugin, sizeof(g.auth_plugin)) == sizeof(g.auth_plugin)))
        abort();
    free(buf);
    return 0;
}
