/* lib/fmt: printf-style formatting into any sink.
 *
 * Interface: fmt_format(sink, ctx, fmt, ap) calls sink(ctx, s, n) for each piece of output.
 * Supports %d %i %u %x %X %o %c %s %p %% with flags '-', '0', ' ', '+', '#', width and
 * precision (including '*'), and length modifiers hh h l ll z j t.  No floating point:
 * the kernel has no FPU state.  Returns the number of characters produced.
 * No allocation, no global state: safe from interrupt and fault handlers. */
#ifndef LIB_FMT_H
#define LIB_FMT_H
#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink)(void *ctx, const char *s, size_t n);

int fmt_format(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

#endif
