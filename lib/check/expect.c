/* SPDX-License-Identifier: MIT */
/* The --expect matcher shared by the kinds that read a server's answer
 * (send/expect, --step, HTTP bodies, SSH versions, MySQL greetings, UDP
 * replies): POSIX extended regular expressions, matched with REG_STARTEND
 * so that NUL bytes in the answer do no harm. */
#include <regex.h>
#include <stdbool.h>

#include "check/check_internal.h"

int sendexpect_compile(void *re_out, const char *re, const char *what, vg_error *err)
{
    int rc = regcomp(re_out, re, REG_EXTENDED | REG_NEWLINE);
    if(rc) {
        char buf[160];
        regerror(rc, re_out, buf, sizeof(buf));
        return vg_error_set(err, VG_EINVAL, "%s '%s': bad regular expression: %s", what, re, buf);
    }
    return VG_OK;
}

bool sendexpect_match(const void *re, const void *data, size_t len)
{
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)len;
    return regexec(re, data ? data : "", 1, m, REG_STARTEND) == 0;
}
