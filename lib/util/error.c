/* SPDX-License-Identifier: MIT */
/* The error record: a code plus a message the caller may show. */
#include <stdarg.h>
#include <stdio.h>

#include "vigia/error.h"

int vg_error_set(vg_error *err, int code, const char *fmt, ...)
{
    if(err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *vg_strerror(int code)
{
    switch(code) {
    case VG_OK: return "success";
    case VG_EINVAL: return "invalid input";
    case VG_ENOMEM: return "out of memory";
    case VG_ESYS: return "system error";
    case VG_ERESOLVE: return "name resolution failed";
    case VG_EIO: return "output error";
    default: return "unknown error";
    }
}
