/* tests/vm/test_random.c: random-program differential test.  Generates thousands of
 * verified programs (ALU/ALU64 of every kind including division by zero, byte swaps,
 * sign-extending moves, loads/stores/atomics on a buffer and the stack, forward jumps,
 * JMP32, helper calls) and runs each on every engine, comparing r0 and the whole memory
 * buffer, where the epilogue also dumps r0..r8.  With only the interpreter available it
 * checks determinism (two runs agree); once the JIT registers, interpreter vs JIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/check.h"
#include "tests/vm/vmtest.h"
#include "vm/vm_internal.h"

#define N_PROGRAMS 3000
#define BODY 40
#define MEM 256

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

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

static vm_err run(const uint64_t *w, size_t n, vm_engine e, uint8_t mem[MEM], uint64_t *r0,
                  vm_fault *f)
{
    vmt_prog t;
    vm_err err = vmt_load_raw(&t, w, n, e);
    if (err) {
        *f = t.fault;
        vmt_free(&t);
        return err;
    }
    for (int i = 0; i < MEM; i++)
        mem[i] = (uint8_t)(i * 37);
    vm_run_opts o = {0};
    o.engine = e;
    o.args[0] = (uint64_t)(uintptr_t)mem; /* r1, copied to r9 by the prologue */
    o.extra[0] = (vm_region){(uint64_t)(uintptr_t)mem, MEM, VM_READ | VM_WRITE};
    o.n_extra = 1;
    vm_result r;
    vm_run(t.p, &o, &r);
    *r0 = r.r0;
    *f = r.fault;
    vmt_free(&t);
    return r.err;
}

int main(void)
{
    static uint64_t w[512];
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
    return check_exit_status();
}
