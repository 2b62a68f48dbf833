/* SPDX-License-Identifier: MIT */
/* libFuzzer target: --step capture expansion (lib/check/steps.c) as the
 * udp:// kind drives it. The input is a script and the server's datagrams:
 *   byte 0      which expect regex the expect steps use (a fixed set: the
 *               regex engine is glibc's, the captures are ours)
 *   up to '\n'  the send text (vg_unescape escapes, ${0}..${9} captures),
 *               used for a send step after each expect step
 *   the rest    datagrams, split at 0xff bytes
 * Each datagram goes to steps_on_datagram(); after a match the next send
 * is expanded with steps_next_send(). The expansion is checked against a
 * plain re-implementation from the same regexec() captures: every ${N}
 * becomes capture N (at most 256 bytes), all of it at most 64 KiB. */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"

#define CAP_MAX 256       /* steps.c: STEPS_MAX_CAPTURE */
#define SEND_MAX 65536    /* steps.c: STEPS_MAX_SEND */
#define ROUNDS 4          /* expect/send pairs in the script */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const regexes[] = {
    "([A-Za-z]+) ([0-9]+)",
    "^(.*)$",
    "(.)(.)(.)(.)(.)(.)(.)(.)(.)",
    "TOKEN=([^ ]*)( (.*))?",
    "challenge: ([0-9a-f]+)",
    "(a*)(b*)(c*)",
};

/* The expected expansion of send (decoded) with captures of d[0..n). */
static size_t reference(const char *send, size_t slen, const regex_t *re, const uint8_t *d, size_t n,
                        uint8_t *out)
{
    regmatch_t m[10];
    size_t o = 0;
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    if(regexec(re, (const char *)d, 10, m, REG_STARTEND))
        abort(); /* steps.c matched it */
    for(size_t i = 0; i < slen && o < SEND_MAX;) {
        if(i + 3 < slen && send[i] == '$' && send[i + 1] == '{' && send[i + 2] >= '0' && send[i + 2] <= '9' &&
           send[i + 3] == '}') {
            int k = send[i + 2] - '0';
            size_t cl = 0;
            if(m[k].rm_so >= 0 && m[k].rm_eo >= m[k].rm_so)
                cl = (size_t)(m[k].rm_eo - m[k].rm_so);
            if(cl > CAP_MAX)
                cl = CAP_MAX;
            if(cl > SEND_MAX - o)
                cl = SEND_MAX - o;
            memcpy(out + o, d + m[k].rm_so, cl);
            o += cl;
            i += 4;
            continue;
        }
        out[o++] = (uint8_t)send[i++];
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *items[2 * ROUNDS + 1];
    char *sendarg = NULL, *expectarg = NULL, *decoded = NULL;
    const uint8_t *nl, *p, *end;
    uint8_t *want = NULL;
    vg_check_opts o;
    vg_check *ck = NULL;
    steps_run *r = NULL;
    regex_t re;
    bool have_re = false;
    long dl;
    size_t sl;

    if(size < 2)
        return 0;
    nl = memchr(data + 1, '\n', size - 1);
    if(!nl)
        return 0;
    sl = (size_t)(nl - (data + 1));
    if(memchr(data + 1, 0, sl))
        return 0; /* a command-line argument has no NUL */
    sendarg = malloc(sl + 6);
    expectarg = malloc(64);
    decoded = malloc(sl + 1);
    want = malloc(SEND_MAX);
    ck = calloc(1, sizeof(*ck));
    if(!sendarg || !expectarg || !decoded || !want || !ck || !(ck->run = calloc(1, sizeof(*ck->run))))
        goto out;
    memcpy(sendarg, "send:", 5);
    memcpy(sendarg + 5, data + 1, sl);
    sendarg[5 + sl] = '\0';
    dl = vg_unescape(decoded, sl + 1, sendarg + 5);
    snprintf(expectarg, 64, "expect:%s", regexes[data[0] % (sizeof(regexes) / sizeof(regexes[0]))]);
    for(int i = 0; i < ROUNDS; i++) {
        items[2 * i] = expectarg;
        items[2 * i + 1] = sendarg;
    }
    items[2 * ROUNDS] = NULL;
    vg_check_opts_default(&o);
    o.steps = items;
    if((steps_validate(&o, NULL) == VG_OK) != (dl >= 0))
        abort(); /* validation and decoding must agree */
    if(dl < 0)
        goto out;
    r = steps_new(&o);
    if(!r)
        goto out;
    if(regcomp(&re, expectarg + 7, REG_EXTENDED | REG_NEWLINE))
        abort();
    have_re = true;
    p = nl + 1;
    end = data + size;
    while(p <= end && !steps_done(r)) {
        const uint8_t *sep = memchr(p, 0xff, (size_t)(end - p));
        size_t n = sep ? (size_t)(sep - p) : (size_t)(end - p);
        /* A copy of the datagram with the NUL after it that udp.c keeps
         * (steps_on_datagram's contract), so ASan sees any over-read. */
        uint8_t *d = malloc(n + 1);
        const uint8_t *out;
        size_t olen;
        if(!d)
            break;
        memcpy(d, p, n);
        d[n] = 0;
        if(steps_on_datagram(ck, r, d, n)) {
            size_t wl = reference(decoded, (size_t)dl, &re, d, n, want);
            if(!steps_next_send(r, &out, &olen))
                abort(); /* a send step follows every expect step */
            if(olen != wl || (olen && memcmp(out, want, olen)))
                abort();
            if(strnlen(ck->run->res.banner, sizeof(ck->run->res.banner)) == sizeof(ck->run->res.banner))
                abort();
        }
        free(d);
        if(!sep)
            break;
        p = sep + 1;
    }
out:
    if(have_re)
        regfree(&re);
    steps_free(r);
    if(ck)
        free(ck->run);
    free(ck);
    free(want);
    free(decoded);
    free(expectarg);
    free(sendarg);
    return 0;
}
