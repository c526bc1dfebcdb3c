/* tests/vm/test_region_diff.c: interpreter vs JIT on pointer-heavy programs that access
 * memory at the edges of the program's memory - the cases the JIT's versioned regions
 * (vm/jit_x86_64.c, "Regions") must get exactly right: a region's cover checks may let the
 * fast copy run only when every access in it is in bounds, else the slow copy must fault
 * at the same instruction, address, size and access as the interpreter.
 *
 * Programs keep pointers in r1-r7: near the top of the stack (the end of program memory,
 * where a store past the end faults), at the heap's base (the lowest RW address, with no
 * rodata below: a load below it faults), and loads of pointers stored in memory.  The body
 * mixes loads (some sign-extending), stores, atomics and pointer arithmetic by small steps,
 * bounded loops (counter r8) and forward skips, so many regions start with the base near
 * an edge and a fault lands anywhere inside them.
 * Both engines run each program in the SAME arena (loaded afresh each time: the loader
 * clears it), so addresses agree and the whole of program memory [mem_lo, mem_hi) is
 * compared byte for byte, with error, fault pc/address/size/access, and r0-r10 on a clean
 * exit.  Fixed seeds, one `ok` line per seed batch; a mismatch gives `not ok` with the seed
 * and program index, then the program's disassembly as `#` lines.  VMT_SEED=n runs one
 * batch from another seed.
 * The JIT reports the versioned regions it emitted (vm_jit_info), and the last check
 * asserts that most programs really were compiled with some.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "tests/check.h"
#include "tests/vm/vmgen.h"
#include "vm/host/preempt_host.h"
#include "vm/host/vm_exec_host.h"
#include "vm/vm_internal.h"

#define PROGRAMS 1000 /* per seed */
#define MAX_INSNS 4096
#define HEAP 4096

#define R(n) (rnd() % (n))
#define E vm_insn_encode

static uint64_t W[MAX_INSNS];
static size_t N;

static void put(uint64_t w)
{
    if (N < MAX_INSNS)
        W[N] = w;
    N++;
}

/* An offset: mostly within a few bytes of the pointer, sometimes a few hundred away
 * (across the 256-byte buffer or the edge it sits at), rarely anything. */
static int16_t roff(void)
{
    switch (R(40)) {
    case 0: return (int16_t)(R(33) - 16);
    case 1: return (int16_t)(R(300) - 150);
    case 2: return R(8) ? (int16_t)(R(600) - 300) : (int16_t)rnd();
    case 3: return (int16_t)(R(9) - 8 + (R(2) ? 256 : -256));
    default: return (int16_t)((int)R(17) - 8);
    }
}

static uint8_t preg(void) { return (uint8_t)(1 + R(7)); } /* r1-r7: (mostly) pointers */

static void mem_op(void)
{
    static const uint8_t sz[4] = {BPF_B, BPF_H, BPF_W, BPF_DW};
    uint8_t s = sz[R(4)];
    uint8_t b = R(10) == 0 ? 10 : R(2) ? (R(2) ? 1 : 7) : preg();
    int16_t off = b == 10 ? (int16_t)(-(int)R(520)) : roff();
    uint8_t d = R(6) ? (R(2) ? 0 : 9) : (uint8_t)R(8); /* r8 (a loop counter) only outside loops */
    switch (R(6)) {
    case 0:
    case 1:
        if (R(8) == 0 && s != BPF_DW)
            put(E(BPF_LDX | BPF_MEMSX | s, d, b, off, 0));
        else
            put(E(BPF_LDX | BPF_MEM | s, d, b, off, 0));
        break;
    case 2: put(E(BPF_ST | BPF_MEM | s, b, 0, off, (int32_t)rnd())); break;
    case 3: put(E(BPF_STX | BPF_MEM | s, b, d, off, 0)); break;
    case 4: /* load one of the pointers stored at r1 back */
        put(E(BPF_LDX | BPF_MEM | BPF_DW, preg(), 1, (int16_t)(8 * R(8)), 0));
        break;
    default:
        if (R(6) == 0) { /* atomics end a region */
            static const int32_t ops[] = {BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH,
                                          BPF_XCHG, BPF_CMPXCHG, BPF_OR | BPF_FETCH};
            put(E(BPF_STX | BPF_ATOMIC | (R(2) ? BPF_DW : BPF_W), b, d, off, ops[R(8)]));
        } else {
            put(E(BPF_STX | BPF_MEM | BPF_DW, b, d, off, 0));
        }
        break;
    }
}

/* Pointer arithmetic (which ends a region on that base) and the JIT's test idiom. */
static void alu_op(void)
{
    uint8_t d = preg();
    switch (R(8)) {
    case 0: put(E(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, (int32_t)R(17) - 8)); break;
    case 1: put(E(BPF_ALU64 | BPF_SUB | BPF_K, d, 0, 0, (int32_t)R(9))); break;
    case 2: put(E(BPF_ALU64 | BPF_MOV | BPF_X, d, preg(), 0, 0)); break;
    case 3: put(E(BPF_ALU64 | BPF_ADD | BPF_X, d, 0, 0, 0)); break; /* r0 is usually small */
    case 4: put(E(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, (int32_t)R(16))); break;
    case 5: put(E(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 15)); break;
    case 6: { /* mov r0, d; and r0, 8; jeq r0, 0, +k over k accesses */
        put(E(BPF_ALU64 | BPF_MOV | BPF_X, 0, d, 0, 0));
        put(E(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 8));
        int k = (int)R(3);
        put(E(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, (int16_t)k, 0));
        while (k--)
            mem_op();
        break;
    }
    default: put(E(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, (int32_t)(R(2) ? 8 : -8) * (R(4) == 0))); break;
    }
}

/* 2-5 accesses off one base within a few bytes: regions of small span, whose single
 * cover check uses the limit of the span rounded up to 1, 2, 4 or 8 bytes. */
static void cluster(void)
{
    static const uint8_t sz[4] = {BPF_B, BPF_H, BPF_W, BPF_DW};
    uint8_t b = R(3) ? (uint8_t)(4 + R(3)) : preg(); /* r4-r6 start near an edge */
    int16_t at = roff();
    for (int k = 2 + (int)R(4); k > 0; k--) {
        uint8_t s = sz[R(R(2) ? 2 : 4)], d = R(2) ? 0 : 9;
        int16_t off = (int16_t)(at + (int)R(6));
        if (R(2))
            put(E(BPF_LDX | BPF_MEM | s, d, b, off, 0));
        else
            put(E(BPF_STX | BPF_MEM | s, b, d, off, 0));
    }
}

static void body(int len, int depth)
{
    for (int k = 0; k < len; k++) {
        uint32_t c = R(20);
        if (c < 9) {
            mem_op();
        } else if (c < 11) {
            cluster();
        } else if (c < 16) {
            alu_op();
        } else if (c < 18 && depth == 0) { /* loop of 1-4 rounds, counter r8 */
            put(E(BPF_ALU64 | BPF_MOV | BPF_K, 8, 0, 0, 1 + (int32_t)R(4)));
            size_t head = N;
            body(2 + (int)R(8), 1);
            put(E(BPF_ALU64 | BPF_SUB | BPF_K, 8, 0, 0, 1));
            if (R(2)) { /* clang's two loop shapes */
                put(E(BPF_JMP | BPF_JEQ | BPF_K, 8, 0, 1, 0));
                put(E(OP_JA, 0, 0, (int16_t)(head - N - 1), 0));
            } else {
                put(E(BPF_JMP | BPF_JNE | BPF_K, 8, 0, (int16_t)(head - N - 1), 0));
            }
        } else if (c < 19 && depth == 0) { /* conditional forward skip (never into a loop) */
            int k = (int)R(3);
            put(E(BPF_JMP | BPF_JGT | BPF_K, (uint8_t)R(8), 0, (int16_t)k, (int32_t)R(64)));
            while (k--)
                mem_op();
        } else {
            put(E(BPF_ALU64 | BPF_MOV | BPF_X, 0, preg(), 0, 0));
        }
    }
}

/* Entry: r1 = stack top - 256, r2 = heap base (= mem_lo), r3 = stack top (= mem_hi). */
static void gen(void)
{
    N = 0;
    put(E(BPF_ALU64 | BPF_MOV | BPF_X, 4, 1, 0, 0)); /* r4: up to 56 bytes below the top */
    put(E(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, 200 + (int32_t)R(56)));
    put(E(BPF_ALU64 | BPF_MOV | BPF_X, 5, 2, 0, 0)); /* r5: just above the bottom */
    put(E(BPF_ALU64 | BPF_ADD | BPF_K, 5, 0, 0, (int32_t)R(16)));
    put(E(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0)); /* r6: just below the top */
    put(E(BPF_ALU64 | BPF_SUB | BPF_K, 6, 0, 0, (int32_t)R(16)));
    put(E(BPF_ALU64 | BPF_MOV | BPF_X, 7, 1, 0, 0));
    put(E(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
    put(E(BPF_ALU64 | BPF_MOV | BPF_K, 8, 0, 0, 0));
    put(E(BPF_ALU64 | BPF_MOV | BPF_K, 9, 0, 0, 0));
    for (int k = 0; k < 8; k++) /* pointers in memory, for case 4 of mem_op */
        put(E(BPF_STX | BPF_MEM | BPF_DW, 1, (uint8_t)(1 + R(7)), (int16_t)(8 * k), 0));
    body(10 + (int)R(30), 0);
    for (int k = 0; k < 4; k++) /* forward skips may jump up to 3 past the body */
        put(E(OP_EXIT, 0, 0, 0, 0));
}

typedef struct outcome {
    vm_err err;
    vm_fault f;
    uint64_t r0, reg[11];
} outcome;

/* Loads W into arena and runs it on engine e; *mem = a copy of its program memory. */
static int run(vm_engine e, void *arena, size_t arena_size, outcome *o, uint8_t *mem,
               size_t mem_cap, size_t *span, uint64_t *mem_lo, long *regions, long *rinsns)
{
    const vm_load_opts lo = {vm_std_helpers, vm_std_helper_count, HEAP, false};
    vm_fault f;
    vm_program *p = vm_load_raw(W, N, &lo, arena, arena_size, &f);
    if (!p) {
        o->err = f.err;
        o->f = f;
        return 0;
    }
    vm_host_code code = {0};
    if (e == VM_ENGINE_JIT) {
        if (vm_host_jit(p, &code, &f) != VM_OK) {
            o->err = f.err;
            o->f = f;
            return 0;
        }
        *regions += code.info.regions;
        *rinsns += code.info.region_insns;
    }
    vm_run_opts ro = {0};
    ro.engine = e;
    ro.time_limit_ns = 1000000000ull; /* a runaway is a mismatch, not a hung test */
    uint64_t top = p->seg_base[VM_SEG_STACK] + p->seg_size[VM_SEG_STACK];
    ro.args[0] = top - 256;
    ro.args[1] = p->seg_base[VM_SEG_HEAP];
    ro.args[2] = top;
    vm_result r;
    vm_host_run(p, &ro, &r);
    o->err = r.err;
    o->f = r.fault;
    o->r0 = r.r0;
    memcpy(o->reg, p->state.reg, sizeof o->reg);
    *span = p->mem_hi - p->mem_lo;
    *mem_lo = p->mem_lo;
    int ok = *span <= mem_cap;
    if (ok)
        memcpy(mem, (void *)(uintptr_t)p->mem_lo, *span);
    vm_host_jit_release(&code);
    return ok;
}

typedef struct totals {
    long programs, faulted, regions, region_insns, with_regions;
} totals;

/* One batch: PROGRAMS programs from seed; one check line. */
static void batch(uint64_t seed, int programs, void *arena, size_t arena_size, totals *t)
{
    static uint8_t mem[2][1 << 20];
    rng_state = seed;
    int faulted = 0;
    for (int i = 0; i < programs; i++) {
        gen();
        outcome o[2];
        size_t span[2] = {0, 0};
        uint64_t lo[2] = {0, 0};
        long before = t->regions;
        const char *why = NULL;
        if (N > MAX_INSNS)
            why = "program too long";
        else if (!run(VM_ENGINE_INTERP, arena, arena_size, &o[0], mem[0], sizeof mem[0],
                      &span[0], &lo[0], &t->regions, &t->region_insns) ||
                 !run(VM_ENGINE_JIT, arena, arena_size, &o[1], mem[1], sizeof mem[1],
                      &span[1], &lo[1], &t->regions, &t->region_insns))
            why = "load, JIT or memory copy failed";
        t->with_regions += t->regions > before;
        faulted += !why && o[0].err == VM_E_MEM;
        size_t at = 0;
        if (!why) {
            const vm_fault *a = &o[0].f, *b = &o[1].f;
            if (span[0] != span[1] || memcmp(mem[0], mem[1], span[0]))
                while (at < span[0] && mem[0][at] == mem[1][at])
                    at++;
            else
                at = span[0];
            if (o[0].err != o[1].err || a->pc != b->pc || a->addr != b->addr ||
                a->size != b->size || a->access != b->access)
                why = "error or fault differs";
            else if (o[0].err == VM_OK &&
                     (o[0].r0 != o[1].r0 || memcmp(o[0].reg, o[1].reg, sizeof o[0].reg)))
                why = "registers differ";
            else if (span[0] != span[1] || lo[0] != lo[1] || at < span[0])
                why = "program memory differs";
        }
        if (why) {
            const vm_fault *a = &o[0].f, *b = &o[1].f;
            check(0, "region diff seed 0x%llx: program %d: interp vs jit: %s: err %s / %s, "
                  "fault pc %lld / %lld, addr mem_lo%+lld / %+lld, size %u / %u, access %u / %u, "
                  "r0 0x%llx / 0x%llx, first memory difference at mem_lo+%zu of %zu (program "
                  "below)", (unsigned long long)seed, i, why, vm_strerror(o[0].err),
                  vm_strerror(o[1].err), (long long)a->pc, (long long)b->pc,
                  (long long)(a->addr - lo[0]), (long long)(b->addr - lo[0]), a->size, b->size,
                  a->access, b->access, (unsigned long long)o[0].r0,
                  (unsigned long long)o[1].r0, at, span[0]);
            if (N <= MAX_INSNS)
                vmg_dump(W, N);
            for (int r = 0; r < 11 && o[0].err == VM_OK; r++)
                if (o[0].reg[r] != o[1].reg[r])
                    printf("# r%d: 0x%llx / 0x%llx\n", r, (unsigned long long)o[0].reg[r],
                           (unsigned long long)o[1].reg[r]);
            t->programs += i + 1;
            t->faulted += faulted;
            return;
        }
    }
    check(1, "region diff seed 0x%llx: %d programs (%d stopped by a memory fault), interp vs "
          "jit agree on error, fault pc/addr/size/access, registers and all program memory",
          (unsigned long long)seed, programs, faulted);
    t->programs += programs;
    t->faulted += faulted;
}

int main(void)
{
    static const uint64_t seeds[] = {88172645463325252ull, 0x9e3779b97f4a7c15ull,
                                     0x2545f4914f6cdd1dull, 0xd1b54a32d192ed03ull,
                                     0x8cb92ba72f3d8dd7ull};
    if (!vm_jit_available()) {
        check(0, "region diff: the JIT is not built in");
        return check_exit_status();
    }
    const vm_load_opts lo = {vm_std_helpers, vm_std_helper_count, HEAP, false};
    size_t size = (vm_arena_size_raw(MAX_INSNS, &lo) + 4095) & ~(size_t)4095;
    /* At a fixed address: programs read bytes of the pointers they store, so what they do
     * depends on the arena's address, and a seed should replay the same runs every time. */
    void *hint = (void *)(uintptr_t)0x3f0000000000ull;
    void *arena = mmap(hint, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (arena == MAP_FAILED) {
        check(0, "region diff: cannot map the arena at %p", hint);
        return check_exit_status();
    }
    totals t = {0};
    const char *env = getenv("VMT_SEED"); /* explore other sequences: VMT_SEED=n */
    if (env && strtoull(env, NULL, 0)) {
        batch(strtoull(env, NULL, 0), PROGRAMS, arena, size, &t);
    } else {
        for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++)
            batch(seeds[k], PROGRAMS, arena, size, &t);
    }
    /* Without regions the cover checks would go untested; the faulting and the clean
     * programs check the slow and the fast copies. */
    check(t.with_regions > t.programs / 2 && t.faulted > t.programs / 10 &&
          t.faulted < t.programs - t.programs / 50,
          "region diff: %ld programs, %ld stopped by a memory fault, %ld compiled with "
          "versioned regions (%ld regions, %.1f instructions each)", t.programs,
          t.faulted, t.with_regions, t.regions,
          t.regions ? (double)t.region_insns / (double)t.regions : 0.0);
    munmap(arena, size);
    return check_exit_status();
}
