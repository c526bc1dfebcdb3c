/* drivers/acpi/acpi.h: the ACPI tables the kernel needs, read once at boot from the RSDP the
 * firmware stage saved: FADT (power-off, reset, PM timer), DSDT's \_S5 package, MADT
 * (I/O APICs, interrupt overrides, CPUs), HPET and MCFG (PCIe ECAM).  Checksums verified. */
#ifndef DRIVERS_ACPI_H
#define DRIVERS_ACPI_H
#include <stdbool.h>
#include <stdint.h>

/* ACPI Generic Address Structure, decoded. */
struct acpi_gas {
    uint8_t space;     /* 0 = system memory, 1 = system I/O */
    uint8_t width;     /* bits */
    uint64_t addr;
};

#define ACPI_MAX_MCFG 8
#define ACPI_MAX_OVERRIDES 16

struct acpi_info {
    bool present;
    char oem[7];
    uint8_t revision;
    /* FADT */
    uint32_t pm1a_cnt, pm1b_cnt;   /* I/O ports (0 if absent) */
    uint32_t pm_tmr;               /* I/O port of the 3.579545 MHz PM timer, 0 if absent */
    bool pm_tmr_32bit;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    bool reset_supported;
    bool s5_valid;
    uint8_t s5_typa, s5_typb;      /* SLP_TYP values from \_S5 */
    /* MADT */
    uint64_t lapic_addr;
    uint64_t ioapic_addr;
    uint32_t ioapic_gsi_base;
    unsigned cpus;
    struct { uint8_t irq; uint32_t gsi; uint16_t flags; } overrides[ACPI_MAX_OVERRIDES];
    unsigned override_count;
    /* HPET */
    uint64_t hpet_addr;
    /* MCFG: one entry per PCI segment group / bus range */
    struct { uint64_t base; uint16_t segment; uint8_t bus_start, bus_end; } mcfg[ACPI_MAX_MCFG];
    unsigned mcfg_count;
    uint64_t rsdp;
};

extern struct acpi_info acpi;

/* Parse the tables; returns 0 or a negative value when there is no usable RSDP. */
int acpi_init(uint64_t rsdp);
/* Find a table by signature (e.g. "FACP"); returns its address or 0. */
const uint8_t *acpi_find_table(const char sig[4]);
/* Global system interrupt for an ISA IRQ, and its polarity/trigger flags (MADT). */
uint32_t acpi_isa_irq_to_gsi(uint8_t irq, uint16_t *flags);

#endif
