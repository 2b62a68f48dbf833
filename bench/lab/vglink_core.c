/* SPDX-License-Identifier: MIT */
#include "vglink_core.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_num(const char *key, const char *val, double lo, double hi, double *out,
             char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (end == val || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi) {
        snprintf(err, errlen, "%s=%s: expected a number in [%g, %g]", key, val, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int vgl_parse_dir(const char *spec, struct vgl_dir_opts *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    if (spec == NULL || spec[0] == '\0' || strcmp(spec, "none") == 0)
        return 0;
    char buf[512];
    if (strlen(spec) >= sizeof(buf)) {
        snprintf(err, errlen, "impairment spec too long");
        return -1;
    }
    strcpy(buf, spec);
    bool have_queue = false;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL) {
            if (strcmp(tok, "reorder") == 0) {
                o->reorder = true;
                continue;
            }
            snprintf(err, errlen, "'%s': expected key=value or 'reorder'", tok);
            return -1;
        }
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        double v;
        if (strcmp(key, "delay") == 0) {
            if (parse_num(key, val, 0, 10000, &v, err, errlen) < 0)
                return -1;
            o->delay_ms = v;
        } else if (strcmp(key, "jitter") == 0) {
            if (parse_num(key, val, 0, 10000, &v, err, errlen) < 0)
                return -1;
            o->jitter_ms = v;
        } else if (strcmp(key, "loss") == 0) {
            if (parse_num(key, val, 0, 100, &v, err, errlen) < 0)
                return -1;
            o->loss_pct = v;
        } else if (strcmp(key, "rate") == 0) {
            if (parse_num(key, val, 1, 100e6, &v, err, errlen) < 0)
                return -1;
            if (v != floor(v)) {
                snprintf(err, errlen, "rate=%s: expected a whole number of packets/s", val);
                return -1;
            }
            o->rate_pps = (uint64_t)v;
        } else if (strcmp(key, "queue") == 0) {
            if (parse_num(key, val, 0, 1000000, &v, err, errlen) < 0)
                return -1;
            if (v != floor(v)) {
                snprintf(err, errlen, "queue=%s: expected a whole number of packets", val);
                return -1;
            }
            o->queue = (uint32_t)v;
            have_queue = true;
        } else {
            snprintf(err, errlen, "unknown impairment '%s' (delay, jitter, loss, rate, queue, reorder)",
                 key);
            return -1;
        }
    }
    if (have_queue && o->rate_pps == 0) {
        snprintf(err, errlen, "queue= needs rate=");
        return -1;
    }
    if (o->rate_pps != 0 && !have_queue)
        o->queue = 64;
    if (o->reorder && o->jitter_ms == 0) {
        snprintf(err, errlen, "reorder needs jitter=");
        return -1;
    }
    return 0;
}

void vgl_format_dir(const struct vgl_dir_opts *o, char *buf, size_t len)
{
    int n = snprintf(buf, len, "delay=%g,jitter=%g,loss=%g", o->delay_ms, o->jitter_ms, o->loss_pct);
    if (n < 0 || (size_t)n >= len)
        return;
    if (o->rate_pps != 0)
        n += snprintf(buf + n, len - (size_t)n, ",rate=%llu,queue=%u",
                  (unsigned long long)o->rate_pps, o->queue);
    if (n >= 0 && (size_t)n < len && o->reorder)
        snprintf(buf + n, len - (size_t)n, ",reorder");
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void vgl_rng_seed(struct vgl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t vgl_rng_next(struct vgl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void vgl_shaper_init(struct vgl_shaper *s, uint64_t rate_pps, uint32_t queue, uint32_t burst)
{
    if (rate_pps == 0)
        rate_pps = 1;
    if (burst == 0)
        burst = 1;
    s->interval_ns = VGL_NS_PER_SEC / rate_pps;
    if (s->interval_ns == 0)
        s->interval_ns = 1;
    s->tau_ns = (uint64_t)(burst - 1) * s->interval_ns;
    s->tat_ns = 0;
    s->limit_ns = (uint64_t)queue * s->interval_ns;
}

bool vgl_shaper_admit(struct vgl_shaper *s, uint64_t now_ns, uint64_t *depart_ns)
{
    uint64_t earliest = s->tat_ns > s->tau_ns ? s->tat_ns - s->tau_ns : 0;
    uint64_t depart = earliest > now_ns ? earliest : now_ns;
    if (depart - now_ns > s->limit_ns)
        return false;
    *depart_ns = depart;
    s->tat_ns = (s->tat_ns > now_ns ? s->tat_ns : now_ns) + s->interval_ns;
    return true;
}

void vgl_path_init(struct vgl_path *p, const struct vgl_dir_opts *o, uint64_t seed)
{
    memset(p, 0, sizeof(*p));
    p->opts = *o;
    vgl_rng_seed(&p->rng, seed);
    p->shaped = o->rate_pps != 0;
    if (p->shaped)
        vgl_shaper_init(&p->shaper, o->rate_pps, o->queue, VGL_BURST);
    p->lossy = o->loss_pct > 0;
    double th = o->loss_pct / 100.0 * 18446744073709551616.0;
    p->loss_threshold = th >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)th;
    p->delay_ns = (uint64_t)llround(o->delay_ms * 1e6);
    p->jitter_ns = (uint64_t)llround(o->jitter_ms * 1e6);
}

enum vgl_verdict vgl_path_admit(struct vgl_path *p, uint64_t now_ns, uint64_t *release_ns)
{
    if (p->lossy) {
        uint64_t x = vgl_rng_next(&p->rng);
        if (p->loss_threshold == UINT64_MAX || x < p->loss_threshold)
            return VGL_DROP_LOSS;
    }
    uint64_t t = now_ns;
    if (p->shaped && !vgl_shaper_admit(&p->shaper, now_ns, &t))
        return VGL_DROP_QUEUE;
    t += p->delay_ns;
    if (p->jitter_ns != 0)
        t += vgl_rng_next(&p->rng) % p->jitter_ns;
    if (!p->opts.reorder && t < p->last_release_ns)
        t = p->last_release_ns;
    p->last_release_ns = t;
    *release_ns = t;
    return VGL_PASS;
}

int vgl_line_init(struct vgl_line *l, uint32_t cap, size_t frame_max, bool reorder)
{
    memset(l, 0, sizeof(*l));
    if (cap == 0)
        cap = 1;
    l->frame_max = frame_max;
    l->stride = (sizeof(struct vgl_slot) + frame_max + 63) & ~(size_t)63;
    l->cap = cap;
    l->reorder = reorder;
    l->mem = malloc(l->stride * cap);
    if (l->mem == NULL)
        return -1;
    if (reorder) {
        l->heap = malloc(sizeof(uint32_t) * cap);
        l->free = malloc(sizeof(uint32_t) * cap);
        if (l->heap == NULL || l->free == NULL) {
            vgl_line_free(l);
            return -1;
        }
        for (uint32_t i = 0; i < cap; i++)
            l->free[i] = cap - 1 - i;
        l->nfree = cap;
    }
    return 0;
}

void vgl_line_free(struct vgl_line *l)
{
    free(l->mem);
    free(l->heap);
    free(l->free);
    memset(l, 0, sizeof(*l));
}

static struct vgl_slot *slot_at(const struct vgl_line *l, uint32_t i)
{
    return (struct vgl_slot *)(l->mem + (size_t)i * l->stride);
}

struct vgl_slot *vgl_line_reserve(struct vgl_line *l)
{
    if (l->count == l->cap)
        return NULL;
    if (l->reorder)
        return slot_at(l, l->free[l->nfree - 1]);
    uint32_t tail = l->head + l->count;
    if (tail >= l->cap)
        tail -= l->cap;
    return slot_at(l, tail);
}

static bool before(const struct vgl_line *l, uint32_t a, uint32_t b)
{
    const struct vgl_slot *x = slot_at(l, a), *y = slot_at(l, b);
    return x->release_ns < y->release_ns || (x->release_ns == y->release_ns && x->seq < y->seq);
}

void vgl_line_commit(struct vgl_line *l, struct vgl_slot *s, uint64_t release_ns, uint32_t len)
{
    s->release_ns = release_ns;
    s->len = len;
    s->seq = l->seq++;
    if (!l->reorder) {
        l->count++;
        return;
    }
    uint32_t idx = l->free[--l->nfree];
    uint32_t i = l->count++;
    l->heap[i] = idx;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(l, l->heap[i], l->heap[parent]))
            break;
        uint32_t t = l->heap[i];
        l->heap[i] = l->heap[parent];
        l->heap[parent] = t;
        i = parent;
    }
}

struct vgl_slot *vgl_line_peek(const struct vgl_line *l)
{
    if (l->count == 0)
        return NULL;
    return slot_at(l, l->reorder ? l->heap[0] : l->head);
}

void vgl_line_pop(struct vgl_line *l)
{
    if (l->count == 0)
        return;
    if (!l->reorder) {
        l->head = l->head + 1 == l->cap ? 0 : l->head + 1;
        l->count--;
        return;
    }
    l->free[l->nfree++] = l->heap[0];
    l->count--;
    if (l->count == 0)
        return;
    l->heap[0] = l->heap[l->count];
    uint32_t i = 0;
    for (;;) {
        uint32_t a = 2 * i + 1, b = a + 1, m = i;
        if (a < l->count && before(l, l->heap[a], l->heap[m]))
            m = a;
        if (b < l->count && before(l, l->heap[b], l->heap[m]))
            m = b;
        if (m == i)
            break;
        uint32_t t = l->heap[i];
        l->heap[i] = l->heap[m];
        l->heap[m] = t;
        i = m;
    }
}

uint32_t vgl_line_size_for(double delay_ms, double jitter_ms, uint64_t pps, uint32_t queue)
{
    double n = (delay_ms + jitter_ms) / 1000.0 * (double)pps + (double)queue + 1024;
    if (n > 4e6)
        n = 4e6;
    return (uint32_t)n;
}

void vgl_wlog_add(struct vgl_wlog *l, uint64_t due_ns, uint64_t written_ns)
{
    uint64_t n = __atomic_load_n(&l->n, __ATOMIC_RELAXED);
    uint32_t i = (uint32_t)(n % VGL_WLOG_SIZE);
    __atomic_store_n(&l->due_ns[i], due_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&l->written_ns[i], written_ns, __ATOMIC_RELAXED);
    __atomic_store_n(&l->n, n + 1, __ATOMIC_RELEASE);
}

uint64_t vgl_wlog_adjust(const struct vgl_wlog *l, uint64_t at_ns, uint64_t window_ns)
{
    uint64_t n = __atomic_load_n(&l->n, __ATOMIC_ACQUIRE);
    for (uint64_t k = 0; k < VGL_WLOG_SCAN && k < n; k++) {
        uint32_t i = (uint32_t)((n - 1 - k) % VGL_WLOG_SIZE);
        uint64_t w = __atomic_load_n(&l->written_ns[i], __ATOMIC_RELAXED);
        if (w > at_ns)
            continue;
        uint64_t due = __atomic_load_n(&l->due_ns[i], __ATOMIC_RELAXED);
        if (at_ns - w > window_ns || due >= w)
            return at_ns;
        uint64_t late = w - due;
        return at_ns > late ? at_ns - late : 0;
    }
    return at_ns;
}

static bool l4_is_answer(uint8_t proto, const unsigned char *l4, size_t len)
{
    if (proto == 6 && len >= 14) {
        uint8_t flags = l4[13];
        return (flags & 0x04) || (flags & 0x12) == 0x12; /* RST; SYN+ACK */
    }
    if (proto == 1 && len >= 1)
        return l4[0] == 0 || l4[0] == 3 || l4[0] == 11; /* echo reply, errors */
    if (proto == 58 && len >= 1)
        return l4[0] == 1 || l4[0] == 3 || l4[0] == 129 || l4[0] == 136;
    return false;
}

bool vgl_frame_is_answer(const unsigned char *f, size_t len)
{
    size_t off = 12;
    if (len < off + 2)
        return false;
    unsigned type = (unsigned)f[off] << 8 | f[off + 1];
    if (type == 0x8100 && len >= off + 6) {
        off += 4;
        type = (unsigned)f[off] << 8 | f[off + 1];
    }
    off += 2;
    const unsigned char *ip = f + off;
    size_t n = len - off;
    if (type == 0x0806)
        return n >= 8 && ip[6] == 0 && ip[7] == 2; /* ARP reply */
    if (type == 0x0800 && n >= 20 && ip[0] >> 4 == 4) {
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
        return ihl >= 20 && n > ihl && l4_is_answer(ip[9], ip + ihl, n - ihl);
    }
    if (type == 0x86dd && n > 40 && ip[0] >> 4 == 6)
        return l4_is_answer(ip[6], ip + 40, n - 40);
    return false;
}
