/* SPDX-License-Identifier: MIT */
/* SipHash-2-4 against the reference test vectors (key 00..0f, message
 * 00..len-1), and the probe cookie's properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "engine/cookie.h"

/* From the SipHash paper's reference implementation (vectors.h). */
static const uint64_t vectors[] = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
    0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
    0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
    0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
    0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
    0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL,
};

static void ref_key(vg_cookie_key *k)
{
    uint8_t kb[16];
    for(int i = 0; i < 16; i++)
        kb[i] = (uint8_t)i;
    vg_cookie_key_from_bytes(k, kb);
}

static void test_reference_vectors(void **state)
{
    vg_cookie_key k;
    uint8_t msg[64];
    (void)state;
    ref_key(&k);
    assert_true(k.k0 == 0x0706050403020100ULL && k.k1 == 0x0f0e0d0c0b0a0908ULL);
    for(int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for(size_t len = 0; len < sizeof(vectors) / sizeof(vectors[0]); len++) {
        uint64_t h = vg_siphash24(&k, msg, len);
        if(h != vectors[len])
            fail_msg("length %zu: %016llx != %016llx", len, (unsigned long long)h,
                     (unsigned long long)vectors[len]);
    }
    /* The last vector of the table: 63 bytes. */
    assert_true(vg_siphash24(&k, msg, 63) == 0x958a324ceb064572ULL);
}

static vg_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    vg_addr x = {.family = AF_INET};
    x.a[0] = a;
    x.a[1] = b;
    x.a[2] = c;
    x.a[3] = d;
    return x;
}

static void test_cookie_depends_on_every_input(void **state)
{
    vg_cookie_key k, k2;
    (void)state;
    ref_key(&k);
    k2 = k;
    k2.k1 ^= 1;
    vg_addr l = v4(198, 18, 0, 1), t = v4(198, 18, 0, 2);
    uint64_t base = vg_cookie(&k, &l, &t, 80, 6);
    assert_true(base == vg_cookie(&k, &l, &t, 80, 6)); /* deterministic */
    assert_true(base != vg_cookie(&k2, &l, &t, 80, 6));
    assert_true(base != vg_cookie(&k, &l, &t, 81, 6));
    assert_true(base != vg_cookie(&k, &l, &t, 80, 17));
    vg_addr t2 = v4(198, 18, 0, 3), l2 = v4(198, 18, 0, 9);
    assert_true(base != vg_cookie(&k, &l, &t2, 80, 6));
    assert_true(base != vg_cookie(&k, &l2, &t, 80, 6));
    /* Swapping local and target must not give the same cookie. */
    assert_true(base != vg_cookie(&k, &t, &l, 80, 6));
    /* Same bytes, other family. */
    vg_addr t6 = t;
    t6.family = AF_INET6;
    vg_addr l6 = l;
    l6.family = AF_INET6;
    assert_true(base != vg_cookie(&k, &l6, &t6, 80, 6));
    /* The scope of a link-local target is not on the wire: not hashed. */
    vg_addr ts = t;
    ts.scope_id = 3;
    assert_true(base == vg_cookie(&k, &l, &ts, 80, 6));
}

static void test_cookie_spreads(void **state)
{
    /* Over all ports of one host, the low 32 bits (the sequence number)
     * never collide in practice and the source-port bits are spread. */
    vg_cookie_key k;
    static uint32_t seen_hi[4096];
    (void)state;
    ref_key(&k);
    vg_addr l = v4(198, 18, 0, 1), t = v4(198, 18, 0, 2);
    memset(seen_hi, 0, sizeof(seen_hi));
    for(unsigned port = 1; port <= 65535; port++) {
        uint64_t h = vg_cookie(&k, &l, &t, (uint16_t)port, 6);
        seen_hi[(uint32_t)(h >> 32) % 4096]++;
    }
    /* 65535 draws into 4096 buckets: about 16 each; none empty, none huge. */
    for(int i = 0; i < 4096; i++) {
        assert_true(seen_hi[i] > 0);
        assert_true(seen_hi[i] < 60);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_cookie_depends_on_every_input),
        cmocka_unit_test(test_cookie_spreads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
