/* kernel/kcache.c: see kcache.h.  The memory is taken from the page allocator on first use
 * (not at boot: a system that never runs a program pays nothing). */
#include <string.h>
#include "arch/x86_64/paging.h"
#include "kernel/console.h"
#include "kernel/hotfile.h"
#include "kernel/kcache.h"
#include "kernel/pmm.h"
#include "lib/sha256.h"
#include "shell/shell.h"

static struct cas cache;
static int ready;

int kcache_code_exec(void *code, size_t len)
{
    return paging_map((uint64_t)(uintptr_t)code, len, MAP_EXEC);
}

int kcache_code_writable(void *code, size_t len)
{
    return paging_map((uint64_t)(uintptr_t)code, len, MAP_WRITE);
}

/* Code pages go back to read+write (and never executable) before the cache reuses them. */
static void on_evict(void *ctx, uint32_t kind, const uint8_t *key, void *data, size_t len)
{
    (void)ctx;
    (void)key;
    if (kind == CAS_KIND_JIT && kcache_code_writable(data, len) != 0)
        klog("kcache: cannot remap evicted code at %p\n", data);
}

struct cas *kcache(void)
{
    if (ready)
        return &cache;
    uint64_t mem = pmm_alloc_pages(KCACHE_CAPACITY / PAGE_SIZE);
    if (!mem)
        return NULL;
    if (cas_init(&cache, (void *)(uintptr_t)mem, KCACHE_CAPACITY, KCACHE_UNIT) != CAS_OK) {
        pmm_free_pages(mem, KCACHE_CAPACITY / PAGE_SIZE);
        return NULL;
    }
    cas_set_evict_hook(&cache, on_evict, NULL);
    cas_set_budget(&cache, KCACHE_DEFAULT_BUDGET);
    ready = 1;
    return &cache;
}

/* "1048576", "512K", "2M" -> bytes; -1 when malformed. */
static int64_t parse_size(const char *s)
{
    int64_t v = 0;
    if (!*s)
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    if ((*s == 'K' || *s == 'k') && !s[1])
        v <<= 10;
    else if ((*s == 'M' || *s == 'm') && !s[1])
        v <<= 20;
    else if (*s)
        return -1;
    return v;
}

static const char *kind_name(uint32_t k)
{
    return k == CAS_KIND_JIT ? "jit" : k == CAS_KIND_BLOCK ? "block" : "?";
}

static int cmd_cache(int argc, char **argv)
{
    struct cas *c = kcache();
    int all = 0;
    if (!c) {
        printf("cache: no memory for the cache\n");
        return 1;
    }
    if (argc == 3 && !strcmp(argv[1], "budget")) {
        int64_t b = parse_size(argv[2]);
        if (b < 0)
            return shell_usage(argv[0]);
        if (cas_set_budget(c, (uint64_t)b) != CAS_OK)
            printf("cache: entries in use keep the cache over the new budget for now\n");
    } else if (argc == 2 && !strcmp(argv[1], "-l")) {
        all = 1;
    } else if (argc == 2 && !strcmp(argv[1], "clear")) {
        uint32_t kept = cas_clear(c);
        if (kept)
            printf("cache: %u entries in use were kept\n", kept);
    } else if (argc != 1) {
        return shell_usage(argv[0]);
    }
    struct cas_stats st;
    cas_get_stats(c, &st);
    printf("cache: %u entries, %llu bytes (%llu KiB of %llu KiB budget, capacity %llu KiB)\n",
           st.entries, (unsigned long long)st.bytes, (unsigned long long)(st.used_bytes >> 10),
           (unsigned long long)(st.budget >> 10), (unsigned long long)(st.capacity >> 10));
    printf("hits %llu, misses %llu, evictions %llu, inserts %llu, too big %llu\n",
           (unsigned long long)st.hits, (unsigned long long)st.misses,
           (unsigned long long)st.evictions, (unsigned long long)st.inserts,
           (unsigned long long)st.rejects);
    for (uint32_t k = CAS_KIND_JIT; k <= CAS_KIND_BLOCK; k++) {
        cas_get_kind_stats(c, k, &st);
        printf("%-5s: %u entries, %llu bytes; hits %llu, misses %llu, evictions %llu\n",
               kind_name(k), st.entries, (unsigned long long)st.bytes,
               (unsigned long long)st.hits, (unsigned long long)st.misses,
               (unsigned long long)st.evictions);
    }
    const struct hotfile *h = hot_state();
    printf("file reads: %llu via the sitemap's block hashes, %llu straight from the volume; "
           "%llu blocks refused (changed behind the filesystem)\n",
           (unsigned long long)h->reads_hot, (unsigned long long)h->reads_cold,
           (unsigned long long)h->corrupt);
    uint32_t cur = 0;
    struct cas_entry_info e;
    char hex[65];
    while (cas_next_entry(c, &cur, &e)) {
        if (e.kind == CAS_KIND_BLOCK && !all)
            continue;
        sha256_hex(e.key, hex);
        printf("  %-5s %.16s  %8llu bytes  %4llu hits  age %llu%s\n", kind_name(e.kind), hex,
               (unsigned long long)e.len, (unsigned long long)e.hits,
               (unsigned long long)e.age, e.pins ? "  (in use)" : "");
    }
    return 0;
}
SHELL_COMMAND("cache", cmd_cache, "[-l | budget BYTES[K|M] | clear]",
              "content-addressed cache (JIT code, file blocks): statistics per kind, JIT "
              "entries (-l: file blocks too)");
