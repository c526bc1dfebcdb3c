/* programs/native/nda_native.c: nda.h's helpers as ordinary host functions, so every
 * program in programs/ also builds natively (clang -O2) for the differential tests and the
 * benchmark baseline.  Semantics follow vm/helpers.c; the heap window has the VM's default
 * size so allocation failures match. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nda.h"

#undef main
int nda_main(void);

static int g_argc;
static char **g_argv;
static _Alignas(16) unsigned char heap[1 << 20];
static unsigned long heap_used;

long nda_exit(long v) { fflush(stdout); exit((int)(v & 0xff)); }
long nda_print(const char *s, unsigned long len)
{
    if (len == 0)
        len = strlen(s);
    fwrite(s, 1, len, stdout);
    return (long)len;
}
long nda_print_int(long v) { printf("%ld", v); return 0; }
long nda_print_uint(unsigned long v) { printf("%lu", v); return 0; }
long nda_print_hex(unsigned long v) { printf("%lx", v); return 0; }
long nda_print_char(long c) { putchar((int)(char)c); return 0; }
long nda_unwind(long v) { if (v == 0) exit(0); return v; }
long nda_argc(void) { return g_argc; }
long nda_arg(long i, char *buf, unsigned long len)
{
    if (i < 0 || i >= g_argc)
        return -1;
    size_t n = strlen(g_argv[i]);
    if (len) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(buf, g_argv[i], k);
        buf[k] = 0;
    }
    return (long)n;
}
unsigned long nda_time_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long)ts.tv_sec * 1000000000ul + (unsigned long)ts.tv_nsec;
}
long nda_read_file_at(const char *path, unsigned long off, void *buf, unsigned long len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    if (fseek(f, (long)off, SEEK_SET)) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, len, f);
    fclose(f);
    return (long)n;
}
long nda_read_file(const char *path, void *buf, unsigned long len)
{
    return nda_read_file_at(path, 0, buf, len);
}
static long wr(const char *path, const void *buf, unsigned long len, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f)
        return -1;
    size_t n = fwrite(buf, 1, len, f);
    fclose(f);
    return n == len ? (long)n : -1;
}
long nda_write_file(const char *p, const void *b, unsigned long n) { return wr(p, b, n, "wb"); }
long nda_append_file(const char *p, const void *b, unsigned long n) { return wr(p, b, n, "ab"); }
long nda_list_dir(const char *path, char *buf, unsigned long len)
{
    (void)path; (void)buf; (void)len;
    return -1; /* not needed by the differential programs */
}
void *nda_alloc(unsigned long size)
{
    unsigned long at = (heap_used + 15) & ~15ul;
    if (size > sizeof heap || at > sizeof heap - size)
        return 0;
    heap_used = at + size;
    return heap + at;
}

int main(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
    int r = nda_main();
    fflush(stdout);
    return r & 0xff;
}
