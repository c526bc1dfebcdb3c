/* lib/cas.c: the content-addressed cache; see cas.h.
 *
 * Memory layout inside the caller's block: [slots][buckets][owner map] ... [data units],
 * with the data area aligned to the unit size.  There is one slot per unit (an entry uses
 * at least one unit), so a free slot exists whenever free units do.  Lookup hashes the
 * first key bytes (keys are SHA-256 digests, already uniform) into chained buckets.  LRU
 * is a use counter per entry; eviction scans for the smallest one - the cache holds at
 * most a few thousand entries, and eviction is rare next to lookups. */
#include <string.h>
#include "lib/cas.h"

enum slot_state { SLOT_FREE = 0, SLOT_RESERVED, SLOT_VALID };

const char *cas_strerror(int err)
{
    switch (err) {
    case CAS_OK: return "ok";
    case CAS_EINVAL: return "invalid argument";
    case CAS_ENOMEM: return "cache memory too small";
    case CAS_ENOSPC: return "value does not fit in the cache budget";
    case CAS_EEXIST: return "entry exists";
    case CAS_ENOENT: return "no such entry";
    case CAS_EBUSY: return "entry in use";
    }
    return "unknown cache error";
}

/* KIND's counters (unknown kinds share slot 0). */
static struct cas_counts *counts(struct cas *c, uint32_t kind)
{
    return &c->count[kind < CAS_KINDS ? kind : 0];
}

static uint32_t key_hash(const struct cas *c, uint32_t kind, const uint8_t *key)
{
    uint32_t h = (uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16 |
                 (uint32_t)key[3] << 24;
    return (h ^ kind * 0x9e3779b9u) & (c->nbuckets - 1);
}

int cas_init(struct cas *c, void *mem, size_t size, uint32_t unit)
{
    memset(c, 0, sizeof *c);
    if (!mem || unit < 64 || (unit & (unit - 1)))
        return CAS_EINVAL;
    uintptr_t base = ((uintptr_t)mem + 7) & ~(uintptr_t)7, end = (uintptr_t)mem + size;
    if (end < base)
        return CAS_ENOMEM;
    size_t per_unit = unit + sizeof(struct cas_slot) + 2 * sizeof(uint32_t);
    uint32_t n = (uint32_t)((end - base) / per_unit);
    uintptr_t data = 0;
    uint32_t nb = 1;
    for (; n > 0; n--) {
        for (nb = 1; nb < n; nb <<= 1)
            ;
        uintptr_t meta = base + (uintptr_t)n * sizeof(struct cas_slot) + nb * sizeof(uint32_t) +
                         (uintptr_t)n * sizeof(uint32_t);
        data = (meta + unit - 1) & ~(uintptr_t)(unit - 1);
        if (data <= end && (end - data) / unit >= n)
            break;
    }
    if (n == 0)
        return CAS_ENOMEM;
    c->slot = (struct cas_slot *)base;
    c->bucket = (uint32_t *)(base + (uintptr_t)n * sizeof(struct cas_slot));
    c->owner = c->bucket + nb;
    c->data = (uint8_t *)data;
    c->nunits = c->nslots = n;
    c->nbuckets = nb;
    c->unit = unit;
    while ((1u << c->unit_shift) < unit)
        c->unit_shift++;
    c->budget_units = n;
    memset(c->slot, 0, (size_t)n * sizeof(struct cas_slot));
    memset(c->bucket, 0, (size_t)nb * sizeof(uint32_t));
    memset(c->owner, 0, (size_t)n * sizeof(uint32_t));
    return CAS_OK;
}

void cas_set_evict_hook(struct cas *c, cas_evict_fn fn, void *ctx)
{
    c->evict_fn = fn;
    c->evict_ctx = ctx;
}

static void *slot_data(const struct cas *c, const struct cas_slot *s)
{
    return c->data + ((size_t)s->first << c->unit_shift);
}

/* Entry number of (kind, key) in any state but free, or -1. */
static int64_t find(const struct cas *c, uint32_t kind, const uint8_t *key)
{
    for (uint32_t e = c->bucket[key_hash(c, kind, key)]; e; e = c->slot[e - 1].next) {
        const struct cas_slot *s = &c->slot[e - 1];
        if (s->kind == kind && memcmp(s->key, key, CAS_KEY_SIZE) == 0)
            return e - 1;
    }
    return -1;
}

/* Entry number owning the value that starts at DATA, or -1. */
static int64_t find_data(const struct cas *c, const void *data)
{
    uintptr_t p = (uintptr_t)data, d = (uintptr_t)c->data;
    if (p < d || p >= d + ((uintptr_t)c->nunits << c->unit_shift) || (p - d) % c->unit)
        return -1;
    uint32_t u = (uint32_t)((p - d) >> c->unit_shift), e = c->owner[u];
    if (!e || c->slot[e - 1].first != u)
        return -1;
    return e - 1;
}

static void set_owner(struct cas *c, uint32_t first, uint32_t units, uint32_t val)
{
    for (uint32_t u = first; u < first + units; u++)
        c->owner[u] = val;
}

/* Unlink entry I, tell the hook (if the value was ever handed out), free its units. */
static void release(struct cas *c, uint32_t i)
{
    struct cas_slot *s = &c->slot[i];
    uint32_t *link = &c->bucket[key_hash(c, s->kind, s->key)];
    while (*link != i + 1)
        link = &c->slot[*link - 1].next;
    *link = s->next;
    if (c->evict_fn)
        c->evict_fn(c->evict_ctx, s->kind, s->key, slot_data(c, s), (size_t)s->len);
    set_owner(c, s->first, s->units, 0);
    c->used_units -= s->units;
    memset(s, 0, sizeof *s);
}

/* The least recently used unpinned committed entry, or -1. */
static int64_t lru_victim(const struct cas *c)
{
    int64_t best = -1;
    for (uint32_t i = 0; i < c->nslots; i++) {
        const struct cas_slot *s = &c->slot[i];
        if (s->state == SLOT_VALID && s->pins == 0 &&
            (best < 0 || s->stamp < c->slot[best].stamp))
            best = i;
    }
    return best;
}

/* First run of K free units, or -1. */
static int64_t find_run(const struct cas *c, uint32_t k)
{
    uint32_t run = 0;
    for (uint32_t u = 0; u < c->nunits; u++) {
        run = c->owner[u] ? 0 : run + 1;
        if (run == k)
            return u + 1 - k;
    }
    return -1;
}

/* Room for LEN bytes: a fresh reserved, pinned entry (its number), evicting as needed. */
static int alloc_entry(struct cas *c, uint32_t kind, const uint8_t *key, size_t len,
                       uint32_t *out)
{
    if (len == 0 || kind == 0)
        return CAS_EINVAL;
    uint64_t k64 = ((uint64_t)len + c->unit - 1) >> c->unit_shift;
    if (k64 > c->budget_units) {
        c->rejects++;
        counts(c, kind)->rejects++;
        return CAS_ENOSPC;
    }
    uint32_t k = (uint32_t)k64;
    int64_t first;
    while (c->used_units + k > c->budget_units || (first = find_run(c, k)) < 0) {
        int64_t v = lru_victim(c);
        if (v < 0) {
            c->rejects++;
            counts(c, kind)->rejects++;
            return CAS_ENOSPC;
        }
        counts(c, c->slot[v].kind)->evictions++;
        release(c, (uint32_t)v);
        c->evictions++;
    }
    uint32_t i = 0;
    while (c->slot[i].state != SLOT_FREE) /* one slot per unit: a free one exists */
        i++;
    struct cas_slot *s = &c->slot[i];
    memcpy(s->key, key, CAS_KEY_SIZE);
    s->kind = kind;
    s->state = SLOT_RESERVED;
    s->first = (uint32_t)first;
    s->units = k;
    s->pins = 1;
    s->len = len;
    s->stamp = ++c->clock;
    uint32_t *head = &c->bucket[key_hash(c, kind, key)];
    s->next = *head;
    *head = i + 1;
    set_owner(c, s->first, k, i + 1);
    c->used_units += k;
    *out = i;
    return CAS_OK;
}

/* Evict until the budget holds (it may not while pinned entries exceed it). */
static int shrink(struct cas *c)
{
    while (c->used_units > c->budget_units) {
        int64_t v = lru_victim(c);
        if (v < 0)
            return CAS_EBUSY;
        counts(c, c->slot[v].kind)->evictions++;
        release(c, (uint32_t)v);
        c->evictions++;
    }
    return CAS_OK;
}

int cas_set_budget(struct cas *c, uint64_t bytes)
{
    uint64_t units = bytes >> c->unit_shift;
    c->budget_units = units > c->nunits ? c->nunits : (uint32_t)units;
    return shrink(c);
}

const void *cas_get(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE], size_t *len,
                    bool pin)
{
    int64_t i = find(c, kind, key);
    if (i < 0 || c->slot[i].state != SLOT_VALID) {
        c->misses++;
        counts(c, kind)->misses++;
        return NULL;
    }
    struct cas_slot *s = &c->slot[i];
    c->hits++;
    counts(c, kind)->hits++;
    s->hits++;
    s->stamp = ++c->clock;
    if (pin)
        s->pins++;
    if (len)
        *len = (size_t)s->len;
    return slot_data(c, s);
}

bool cas_contains(const struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE])
{
    int64_t i = find(c, kind, key);
    return i >= 0 && c->slot[i].state == SLOT_VALID;
}

int cas_unpin(struct cas *c, const void *data)
{
    int64_t i = find_data(c, data);
    if (i < 0 || c->slot[i].pins == 0)
        return CAS_EINVAL;
    c->slot[i].pins--;
    shrink(c); /* a budget lowered while this entry was pinned takes effect now */
    return CAS_OK;
}

int cas_put(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE], const void *data,
            size_t len)
{
    int64_t old = find(c, kind, key);
    if (old >= 0) {
        if (c->slot[old].state != SLOT_VALID)
            return CAS_EEXIST;
        c->slot[old].stamp = ++c->clock;
        return CAS_OK;
    }
    uint32_t i;
    int err = alloc_entry(c, kind, key, len, &i);
    if (err)
        return err;
    memcpy(slot_data(c, &c->slot[i]), data, len);
    c->slot[i].state = SLOT_VALID;
    c->slot[i].pins = 0;
    c->inserts++;
    counts(c, kind)->inserts++;
    return CAS_OK;
}

int cas_reserve(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE], size_t len,
                void **out)
{
    if (find(c, kind, key) >= 0)
        return CAS_EEXIST;
    uint32_t i;
    int err = alloc_entry(c, kind, key, len, &i);
    if (err)
        return err;
    *out = slot_data(c, &c->slot[i]);
    return CAS_OK;
}

int cas_commit(struct cas *c, void *data, size_t len)
{
    int64_t i = find_data(c, data);
    if (i < 0)
        return CAS_EINVAL;
    struct cas_slot *s = &c->slot[i];
    if (s->state != SLOT_RESERVED || len == 0 || len > s->len)
        return CAS_EINVAL;
    uint32_t k = (uint32_t)(((uint64_t)len + c->unit - 1) >> c->unit_shift);
    set_owner(c, s->first + k, s->units - k, 0);
    c->used_units -= s->units - k;
    s->units = k;
    s->len = len;
    s->state = SLOT_VALID;
    s->stamp = ++c->clock;
    c->inserts++;
    counts(c, s->kind)->inserts++;
    return CAS_OK;
}

int cas_abort(struct cas *c, void *data)
{
    int64_t i = find_data(c, data);
    if (i < 0 || c->slot[i].state != SLOT_RESERVED)
        return CAS_EINVAL;
    release(c, (uint32_t)i);
    return CAS_OK;
}

int cas_remove(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE])
{
    int64_t i = find(c, kind, key);
    if (i < 0 || c->slot[i].state != SLOT_VALID)
        return CAS_ENOENT;
    if (c->slot[i].pins)
        return CAS_EBUSY;
    release(c, (uint32_t)i);
    return CAS_OK;
}

uint32_t cas_clear(struct cas *c)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < c->nslots; i++) {
        if (c->slot[i].state == SLOT_FREE)
            continue;
        if (c->slot[i].state == SLOT_VALID && c->slot[i].pins == 0)
            release(c, i);
        else
            kept++;
    }
    return kept;
}

/* ALL: every entry and the totals; else KIND's entries and counters. */
static void get_stats(const struct cas *c, bool all, uint32_t kind, struct cas_stats *st)
{
    memset(st, 0, sizeof *st);
    for (uint32_t i = 0; i < c->nslots; i++)
        if (c->slot[i].state == SLOT_VALID && (all || c->slot[i].kind == kind)) {
            st->entries++;
            st->bytes += c->slot[i].len;
        }
    st->used_bytes = (uint64_t)c->used_units << c->unit_shift;
    st->budget = (uint64_t)c->budget_units << c->unit_shift;
    st->capacity = (uint64_t)c->nunits << c->unit_shift;
    const struct cas_counts *k = all ? NULL : &c->count[kind < CAS_KINDS ? kind : 0];
    st->hits = k ? k->hits : c->hits;
    st->misses = k ? k->misses : c->misses;
    st->evictions = k ? k->evictions : c->evictions;
    st->inserts = k ? k->inserts : c->inserts;
    st->rejects = k ? k->rejects : c->rejects;
}

void cas_get_stats(const struct cas *c, struct cas_stats *st) { get_stats(c, true, 0, st); }

void cas_get_kind_stats(const struct cas *c, uint32_t kind, struct cas_stats *st)
{
    get_stats(c, false, kind, st);
}

bool cas_next_entry(const struct cas *c, uint32_t *cursor, struct cas_entry_info *out)
{
    for (uint32_t i = *cursor; i < c->nslots; i++) {
        const struct cas_slot *s = &c->slot[i];
        if (s->state != SLOT_VALID)
            continue;
        out->kind = s->kind;
        memcpy(out->key, s->key, CAS_KEY_SIZE);
        out->len = s->len;
        out->hits = s->hits;
        out->age = c->clock - s->stamp;
        out->pins = s->pins;
        *cursor = i + 1;
        return true;
    }
    *cursor = c->nslots;
    return false;
}
