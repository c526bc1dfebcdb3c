/* Physical page allocator; see pmm.h. */
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "kernel/pmm.h"
#include "kernel/panic.h"

static uint64_t *bitmap;      /* bit set = page in use (or not RAM) */
static uint64_t npages;       /* pages covered by the bitmap */
static uint64_t free_count, total_count, ram_bytes;
static uint64_t hint;

static inline int test_bit(uint64_t p) { return (bitmap[p / 64] >> (p % 64)) & 1; }
static inline void set_bit(uint64_t p) { bitmap[p / 64] |= 1ull << (p % 64); }
static inline void clear_bit(uint64_t p) { bitmap[p / 64] &= ~(1ull << (p % 64)); }

static void add_free(uint64_t base, uint64_t pages)
{
    uint64_t p = base / PAGE_SIZE, end = p + pages;
    /* Real-mode memory below 1 MiB stays reserved: firmware leftovers live there, and
     * page 0 must stay unmapped so null dereferences fault. */
    if (p < 256)
        p = 256;
    if (end > npages)
        end = npages;
    while (p < end) {
        if (p % 64 == 0 && end - p >= 64 && bitmap[p / 64] == ~0ull) {
            bitmap[p / 64] = 0; /* a whole word at once: 8 GiB is 2M pages */
            free_count += 64;
            total_count += 64;
            p += 64;
            continue;
        }
        if (test_bit(p)) {
            clear_bit(p);
            free_count++;
            total_count++;
        }
        p++;
    }
}

void pmm_init(struct bootinfo *bi)
{
    uint64_t top = 0;
    for (size_t i = 0; i < bi->map_count; i++) {
        struct mem_region *r = &bi->map[i];
        uint64_t end = r->base + r->pages * PAGE_SIZE;
        if ((r->kind == MEM_USABLE || r->kind == MEM_BOOT) && end > top)
            top = end;
        /* RAM = what the firmware describes as memory of any owner; reserved ranges
         * (the ECAM window, flash) and MMIO are not RAM. */
        if (r->kind != MEM_MMIO && r->efi_type != 0 /* EfiReservedMemoryType */ &&
            r->efi_type != 8 /* EfiUnusableMemory */)
            ram_bytes += r->pages * PAGE_SIZE;
    }
    npages = top / PAGE_SIZE;
    uint64_t bytes = (npages + 63) / 64 * 8;
    uint64_t bm_pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;

    /* Put the bitmap in the first usable region above 1 MiB that holds it. */
    for (size_t i = 0; i < bi->map_count && !bitmap; i++) {
        struct mem_region *r = &bi->map[i];
        if (r->kind == MEM_USABLE && r->base >= 0x100000 && r->pages >= bm_pages)
            bitmap = (uint64_t *)(uintptr_t)r->base;
    }
    if (!bitmap)
        panic("no room for the page bitmap");
    memset(bitmap, 0xff, bm_pages * PAGE_SIZE);
    for (size_t i = 0; i < bi->map_count; i++)
        if (bi->map[i].kind == MEM_USABLE)
            add_free(bi->map[i].base, bi->map[i].pages);
    uint64_t bm_first = (uint64_t)(uintptr_t)bitmap / PAGE_SIZE;
    for (uint64_t p = bm_first; p < bm_first + bm_pages; p++)
        if (!test_bit(p)) {
            set_bit(p);
            free_count--;
            total_count--;
        }
    hint = 256;
}

void pmm_reclaim_boot_memory(struct bootinfo *bi)
{
    for (size_t i = 0; i < bi->map_count; i++)
        if (bi->map[i].kind == MEM_BOOT) {
            add_free(bi->map[i].base, bi->map[i].pages);
            bi->map[i].kind = MEM_USABLE;
        }
}

static uint64_t alloc_run(size_t count, uint64_t limit_page)
{
    if (count == 0)
        return 0;
    uint64_t end = limit_page < npages ? limit_page : npages;
    uint64_t start = hint < end ? hint : 256;
    /* Two passes: from the hint to the end, then from the bottom. */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t p = pass == 0 ? start : 256;
        uint64_t stop = pass == 0 ? end : start + count;
        if (stop > end)
            stop = end;
        while (p + count <= stop) {
            if (bitmap[p / 64] == ~0ull && p % 64 == 0) {
                p += 64;
                continue;
            }
            uint64_t run = 0;
            while (run < count && !test_bit(p + run))
                run++;
            if (run == count)
                return p;
            p += run + 1;
        }
    }
    return 0;
}

static uint64_t alloc_common(size_t count, uint64_t limit)
{
    uint64_t flags = irq_save();
    uint64_t p = alloc_run(count, limit / PAGE_SIZE);
    if (p) {
        for (uint64_t i = 0; i < count; i++)
            set_bit(p + i);
        free_count -= count;
        hint = p + count;
    }
    irq_restore(flags);
    if (!p)
        return 0;
    memset((void *)(uintptr_t)(p * PAGE_SIZE), 0, count * PAGE_SIZE);
    return p * PAGE_SIZE;
}

uint64_t pmm_alloc_pages(size_t count) { return alloc_common(count, ~0ull); }

uint64_t pmm_alloc_pages_below(size_t count, uint64_t limit) { return alloc_common(count, limit); }

void pmm_free_pages(uint64_t addr, size_t count)
{
    uint64_t flags = irq_save();
    for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + count; p++) {
        if (p >= npages || !test_bit(p))
            panic("pmm: freeing page %#llx that is not allocated", (unsigned long long)p * PAGE_SIZE);
        clear_bit(p);
        free_count++;
    }
    irq_restore(flags);
}

void pmm_get_stats(struct pmm_stats *st)
{
    st->total_pages = total_count;
    st->free_pages = free_count;
    st->bitmap_bytes = (npages + 63) / 64 * 8;
    st->highest_addr = npages * PAGE_SIZE;
    st->ram_bytes = ram_bytes;
}
