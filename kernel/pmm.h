/* kernel/pmm.h: physical page allocator over the UEFI memory map.
 *
 * A bitmap with one bit per 4 KiB page up to the highest usable address; allocation is
 * next-fit from a rotating hint, so single pages are O(1) amortized and contiguous runs
 * (DMA buffers, queues) are found by scanning.  Pages are identity-mapped, so a physical
 * address is also the kernel's pointer to it.  Interrupt-safe (short cli sections). */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H
#include <stddef.h>
#include <stdint.h>
#include "kernel/boot.h"

#define PAGE_SIZE 4096u

/* Manage the free RAM of the map.  Boot-services memory is added by
 * pmm_reclaim_boot_memory() once the kernel no longer uses the firmware's page tables,
 * GDT and IDT, which live there. */
void pmm_init(struct bootinfo *bi);
void pmm_reclaim_boot_memory(struct bootinfo *bi);
/* COUNT contiguous pages, zeroed; returns the physical address or 0 when out of memory. */
uint64_t pmm_alloc_pages(size_t count);
/* Same, but below LIMIT (for devices that cannot address all memory). */
uint64_t pmm_alloc_pages_below(size_t count, uint64_t limit);
void pmm_free_pages(uint64_t addr, size_t count);

struct pmm_stats {
    uint64_t total_pages;    /* usable RAM the allocator manages */
    uint64_t free_pages;
    uint64_t bitmap_bytes;
    uint64_t highest_addr;
    uint64_t ram_bytes;      /* all RAM in the map, including firmware-owned */
};
void pmm_get_stats(struct pmm_stats *st);

#endif
