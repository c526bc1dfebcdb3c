/* System commands: help, mem, log, uptime, clear, reboot, poweroff, version. */
#include <string.h>
#include "arch/x86_64/paging.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/kernel.h"
#include "kernel/pmm.h"
#include "kernel/power.h"
#include "shell/shell.h"

static int cmd_help(int argc, char **argv)
{
    if (argc > 2)
        return shell_usage(argv[0]);
    if (argc == 2) {
        const struct shell_cmd *c = shell_find(argv[1]);
        if (!c) {
            printf("help: no command '%s'\n", argv[1]);
            return 1;
        }
        printf("usage: %s %s\n  %s\n", c->name, c->args, c->help);
        return 0;
    }
    /* Alphabetical, without sorting the table: repeatedly pick the next name. */
    const char *last = "";
    for (;;) {
        const struct shell_cmd *best = NULL;
        for (size_t i = 0; shell_cmd_at(i); i++) {
            const struct shell_cmd *c = shell_cmd_at(i);
            if (strcmp(c->name, last) > 0 && (!best || strcmp(c->name, best->name) < 0))
                best = c;
        }
        if (!best)
            break;
        printf("  %-10s %s\n", best->name, best->help);
        last = best->name;
    }
    return 0;
}
SHELL_COMMAND("help", cmd_help, "[COMMAND]", "list the commands, or show one command's usage");

static void kib(const char *label, uint64_t bytes)
{
    printf("  %-28s %8llu KiB\n", label, (unsigned long long)(bytes >> 10));
}

static int cmd_mem(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    struct pmm_stats ps;
    struct paging_stats pg;
    pmm_get_stats(&ps);
    paging_get_stats(&pg);
    static const char *const kinds[] = { "usable", "boot services", "kernel/loader", "ACPI",
                                         "firmware", "MMIO" };
    uint64_t by_kind[6] = { 0 };
    for (size_t i = 0; i < boot_info->map_count; i++)
        if (boot_info->map[i].kind < 6)
            by_kind[boot_info->map[i].kind] += boot_info->map[i].pages * PAGE_SIZE;
    printf("memory map (%zu regions, highest usable address %#llx):\n", boot_info->map_count,
           (unsigned long long)ps.highest_addr);
    for (int k = 0; k < 6; k++)
        if (by_kind[k])
            kib(kinds[k], by_kind[k]);
    printf("pages: %llu total, %llu free, %llu used (4 KiB each)\n",
           (unsigned long long)ps.total_pages, (unsigned long long)ps.free_pages,
           (unsigned long long)(ps.total_pages - ps.free_pages));
    printf("kernel:\n");
    kib("image (BOOTX64.EFI loaded)", boot_info->image_size);
    kib("  text", pg.text_end - pg.text_start);
    kib("  read-only data", pg.rodata_end - pg.text_end);
    kib("  data, bss, relocations", pg.image_end - pg.rodata_end);
    kib("stack (+ guard page)", (BOOT_STACK_PAGES + 1) * PAGE_SIZE);
    kib("page tables", pg.table_pages * PAGE_SIZE);
    kib("page bitmap", ps.bitmap_bytes);
    kib("allocated pages", (ps.total_pages - ps.free_pages) * PAGE_SIZE);
    printf("total in use by the OS: %llu KiB\n", (unsigned long long)(kernel_memory_in_use() >> 10));
    return 0;
}
SHELL_COMMAND("mem", cmd_mem, "", "memory map summary, free/used pages, kernel footprint");

static int cmd_log(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    log_dump();
    return 0;
}
SHELL_COMMAND("log", cmd_log, "", "show the kernel log");

static int cmd_uptime(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    uint64_t ns = clock_mono_ns();
    uint64_t s = ns / 1000000000u;
    printf("up %llu.%03llu s (%llu:%02llu:%02llu), %llu timer ticks\n", (unsigned long long)s,
           (unsigned long long)(ns / 1000000 % 1000), (unsigned long long)(s / 3600),
           (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60),
           (unsigned long long)timer_ticks);
    return 0;
}
SHELL_COMMAND("uptime", cmd_uptime, "", "time since power-on");

static int cmd_clear(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    printf("\x1b[H\x1b[2J");
    return 0;
}
SHELL_COMMAND("clear", cmd_clear, "", "clear the terminal");

static int cmd_poweroff(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    power_off();
    return 1;
}
SHELL_COMMAND("poweroff", cmd_poweroff, "", "switch the machine off (ACPI S5)");

static int cmd_reboot(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    power_reboot();
    return 1;
}
SHELL_COMMAND("reboot", cmd_reboot, "", "reset the machine");

static int cmd_version(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage(argv[0]);
    printf("VELOCITY-OS %s\n", velocity_version);
    uint64_t kernel = boot_tsc[PH_PROMPT] - boot_tsc[PH_ENTRY] - boot_info->tsc_bench;
    printf("boot-phase %-34s %8llu us\n", "firmware before efi_main",
           (unsigned long long)(clock_tsc_to_ns(boot_tsc[PH_ENTRY]) / 1000));
    for (int p = PH_EBS; p < PH_COUNT; p++) {
        uint64_t d = boot_tsc[p] - boot_tsc[p - 1] - (p == PH_EBS ? boot_info->tsc_bench : 0);
        printf("boot-phase %-34s %8llu us\n", boot_phase_names[p],
               (unsigned long long)(clock_tsc_to_ns(d) / 1000));
    }
    printf("boot-phase %-34s %8llu us\n", "kernel total (efi_main to prompt)",
           (unsigned long long)(clock_tsc_to_ns(kernel) / 1000));
    printf("image-base %#llx\n", (unsigned long long)boot_info->image_base);
    printf("image-size %llu bytes\n", (unsigned long long)boot_info->image_size);
    printf("os-memory %llu bytes\n", (unsigned long long)kernel_memory_in_use());
    return 0;
}
SHELL_COMMAND("version", cmd_version, "", "version, boot-time breakdown and footprint");
