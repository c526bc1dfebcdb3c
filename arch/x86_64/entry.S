/* arch/x86_64/entry.S: the assembly the kernel cannot do without.
 *   arch_switch_stack  leave the firmware's stack for ours
 *   isr_stubs          one 16-byte stub per interrupt vector, all entering trap_common
 *   arch_setjmp/arch_longjmp  save/restore callee-saved state; used ONLY to get back to
 *                      the shell after a CPU exception in a command (kernel/trap.c) */

    .text
    .code64

/* void arch_switch_stack(uint64_t top, void (*fn)(void *), void *arg) */
    .globl arch_switch_stack
arch_switch_stack:
    mov %rdi, %rsp
    mov %rdx, %rdi
    xor %ebp, %ebp          /* end of the frame-pointer chain for backtraces */
    call *%rsi
1:  cli
    hlt
    jmp 1b

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .p2align 4
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .p2align 4
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    jmp trap_common
    .set vec, vec + 1
    .endr

/* Frame layout must match struct trap_frame in arch/x86_64/trap.h. */
trap_common:
    cld
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    /* Make the interrupted RIP/RBP look like a call frame so backtraces cross the trap. */
    mov 8*17(%rsp), %rax    /* rip */
    push %rax
    push %rbp
    mov %rsp, %rbp
    call trap_dispatch
    add $16, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp           /* vector, error code */
    iretq

/* int arch_setjmp(struct arch_jmp *j): returns 0 now, 1 when arch_longjmp lands here. */
    .globl arch_setjmp
arch_setjmp:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rax       /* caller's rsp after our return */
    mov %rax, 48(%rdi)
    mov (%rsp), %rax        /* return address */
    mov %rax, 56(%rdi)
    xor %eax, %eax
    ret

/* void arch_longjmp(struct arch_jmp *j): called from a trap handler (interrupts off) on
 * its own stack; abandons that stack, enables interrupts and resumes at the setjmp. */
    .globl arch_longjmp
arch_longjmp:
    mov 0(%rdi), %rbx
    mov 8(%rdi), %rbp
    mov 16(%rdi), %r12
    mov 24(%rdi), %r13
    mov 32(%rdi), %r14
    mov 40(%rdi), %r15
    mov 48(%rdi), %rsp
    mov $1, %eax
    sti
    jmp *56(%rdi)

/* void arch_load_gdt(void *gdtr, uint16_t code_sel, uint16_t data_sel, uint16_t tss_sel) */
    .globl arch_load_gdt
arch_load_gdt:
    lgdt (%rdi)
    mov %dx, %ds
    mov %dx, %es
    mov %dx, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    ltr %cx
    /* Reload CS with a far return. */
    pop %rax
    push %rsi
    push %rax
    lretq

    .section .note.GNU-stack, "", @progbits
