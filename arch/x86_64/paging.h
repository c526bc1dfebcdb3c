/* arch/x86_64/paging.h: the kernel's own 4-level page tables.
 *
 * Everything is identity-mapped (virtual == physical).  RAM is write-back and NX, the
 * kernel's text is read-only+executable, its read-only data read-only+NX, MMIO uncached,
 * page 0 and stack guard pages are not mapped at all.  Large (2 MiB) pages are used where a
 * range allows and split on demand when a 4 KiB page needs different rights. */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H
#include <stdint.h>
#include "kernel/boot.h"

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096u
#endif

enum map_flags {
    MAP_WRITE = 1u << 0,
    MAP_EXEC = 1u << 1,
    MAP_UNCACHED = 1u << 2,
};

void paging_init(struct bootinfo *bi);
/* Identity-map [pa, pa+size) with FLAGS (rounded out to pages); replaces existing
 * mappings.  Returns 0, or -1 when page-table memory ran out. */
int paging_map(uint64_t pa, uint64_t size, unsigned flags);
/* Map device registers uncached and return the pointer to them (identity). */
void *paging_map_mmio(uint64_t pa, uint64_t size);
void paging_unmap(uint64_t va, uint64_t size);
/* Is the byte at VA mapped (and writable if WRITE)?  Never faults. */
int paging_is_mapped(uint64_t va, int write);

struct paging_stats {
    uint64_t table_pages;
    uint64_t text_start, text_end, rodata_end, image_end;
};
void paging_get_stats(struct paging_stats *st);

#endif
