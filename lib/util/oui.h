/* SPDX-License-Identifier: MIT */
/* MAC address vendors from the IEEE OUI registry as Debian ships it
 * (package ieee-data, /usr/share/ieee-data/oui.txt), read at run time:
 * the registry changes every week, a copied table would rot. */
#ifndef VIGIA_OUI_H
#define VIGIA_OUI_H

#include <stddef.h>
#include <stdint.h>

#define VG_OUI_DEFAULT_PATH "/usr/share/ieee-data/oui.txt"

typedef struct vg_oui vg_oui;

/* Parses the registry at path (NULL: the default). NULL when the file is
 * missing or unreadable: vendors are a nicety, never an error. */
vg_oui *vg_oui_load(const char *path);

/* Same, from a buffer (for tests and fuzzing); len bytes, no NUL needed. */
vg_oui *vg_oui_parse(const char *buf, size_t len);

/* The vendor of mac, NULL when unknown. Locally administered addresses
 * (veth, containers, randomised Wi-Fi) have no vendor by definition. */
const char *vg_oui_vendor(const vg_oui *db, const uint8_t mac[6]);

size_t vg_oui_count(const vg_oui *db);
void vg_oui_free(vg_oui *db);

#endif
