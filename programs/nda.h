/* programs/nda.h: the system interface of NDA programs (the VM's helpers, vm/helpers.c).
 *
 * Built for the VM (clang -target bpf, __bpf__ defined) each helper is a call to a fixed
 * helper id; built natively (for differential tests and benchmarks) the same names are
 * ordinary functions in programs/native/nda_native.c.  Programs define `int main(void)`;
 * its return value is the exit value.  At most 5 arguments per function, 512 bytes of
 * locals per function, no C library: that is the BPF target's model. */
#ifndef NDA_H
#define NDA_H

typedef unsigned long nda_u64;
typedef long nda_i64;

#ifdef __bpf__
#define NDA_HELPER(id, ret, name, ...) static ret (*const name)(__VA_ARGS__) = (void *)id
#else
#define NDA_HELPER(id, ret, name, ...) ret name(__VA_ARGS__)
#define main nda_main
#endif

NDA_HELPER(1, long, nda_exit, long value);                              /* stop now */
NDA_HELPER(2, long, nda_print, const char *s, unsigned long len);       /* len 0: to NUL */
NDA_HELPER(3, long, nda_print_int, long v);
NDA_HELPER(4, long, nda_print_char, long c);
NDA_HELPER(5, long, nda_unwind, long v);                                /* stops if v == 0 */
NDA_HELPER(6, long, nda_argc, void);
NDA_HELPER(7, long, nda_arg, long i, char *buf, unsigned long len);     /* -1: no such arg */
NDA_HELPER(8, unsigned long, nda_time_ns, void);
NDA_HELPER(9, long, nda_read_file, const char *path, void *buf, unsigned long len);
NDA_HELPER(10, long, nda_read_file_at, const char *path, unsigned long off, void *buf,
           unsigned long len);
NDA_HELPER(11, long, nda_write_file, const char *path, const void *buf, unsigned long len);
NDA_HELPER(12, long, nda_append_file, const char *path, const void *buf, unsigned long len);
NDA_HELPER(13, long, nda_list_dir, const char *path, char *buf, unsigned long len);
NDA_HELPER(14, void *, nda_alloc, unsigned long size);                  /* 0 when full */
NDA_HELPER(15, long, nda_print_hex, unsigned long v);
NDA_HELPER(16, long, nda_print_uint, unsigned long v);

#define nda_puts(s) nda_print((s), 0)

/* Small integer parser for arguments (no libc). */
static inline long nda_atol(const char *s)
{
    long v = 0, neg = 0;
    if (*s == '-')
        neg = 1, s++;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return neg ? -v : v;
}

/* Argument i as a number, or def when absent. */
static inline long nda_arg_long(long i, long def)
{
    char buf[32];
    if (nda_arg(i, buf, sizeof buf) < 0)
        return def;
    return nda_atol(buf);
}

#endif
