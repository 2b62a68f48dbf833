/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the http check's header callback (lib/check/http.c,
 * http_status_line): every header line curl hands over, of which the
 * "HTTP/..." status line is kept, escaped, for the record. The input is
 * split at '\n' into header lines as curl delivers them (line ending
 * included). The stored line must be printable, NUL-terminated, and kept
 * only for lines that start with "HTTP/". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while(off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
        /* An exact-size copy of the line, so that ASan sees any over-read. */
        char *line = malloc(n);
        char status[160]; /* http.c: h->status_line */
        bool kept;
        if(!line)
            return 0;
        memcpy(line, data + off, n);
        memset(status, 'x', sizeof(status));
        kept = http_status_line(status, sizeof(status), line, n);
        if(kept != (n >= 5 && !memcmp(line, "HTTP/", 5)))
            abort();
        if(kept) {
            size_t sl = strnlen(status, sizeof(status));
            if(sl == sizeof(status) || sl < 5 || memcmp(status, "HTTP/", 5))
                abort();
            for(size_t i = 0; i < sl; i++)
                if((unsigned char)status[i] < 0x20 || status[i] == 0x7f)
                    abort();
        }
        free(line);
        off += n;
    }
    return 0;
}
