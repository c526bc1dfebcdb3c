/* tests/vm/test_random.c: random-program differential test.  Generates thousands of
 * verified programs (ALU/ALU64 of every kind including division by zero, byte swaps,
 * sign-extending moves, loads/stores/atomics on a buffer and the stack, forward jumps,
 * JMP32, helper calls) and runs each on every engine, comparing r0 and the whole memory
 * buffer, where the epilogue also dumps r0..r8.  With only the interpreter available it
 * checks determinism (two runs agree); once the JIT registers, interpreter vs JIT.
 * Phase 2 (gen_structured) adds control flow: bounded loops (backward jumps, nested),
 * BPF-to-BPF calls (nested, from inside loops, changing r0-r5 and the callee's frame),
 * callx, forward jumps that may leave a loop but never enter one.  Phase 3 does the same
 * with some accesses near and past the buffer's end and some divisions by registers that
 * may be 0 or -1, and compares the error, fault pc, address, size and access too.  Phases
 * 2 and 3 run twice: with the buffer as an extra region (every access takes the engines'
 * slow path) and with it at the top of the program's own stack, so that accesses past its
 * end are faults the JIT's inline checks - and the cover checks of its versioned regions -
 * must catch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/check.h"
#include "tests/vm/vmgen.h"
#include "tests/vm/vmtest.h"
#include "vm/vm_internal.h"

#define N_PROGRAMS 3000
#define BODY 40
#define MEM 256


static int32_t rnd_imm(void)
{
    switch (rnd() % 4) {
    case 0: return (int32_t)(rnd() % 16) - 8;
    case 1: return (int32_t)rnd();
    case 2: return (int32_t)(rnd() % 70);
    default: return INT32_MIN + (int32_t)(rnd() % 3);
    }
}

/* r9 holds the buffer pointer and r10 the frame: never written. */
static uint8_t reg(void) { return (uint8_t)(rnd() % 9); }

static size_t gen(uint64_t *w)
{
    size_t n = 0;
    for (uint8_t r = 0; r < 9; r++) { /* defined start values */
        w[n++] = vm_insn_encode(OP_LDDW, r, 0, 0, (int32_t)rnd());
        w[n++] = vm_insn_encode(0, 0, 0, 0, (int32_t)rnd());
    }
    size_t body_end = n + BODY;
    while (n < body_end) {
        uint32_t k = rnd() % 100;
        uint8_t d = reg(), s = reg();
        if (k < 45) {
            static const uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND,
                                          BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV,
                                          BPF_ARSH};
            uint8_t op = ops[rnd() % sizeof ops];
            uint8_t cls = rnd() & 1 ? BPF_ALU64 : BPF_ALU;
            int16_t off = 0;
            if ((op == BPF_DIV || op == BPF_MOD) && (rnd() & 1))
                off = 1;
            if (op == BPF_NEG) {
                w[n++] = vm_insn_encode(cls | op, d, 0, 0, 0);
            } else if (rnd() & 1) {
                if (op == BPF_MOV && (rnd() % 3 == 0))
                    off = cls == BPF_ALU64 ? (int16_t)(8 << (rnd() % 3)) : (int16_t)(8 << (rnd() % 2));
                w[n++] = vm_insn_encode(cls | op | BPF_X, d, s, off, 0);
            } else {
                w[n++] = vm_insn_encode(cls | op | BPF_K, d, 0, off, rnd_imm());
            }
        } else if (k < 50) {
            static const uint8_t widths[] = {16, 32, 64};
            uint8_t code = rnd() % 3 == 0 ? BPF_ALU64 | BPF_END
                                          : BPF_ALU | BPF_END | (rnd() & 1 ? BPF_X : BPF_K);
            w[n++] = vm_insn_encode(code, d, 0, 0, widths[rnd() % 3]);
        } else if (k < 62) { /* load from buffer or stack */
            static const uint8_t sz[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
            uint8_t size = sz[rnd() % 4];
            int stack = rnd() & 1;
            int16_t off = stack ? -(int16_t)(8 + rnd() % 200) : (int16_t)(rnd() % 120);
            uint8_t mode = (size != BPF_DW && rnd() % 3 == 0) ? BPF_MEMSX : BPF_MEM;
            w[n++] = vm_insn_encode(BPF_LDX | mode | size, d, stack ? 10 : 9, off, 0);
        } else if (k < 74) { /* store */
            static const uint8_t sz[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
            uint8_t size = sz[rnd() % 4];
            int stack = rnd() & 1;
            int16_t off = stack ? -(int16_t)(8 + rnd() % 200) : (int16_t)(rnd() % 120);
            if (rnd() & 1)
                w[n++] = vm_insn_encode(BPF_STX | BPF_MEM | size, stack ? 10 : 9, s, off, 0);
            else
                w[n++] = vm_insn_encode(BPF_ST | BPF_MEM | size, stack ? 10 : 9, 0, off, rnd_imm());
        } else if (k < 80) { /* atomic on the buffer (aligned) */
            static const int32_t aops[] = {BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
                                           BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH,
                                           BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH, BPF_XCHG,
                                           BPF_CMPXCHG};
            uint8_t size = rnd() & 1 ? BPF_DW : BPF_W;
            int16_t off = (int16_t)(8 * (rnd() % 15));
            w[n++] = vm_insn_encode(BPF_STX | BPF_ATOMIC | size, 9, s, off, aops[rnd() % 10]);
        } else if (k < 95) { /* forward conditional jump */
            static const uint8_t jops[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
                                           BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};
            uint8_t cls = rnd() & 1 ? BPF_JMP : BPF_JMP32;
            int16_t off = (int16_t)(rnd() % 4);
            if (n + 1 + (size_t)off > body_end)
                off = 0;
            if (rnd() & 1)
                w[n++] = vm_insn_encode(cls | jops[rnd() % 11] | BPF_X, d, s, off, 0);
            else
                w[n++] = vm_insn_encode(cls | jops[rnd() % 11] | BPF_K, d, 0, off, rnd_imm());
        } else { /* helper with five arguments */
            w[n++] = vm_insn_encode(OP_CALL, 0, 0, 0, VMT_SUM5_ID);
            for (uint8_t r = 1; r <= 5; r++) { /* r1-r5 are undefined after a call */
                w[n++] = vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, (int32_t)rnd());
            }
            body_end += 5;
        }
    }
    for (uint8_t r = 0; r < 9; r++) /* dump registers after the random stores' range */
        w[n++] = vm_insn_encode(BPF_STX | BPF_MEM | BPF_DW, 9, r, (int16_t)(128 + 8 * r), 0);
    w[n++] = vm_insn_encode(OP_EXIT, 0, 0, 0, 0);
    return n;
}

/* ---- phase 2/3: structured programs with loops and calls ---- */

#define MAX_FUNCS 4
#define LOOP_SLOT(depth) ((int16_t)(-264 - 8 * (depth))) /* below the random stack range */

typedef struct sgen {
    uint64_t *w;
    size_t n, cap;
    int faults;               /* phase 3: allow out-of-range accesses */
    int n_funcs;
    size_t call_fix[64];      /* local calls to patch: position and callee */
    int call_to[64];
    int n_calls;
} sgen;

static void put(sgen *g, uint64_t insn)
{
    if (g->n < g->cap)
        g->w[g->n] = insn;
    g->n++;
}

static int16_t buf_off(sgen *g, unsigned size)
{
    if (g->faults && rnd() % 16 == 0)
        return (int16_t)(MEM - 8 + (int)(rnd() % 12)); /* may cross the end of the buffer */
    return (int16_t)(rnd() % (120 - size + 1));
}

/* One straight-line statement (no control flow). */
static void gen_simple(sgen *g)
{
    uint32_t k = rnd() % 100;
    uint8_t d = reg(), s = reg();
    static const uint8_t sz[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
    static const unsigned bytes[] = {1, 2, 4, 8};
    if (k < 50) {
        static const uint8_t ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND,
                                      BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV,
                                      BPF_ARSH};
        uint8_t op = ops[rnd() % sizeof ops];
        uint8_t cls = rnd() & 1 ? BPF_ALU64 : BPF_ALU;
        int16_t off = (op == BPF_DIV || op == BPF_MOD) && (rnd() & 1) ? 1 : 0;
        if (op == BPF_NEG)
            put(g, vm_insn_encode(cls | op, d, 0, 0, 0));
        else if (rnd() & 1)
            put(g, vm_insn_encode(cls | op | BPF_X, d, s, off, 0));
        else if (op == BPF_MUL && rnd() % 3 == 0) /* the JIT's shift/lea forms */
            put(g, vm_insn_encode(cls | op | BPF_K, d, 0, 0, (int32_t)(2 + rnd() % 8)));
        else
            put(g, vm_insn_encode(cls | op | BPF_K, d, 0, off, rnd_imm()));
        if (g->faults && (op == BPF_DIV || op == BPF_MOD) && rnd() % 4 == 0) {
            /* divisor register forced to 0 or -1 first */
            g->n--;
            put(g, vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_K, s, 0, 0, rnd() & 1 ? 0 : -1));
            put(g, vm_insn_encode(cls | op | BPF_X, d, s, off, 0));
        }
    } else if (k < 70) {
        unsigned si = rnd() % 4;
        int stack = rnd() & 1;
        int16_t off = stack ? -(int16_t)(8 + rnd() % 200) : buf_off(g, bytes[si]);
        uint8_t mode = (si != 3 && rnd() % 3 == 0) ? BPF_MEMSX : BPF_MEM;
        put(g, vm_insn_encode(BPF_LDX | mode | sz[si], d, stack ? 10 : 9, off, 0));
    } else if (k < 88) {
        unsigned si = rnd() % 4;
        int stack = rnd() & 1;
        int16_t off = stack ? -(int16_t)(8 + rnd() % 200) : buf_off(g, bytes[si]);
        if (rnd() & 1)
            put(g, vm_insn_encode(BPF_STX | BPF_MEM | sz[si], stack ? 10 : 9, s, off, 0));
        else
            put(g, vm_insn_encode(BPF_ST | BPF_MEM | sz[si], stack ? 10 : 9, 0, off, rnd_imm()));
    } else if (k < 93) {
        static const int32_t aops[] = {BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
                                       BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH,
                                       BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH, BPF_XCHG,
                                       BPF_CMPXCHG};
        uint8_t size = rnd() & 1 ? BPF_DW : BPF_W;
        put(g, vm_insn_encode(BPF_STX | BPF_ATOMIC | size, 9, s, (int16_t)(8 * (rnd() % 15)),
                              aops[rnd() % 10]));
    } else if (k < 95 && d != s) { /* clang's rotate idiom (the JIT fuses it into ror) */
        uint8_t t = (uint8_t)((d + 1 + rnd() % 7) % 9), cls = rnd() & 1 ? BPF_ALU64 : BPF_ALU;
        int w = cls == BPF_ALU64 ? 64 : 32, n = 1 + (int)(rnd() % (unsigned)(w - 1));
        if (t == s || t == d)
            return;
        put(g, vm_insn_encode(cls | BPF_MOV | BPF_X, t, s, 0, 0));
        put(g, vm_insn_encode(cls | BPF_RSH | BPF_K, t, 0, 0, n));
        put(g, vm_insn_encode(cls | BPF_MOV | BPF_X, d, s, 0, 0));
        put(g, vm_insn_encode(cls | BPF_LSH | BPF_K, d, 0, 0, w - n));
        put(g, vm_insn_encode(cls | BPF_OR | BPF_X, d, t, 0, 0));
        if (rnd() & 1) /* temporary dead */
            put(g, vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_K, t, 0, 0, (int32_t)rnd()));
    } else if (k < 97) {
        static const uint8_t widths[] = {16, 32, 64};
        uint8_t code = rnd() % 3 == 0 ? BPF_ALU64 | BPF_END
                                      : BPF_ALU | BPF_END | (rnd() & 1 ? BPF_X : BPF_K);
        put(g, vm_insn_encode(code, d, 0, 0, widths[rnd() % 3]));
    } else { /* helper, directly or through callx with the id in a register */
        if (rnd() & 1) {
            put(g, vm_insn_encode(OP_CALL, 0, 0, 0, VMT_SUM5_ID));
        } else {
            uint8_t r = (uint8_t)(6 + rnd() % 3); /* r6-r8 survive the call */
            put(g, vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, VMT_SUM5_ID));
            put(g, vm_insn_encode(OP_CALLX, r, 0, 0, 0));
        }
        for (uint8_t r = 1; r <= 5; r++) /* r1-r5 are undefined after a helper call */
            put(g, vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, (int32_t)rnd()));
    }
}

/* A block of about `len` statements at loop depth `depth`.  Forward jumps target a later
 * statement of the same block (or its end), so no jump enters a loop from outside. */
static void gen_block(sgen *g, int len, int depth, int func)
{
    size_t starts[80], jfix[80];
    int jfrom[80], nj = 0, ns = 0;
    for (int k = 0; k < len && ns < 78; k++) {
        starts[ns++] = g->n;
        uint32_t r = rnd() % 100;
        if (r < 6 && depth < 2) { /* bounded loop: counter in its own stack slot */
            put(g, vm_insn_encode(BPF_ST | BPF_MEM | BPF_DW, 10, 0, LOOP_SLOT(depth), 1 + (int32_t)(rnd() % 4)));
            size_t head = g->n;
            gen_block(g, 2 + (int)(rnd() % 8), depth + 1, func);
            uint8_t c = reg();
            put(g, vm_insn_encode(BPF_LDX | BPF_MEM | BPF_DW, c, 10, LOOP_SLOT(depth), 0));
            put(g, vm_insn_encode(BPF_ALU64 | BPF_SUB | BPF_K, c, 0, 0, 1));
            put(g, vm_insn_encode(BPF_STX | BPF_MEM | BPF_DW, 10, c, LOOP_SLOT(depth), 0));
            uint8_t cls = rnd() & 1 ? BPF_JMP : BPF_JMP32;
            if (rnd() & 1) { /* clang's other shape: jeq +1 over a ja back */
                put(g, vm_insn_encode(cls | BPF_JEQ | BPF_K, c, 0, 1, 0));
                put(g, vm_insn_encode(OP_JA, 0, 0, (int16_t)((int64_t)head - (int64_t)g->n - 1), 0));
            } else {
                put(g, vm_insn_encode(cls | BPF_JNE | BPF_K, c, 0,
                                      (int16_t)((int64_t)head - (int64_t)g->n - 1), 0));
            }
        } else if (r < 10 && func + 1 < MAX_FUNCS && g->n_calls < 64) { /* local call */
            int callee = func + 1 + (int)(rnd() % (unsigned)(MAX_FUNCS - func - 1));
            g->call_fix[g->n_calls] = g->n;
            g->call_to[g->n_calls++] = callee;
            put(g, vm_insn_encode(OP_CALL, 0, BPF_PSEUDO_LOCAL, 0, 0));
        } else if (r < 24) { /* forward jump, patched below */
            static const uint8_t jops[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
                                           BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};
            uint8_t cls = rnd() & 1 ? BPF_JMP : BPF_JMP32, d = reg();
            if (rnd() % 4 == 0) { /* clang's bit-test idiom: mov A, X; and A, imm; j A, 0 */
                uint8_t a = reg(), x = reg(), acls = rnd() & 1 ? BPF_ALU64 : BPF_ALU;
                put(g, vm_insn_encode(acls | BPF_MOV | BPF_X, a, x, 0, 0));
                put(g, vm_insn_encode(acls | BPF_AND | BPF_K, a, 0, 0, rnd_imm()));
                jfix[nj] = g->n;
                jfrom[nj++] = ns - 1;
                put(g, vm_insn_encode(cls | (rnd() & 1 ? BPF_JEQ : BPF_JNE) | BPF_K, a, 0, 0, 0));
                continue;
            }
            jfix[nj] = g->n;
            jfrom[nj++] = ns - 1;
            if (rnd() % 8 == 0)
                put(g, vm_insn_encode(OP_JA, 0, 0, 0, 0));
            else if (rnd() & 1)
                put(g, vm_insn_encode(cls | jops[rnd() % 11] | BPF_X, d, reg(), 0, 0));
            else
                put(g, vm_insn_encode(cls | jops[rnd() % 11] | BPF_K, d, 0, 0, rnd_imm()));
        } else {
            gen_simple(g);
        }
    }
    starts[ns] = g->n;
    for (int k = 0; k < nj; k++) {
        int to = jfrom[k] + 1 + (int)(rnd() % 4);
        if (to > ns)
            to = ns;
        if (jfix[k] < g->cap)
            g->w[jfix[k]] = (g->w[jfix[k]] & ~(0xffffull << 16)) |
                            (uint64_t)(uint16_t)(starts[to] - jfix[k] - 1) << 16;
    }
}

/* main: r9 = buffer; defined registers; body; dump r0-r8; exit.  Then functions 1..3. */
static size_t gen_structured(uint64_t *w, size_t cap, int faults)
{
    sgen g = {w, 0, cap, faults, 0, {0}, {0}, 0};
    size_t fstart[MAX_FUNCS];
    put(&g, vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_X, 9, 1, 0, 0));
    for (uint8_t r = 0; r < 9; r++) {
        put(&g, vm_insn_encode(OP_LDDW, r, 0, 0, (int32_t)rnd()));
        put(&g, vm_insn_encode(0, 0, 0, 0, (int32_t)rnd()));
    }
    fstart[0] = 0;
    gen_block(&g, 30, 0, 0);
    for (uint8_t r = 0; r < 9; r++)
        put(&g, vm_insn_encode(BPF_STX | BPF_MEM | BPF_DW, 9, r, (int16_t)(128 + 8 * r), 0));
    put(&g, vm_insn_encode(OP_EXIT, 0, 0, 0, 0));
    for (int f = 1; f < MAX_FUNCS; f++) {
        fstart[f] = g.n;
        gen_block(&g, 6 + (int)(rnd() % 10), 0, f);
        put(&g, vm_insn_encode(OP_EXIT, 0, 0, 0, 0));
    }
    for (int k = 0; k < g.n_calls; k++)
        if (g.call_fix[k] < cap)
            w[g.call_fix[k]] = vm_insn_encode(OP_CALL, 0, BPF_PSEUDO_LOCAL, 0,
                                              (int32_t)(fstart[g.call_to[k]] - g.call_fix[k] - 1));
    return g.n <= cap ? g.n : 0;
}

/* Runs w with the buffer in mem (an extra region) or, in_arena, in the last MEM bytes of
 * the program's stack (copied to mem afterwards); *base = the buffer's address. */
static vm_err run_in(const uint64_t *w, size_t n, vm_engine e, uint8_t mem[MEM], uint64_t *r0,
                     vm_fault *f, int in_arena, uint64_t *base)
{
    vmt_prog t;
    vm_err err = vmt_load_raw(&t, w, n, e);
    if (err) {
        *f = t.fault;
        vmt_free(&t);
        return err;
    }
    uint8_t *buf = mem;
    if (in_arena)
        buf = (uint8_t *)(uintptr_t)(t.p->seg_base[VM_SEG_STACK] + t.p->seg_size[VM_SEG_STACK] - MEM);
    for (int i = 0; i < MEM; i++)
        buf[i] = (uint8_t)(i * 37);
    vm_run_opts o = {0};
    o.engine = e;
    o.args[0] = (uint64_t)(uintptr_t)buf; /* r1, copied to r9 by the prologue */
    if (!in_arena) {
        o.extra[0] = (vm_region){(uint64_t)(uintptr_t)mem, MEM, VM_READ | VM_WRITE};
        o.n_extra = 1;
    }
    vm_result r;
    vm_host_run(t.p, &o, &r);
    *r0 = r.r0;
    *f = r.fault;
    *base = (uint64_t)(uintptr_t)buf;
    if (in_arena)
        memcpy(mem, buf, MEM);
    vmt_free(&t);
    return r.err;
}

static vm_err run(const uint64_t *w, size_t n, vm_engine e, uint8_t mem[MEM], uint64_t *r0,
                  vm_fault *f)
{
    uint64_t base;
    return run_in(w, n, e, mem, r0, f, 0, &base);
}

int main(void)
{
    static uint64_t w[512];
    const char *seed = getenv("VMT_SEED"); /* explore other sequences: VMT_SEED=n */
    rng_state = 0x243f6a8885a308d3ull;
    if (seed && strtoull(seed, NULL, 0))
        rng_state = strtoull(seed, NULL, 0);
    vm_engine engines[2];
    int ne = vmt_engines(engines);
    vm_engine other = ne > 1 ? engines[1] : engines[0];
    int loaded = 0, mismatches = 0, errors = 0;
    char first[300] = "";
    for (int i = 0; i < N_PROGRAMS; i++) {
        w[0] = vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_X, 9, 1, 0, 0);
        size_t n = gen(w + 1) + 1;
        uint8_t m1[MEM], m2[MEM];
        uint64_t a, b;
        vm_fault f1, f2;
        vm_err e1 = run(w, n, VM_ENGINE_INTERP, m1, &a, &f1);
        vm_err e2 = run(w, n, other, m2, &b, &f2);
        if (e1 == VM_OK)
            loaded++;
        else
            errors++;
        if (e1 != e2 || a != b || memcmp(m1, m2, MEM) || f1.pc != f2.pc) {
            if (!mismatches++)
                snprintf(first, sizeof first, "program %d: err %d/%d r0 %llx/%llx", i, e1, e2,
                         (unsigned long long)a, (unsigned long long)b);
        }
    }
    check(errors == 0, "random programs all verify and run cleanly (%d errors)", errors);
    check(mismatches == 0, "random programs: %d programs, interp vs %s agree on r0, registers "
          "and memory%s%s", loaded, vmt_engine_name(other), mismatches ? ": " : "", first);

    static uint64_t sw[4096];
    for (int phase = 0; phase < 4; phase++) {
        int faults = phase & 1, in_arena = phase >> 1;
        int ok = 0, faulted = 0, bad = 0, backward = 0, calls = 0;
        mismatches = 0;
        first[0] = 0;
        for (int i = 0; i < N_PROGRAMS; i++) {
            size_t n = gen_structured(sw, 4096, faults);
            if (!n) {
                bad++;
                continue;
            }
            for (size_t k = 0; k < n; k++) {
                vm_insn in = vm_insn_decode(sw[k]);
                backward += (BPF_CLASS(in.code) == BPF_JMP || BPF_CLASS(in.code) == BPF_JMP32) &&
                            in.code != OP_CALL && in.code != OP_EXIT && in.off < 0;
                calls += in.code == OP_CALL && in.src == BPF_PSEUDO_LOCAL;
            }
            uint8_t m1[MEM], m2[MEM];
            uint64_t a, b;
            vm_fault f1, f2;
            uint64_t base1, base2;
            vm_err e1 = run_in(sw, n, VM_ENGINE_INTERP, m1, &a, &f1, in_arena, &base1);
            vm_err e2 = run_in(sw, n, other, m2, &b, &f2, in_arena, &base2);
            if (e1 == VM_OK)
                ok++;
            else if (e1 == VM_E_MEM)
                faulted++;
            else
                bad++;
            /* fault addresses relative to each run's buffer */
            uint64_t a1 = e1 == VM_E_MEM ? f1.addr - base1 : 0;
            uint64_t a2 = e2 == VM_E_MEM ? f2.addr - base2 : 0;
            if (e1 != e2 || a != b || memcmp(m1, m2, MEM) || f1.pc != f2.pc || a1 != a2 ||
                f1.size != f2.size || f1.access != f2.access) {
                if (!mismatches++) {
                    int at = -1;
                    for (int k = 0; k < MEM && at < 0; k++)
                        if (m1[k] != m2[k])
                            at = k;
                    snprintf(first, sizeof first, "program %d: err %d/%d pc %lld/%lld r0 %llx/%llx "
                             "addr %lld/%lld size %u/%u, memory differs at %d",
                             i, e1, e2, (long long)f1.pc, (long long)f2.pc,
                             (unsigned long long)a, (unsigned long long)b,
                             (long long)a1, (long long)a2,
                             f1.size, f2.size, at);
                    if (getenv("VMT_DUMP"))
                        vmg_dump(sw, n);
                }
            }
        }
        const char *what = !in_arena ? (faults ? "with faults" : "with loops and calls")
                         : (faults ? "with faults, buffer on the stack"
                                   : "with loops and calls, buffer on the stack");
        check(bad == 0, "random programs %s: all verify, none fails other than by a memory "
              "fault (%d bad)", what, bad);
        check(faults ? faulted > N_PROGRAMS / 10 && ok > N_PROGRAMS / 10 : faulted == 0,
              "random programs %s: %d ran cleanly, %d stopped by a memory fault", what, ok, faulted);
        check(backward > N_PROGRAMS && calls > N_PROGRAMS,
              "random programs %s: %d backward jumps and %d local calls generated", what,
              backward, calls);
        check(mismatches == 0, "random programs %s: %d programs, interp vs %s agree on error, "
              "fault, r0, registers and memory%s%s", what, N_PROGRAMS, vmt_engine_name(other),
              mismatches ? ": " : "", first);
    }
    return check_exit_status();
}
