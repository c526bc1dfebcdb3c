/* kernel/trap.c: CPU exception reports and recovery.
 *
 * Every exception prints its name, error code, RIP (with symbol), CR2 for page faults, all
 * general registers and a frame-pointer backtrace, to the log and the serial port directly
 * (no locks, no allocation, so it works from any context).  Then:
 *   - #BP resumes (it is a deliberate trap);
 *   - inside trap_guard_run() (the shell runs every command through it) and not inside an
 *     interrupt handler, the guarded function is abandoned and trap_guard_run returns
 *     TRAP_FAULTED: the command fails, the system goes on;
 *   - anywhere else the kernel proper is broken: the machine stops with the report.
 * The guard uses arch_setjmp/arch_longjmp; this is the only non-local exit in the kernel. */
#include <stddef.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "kernel/console.h"
#include "kernel/ksyms.h"
#include "kernel/trap_report.h"

static const char *const names[32] = {
    "divide error (#DE)", "debug (#DB)", "non-maskable interrupt (NMI)", "breakpoint (#BP)",
    "overflow (#OF)", "bound range exceeded (#BR)", "invalid opcode (#UD)",
    "device not available (#NM)", "double fault (#DF)", "coprocessor segment overrun",
    "invalid TSS (#TS)", "segment not present (#NP)", "stack-segment fault (#SS)",
    "general protection fault (#GP)", "page fault (#PF)", "reserved (15)",
    "x87 floating-point error (#MF)", "alignment check (#AC)", "machine check (#MC)",
    "SIMD floating-point error (#XM)", "virtualization exception (#VE)",
    "control protection (#CP)", "reserved (22)", "reserved (23)", "reserved (24)",
    "reserved (25)", "reserved (26)", "reserved (27)", "hypervisor injection (#HV)",
    "VMM communication (#VC)", "security exception (#SX)", "reserved (31)",
};

static struct arch_jmp *guard;        /* innermost active guard, NULL if none */
static volatile unsigned in_exception; /* nested exceptions: report once, then stop */
void (*trap_breakpoint_hook)(struct trap_frame *tf);

/* RET is true for a return address: it is looked up one byte earlier, as it points just
 * past the call, which is past the caller's end when the callee never returns. */
static void print_addr(const char *label, uint64_t addr, bool ret)
{
    uint64_t off;
    const char *sym = ksym_lookup(addr - ret, &off);
    off += ret;
    if (sym)
        kcrit("%s%016llx <%s+%#llx>\n", label, (unsigned long long)addr, sym, (unsigned long long)off);
    else
        kcrit("%s%016llx\n", label, (unsigned long long)addr);
}

/* Walk the frame-pointer chain.  Every frame is checked to be mapped before it is read,
 * so a corrupt chain ends the walk instead of faulting inside the fault handler.  Runs of
 * the same return address (deep recursion) are folded into one line. */
static void backtrace(uint64_t rbp)
{
    kcrit("backtrace:\n");
    uint64_t last = 0, repeats = 0;
    int printed = 0;
    for (int depth = 0; depth < 4096 && rbp; depth++) {
        if (rbp % 8 || !paging_is_mapped(rbp, 0) || !paging_is_mapped(rbp + 15, 0))
            break;
        uint64_t *frame = (uint64_t *)(uintptr_t)rbp;
        if (!frame[1])
            break;
        if (frame[1] == last) {
            repeats++;
        } else {
            if (repeats)
                kcrit("  ... the same %llu more time%s\n", (unsigned long long)repeats, repeats == 1 ? "" : "s");
            repeats = 0;
            if (++printed > 24) {
                kcrit("  ... (more frames)\n");
                return;
            }
            print_addr("  ", frame[1], true);
            last = frame[1];
        }
        if (frame[0] <= rbp)
            break; /* frames grow upward as we unwind; anything else is garbage */
        rbp = frame[0];
    }
    if (repeats)
        kcrit("  ... the same %llu more time%s\n", (unsigned long long)repeats, repeats == 1 ? "" : "s");
}

static void report(struct trap_frame *tf)
{
    const char *name = names[tf->vector & 31];
    kcrit("\n*** CPU exception: %s, error code %#llx\n", name, (unsigned long long)tf->error);
    print_addr("RIP ", tf->rip, false);
    if (tf->vector == 14) {
        uint64_t cr2 = read_cr2();
        kcrit("CR2 %016llx  (%s, %s access%s)\n", (unsigned long long)cr2,
              tf->error & 1 ? "protection violation" : "page not present",
              tf->error & 2 ? "write" : (tf->error & 16 ? "instruction fetch" : "read"),
              cr2 < 4096 ? ", null pointer dereference" : "");
        if ((cr2 & ~4095ull) == (tf->rsp & ~4095ull) || (cr2 < tf->rsp && tf->rsp - cr2 < 4096))
            kcrit("    the stack pointer is in the faulting page: stack overflow into a guard page\n");
    }
    kcrit("RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n", (unsigned long long)tf->rax,
          (unsigned long long)tf->rbx, (unsigned long long)tf->rcx, (unsigned long long)tf->rdx);
    kcrit("RSI %016llx RDI %016llx RBP %016llx RSP %016llx\n", (unsigned long long)tf->rsi,
          (unsigned long long)tf->rdi, (unsigned long long)tf->rbp, (unsigned long long)tf->rsp);
    kcrit("R8  %016llx R9  %016llx R10 %016llx R11 %016llx\n", (unsigned long long)tf->r8,
          (unsigned long long)tf->r9, (unsigned long long)tf->r10, (unsigned long long)tf->r11);
    kcrit("R12 %016llx R13 %016llx R14 %016llx R15 %016llx\n", (unsigned long long)tf->r12,
          (unsigned long long)tf->r13, (unsigned long long)tf->r14, (unsigned long long)tf->r15);
    kcrit("RFLAGS %08llx CS %04llx SS %04llx CR3 %016llx\n", (unsigned long long)tf->rflags,
          (unsigned long long)tf->cs, (unsigned long long)tf->ss, (unsigned long long)read_cr3());
    backtrace(tf->rbp);
}

void trap_exception(struct trap_frame *tf)
{
    if (tf->vector == 3) { /* breakpoint: deliberate, resume after the int3 */
        if (trap_breakpoint_hook)
            trap_breakpoint_hook(tf);
        return;
    }
    if (in_exception++) {
        kcrit("\n*** CPU exception %llu while handling an exception; stopping.\n",
              (unsigned long long)tf->vector);
        cpu_stop();
    }
    report(tf);
    if (guard && irq_nesting == 0 && tf->vector != 8 && tf->vector != 18) {
        struct arch_jmp *g = guard;
        kcrit("the command was stopped; the system goes on.\n");
        in_exception = 0;
        arch_longjmp(g);
    }
    kcrit("fault in the kernel proper: system halted.\n");
    cpu_stop();
}

int trap_guard_run(int (*fn)(void *), void *arg)
{
    struct arch_jmp here, *outer = guard;
    if (arch_setjmp(&here)) {
        guard = outer;
        return TRAP_FAULTED;
    }
    guard = &here;
    int r = fn(arg);
    guard = outer;
    return r;
}
