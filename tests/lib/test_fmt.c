/* lib/fmt against the host libc's snprintf, which is the reference for every case. */
#include <stdint.h>
#include "lib/fmt.h"
#include "tests/check.h"

struct buf { char s[256]; size_t n; };

static void sink(void *ctx, const char *s, size_t n)
{
    struct buf *b = ctx;
    for (size_t i = 0; i < n && b->n + 1 < sizeof b->s; i++)
        b->s[b->n++] = s[i];
    b->s[b->n] = 0;
}

static const char *ours(const char *fmt, ...)
{
    static struct buf b;
    b.n = 0;
    b.s[0] = 0;
    va_list ap;
    va_start(ap, fmt);
    fmt_format(sink, &b, fmt, ap);
    va_end(ap);
    return b.s;
}

#define SAME(fmt, ...)                                                   \
    do {                                                                 \
        char ref[256];                                                   \
        snprintf(ref, sizeof ref, fmt, __VA_ARGS__);                     \
        CHECK_STR(ours(fmt, __VA_ARGS__), ref, "fmt \"%s\"", fmt);       \
    } while (0)

int main(void)
{
    SAME("%d", 0);
    SAME("%d|%i", -123, 456);
    SAME("%5d|%-5d|%05d", 42, 42, 42);
    SAME("%u", 4000000000u);
    SAME("%x %X %#x %#X", 0xbeefu, 0xbeefu, 0xbeefu, 0u);
    SAME("%08lx", 0xdeadUL);
    SAME("%llu %lld", 18446744073709551615ULL, -9223372036854775807LL - 1);
    SAME("%zu %zd", (size_t)12345, (ptrdiff_t)-5);
    SAME("%s|%10s|%-10s|%.3s", "abc", "right", "left", "truncate");
    SAME("%c%c%3c", 'a', 'b', 'c');
    SAME("%.5d|%8.3d|%+d|% d", 42, 7, 5, 5);
    SAME("%o %#o", 8u, 8u);
    SAME("%hhu %hd", (unsigned char)300, (short)-7000);
    SAME("%*d|%-*d|%.*s", 6, 1, 6, 2, 2, "xyz");
    SAME("%p", (void *)0x1234);
    SAME("100%% %s", "done");
    return check_exit_status();
}
