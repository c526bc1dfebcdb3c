/* kernel/kernel.h: facts about the running kernel that commands report. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H
#include <stdint.h>
#include "kernel/boot.h"

extern const char velocity_version[];
extern struct bootinfo *boot_info;

/* Boot phases, as TSC stamps; converted to time once the TSC is calibrated. */
enum boot_phase {
    PH_ENTRY,      /* firmware entered efi_main */
    PH_EBS,        /* ExitBootServices done (includes firmware-side benchmarks) */
    PH_MEMORY,     /* page allocator and our page tables */
    PH_CPU,        /* GDT, TSS, IDT */
    PH_ACPI,       /* ACPI tables */
    PH_CLOCK,      /* TSC calibrated */
    PH_IRQ,        /* APIC, timer, serial interrupts */
    PH_DEVICES,    /* PCI, storage, filesystems */
    PH_PROMPT,     /* first prompt */
    PH_COUNT
};
extern uint64_t boot_tsc[PH_COUNT];
extern const char *const boot_phase_names[PH_COUNT];

/* Bytes of memory the OS itself uses: image + stacks + allocated pages. */
uint64_t kernel_memory_in_use(void);

#endif
