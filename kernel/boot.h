/* kernel/boot.h: what the firmware stage (kernel/efi_boot.c) hands to the kernel proper.
 * After ExitBootServices this is the only knowledge of the firmware the kernel keeps. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H
#include <stddef.h>
#include <stdint.h>

enum mem_kind {
    MEM_USABLE,       /* free RAM */
    MEM_BOOT,         /* firmware boot-services memory: free once we run on our own page
                         tables, GDT and IDT (the firmware's live there until then) */
    MEM_KERNEL,       /* our image, our early allocations (UEFI loader code/data) */
    MEM_ACPI,         /* ACPI tables (reclaimable, but we keep them: lspci reads MCFG) */
    MEM_FIRMWARE,     /* runtime services, NVS, reserved, unusable */
    MEM_MMIO,         /* memory-mapped I/O the firmware told us about */
};

struct mem_region {
    uint64_t base;
    uint64_t pages;   /* 4 KiB pages */
    uint32_t kind;    /* enum mem_kind */
    uint32_t efi_type;
};

#define BOOT_MAX_REGIONS 256
#define BOOT_STACK_PAGES 16   /* 64 KiB kernel stack, plus one guard page below */

struct framebuffer {
    uint64_t base, size;
    uint32_t width, height, pitch; /* pitch in pixels */
};

/* Results of measurements that only the firmware stage can make (it still has the firmware's
 * drivers).  Subsystems fill their own part; `make bench` prints them. */
struct fw_bench {
    int valid;
    uint64_t blockio_ns[8];   /* per request size, see drivers/nvme */
    uint64_t blockio_bytes[8];
    uint64_t fatfile_ns, fatfile_bytes;   /* the FAT bench file read whole in one Read call */
    uint64_t fatfile_1m_ns;               /* the same file in 1 MiB Read calls */
};

struct bootinfo {
    uint64_t image_base, image_size;
    struct mem_region map[BOOT_MAX_REGIONS];
    size_t map_count;
    uint64_t rsdp;              /* physical address of the ACPI RSDP, 0 if none */
    struct framebuffer fb;
    uint64_t stack_base;        /* lowest address of the stack's guard page */
    uint64_t tsc_entry;         /* TSC when efi_main was entered */
    uint64_t tsc_ebs;           /* TSC right after ExitBootServices */
    uint64_t tsc_bench;         /* TSC cycles spent in firmware-side benchmarks (not boot) */
    struct fw_bench bench;
};

/* Kernel proper; entered on the kernel stack with interrupts off. */
__attribute__((noreturn)) void kmain(struct bootinfo *bi);

#endif
