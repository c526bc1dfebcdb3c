/* vm/interp.c: the reference engine - a direct-threaded interpreter over the verified
 * program.
 *
 * Interface: vm_interp_run(p, st), called by vm_run() with st prepared.
 * On its first run of a program it pre-decodes p->insns into p->idec (see predecode below:
 * per-slot handler addresses, GCC/clang labels-as-values, so dispatch is one indirect jump
 * per instruction), then runs from there.  Slot index = pc, so faults name the same pc.
 * It trusts the verifier's invariants (vm_internal.h) and enforces the run-time ones itself,
 * through the same slow paths the JIT calls (vm.c), so both engines report identical errors:
 *   - every load/store/atomic goes through the sandbox check before touching memory, except
 *     r10-relative accesses inside the current 512-byte frame, which cannot leave the stack
 *     (r10 is read-only and always a frame top: the same rule the JIT uses);
 *   - local calls are bounded by VM_MAX_CALL_DEPTH, saved frames live in st->frames (never
 *     in program-visible memory, so a program cannot forge a return address);
 *   - taken backward jumps and calls poll the stop flag / deadline (vm_poll), so the
 *     interpreter keeps its time limit without the embedder's ticks; st->stop is also
 *     checked after every helper call, where the JIT checks it (vm.h "Time and Ctrl-C").
 * Arithmetic follows RFC 9669 exactly, written so no C undefined behaviour can occur
 * (shifts masked, division by zero and INT_MIN/-1 handled explicitly).
 */
#include <stdbool.h>
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

/* Division and modulo out of line: rare, and the kernel build counts every byte. */
static __attribute__((noinline)) uint64_t divmod64(uint8_t op, int16_t off, uint64_t a, uint64_t b)
{
    return alu64(op, off, a, b);
}

static __attribute__((noinline)) uint32_t divmod32(uint8_t op, int16_t off, uint32_t a, uint32_t b)
{
    return alu32(op, off, a, b);
}

/* ---- pre-decoding ----
 * The interpreter runs p->idec[] (vm_islot, one per instruction slot, so pc = slot index and
 * jump offsets are unchanged): each slot holds its handler's address and the instruction's
 * fields.  Besides one kind per opcode byte there are kinds for the cases decoding can
 * settle once: frame-pointer accesses that need no check, local vs helper calls, the
 * byte-swap widths, sign-extending moves, and two of clang's idioms run as one step:
 *   rotate:  mov A, X; rsh A, n; mov B, X; lsh B, w-n; or B, A     (A and B both written)
 *   test:    mov A, X; and A, imm; jeq/jne A, 0, +off (forward)     (A written)
 * A fused group computes every register exactly as its instructions do and none of them can
 * stop the program, so faults and poll points are unchanged; decoding fuses only when no
 * instruction but the first is a jump target. */
enum {
    K_BAD = 256, /* never a valid opcode kind: offset 0 in the label table */
    K_LDX_STK = K_BAD + 1,  /* + log2(size): r10 + off inside the current frame */
    K_STX_STK = K_LDX_STK + 4,
    K_ST_STK = K_STX_STK + 4,
    K_CALL_LOCAL = K_ST_STK + 4,
    K_MOVSX64, K_MOVSX32,
    K_BSWAP16, K_BSWAP32, K_BSWAP64, K_ZEXT16, K_ZEXT32, K_NOP,
    K_ROT32, K_ROT64,
    K_TEST32_EQ, K_TEST32_NE, K_TEST64_EQ, K_TEST64_NE,
    K_COUNT
};
enum { ROT_LEN = 5, TEST_LEN = 3 };

static int lg2(unsigned size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

static bool is_target(const vm_islot *s, uint32_t k) { return s[k].h == (const void *)1; }

/* Kind of a fused group at pc (0: none); slot gets its fields. */
static unsigned fuse(const vm_program *p, const vm_islot *s, uint32_t pc, vm_islot *slot)
{
    vm_insn i[ROT_LEN];
    uint32_t n = p->n_insns - pc < ROT_LEN ? p->n_insns - pc : ROT_LEN;
    for (uint32_t k = 0; k < n; k++) {
        i[k] = vm_insn_decode(p->insns[pc + k]);
        if (k && is_target(s, pc + k)) {
            n = k;
            break;
        }
    }
    uint8_t cls = BPF_CLASS(i[0].code);
    if (n < TEST_LEN || (cls != BPF_ALU && cls != BPF_ALU64) ||
        i[0].code != (cls | BPF_MOV | BPF_X) || i[0].off != 0 || i[0].dst == i[0].src)
        return 0;
    uint8_t a = i[0].dst, x = i[0].src;
    int w = cls == BPF_ALU64 ? 64 : 32, sh = i[1].imm;
    if (n >= ROT_LEN && i[1].code == (cls | BPF_RSH | BPF_K) && i[1].dst == a &&
        i[2].code == (cls | BPF_MOV | BPF_X) && i[2].off == 0 && i[2].src == x &&
        i[2].dst != a && i[2].dst != x && i[3].code == (cls | BPF_LSH | BPF_K) &&
        i[3].dst == i[2].dst && i[4].code == (cls | BPF_OR | BPF_X) && i[4].dst == i[2].dst &&
        i[4].src == a && sh > 0 && sh < w && i[3].imm == w - sh) {
        slot->dst = i[2].dst;
        slot->src = x;
        slot->imm = sh;
        slot->off = a;
        return w == 64 ? K_ROT64 : K_ROT32;
    }
    uint8_t jc = BPF_CLASS(i[2].code), op = BPF_OP(i[2].code);
    if (i[1].code == (cls | BPF_AND | BPF_K) && i[1].dst == a &&
        (jc == BPF_JMP || (jc == BPF_JMP32 && w == 32)) && (op == BPF_JEQ || op == BPF_JNE) &&
        BPF_SRC(i[2].code) == BPF_K && i[2].dst == a && i[2].imm == 0 && i[2].off >= 0 &&
        i[2].off <= INT16_MAX - TEST_LEN) {
        slot->dst = a;
        slot->src = x;
        slot->imm = i[1].imm;
        slot->off = (int16_t)(i[2].off + TEST_LEN);
        return w == 64 ? (op == BPF_JEQ ? K_TEST64_EQ : K_TEST64_NE)
                       : (op == BPF_JEQ ? K_TEST32_EQ : K_TEST32_NE);
    }
    return 0;
}

/* Fills p->idec: h = h0 + tab[kind].  elide: r10-relative frame accesses stay in the stack. */
static void predecode(vm_program *p, const void *h0, const int32_t *tab, bool elide)
{
    vm_islot *s = p->idec;
    uint32_t n = p->n_insns;
    memset(s, 0, n * sizeof *s);
    for (uint32_t pc = 0; pc < n; pc++) { /* mark jump and call targets */
        vm_insn i = vm_insn_decode(p->insns[pc]);
        uint8_t cls = BPF_CLASS(i.code);
        int64_t t = -1;
        if (i.code == OP_CALL && i.src == BPF_PSEUDO_LOCAL)
            t = (int64_t)pc + 1 + i.imm;
        else if ((cls == BPF_JMP || cls == BPF_JMP32) && i.code != OP_CALL &&
                 i.code != OP_CALLX && i.code != OP_EXIT)
            t = (int64_t)pc + 1 + (i.code == OP_JA32 ? i.imm : i.off);
        if (t >= 0 && t < n)
            s[t].h = (const void *)1;
        pc += i.code == OP_LDDW;
    }
    for (uint32_t pc = 0; pc < n; pc++) {
        vm_insn i = vm_insn_decode(p->insns[pc]);
        vm_islot slot = {0};
        unsigned kind = fuse(p, s, pc, &slot);
        if (!kind) {
            uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
            unsigned size = BPF_SIZE(i.code) == BPF_B ? 1 : BPF_SIZE(i.code) == BPF_H ? 2
                          : BPF_SIZE(i.code) == BPF_W ? 4 : 8;
            uint8_t base = cls == BPF_LDX ? i.src : i.dst;
            bool frame = elide && base == 10 && i.off >= -VM_FRAME_SIZE && i.off + (int)size <= 0;
            kind = i.code;
            slot.imm = i.imm;
            slot.off = i.off;
            slot.dst = i.dst;
            slot.src = i.src;
            if (frame && cls == BPF_LDX && BPF_MODE(i.code) == BPF_MEM)
                kind = K_LDX_STK + lg2(size);
            else if (frame && cls == BPF_STX && BPF_MODE(i.code) == BPF_MEM)
                kind = K_STX_STK + lg2(size);
            else if (frame && cls == BPF_ST && BPF_MODE(i.code) == BPF_MEM)
                kind = K_ST_STK + lg2(size);
            else if (i.code == OP_CALL && i.src == BPF_PSEUDO_LOCAL)
                kind = K_CALL_LOCAL;
            else if (op == BPF_MOV && BPF_SRC(i.code) == BPF_X && i.off &&
                     (cls == BPF_ALU || cls == BPF_ALU64))
                kind = cls == BPF_ALU64 ? K_MOVSX64 : K_MOVSX32;
            else if (op == BPF_END && (cls == BPF_ALU || cls == BPF_ALU64)) {
                bool swap = cls == BPF_ALU64 || BPF_SRC(i.code) == BPF_X;
                kind = i.imm == 16 ? (swap ? K_BSWAP16 : K_ZEXT16)
                     : i.imm == 32 ? (swap ? K_BSWAP32 : K_ZEXT32)
                                   : (swap ? K_BSWAP64 : K_NOP);
            } else if (i.code == OP_LDDW && pc + 1 < n) {
                s[pc + 1].k = (uint32_t)i.imm | (p->insns[pc + 1] >> 32) << 32;
                s[pc + 1].h = (const char *)h0 + tab[K_BAD];
            }
        }
        slot.h = (const char *)h0 + tab[kind];
        s[pc] = slot;
        pc += i.code == OP_LDDW;
    }
    p->idec_ready = 1;
}

/* ---- the interpreter ---- */

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

void vm_interp_run(vm_program *p, vm_state *st)
{
    /* Label addresses as offsets from h_bad (position independent, 4 bytes each). */
#define L(x) ((int32_t)(&&x - &&h_bad))
#define TBIN(name, OP)                                                                     \
    [BPF_ALU64 | OP | BPF_K] = L(name##_k64), [BPF_ALU64 | OP | BPF_X] = L(name##_x64),     \
    [BPF_ALU | OP | BPF_K] = L(name##_k32), [BPF_ALU | OP | BPF_X] = L(name##_x32)
#define TJCC(name, OP)                                                                     \
    [BPF_JMP | OP | BPF_K] = L(name##_k64), [BPF_JMP | OP | BPF_X] = L(name##_x64),         \
    [BPF_JMP32 | OP | BPF_K] = L(name##_k32), [BPF_JMP32 | OP | BPF_X] = L(name##_x32)
#define TMEM(SZ, N)                                                                        \
    [BPF_LDX | BPF_MEM | SZ] = L(ldx##N), [BPF_ST | BPF_MEM | SZ] = L(st##N),               \
    [BPF_STX | BPF_MEM | SZ] = L(stx##N), [K_LDX_STK + lg2c(N)] = L(ldx##N##_stk),           \
    [K_STX_STK + lg2c(N)] = L(stx##N##_stk), [K_ST_STK + lg2c(N)] = L(st##N##_stk)
#define lg2c(N) ((N) == 1 ? 0 : (N) == 2 ? 1 : (N) == 4 ? 2 : 3)
    static const int32_t tab[K_COUNT] = {
        TBIN(add, BPF_ADD), TBIN(sub, BPF_SUB), TBIN(mul, BPF_MUL), TBIN(div, BPF_DIV),
        TBIN(or, BPF_OR), TBIN(and, BPF_AND), TBIN(lsh, BPF_LSH), TBIN(rsh, BPF_RSH),
        TBIN(mod, BPF_MOD), TBIN(xor, BPF_XOR), TBIN(mov, BPF_MOV), TBIN(arsh, BPF_ARSH),
        [BPF_ALU64 | BPF_NEG] = L(neg64), [BPF_ALU | BPF_NEG] = L(neg32),
        [K_MOVSX64] = L(movsx64), [K_MOVSX32] = L(movsx32),
        [K_BSWAP16] = L(bswap16), [K_BSWAP32] = L(bswap32), [K_BSWAP64] = L(bswap64),
        [K_ZEXT16] = L(zext16), [K_ZEXT32] = L(zext32), [K_NOP] = L(nop),
        [OP_LDDW] = L(lddw),
        TMEM(BPF_B, 1), TMEM(BPF_H, 2), TMEM(BPF_W, 4), TMEM(BPF_DW, 8),
        [BPF_LDX | BPF_MEMSX | BPF_B] = L(ldxsx1), [BPF_LDX | BPF_MEMSX | BPF_H] = L(ldxsx2),
        [BPF_LDX | BPF_MEMSX | BPF_W] = L(ldxsx4),
        [BPF_STX | BPF_ATOMIC | BPF_W] = L(atomic4), [BPF_STX | BPF_ATOMIC | BPF_DW] = L(atomic8),
        [OP_JA] = L(ja), [OP_JA32] = L(ja32),
        TJCC(jeq, BPF_JEQ), TJCC(jgt, BPF_JGT), TJCC(jge, BPF_JGE), TJCC(jset, BPF_JSET),
        TJCC(jne, BPF_JNE), TJCC(jsgt, BPF_JSGT), TJCC(jsge, BPF_JSGE), TJCC(jlt, BPF_JLT),
        TJCC(jle, BPF_JLE), TJCC(jslt, BPF_JSLT), TJCC(jsle, BPF_JSLE),
        [K_CALL_LOCAL] = L(call_local), [OP_CALL] = L(call_helper), [OP_CALLX] = L(callx),
        [OP_EXIT] = L(exit),
        [K_ROT32] = L(rot32), [K_ROT64] = L(rot64),
        [K_TEST32_EQ] = L(test32_eq), [K_TEST32_NE] = L(test32_ne),
        [K_TEST64_EQ] = L(test64_eq), [K_TEST64_NE] = L(test64_ne),
    };
    const uint64_t mem_lo = st->mem_lo, rw_lo = st->rw_lo, mem_hi = st->mem_hi;
    /* addr - lo <= span - size (unsigned) is the rule of vm.h; wrap-around safe because
     * span >= size always holds (the stack alone is larger than any access). */
    const uint64_t span_r = mem_hi - mem_lo, span_w = mem_hi - rw_lo;
    uint64_t reg[11], hid, maddr;
    int32_t jrel;
    uint32_t ticks = st->ticks, depth = st->depth;
    memcpy(reg, st->reg, sizeof reg);
    if (!p->idec_ready) {
        uint64_t sb = p->seg_base[VM_SEG_STACK], ss = p->seg_size[VM_SEG_STACK];
        bool elide = sb >= rw_lo && ss >= VM_STACK_SIZE && sb + ss <= mem_hi && sb + ss > sb &&
                     st->stack_top == sb + ss;
        predecode(p, &&h_bad, tab, elide);
    }
    const vm_islot *const base = p->idec;
    const vm_islot *ip = base + p->entry;
    goto *(void *)ip->h;

#define PC() ((uint32_t)(ip - base))
#define NEXT()                                                                             \
    do {                                                                                   \
        ip++;                                                                              \
        goto *(void *)ip->h;                                                               \
    } while (0)
#define POLL()                                                                             \
    do {                                                                                   \
        if (UNLIKELY(st->stop | (--ticks == 0))) {                                         \
            st->ticks = ticks;                                                             \
            if (!vm_poll(st, PC()))                                                        \
                goto out;                                                                  \
            ticks = st->ticks;                                                             \
        }                                                                                  \
    } while (0)
/* A taken jump by REL slots from ip; backward ones poll first (slow part shared). */
#define JUMP(REL)                                                                          \
    do {                                                                                   \
        jrel = (REL);                                                                      \
        if (jrel < 0 && UNLIKELY(st->stop | (--ticks == 0)))                               \
            goto poll_slow;                                                                \
        ip += jrel + 1;                                                                    \
        goto *(void *)ip->h;                                                               \
    } while (0)
#define DST reg[ip->dst]
#define SRC reg[ip->src]
#define IMM ((uint64_t)(int64_t)ip->imm)

h_bad: /* unreachable for verified programs */
    vm_halt_error(st, VM_E_OPCODE, "interpreter: unverified opcode");
    vm_halted(st, PC());
    goto out;

#define BIN(name, E64, E32)                                                                \
    name##_k64 : { uint64_t a = DST, b = IMM; (void)a; DST = (E64); NEXT(); }              \
    name##_x64 : { uint64_t a = DST, b = SRC; (void)a; DST = (E64); NEXT(); }              \
    name##_k32 : { uint32_t a = (uint32_t)DST, b = (uint32_t)ip->imm; (void)a;             \
                   DST = (uint32_t)(E32); NEXT(); }                                        \
    name##_x32 : { uint32_t a = (uint32_t)DST, b = (uint32_t)SRC; (void)a;                 \
                   DST = (uint32_t)(E32); NEXT(); }
    BIN(add, a + b, a + b)
    BIN(sub, a - b, a - b)
    BIN(mul, a * b, a * b)
    BIN(or, a | b, a | b)
    BIN(and, a & b, a & b)
    BIN(xor, a ^ b, a ^ b)
    BIN(lsh, a << (b & 63), a << (b & 31))
    BIN(rsh, a >> (b & 63), a >> (b & 31))
    BIN(arsh, (uint64_t)((int64_t)a >> (b & 63)), (uint32_t)((int32_t)a >> (b & 31)))
    BIN(mov, b, b)
    BIN(div, divmod64(BPF_DIV, ip->off, a, b), divmod32(BPF_DIV, ip->off, a, b))
    BIN(mod, divmod64(BPF_MOD, ip->off, a, b), divmod32(BPF_MOD, ip->off, a, b))
neg64:
    DST = 0 - DST;
    NEXT();
neg32:
    DST = (uint32_t)(0 - (uint32_t)DST);
    NEXT();
movsx64:
    DST = alu64(BPF_MOV, ip->off, 0, SRC);
    NEXT();
movsx32:
    DST = alu32(BPF_MOV, ip->off, 0, (uint32_t)SRC);
    NEXT();
bswap16:
    DST = bswap16(DST);
    NEXT();
bswap32:
    DST = bswap32(DST);
    NEXT();
bswap64:
    DST = bswap64(DST);
    NEXT();
zext16:
    DST = (uint16_t)DST;
    NEXT();
zext32:
    DST = (uint32_t)DST;
    NEXT();
nop:
    NEXT();
rot32: {
    uint32_t x = (uint32_t)SRC, n = (uint32_t)ip->imm;
    reg[ip->off] = x >> n;
    DST = (uint32_t)(x >> n | x << (32 - n));
    ip += ROT_LEN;
    goto *(void *)ip->h;
}
rot64: {
    uint64_t x = SRC, n = (uint64_t)ip->imm;
    reg[ip->off] = x >> n;
    DST = x >> n | x << (64 - n);
    ip += ROT_LEN;
    goto *(void *)ip->h;
}
#define TEST(name, T, EQ)                                                                  \
    name : {                                                                               \
        uint64_t v = (T)SRC & (T)(int64_t)ip->imm;                                         \
        DST = v;                                                                           \
        ip += (v == 0) == (EQ) ? ip->off : TEST_LEN;                                       \
        goto *(void *)ip->h;                                                               \
    }
    TEST(test32_eq, uint32_t, 1)
    TEST(test32_ne, uint32_t, 0)
    TEST(test64_eq, uint64_t, 1)
    TEST(test64_ne, uint64_t, 0)
lddw:
    DST = ip[1].k;
    ip += 2;
    goto *(void *)ip->h;

/* Plain loads and stores leave the fast check for mem_slow below (maddr = address). */
#define CHECKP(a, N, lo, span)                                                             \
    do {                                                                                   \
        if (UNLIKELY((a) - (lo) > (span) - (N))) {                                         \
            maddr = (a);                                                                   \
            goto mem_slow;                                                                 \
        }                                                                                  \
    } while (0)
#define CHECK(a, N, lo, span, access)                                                      \
    do {                                                                                   \
        if (UNLIKELY((a) - (lo) > (span) - (N)) && !vm_mem_slow(st, (a), (N), (access), PC())) \
            goto out;                                                                      \
    } while (0)
#define MEM(N, T)                                                                      \
    ldx##N : {                                                                             \
        uint64_t a = SRC + (uint64_t)(int64_t)ip->off;                                     \
        CHECKP(a, N, mem_lo, span_r);                                              \
        T v;                                                                               \
        memcpy(&v, (const void *)(uintptr_t)a, N);                                         \
        DST = v;                                                                           \
        NEXT();                                                                            \
    }                                                                                      \
    ldx##N##_stk : {                                                                       \
        T v;                                                                               \
        memcpy(&v, (const void *)(uintptr_t)(reg[10] + (uint64_t)(int64_t)ip->off), N);    \
        DST = v;                                                                           \
        NEXT();                                                                            \
    }                                                                                      \
    stx##N : {                                                                             \
        uint64_t a = DST + (uint64_t)(int64_t)ip->off;                                     \
        CHECKP(a, N, rw_lo, span_w);                                              \
        T v = (T)SRC;                                                                      \
        memcpy((void *)(uintptr_t)a, &v, N);                                               \
        NEXT();                                                                            \
    }                                                                                      \
    stx##N##_stk : {                                                                       \
        T v = (T)SRC;                                                                      \
        memcpy((void *)(uintptr_t)(reg[10] + (uint64_t)(int64_t)ip->off), &v, N);          \
        NEXT();                                                                            \
    }                                                                                      \
    st##N : {                                                                              \
        uint64_t a = DST + (uint64_t)(int64_t)ip->off;                                     \
        CHECKP(a, N, rw_lo, span_w);                                              \
        T v = (T)ip->imm;                                                                  \
        memcpy((void *)(uintptr_t)a, &v, N);                                               \
        NEXT();                                                                            \
    }                                                                                      \
    st##N##_stk : {                                                                        \
        T v = (T)ip->imm;                                                                  \
        memcpy((void *)(uintptr_t)(reg[10] + (uint64_t)(int64_t)ip->off), &v, N);          \
        NEXT();                                                                            \
    }
    MEM(1, uint8_t) MEM(2, uint16_t) MEM(4, uint32_t) MEM(8, uint64_t)
#define LDSX(N, T)                                                                         \
    ldxsx##N : {                                                                           \
        uint64_t a = SRC + (uint64_t)(int64_t)ip->off;                                     \
        CHECKP(a, N, mem_lo, span_r);                                              \
        T v;                                                                               \
        memcpy(&v, (const void *)(uintptr_t)a, N);                                         \
        DST = (uint64_t)(int64_t)v;                                                        \
        NEXT();                                                                            \
    }
    LDSX(1, int8_t) LDSX(2, int16_t) LDSX(4, int32_t)

#define ATOMIC(N)                                                                          \
    atomic##N : {                                                                          \
        /* One thread per program, so a plain read-modify-write is atomic here. */         \
        uint64_t a = DST + (uint64_t)(int64_t)ip->off;                                     \
        CHECK(a, N, rw_lo, span_w, VM_WRITE);                                              \
        uint64_t old = ld(a, N), v = SRC, nv;                                              \
        if (ip->imm == BPF_CMPXCHG) {                                                      \
            if (old == (N == 4 ? (uint32_t)reg[0] : reg[0]))                               \
                st_(a, N, v);                                                              \
            reg[0] = old;                                                                  \
            NEXT();                                                                        \
        }                                                                                  \
        switch (ip->imm & ~BPF_FETCH) {                                                    \
        case BPF_ADD: nv = old + v; break;                                                 \
        case BPF_OR: nv = old | v; break;                                                  \
        case BPF_AND: nv = old & v; break;                                                 \
        case BPF_XOR: nv = old ^ v; break;                                                 \
        default: nv = v; break; /* xchg */                                                 \
        }                                                                                  \
        st_(a, N, nv);                                                                     \
        if (ip->imm & BPF_FETCH)                                                           \
            SRC = old;                                                                     \
        NEXT();                                                                            \
    }
    ATOMIC(4)
    ATOMIC(8)

ja:
    JUMP(ip->off);
ja32:
    JUMP(ip->imm);
#define JCC(name, C)                                                                       \
    name##_k64 : { uint64_t a = DST, b = IMM;                                              \
                   if (C(a, b, int64_t)) { JUMP(ip->off); }                                \
                   NEXT(); }                                                               \
    name##_x64 : { uint64_t a = DST, b = SRC;                                              \
                   if (C(a, b, int64_t)) { JUMP(ip->off); }                                \
                   NEXT(); }                                                               \
    name##_k32 : { uint32_t a = (uint32_t)DST, b = (uint32_t)ip->imm;                      \
                   if (C(a, b, int32_t)) { JUMP(ip->off); }                                \
                   NEXT(); }                                                               \
    name##_x32 : { uint32_t a = (uint32_t)DST, b = (uint32_t)SRC;                          \
                   if (C(a, b, int32_t)) { JUMP(ip->off); }                                \
                   NEXT(); }
#define C_EQ(a, b, S) ((a) == (b))
#define C_NE(a, b, S) ((a) != (b))
#define C_GT(a, b, S) ((a) > (b))
#define C_GE(a, b, S) ((a) >= (b))
#define C_LT(a, b, S) ((a) < (b))
#define C_LE(a, b, S) ((a) <= (b))
#define C_SET(a, b, S) (((a) & (b)) != 0)
#define C_SGT(a, b, S) ((S)(a) > (S)(b))
#define C_SGE(a, b, S) ((S)(a) >= (S)(b))
#define C_SLT(a, b, S) ((S)(a) < (S)(b))
#define C_SLE(a, b, S) ((S)(a) <= (S)(b))
    JCC(jeq, C_EQ) JCC(jne, C_NE) JCC(jgt, C_GT) JCC(jge, C_GE) JCC(jlt, C_LT)
    JCC(jle, C_LE) JCC(jset, C_SET) JCC(jsgt, C_SGT) JCC(jsge, C_SGE) JCC(jslt, C_SLT)
    JCC(jsle, C_SLE)

poll_slow: /* a taken backward jump (jrel) whose poll found the countdown out or a stop */
    st->ticks = ticks;
    if (!vm_poll(st, PC()))
        goto out;
    ticks = st->ticks;
    ip += jrel + 1;
    goto *(void *)ip->h;
mem_slow: { /* a plain load or store outside the fast bounds: extra regions, or a fault */
    vm_insn i = vm_insn_decode(p->insns[PC()]);
    unsigned size = BPF_SIZE(i.code) == BPF_B ? 1 : BPF_SIZE(i.code) == BPF_H ? 2
                  : BPF_SIZE(i.code) == BPF_W ? 4 : 8;
    uint8_t cls = BPF_CLASS(i.code);
    if (!vm_mem_slow(st, maddr, size, cls == BPF_LDX ? VM_READ : VM_WRITE, PC()))
        goto out;
    if (cls == BPF_LDX) {
        uint64_t v = ld(maddr, size);
        if (BPF_MODE(i.code) == BPF_MEMSX)
            v = size == 1 ? (uint64_t)(int64_t)(int8_t)v : size == 2 ? (uint64_t)(int64_t)(int16_t)v
                                                                     : (uint64_t)(int64_t)(int32_t)v;
        reg[i.dst] = v;
    } else {
        st_(maddr, size, cls == BPF_ST ? (uint64_t)(int64_t)i.imm : reg[i.src]);
    }
    NEXT();
}
call_local: {
    POLL();
    if (depth + 1 > VM_MAX_CALL_DEPTH) {
        vm_fault_depth(st, PC());
        goto out;
    }
    vm_frame *fr = &st->frames[depth++];
    memcpy(fr->r6_r9, &reg[6], sizeof fr->r6_r9);
    fr->r10 = reg[10];
    fr->ret_pc = PC() + 1;
    reg[10] -= VM_FRAME_SIZE;
    ip += ip->imm + 1;
    goto *(void *)ip->h;
}
call_helper:
    hid = (uint32_t)ip->imm;
    goto do_call;
callx:
    hid = DST;
do_call: {
    const vm_helper *h = hid < VM_MAX_HELPERS ? p->helper[hid] : NULL;
    if (!h) {
        vm_callx_fail(st, PC(), hid);
        goto out;
    }
    st->ticks = ticks;
    st->depth = depth;
    reg[0] = h->fn(reg[1], reg[2], reg[3], reg[4], reg[5], st);
    ticks = st->ticks;
    if (st->halt) {
        vm_halted(st, PC());
        goto out;
    }
    if (st->stop) { /* as the JIT does: a stop requested meanwhile ends the run here */
        vm_stopped(st, PC());
        goto out;
    }
    NEXT();
}
exit: {
    if (depth == 0)
        goto out;
    vm_frame *fr = &st->frames[--depth];
    memcpy(&reg[6], fr->r6_r9, sizeof fr->r6_r9);
    reg[10] = fr->r10;
    ip = base + fr->ret_pc;
    goto *(void *)ip->h;
}
out:
    st->ticks = ticks;
    st->depth = depth;
    memcpy(st->reg, reg, sizeof reg);
}
