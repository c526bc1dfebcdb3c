/* vm/vm.c: running a verified program, and the slow paths both engines share.
 *
 * Interface: vm_run() (vm.h) sets up the per-run state (sandbox bounds, registers,
 * deadline) and hands it to the interpreter or to attached JIT code.  vm_mem_slow, vm_poll,
 * vm_stopped, vm_fault_depth, vm_callx_fail and vm_halted (vm_internal.h) are the only
 * places where run-time errors are recorded, so the two engines cannot disagree on them.
 * vm_preempt / vm_tick are the embedder's asynchronous stop (vm.h "Time and Ctrl-C").
 * Invariant: a fault is recorded once; the first error wins and the engine stops.
 */
#include <string.h>
#include <stdio.h>
#include "lib/clock.h"
#include "vm/vm_internal.h"

static const char *const err_text[VM_E_COUNT] = {
    [VM_OK] = "ok",
    [VM_E_ARG] = "bad argument",
    [VM_E_ARENA_SMALL] = "arena too small for the program",
    [VM_E_FILE_TRUNC] = "file truncated",
    [VM_E_FILE_MAGIC] = "not an .nda file (bad magic)",
    [VM_E_FILE_VERSION] = "unsupported .nda version",
    [VM_E_FILE_FLAGS] = "unknown .nda flags",
    [VM_E_FILE_FIELD] = "bad .nda header field",
    [VM_E_FILE_HASH] = "SHA-256 mismatch (file corrupted)",
    [VM_E_RELOC] = "bad relocation",
    [VM_E_IMPORT] = "unknown helper import",
    [VM_E_EMPTY] = "program has no instructions",
    [VM_E_TOO_BIG] = "program too large",
    [VM_E_OPCODE] = "unknown opcode",
    [VM_E_REG] = "bad register",
    [VM_E_WRITE_R10] = "write to read-only frame pointer r10",
    [VM_E_JUMP_RANGE] = "jump out of range",
    [VM_E_JUMP_LDDW] = "jump into the middle of lddw",
    [VM_E_LDDW] = "malformed lddw",
    [VM_E_FALLTHROUGH] = "execution falls off the end of the program",
    [VM_E_UNKNOWN_HELPER] = "call to unknown helper",
    [VM_E_FIELD] = "reserved instruction field not zero",
    [VM_E_ENTRY] = "entry point out of range",
    [VM_E_MEM] = "memory access violation",
    [VM_E_CALL_DEPTH] = "call depth limit exceeded",
    [VM_E_TIMEOUT] = "time limit exceeded",
    [VM_E_INTERRUPTED] = "interrupted",
    [VM_E_BAD_HELPER] = "callx to unknown helper",
    [VM_E_HELPER] = "helper rejected its arguments",
    [VM_E_NO_JIT] = "JIT not available",
    [VM_E_JIT_SPACE] = "JIT buffer too small",
    [VM_E_JIT] = "JIT translation failed",
};

const char *vm_strerror(vm_err e)
{
    if ((unsigned)e >= VM_E_COUNT || !err_text[e])
        return "unknown error";
    return err_text[e];
}

void vm_fault_set(vm_fault *f, vm_err e, int64_t pc, uint64_t insn, const char *detail)
{
    if (!f)
        return;
    memset(f, 0, sizeof *f);
    f->err = e;
    f->pc = pc;
    f->insn = insn;
    if (detail)
        snprintf(f->detail, sizeof f->detail, "%s", detail);
}

char *vm_format_fault(const vm_fault *f, char *buf, size_t len)
{
    char dis[64] = "";
    int n;
    if (f->pc >= 0)
        vm_disasm_insn(&f->insn, 1, 0, dis, sizeof dis);
    if (f->err == VM_E_MEM)
        n = snprintf(buf, len, "%s: %s of %u bytes at 0x%llx", vm_strerror(f->err),
                     f->access == VM_WRITE ? "write" : "read", (unsigned)f->size,
                     (unsigned long long)f->addr);
    else
        n = snprintf(buf, len, "%s", vm_strerror(f->err));
    if (n < 0 || (size_t)n >= len)
        return buf;
    if (f->pc >= 0) {
        int m = snprintf(buf + n, len - (size_t)n, " at instruction %lld (%s)",
                         (long long)f->pc, dis);
        if (m < 0 || (size_t)(n + m) >= len)
            return buf;
        n += m;
    }
    if (f->detail[0])
        snprintf(buf + n, len - (size_t)n, ": %s", f->detail);
    return buf;
}

/* ---- run-time slow paths ---- */

static void record(vm_state *st, vm_err e, uint32_t pc, const char *detail)
{
    if (st->err != VM_OK)
        return;
    st->err = e;
    if (pc < st->prog->n_insns)
        vm_fault_set(&st->fault, e, pc, st->prog->insns[pc], detail);
    else
        vm_fault_set(&st->fault, e, -1, 0, detail); /* VM_PC_NONE */
}

static int region_ok(const vm_state *st, uint64_t addr, uint64_t size, uint32_t access)
{
    uint64_t end = addr + size;
    if (end < addr)
        return 0;
    if (access == VM_READ && addr >= st->mem_lo && end <= st->mem_hi)
        return 1;
    if (addr >= st->rw_lo && end <= st->mem_hi)
        return 1;
    for (uint32_t i = 0; i < st->n_extra; i++) {
        const vm_region *r = &st->extra[i];
        if ((r->access & access) == access && addr >= r->base && end <= r->base + r->len)
            return 1;
    }
    return 0;
}

int vm_mem_slow(vm_state *st, uint64_t addr, uint32_t size, uint32_t access, uint32_t pc)
{
    if (region_ok(st, addr, size, access))
        return 1;
    record(st, VM_E_MEM, pc, NULL);
    st->fault.addr = addr;
    st->fault.size = size;
    st->fault.access = access;
    return 0;
}

/* The interpreter's poll (taken backward jumps, local calls).  Stops found here are
 * asynchronous - where they land depends on timing - so, like the JIT's stop stub, they
 * record no pc: both engines then report them identically. */
int vm_poll(vm_state *st, uint32_t pc)
{
    (void)pc;
    if (st->stop) {
        vm_stopped(st, VM_PC_NONE);
        return 0;
    }
    if (st->ticks == 0) {
        st->ticks = VM_TICKS;
        if (st->deadline_ns != UINT64_MAX && clock_mono_ns() >= st->deadline_ns) {
            record(st, VM_E_TIMEOUT, VM_PC_NONE, NULL);
            return 0;
        }
    }
    return 1;
}

void vm_stopped(vm_state *st, uint32_t pc)
{
    uint32_t why = st->stop;
    record(st, why == VM_E_TIMEOUT ? VM_E_TIMEOUT : VM_E_INTERRUPTED, pc, NULL);
}

void vm_fault_depth(vm_state *st, uint32_t pc)
{
    record(st, VM_E_CALL_DEPTH, pc, "more than 64 nested calls");
}

void vm_callx_fail(vm_state *st, uint32_t pc, uint64_t id)
{
    char why[48];
    snprintf(why, sizeof why, "helper id %llu", (unsigned long long)id);
    record(st, VM_E_BAD_HELPER, pc, why);
}

void vm_halted(vm_state *st, uint32_t pc)
{
    if (st->err != VM_OK && st->fault.pc < 0) {
        st->fault.pc = pc;
        st->fault.insn = st->prog->insns[pc];
    }
}

const vm_jit_rt vm_jit_runtime = {vm_mem_slow, vm_stopped, vm_fault_depth, vm_callx_fail,
                                   vm_halted};

/* ---- services for helpers ---- */

void *vm_check_range(vm_state *st, uint64_t addr, uint64_t len, vm_access access)
{
    /* Nothing is touched, so any address will do - NULL too, as in nda_arg(i, 0, 0) - but
     * NULL means "rejected" to the caller: hand back a harmless non-NULL pointer then. */
    static char nothing;
    if (len == 0)
        return addr ? (void *)(uintptr_t)addr : &nothing;
    if (!region_ok(st, addr, len, access))
        return NULL;
    return (void *)(uintptr_t)addr;
}

const char *vm_check_string(vm_state *st, uint64_t addr, uint64_t max)
{
    /* Byte by byte, so a string may end right at a region edge. */
    for (uint64_t i = 0; i < max; i++) {
        if (!region_ok(st, addr + i, 1, VM_READ))
            return NULL;
        if (*(const char *)(uintptr_t)(addr + i) == 0)
            return (const char *)(uintptr_t)addr;
    }
    return NULL;
}

void vm_halt_exit(vm_state *st, uint64_t value)
{
    (void)value; /* the helper returns it; the engine stores it as r0 */
    st->halt = 1;
}

void vm_halt_error(vm_state *st, vm_err e, const char *why)
{
    st->halt = 1;
    if (st->err == VM_OK) {
        st->err = e;
        vm_fault_set(&st->fault, e, -1, 0, why);
    }
}

const vm_env *vm_state_env(vm_state *st) { return st->env; }
vm_program *vm_state_program(vm_state *st) { return st->prog; }
vm_state *vm_program_state(vm_program *p) { return &p->state; }

/* ---- asynchronous stops (vm.h "Time and Ctrl-C") ----
 * These run in signal / interrupt context: they touch only st->stop (volatile, first
 * reason wins) and the interrupted rip, read the program's code range and, for vm_tick,
 * the clock (clock_gettime is async-signal-safe on the host; the kernel's reads the TSC). */

void vm_preempt(vm_state *st, vm_err why, uintptr_t *rip)
{
    if (!st)
        return;
    uint32_t none = 0;
    /* A CAS so that a Ctrl-C racing a deadline cannot overwrite the reason already seen. */
    __atomic_compare_exchange_n(&st->stop, &none, (uint32_t)why, false, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
    const vm_program *p = st->prog;
    /* In the body, r12 = st and st->jit_saved_sp are valid (vm_internal.h), so the stub can
     * unwind from any instruction there.  Elsewhere (prologue, epilogue, a helper, a C slow
     * path, the interpreter) only the flag is set: the body checks it after every helper
     * call and on entry, and the embedder's next tick redirects again while it is set. */
    if (rip && p && p->jit_code && *rip >= p->jit_body_lo && *rip < p->jit_body_hi)
        *rip = (uintptr_t)p->jit_code + VM_JIT_BODY_OFFSET;
}

void vm_tick(vm_state *st, uintptr_t *rip)
{
    if (!st || !st->running)
        return;
    if (st->stop)
        vm_preempt(st, (vm_err)st->stop, rip); /* not yet redirected: try again */
    else if (st->deadline_ns != UINT64_MAX && clock_mono_ns() >= st->deadline_ns)
        vm_preempt(st, VM_E_TIMEOUT, rip);
}

void vm_request_stop(vm_state *st) { vm_preempt(st, VM_E_INTERRUPTED, NULL); }
uint32_t vm_program_insn_count(const vm_program *p) { return p->n_insns; }
const uint8_t *vm_program_sha256(const vm_program *p) { return p->sha256; }

uint64_t vm_program_heap(const vm_program *p, uint64_t *size)
{
    if (size)
        *size = p->seg_size[VM_SEG_HEAP];
    return p->seg_base[VM_SEG_HEAP];
}

/* ---- JIT hook ---- */

void vm_jit_attach(vm_program *p, const void *exec, size_t len)
{
    p->jit_code = exec;
    /* len 0 (or code too short to have a body): vm_preempt never redirects, only flags. */
    p->jit_body_lo = p->jit_body_hi = 0;
    if (exec && len > VM_JIT_BODY_OFFSET) {
        p->jit_body_lo = (uintptr_t)exec + VM_JIT_BODY_OFFSET;
        p->jit_body_hi = (uintptr_t)exec + len;
    }
}

/* Weak stubs: replaced by vm/jit_x86_64.c when it is linked. */
__attribute__((weak)) vm_err vm_jit_compile(const vm_program *p, uint8_t *buf, size_t cap,
                                            size_t *out_len, vm_fault *fault, vm_jit_info *info)
{
    (void)p; (void)buf; (void)cap; (void)info;
    if (out_len)
        *out_len = 0;
    vm_fault_set(fault, VM_E_NO_JIT, -1, 0, NULL);
    return VM_E_NO_JIT;
}

__attribute__((weak)) size_t vm_jit_size_bound(const vm_program *p)
{
    (void)p;
    return 0;
}

__attribute__((weak)) bool vm_jit_available(void) { return false; }

/* ---- run ---- */

vm_err vm_run(vm_program *p, const vm_run_opts *opts, vm_result *res)
{
    memset(res, 0, sizeof *res);
    if (!p || p->magic != VM_PROGRAM_MAGIC || !opts || opts->n_extra > VM_MAX_EXTRA_REGIONS) {
        res->err = VM_E_ARG;
        vm_fault_set(&res->fault, VM_E_ARG, -1, 0, NULL);
        return res->err;
    }
    vm_engine engine = opts->engine;
    if (engine == VM_ENGINE_AUTO)
        engine = p->jit_code ? VM_ENGINE_JIT : VM_ENGINE_INTERP;
    if (engine == VM_ENGINE_JIT && !p->jit_code) {
        res->err = VM_E_NO_JIT;
        vm_fault_set(&res->fault, VM_E_NO_JIT, -1, 0, NULL);
        return res->err;
    }
    /* JIT code never reads the clock: a time limit needs the embedder's ticks (vm.h). */
    uint64_t limit = opts->time_limit_ns ? opts->time_limit_ns : VM_DEFAULT_TIME_LIMIT_NS;
    if (engine == VM_ENGINE_JIT && limit != UINT64_MAX && !opts->async_ticks) {
        if (opts->engine == VM_ENGINE_JIT) {
            res->err = VM_E_ARG;
            vm_fault_set(&res->fault, VM_E_ARG, -1, 0,
                         "a JIT run with a time limit needs async_ticks (vm_tick)");
            return res->err;
        }
        engine = VM_ENGINE_INTERP; /* AUTO: the interpreter enforces the limit itself */
    }

    vm_state *st = &p->state;
    st->mem_lo = p->mem_lo;
    st->rw_lo = p->rw_lo;
    st->mem_hi = p->mem_hi;
    st->running = 0;
    st->stop = 0;
    st->ticks = VM_TICKS;
    st->halt = 0;
    st->depth = 0;
    memset(st->reg, 0, sizeof st->reg);
    for (int i = 0; i < 5; i++)
        st->reg[i + 1] = opts->args[i];
    memcpy(st->seg_base, p->seg_base, sizeof st->seg_base);
    memcpy(st->seg_size, p->seg_size, sizeof st->seg_size);
    st->stack_top = p->seg_base[VM_SEG_STACK] + p->seg_size[VM_SEG_STACK];
    st->reg[10] = st->stack_top;
    st->err = VM_OK;
    vm_fault_set(&st->fault, VM_OK, -1, 0, NULL);
    st->n_extra = (uint32_t)opts->n_extra;
    for (size_t i = 0; i < opts->n_extra; i++)
        st->extra[i] = opts->extra[i];
    st->heap_next = p->seg_base[VM_SEG_HEAP];
    st->env = opts->env;
    st->prog = p;
    st->jit_rt = &vm_jit_runtime;
    /* A fresh stack each run keeps runs deterministic across engines. */
    memset((void *)(uintptr_t)p->seg_base[VM_SEG_STACK], 0, p->seg_size[VM_SEG_STACK]);

    uint64_t t0 = clock_mono_ns();
    st->deadline_ns = limit == UINT64_MAX || t0 + limit < t0 ? UINT64_MAX : t0 + limit;

    /* From here a tick may read the deadline: the compiler must not sink the stores above
     * below this flag (the tick is a signal/interrupt on this very thread/CPU). */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    st->running = 1;
    if (engine == VM_ENGINE_JIT)
        ((vm_jit_fn)p->jit_code)(st);
    else
        vm_interp_run(p, st);
    st->running = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);

    res->ns = clock_mono_ns() - t0;
    res->engine = engine;
    res->err = st->err;
    res->r0 = st->reg[0];
    res->fault = st->fault;
    return res->err;
}
