/* Kernel page tables; see paging.h.  Page-table pages come from the physical allocator and
 * are reached through the identity map, which is in force both under the firmware's tables
 * and under ours. */
#include <stddef.h>
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/pmm.h"
#include "kernel/panic.h"

enum pte_bits {
    PTE_P = 1ull << 0,
    PTE_W = 1ull << 1,
    PTE_PWT = 1ull << 3,
    PTE_PCD = 1ull << 4,
    PTE_PS = 1ull << 7,     /* large page (in a PDE or PDPTE) */
    PTE_G = 1ull << 8,
    PTE_NX = 1ull << 63,
};
#define PTE_ADDR 0x000ffffffffff000ull
#define LARGE (2ull << 20)

static uint64_t *pml4;
static uint64_t table_pages;
static uint64_t text_start, text_end, rodata_end, image_end;

extern char ImageBase[], __text_start[], __text_end[], __rodata_end[], __image_end[];

static uint64_t leaf_bits(unsigned flags)
{
    uint64_t b = PTE_P;
    if (flags & MAP_WRITE) b |= PTE_W;
    if (!(flags & MAP_EXEC)) b |= PTE_NX;
    if (flags & MAP_UNCACHED) b |= PTE_PCD | PTE_PWT;
    return b;
}

static uint64_t *new_table(void)
{
    uint64_t pa = pmm_alloc_pages(1);
    if (!pa)
        return NULL;
    table_pages++;
    return (uint64_t *)(uintptr_t)pa;
}

/* The table LEVEL below entry E, created (or split from a large page) if needed. */
static uint64_t *descend(uint64_t *e, int level_below)
{
    if (*e & PTE_P) {
        if (!(*e & PTE_PS))
            return (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
        /* Split a large page into 512 smaller ones with the same rights. */
        uint64_t *t = new_table();
        if (!t)
            return NULL;
        uint64_t base = *e & PTE_ADDR & ~(level_below == 1 ? LARGE - 1 : (1ull << 30) - 1);
        uint64_t bits = *e & (PTE_W | PTE_PCD | PTE_PWT | PTE_NX | PTE_P);
        uint64_t step = level_below == 1 ? PAGE_SIZE : LARGE;
        for (int i = 0; i < 512; i++)
            t[i] = (base + i * step) | bits | (level_below == 2 ? PTE_PS : 0);
        *e = (uint64_t)(uintptr_t)t | PTE_P | PTE_W;
        return t;
    }
    uint64_t *t = new_table();
    if (!t)
        return NULL;
    *e = (uint64_t)(uintptr_t)t | PTE_P | PTE_W;
    return t;
}

static int map_one(uint64_t va, uint64_t bits, int large)
{
    uint64_t *pdpt = descend(&pml4[(va >> 39) & 511], 3);
    if (!pdpt) return -1;
    uint64_t *pd = descend(&pdpt[(va >> 30) & 511], 2);
    if (!pd) return -1;
    uint64_t *pde = &pd[(va >> 21) & 511];
    if (large) {
        /* A page table under this entry becomes garbage; it is small and rare, keep it. */
        *pde = va | bits | PTE_PS;
        return 0;
    }
    uint64_t *pt = descend(pde, 1);
    if (!pt) return -1;
    pt[(va >> 12) & 511] = bits ? (va | bits) : 0;
    return 0;
}

static int map_range(uint64_t start, uint64_t end, uint64_t bits)
{
    start &= ~(uint64_t)(PAGE_SIZE - 1);
    end = (end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    for (uint64_t va = start; va < end;) {
        int large = bits && va % LARGE == 0 && end - va >= LARGE;
        if (map_one(va, bits, large))
            return -1;
        va += large ? LARGE : PAGE_SIZE;
        if (pml4 == (uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR))
            invlpg(va - (large ? LARGE : PAGE_SIZE));
    }
    return 0;
}

int paging_map(uint64_t pa, uint64_t size, unsigned flags)
{
    return map_range(pa, pa + size, leaf_bits(flags));
}

void *paging_map_mmio(uint64_t pa, uint64_t size)
{
    if (paging_map(pa, size, MAP_WRITE | MAP_UNCACHED))
        return NULL;
    return (void *)(uintptr_t)pa;
}

void paging_unmap(uint64_t va, uint64_t size)
{
    map_range(va, va + size, 0);
}

int paging_is_mapped(uint64_t va, int write)
{
    if (va >> 47 && (va >> 47) != 0x1ffff)
        return 0; /* non-canonical */
    uint64_t e = pml4[(va >> 39) & 511];
    if (!(e & PTE_P)) return 0;
    uint64_t *t = (uint64_t *)(uintptr_t)(e & PTE_ADDR);
    e = t[(va >> 30) & 511];
    if (!(e & PTE_P)) return 0;
    if (!(e & PTE_PS)) {
        t = (uint64_t *)(uintptr_t)(e & PTE_ADDR);
        e = t[(va >> 21) & 511];
        if (!(e & PTE_P)) return 0;
        if (!(e & PTE_PS)) {
            t = (uint64_t *)(uintptr_t)(e & PTE_ADDR);
            e = t[(va >> 12) & 511];
            if (!(e & PTE_P)) return 0;
        }
    }
    return !write || (e & PTE_W);
}

void paging_init(struct bootinfo *bi)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    pml4 = new_table();
    if (!pml4)
        panic("no memory for page tables");

    /* All RAM the map describes, and MMIO it names, identity-mapped and never executable. */
    for (size_t i = 0; i < bi->map_count; i++) {
        struct mem_region *r = &bi->map[i];
        unsigned flags = r->kind == MEM_MMIO ? MAP_WRITE | MAP_UNCACHED : MAP_WRITE;
        if (paging_map(r->base, r->pages * PAGE_SIZE, flags))
            panic("out of memory mapping RAM");
    }
    /* The framebuffer, write-combining would be nicer; uncached is correct. */
    if (bi->fb.base)
        paging_map(bi->fb.base, bi->fb.size, MAP_WRITE | MAP_UNCACHED);

    /* The kernel image: text RX, rodata R, the rest RW (all NX but text). */
    text_start = (uint64_t)(uintptr_t)__text_start;
    text_end = (uint64_t)(uintptr_t)__text_end;
    rodata_end = (uint64_t)(uintptr_t)__rodata_end;
    image_end = (uint64_t)(uintptr_t)__image_end;
    map_range((uint64_t)(uintptr_t)ImageBase, text_start, leaf_bits(0));
    map_range(text_start, text_end, leaf_bits(MAP_EXEC));
    map_range(text_end, rodata_end, leaf_bits(0));
    map_range(rodata_end, image_end, leaf_bits(MAP_WRITE));

    /* Null page and the stack guard page: not present. */
    map_range(0, PAGE_SIZE, 0);
    map_range(bi->stack_base, bi->stack_base + PAGE_SIZE, 0);

    write_cr3((uint64_t)(uintptr_t)pml4);
    write_cr0(read_cr0() | CR0_WP); /* read-only means read-only for the kernel too */
}

void paging_get_stats(struct paging_stats *st)
{
    st->table_pages = table_pages;
    st->text_start = text_start;
    st->text_end = text_end;
    st->rodata_end = rodata_end;
    st->image_end = image_end;
}
