/* lib/cas: a content-addressed cache in caller-owned memory ("hot context").
 *
 * Values are byte strings keyed by (kind, SHA-256).  KIND separates the users that share one
 * cache: the JIT stores compiled code under the .nda file's hash (CAS_KIND_JIT), the sitemap
 * stores file blocks under the block's hash (CAS_KIND_BLOCK); the same hash under two kinds
 * is two entries.  Because keys are content hashes, an entry never goes stale: changed
 * content has a different key, and its old entry just ages out.
 *
 * Interface:
 *   cas_init(c, mem, size, unit)     carve the cache out of MEM (no allocation, ever)
 *   cas_get(c, kind, key, &len, pin) value pointer or NULL; counts a hit or a miss
 *   cas_put(c, kind, key, data, len) copy a value in (evicting as needed)
 *   cas_reserve / cas_commit / cas_abort   fill a value in place (e.g. compile into it)
 *   cas_unpin(c, data)               release a pin taken by cas_get/cas_reserve
 *   cas_remove, cas_clear, cas_set_budget, cas_get_stats, cas_next_entry (listing)
 *   cas_get_kind_stats               the same statistics for one kind's entries
 *   cas_set_evict_hook               told before an entry's memory is reused (the kernel
 *                                    maps JIT pages back to read/write there)
 * Storage: the data area is split into units of UNIT bytes (a power of two; 4096 in the
 * kernel so every value starts on its own page and JIT code can be mapped RX without
 * touching a neighbour).  A value occupies a contiguous run of units.  The budget caps the
 * units in use; when a new value does not fit, least-recently-used unpinned entries are
 * evicted until a run of free units exists (or nothing more can go: CAS_ENOSPC).
 * Invariants: pinned and reserved entries are never evicted or moved; a value is visible to
 * cas_get only after commit; every unit is owned by at most one entry.  Not thread-safe. */
#ifndef LIB_CAS_H
#define LIB_CAS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cas_err {
    CAS_OK = 0,
    CAS_EINVAL,   /* bad argument (unit not a power of two, len 0, unknown pointer) */
    CAS_ENOMEM,   /* the memory given to cas_init holds no data unit */
    CAS_ENOSPC,   /* the value does not fit even after evicting every unpinned entry */
    CAS_EEXIST,   /* an entry with this key already exists (cas_reserve) */
    CAS_ENOENT,   /* no entry with this key */
    CAS_EBUSY,    /* the entry is pinned */
};
const char *cas_strerror(int err);

enum cas_kind {
    CAS_KIND_JIT = 1,    /* compiled code, keyed by the program file's SHA-256 */
    CAS_KIND_BLOCK = 2,  /* a file block, keyed by the block's SHA-256 */
    CAS_KINDS = 3,       /* per-kind counters: kinds 1..2; any other kind counts under 0 */
};

#define CAS_KEY_SIZE 32

/* One entry's bookkeeping (in the cache's memory, an array indexed by entry number). */
struct cas_slot {
    uint8_t key[CAS_KEY_SIZE];
    uint32_t kind;       /* 0 = slot free */
    uint32_t state;      /* internal: free / reserved / valid */
    uint32_t first, units; /* the run of data units */
    uint32_t pins;
    uint32_t next;       /* hash chain (entry number + 1, 0 = end) */
    uint64_t len;        /* value bytes */
    uint64_t stamp;      /* last use, for LRU */
    uint64_t hits;
};

struct cas;
/* Called before an entry's units are reused or freed (eviction, removal, clear). */
typedef void (*cas_evict_fn)(void *ctx, uint32_t kind, const uint8_t *key, void *data,
                             size_t len);

struct cas {
    uint8_t *data;             /* first data unit (aligned to unit) */
    struct cas_slot *slot;     /* nslots entries */
    uint32_t *bucket;          /* nbuckets hash heads (entry number + 1) */
    uint32_t *owner;           /* per unit: owning entry number + 1, 0 = free */
    uint32_t nunits, nslots, nbuckets;
    uint32_t unit, unit_shift;
    uint32_t budget_units;     /* at most this many units in use */
    uint32_t used_units;
    uint64_t clock;
    cas_evict_fn evict_fn;
    void *evict_ctx;
    /* statistics: totals, and the same per kind (cas_get_kind_stats) */
    uint64_t hits, misses, evictions, inserts, rejects;
    struct cas_counts {
        uint64_t hits, misses, evictions, inserts, rejects;
    } count[CAS_KINDS];
};

struct cas_stats {
    uint32_t entries;          /* committed entries */
    uint64_t bytes;            /* value bytes of committed entries */
    uint64_t used_bytes;       /* data units in use (incl. reserved), in bytes */
    uint64_t budget;           /* bytes the cache may use */
    uint64_t capacity;         /* largest budget this memory allows */
    uint64_t hits, misses, evictions, inserts, rejects;
};

/* Listing: what cas_next_entry reports for one committed entry. */
struct cas_entry_info {
    uint32_t kind;
    uint8_t key[CAS_KEY_SIZE];
    uint64_t len, hits, age;   /* age: uses of the cache since this entry's last use */
    uint32_t pins;
};

/* UNIT: power of two >= 64.  The budget starts at the whole capacity. */
int cas_init(struct cas *c, void *mem, size_t size, uint32_t unit);
void cas_set_evict_hook(struct cas *c, cas_evict_fn fn, void *ctx);
/* Change the budget (rounded down to whole units, at most the capacity); evicts LRU
 * unpinned entries until the cache fits.  CAS_EBUSY if pinned entries keep it over. */
int cas_set_budget(struct cas *c, uint64_t bytes);

/* The value for (kind, key) or NULL.  With PIN the entry stays put until cas_unpin. */
const void *cas_get(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE], size_t *len,
                    bool pin);
/* Is it there?  Counts nothing and changes no LRU order. */
bool cas_contains(const struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE]);
int cas_unpin(struct cas *c, const void *data);

/* Copy LEN bytes in under (kind, key); an existing entry with that key is kept (same key,
 * same content).  CAS_ENOSPC when it cannot fit. */
int cas_put(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE], const void *data,
            size_t len);
/* Room for up to LEN bytes, pinned and invisible to cas_get; *out = writable memory. */
int cas_reserve(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE], size_t len,
                void **out);
/* Publish a reserved value with its final length (<= the reserved one; spare units are
 * released).  The entry stays pinned: cas_unpin when done with it. */
int cas_commit(struct cas *c, void *data, size_t len);
/* Drop a reservation (nothing becomes visible). */
int cas_abort(struct cas *c, void *data);

int cas_remove(struct cas *c, uint32_t kind, const uint8_t key[CAS_KEY_SIZE]);
/* Remove every unpinned entry; returns how many stay (pinned). */
uint32_t cas_clear(struct cas *c);

void cas_get_stats(const struct cas *c, struct cas_stats *st);
/* Entries, bytes and counters of KIND only (budget and capacity are the whole cache's; an
 * eviction counts under the evicted entry's kind, a reject under the rejected value's). */
void cas_get_kind_stats(const struct cas *c, uint32_t kind, struct cas_stats *st);
/* Listing: start with *cursor = 0; fills OUT with the next committed entry and returns
 * true, or false at the end. */
bool cas_next_entry(const struct cas *c, uint32_t *cursor, struct cas_entry_info *out);

#endif
