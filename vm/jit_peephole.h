/* vm/jit_peephole.h: instruction-pattern matching for the JIT (vm/jit_x86_64.c) - pure
 * functions of the verified program, no code emission.
 *
 * clang's BPF output spells some single x86 instructions as short idioms; the JIT emits
 * the single instruction when the idiom's temporary register is provably dead:
 *   rotate:  mov A, X; rsh A, n; mov B, X; lsh B, w-n; or B, A     ->  mov B, X; ror B, n
 *   test:    mov A, X; and A, imm; jeq/jne A, 0, off               ->  test X, imm; jz/jnz
 *   loop:    jcc +1; ja back                                      ->  j!cc back
 *   select:  test idiom jumping back to T; a few ALU ops; ja T      ->  the ops run always,
 *            the one register they write that the jump path still needs is restored by
 *            cmov; then one jmp T.
 *            No mispredicted branch for data-dependent conditions (collatz's x & 1).
 * Liveness (peep_dead_from) follows jumps, both ways of a conditional one, within a small
 * budget, and answers "live" whenever unsure (exit, local calls, the budget running out).
 * r0 is also read wherever the program may stop with an error, which reports it.
 * The caller must also make sure no instruction but the first of a group is a jump target.
 * `static inline`: vm/jit_compile.c includes this (through vm/jit_analysis.h) but uses none.
 */
#ifndef VM_JIT_PEEPHOLE_H
#define VM_JIT_PEEPHOLE_H
#include <stdbool.h>
#include <stdint.h>
#include "vm/vm_internal.h"

enum { PEEP_ROTATE_LEN = 5, PEEP_TEST_LEN = 3, PEEP_LOOP_LEN = 2 };

typedef struct peep_rotate {
    uint8_t dst, src; /* dst = rotate right (src, n) */
    uint8_t n;
    bool is64;
} peep_rotate;

typedef struct peep_test {
    uint8_t src;       /* flags of src & imm (64-bit if wide, else the low 32 bits) */
    int32_t imm;
    bool wide;
    bool jump_if_zero; /* jeq (else jne) */
    uint32_t target;   /* the jump's target */
} peep_test;

enum { PEEP_SELECT_MAX = 6 }; /* ALU ops in the conditional part */

typedef struct peep_select {
    peep_test t;  /* the test at pc; t.target <= pc + 2 */
    uint32_t len; /* instructions from pc through the closing ja */
    int keep;     /* register the ops write that the jump path reads (-1: none) */
} peep_select;

/* May the instruction at pc stop the program at that pc (fault, helper halt/stop, exit)?  Then r0 - the
 * result reported with the error - counts as read there. */
static inline bool peep_may_stop(vm_insn i, uint32_t pc)
{
    uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
    if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX)
        return true;
    if (cls != BPF_JMP && cls != BPF_JMP32)
        return false;
    (void)pc;
    /* Jumps never stop at a fixed point: a time limit or Ctrl-C stops asynchronously, and
     * r0 after such a stop is unspecified (vm.h "Time and Ctrl-C"). */
    return op == BPF_CALL || op == BPF_EXIT;
}

/* Is eBPF register r certainly overwritten before it is read, on every path from pc on?
 * Which paths enter pc does not matter. */
static inline bool peep_dead_from(const vm_program *p, uint32_t pc, uint8_t r, int *budget, int depth)
{
    for (uint32_t k = pc; k < p->n_insns && (*budget)-- > 0;) {
        vm_insn i = vm_insn_decode(p->insns[k]);
        uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
        bool x = BPF_SRC(i.code) == BPF_X;
        if (r == 0 && peep_may_stop(i, k))
            return false;
        switch (cls) {
        case BPF_ALU: case BPF_ALU64:
            if ((x && op != BPF_END && op != BPF_NEG && i.src == r) ||
                (i.dst == r && op != BPF_MOV))
                return false;
            if (i.dst == r)
                return true;
            k++;
            break;
        case BPF_LD: /* lddw */
            if (i.dst == r)
                return true;
            k += 2;
            break;
        case BPF_LDX:
            if (i.src == r)
                return false;
            if (i.dst == r)
                return true;
            k++;
            break;
        case BPF_ST:
            if (i.dst == r)
                return false;
            k++;
            break;
        case BPF_STX: /* atomics may also read r0 (cmpxchg) */
            if (i.dst == r || i.src == r || (BPF_MODE(i.code) == BPF_ATOMIC && r == 0))
                return false;
            k++;
            break;
        default: /* JMP, JMP32 */
            if (i.code == OP_EXIT || (i.code == OP_CALL && i.src == BPF_PSEUDO_LOCAL))
                return false;
            if (i.code == OP_CALL || i.code == OP_CALLX) { /* helper: reads r1-r5, sets r0 */
                if ((r >= 1 && r <= 5) || (i.code == OP_CALLX && i.dst == r))
                    return false;
                if (r == 0)
                    return true;
                k++;
                break;
            }
            if (i.code == OP_JA || i.code == OP_JA32) {
                k = (uint32_t)((int64_t)k + 1 + (i.code == OP_JA ? i.off : i.imm));
                break;
            }
            if (i.dst == r || (x && i.src == r) || depth >= 6)
                return false;
            return peep_dead_from(p, k + 1, r, budget, depth + 1) &&
                   peep_dead_from(p, (uint32_t)((int64_t)k + 1 + i.off), r, budget, depth + 1);
        }
    }
    return false;
}

static inline bool peep_match_rotate(const vm_program *p, uint32_t pc, peep_rotate *out)
{
    if (pc + PEEP_ROTATE_LEN > p->n_insns)
        return false;
    vm_insn i[PEEP_ROTATE_LEN];
    for (int k = 0; k < PEEP_ROTATE_LEN; k++)
        i[k] = vm_insn_decode(p->insns[pc + k]);
    uint8_t cls = BPF_CLASS(i[0].code);
    if (cls != BPF_ALU && cls != BPF_ALU64)
        return false;
    int w = cls == BPF_ALU64 ? 64 : 32, n = i[1].imm;
    uint8_t a = i[0].dst, x = i[0].src, b = i[2].dst;
    if (i[0].code != (cls | BPF_MOV | BPF_X) || i[0].off ||
        i[1].code != (cls | BPF_RSH | BPF_K) || i[1].dst != a ||
        i[2].code != (cls | BPF_MOV | BPF_X) || i[2].off || i[2].src != x ||
        i[3].code != (cls | BPF_LSH | BPF_K) || i[3].dst != b ||
        i[4].code != (cls | BPF_OR | BPF_X) || i[4].dst != b || i[4].src != a)
        return false;
    if (a == b || a == x || b == x || n <= 0 || n >= w || i[3].imm != w - n)
        return false;
    int budget = 160;
    if (!peep_dead_from(p, pc + PEEP_ROTATE_LEN, a, &budget, 0))
        return false;
    *out = (peep_rotate){b, x, (uint8_t)n, w == 64};
    return true;
}

static inline bool peep_match_test(const vm_program *p, uint32_t pc, peep_test *out)
{
    if (pc + PEEP_TEST_LEN > p->n_insns)
        return false;
    vm_insn i0 = vm_insn_decode(p->insns[pc]), i1 = vm_insn_decode(p->insns[pc + 1]);
    vm_insn i2 = vm_insn_decode(p->insns[pc + 2]);
    uint8_t cls = BPF_CLASS(i0.code), jcls = BPF_CLASS(i2.code), op = BPF_OP(i2.code);
    if ((cls != BPF_ALU && cls != BPF_ALU64) || i0.code != (cls | BPF_MOV | BPF_X) || i0.off ||
        i1.code != (cls | BPF_AND | BPF_K) || i1.dst != i0.dst ||
        (jcls != BPF_JMP && jcls != BPF_JMP32) || (op != BPF_JEQ && op != BPF_JNE) ||
        BPF_SRC(i2.code) != BPF_K || i2.dst != i0.dst || i2.imm != 0 || i0.dst == i0.src)
        return false;
    uint32_t target = (uint32_t)((int64_t)pc + PEEP_TEST_LEN + i2.off);
    int budget = 160;
    if (!peep_dead_from(p, pc + PEEP_TEST_LEN, i0.dst, &budget, 1) ||
        !peep_dead_from(p, target, i0.dst, &budget, 1))
        return false;
    /* (X & imm) == 0 on the width the jump compares: a 32-bit and or jump sees 32 bits */
    *out = (peep_test){i0.src, i1.imm, cls == BPF_ALU64 && jcls == BPF_JMP, op == BPF_JEQ,
                       target};
    return true;
}

/* A conditional jump over the next instruction, which jumps back to *back (< pc + 1). */
static inline bool peep_match_loop(const vm_program *p, uint32_t pc, uint32_t *back)
{
    if (pc + PEEP_LOOP_LEN > p->n_insns)
        return false;
    vm_insn i0 = vm_insn_decode(p->insns[pc]), i1 = vm_insn_decode(p->insns[pc + 1]);
    uint8_t cls = BPF_CLASS(i0.code), op = BPF_OP(i0.code);
    if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_JA || op == BPF_CALL ||
        op == BPF_EXIT || i0.off != 1 || (i1.code != OP_JA && i1.code != OP_JA32))
        return false;
    int64_t t = (int64_t)pc + 2 + (i1.code == OP_JA ? i1.off : i1.imm);
    if (t > pc) /* also rules out the ja's own slot, which has no code when fused */
        return false;
    *back = (uint32_t)t;
    return true;
}

/* test idiom at pc jumping back to T, then ALU ops without side paths, then ja T. */
static inline bool peep_match_select(const vm_program *p, uint32_t pc, peep_select *out)
{
    if (!peep_match_test(p, pc, &out->t) || out->t.target > pc + 2)
        return false;
    unsigned writes = 0;
    for (uint32_t k = pc + PEEP_TEST_LEN; k < p->n_insns && k <= pc + PEEP_TEST_LEN + PEEP_SELECT_MAX;
         k++) {
        vm_insn i = vm_insn_decode(p->insns[k]);
        uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
        if (i.code == OP_JA && (int64_t)k + 1 + i.off == out->t.target && k > pc + PEEP_TEST_LEN) {
            out->len = k - pc + 1;
            out->keep = -1;
            for (uint8_t r = 0; r < 10; r++) {
                int budget = 160;
                if (!(writes >> r & 1) || (r && peep_dead_from(p, out->t.target, r, &budget, 1)))
                    continue;
                if (out->keep >= 0)
                    return false;
                out->keep = r;
            }
            return true;
        }
        /* plain ALU ops only: no division, no shift by a register (both use scratch) */
        if ((cls != BPF_ALU && cls != BPF_ALU64) || op == BPF_DIV || op == BPF_MOD ||
            ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) && BPF_SRC(i.code) == BPF_X))
            return false;
        writes |= 1u << i.dst;
    }
    return false;
}

#endif
