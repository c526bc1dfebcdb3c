/* Freestanding subset of <stdio.h> for the kernel: formatting into buffers only.
 * Kernel output goes through kprintf (kernel/console.h); portable code only formats. */
#ifndef VELOCITY_LIBC_STDIO_H
#define VELOCITY_LIBC_STDIO_H
#include <stdarg.h>
#include <stddef.h>
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
#endif
