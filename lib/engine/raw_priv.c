/* SPDX-License-Identifier: MIT */
/* Privileges of a raw scan: whether we have them, and giving them up once
 * the sockets are open, so that no reply off the wire is ever parsed by a
 * process that could do harm with a parser bug. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vigia/scan.h"

static int get_caps(struct __user_cap_data_struct data[2])
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    memset(data, 0, 2 * sizeof(*data));
    return (int)syscall(SYS_capget, &hdr, data);
}

bool vg_have_raw_privileges(void)
{
    struct __user_cap_data_struct data[2];
    if(get_caps(data) < 0)
        return geteuid() == 0;
    return (data[CAP_NET_RAW / 32].effective >> (CAP_NET_RAW % 32)) & 1;
}

static int fail(vg_error *err, const char *what)
{
    int e = errno;
    vg_error_set(err, VG_ESYS, "dropping privileges: %s: %s", what, strerror(e));
    if(err)
        err->sys_errno = e;
    return VG_ESYS;
}

int vg_drop_privileges(const char *user, vg_error *err)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct none[2];

    struct passwd pwbuf, *pw = NULL;
    char buf[4096];
    bool root = getuid() == 0 || geteuid() == 0;

    if(!user)
        user = "nobody";
    if(root) {
        int rc = getpwnam_r(user, &pwbuf, buf, sizeof(buf), &pw);
        if(rc || !pw)
            return vg_error_set(err, VG_EINVAL, "--user %s: no such user", user);
        if(pw->pw_uid == 0)
            return vg_error_set(err, VG_EINVAL, "--user %s: must not be root", user);
    }
    /* The bounding set first, while CAP_SETPCAP may still be ours; without
     * it this fails harmlessly. */
    for(int cap = 0; cap <= CAP_LAST_CAP; cap++)
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if(root) {
        /* glibc applies these to every thread of the process. */
        if(setgroups(0, NULL) < 0)
            return fail(err, "setgroups");
        if(setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
            return fail(err, "setresgid");
        if(setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
            return fail(err, "setresuid");
        if(setuid(0) == 0)
            return vg_error_set(err, VG_ESYS, "dropping privileges: could regain root");
    }
    /* With file capabilities only, or to be sure: empty every set. capset
     * works per thread, so call this before starting any. */
    memset(none, 0, sizeof(none));
    if(syscall(SYS_capset, &hdr, none) < 0)
        return fail(err, "capset");
    /* No exec'd program may gain privileges back. */
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return VG_OK;
}
