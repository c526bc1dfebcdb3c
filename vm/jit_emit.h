/* vm/jit_emit.h: the x86-64 machine-code emitter under the JIT (vm/jit_x86_64.c).
 *
 * Layers, bottom up: bytes into a caller's buffer (jit_buf) -> prefixes, REX and ModRM/SIB
 * operands -> one small function per x86 instruction form the JIT uses.  Nothing here knows
 * about eBPF.
 *
 * Three streams share one buffer: the main code, then the slow copies of versioned regions
 * (vm/jit_x86_64.c "Regions"), then the cold code (out-of-line fault and stop paths).  `at`
 * selects the stream being written.  The JIT runs twice: the
 * sizing pass learns every instruction's offset and the main code's length, the final pass
 * writes the same bytes with all displacements known.  So every encoding choice here must
 * depend only on its operands, never on code positions (all branches to labels are rel32,
 * or rel8 over a span of known size).
 * Errors are sticky: a write past `limit` sets `overflow` and is dropped; the JIT checks it
 * once at the end.
 */
#ifndef VM_JIT_EMIT_H
#define VM_JIT_EMIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* x86-64 general registers, by their encoding number. */
enum x86_reg {
    RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
    R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15
};

/* Condition codes (low nibble of Jcc 0F 8x / 7x). */
enum x86_cc {
    CC_B = 0x2,  /* below (unsigned <) */
    CC_AE = 0x3, /* above or equal (unsigned >=) */
    CC_E = 0x4,  /* equal / zero */
    CC_NE = 0x5, /* not equal / not zero */
    CC_BE = 0x6, /* below or equal */
    CC_A = 0x7,  /* above */
    CC_L = 0xc,  /* signed < */
    CC_GE = 0xd, /* signed >= */
    CC_LE = 0xe, /* signed <= */
    CC_G = 0xf,  /* signed > */
};

/* ALU group-1 operations: the /digit of 81/83 and the r/m,reg opcode of the same op. */
enum x86_alu { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };
static const uint8_t x86_alu_rm_r[8] = {0x01, 0x09, 0, 0, 0x21, 0x29, 0x31, 0x39};

/* Shift group-2 /digit. */
enum x86_shift { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

/* Instruction flags for the operand helpers. */
enum {
    X_W = 1,    /* REX.W: 64-bit operand */
    X_66 = 2,   /* operand-size prefix: 16-bit operand */
    X_BYTE = 4, /* always emit REX, so registers 4-7 mean spl/bpl/sil/dil in byte forms */
    X_LOCK = 8, /* lock prefix */
};

typedef struct jit_buf {
    uint8_t *buf;
    size_t limit;          /* bytes of buf available to code */
    size_t main_pos;       /* next byte of the main stream */
    size_t slow_pos;       /* next byte of the slow-copy stream */
    size_t cold_pos;       /* next byte of the cold stream */
    size_t *at;            /* &main_pos, &slow_pos or &cold_pos */
    bool write_main;       /* false in the sizing pass: only positions are computed (main
                            * and slow streams) */
    bool write_cold;       /* false in the sizing pass, where cold offsets are provisional */
    bool overflow;         /* sticky: some byte did not fit */
} jit_buf;

static inline size_t jb_pos(const jit_buf *j) { return *j->at; }

static inline void jb_put_at(jit_buf *j, size_t pos, uint8_t b, bool cold)
{
    if (cold ? !j->write_cold : !j->write_main)
        return;
    if (pos >= j->limit) {
        j->overflow = true;
        return;
    }
    j->buf[pos] = b;
}

static inline void emit1(jit_buf *j, uint8_t b)
{
    jb_put_at(j, *j->at, b, j->at == &j->cold_pos);
    (*j->at)++;
}

static inline void emit4(jit_buf *j, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        emit1(j, (uint8_t)(v >> (8 * i)));
}

static inline void emit8(jit_buf *j, uint64_t v)
{
    emit4(j, (uint32_t)v);
    emit4(j, (uint32_t)(v >> 32));
}

static inline bool fits8(int64_t v) { return v >= -128 && v <= 127; }
static inline bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

/* ---- prefixes, REX, ModRM ---- */

static inline void emit_prefix_rex(jit_buf *j, unsigned flags, int reg, int index, int rm)
{
    if (flags & X_LOCK)
        emit1(j, 0xf0);
    if (flags & X_66)
        emit1(j, 0x66);
    uint8_t rex = (uint8_t)(0x40 | (flags & X_W ? 8 : 0) | ((reg >> 3) & 1) << 2 |
                            ((index >> 3) & 1) << 1 | ((rm >> 3) & 1));
    if (rex != 0x40 || (flags & X_BYTE))
        emit1(j, rex);
}

static inline void emit_opcode(jit_buf *j, uint32_t op)
{
    if (op > 0xffff)
        emit1(j, (uint8_t)(op >> 16));
    if (op > 0xff)
        emit1(j, (uint8_t)(op >> 8));
    emit1(j, (uint8_t)op);
}

/* ModRM (+SIB, +displacement) for [base + disp]; rsp/r12 need a SIB, rbp/r13 a displacement. */
static inline void emit_modrm_mem(jit_buf *j, int reg, int base, int32_t disp)
{
    int mod = (disp == 0 && (base & 7) != RBP) ? 0 : fits8(disp) ? 1 : 2;
    emit1(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
    if ((base & 7) == RSP)
        emit1(j, 0x24); /* SIB: base only */
    if (mod == 1)
        emit1(j, (uint8_t)disp);
    else if (mod == 2)
        emit4(j, (uint32_t)disp);
}

/* op reg, rm (both registers). */
static inline void x_rr(jit_buf *j, unsigned flags, uint32_t op, int reg, int rm)
{
    emit_prefix_rex(j, flags, reg, 0, rm);
    emit_opcode(j, op);
    emit1(j, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* op reg, [base + disp]. */
static inline void x_rm(jit_buf *j, unsigned flags, uint32_t op, int reg, int base, int32_t disp)
{
    emit_prefix_rex(j, flags, reg, 0, base);
    emit_opcode(j, op);
    emit_modrm_mem(j, reg, base, disp);
}

/* op reg, [base + index*scale + disp] (index is never rsp; scale_log2 0..3). */
static inline void x_rm_idx(jit_buf *j, unsigned flags, uint32_t op, int reg, int base,
                            int index, int scale_log2, int32_t disp)
{
    emit_prefix_rex(j, flags, reg, index, base);
    emit_opcode(j, op);
    int mod = (disp == 0 && (base & 7) != RBP) ? 0 : fits8(disp) ? 1 : 2;
    emit1(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
    emit1(j, (uint8_t)(scale_log2 << 6 | (index & 7) << 3 | (base & 7)));
    if (mod == 1)
        emit1(j, (uint8_t)disp);
    else if (mod == 2)
        emit4(j, (uint32_t)disp);
}

/* ---- instruction forms ---- */

static inline unsigned wflag(bool is64) { return is64 ? X_W : 0; }

static inline void x_mov_rr(jit_buf *j, bool is64, int dst, int src)
{
    x_rr(j, wflag(is64), 0x89, src, dst);
}

/* add/or/and/sub/xor/cmp dst, src */
static inline void x_alu_rr(jit_buf *j, bool is64, enum x86_alu op, int dst, int src)
{
    x_rr(j, wflag(is64), x86_alu_rm_r[op], src, dst);
}

/* add/or/and/sub/xor/cmp dst, imm (sign-extended to the operand size) */
static inline void x_alu_ri(jit_buf *j, bool is64, enum x86_alu op, int dst, int32_t imm)
{
    if (fits8(imm)) {
        x_rr(j, wflag(is64), 0x83, op, dst);
        emit1(j, (uint8_t)imm);
    } else {
        x_rr(j, wflag(is64), 0x81, op, dst);
        emit4(j, (uint32_t)imm);
    }
}

/* op reg, [base + disp] for add/or/and/sub/xor/cmp (the r,r/m direction: opcode + 2). */
static inline void x_alu_rmem(jit_buf *j, bool is64, enum x86_alu op, int reg, int base,
                              int32_t disp)
{
    x_rm(j, wflag(is64), (uint32_t)(x86_alu_rm_r[op] + 2), reg, base, disp);
}

/* cmp dword/qword [base + disp], imm8 */
static inline void x_cmp_mem_i8(jit_buf *j, bool is64, int base, int32_t disp, int8_t imm)
{
    x_rm(j, wflag(is64), 0x83, ALU_CMP, base, disp);
    emit1(j, (uint8_t)imm);
}

static inline void x_test_rr(jit_buf *j, bool is64, int a, int b)
{
    x_rr(j, wflag(is64), 0x85, b, a);
}

static inline void x_test_ri(jit_buf *j, bool is64, int r, int32_t imm)
{
    x_rr(j, wflag(is64), 0xf7, 0, r);
    emit4(j, (uint32_t)imm);
}

/* dst = imm as the ISA wants it: is64 -> sign-extended imm32, else zero-extended imm32. */
static inline void x_mov_ri(jit_buf *j, bool is64, int dst, int32_t imm)
{
    if (imm == 0) {
        x_rr(j, 0, 0x31, dst, dst); /* xor r32, r32 */
    } else if (!is64 || imm > 0) {
        emit_prefix_rex(j, 0, 0, 0, dst);
        emit1(j, (uint8_t)(0xb8 + (dst & 7))); /* mov r32, imm32 zero-extends */
        emit4(j, (uint32_t)imm);
    } else {
        x_rr(j, X_W, 0xc7, 0, dst); /* mov r64, simm32 */
        emit4(j, (uint32_t)imm);
    }
}

static inline void x_mov_ri64(jit_buf *j, int dst, uint64_t imm)
{
    if (imm <= UINT32_MAX) {
        x_mov_ri(j, false, dst, (int32_t)(uint32_t)imm);
    } else if ((int64_t)imm >= INT32_MIN && (int64_t)imm < 0) {
        x_mov_ri(j, true, dst, (int32_t)(int64_t)imm);
    } else {
        emit_prefix_rex(j, X_W, 0, 0, dst);
        emit1(j, (uint8_t)(0xb8 + (dst & 7)));
        emit8(j, imm);
    }
}

/* mov reg, [base + disp] of size 1, 2, 4, 8 bytes; zero- or sign-extending to 64 bits. */
static inline void x_load(jit_buf *j, unsigned size, bool sign, int dst, int base, int32_t disp)
{
    switch (size) {
    case 1: x_rm(j, sign ? X_W : 0, sign ? 0x0fbe : 0x0fb6, dst, base, disp); break;
    case 2: x_rm(j, sign ? X_W : 0, sign ? 0x0fbf : 0x0fb7, dst, base, disp); break;
    case 4: x_rm(j, sign ? X_W : 0, sign ? 0x63 : 0x8b, dst, base, disp); break;
    default: x_rm(j, X_W, 0x8b, dst, base, disp); break;
    }
}

/* mov [base + disp], reg (low size bytes). */
static inline void x_store(jit_buf *j, unsigned size, int base, int32_t disp, int src)
{
    switch (size) {
    case 1: x_rm(j, X_BYTE, 0x88, src, base, disp); break;
    case 2: x_rm(j, X_66, 0x89, src, base, disp); break;
    case 4: x_rm(j, 0, 0x89, src, base, disp); break;
    default: x_rm(j, X_W, 0x89, src, base, disp); break;
    }
}

/* mov size [base + disp], imm (8 bytes: sign-extended imm32). */
static inline void x_store_imm(jit_buf *j, unsigned size, int base, int32_t disp, int32_t imm)
{
    switch (size) {
    case 1: x_rm(j, 0, 0xc6, 0, base, disp); emit1(j, (uint8_t)imm); break;
    case 2:
        x_rm(j, X_66, 0xc7, 0, base, disp);
        emit1(j, (uint8_t)imm);
        emit1(j, (uint8_t)(imm >> 8));
        break;
    case 4: x_rm(j, 0, 0xc7, 0, base, disp); emit4(j, (uint32_t)imm); break;
    default: x_rm(j, X_W, 0xc7, 0, base, disp); emit4(j, (uint32_t)imm); break;
    }
}

static inline void x_lea(jit_buf *j, int dst, int base, int32_t disp)
{
    x_rm(j, X_W, 0x8d, dst, base, disp);
}

static inline void x_shift_ri(jit_buf *j, bool is64, enum x86_shift op, int dst, uint8_t n)
{
    x_rr(j, wflag(is64), 0xc1, op, dst);
    emit1(j, n);
}

static inline void x_shift_cl(jit_buf *j, bool is64, enum x86_shift op, int dst)
{
    x_rr(j, wflag(is64), 0xd3, op, dst);
}

static inline void x_push(jit_buf *j, int r)
{
    emit_prefix_rex(j, 0, 0, 0, r);
    emit1(j, (uint8_t)(0x50 + (r & 7)));
}

static inline void x_pop(jit_buf *j, int r)
{
    emit_prefix_rex(j, 0, 0, 0, r);
    emit1(j, (uint8_t)(0x58 + (r & 7)));
}

static inline void x_ret(jit_buf *j) { emit1(j, 0xc3); }

static inline void x_bswap(jit_buf *j, bool is64, int r)
{
    emit_prefix_rex(j, wflag(is64), 0, 0, r);
    emit1(j, 0x0f);
    emit1(j, (uint8_t)(0xc8 + (r & 7)));
}

/* call [base + disp] */
static inline void x_call_mem(jit_buf *j, int base, int32_t disp)
{
    x_rm(j, 0, 0xff, 2, base, disp);
}

/* ---- branches: rel32 to a known position, or a placeholder to patch ---- */

/* Patches the rel32 whose 4 bytes start at field (in the main stream) to reach target. */
static inline void jb_patch32(jit_buf *j, size_t field, size_t target)
{
    uint32_t rel = (uint32_t)(int32_t)((int64_t)target - (int64_t)(field + 4));
    for (int i = 0; i < 4; i++)
        jb_put_at(j, field + i, (uint8_t)(rel >> (8 * i)), false);
}

static inline void jb_patch8(jit_buf *j, size_t field, size_t target)
{
    jb_put_at(j, field, (uint8_t)(int8_t)((int64_t)target - (int64_t)(field + 1)), false);
}

/* Each returns the position of its displacement field. */
static inline size_t x_jcc32(jit_buf *j, enum x86_cc cc, size_t target)
{
    emit1(j, 0x0f);
    emit1(j, (uint8_t)(0x80 | cc));
    size_t f = jb_pos(j);
    emit4(j, (uint32_t)(int32_t)((int64_t)target - (int64_t)(f + 4)));
    return f;
}

static inline size_t x_jmp32(jit_buf *j, size_t target)
{
    emit1(j, 0xe9);
    size_t f = jb_pos(j);
    emit4(j, (uint32_t)(int32_t)((int64_t)target - (int64_t)(f + 4)));
    return f;
}

static inline size_t x_call32(jit_buf *j, size_t target)
{
    emit1(j, 0xe8);
    size_t f = jb_pos(j);
    emit4(j, (uint32_t)(int32_t)((int64_t)target - (int64_t)(f + 4)));
    return f;
}

/* Short forward branches over code of known size: emit, then jb_patch8 at the label. */
static inline size_t x_jcc8(jit_buf *j, enum x86_cc cc)
{
    emit1(j, (uint8_t)(0x70 | cc));
    size_t f = jb_pos(j);
    emit1(j, 0);
    return f;
}

static inline size_t x_jmp8(jit_buf *j)
{
    emit1(j, 0xeb);
    size_t f = jb_pos(j);
    emit1(j, 0);
    return f;
}

#endif
