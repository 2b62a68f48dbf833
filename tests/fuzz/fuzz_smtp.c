/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the SMTP greeting, the EHLO reply and the STARTTLS reply
 * (lib/check/starttls.c, st_feed), whatever bytes a hostile server sends. */
#include "starttls_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_fuzz_lines(P_SMTP, data, size);
    return 0;
}
