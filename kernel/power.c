/* Power-off through ACPI S5 (SLP_TYP from the DSDT's \_S5, written with SLP_EN to the PM1
 * control registers, ACPI spec 7.4.2 and 4.8.3.2.1), reset through the FADT reset register,
 * then the keyboard controller, then a triple fault. */
#include "arch/x86_64/cpu.h"
#include "drivers/acpi/acpi.h"
#include "kernel/console.h"
#include "kernel/power.h"
#include "lib/clock.h"

enum { PM1_SCI_EN = 1 << 0, PM1_SLP_EN = 1 << 13, PM1_SLP_TYP_SHIFT = 10 };
enum { KBC_STATUS = 0x64, KBC_RESET_CMD = 0xfe };

static void (*hooks[8])(void);
static unsigned nhooks;

void power_add_shutdown_hook(void (*fn)(void))
{
    if (nhooks < sizeof hooks / sizeof hooks[0])
        hooks[nhooks++] = fn;
}

static void run_hooks(void)
{
    for (unsigned i = nhooks; i-- > 0;)
        hooks[i]();
}

static void delay_ms(unsigned ms)
{
    uint64_t t0 = clock_mono_ns();
    while (clock_mono_ns() - t0 < (uint64_t)ms * 1000000)
        cpu_relax();
}

void power_off(void)
{
    if (!acpi.s5_valid || !acpi.pm1a_cnt) {
        printf("poweroff: the firmware's ACPI tables describe no S5 state\n");
        return;
    }
    run_hooks();
    irq_disable();
    /* If the firmware left the machine in legacy mode, switch ACPI on first. */
    if (!(inw((uint16_t)acpi.pm1a_cnt) & PM1_SCI_EN) && acpi.smi_cmd && acpi.acpi_enable) {
        outb((uint16_t)acpi.smi_cmd, acpi.acpi_enable);
        for (int i = 0; i < 300 && !(inw((uint16_t)acpi.pm1a_cnt) & PM1_SCI_EN); i++)
            delay_ms(10);
    }
    outw((uint16_t)acpi.pm1a_cnt, (uint16_t)(acpi.s5_typa << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
    if (acpi.pm1b_cnt)
        outw((uint16_t)acpi.pm1b_cnt, (uint16_t)(acpi.s5_typb << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
    delay_ms(500);
    irq_enable();
    printf("poweroff: the machine did not power off\n");
}

void power_reboot(void)
{
    run_hooks();
    irq_disable();
    if (acpi.reset_supported) {
        if (acpi.reset_reg.space == 1)
            outb((uint16_t)acpi.reset_reg.addr, acpi.reset_value);
        else if (acpi.reset_reg.space == 0)
            *(volatile uint8_t *)(uintptr_t)acpi.reset_reg.addr = acpi.reset_value;
        delay_ms(500);
    }
    for (int i = 0; i < 1000 && (inb(KBC_STATUS) & 2); i++)
        delay_ms(1);
    outb(KBC_STATUS, KBC_RESET_CMD);
    delay_ms(500);
    /* Last resort: an empty IDT makes the next exception a triple fault, i.e. a reset. */
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(none));
    cpu_stop();
}
