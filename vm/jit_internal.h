/* vm/jit_internal.h: what the two halves of the x86-64 JIT share - the translation context
 * (`jit`) and the calls between them.  Internal to the JIT: included only by
 * vm/jit_x86_64.c (the translator: prologue, trampolines, instructions, fused idioms,
 * regions) and vm/jit_compile.c (the vm.h entry points and the two-pass driver).  The
 * design and the invariants the generated code keeps are described at the top of
 * vm/jit_x86_64.c.
 *
 * Invariant: jit_translate must produce the same layout in both passes (the second pass
 * checks every instruction's offset against the first's: set_insn_ofs), so all it may
 * depend on is the program, the tables and the stream starts it is given.
 */
#ifndef VM_JIT_INTERNAL_H
#define VM_JIT_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vm/jit_analysis.h"
#include "vm/jit_emit.h"
#include "vm/vm_internal.h"

/* Shared out-of-line routines: each preserves every eBPF register. */
enum tramp {
    T_MEM,   /* r11 = addr, r10d = pc<<8 | access<<4 | size -> r11d = vm_mem_slow() */
    T_STOP,  /* r10d = pc: vm_stopped() */
    T_DEPTH, /* r10d = pc: vm_fault_depth() */
    T_CALLX, /* r10d = pc, r11 = id: vm_callx_fail() */
    T_HALT,  /* r10d = pc: vm_halted() */
    T_COUNT
};

enum { LOOP_ALIGN = 32 }; /* loop heads and function entries start a 32-byte fetch block */

typedef struct jit {
    jit_buf b;
    const vm_program *p;
    uint8_t *ofs;         /* n_insns x 4 bytes (little-endian): code offset per instruction */
    uint8_t *marks;       /* n_insns x 4: TARGET_MARK for any jump or call target,
                           * ALIGN_MARK for a loop head or function entry, the number of
                           * jumps/calls/entries that reach it and the length of the fused
                           * group that would start there (find_targets, cache_groups) */
    uint8_t *sofs;        /* n_insns x 4: slow-copy offset (from slow_base) per instruction */
    size_t slow_base;     /* where the slow stream starts in this pass */
    size_t *before_cold;  /* the stream cold_enter left */
    jit_region rg;        /* the versioned region being translated, if rg_on */
    bool rg_on;           /* translating a region's copies now */
    uint32_t n_regions, region_insns;   /* emitted by the final pass (vm_jit_info) */
    bool rg_slow;         /* ... its slow copy (else the fast one) */
    size_t rg_post;       /* main-stream offset right after its cover checks */
    size_t dup_used;      /* bytes regions have added so far (first pass), up to dup_cap() */
    int flags_reg;        /* eBPF register the x86 flags describe (ZF = result == 0), or -1 */
    bool flags_64;        /* ... as a 64-bit result (else 32-bit, zero-extended) */
    bool final;           /* second pass: offsets known, bytes written */
    bool elide_stack;     /* r10-relative frame accesses need no check (layout verified) */
    vm_err err;           /* sticky */
    uint32_t err_pc;
    size_t tramp[T_COUNT];
    size_t exit_path, err_exit, stop_stub;
    int32_t ro;           /* rw_lo - mem_lo, fixed by the file's segment sizes */
} jit;

/* Code regions may add, so that vm_jit_size_bound can promise room for it. */
static inline size_t dup_cap(const vm_program *p) { return 8 * (size_t)p->n_insns + 1024; }

/* ---- vm/jit_x86_64.c, called by the driver ---- */

/* One pass over the whole program: main stream from 0, slow and cold streams from their
 * starts. */
void jit_translate(jit *j, size_t slow_start, size_t cold_start);

/* Caches the length of the fused group that could start at every instruction in the mark
 * table (find_region asks for it often); j->marks must hold marks_find_targets' result. */
void jit_cache_groups(jit *j);

#endif
