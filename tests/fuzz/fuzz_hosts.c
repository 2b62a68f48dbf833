/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the hosts-file lookup and the special-use name test.
 * The first line of the input is the name looked up, the rest the file.
 * Nothing may crash, every address found must be of the family asked for,
 * at most as many as asked, and without duplicates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t nlen = nl ? (size_t)(nl - data) : size;
    const char *file = nl ? (const char *)nl + 1 : "";
    size_t flen = nl ? size - nlen - 1 : 0;
    static const int families[] = {0, AF_INET, AF_INET6};
    vg_addr out[4];
    char *name;

    if(nlen > 300)
        return 0;
    name = malloc(nlen + 1);
    if(!name)
        return 0;
    memcpy(name, data, nlen);
    name[nlen] = '\0';
    (void)vg_name_special(name);
    for(size_t f = 0; f < 3; f++) {
        size_t n = vg_hosts_lookup_buf(file, flen, name, families[f], out, 4);
        if(n > 4)
            abort();
        for(size_t i = 0; i < n; i++) {
            if(families[f] && out[i].family != families[f])
                abort();
            for(size_t j = 0; j < i; j++)
                if(!vg_addr_cmp(&out[i], &out[j]))
                    abort();
        }
    }
    free(name);
    return 0;
}
