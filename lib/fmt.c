/* printf-style formatter; see fmt.h.  Integers are converted right-to-left into a small
 * stack buffer, then padded; every piece goes to the sink, nothing is buffered here. */
#include "lib/fmt.h"
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

struct spec {
    bool left, zero, plus, space, alt;
    int width, prec; /* prec < 0: none */
};

static void pad(fmt_sink sink, void *ctx, char c, int n, int *count)
{
    char buf[16];
    memset(buf, c, sizeof buf);
    while (n > 0) {
        int k = n > 16 ? 16 : n;
        sink(ctx, buf, (size_t)k);
        *count += k;
        n -= k;
    }
}

static void emit(fmt_sink sink, void *ctx, const char *s, size_t n, int *count)
{
    if (n) {
        sink(ctx, s, n);
        *count += (int)n;
    }
}

static void put_number(fmt_sink sink, void *ctx, uintmax_t v, bool neg, unsigned base,
                       bool upper, const struct spec *sp, int *count)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[32];
    int n = 0;
    while (v) {
        buf[sizeof buf - 1 - n++] = digits[v % base];
        v /= base;
    }
    int ndigits = n;
    int prec = sp->prec < 0 ? 1 : sp->prec;
    int zeros = prec > ndigits ? prec - ndigits : 0;
    const char *prefix = "";
    if (neg)
        prefix = "-";
    else if (sp->plus && base == 10)
        prefix = "+";
    else if (sp->space && base == 10)
        prefix = " ";
    else if (sp->alt && base == 16 && ndigits)
        prefix = upper ? "0X" : "0x";
    else if (sp->alt && base == 8 && zeros == 0)
        zeros = 1;
    int plen = (int)strlen(prefix);
    int total = plen + zeros + ndigits;
    int fill = sp->width > total ? sp->width - total : 0;
    if (sp->zero && !sp->left && sp->prec < 0) {
        zeros += fill;
        fill = 0;
    }
    if (!sp->left)
        pad(sink, ctx, ' ', fill, count);
    emit(sink, ctx, prefix, (size_t)plen, count);
    pad(sink, ctx, '0', zeros, count);
    emit(sink, ctx, buf + sizeof buf - ndigits, (size_t)ndigits, count);
    if (sp->left)
        pad(sink, ctx, ' ', fill, count);
}

int fmt_format(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
    int count = 0;
    while (*fmt) {
        const char *start = fmt;
        while (*fmt && *fmt != '%')
            fmt++;
        emit(sink, ctx, start, (size_t)(fmt - start), &count);
        if (!*fmt)
            break;
        fmt++; /* '%' */
        struct spec sp = { .prec = -1 };
        for (;; fmt++) {
            if (*fmt == '-') sp.left = true;
            else if (*fmt == '0') sp.zero = true;
            else if (*fmt == '+') sp.plus = true;
            else if (*fmt == ' ') sp.space = true;
            else if (*fmt == '#') sp.alt = true;
            else break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            sp.prec = 0;
            if (*fmt == '*') {
                sp.prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.prec = sp.prec * 10 + (*fmt++ - '0');
            }
        }
        int len = 0; /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size/intmax/ptrdiff */
        for (;; fmt++) {
            if (*fmt == 'l') len = len == 1 ? 2 : 1;
            else if (*fmt == 'h') len = len == -1 ? -2 : -1;
            else if (*fmt == 'z' || *fmt == 'j' || *fmt == 't') len = 3;
            else break;
        }
        char c = *fmt;
        if (!c)
            break;
        fmt++;
        switch (c) {
        case 'd':
        case 'i': {
            intmax_t v;
            if (len == 2) v = va_arg(ap, long long);
            else if (len == 1 || len == 3) v = va_arg(ap, long);
            else v = va_arg(ap, int);
            if (len == -1) v = (short)v;
            if (len == -2) v = (signed char)v;
            uintmax_t u = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
            put_number(sink, ctx, u, v < 0, 10, false, &sp, &count);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uintmax_t v;
            if (len == 2) v = va_arg(ap, unsigned long long);
            else if (len == 1 || len == 3) v = va_arg(ap, unsigned long);
            else v = va_arg(ap, unsigned int);
            if (len == -1) v = (unsigned short)v;
            if (len == -2) v = (unsigned char)v;
            unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
            put_number(sink, ctx, v, false, base, c == 'X', &sp, &count);
            break;
        }
        case 'p': {
            struct spec ps = { .alt = true, .prec = -1, .width = sp.width, .left = sp.left };
            put_number(sink, ctx, (uintptr_t)va_arg(ap, void *), false, 16, false, &ps, &count);
            break;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            if (!sp.left) pad(sink, ctx, ' ', sp.width - 1, &count);
            emit(sink, ctx, &ch, 1, &count);
            if (sp.left) pad(sink, ctx, ' ', sp.width - 1, &count);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t n = sp.prec >= 0 ? strnlen(s, (size_t)sp.prec) : strlen(s);
            int fill = sp.width > (int)n ? sp.width - (int)n : 0;
            if (!sp.left) pad(sink, ctx, ' ', fill, &count);
            emit(sink, ctx, s, n, &count);
            if (sp.left) pad(sink, ctx, ' ', fill, &count);
            break;
        }
        case '%':
            emit(sink, ctx, "%", 1, &count);
            break;
        default: /* unknown conversion: show it literally so the mistake is visible */
            emit(sink, ctx, fmt - 2, 2, &count);
            break;
        }
    }
    return count;
}
