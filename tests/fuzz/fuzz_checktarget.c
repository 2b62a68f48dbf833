/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the check target-spec parser (tcp://, http(s)://, tls://,
 * ssh://, host:port, ...); on success the parsed host, scheme and URL must be
 * NUL-terminated inside their fields, and only icmp:// may lack a port. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    vg_check_target t;
    vg_error err;
    if(!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    if(vg_check_target_parse(&t, spec, &err) == VG_OK) {
        if(!memchr(t.scheme, 0, sizeof(t.scheme)) || !memchr(t.host, 0, sizeof(t.host)) ||
           !memchr(t.url, 0, sizeof(t.url)) || (t.port == 0 && strcmp(t.scheme, "icmp")))
            abort();
    }
    free(spec);
    return 0;
}
