/* kernel/panic.h: stop the machine on a broken invariant (never for bad input or a device
 * error: those are reported as errors). */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
#endif
