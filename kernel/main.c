/* kernel/main.c: the kernel proper, entered from the firmware stage (efi_boot.c) on our
 * own stack with interrupts off.  The init order below is the whole story of a boot. */
#include <string.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "drivers/acpi/acpi.h"
#include "drivers/nvme/nvme.h"
#include "drivers/pci/pci.h"
#include "drivers/uart/uart16550.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/kernel.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/vfs.h"
#include "shell/cmds_sitemap.h"
#include "shell/shell.h"

struct bootinfo *boot_info;
uint64_t boot_tsc[PH_COUNT];
const char *const boot_phase_names[PH_COUNT] = {
    "firmware (power-on to efi_main)", "firmware stage, ExitBootServices", "memory", "cpu tables",
    "acpi", "clock calibration", "interrupts", "devices", "shell",
};

enum { COM1 = 0x3f8 };

void panic(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kcrit("\n*** kernel panic: %s\nsystem halted.\n", buf);
    cpu_stop();
}

uint64_t kernel_memory_in_use(void)
{
    struct pmm_stats ps;
    pmm_get_stats(&ps);
    return boot_info->image_size + (BOOT_STACK_PAGES + 1) * PAGE_SIZE +
           (ps.total_pages - ps.free_pages) * PAGE_SIZE + ps.bitmap_bytes;
}

/* Devices and filesystems.  Each subsystem's init is one line here, in dependency order. */
static void devices_init(void)
{
    int npci = pci_init();
    klog("pci: %d functions (%s)\n", npci, pci_using_ecam() ? "ECAM" : "legacy 0xCF8");
    nvme_init_all();
    vfs_init();
    sitemap_boot();
}

static void banner(void)
{
    uint64_t hz = clock_tsc_hz();
    uint64_t kernel_cycles = boot_tsc[PH_PROMPT] - boot_tsc[PH_ENTRY] - boot_info->tsc_bench;
    struct pmm_stats ps;
    pmm_get_stats(&ps);
    printf("\nVELOCITY-OS %s (x86-64, UEFI): %u CPU%s, %llu MiB RAM, TSC %llu MHz\n",
           velocity_version, acpi.cpus, acpi.cpus == 1 ? "" : "s",
           (unsigned long long)(ps.ram_bytes >> 20), (unsigned long long)(hz / 1000000));
    printf("boot: firmware %llu ms, kernel %llu.%03llu ms:", 
           (unsigned long long)(clock_tsc_to_ns(boot_tsc[PH_ENTRY]) / 1000000),
           (unsigned long long)(clock_tsc_to_ns(kernel_cycles) / 1000000),
           (unsigned long long)(clock_tsc_to_ns(kernel_cycles) / 1000 % 1000));
    for (int p = PH_EBS; p < PH_COUNT; p++) {
        uint64_t d = boot_tsc[p] - boot_tsc[p - 1];
        if (p == PH_EBS)
            d -= boot_info->tsc_bench;
        printf(" %s %llu.%03llu", boot_phase_names[p], (unsigned long long)(clock_tsc_to_ns(d) / 1000000),
               (unsigned long long)(clock_tsc_to_ns(d) / 1000 % 1000));
    }
    printf(" (ms)\n");
    printf("memory: %llu KiB in use by the OS; type 'help' for commands.\n\n",
           (unsigned long long)(kernel_memory_in_use() >> 10));
}

void kmain(struct bootinfo *bi)
{
    boot_info = bi;
    boot_tsc[PH_ENTRY] = bi->tsc_entry;
    boot_tsc[PH_EBS] = bi->tsc_ebs;
    uart_init(COM1);

    pmm_init(bi);
    paging_init(bi);
    boot_tsc[PH_MEMORY] = rdtsc();

    gdt_init();
    idt_init();
    pmm_reclaim_boot_memory(bi); /* the firmware's tables are no longer in use */
    boot_tsc[PH_CPU] = rdtsc();

    if (acpi_init(bi->rsdp) != 0)
        panic("no usable ACPI tables (RSDP %#llx)", (unsigned long long)bi->rsdp);
    boot_tsc[PH_ACPI] = rdtsc();

    if (!clock_init())
        panic("no HPET or ACPI PM timer to calibrate the TSC against");
    boot_tsc[PH_CLOCK] = rdtsc();

    apic_init(acpi.lapic_addr, acpi.ioapic_addr, acpi.ioapic_gsi_base);
    clock_start_tick();
    cons_init();
    irq_enable();
    boot_tsc[PH_IRQ] = rdtsc();

    devices_init();
    boot_tsc[PH_DEVICES] = rdtsc();

    boot_tsc[PH_PROMPT] = rdtsc();
    banner();
    shell_run();
}
