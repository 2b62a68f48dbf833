/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the IEEE OUI registry reader. The registry is a file
 * on disk that ends up on a terminal, so: parsing arbitrary bytes must not
 * crash, and every vendor name found must be short, non-empty and free of
 * control characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/oui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(uint8_t c)
{
    if(c >= '0' && c <= '9')
        return c - '0';
    if(c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if(c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static void check_vendor(const vg_oui *db, const uint8_t mac[6])
{
    const char *v = vg_oui_vendor(db, mac);
    if(!v)
        return;
    size_t n = strlen(v);
    if(n == 0 || n >= 96 || v[n - 1] == ' ')
        abort();
    for(size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if(c < 0x20 || c == 0x7f)
            abort();
    }
    /* Locally administered addresses never have a vendor. */
    if(mac[0] & 0x02)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy without a NUL: the parser must not need one. */
    char *buf = malloc(size ? size : 1);
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    vg_oui *db = vg_oui_parse(buf, size);
    if(!db) {
        free(buf);
        return 0;
    }
    /* Look up the prefix at the start of every line, as written, and the
     * same address with the local bit set. */
    for(size_t pos = 0; pos + 8 <= size;) {
        const uint8_t *s = data + pos;
        int h[6];
        for(int i = 0, j = 0; i < 8; i++) {
            if(i == 2 || i == 5)
                continue;
            h[j++] = hexval(s[i]);
        }
        if(h[0] >= 0 && h[1] >= 0 && h[2] >= 0 && h[3] >= 0 && h[4] >= 0 && h[5] >= 0) {
            uint8_t mac[6] = {(uint8_t)(h[0] << 4 | h[1]), (uint8_t)(h[2] << 4 | h[3]),
                              (uint8_t)(h[4] << 4 | h[5]), 0x12, 0x34, 0x56};
            check_vendor(db, mac);
            mac[0] |= 0x02;
            check_vendor(db, mac);
        }
        const uint8_t *nl = memchr(s, '\n', size - pos);
        if(!nl)
            break;
        pos = (size_t)(nl - data) + 1;
    }
    static const uint8_t fixed[][6] = {
        {0x00, 0x00, 0x0c, 1, 2, 3}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0}};
    for(size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        check_vendor(db, fixed[i]);
    if(vg_oui_count(db) > size / 8 + 1)
        abort();
    vg_oui_free(db);
    free(buf);
    return 0;
}
