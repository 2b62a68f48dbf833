/* SPDX-License-Identifier: MIT */
/* The OUI registry: lines "XX-XX-XX   (hex)<tabs>Vendor name" become a
 * sorted array searched by binary search. Other lines are ignored. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/oui.h"
#include "util/alloc.h"

#define MAX_FILE (64u << 20) /* the registry is ~6 MB; refuse absurd files */
#define MAX_NAME 96

struct oui_entry {
    uint32_t prefix; /* 24 bits */
    uint32_t name;   /* offset into names */
};

struct vg_oui {
    struct oui_entry *e;
    size_t n;
    char *names;
};

static int hexval(char c)
{
    if(c >= '0' && c <= '9')
        return c - '0';
    if(c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if(c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct oui_entry *x = a, *y = b;
    return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

/* One line: returns true and fills prefix/name when it is an "(hex)" line.
 * The name is trimmed and stripped of control characters (it may reach a
 * terminal). */
static bool parse_line(const char *s, size_t len, uint32_t *prefix, char *name)
{
    static const char tag[] = "(hex)";
    uint32_t v = 0;

    if(len < 8 + sizeof(tag))
        return false;
    for(int i = 0; i < 8; i++) {
        if(i == 2 || i == 5) {
            if(s[i] != '-')
                return false;
            continue;
        }
        int h = hexval(s[i]);
        if(h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    size_t i = 8;
    while(i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if(len - i < sizeof(tag) - 1 || memcmp(s + i, tag, sizeof(tag) - 1))
        return false;
    i += sizeof(tag) - 1;
    while(i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t n = 0;
    for(; i < len && n < MAX_NAME - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        if(c == '\r' || c == '\n')
            break;
        name[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    while(n && name[n - 1] == ' ')
        n--;
    name[n] = '\0';
    *prefix = v;
    return n > 0;
}

vg_oui *vg_oui_parse(const char *buf, size_t len)
{
    vg_oui *db = vg_calloc(1, sizeof(*db));
    size_t cap = 0, ncap = 0, nlen = 0;
    char name[MAX_NAME];

    if(!db)
        return NULL;
    for(size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        uint32_t prefix;
        if(parse_line(buf + pos, ll, &prefix, name)) {
            size_t sl = strlen(name) + 1;
            if(db->n == cap) {
                cap = cap ? cap * 2 : 1024;
                struct oui_entry *e = vg_realloc(db->e, cap * sizeof(*e));
                if(!e)
                    goto fail;
                db->e = e;
            }
            if(nlen + sl > ncap) {
                ncap = ncap ? ncap * 2 : 65536;
                while(nlen + sl > ncap)
                    ncap *= 2;
                char *nn = vg_realloc(db->names, ncap);
                if(!nn)
                    goto fail;
                db->names = nn;
            }
            memcpy(db->names + nlen, name, sl);
            db->e[db->n].prefix = prefix;
            db->e[db->n].name = (uint32_t)nlen;
            db->n++;
            nlen += sl;
        }
        pos += ll + 1;
    }
    if(db->n)
        qsort(db->e, db->n, sizeof(*db->e), cmp_entry);
    return db;
fail:
    vg_oui_free(db);
    return NULL;
}

vg_oui *vg_oui_load(const char *path)
{
    FILE *fp = fopen(path ? path : VG_OUI_DEFAULT_PATH, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    vg_oui *db = NULL;

    if(!fp)
        return NULL;
    for(;;) {
        if(len == cap) {
            if(cap >= MAX_FILE)
                goto out;
            cap = cap ? cap * 2 : 1 << 20;
            char *b = vg_realloc(buf, cap);
            if(!b)
                goto out;
            buf = b;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        if(!n)
            break;
        len += n;
    }
    if(!ferror(fp))
        db = vg_oui_parse(buf, len);
out:
    free(buf);
    fclose(fp);
    return db;
}

const char *vg_oui_vendor(const vg_oui *db, const uint8_t mac[6])
{
    if(!db || !db->n || (mac[0] & 0x02))
        return NULL;
    uint32_t key = (uint32_t)mac[0] << 16 | (uint32_t)mac[1] << 8 | mac[2];
    size_t lo = 0, hi = db->n;
    while(lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if(db->e[mid].prefix < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if(lo < db->n && db->e[lo].prefix == key)
        return db->names + db->e[lo].name;
    return NULL;
}

size_t vg_oui_count(const vg_oui *db)
{
    return db ? db->n : 0;
}

void vg_oui_free(vg_oui *db)
{
    if(!db)
        return;
    free(db->e);
    free(db->names);
    free(db);
}
