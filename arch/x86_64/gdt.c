/* arch/x86_64/gdt.c: our own GDT (flat 64-bit code/data) and a TSS whose IST slots give
 * double fault, NMI, page fault and machine check each a private stack with a guard page
 * below, so a kernel stack overflow is still reported instead of triple-faulting. */
#include <stdint.h>
#include <string.h>
#include "arch/x86_64/trap.h"
#include "arch/x86_64/paging.h"
#include "kernel/pmm.h"
#include "kernel/panic.h"

enum { SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_TSS = 0x18 };
enum { IST_STACK_PAGES = 4 };

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS is 104 bytes");

static struct tss tss;
static uint64_t gdt[5];
static uint64_t ist_stack_lo[8], ist_stack_hi[8];

extern void arch_load_gdt(void *gdtr, uint16_t code, uint16_t data, uint16_t tss);

/* Segment descriptor fields (Intel SDM vol. 3, 3.4.5). */
enum {
    DESC_PRESENT = 1ull << 47,
    DESC_USER_SEG = 1ull << 44,  /* code/data rather than system */
    DESC_EXEC = 1ull << 43,
    DESC_RW = 1ull << 41,
    DESC_LONG = 1ull << 53,
    DESC_TSS_AVAIL = 9ull << 40,
};

void gdt_init(void)
{
    gdt[0] = 0;
    gdt[1] = DESC_PRESENT | DESC_USER_SEG | DESC_EXEC | DESC_RW | DESC_LONG;
    gdt[2] = DESC_PRESENT | DESC_USER_SEG | DESC_RW;
    uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof tss - 1;
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | DESC_TSS_AVAIL | DESC_PRESENT |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[4] = base >> 32;

    for (int i = IST_DOUBLE_FAULT; i <= IST_MACHINE_CHECK; i++) {
        uint64_t lo = pmm_alloc_pages(IST_STACK_PAGES + 1);
        if (!lo)
            panic("no memory for exception stacks");
        paging_unmap(lo, PAGE_SIZE); /* guard page */
        ist_stack_lo[i] = lo + PAGE_SIZE;
        ist_stack_hi[i] = lo + (IST_STACK_PAGES + 1) * PAGE_SIZE;
        tss.ist[i - 1] = ist_stack_hi[i];
    }
    tss.iomap_base = sizeof tss; /* no I/O permission bitmap */

    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = { sizeof gdt - 1, (uint64_t)(uintptr_t)gdt };
    arch_load_gdt(&gdtr, SEL_CODE, SEL_DATA, SEL_TSS);
}

/* Is [addr, addr+len) inside one of the exception stacks?  (Backtraces check this.) */
int gdt_on_ist_stack(uint64_t addr, uint64_t len)
{
    for (int i = IST_DOUBLE_FAULT; i <= IST_MACHINE_CHECK; i++)
        if (addr >= ist_stack_lo[i] && addr + len <= ist_stack_hi[i])
            return 1;
    return 0;
}

uint16_t gdt_code_selector(void) { return SEL_CODE; }
