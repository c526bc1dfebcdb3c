/* Kernel snprintf/vsnprintf on top of lib/fmt (host builds use libc's). */
#include <stdio.h>
#include "lib/fmt.h"

struct bufsink {
    char *buf;
    size_t size, used;
};

static void to_buf(void *ctx, const char *s, size_t n)
{
    struct bufsink *b = ctx;
    for (size_t i = 0; i < n; i++, b->used++)
        if (b->used + 1 < b->size)
            b->buf[b->used] = s[i];
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
    struct bufsink b = { buf, size, 0 };
    int n = fmt_format(to_buf, &b, fmt, ap);
    if (size)
        buf[b.used < size ? b.used : size - 1] = 0;
    return n;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
