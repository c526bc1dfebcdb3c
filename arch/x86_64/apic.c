/* Local APIC, I/O APIC and legacy PIC; see apic.h.  Register offsets from the Intel SDM
 * vol. 3 ch. 11 and the 82093AA I/O APIC datasheet. */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "drivers/acpi/acpi.h"
#include "lib/clock.h"

enum lapic_reg {
    LAPIC_ID = 0x020,
    LAPIC_EOI = 0x0b0,
    LAPIC_SVR = 0x0f0,        /* spurious vector + software enable */
    LAPIC_LVT_TIMER = 0x320,
    LAPIC_LVT_LINT0 = 0x350,
    LAPIC_LVT_LINT1 = 0x360,
    LAPIC_TIMER_INIT = 0x380,
    LAPIC_TIMER_CUR = 0x390,
    LAPIC_TIMER_DIV = 0x3e0,
};
enum {
    SVR_ENABLE = 1 << 8,
    LVT_MASKED = 1 << 16,
    LVT_PERIODIC = 1 << 17,
    TIMER_DIV_16 = 0x3,
};
enum ioapic_reg { IOREGSEL = 0x00, IOWIN = 0x10, IOAPIC_VER = 0x01, IOAPIC_REDTBL = 0x10 };
enum { RED_MASKED = 1 << 16, RED_LEVEL = 1 << 15, RED_ACTIVE_LOW = 1 << 13 };
enum pic_port { PIC1_CMD = 0x20, PIC1_DATA = 0x21, PIC2_CMD = 0xa0, PIC2_DATA = 0xa1 };

static uintptr_t lapic, ioapic;
static uint32_t ioapic_base_gsi;

static uint32_t lapic_read(unsigned reg) { return mmio_read32(lapic + reg); }
static void lapic_write(unsigned reg, uint32_t v) { mmio_write32(lapic + reg, v); }

static void ioapic_write(uint8_t reg, uint32_t v)
{
    mmio_write32(ioapic + IOREGSEL, reg);
    mmio_write32(ioapic + IOWIN, v);
}
static uint32_t ioapic_read(uint8_t reg)
{
    mmio_write32(ioapic + IOREGSEL, reg);
    return mmio_read32(ioapic + IOWIN);
}

/* Remap the 8259s away from the exception vectors, then mask every line: a spurious PIC
 * interrupt then lands on a harmless vector instead of looking like a CPU exception. */
static void pic_disable(void)
{
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 0xf0); /* vectors 0xf0..0xf7 */
    outb(PIC2_DATA, 0xf8); /* vectors 0xf8..0xff */
    outb(PIC1_DATA, 4);
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, 1);
    outb(PIC2_DATA, 1);
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

void apic_init(uint64_t lapic_addr, uint64_t ioapic_addr, uint32_t gsi_base)
{
    pic_disable();
    lapic = (uintptr_t)paging_map_mmio(lapic_addr, 4096);
    ioapic = (uintptr_t)paging_map_mmio(ioapic_addr, 4096);
    ioapic_base_gsi = gsi_base;
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11)); /* global enable */
    lapic_write(LAPIC_SVR, SVR_ENABLE | 0xff);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    /* Mask every I/O APIC input until a driver routes it. */
    unsigned entries = ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
    for (unsigned i = 0; i < entries; i++) {
        ioapic_write((uint8_t)(IOAPIC_REDTBL + 2 * i), RED_MASKED);
        ioapic_write((uint8_t)(IOAPIC_REDTBL + 2 * i + 1), 0);
    }
}

void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

void lapic_timer_start(unsigned hz, unsigned vector)
{
    /* Count the APIC timer's ticks over 2 ms of calibrated TSC time. */
    lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
    uint64_t t0 = clock_mono_ns();
    while (clock_mono_ns() - t0 < 2000000)
        cpu_relax();
    uint32_t elapsed = 0xffffffff - lapic_read(LAPIC_TIMER_CUR);
    uint32_t per_tick = (uint32_t)((uint64_t)elapsed * 500 / hz);
    if (per_tick == 0)
        per_tick = 1;
    lapic_write(LAPIC_LVT_TIMER, vector | LVT_PERIODIC);
    lapic_write(LAPIC_TIMER_INIT, per_tick);
}

void ioapic_route_isa_irq(uint8_t irq, unsigned vector)
{
    uint16_t flags;
    uint32_t gsi = acpi_isa_irq_to_gsi(irq, &flags);
    uint32_t pin = gsi - ioapic_base_gsi;
    uint32_t lo = vector;
    /* MPS INTI flags: polarity bits 0-1 (3 = active low), trigger bits 2-3 (3 = level). */
    if ((flags & 3) == 3) lo |= RED_ACTIVE_LOW;
    if (((flags >> 2) & 3) == 3) lo |= RED_LEVEL;
    ioapic_write((uint8_t)(IOAPIC_REDTBL + 2 * pin + 1), lapic_id() << 24);
    ioapic_write((uint8_t)(IOAPIC_REDTBL + 2 * pin), lo);
}

void apic_msi_message(unsigned vector, uint64_t *addr, uint32_t *data)
{
    *addr = 0xfee00000u | (lapic_id() << 12);
    *data = vector; /* fixed delivery, edge */
}
