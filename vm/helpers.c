/* vm/helpers.c: the standard helper table - the system calls of NDA programs.
 *
 * Interface: vm_std_helpers[] / vm_std_helper_count (vm.h); the ids and C prototypes are in
 * programs/nda.h, the names are what .nda import tables refer to.  Every helper validates
 * each pointer it gets from the program with vm_check_range/vm_check_string before use and
 * reaches the outside world only through the embedder's vm_env callbacks, so the same
 * helpers run under the host tool and in the kernel.  A bad pointer stops the program
 * (VM_E_HELPER); a missing service or a failed file operation returns a negative value.
 */
#include <stdio.h>
#include <string.h>
#include "lib/clock.h"
#include "vm/vm_internal.h"

#define PATH_MAX_LEN 256
#define PRINT_MAX (1u << 20)

/* Helper ids: keep in sync with programs/nda.h. */
enum {
    H_EXIT = 1, H_PRINT = 2, H_PRINT_INT = 3, H_PRINT_CHAR = 4, H_UNWIND = 5,
    H_ARGC = 6, H_ARG = 7, H_TIME_NS = 8, H_READ_FILE = 9, H_READ_FILE_AT = 10,
    H_WRITE_FILE = 11, H_APPEND_FILE = 12, H_LIST_DIR = 13, H_ALLOC = 14, H_PRINT_HEX = 15,
    H_PRINT_UINT = 16,
};

static void out(vm_state *st, const char *s, size_t n)
{
    const vm_env *e = st->env;
    if (e && e->print)
        e->print(e->ctx, s, n);
}

static uint64_t bad_arg(vm_state *st, const char *helper, const char *what)
{
    char why[80];
    snprintf(why, sizeof why, "%s: %s outside the program's memory", helper, what);
    vm_halt_error(st, VM_E_HELPER, why);
    return (uint64_t)-1;
}

static uint64_t h_exit(uint64_t v, uint64_t b, uint64_t c, uint64_t d, uint64_t e, vm_state *st)
{
    (void)b; (void)c; (void)d; (void)e;
    vm_halt_exit(st, v);
    return v;
}

/* print(s, len): len bytes of s; len 0 means up to the NUL. */
static uint64_t h_print(uint64_t s, uint64_t len, uint64_t c, uint64_t d, uint64_t e,
                        vm_state *st)
{
    (void)c; (void)d; (void)e;
    if (len == 0) {
        const char *p = vm_check_string(st, s, PRINT_MAX);
        if (!p)
            return bad_arg(st, "print", "string");
        len = strlen(p);
    } else if (len > PRINT_MAX || !vm_check_range(st, s, len, VM_READ)) {
        return bad_arg(st, "print", "buffer");
    }
    out(st, (const char *)(uintptr_t)s, len);
    return len;
}

/* Print V with a printf conversion FMT ("%lld", "%llu" or "%llx"). */
static uint64_t print_number(vm_state *st, const char *fmt, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, fmt, (unsigned long long)v); /* %lld reads it as signed */
    out(st, buf, (size_t)n);
    return 0;
}

static uint64_t h_print_int(uint64_t v, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                            vm_state *st)
{
    (void)b; (void)c; (void)d; (void)e;
    return print_number(st, "%lld", v);
}

static uint64_t h_print_uint(uint64_t v, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                             vm_state *st)
{
    (void)b; (void)c; (void)d; (void)e;
    return print_number(st, "%llu", v);
}

static uint64_t h_print_hex(uint64_t v, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                            vm_state *st)
{
    (void)b; (void)c; (void)d; (void)e;
    return print_number(st, "%llx", v);
}

static uint64_t h_print_char(uint64_t v, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                             vm_state *st)
{
    (void)b; (void)c; (void)d; (void)e;
    char ch = (char)v;
    out(st, &ch, 1);
    return 0;
}

/* unwind(v): returns v; stops the program (r0 = 0) when v == 0 (conformance helper 5). */
static uint64_t h_unwind(uint64_t v, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                         vm_state *st)
{
    (void)b; (void)c; (void)d; (void)e;
    if (v == 0)
        vm_halt_exit(st, 0);
    return v;
}

static uint64_t h_argc(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, vm_state *st)
{
    (void)a; (void)b; (void)c; (void)d; (void)e;
    return st->env ? (uint64_t)st->env->argc : 0;
}

/* arg(i, buf, len): copies argument i (NUL-terminated, truncated to len); returns its full
 * length, or -1 if there is no such argument. */
static uint64_t h_arg(uint64_t i, uint64_t buf, uint64_t len, uint64_t d, uint64_t e,
                      vm_state *st)
{
    (void)d; (void)e;
    const vm_env *env = st->env;
    if (!env || i >= (uint64_t)env->argc || !env->argv || !env->argv[i])
        return (uint64_t)-1;
    char *p = vm_check_range(st, buf, len, VM_WRITE);
    if (!p)
        return bad_arg(st, "arg", "buffer");
    size_t n = strlen(env->argv[i]);
    if (len) {
        size_t k = n < len - 1 ? n : len - 1;
        memcpy(p, env->argv[i], k);
        p[k] = 0;
    }
    return n;
}

static uint64_t h_time_ns(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                          vm_state *st)
{
    (void)a; (void)b; (void)c; (void)d; (void)e;
    if (st->env && st->env->now_ns)
        return st->env->now_ns(st->env->ctx);
    return clock_mono_ns();
}

static uint64_t h_read_file_at(uint64_t path, uint64_t off, uint64_t buf, uint64_t len,
                               uint64_t e, vm_state *st)
{
    (void)e;
    const char *p = vm_check_string(st, path, PATH_MAX_LEN);
    if (!p)
        return bad_arg(st, "read_file", "path");
    void *b = vm_check_range(st, buf, len, VM_WRITE);
    if (!b)
        return bad_arg(st, "read_file", "buffer");
    if (!st->env || !st->env->read_file)
        return (uint64_t)-1;
    return (uint64_t)st->env->read_file(st->env->ctx, p, off, b, len);
}

static uint64_t h_read_file(uint64_t path, uint64_t buf, uint64_t len, uint64_t d, uint64_t e,
                            vm_state *st)
{
    (void)d; (void)e;
    return h_read_file_at(path, 0, buf, len, 0, st);
}

static uint64_t write_common(uint64_t path, uint64_t buf, uint64_t len, int append,
                             vm_state *st)
{
    const char *p = vm_check_string(st, path, PATH_MAX_LEN);
    if (!p)
        return bad_arg(st, "write_file", "path");
    const void *b = vm_check_range(st, buf, len, VM_READ);
    if (!b)
        return bad_arg(st, "write_file", "buffer");
    if (!st->env || !st->env->write_file)
        return (uint64_t)-1;
    return (uint64_t)st->env->write_file(st->env->ctx, p, b, len, append);
}

static uint64_t h_write_file(uint64_t path, uint64_t buf, uint64_t len, uint64_t d,
                             uint64_t e, vm_state *st)
{
    (void)d; (void)e;
    return write_common(path, buf, len, 0, st);
}

static uint64_t h_append_file(uint64_t path, uint64_t buf, uint64_t len, uint64_t d,
                              uint64_t e, vm_state *st)
{
    (void)d; (void)e;
    return write_common(path, buf, len, 1, st);
}

static uint64_t h_list_dir(uint64_t path, uint64_t buf, uint64_t len, uint64_t d, uint64_t e,
                           vm_state *st)
{
    (void)d; (void)e;
    const char *p = vm_check_string(st, path, PATH_MAX_LEN);
    if (!p)
        return bad_arg(st, "list_dir", "path");
    char *b = vm_check_range(st, buf, len, VM_WRITE);
    if (!b)
        return bad_arg(st, "list_dir", "buffer");
    if (!st->env || !st->env->list_dir)
        return (uint64_t)-1;
    return (uint64_t)st->env->list_dir(st->env->ctx, p, b, len);
}

/* alloc(size): 16-byte aligned block from the heap window, 0 when it is used up.  There is
 * no free: the window lives as long as the run. */
static uint64_t h_alloc(uint64_t size, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                        vm_state *st)
{
    (void)b; (void)c; (void)d; (void)e;
    uint64_t base = st->seg_base[VM_SEG_HEAP], end = base + st->seg_size[VM_SEG_HEAP];
    uint64_t at = (st->heap_next + 15) & ~(uint64_t)15;
    if (size > end - base || at > end - size)
        return 0;
    st->heap_next = at + size;
    return at;
}

const vm_helper vm_std_helpers[] = {
    {H_EXIT, "exit", h_exit},
    {H_PRINT, "print", h_print},
    {H_PRINT_INT, "print_int", h_print_int},
    {H_PRINT_CHAR, "print_char", h_print_char},
    {H_UNWIND, "unwind", h_unwind},
    {H_ARGC, "argc", h_argc},
    {H_ARG, "arg", h_arg},
    {H_TIME_NS, "time_ns", h_time_ns},
    {H_READ_FILE, "read_file", h_read_file},
    {H_READ_FILE_AT, "read_file_at", h_read_file_at},
    {H_WRITE_FILE, "write_file", h_write_file},
    {H_APPEND_FILE, "append_file", h_append_file},
    {H_LIST_DIR, "list_dir", h_list_dir},
    {H_ALLOC, "alloc", h_alloc},
    {H_PRINT_HEX, "print_hex", h_print_hex},
    {H_PRINT_UINT, "print_uint", h_print_uint},
};
const size_t vm_std_helper_count = sizeof vm_std_helpers / sizeof vm_std_helpers[0];
