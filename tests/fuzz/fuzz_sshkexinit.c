/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the server's packets after its version line, read
 * as the ssh check reads them: ssh_msg_read() (framing, DISCONNECT's code
 * and description), and for a KEXINIT ssh_kexinit_parse() with its ten
 * name-lists (RFC 4253 7.1), each negotiated against the check's own list
 * (ssh_client_namelists) with ssh_namelist_pick(). A picked name must be a
 * whole element of both lists; what the readers hand out must lie inside
 * the packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/ssh_kex.h"
#include "check/ssh_wire.h"
#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether name is a whole comma-separated element of list[0..n). */
static bool has_element(const char *list, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for(size_t i = 0; i + nl <= n;) {
        const char *comma = memchr(list + i, ',', n - i);
        size_t end = comma ? (size_t)(comma - list) : n;
        if(end - i == nl && !memcmp(list + i, name, nl))
            return true;
        if(!comma)
            break;
        i = end + 1;
    }
    return false;
}

static void kexinit(const uint8_t *p, size_t n)
{
    ssh_kexinit ki;
    const ssh_kex_alg *alg;
    char hk[32];
    if(!ssh_kexinit_parse(p, n, &ki))
        return;
    for(int i = 0; i < 10; i++)
        if(!ki.list[i] || ki.list[i] < p || ki.list[i] + ki.listn[i] > p + n)
            abort();
    for(int i = 0; i < 10; i++) {
        const char *mine = ssh_client_namelists[i];
        char pick[64];
        if(!ssh_namelist_pick(mine, ki.list[i], ki.listn[i], pick, sizeof(pick)))
            continue;
        if(strnlen(pick, sizeof(pick)) == sizeof(pick) || !has_element((const char *)ki.list[i], ki.listn[i], pick) ||
           !has_element(mine, strlen(mine), pick))
            abort();
    }
    /* What the check does with it: negotiation names one of our methods. */
    if(ssh_kexinit_negotiate(&ki, &alg, hk, sizeof(hk)) && (!alg || !has_element(ssh_hostkey_names,
                                                                                 strlen(ssh_hostkey_names), hk)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    size_t off = 0;
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    /* Bounded like a burst of the check's 64 KB buffer. */
    for(int guard = 0; guard < 64; guard++) {
        ssh_msg m;
        int kind = ssh_msg_read(buf + off, size - off, &m);
        if(kind == SSH_M_MORE || kind == SSH_M_BAD)
            break;
        if(m.used == 0 || m.used > size - off || m.payload < buf + off || m.payload + m.plen > buf + off + m.used)
            abort();
        if(kind == SSH_M_DISCONNECT) {
            char why[160];
            if(m.descn && (m.desc < m.payload || m.desc + m.descn > m.payload + m.plen))
                abort();
            vg_escape(why, sizeof(why), m.desc, m.descn);
            if(strnlen(why, sizeof(why)) == sizeof(why))
                abort();
            break;
        }
        if(m.type == SSH_MSG_KEXINIT)
            kexinit(m.payload, m.plen);
        off += m.used;
    }
    free(buf);
    return 0;
}
