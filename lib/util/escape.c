/* SPDX-License-Identifier: MIT */
/* Escaping bytes from the wire for display, and short durations: pure
 * helpers shared by the checks and the output formats. */
#include <stdio.h>
#include <string.h>

#include "util/escape.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid or a
 * code point we refuse to pass through (C1 controls, bidi overrides and
 * isolates, line/paragraph separators: they can disguise text). */
static size_t utf8_ok(const uint8_t *s, size_t len)
{
    uint32_t cp;
    size_t n;
    if(s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if(len < n)
        return 0;
    cp = s[0] & (0x7f >> n);
    for(size_t i = 1; i < n; i++) {
        if((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    if(cp >= 0xd800 && cp <= 0xdfff)
        return 0;
    if(cp < 0xa0)
        return 0; /* C1 */
    if((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
       cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f || cp == 0x061c)
        return 0;
    return n;
}

char *vg_escape(char *dst, size_t dstlen, const void *src, size_t len)
{
    const uint8_t *s = src;
    size_t o = 0, i = 0;
    if(!dstlen)
        return dst;
    while(i < len) {
        char unit[16];
        size_t ul, adv = 1;
        uint8_t b = s[i];
        size_t u8 = b >= 0x80 ? utf8_ok(s + i, len - i) : 0;
        if(u8) {
            memcpy(unit, s + i, u8);
            ul = adv = u8;
        }
        else if(b == '\\') {
            memcpy(unit, "\\\\", 2);
            ul = 2;
        }
        else if(b == '\n' || b == '\r' || b == '\t') {
            unit[0] = '\\';
            unit[1] = b == '\n' ? 'n' : b == '\r' ? 'r' : 't';
            ul = 2;
        }
        else if(b >= 0x20 && b < 0x7f) {
            unit[0] = (char)b;
            ul = 1;
        }
        else {
            static const char hex[] = "0123456789abcdef";
            unit[0] = '\\';
            unit[1] = 'x';
            unit[2] = hex[b >> 4];
            unit[3] = hex[b & 15];
            ul = 4;
        }
        /* Keep room for "..." and the NUL in case more follows. */
        if(o + ul + (i + adv < len ? 4 : 1) > dstlen) {
            if(o + 4 <= dstlen) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(dst + o, unit, ul);
        o += ul;
        i += adv;
    }
    dst[o < dstlen ? o : dstlen - 1] = '\0';
    return dst;
}

const char *vg_fmt_us(int64_t us, char *buf, size_t len)
{
    if(us < 0)
        snprintf(buf, len, "?");
    else if(us < 10000)
        snprintf(buf, len, "%.2f ms", (double)us / 1000.0);
    else if(us < 1000000)
        snprintf(buf, len, "%.0f ms", (double)us / 1000.0);
    else
        snprintf(buf, len, "%.2f s", (double)us / 1e6);
    return buf;
}
