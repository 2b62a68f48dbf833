/* SPDX-License-Identifier: MIT */
/* Reading DNS answers for dns:// checks: the header, the question section
 * (skipped) and the answer records in presentation form. See dns_msg.h for
 * the rules against hostile messages. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check/dns_msg.h"
#include "vigia/check.h"

struct rd {
    const uint8_t *p;
    size_t len, off;
};

static bool rd_u16(struct rd *r, uint16_t *v)
{
    if(r->len < 2 || r->off > r->len - 2)
        return false;
    *v = (uint16_t)((r->p[r->off] << 8) | r->p[r->off + 1]);
    r->off += 2;
    return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
    if(r->len < 4 || r->off > r->len - 4)
        return false;
    *v = ((uint32_t)r->p[r->off] << 24) | ((uint32_t)r->p[r->off + 1] << 16) |
         ((uint32_t)r->p[r->off + 2] << 8) | (uint32_t)r->p[r->off + 3];
    r->off += 4;
    return true;
}

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

int dnsmsg_read_name(const uint8_t *msg, size_t len, size_t *off, char *out, size_t outlen)
{
    size_t p = *off, lowest = *off, n = 0, wire = 0;
    bool jumped = false;
    unsigned jumps = 0;

    if(outlen)
        out[0] = '\0';
    for(;;) {
        uint8_t c;
        if(p >= len)
            return -1;
        c = msg[p];
        if((c & 0xC0) == 0xC0) {
            size_t ptr;
            if(p + 1 >= len)
                return -1;
            ptr = ((size_t)(c & 0x3F) << 8) | msg[p + 1];
            /* Strictly backwards, before everything read so far: no loops. */
            if(ptr >= lowest || ++jumps > 64)
                return -1;
            if(!jumped)
                *off = p + 2;
            jumped = true;
            lowest = ptr;
            p = ptr;
            continue;
        }
        if(c & 0xC0)
            return -1; /* extended label types are obsolete */
        if(c == 0) {
            if(!jumped)
                *off = p + 1;
            break;
        }
        if(p + 1 + c > len)
            return -1;
        wire += 1u + c;
        if(wire > 255)
            return -1;
        for(size_t i = 0; i < c; i++)
            put_label_byte(out, outlen, &n, msg[p + 1 + i]);
        put(out, outlen, &n, ".", 1);
        p += 1u + c;
    }
    if(n == 0)
        put(out, outlen, &n, ".", 1);
    return 0;
}

/* TXT: the character-strings, concatenated, non-printable bytes as \DDD. */
static int fmt_txt(const uint8_t *d, size_t dl, char *out, size_t outlen)
{
    size_t i = 0, n = 0;
    out[0] = '\0';
    while(i < dl) {
        size_t sl = d[i++];
        if(sl > dl - i)
            return -1;
        for(size_t k = 0; k < sl; k++) {
            uint8_t c = d[i + k];
            char buf[8];
            if(c >= 0x20 && c < 0x7f && c != '\\')
                put(out, outlen, &n, (const char *)&c, 1);
            else {
                snprintf(buf, sizeof(buf), "\\%03u", c);
                put(out, outlen, &n, buf, strlen(buf));
            }
        }
        i += sl;
    }
    return 0;
}

static int fmt_rdata(const uint8_t *msg, size_t len, size_t rdoff, size_t rdlen, dnsmsg_rr *rr)
{
    char name[DNSMSG_TEXT], name2[DNSMSG_TEXT];
    size_t end = rdoff + rdlen, off = rdoff;
    struct rd r = {msg, end, rdoff};
    uint16_t a, b, c;
    uint32_t v[5];
    (void)len;

    switch(rr->type) {
    case 1:
    case 28: {
        int fam = rr->type == 1 ? AF_INET : AF_INET6;
        size_t want = rr->type == 1 ? 4 : 16;
        if(rdlen != want)
            return -1;
        memcpy(rr->rdata, msg + rdoff, want);
        if(!inet_ntop(fam, msg + rdoff, rr->text, sizeof(rr->text)))
            return -1;
        return 0;
    }
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
        /* The name may point anywhere before it, but its own bytes must
         * lie inside the rdata. */
        if(dnsmsg_read_name(msg, end, &off, rr->text, sizeof(rr->text)) || off != end)
            return -1;
        return 0;
    case 15: /* MX */
        if(!rd_u16(&r, &a))
            return -1;
        off = r.off;
        if(dnsmsg_read_name(msg, end, &off, name, sizeof(name)) || off != end)
            return -1;
        snprintf(rr->text, sizeof(rr->text), "%u %.140s", a, name);
        return 0;
    case 33: /* SRV */
        if(!rd_u16(&r, &a) || !rd_u16(&r, &b) || !rd_u16(&r, &c))
            return -1;
        off = r.off;
        if(dnsmsg_read_name(msg, end, &off, name, sizeof(name)) || off != end)
            return -1;
        snprintf(rr->text, sizeof(rr->text), "%u %u %u %.130s", a, b, c, name);
        return 0;
    case 16: /* TXT */
        return fmt_txt(msg + rdoff, rdlen, rr->text, sizeof(rr->text));
    case 6: /* SOA */
        if(dnsmsg_read_name(msg, end, &off, name, sizeof(name)) ||
           dnsmsg_read_name(msg, end, &off, name2, sizeof(name2)))
            return -1;
        r.off = off;
        for(int i = 0; i < 5; i++)
            if(!rd_u32(&r, &v[i]))
                return -1;
        if(r.off != end)
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
    struct rd r = {msg, len, 0};
    uint16_t qd, an, ns, ar;
    char name[DNSMSG_TEXT];

    memset(out, 0, sizeof(*out));
    *why = "shorter than a DNS header";
    if(!rd_u16(&r, &out->id) || !rd_u16(&r, &out->flags) || !rd_u16(&r, &qd) || !rd_u16(&r, &an) ||
       !rd_u16(&r, &ns) || !rd_u16(&r, &ar))
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
        if(dnsmsg_read_name(msg, len, &r.off, name, sizeof(name)) || !rd_u16(&r, &t) || !rd_u16(&r, &c))
            return -1;
    }
    for(unsigned i = 0; i < an; i++) {
        dnsmsg_rr rr;
        uint16_t rdlen;
        memset(&rr, 0, sizeof(rr));
        *why = "bad answer record";
        if(dnsmsg_read_name(msg, len, &r.off, name, sizeof(name)) || !rd_u16(&r, &rr.type) ||
           !rd_u16(&r, &rr.rclass) || !rd_u32(&r, &rr.ttl) || !rd_u16(&r, &rdlen))
            return -1;
        *why = "answer record runs past the end of the message";
        if(rdlen > len - r.off)
            return -1;
        rr.rdlen = rdlen;
        *why = "malformed record data";
        if(fmt_rdata(msg, len, r.off, rdlen, &rr))
            return -1;
        r.off += rdlen;
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
