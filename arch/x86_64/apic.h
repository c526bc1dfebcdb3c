/* arch/x86_64/apic.h: local APIC (EOI, periodic timer), I/O APIC routing, legacy PIC off. */
#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H
#include <stdint.h>

void apic_init(uint64_t lapic_addr, uint64_t ioapic_addr, uint32_t ioapic_gsi_base);
void lapic_eoi(void);
uint32_t lapic_id(void);
/* Start the periodic timer at HZ on VECTOR; the TSC must be calibrated (clock_init). */
void lapic_timer_start(unsigned hz, unsigned vector);
/* Route an ISA IRQ (through the MADT overrides) to VECTOR on this CPU, unmasked. */
void ioapic_route_isa_irq(uint8_t irq, unsigned vector);
/* MSI address/data for VECTOR delivered to this CPU (PCI drivers program these). */
void apic_msi_message(unsigned vector, uint64_t *addr, uint32_t *data);

#endif
