/* arch/x86_64/idt.c: the interrupt descriptor table and dispatch.  Every vector has a stub
 * (entry.S); CPU exceptions go to kernel/trap.c, device vectors to registered handlers. */
#include <stdint.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/apic.h"
#include "kernel/trap_report.h"

extern char isr_stubs[];
extern uint16_t gdt_code_selector(void);

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_entry) == 16, "IDT entries are 16 bytes");

enum { GATE_INTERRUPT = 0x8e }; /* present, DPL 0, 64-bit interrupt gate (clears IF) */

static struct idt_entry idt[256];
static struct {
    irq_handler fn;
    void *ctx;
} handlers[256];
static unsigned next_msi_vector = VEC_MSI_BASE;
volatile unsigned irq_nesting; /* > 0 while a device interrupt handler runs */

static void set_gate(int v, uint64_t addr, int ist)
{
    idt[v] = (struct idt_entry){
        .off_lo = addr & 0xffff, .sel = gdt_code_selector(), .ist = (uint8_t)ist,
        .type = GATE_INTERRUPT, .off_mid = (addr >> 16) & 0xffff, .off_hi = addr >> 32,
    };
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        int ist = 0;
        if (v == 8) ist = IST_DOUBLE_FAULT;
        else if (v == 2) ist = IST_NMI;
        else if (v == 14) ist = IST_PAGE_FAULT;
        else if (v == 18) ist = IST_MACHINE_CHECK;
        set_gate(v, (uint64_t)(uintptr_t)(isr_stubs + 16 * v), ist);
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

void irq_register(unsigned vector, irq_handler fn, void *ctx)
{
    handlers[vector & 255].ctx = ctx;
    handlers[vector & 255].fn = fn;
}

unsigned irq_alloc_vector(void)
{
    uint64_t f = irq_save();
    unsigned v = next_msi_vector < VEC_SPURIOUS ? next_msi_vector++ : 0;
    irq_restore(f);
    return v;
}

void trap_dispatch(struct trap_frame *tf)
{
    if (tf->vector < 32) {
        trap_exception(tf);
        return;
    }
    if (tf->vector == VEC_SPURIOUS)
        return; /* spurious: no EOI by definition */
    irq_nesting++;
    if (handlers[tf->vector].fn)
        handlers[tf->vector].fn(tf, handlers[tf->vector].ctx);
    irq_nesting--;
    lapic_eoi();
}
