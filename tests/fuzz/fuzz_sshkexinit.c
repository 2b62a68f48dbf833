/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the server's packets after its version line, as the
 * ssh check reads them: binary packets (ssh_packet_parse), DISCONNECT
 * (code and escaped description) and KEXINIT with its ten name-lists (RFC
 * 4253 7.1), negotiated against the check's own lists with
 * ssh_namelist_pick(). ssh.c's KEXINIT reader is static (and being changed
 * by others), so the reads are spelled out here with the ssh_wire.h
 * readers it uses. A picked name must be a whole element of both lists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/ssh_wire.h"
#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The client lists of lib/check/ssh.c, in its order: kex, host key,
 * cipher (both directions), MAC (both), compression (both). */
static const char *const client_lists[8] = {
    "curve25519-sha256,curve25519-sha256@libssh.org",
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com,aes128-cbc,aes256-cbc,3des-cbc",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com,aes128-cbc,aes256-cbc,3des-cbc",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1,umac-64@openssh.com",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1,umac-64@openssh.com",
    "none,zlib@openssh.com,zlib",
    "none,zlib@openssh.com,zlib",
};

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
    ssh_rd r = {.p = p, .len = n};
    const uint8_t *lists[10];
    size_t lens[10];
    uint8_t msg, follows;
    uint32_t reserved;
    ssh_rd_u8(&r, &msg);
    ssh_rd_skip(&r, 16); /* cookie */
    for(int i = 0; i < 10; i++) {
        lists[i] = NULL;
        lens[i] = 0;
        ssh_rd_string(&r, &lists[i], &lens[i]);
    }
    ssh_rd_u8(&r, &follows);
    ssh_rd_u32(&r, &reserved);
    if(r.err)
        return;
    for(int i = 0; i < 10; i++)
        if(lists[i] < p || lists[i] + lens[i] > p + n)
            abort();
    for(int i = 0; i < 8; i++) {
        char pick[64];
        if(!ssh_namelist_pick(client_lists[i], lists[i], lens[i], pick, sizeof(pick)))
            continue;
        if(strnlen(pick, sizeof(pick)) == sizeof(pick) || !has_element((const char *)lists[i], lens[i], pick) ||
           !has_element(client_lists[i], strlen(client_lists[i]), pick))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    size_t off = 0;
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    /* ssh.c reads at most 64 packets per burst. */
    for(int guard = 0; guard < 64; guard++) {
        const uint8_t *payload;
        size_t plen, used;
        int rc = ssh_packet_parse(buf + off, size - off, &used, &payload, &plen);
        if(rc <= 0 || plen == 0)
            break;
        if(used == 0 || used > size - off || payload < buf + off || payload + plen > buf + off + used)
            abort();
        if(payload[0] == 1) { /* DISCONNECT */
            ssh_rd r = {.p = payload, .len = plen};
            uint8_t m;
            uint32_t code = 0;
            const uint8_t *d = (const uint8_t *)"";
            size_t dn = 0;
            char why[160];
            ssh_rd_u8(&r, &m);
            ssh_rd_u32(&r, &code);
            ssh_rd_string(&r, &d, &dn);
            vg_escape(why, sizeof(why), d, r.err ? 0 : dn);
            if(strnlen(why, sizeof(why)) == sizeof(why))
                abort();
            break;
        }
        if(payload[0] == 20)
            kexinit(payload, plen);
        off += used;
    }
    free(buf);
    return 0;
}
