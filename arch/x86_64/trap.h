/* arch/x86_64/trap.h: the saved state of an interrupted context and interrupt wiring. */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H
#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame layout is shared with entry.S");

/* Interrupt vectors we assign. */
enum {
    VEC_TIMER = 32,
    VEC_SERIAL = 36,
    VEC_MSI_BASE = 48,    /* MSI/MSI-X vectors handed out by irq_alloc_vector() */
    VEC_SPURIOUS = 255,
};

/* IST slots in the TSS: each gets its own stack, so these exceptions are reported even
 * when the faulting stack is unusable (a stack overflow into a guard page). */
enum { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_PAGE_FAULT = 3, IST_MACHINE_CHECK = 4 };

typedef void (*irq_handler)(struct trap_frame *tf, void *ctx);

void gdt_init(void);
void idt_init(void);
void irq_register(unsigned vector, irq_handler fn, void *ctx);
/* A free vector for an MSI/MSI-X interrupt, or 0 when none is left. */
unsigned irq_alloc_vector(void);

/* Fault-recovery context (see entry.S). */
struct arch_jmp {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
int arch_setjmp(struct arch_jmp *j) __attribute__((returns_twice));
__attribute__((noreturn)) void arch_longjmp(struct arch_jmp *j);

#endif
