/* SPDX-License-Identifier: MIT */
/* The names the record schema fixes and that every view of a check record
 * prints: check states and phases. They live with the record so that the
 * formats need nothing of lib/check. */
#include "vigia/record.h"

static const char *const state_names[] = {"ok", "warning", "critical", "unknown"};

const char *vg_check_state_name(int state)
{
    if(state < 0 || state > 3)
        return "unknown";
    return state_names[state];
}

static const char *const phase_names[VG_PHASE__COUNT] = {
    "dns", "connect", "tls", "firstbyte", "total",
};

const char *vg_phase_name(int phase)
{
    if(phase < 0 || phase >= VG_PHASE__COUNT)
        return "?";
    return phase_names[phase];
}
