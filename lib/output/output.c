/* SPDX-License-Identifier: MIT */
/* The output registry and what all formats share. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output/formats.h"
#include "vigia/output.h"
#include "util/alloc.h"

static const vg_output_type *const types[] = {
    &vg_output_text,
    &vg_output_ndjson,
    NULL,
};

const vg_output_type *const *vg_output_types(void)
{
    return types;
}

vg_output *vg_output_new(const char *format, FILE *fp, const vg_output_opts *opts,
                         vg_error *err)
{
    const vg_output_type *type = NULL;
    vg_output *o;

    for(size_t i = 0; types[i]; i++) {
        if(!strcasecmp(types[i]->name, format))
            type = types[i];
    }
    if(!type) {
        vg_error_set(err, VG_EINVAL, "unknown output format '%s' (known: text, ndjson)", format);
        return NULL;
    }
    o = vg_calloc(1, sizeof(*o));
    if(!o || (type->ctx_size && !(o->ctx = vg_calloc(1, type->ctx_size)))) {
        free(o);
        vg_error_set(err, VG_ENOMEM, "out of memory");
        return NULL;
    }
    o->type = type;
    o->fp = fp;
    if(opts)
        o->opts = *opts;
    return o;
}

static int stream_status(vg_output *o, int rc)
{
    if(rc == VG_OK && ferror(o->fp))
        rc = VG_EIO;
    return rc;
}

int vg_output_begin(vg_output *o, const vg_scan_info *info)
{
    return stream_status(o, o->type->begin ? o->type->begin(o, info) : VG_OK);
}

int vg_output_result(vg_output *o, const vg_result *res)
{
    return stream_status(o, o->type->result ? o->type->result(o, res) : VG_OK);
}

int vg_output_result_check(vg_output *o, const vg_result *res, const struct vg_check_result *chk)
{
    if(!chk || !o->type->result_check)
        return vg_output_result(o, res);
    return stream_status(o, o->type->result_check(o, res, chk));
}

int vg_output_host(vg_output *o, const vg_result *host)
{
    return stream_status(o, o->type->host ? o->type->host(o, host) : VG_OK);
}

int vg_output_end(vg_output *o, const vg_scan_end *end)
{
    return stream_status(o, o->type->end ? o->type->end(o, end) : VG_OK);
}

int vg_output_flush(vg_output *o)
{
    if(fflush(o->fp) != 0 || ferror(o->fp))
        return VG_EIO;
    return VG_OK;
}

void vg_output_free(vg_output *o)
{
    if(!o)
        return;
    if(o->type->cleanup)
        o->type->cleanup(o);
    free(o->ctx);
    free(o);
}

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
    putc('"', fp);
    while(*s) {
        unsigned char c = *s;
        if(c == '"' || c == '\\') {
            putc('\\', fp);
            putc(c, fp);
            s++;
        }
        else if(c == '\n') {
            fputs("\\n", fp);
            s++;
        }
        else if(c == '\r') {
            fputs("\\r", fp);
            s++;
        }
        else if(c == '\t') {
            fputs("\\t", fp);
            s++;
        }
        else if(c < 0x20 || c == 0x7f) {
            fprintf(fp, "\\u%04x", c);
            s++;
        }
        else {
            size_t n = utf8_len(s);
            if(!n) {
                fprintf(fp, "\\u%04x", c);
                s++;
            }
            else {
                fwrite(s, 1, n, fp);
                s += n;
            }
        }
    }
    putc('"', fp);
}
