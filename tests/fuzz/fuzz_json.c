/* SPDX-License-Identifier: MIT */
/* libFuzzer target: vg_json_string() on arbitrary bytes must write a JSON
 * string literal with no raw control characters and only valid UTF-8. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t utf8_seq(const unsigned char *s, size_t left)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
             : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if(!n || n > left)
        return 0;
    for(size_t i = 1; i < n; i++) {
        if((s[i] & 0xc0) != 0x80)
            return 0;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    char *out = NULL;
    size_t outlen = 0;
    if(!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    FILE *fp = open_memstream(&out, &outlen);
    if(!fp) {
        free(in);
        return 0;
    }
    vg_json_string(fp, in);
    fclose(fp);
    const unsigned char *o = (const unsigned char *)out;
    if(outlen < 2 || o[0] != '"' || o[outlen - 1] != '"')
        abort();
    for(size_t i = 0; i < outlen;) {
        if(o[i] < 0x20 || o[i] == 0x7f)
            abort();
        size_t n = utf8_seq(o + i, outlen - i);
        if(!n)
            abort();
        i += n;
    }
    free(out);
    free(in);
    return 0;
}
