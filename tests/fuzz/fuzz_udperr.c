/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the udp check's error path (lib/check/udp.c,
 * udp_errqueue_reason): the control messages of a recvmsg(MSG_ERRQUEUE)
 * result, walked with CMSG_FIRSTHDR/CMSG_NXTHDR, each IP_RECVERR or
 * IPV6_RECVERR one read as a struct sock_extended_err. The input is the
 * control buffer. A reason must come with its text, and the walk must stay
 * inside the buffer (ASan watches an exact-size, aligned copy). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_parse.h"
#include "vigia/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* malloc's alignment is what a cmsghdr needs. */
    uint8_t *buf = malloc(size ? size : 1);
    struct msghdr mh;
    const char *what = "unset";
    int reason;
    if(!buf)
        return 0;
    memcpy(buf, data, size);
    memset(&mh, 0, sizeof(mh));
    mh.msg_control = buf;
    mh.msg_controllen = size;
    reason = udp_errqueue_reason(&mh, &what);
    if(reason == -1 ? what != NULL : (reason <= VG_CR_OK || reason >= VG_CR__COUNT || !what))
        abort();
    free(buf);
    return 0;
}
