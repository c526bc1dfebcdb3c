/* vm/vm_internal.h: what the VM's own files (loader, interpreter, JIT, tools) share: the
 * instruction encoding of RFC 9669, the verified-program layout and the per-run state.
 * Not for embedders: they use vm/vm.h only.
 *
 * Invariants of a vm_program returned by the loader (engines rely on them, never re-check):
 *   - every slot is a known opcode with registers <= 10, no write to r10;
 *   - every jump/call target is inside [0, n_insns) and never the second slot of a lddw;
 *   - the last reachable instruction of every path is exit or an unconditional jump;
 *   - lddw always has its second slot (insns[pc+1].code == 0); relocated lddw immediates
 *     already hold absolute addresses for the current arena;
 *   - every helper call (src=0) names an id with helper[id] != NULL.
 * The JIT must keep its own code independent of arena addresses (see vm.h design notes):
 * for a relocated lddw at pc, reloc_seg[pc] != VM_SEG_NONE and the value is
 *   st->seg_base[reloc_seg[pc]] + reloc_addend(pc)   (= the patched immediate today).
 */
#ifndef VM_VM_INTERNAL_H
#define VM_VM_INTERNAL_H
#include <stdint.h>
#include <stddef.h>
#include "vm/vm.h"

/* One 64-bit instruction slot: opcode, dst:4 src:4, signed 16-bit offset, signed 32-bit imm.
 * Decoded with vm_insn_decode() from the little-endian word, never by casting. */
typedef struct vm_insn {
    uint8_t code;
    uint8_t dst;
    uint8_t src;
    int16_t off;
    int32_t imm;
} vm_insn;

static inline vm_insn vm_insn_decode(uint64_t w)
{
    vm_insn i;
    i.code = (uint8_t)w;
    i.dst = (uint8_t)((w >> 8) & 0xf);
    i.src = (uint8_t)((w >> 12) & 0xf);
    i.off = (int16_t)(uint16_t)(w >> 16);
    i.imm = (int32_t)(uint32_t)(w >> 32);
    return i;
}

static inline uint64_t vm_insn_encode(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
                                      int32_t imm)
{
    return (uint64_t)code | (uint64_t)(dst & 0xf) << 8 | (uint64_t)(src & 0xf) << 12 |
           (uint64_t)(uint16_t)off << 16 | (uint64_t)(uint32_t)imm << 32;
}

/* Instruction classes (low 3 bits of the opcode). */
enum {
    BPF_LD = 0x00,    /* only lddw (imm64) is supported */
    BPF_LDX = 0x01,
    BPF_ST = 0x02,
    BPF_STX = 0x03,
    BPF_ALU = 0x04,   /* 32-bit, result zero-extended */
    BPF_JMP = 0x05,
    BPF_JMP32 = 0x06, /* compares the low 32 bits; JA here = ja32 (offset in imm) */
    BPF_ALU64 = 0x07,
};
#define BPF_CLASS(code) ((code) & 0x07)

/* Source operand bit for ALU/JMP. */
enum { BPF_K = 0x00, BPF_X = 0x08 };

/* ALU operations (high 4 bits). */
enum {
    BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30, /* off=1: sdiv */
    BPF_OR = 0x40, BPF_AND = 0x50, BPF_LSH = 0x60, BPF_RSH = 0x70,
    BPF_NEG = 0x80, BPF_MOD = 0x90, /* off=1: smod */
    BPF_XOR = 0xa0, BPF_MOV = 0xb0, /* off=8/16/32: movsx */
    BPF_ARSH = 0xc0,
    BPF_END = 0xd0, /* ALU: K=to little endian, X=to big endian; ALU64|K: bswap */
};
#define BPF_OP(code) ((code) & 0xf0)
#define BPF_SRC(code) ((code) & 0x08)

/* Jump operations (high 4 bits). */
enum {
    BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40,
    BPF_JNE = 0x50, BPF_JSGT = 0x60, BPF_JSGE = 0x70, BPF_CALL = 0x80, BPF_EXIT = 0x90,
    BPF_JLT = 0xa0, BPF_JLE = 0xb0, BPF_JSLT = 0xc0, BPF_JSLE = 0xd0,
};

/* Memory access sizes and modes. */
enum { BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10, BPF_DW = 0x18 };
enum { BPF_IMM = 0x00, BPF_MEM = 0x60, BPF_MEMSX = 0x80, BPF_ATOMIC = 0xc0 };
#define BPF_SIZE(code) ((code) & 0x18)
#define BPF_MODE(code) ((code) & 0xe0)

/* Atomic operations (imm of STX|ATOMIC). */
enum {
    BPF_FETCH = 0x01,
    BPF_XCHG = 0xe0 | BPF_FETCH,
    BPF_CMPXCHG = 0xf0 | BPF_FETCH,
};

/* Call kinds (src of JMP|CALL). */
enum { BPF_PSEUDO_HELPER = 0, BPF_PSEUDO_LOCAL = 1 };

/* Whole opcodes used by name. */
enum {
    OP_LDDW = BPF_LD | BPF_IMM | BPF_DW,     /* 0x18 */
    OP_CALL = BPF_JMP | BPF_CALL,            /* 0x85 */
    OP_CALLX = BPF_JMP | BPF_X | BPF_CALL,   /* 0x8d: helper id in register dst */
    OP_EXIT = BPF_JMP | BPF_EXIT,            /* 0x95 */
    OP_JA = BPF_JMP | BPF_JA,                /* 0x05 */
    OP_JA32 = BPF_JMP32 | BPF_JA,            /* 0x06 */
};

/* Program memory segments, in arena order (rodata first: the only read-only one). */
enum vm_seg {
    VM_SEG_NONE = 0,
    VM_SEG_RODATA = 1,
    VM_SEG_DATA = 2,
    VM_SEG_BSS = 3,
    VM_SEG_HEAP = 4,
    VM_SEG_STACK = 5,
    VM_SEG_COUNT = 6
};

/* A saved frame of a local call (interpreter; the JIT keeps its own on the native stack). */
typedef struct vm_frame {
    uint64_t r6_r9[4];
    uint64_t r10;
    uint32_t ret_pc;
} vm_frame;

/* Per-run state.  The JIT addresses these fields by offsetof(); keep them explicit. */
struct vm_state {
    /* fast-path sandbox bounds (see vm.h) */
    uint64_t mem_lo, rw_lo, mem_hi;
    volatile uint32_t stop;    /* 0, or the vm_err of a requested stop (VM_E_TIMEOUT,
                                * VM_E_INTERRUPTED); set asynchronously by vm_preempt */
    uint32_t ticks;            /* interpreter polls left before vm_poll reads the clock */
    uint32_t halt;             /* set by helpers: stop after this call (err/r0 in state) */
    uint32_t depth;            /* current local-call depth (0 = entry frame); interpreter
                                * only: the JIT's depth is implied by r10 (see jit_min_fp) */
    /* JIT working values: its prologue derives them from the bounds above on every run, so
     * compiled code reads them as [state + small constant] and bakes in no address. */
    uint64_t jit_lim_r[4];     /* mem_hi - mem_lo - size, by log2(size): loads ok iff
                                * addr - mem_lo <= this (unsigned) */
    uint64_t jit_lim_w[4];     /* mem_hi - rw_lo - size: the same for stores */
    uint64_t jit_min_fp;       /* stack_top - VM_MAX_CALL_DEPTH * VM_FRAME_SIZE: a local call
                                * with r10 <= this would exceed the depth limit */
    uint64_t jit_neg_rw;       /* -rw_lo, so one lea gives addr - rw_lo */
    const struct vm_jit_rt *jit_rt; /* slow paths for JIT code (set by vm_run) */
    uint64_t reg[11];          /* registers: initial r1..r5 in, r0 out */
    uint64_t seg_base[VM_SEG_COUNT];
    uint64_t seg_size[VM_SEG_COUNT];
    uint64_t stack_top;        /* initial r10 */
    uint64_t deadline_ns;      /* absolute clock_mono_ns() deadline (UINT64_MAX = none) */
    vm_err err;
    vm_fault fault;
    vm_region extra[VM_MAX_EXTRA_REGIONS];
    uint32_t n_extra;
    volatile uint32_t running; /* 1 while an engine runs this state (vm_run): vm_tick's
                                * deadline check is valid only then (in padding here) */
    uint64_t heap_next;        /* bump pointer of the heap helper */
    const vm_env *env;
    vm_program *prog;
    void *jit_saved_sp;        /* scratch for the JIT's error exit */
    vm_frame frames[VM_MAX_CALL_DEPTH + 1]; /* interpreter call stack (not program-visible) */
};

#define VM_TICKS 4096 /* polls between clock reads */

/* One pre-decoded instruction slot of the interpreter (vm/interp.c): the handler's address
 * and the instruction's fields, or for the second slot of a lddw the 64-bit value in k. */
typedef struct vm_islot {
    const void *h;
    union {
        struct {
            int32_t imm;
            int16_t off;
            uint8_t dst, src;
        };
        uint64_t k;
    };
} vm_islot;

struct vm_program {
    uint32_t magic;            /* VM_PROGRAM_MAGIC while valid */
    uint32_t n_insns;
    uint32_t entry;
    uint64_t *insns;           /* relocated copy in the arena (raw little-endian words) */
    uint8_t *reloc_seg;        /* per slot: VM_SEG_* of a relocated lddw, else VM_SEG_NONE */
    vm_islot *idec;            /* n_insns slots for the interpreter (arena; loader places) */
    uint32_t idec_ready;       /* idec filled (the interpreter decodes on its first run) */
    const vm_helper *helper[VM_MAX_HELPERS]; /* by id; NULL = not imported */
    uint64_t seg_base[VM_SEG_COUNT];
    uint64_t seg_size[VM_SEG_COUNT];
    uint64_t mem_lo, rw_lo, mem_hi;
    uint8_t sha256[32];
    const void *jit_code;      /* executable entry (vm_jit_fn), NULL = none */
    uintptr_t jit_body_lo, jit_body_hi; /* [lo, hi): where vm_preempt may redirect the
                                * interrupted rip to the stop stub (vm_jit_attach) */
    vm_state state;
};
#define VM_PROGRAM_MAGIC 0x4e44410au

/* Layout of JIT code that vm_preempt relies on (vm/jit_x86_64.c keeps it, and fails to
 * compile rather than break it): code + VM_JIT_BODY_OFFSET is the stop stub and the start
 * of the body, which runs to the end of the code.  Anywhere in the body r12 = st and
 * st->jit_saved_sp holds the native stack pointer the stub restores. */
#define VM_JIT_BODY_OFFSET 192

/* JIT entry: runs from prog->entry with registers from st->reg[1..5], r10 = st->stack_top;
 * on return st->reg[0] and st->err/fault are final. */
typedef void (*vm_jit_fn)(vm_state *st);

/* Addend of a relocated lddw at pc (value minus its segment base). */
static inline uint64_t vm_reloc_addend(const vm_program *p, uint32_t pc)
{
    uint64_t v = (uint32_t)(p->insns[pc] >> 32) | (p->insns[pc + 1] >> 32) << 32;
    return v - p->seg_base[p->reloc_seg[pc]];
}

/* Slow paths shared by the engines (vm/vm.c).  Each returns 1 to continue, 0 to stop with
 * st->err/fault recorded. */
int vm_mem_slow(vm_state *st, uint64_t addr, uint32_t size, uint32_t access, uint32_t pc);
int vm_poll(vm_state *st, uint32_t pc);
/* Records the pending stop (st->stop) at pc, or with no pc when pc == VM_PC_NONE. */
void vm_stopped(vm_state *st, uint32_t pc);
#define VM_PC_NONE UINT32_MAX
void vm_fault_depth(vm_state *st, uint32_t pc);
void vm_callx_fail(vm_state *st, uint32_t pc, uint64_t id);
/* After a helper call found st->halt set: completes the fault (pc) and leaves st->err. */
void vm_halted(vm_state *st, uint32_t pc);

/* The slow paths above as a table, so JIT code calls them through the vm_state (st->jit_rt)
 * instead of baking host addresses into cacheable code. */
typedef struct vm_jit_rt {
    int (*mem_slow)(vm_state *st, uint64_t addr, uint32_t size, uint32_t access, uint32_t pc);
    void (*stopped)(vm_state *st, uint32_t pc);
    void (*fault_depth)(vm_state *st, uint32_t pc);
    void (*callx_fail)(vm_state *st, uint32_t pc, uint64_t id);
    void (*halted)(vm_state *st, uint32_t pc);
} vm_jit_rt;
extern const vm_jit_rt vm_jit_runtime;

/* Engines. */
void vm_interp_run(vm_program *p, vm_state *st);

/* Loader internals shared with tools. */
vm_err vm_verify(const uint64_t *insns, uint32_t n, uint32_t entry,
                 const vm_helper *const helper[VM_MAX_HELPERS], uint8_t *marks,
                 vm_fault *fault);  /* marks: n bytes of scratch */
void vm_fault_set(vm_fault *f, vm_err e, int64_t pc, uint64_t insn, const char *detail);

#endif
