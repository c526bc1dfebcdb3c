/* kernel/clock.h: the kernel's clocks.  The TSC (invariant under QEMU and on every modern
 * CPU) is the monotonic clock, calibrated once against the HPET or the ACPI PM timer. */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H
#include <stdint.h>
#include "lib/clock.h"

/* Calibrate; returns the reference used ("HPET", "PM timer") or NULL on failure. */
const char *clock_init(void);
uint64_t clock_tsc_hz(void);
uint64_t clock_tsc_to_ns(uint64_t tsc_delta);
extern volatile uint64_t timer_ticks;   /* incremented by the timer interrupt */
#define TIMER_HZ 100

/* Functions the timer interrupt calls on every tick (e.g. the VM's deadline check), with
 * the interrupted context's frame: a hook may redirect tf->rip (the VM's preemption). */
struct trap_frame;
typedef void (*tick_fn)(struct trap_frame *tf);
int clock_add_tick_hook(tick_fn fn);
void clock_start_tick(void);

#endif
