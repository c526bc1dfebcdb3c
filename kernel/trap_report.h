/* kernel/trap_report.h: what happens on a CPU exception (kernel/trap.c). */
#ifndef KERNEL_TRAP_REPORT_H
#define KERNEL_TRAP_REPORT_H
#include "arch/x86_64/trap.h"

/* Report the exception; then return to the shell prompt if it happened inside a shell
 * command (trap_guard_run), resume after a breakpoint, or stop the machine. */
void trap_exception(struct trap_frame *tf);

/* Run fn(arg) so that a CPU exception inside it is reported and ends only fn: returns
 * fn's result, or TRAP_FAULTED after a fault. */
#define TRAP_FAULTED (-1000)
int trap_guard_run(int (*fn)(void *), void *arg);

extern volatile unsigned irq_nesting;
/* Called on each breakpoint (#BP) before resuming; tests use it to log from a handler. */
extern void (*trap_breakpoint_hook)(struct trap_frame *tf);

#endif
