/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the target-spec parser must never crash, leak or read
 * out of bounds, whatever the bytes. Names are only parsed, never resolved. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    vg_error err;
    if(!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    vg_targets *t = vg_targets_new();
    if(t) {
        /* The first byte picks add or exclude, so both paths are fuzzed. */
        if(size && (data[0] & 1))
            vg_targets_exclude(t, spec, "fuzz", &err);
        else
            vg_targets_add(t, spec, "fuzz", &err);
        vg_targets_free(t);
    }
    free(spec);
    return 0;
}
