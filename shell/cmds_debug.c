/* Debug commands that prove the fault handling and the logging design:
 *   crash KIND   trigger a CPU exception on purpose (the report appears, the shell goes on)
 *   logtest [N]  log from the timer interrupt and from an exception handler while the
 *                shell prints N lines, then check that every message arrived whole */
#include <string.h>
#include "arch/x86_64/cpu.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/trap_report.h"
#include "shell/shell.h"

static volatile int sink_int;

/* Unbounded on purpose (stops at the guard page); the volatile flag hides that from gcc. */
static volatile int keep_recursing = 1;

static int recurse(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (!keep_recursing)
        return pad[0];
    return recurse(depth + 1) + pad[0];
}

/* `crash irq`: a null dereference inside the timer interrupt handler, i.e. in the kernel
 * proper, which must stop the machine with the report (no silent hang, no reboot). */
static volatile int fault_in_irq;

static void tick_fault(struct trap_frame *tf)
{
    (void)tf;
    if (fault_in_irq)
        sink_int = *(volatile int *)(uintptr_t)(fault_in_irq - 1);
}

static int cmd_crash(int argc, char **argv)
{
    if (argc != 2)
        return shell_usage(argv[0]);
    const char *k = argv[1];
    if (!strcmp(k, "null")) {
        sink_int = *(volatile int *)(uintptr_t)sink_int; /* address 0 */
    } else if (!strcmp(k, "ud")) {
        __asm__ volatile("ud2");
    } else if (!strcmp(k, "div")) {
        unsigned zero = (unsigned)sink_int, q;
        __asm__ volatile("xor %%edx, %%edx; divl %1" : "=a"(q) : "r"(zero), "a"(1u) : "rdx");
        sink_int = (int)q;
    } else if (!strcmp(k, "stack")) {
        sink_int = recurse(0);
    } else if (!strcmp(k, "gp")) {
        sink_int = *(volatile int *)(uintptr_t)0x8000000000000000ull; /* non-canonical */
    } else if (!strcmp(k, "wrtext")) {
        *(volatile uint8_t *)(uintptr_t)cmd_crash = 0xc3; /* kernel text is read-only */
    } else if (!strcmp(k, "irq")) {
        if (clock_add_tick_hook(tick_fault)) {
            printf("crash: no free timer hook\n");
            return 1;
        }
        fault_in_irq = 1;
        for (int i = 0; i < 100; i++)
            cpu_halt(); /* the next tick faults */
    } else if (!strcmp(k, "nx")) {
        static uint8_t data_ret = 0xc3;
        ((void (*)(void))(uintptr_t)&data_ret)(); /* data is never executable */
    } else {
        printf("crash: unknown kind '%s' (null, ud, div, stack, gp, wrtext, nx, irq)\n", k);
        return 2;
    }
    printf("crash: %s did not fault\n", k);
    return 1;
}
SHELL_COMMAND("crash", cmd_crash, "null|ud|div|stack|gp|wrtext|nx|irq",
              "trigger a CPU exception on purpose (irq: in the kernel proper, halts)");

static volatile unsigned irq_logs, exc_logs;

static void tick_logger(void)
{
    if (irq_logs < 1000000)
        klog("logtest: interrupt message %u\n", ++irq_logs);
}

static void bp_logger(struct trap_frame *tf)
{
    (void)tf;
    klog("logtest: exception message %u\n", ++exc_logs);
}

static int tick_hook_added;
static volatile int tick_active;

static void tick_dispatch(struct trap_frame *tf)
{
    (void)tf;
    if (tick_active)
        tick_logger();
}

static int cmd_logtest(int argc, char **argv)
{
    unsigned n = 2000;
    if (argc > 2)
        return shell_usage(argv[0]);
    if (argc == 2) {
        n = 0;
        for (const char *p = argv[1]; *p; p++) {
            if (*p < '0' || *p > '9' || n > 1000000)
                return shell_usage(argv[0]);
            n = n * 10 + (unsigned)(*p - '0');
        }
    }
    if (!tick_hook_added) {
        if (clock_add_tick_hook(tick_dispatch)) {
            printf("logtest: no free timer hook\n");
            return 1;
        }
        tick_hook_added = 1;
    }
    irq_logs = exc_logs = 0;
    trap_breakpoint_hook = bp_logger;
    tick_active = 1;
    uint64_t t0 = clock_mono_ns();
    for (unsigned i = 1; i <= n; i++) {
        printf("logtest: shell line %u of %u\n", i, n);
        if (i % 50 == 0)
            __asm__ volatile("int3");
    }
    /* Keep going until the timer has fired a few times, however fast the printing was. */
    while (irq_logs < 5 && clock_mono_ns() - t0 < 2000000000ull)
        cpu_halt();
    tick_active = 0;
    trap_breakpoint_hook = NULL;
    printf("logtest: done: %u shell lines, %u interrupt messages, %u exception messages\n", n,
           irq_logs, exc_logs);
    return 0;
}
SHELL_COMMAND("logtest", cmd_logtest, "[LINES]",
              "log from interrupt and exception handlers while printing (console test)");
