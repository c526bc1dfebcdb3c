/* lib/cas on the host: layout, hits and misses, LRU eviction order, pins, reserve/commit,
 * budgets, the eviction hook, kinds, and a randomized run against a model (every hit must
 * return exactly the bytes stored under that key; the budget is never exceeded). */
#include <stdint.h>
#include <stdlib.h>
#include "lib/cas.h"
#include "lib/sha256.h"
#include "tests/check.h"

#define UNIT 256

static _Alignas(4096) uint8_t mem[64 * 1024];

/* Content for value number N of LEN bytes, and its key (the SHA-256 of the content). */
static void make(uint32_t n, size_t len, uint8_t *buf, uint8_t key[32])
{
    uint32_t x = n * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    sha256(buf, len, key);
}

struct hook_log {
    int calls;
    uint32_t last_kind;
    uint8_t last_key[32];
    size_t last_len;
};

static void hook(void *ctx, uint32_t kind, const uint8_t *key, void *data, size_t len)
{
    struct hook_log *h = ctx;
    (void)data;
    h->calls++;
    h->last_kind = kind;
    memcpy(h->last_key, key, 32);
    h->last_len = len;
}

static void test_init(void)
{
    struct cas c;
    check(cas_init(&c, mem, sizeof mem, 100) == CAS_EINVAL, "init: unit not a power of two");
    check(cas_init(&c, mem, sizeof mem, 32) == CAS_EINVAL, "init: unit too small");
    check(cas_init(&c, mem, 200, UNIT) == CAS_ENOMEM, "init: memory holds no unit");
    check(cas_init(&c, mem + 3, sizeof mem - 3, UNIT) == CAS_OK, "init: unaligned memory");
    check((uintptr_t)c.data % UNIT == 0, "init: data aligned to the unit");
    check(c.data + (size_t)c.nunits * UNIT <= mem + sizeof mem, "init: data inside the memory");
    check((uint8_t *)(c.owner + c.nunits) <= c.data, "init: metadata before the data");
    check(c.nunits > (sizeof mem / UNIT) * 2 / 3, "init: overhead under a third (%u units)",
          c.nunits);
    struct cas_stats st;
    cas_get_stats(&c, &st);
    CHECK_EQ_U64(st.budget, st.capacity, "init: budget starts at the capacity");
}

static void test_basic(void)
{
    struct cas c;
    uint8_t buf[1000], key[32], out[1000];
    cas_init(&c, mem, sizeof mem, UNIT);
    make(1, sizeof buf, buf, key);
    size_t len = 0;
    check(cas_get(&c, CAS_KIND_JIT, key, &len, false) == NULL, "get: miss on an empty cache");
    check(cas_put(&c, CAS_KIND_JIT, key, buf, sizeof buf) == CAS_OK, "put");
    const uint8_t *v = cas_get(&c, CAS_KIND_JIT, key, &len, false);
    check(v && len == sizeof buf && memcmp(v, buf, len) == 0, "get: the stored bytes");
    check(cas_get(&c, CAS_KIND_BLOCK, key, &len, false) == NULL, "kinds are separate keys");
    check(cas_contains(&c, CAS_KIND_JIT, key) && !cas_contains(&c, CAS_KIND_BLOCK, key),
          "contains");
    check(cas_put(&c, CAS_KIND_JIT, key, buf, sizeof buf) == CAS_OK, "put of an existing key");
    struct cas_stats st;
    cas_get_stats(&c, &st);
    CHECK_EQ_U64(st.entries, 1, "stats: entries");
    CHECK_EQ_U64(st.bytes, sizeof buf, "stats: bytes");
    CHECK_EQ_U64(st.used_bytes, 4 * UNIT, "stats: units in use");
    CHECK_EQ_U64(st.hits, 1, "stats: hits");
    CHECK_EQ_U64(st.misses, 2, "stats: misses");
    /* A changed value has another key: a miss, never the old bytes. */
    memcpy(out, buf, sizeof out);
    out[500] ^= 1;
    uint8_t key2[32];
    sha256(out, sizeof out, key2);
    check(cas_get(&c, CAS_KIND_JIT, key2, &len, false) == NULL, "changed content misses");
    uint32_t cur = 0;
    struct cas_entry_info info;
    check(cas_next_entry(&c, &cur, &info) && info.kind == CAS_KIND_JIT && info.len == 1000 &&
          info.hits == 1 && !memcmp(info.key, key, 32), "listing: the entry");
    check(!cas_next_entry(&c, &cur, &info), "listing: end");
    check(cas_remove(&c, CAS_KIND_JIT, key) == CAS_OK && !cas_contains(&c, CAS_KIND_JIT, key),
          "remove");
    check(cas_remove(&c, CAS_KIND_JIT, key) == CAS_ENOENT, "remove: missing");
    check(cas_put(&c, CAS_KIND_JIT, key, buf, 0) == CAS_EINVAL, "put: empty value refused");
}

static void test_lru(void)
{
    struct cas c;
    struct hook_log h = {0};
    uint8_t buf[UNIT], key[8][32];
    cas_init(&c, mem, sizeof mem, UNIT);
    cas_set_evict_hook(&c, hook, &h);
    check(cas_set_budget(&c, 4 * UNIT) == CAS_OK, "budget: 4 units");
    for (int i = 0; i < 4; i++) {
        make(10 + i, UNIT, buf, key[i]);
        cas_put(&c, CAS_KIND_BLOCK, key[i], buf, UNIT);
    }
    check(cas_get(&c, CAS_KIND_BLOCK, key[0], NULL, false) != NULL, "lru: touch the oldest");
    make(14, UNIT, buf, key[4]);
    check(cas_put(&c, CAS_KIND_BLOCK, key[4], buf, UNIT) == CAS_OK, "lru: put over budget");
    check(cas_contains(&c, CAS_KIND_BLOCK, key[0]), "lru: recently used entry kept");
    check(!cas_contains(&c, CAS_KIND_BLOCK, key[1]), "lru: least recently used evicted");
    check(h.calls == 1 && !memcmp(h.last_key, key[1], 32) && h.last_len == UNIT &&
          h.last_kind == CAS_KIND_BLOCK, "lru: hook told about the evicted entry");
    struct cas_stats st;
    cas_get_stats(&c, &st);
    CHECK_EQ_U64(st.evictions, 1, "lru: eviction counted");
    CHECK_EQ_U64(st.entries, 4, "lru: entries stay within the budget");

    /* Pins: a pinned entry is never evicted; all pinned -> no space. */
    const void *p[4];
    int order[4] = {0, 2, 3, 4};
    for (int i = 0; i < 4; i++)
        p[i] = cas_get(&c, CAS_KIND_BLOCK, key[order[i]], NULL, true);
    make(15, UNIT, buf, key[5]);
    check(cas_put(&c, CAS_KIND_BLOCK, key[5], buf, UNIT) == CAS_ENOSPC,
          "pins: nothing evictable -> ENOSPC");
    check(cas_remove(&c, CAS_KIND_BLOCK, key[0]) == CAS_EBUSY, "pins: pinned entry not removed");
    check(cas_unpin(&c, p[2]) == CAS_OK, "unpin");
    check(cas_unpin(&c, p[2]) == CAS_EINVAL, "unpin: not pinned");
    check(cas_unpin(&c, (uint8_t *)p[1] + 1) == CAS_EINVAL, "unpin: not a value pointer");
    check(cas_put(&c, CAS_KIND_BLOCK, key[5], buf, UNIT) == CAS_OK &&
          !cas_contains(&c, CAS_KIND_BLOCK, key[3]) && cas_contains(&c, CAS_KIND_BLOCK, key[0]),
          "pins: only the unpinned entry was evicted");
    for (int i = 0; i < 4; i++)
        if (i != 2)
            cas_unpin(&c, p[i]);
    check(cas_put(&c, CAS_KIND_BLOCK, key[6], buf, 5 * UNIT) == CAS_ENOSPC,
          "value larger than the budget refused");
    cas_get_stats(&c, &st);
    check(st.rejects >= 2, "rejects counted");
    /* Shrinking the budget evicts least recently used first. */
    cas_get(&c, CAS_KIND_BLOCK, key[2], NULL, false);
    check(cas_set_budget(&c, 1 * UNIT) == CAS_OK, "budget: shrink");
    cas_get_stats(&c, &st);
    check(st.entries == 1 && cas_contains(&c, CAS_KIND_BLOCK, key[2]),
          "budget: shrink keeps the most recent entry");
    check(cas_clear(&c) == 0, "clear");
    cas_get_stats(&c, &st);
    CHECK_EQ_U64(st.used_bytes, 0, "clear: nothing in use");
}

static void test_reserve(void)
{
    struct cas c;
    struct hook_log h = {0};
    uint8_t key[32], buf[3 * UNIT];
    cas_init(&c, mem, sizeof mem, UNIT);
    cas_set_evict_hook(&c, hook, &h);
    make(20, sizeof buf, buf, key);
    void *w;
    check(cas_reserve(&c, CAS_KIND_JIT, key, 3 * UNIT, &w) == CAS_OK, "reserve");
    check((uintptr_t)w % UNIT == 0, "reserve: unit-aligned memory");
    check(cas_get(&c, CAS_KIND_JIT, key, NULL, false) == NULL, "reserve: invisible before commit");
    check(cas_reserve(&c, CAS_KIND_JIT, key, 10, &w) == CAS_EEXIST, "reserve: twice refused");
    memcpy(w, buf, UNIT + 10);
    check(cas_commit(&c, w, UNIT + 10) == CAS_OK, "commit with a shorter length");
    struct cas_stats st;
    cas_get_stats(&c, &st);
    CHECK_EQ_U64(st.used_bytes, 2 * UNIT, "commit: spare units released");
    size_t len;
    const void *v = cas_get(&c, CAS_KIND_JIT, key, &len, false);
    check(v == w && len == UNIT + 10 && !memcmp(v, buf, len), "commit: visible");
    check(cas_set_budget(&c, 0) == CAS_EBUSY, "commit leaves the entry pinned");
    cas_unpin(&c, w);
    check(cas_set_budget(&c, 0) == CAS_OK && h.calls == 1, "unpinned: evictable, hook called");
    cas_set_budget(&c, sizeof mem);
    make(21, 100, buf, key);
    check(cas_reserve(&c, CAS_KIND_JIT, key, 100, &w) == CAS_OK &&
          cas_abort(&c, w) == CAS_OK && !cas_contains(&c, CAS_KIND_JIT, key), "abort");
    cas_get_stats(&c, &st);
    CHECK_EQ_U64(st.used_bytes, 0, "abort: units released");
    check(cas_commit(&c, w, 10) == CAS_EINVAL, "commit after abort refused");
}

/* Random puts, gets, pins, budget changes; every hit must hold the right bytes. */
static void test_random(void)
{
    struct cas c;
    enum { KEYS = 64 };
    static uint8_t buf[8 * UNIT], keys[KEYS][32];
    static size_t lens[KEYS];
    cas_init(&c, mem, sizeof mem, UNIT);
    srand(7);
    for (int i = 0; i < KEYS; i++) {
        lens[i] = 1 + (size_t)rand() % sizeof buf;
        make(100 + i, lens[i], buf, keys[i]);
    }
    int bad = 0, hits = 0, over = 0;
    const void *pinned[4] = {0};
    for (int op = 0; op < 20000; op++) {
        int k = rand() % KEYS, r = rand() % 100;
        if (r < 45) {
            make(100 + k, lens[k], buf, keys[k]);
            int e = cas_put(&c, CAS_KIND_BLOCK, keys[k], buf, lens[k]);
            if (e != CAS_OK && e != CAS_ENOSPC)
                bad++;
        } else if (r < 90) {
            size_t len;
            const uint8_t *v = cas_get(&c, CAS_KIND_BLOCK, keys[k], &len, false);
            if (v) {
                hits++;
                make(100 + k, lens[k], buf, keys[k]);
                if (len != lens[k] || memcmp(v, buf, len) != 0)
                    bad++;
            }
        } else if (r < 97) {
            int s = rand() % 4;
            if (pinned[s]) {
                cas_unpin(&c, pinned[s]);
                pinned[s] = NULL;
            } else {
                pinned[s] = cas_get(&c, CAS_KIND_BLOCK, keys[k], NULL, true);
            }
        } else {
            cas_set_budget(&c, (uint64_t)(rand() % (int)c.nunits + 1) * UNIT);
        }
        uint32_t owned = 0;
        for (uint32_t u = 0; u < c.nunits; u++)
            owned += c.owner[u] != 0;
        if (owned != c.used_units)
            bad++;
        int pins = 0;
        for (int s = 0; s < 4; s++)
            pins += pinned[s] != NULL;
        if (c.used_units > c.budget_units && pins == 0)
            over++;
    }
    CHECK_EQ_U64(bad, 0, "random: every hit holds its bytes, unit map consistent");
    CHECK_EQ_U64(over, 0, "random: budget respected when nothing is pinned");
    check(hits > 1000, "random: cache was exercised (%d hits)", hits);
}

/* Per-kind statistics: entries, bytes, hits, misses, evictions, inserts, rejects of each
 * kind add up to the totals; an eviction counts under the evicted entry's kind. */
static void test_kinds(void)
{
    struct cas c;
    static uint8_t buf[4 * UNIT];
    uint8_t key[32], jkey[32];
    struct cas_stats j, b, all;
    cas_init(&c, mem, sizeof mem, UNIT);
    cas_set_budget(&c, 4 * UNIT);
    make(1, 2 * UNIT, buf, jkey);
    cas_put(&c, CAS_KIND_JIT, jkey, buf, 2 * UNIT);
    cas_get(&c, CAS_KIND_JIT, jkey, NULL, false);
    for (uint32_t n = 0; n < 3; n++) { /* the third block evicts the JIT entry (LRU) */
        make(10 + n, UNIT, buf, key);
        cas_put(&c, CAS_KIND_BLOCK, key, buf, UNIT);
        cas_get(&c, CAS_KIND_BLOCK, key, NULL, false);
    }
    cas_get(&c, CAS_KIND_BLOCK, jkey, NULL, false); /* same hash, other kind: a miss */
    cas_get(&c, CAS_KIND_JIT, jkey, NULL, false);
    cas_put(&c, CAS_KIND_BLOCK, key, buf, 8 * UNIT); /* exists: kept, not a reject */
    make(20, 4 * UNIT, buf, key);
    cas_put(&c, CAS_KIND_BLOCK, key, buf, 4 * UNIT + 1); /* over the budget: a reject */
    cas_get_kind_stats(&c, CAS_KIND_JIT, &j);
    cas_get_kind_stats(&c, CAS_KIND_BLOCK, &b);
    cas_get_stats(&c, &all);
    check(j.entries == 0 && j.bytes == 0 && j.hits == 1 && j.misses == 1 && j.evictions == 1 &&
              j.inserts == 1 && j.rejects == 0,
          "kind stats: JIT (1 hit, 1 miss, evicted by blocks)");
    check(b.entries == 3 && b.bytes == 3 * UNIT && b.hits == 3 && b.misses == 1 &&
              b.evictions == 0 && b.inserts == 3 && b.rejects == 1,
          "kind stats: blocks (3 entries, 3 hits, 1 miss, 1 reject)");
    check(all.entries == j.entries + b.entries && all.hits == j.hits + b.hits &&
              all.misses == j.misses + b.misses && all.evictions == j.evictions + b.evictions &&
              all.inserts == j.inserts + b.inserts && all.rejects == j.rejects + b.rejects,
          "kind stats add up to the totals");
}

int main(void)
{
    test_init();
    test_basic();
    test_lru();
    test_reserve();
    test_random();
    test_kinds();
    return check_exit_status();
}
