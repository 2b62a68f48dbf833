/* SPDX-License-Identifier: MIT */
/* What the formats share: JSON strings, MAC addresses, timestamps. Kept
 * apart from the registry so that formats depend on it and it on nothing. */
#include <stdio.h>
#include <time.h>

#include "output/formats.h"

void vg_mac_format(const uint8_t mac[6], char *buf, size_t len)
{
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    if(s[0] < 0x80)
        return 1;
    size_t n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if(!n || (n == 2 && s[0] < 0xc2) || (n == 4 && s[0] > 0xf4))
        return 0;
    for(size_t i = 1; i < n; i++) {
        if((s[i] & 0xc0) != 0x80)
            return 0;
    }
    if(n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
        return 0; /* overlong */
    if(n == 3 && s[0] == 0xed && s[1] >= 0xa0)
        return 0; /* surrogate */
    if(n == 4 && s[0] == 0xf0 && s[1] < 0x90)
        return 0; /* overlong */
    if(n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
        return 0; /* beyond U+10FFFF */
    return n;
}

void vg_json_string(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    const unsigned char *run = s; /* bytes to write as they are, not written yet */
    putc('"', fp);
    while(*s) {
        unsigned char c = *s;
        if(c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            s++;
            continue;
        }
        if(c >= 0x80) {
            size_t n = utf8_len(s);
            if(n) {
                s += n;
                continue;
            }
        }
        if(s > run)
            fwrite(run, 1, (size_t)(s - run), fp);
        if(c == '"' || c == '\\') {
            putc('\\', fp);
            putc(c, fp);
        }
        else if(c == '\n')
            fputs("\\n", fp);
        else if(c == '\r')
            fputs("\\r", fp);
        else if(c == '\t')
            fputs("\\t", fp);
        else
            fprintf(fp, "\\u%04x", c); /* a control byte, or a byte that is not UTF-8 */
        s++;
        run = s;
    }
    if(s > run)
        fwrite(run, 1, (size_t)(s - run), fp);
    putc('"', fp);
}

void json_iso_time(double t, char *buf, size_t len)
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    int ms = (int)((t - (double)secs) * 1000);
    if(ms < 0 || ms > 999)
        ms = 0;
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", ms);
}
