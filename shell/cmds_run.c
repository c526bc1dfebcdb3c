/* shell/cmds_run.c: `run [-i] [-t SECONDS] PROGRAM [ARGS]` - NDA programs from the data
 * volume.
 *
 * Steps: find the file (the name as given, then with ".nda", in the current directory and
 * then in /), read it into pages, let run_check_program() veto it, load and verify it into
 * an arena of pages (the loader's exact message on a bad file), attach JIT code - from
 * the content-addressed cache when this file (by its verified SHA-256) was compiled
 * before, else compiled now into cache pages that are then mapped read+execute - run it
 * with the kernel's helpers (kernel/vm_env_kernel.c) and report the exit value and the
 * times of each step (read; load = arena + copy + verify; compile; run; total).
 * Invariants: JIT pages are writable while compiled and read+execute afterwards, never
 * both (kcache flips them back before reuse); every page taken is given back before the
 * command returns; `running` is non-NULL only while vm_run runs, so the timer tick's
 * Ctrl-C check (on_tick) only ever stops a live program. */
#include <string.h>
#include "arch/x86_64/trap.h"
#include "kernel/clock.h"
#include "kernel/console.h"
#include "kernel/hotfile.h"
#include "kernel/kcache.h"
#include "kernel/pmm.h"
#include "kernel/trap_report.h"
#include "kernel/vfs.h"
#include "kernel/vm_env_kernel.h"
#include "shell/run.h"
#include "shell/shell.h"
#include "vm/vm.h"

#define MAX_PROGRAM_FILE (64u << 20) /* bytes of an .nda file `run` will read */
#define NDA_EXT ".nda"

static vm_state *volatile running;
static int tick_hooked;

/* Timer interrupt (TIMER_HZ, so ticks are 10 ms apart, within VM_TICK_MAX_NS): the VM's
 * asynchronous stops (vm.h "Time and Ctrl-C").  Ctrl-C (cons_interrupt, set by the UART
 * interrupt) and the deadline stop the program; when the tick interrupted its JIT code,
 * vm_preempt sends the interrupted rip to the code's stop stub, which runs once this
 * interrupt returns.  cons_interrupt stays set until the run ends, so a stop that could
 * not be redirected at once (the tick landed in a helper) is tried again next tick. */
static void on_tick(struct trap_frame *tf)
{
    vm_state *st = running;
    if (!st)
        return;
    uintptr_t rip = tf->rip;
    if (cons_interrupt)
        vm_preempt(st, VM_E_INTERRUPTED, &rip);
    vm_tick(st, &rip);
    tf->rip = rip;
}

__attribute__((weak)) int run_check_program(const char *abs_path, const void *image,
                                            size_t len, char *why, size_t why_len)
{
    (void)abs_path;
    (void)image;
    (void)len;
    (void)why;
    (void)why_len;
    return 0;
}

static uint64_t pages_of(uint64_t bytes) { return (bytes + PAGE_SIZE - 1) / PAGE_SIZE; }

/* "12.345 ms" from nanoseconds. */
static const char *ms(uint64_t ns, char buf[24])
{
    snprintf(buf, 24, "%llu.%03llu ms", (unsigned long long)(ns / 1000000),
             (unsigned long long)(ns / 1000 % 1000));
    return buf;
}

/* Is there a regular file at DIR/NAME?  On success ABS holds its absolute path. */
static int try_path(const char *dir, const char *name, const char *ext, char *abs,
                    uint32_t *size)
{
    char path[VFS_PATH_MAX];
    struct fat_dirent e;
    if ((size_t)snprintf(path, sizeof path, "%s%s%s%s", dir, *dir ? "/" : "", name, ext) >=
            sizeof path ||
        vfs_resolve(path, abs, VFS_PATH_MAX) != 0 || fat_stat(vfs_root(), abs, &e) != FAT_OK ||
        (e.attr & FAT_ATTR_DIR))
        return 0;
    *size = e.size;
    return 1;
}

/* Find PROGRAM: as given, then with ".nda", in the current directory, then in "/" (names
 * with a '/' are paths and are not searched for). */
static int find_program(const char *name, char *abs, uint32_t *size)
{
    size_t n = strlen(name);
    int has_ext = n > 4 && !strcasecmp(name + n - 4, NDA_EXT);
    const char *dirs[2] = {"", "/"};
    int ndirs = strchr(name, '/') ? 1 : 2;
    if (n && name[n - 1] == '/')
        return 0;   /* "NAME/" names a directory, never a program */
    for (int d = 0; d < ndirs; d++)
        if (try_path(dirs[d], name, "", abs, size) ||
            (!has_ext && try_path(dirs[d], name, NDA_EXT, abs, size)))
            return 1;
    return 0;
}

/* "10", "0.5" -> nanoseconds; 0 = no limit; -1 when malformed. */
static int64_t parse_seconds(const char *s)
{
    uint64_t whole = 0, frac = 0, scale = 1000000000ull;
    const char *p = s;
    for (; *p >= '0' && *p <= '9' && whole < 1000000; p++)
        whole = whole * 10 + (uint64_t)(*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (scale >= 10) {
                scale /= 10;
                frac += (uint64_t)(*p - '0') * scale;
            }
    if (*p || p == s)
        return -1;
    return (int64_t)(whole * 1000000000ull + frac);
}

/* Where the JIT code for a run lives: a pinned cache entry, or (too big for the cache)
 * pages of its own. */
struct code {
    void *mem;
    size_t len;
    uint64_t pages;   /* own pages when != 0 */
    int cached;       /* 1 = cache hit, 0 = compiled now */
    uint64_t compile_ns;
};

static void code_release(struct code *c)
{
    if (!c->mem)
        return;
    if (c->pages) {
        kcache_code_writable(c->mem, c->len);
        pmm_free_pages((uint64_t)(uintptr_t)c->mem, c->pages);
    } else {
        cas_unpin(kcache(), c->mem);
    }
    c->mem = NULL;
}

/* Attach JIT code for P: cached by P's SHA-256, else compiled now.  0, or -1 with a
 * message printed (the caller falls back to the interpreter). */
static int get_code(vm_program *p, struct code *c)
{
    struct cas *cache = kcache();
    const uint8_t *key = vm_program_sha256(p);
    char msg[200];
    memset(c, 0, sizeof *c);
    size_t len;
    const void *hit = cache ? cas_get(cache, CAS_KIND_JIT, key, &len, true) : NULL;
    if (hit) {
        c->mem = (void *)hit;
        c->len = len;
        c->cached = 1;
        vm_jit_attach(p, hit, len);
        return 0;
    }
    size_t bound = vm_jit_size_bound(p);
    void *buf = NULL;
    if (bound == 0) {
        printf("run: JIT: cannot translate this program; using the interpreter\n");
        return -1;
    }
    if (!cache || cas_reserve(cache, CAS_KIND_JIT, key, bound, &buf) != CAS_OK) {
        /* Larger than the cache budget: compile into pages of its own, not cached. */
        c->pages = pages_of(bound);
        buf = (void *)(uintptr_t)pmm_alloc_pages(c->pages);
        if (!buf) {
            printf("run: no memory for %llu KiB of JIT code\n",
                   (unsigned long long)(c->pages * 4));
            return -1;
        }
    }
    vm_fault f;
    uint64_t t0 = clock_mono_ns();
    vm_err e = vm_jit_compile(p, buf, bound, &len, &f, NULL);
    c->compile_ns = clock_mono_ns() - t0;
    c->mem = buf;
    c->len = c->pages ? c->pages * PAGE_SIZE : bound;
    if (e == VM_OK && !c->pages && cas_commit(cache, buf, len) == CAS_OK)
        c->len = len;
    else if (!c->pages) {
        cas_abort(cache, buf);
        c->mem = NULL;
        if (e == VM_OK)
            e = VM_E_JIT_SPACE;
    }
    if (e != VM_OK) {
        printf("run: JIT: %s; using the interpreter\n", vm_format_fault(&f, msg, sizeof msg));
        code_release(c);
        return -1;
    }
    if (kcache_code_exec(c->mem, c->len) != 0) {
        printf("run: cannot map the JIT code executable; using the interpreter\n");
        int own = c->pages != 0;
        code_release(c);
        if (!own)
            cas_remove(cache, CAS_KIND_JIT, key); /* its eviction hook makes it RW again */
        return -1;
    }
    vm_jit_attach(p, c->mem, c->len);
    return 0;
}

/* vm_run under its own exception guard, so even an engine bug that faults leaves no
 * dangling `running` pointer and no pages behind. */
struct vm_call {
    vm_program *p;
    const vm_run_opts *o;
    vm_result *r;
};

static int vm_call_run(void *arg)
{
    struct vm_call *c = arg;
    return (int)vm_run(c->p, c->o, c->r);
}

static void vm_fault_clear(vm_result *r)
{
    memset(&r->fault, 0, sizeof r->fault);
    r->fault.err = r->err;
    r->fault.pc = -1;
    r->ns = 0;
    snprintf(r->fault.detail, sizeof r->fault.detail, "CPU exception in the VM (a bug)");
}

static int cmd_run(int argc, char **argv)
{
    int interp = 0, i = 1;
    int64_t limit = (int64_t)VM_DEFAULT_TIME_LIMIT_NS;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-i"))
            interp = 1;
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            limit = parse_seconds(argv[++i]);
        else
            limit = -1;
        if (limit < 0)
            return shell_usage(argv[0]);
    }
    if (i == argc)
        return shell_usage(argv[0]);
    if (!vfs_root()) {
        printf("run: no data volume mounted\n");
        return 1;
    }
    const char *name = argv[i];
    char abs[VFS_PATH_MAX], tbuf[24], msg[200];
    uint32_t size;
    if (!find_program(name, abs, &size)) {
        if (strchr(name, '/'))
            eprintf("run: %s: no such program file\n", name);
        else
            eprintf("run: %s: no such program (looked in %s%s, with and without .nda)\n", name,
                    vfs_cwd(), strcmp(vfs_cwd(), "/") ? " and /" : "");
        return 1;
    }
    if (size > MAX_PROGRAM_FILE) {
        printf("run: %s: file too large (%u bytes)\n", abs, size);
        return 1;
    }
    uint64_t t_start = clock_mono_ns();

    /* Read the file. */
    uint64_t img_pages = pages_of(size ? size : 1);
    void *img = (void *)(uintptr_t)pmm_alloc_pages(img_pages);
    if (!img) {
        printf("run: no memory to read %s\n", abs);
        return 1;
    }
    int64_t got = kvm_read_path(abs, 0, img, size);
    if (got != (int64_t)size) {
        printf("run: %s: read failed (%s)\n", abs, got < 0 ? hot_strerror((int)-got) : "short");
        pmm_free_pages((uint64_t)(uintptr_t)img, img_pages);
        return 1;
    }
    uint64_t t_read = clock_mono_ns();
    msg[0] = 0;
    if (run_check_program(abs, img, size, msg, sizeof msg) != 0) {
        printf("run: %s: refused: %s\n", abs, msg[0] ? msg : "content check failed");
        pmm_free_pages((uint64_t)(uintptr_t)img, img_pages);
        return 1;
    }

    /* Load and verify into an arena of pages; the image is no longer needed after. */
    size_t arena_size = vm_arena_size_nda(img, size, NULL);
    uint64_t arena_pages = pages_of(arena_size ? arena_size : 1);
    void *arena = (void *)(uintptr_t)pmm_alloc_pages(arena_pages);
    vm_fault f;
    vm_program *p = NULL;
    vm_load_opts lopts = { .arena_zeroed = true }; /* pmm pages come zeroed */
    if (arena)
        p = vm_load_nda(img, size, &lopts, arena, arena_size, &f);
    pmm_free_pages((uint64_t)(uintptr_t)img, img_pages);
    if (!arena) {
        printf("run: %s: needs %llu KiB of memory, not available\n", abs,
               (unsigned long long)(arena_pages * 4));
        return 1;
    }
    if (!p) {
        printf("run: %s: %s\n", abs, vm_format_fault(&f, msg, sizeof msg));
        pmm_free_pages((uint64_t)(uintptr_t)arena, arena_pages);
        return 1;
    }

    uint64_t t_load = clock_mono_ns();

    /* Engine. */
    struct code code = {0};
    int jit = !interp && vm_jit_available() && get_code(p, &code) == 0;

    /* Run, with Ctrl-C wired to this program. */
    if (!tick_hooked)
        tick_hooked = clock_add_tick_hook(on_tick) == 0;
    vm_env env;
    kvm_env_init(&env, argc - i, (const char *const *)argv + i);
    vm_run_opts o;
    memset(&o, 0, sizeof o);
    o.engine = jit ? VM_ENGINE_JIT : VM_ENGINE_INTERP;
    o.time_limit_ns = limit == 0 ? ~0ull : (uint64_t)limit;
    o.env = &env;
    o.async_ticks = true; /* on_tick */
    vm_result r;
    cons_interrupt = 0;
    struct vm_call call = {p, &o, &r};
    running = vm_program_state(p);
    int faulted = trap_guard_run(vm_call_run, &call) == TRAP_FAULTED;
    running = NULL;
    if (faulted) { /* a bug in an engine, reported by the trap handler: clean up, go on */
        r.err = VM_E_JIT;
        vm_fault_clear(&r);
    }
    uint32_t insns = vm_program_insn_count(p);
    code_release(&code);
    pmm_free_pages((uint64_t)(uintptr_t)arena, arena_pages);
    if (r.err == VM_E_INTERRUPTED) {
        while (cons_trygetc() >= 0) /* like a terminal on ^C: drop the type-ahead */
            ;
        cons_interrupt = 0;
    }

    /* Report. */
    if (!cons_at_line_start())
        printf("\n");
    if (r.err != VM_OK)
        printf("run: %s: %s\n", name, vm_format_fault(&r.fault, msg, sizeof msg));
    char how[96], t2[24], t3[24], t4[24], t5[24];
    if (!jit)
        snprintf(how, sizeof how, "interpreter%s",
                 interp || !vm_jit_available() ? "" : " (JIT failed)");
    else if (code.cached)
        snprintf(how, sizeof how, "jit, cached code (cache hit)");
    else
        snprintf(how, sizeof how, "jit, compiled %u insns in %s (cache %s)", insns,
                 ms(code.compile_ns, t2), code.pages ? "bypassed: too big" : "miss");
    if (r.err == VM_OK)
        printf("[exit %lld] ", (long long)r.r0);
    else
        printf("[stopped: %s] ", vm_strerror(r.err));
    printf("run %s; %s; read %s, load %s; total %s\n", ms(r.ns, tbuf), how,
           ms(t_read - t_start, t4), ms(t_load - t_read, t5), ms(clock_mono_ns() - t_start, t3));
    return r.err == VM_OK ? (int)(r.r0 & 0xff) : 1;
}
SHELL_COMMAND("run", cmd_run, "[-i] [-t SECONDS] PROGRAM [ARGS]",
              "run an NDA program from the volume (-i: interpreter; -t: time limit, 0 = none)");
