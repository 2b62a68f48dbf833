/* SPDX-License-Identifier: MIT */
/* libFuzzer target: vg_escape() must never let a control byte through (so a
 * hostile server cannot drive the terminal) and must stay inside its buffer;
 * vg_unescape() must reject or decode within its capacity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[256];
    /* The first byte picks a small output size, to fuzz truncation too. */
    size_t cap = size ? (size_t)data[0] % sizeof(out) + 1 : sizeof(out);
    vg_escape(out, cap, data, size);
    size_t n = strnlen(out, cap);
    if(n >= cap)
        abort();
    for(size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if(c < 0x20 || c == 0x7f)
            abort();
    }

    char *in = malloc(size + 1);
    if(!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char dec[128];
    long got = vg_unescape(dec, sizeof(dec), in);
    if(got > (long)sizeof(dec))
        abort();
    free(in);
    return 0;
}
