/* SPDX-License-Identifier: MIT */
/* Reading DNS answers for dns:// checks: the header, the question section
 * (skipped) and the answer records in presentation form. See dns_msg.h for
 * the rules against hostile messages. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/dns_msg.h"
#include "util/buf.h"
#include "vigia/check.h"

/* Appends to out as far as it fits (always NUL-terminated). */
static void put(char *out, size_t outlen, size_t *n, const char *s, size_t sl)
{
    if(*n >= outlen)
        return;
    if(sl > outlen - 1 - *n)
        sl = outlen - 1 - *n;
    memcpy(out + *n, s, sl);
    *n += sl;
    out[*n] = '\0';
}

/* One label byte in presentation form: \DDD for anything unusual. */
static void put_label_byte(char *out, size_t outlen, size_t *n, uint8_t c)
{
    char buf[8];
    if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
       c == '_' || c == '*' || c == '/')
        put(out, outlen, n, (const char *)&c, 1);
    else {
        snprintf(buf, sizeof(buf), "\\%03u", c);
        put(out, outlen, n, buf, strlen(buf));
    }
}

/* Reads the (possibly compressed) name at r's cursor and moves r past its
 * own bytes. Compression pointers are positions of r, which therefore
 * spans the message from its first byte; they may only point before
 * everything this name has read so far. */
static int read_name(vg_rd *r, char *out, size_t outlen)
{
    vg_rd j = *r;               /* the cursor that follows the pointers */
    size_t lowest = vg_rd_pos(r), n = 0, wire = 0;
    bool jumped = false;
    unsigned jumps = 0;

    if(outlen)
        out[0] = '\0';
    for(;;) {
        const uint8_t *label;
        uint8_t c, lo;
        if(!vg_rd_u8(&j, &c))
            return -1;
        if((c & 0xC0) == 0xC0) {
            size_t ptr;
            if(!vg_rd_u8(&j, &lo))
                return -1;
            ptr = ((size_t)(c & 0x3F) << 8) | lo;
            /* Strictly backwards, before everything read so far: no loops. */
            if(ptr >= lowest || ++jumps > 64)
                return -1;
            if(!jumped)
                vg_rd_seek(r, vg_rd_pos(&j));
            jumped = true;
            lowest = ptr;
            vg_rd_seek(&j, ptr);
            continue;
        }
        if(c & 0xC0)
            return -1; /* extended label types are obsolete */
        if(c == 0) {
            if(!jumped)
                vg_rd_seek(r, vg_rd_pos(&j));
            break;
        }
        if(!vg_rd_take(&j, c, &label))
            return -1;
        wire += 1u + c;
        if(wire > 255)
            return -1;
        for(size_t i = 0; i < c; i++)
            put_label_byte(out, outlen, &n, label[i]);
        put(out, outlen, &n, ".", 1);
    }
    if(n == 0)
        put(out, outlen, &n, ".", 1);
    return 0;
}

int dnsmsg_read_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t outlen)
{
    vg_rd r;
    vg_rd_init(&r, msg, len);
    if(outlen)
        out[0] = '\0';
    if(!vg_rd_seek(&r, *off) || read_name(&r, out, outlen))
        return -1;
    *off = vg_rd_pos(&r);
    return 0;
}

/* TXT: the character-strings, concatenated, non-printable bytes as \DDD. */
static int fmt_txt(vg_rd *d, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    while(vg_rd_left(d)) {
        const uint8_t *cs;
        size_t sl;
        if(!vg_rd_str8(d, &cs, &sl))
            return -1;
        for(size_t k = 0; k < sl; k++) {
            uint8_t c = cs[k];
            char buf[8];
            if(c >= 0x20 && c < 0x7f && c != '\\')
                put(out, outlen, &n, (const char *)&c, 1);
            else {
                snprintf(buf, sizeof(buf), "\\%03u", c);
                put(out, outlen, &n, buf, strlen(buf));
            }
        }
    }
    return 0;
}

/* The record data under m's cursor: m spans the message from its first
 * byte (names may point anywhere before) to the end of the rdata (a
 * record's own bytes may not run past it), so a record that is not read
 * exactly to m's end is malformed. */
static int fmt_rdata(vg_rd *m, size_t rdlen, dnsmsg_rr *rr)
{
    char name[DNSMSG_TEXT], name2[DNSMSG_TEXT];
    uint16_t a, b, c;
    uint32_t v[5];

    switch(rr->type) {
    case 1:
    case 28: {
        int fam = rr->type == 1 ? AF_INET : AF_INET6;
        size_t want = rr->type == 1 ? 4 : 16;
        if(rdlen != want || !vg_rd_bytes(m, rr->rdata, want))
            return -1;
        if(!inet_ntop(fam, rr->rdata, rr->text, sizeof(rr->text)))
            return -1;
        return 0;
    }
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
        if(read_name(m, rr->text, sizeof(rr->text)) || !vg_rd_done(m))
            return -1;
        return 0;
    case 15: /* MX */
        if(!vg_rd_be16(m, &a) || read_name(m, name, sizeof(name)) || !vg_rd_done(m))
            return -1;
        snprintf(rr->text, sizeof(rr->text), "%u %.140s", a, name);
        return 0;
    case 33: /* SRV */
        if(!vg_rd_be16(m, &a) || !vg_rd_be16(m, &b) || !vg_rd_be16(m, &c) || read_name(m, name, sizeof(name)) ||
           !vg_rd_done(m))
            return -1;
        snprintf(rr->text, sizeof(rr->text), "%u %u %u %.130s", a, b, c, name);
        return 0;
    case 16: { /* TXT */
        vg_rd d;
        vg_rd_sub(m, rdlen, &d);
        return fmt_txt(&d, rr->text, sizeof(rr->text));
    }
    case 6: /* SOA */
        if(read_name(m, name, sizeof(name)) || read_name(m, name2, sizeof(name2)))
            return -1;
        for(int i = 0; i < 5; i++)
            if(!vg_rd_be32(m, &v[i]))
                return -1;
        if(!vg_rd_done(m))
            return -1;
        snprintf(rr->text, sizeof(rr->text), "%.60s %.60s %u %u %u %u %u", name, name2, v[0], v[1], v[2],
                 v[3], v[4]);
        return 0;
    default:
        snprintf(rr->text, sizeof(rr->text), "\\# %zu", rdlen);
        return 0;
    }
}

int dnsmsg_parse(const uint8_t *msg, size_t len, dnsmsg *out, const char **why, dnsmsg_rr_fn on_rr,
                 void *ud)
{
    vg_rd r;
    uint16_t qd, an, ns, ar;
    char name[DNSMSG_TEXT];

    memset(out, 0, sizeof(*out));
    vg_rd_init(&r, msg, len);
    *why = "shorter than a DNS header";
    if(!vg_rd_be16(&r, &out->id) || !vg_rd_be16(&r, &out->flags) || !vg_rd_be16(&r, &qd) ||
       !vg_rd_be16(&r, &an) || !vg_rd_be16(&r, &ns) || !vg_rd_be16(&r, &ar))
        return -1;
    out->qr = (out->flags & 0x8000) != 0;
    out->aa = (out->flags & 0x0400) != 0;
    out->tc = (out->flags & 0x0200) != 0;
    out->rcode = out->flags & 0x000F;
    out->qdcount = qd;
    out->ancount = an;
    out->nscount = ns;
    out->arcount = ar;
    for(unsigned i = 0; i < qd; i++) {
        uint16_t t, c;
        *why = "bad question section";
        if(read_name(&r, name, sizeof(name)) || !vg_rd_be16(&r, &t) || !vg_rd_be16(&r, &c))
            return -1;
    }
    for(unsigned i = 0; i < an; i++) {
        dnsmsg_rr rr;
        uint16_t rdlen;
        vg_rd m;
        memset(&rr, 0, sizeof(rr));
        *why = "bad answer record";
        if(read_name(&r, name, sizeof(name)) || !vg_rd_be16(&r, &rr.type) || !vg_rd_be16(&r, &rr.rclass) ||
           !vg_rd_be32(&r, &rr.ttl) || !vg_rd_be16(&r, &rdlen))
            return -1;
        *why = "answer record runs past the end of the message";
        if(rdlen > vg_rd_left(&r))
            return -1;
        rr.rdlen = rdlen;
        *why = "malformed record data";
        vg_rd_init(&m, msg, vg_rd_pos(&r) + rdlen);
        vg_rd_seek(&m, vg_rd_pos(&r));
        if(fmt_rdata(&m, rdlen, &rr))
            return -1;
        vg_rd_skip(&r, rdlen);
        if(on_rr)
            on_rr(&rr, ud);
        if(out->nrr < DNSMSG_MAX_RR)
            out->rr[out->nrr++] = rr;
    }
    *why = NULL;
    return 0;
}

static const char *const rcode_names[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
    "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

const char *dnsmsg_rcode_name(int rcode, char *buf, size_t len)
{
    if(rcode >= 0 && (size_t)rcode < sizeof(rcode_names) / sizeof(rcode_names[0]))
        return rcode_names[rcode];
    snprintf(buf, len, "RCODE%d", rcode);
    return buf;
}

int dnsmsg_rcode_parse(const char *s)
{
    for(size_t i = 0; i < sizeof(rcode_names) / sizeof(rcode_names[0]); i++)
        if(s && !strcasecmp(s, rcode_names[i]))
            return (int)i;
    return -1;
}

int vg_dns_rcode_parse(const char *s)
{
    return dnsmsg_rcode_parse(s);
}
