/* SPDX-License-Identifier: MIT */
/* Result codes and the error record every libvigia call fills instead of printing. */
#ifndef VIGIA_ERROR_H
#define VIGIA_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible call returns VG_OK (0) or one of these negative codes. */
enum vg_rc {
    VG_OK = 0,
    VG_EINVAL = -1,   /* the caller's input is malformed (a usage error) */
    VG_ENOMEM = -2,   /* out of memory */
    VG_ESYS = -3,     /* a system call failed; errno is in vg_error.sys_errno */
    VG_ERESOLVE = -4, /* a host name did not resolve */
    VG_EIO = -5,      /* writing output failed (closed pipe, full disk) */
};

/* A human-readable message that says what is wrong and where. The library
 * never prints it; the caller decides. */
typedef struct vg_error {
    int code;
    int sys_errno;
    char msg[512];
} vg_error;

/* Fills err (if not NULL) and returns code, so callers can write
 * `return vg_error_set(err, VG_EINVAL, "...", ...);`. */
int vg_error_set(vg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *vg_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
