/* vm/interp.c: the reference engine - a switch interpreter over the verified program.
 *
 * Interface: vm_interp_run(p, st), called by vm_run() with st prepared.
 * It trusts the verifier's invariants (vm_internal.h) and enforces the run-time ones itself,
 * through the same slow paths the JIT calls (vm.c), so both engines report identical errors:
 *   - every load/store/atomic goes through the sandbox check before touching memory;
 *   - local calls are bounded by VM_MAX_CALL_DEPTH, saved frames live in st->frames (never
 *     in program-visible memory, so a program cannot forge a return address);
 *   - taken backward jumps and calls poll the stop flag / deadline.
 * Arithmetic follows RFC 9669 exactly, written so no C undefined behaviour can occur
 * (shifts masked, division by zero and INT_MIN/-1 handled explicitly).
 */
#include <string.h>
#include "vm/vm_internal.h"

static inline uint64_t ld(uint64_t a, unsigned size)
{
    const void *p = (const void *)(uintptr_t)a;
    switch (size) {
    case 1: { uint8_t v; memcpy(&v, p, 1); return v; }
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static inline void st_(uint64_t a, unsigned size, uint64_t v)
{
    void *p = (void *)(uintptr_t)a;
    switch (size) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}


static inline uint64_t bswap16(uint64_t x) { return (x >> 8 & 0xff) | (x & 0xff) << 8; }
static inline uint64_t bswap32(uint64_t x) { return __builtin_bswap32((uint32_t)x); }
static inline uint64_t bswap64(uint64_t x) { return __builtin_bswap64(x); }

static inline uint64_t sdiv64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return 0;
    if ((int64_t)b == -1)
        return 0 - a; /* INT64_MIN / -1 = INT64_MIN, without overflow */
    return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t smod64(uint64_t a, uint64_t b)
{
    if (b == 0)
        return a;
    if ((int64_t)b == -1)
        return 0;
    return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t sdiv32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return 0;
    if ((int32_t)b == -1)
        return 0 - a;
    return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint32_t smod32(uint32_t a, uint32_t b)
{
    if (b == 0)
        return a;
    if ((int32_t)b == -1)
        return 0;
    return (uint32_t)((int32_t)a % (int32_t)b);
}

/* 64-bit ALU result of op on (a, b); off selects the signed / sign-extending variants. */
static inline uint64_t alu64(uint8_t op, int16_t off, uint64_t a, uint64_t b)
{
    switch (op) {
    case BPF_ADD: return a + b;
    case BPF_SUB: return a - b;
    case BPF_MUL: return a * b;
    case BPF_DIV: return off ? sdiv64(a, b) : (b ? a / b : 0);
    case BPF_OR: return a | b;
    case BPF_AND: return a & b;
    case BPF_LSH: return a << (b & 63);
    case BPF_RSH: return a >> (b & 63);
    case BPF_NEG: return 0 - a;
    case BPF_MOD: return off ? smod64(a, b) : (b ? a % b : a);
    case BPF_XOR: return a ^ b;
    case BPF_MOV:
        switch (off) {
        case 8: return (uint64_t)(int64_t)(int8_t)b;
        case 16: return (uint64_t)(int64_t)(int16_t)b;
        case 32: return (uint64_t)(int64_t)(int32_t)b;
        default: return b;
        }
    case BPF_ARSH: return (uint64_t)((int64_t)a >> (b & 63));
    default: return a;
    }
}

static inline uint32_t alu32(uint8_t op, int16_t off, uint32_t a, uint32_t b)
{
    switch (op) {
    case BPF_ADD: return a + b;
    case BPF_SUB: return a - b;
    case BPF_MUL: return a * b;
    case BPF_DIV: return off ? sdiv32(a, b) : (b ? a / b : 0);
    case BPF_OR: return a | b;
    case BPF_AND: return a & b;
    case BPF_LSH: return a << (b & 31);
    case BPF_RSH: return a >> (b & 31);
    case BPF_NEG: return 0 - a;
    case BPF_MOD: return off ? smod32(a, b) : (b ? a % b : a);
    case BPF_XOR: return a ^ b;
    case BPF_MOV:
        switch (off) {
        case 8: return (uint32_t)(int32_t)(int8_t)b;
        case 16: return (uint32_t)(int32_t)(int16_t)b;
        default: return b;
        }
    case BPF_ARSH: return (uint32_t)((int32_t)a >> (b & 31));
    default: return a;
    }
}

static inline int cond64(uint8_t op, uint64_t a, uint64_t b)
{
    switch (op) {
    case BPF_JEQ: return a == b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JSET: return (a & b) != 0;
    case BPF_JNE: return a != b;
    case BPF_JSGT: return (int64_t)a > (int64_t)b;
    case BPF_JSGE: return (int64_t)a >= (int64_t)b;
    case BPF_JLT: return a < b;
    case BPF_JLE: return a <= b;
    case BPF_JSLT: return (int64_t)a < (int64_t)b;
    case BPF_JSLE: return (int64_t)a <= (int64_t)b;
    default: return 0;
    }
}

static inline int cond32(uint8_t op, uint32_t a, uint32_t b)
{
    switch (op) {
    case BPF_JEQ: return a == b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JSET: return (a & b) != 0;
    case BPF_JNE: return a != b;
    case BPF_JSGT: return (int32_t)a > (int32_t)b;
    case BPF_JSGE: return (int32_t)a >= (int32_t)b;
    case BPF_JLT: return a < b;
    case BPF_JLE: return a <= b;
    case BPF_JSLT: return (int32_t)a < (int32_t)b;
    case BPF_JSLE: return (int32_t)a <= (int32_t)b;
    default: return 0;
    }
}

/* The sandbox rule of vm.h as one unsigned compare per bound; wrap-around safe because
 * mem_hi - lo >= size always holds (the stack alone is larger than any access). */
#define MEM_CHECK(addr, size, lo, access)                                                  \
    do {                                                                                   \
        if (__builtin_expect((addr) - (lo) > (mem_hi - (lo)) - (size), 0) &&               \
            !vm_mem_slow(st, (addr), (size), (access), pc))                                \
            goto out;                                                                      \
    } while (0)

#define POLL()                                                                             \
    do {                                                                                   \
        if (__builtin_expect(st->stop | (--st->ticks == 0), 0) && !vm_poll(st, pc))        \
            goto out;                                                                      \
    } while (0)

void vm_interp_run(vm_program *p, vm_state *st)
{
    const uint64_t *code = p->insns;
    const uint64_t mem_lo = st->mem_lo, rw_lo = st->rw_lo;
    const uint64_t mem_hi = st->mem_hi;
    uint64_t reg[11];
    uint32_t pc = p->entry;
    memcpy(reg, st->reg, sizeof reg);

/* One case per opcode byte: the op is a constant in each case, so the inline helpers above
 * fold to a single operation and dispatch is one jump table. */
#define ALU(OP)                                                                            \
    case BPF_ALU64 | OP | BPF_K:                                                           \
        reg[dst] = alu64(OP, off, reg[dst], (uint64_t)(int64_t)imm);                       \
        break;                                                                             \
    case BPF_ALU64 | OP | BPF_X:                                                           \
        reg[dst] = alu64(OP, off, reg[dst], reg[src]);                                     \
        break;                                                                             \
    case BPF_ALU | OP | BPF_K:                                                             \
        reg[dst] = alu32(OP, off, (uint32_t)reg[dst], (uint32_t)imm);                      \
        break;                                                                             \
    case BPF_ALU | OP | BPF_X:                                                             \
        reg[dst] = alu32(OP, off, (uint32_t)reg[dst], (uint32_t)reg[src]);                 \
        break;
#define JUMP(REL)                                                                          \
    do {                                                                                   \
        if ((REL) < 0)                                                                     \
            POLL();                                                                        \
        pc = (uint32_t)((int64_t)pc + (REL));                                              \
    } while (0)
#define JCC(OP)                                                                            \
    case BPF_JMP | OP | BPF_K:                                                             \
        if (cond64(OP, reg[dst], (uint64_t)(int64_t)imm))                                  \
            JUMP(off);                                                                     \
        break;                                                                             \
    case BPF_JMP | OP | BPF_X:                                                             \
        if (cond64(OP, reg[dst], reg[src]))                                                \
            JUMP(off);                                                                     \
        break;                                                                             \
    case BPF_JMP32 | OP | BPF_K:                                                           \
        if (cond32(OP, (uint32_t)reg[dst], (uint32_t)imm))                                 \
            JUMP(off);                                                                     \
        break;                                                                             \
    case BPF_JMP32 | OP | BPF_X:                                                           \
        if (cond32(OP, (uint32_t)reg[dst], (uint32_t)reg[src]))                            \
            JUMP(off);                                                                     \
        break;
#define LDX(SZ, N)                                                                         \
    case BPF_LDX | BPF_MEM | SZ: {                                                         \
        uint64_t a = reg[src] + (uint64_t)(int64_t)off;                                    \
        MEM_CHECK(a, N, mem_lo, VM_READ);                                                  \
        reg[dst] = ld(a, N);                                                               \
        break;                                                                             \
    }
#define LDXSX(SZ, N, T)                                                                    \
    case BPF_LDX | BPF_MEMSX | SZ: {                                                       \
        uint64_t a = reg[src] + (uint64_t)(int64_t)off;                                    \
        MEM_CHECK(a, N, mem_lo, VM_READ);                                                  \
        reg[dst] = (uint64_t)(int64_t)(T)ld(a, N);                                         \
        break;                                                                             \
    }
#define STORE(SZ, N)                                                                       \
    case BPF_ST | BPF_MEM | SZ: {                                                          \
        uint64_t a = reg[dst] + (uint64_t)(int64_t)off;                                    \
        MEM_CHECK(a, N, rw_lo, VM_WRITE);                                                  \
        st_(a, N, (uint64_t)(int64_t)imm);                                                 \
        break;                                                                             \
    }                                                                                      \
    case BPF_STX | BPF_MEM | SZ: {                                                         \
        uint64_t a = reg[dst] + (uint64_t)(int64_t)off;                                    \
        MEM_CHECK(a, N, rw_lo, VM_WRITE);                                                  \
        st_(a, N, reg[src]);                                                               \
        break;                                                                             \
    }

    for (;;) {
        uint64_t w = code[pc];
        uint8_t opc = (uint8_t)w;
        uint8_t dst = (w >> 8) & 0xf, src = (w >> 12) & 0xf;
        int16_t off = (int16_t)(uint16_t)(w >> 16);
        int32_t imm = (int32_t)(uint32_t)(w >> 32);

        switch (opc) {
        ALU(BPF_ADD) ALU(BPF_SUB) ALU(BPF_MUL) ALU(BPF_DIV) ALU(BPF_OR) ALU(BPF_AND)
        ALU(BPF_LSH) ALU(BPF_RSH) ALU(BPF_MOD) ALU(BPF_XOR) ALU(BPF_MOV) ALU(BPF_ARSH)
        case BPF_ALU64 | BPF_NEG:
            reg[dst] = 0 - reg[dst];
            break;
        case BPF_ALU | BPF_NEG:
            reg[dst] = (uint32_t)(0 - (uint32_t)reg[dst]);
            break;
        case BPF_ALU64 | BPF_END: /* bswap */
            reg[dst] = imm == 16 ? bswap16(reg[dst]) : imm == 32 ? bswap32(reg[dst])
                                                                 : bswap64(reg[dst]);
            break;
        case BPF_ALU | BPF_END | BPF_X: /* to big endian: a swap on this little-endian VM */
            reg[dst] = imm == 16 ? bswap16(reg[dst]) : imm == 32 ? bswap32(reg[dst])
                                                                 : bswap64(reg[dst]);
            break;
        case BPF_ALU | BPF_END | BPF_K: /* to little endian: truncation only */
            reg[dst] = imm == 16 ? (uint16_t)reg[dst] : imm == 32 ? (uint32_t)reg[dst] : reg[dst];
            break;
        case OP_LDDW:
            reg[dst] = (uint32_t)(w >> 32) | (code[pc + 1] >> 32) << 32;
            pc++;
            break;
        LDX(BPF_B, 1) LDX(BPF_H, 2) LDX(BPF_W, 4) LDX(BPF_DW, 8)
        LDXSX(BPF_B, 1, int8_t) LDXSX(BPF_H, 2, int16_t) LDXSX(BPF_W, 4, int32_t)
        STORE(BPF_B, 1) STORE(BPF_H, 2) STORE(BPF_W, 4) STORE(BPF_DW, 8)
        case BPF_STX | BPF_ATOMIC | BPF_W:
        case BPF_STX | BPF_ATOMIC | BPF_DW: {
            /* One thread per program, so a plain read-modify-write is atomic here. */
            unsigned size = BPF_SIZE(opc) == BPF_W ? 4 : 8;
            uint64_t a = reg[dst] + (uint64_t)(int64_t)off;
            MEM_CHECK(a, size, rw_lo, VM_WRITE);
            uint64_t old = ld(a, size), v = reg[src], nv;
            if (imm == BPF_CMPXCHG) {
                uint64_t expect = size == 4 ? (uint32_t)reg[0] : reg[0];
                if (old == expect)
                    st_(a, size, v);
                reg[0] = old;
                break;
            }
            switch (imm & ~BPF_FETCH) {
            case BPF_ADD: nv = old + v; break;
            case BPF_OR: nv = old | v; break;
            case BPF_AND: nv = old & v; break;
            case BPF_XOR: nv = old ^ v; break;
            default: nv = v; break; /* xchg */
            }
            st_(a, size, nv);
            if (imm & BPF_FETCH)
                reg[src] = old;
            break;
        }
        case OP_JA:
            JUMP(off);
            break;
        case OP_JA32:
            JUMP(imm);
            break;
        JCC(BPF_JEQ) JCC(BPF_JGT) JCC(BPF_JGE) JCC(BPF_JSET) JCC(BPF_JNE) JCC(BPF_JSGT)
        JCC(BPF_JSGE) JCC(BPF_JLT) JCC(BPF_JLE) JCC(BPF_JSLT) JCC(BPF_JSLE)
        case OP_CALL:
            if (src == BPF_PSEUDO_LOCAL) {
                POLL();
                if (st->depth + 1 > VM_MAX_CALL_DEPTH) {
                    vm_fault_depth(st, pc);
                    goto out;
                }
                vm_frame *fr = &st->frames[st->depth++];
                memcpy(fr->r6_r9, &reg[6], sizeof fr->r6_r9);
                fr->r10 = reg[10];
                fr->ret_pc = pc + 1;
                reg[10] -= VM_FRAME_SIZE;
                pc = (uint32_t)((int64_t)pc + imm);
                break;
            }
            __attribute__((fallthrough)); /* a helper call */
        case OP_CALLX: {
            uint64_t id = opc == OP_CALLX ? reg[dst] : (uint64_t)(uint32_t)imm;
            const vm_helper *h = id < VM_MAX_HELPERS ? p->helper[id] : NULL;
            if (!h) {
                vm_callx_fail(st, pc, id);
                goto out;
            }
            reg[0] = h->fn(reg[1], reg[2], reg[3], reg[4], reg[5], st);
            if (st->halt) {
                vm_halted(st, pc);
                goto out;
            }
            break;
        }
        case OP_EXIT: {
            if (st->depth == 0)
                goto out;
            vm_frame *fr = &st->frames[--st->depth];
            memcpy(&reg[6], fr->r6_r9, sizeof fr->r6_r9);
            reg[10] = fr->r10;
            pc = fr->ret_pc;
            continue;
        }
        default: /* unreachable for verified programs */
            vm_halt_error(st, VM_E_OPCODE, "interpreter: unverified opcode");
            vm_halted(st, pc);
            goto out;
        }
        pc++;
    }
out:
    memcpy(st->reg, reg, sizeof reg);
}
