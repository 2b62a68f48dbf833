/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the PostgreSQL server's answer to the SSLRequest
 * (lib/check/starttls.c, st_pg_reply): 'S', 'N' or an ErrorResponse whose
 * message field is quoted. A quoted text must lie inside the input, and
 * only 'S' may start TLS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/starttls_wire.h"
#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    st_verdict v;
    size_t used;
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    used = st_pg_reply(buf, size, &v);
    if(used > size)
        abort();
    switch(v.action) {
    case ST_A_WAIT:
        if(used || (size && buf[0] != 'E'))
            abort();
        break;
    case ST_A_TLS:
        if(used != 1 || buf[0] != 'S')
            abort();
        break;
    case ST_A_FAIL:
        if(used || !v.what || v.reason < 0 || v.reason >= VG_CR__COUNT)
            abort();
        if(v.len && (v.text < buf || v.text + v.len > buf + size))
            abort();
        /* A quoted message ends at its NUL, which is in the input. */
        if(v.reason == VG_CR_SERVER_ERROR && v.len && v.text + v.len >= buf + size)
            abort();
        break;
    default:
        abort();
    }
    free(buf);
    return 0;
}
