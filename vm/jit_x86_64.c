/* vm/jit_x86_64.c: the x86-64 JIT's translator - turns a verified program (vm_internal.h)
 * into machine code that behaves exactly like vm/interp.c, sandbox checks included.  It
 * holds the prologue, epilogue, stop stub and trampolines, the per-instruction translation
 * (sandbox checks, calls, fused idioms) and the versioned regions.
 *
 * Interface (vm.h, implemented in vm/jit_compile.c): vm_jit_size_bound(p) bytes of buffer,
 * vm_jit_compile(p, buf, cap, ...) writes the code into that plain RW buffer, the embedder
 * maps it RX and vm_jit_attach()es it; vm_run() then calls it as vm_jit_fn(st).  This file
 * gives the driver one pass (jit_translate) and the fused-group cache (jit_cache_groups),
 * through vm/jit_internal.h, which also holds the `jit` context.  Underneath:
 * vm/jit_emit.h (x86 encoders), vm/jit_analysis.h (jump targets, regions),
 * vm/jit_peephole.h (fused idioms).
 *
 * Register mapping (chosen so helper calls need no moves: r1-r5 are the SysV argument
 * registers and r6-r10 live in callee-saved registers, which survive helpers as eBPF wants):
 *   r0 rax   r1 rdi   r2 rsi   r3 rdx   r4 rcx   r5 r8
 *   r6 rbx   r7 r13   r8 r14   r9 r15   r10 rbp
 *   x86 r12 = vm_state *st;  x86 r10 = -st->rw_lo;  x86 r11 = scratch;  x86 r9 is free
 *   (only the helpers' 6th argument, st).  x86 r10 is caller-saved: reloaded from st after
 *   every call into C.
 *
 * Invariants the generated code keeps:
 *   - Sandbox: every load/store/atomic does, before touching memory,
 *       lea r11, [base + r10 + off (+ ro)]; cmp r11, [st->jit_lim_{r,w}[log2 size]]; ja cold
 *     i.e. the interpreter's rule `addr - lo <= mem_hi - lo - size` (unsigned) with
 *     lo = rw_lo for stores and lo = mem_lo = rw_lo - ro for loads.  ro (rodata plus
 *     alignment) is fixed by the file's sizes, so it may be an immediate; the prologue
 *     checks it against the state and refuses to run on a mismatch.  The cold path calls
 *     vm_mem_slow (extra regions, fault record) exactly like the interpreter.
 *     Accesses at r10+off with -512 <= off and off+size <= 0 skip the check: r10 always
 *     points at the top of a 512-byte frame inside the stack, which lies in [rw_lo, mem_hi).
 *   - Regions (found by vm/jit_analysis.h, emitted by emit_region): where several accesses
 *     off one base register follow each other (up to REGION_MAX instructions, the base
 *     unwritten, no call, exit or atomic, entered only at its first instruction s), the
 *     region is translated twice.
 *     The main stream holds the fast copy: one or two "cover checks" per access kind -
 *     the same compare as above, on the lowest and highest byte the region's accesses off
 *     that base can touch (one compare when the span is at most 8 bytes, against the limit
 *     of that rounded-up size) - then the instructions with those accesses unchecked.  If a
 *     cover check fails, the slow copy (slow stream: the plain translation, every check in
 *     place, ending with a jump to e) runs instead, so faults, extra regions and accesses
 *     the cover checks were stricter about behave exactly as without regions.  Sound
 *     because the region's memory is one interval [lo, mem_hi) and the base does not change
 *     in the region; jumps back to s from inside the fast copy skip the cover checks.
 *   - Local calls are native calls: `call` pushes a return address the program cannot
 *     reach, the caller saves r6-r10 on the native stack (5 pushes + return = 48 bytes, so
 *     rsp stays 16-byte aligned for helpers) and exit is `ret`.  The entry function is
 *     called the same way from the prologue, so exit at depth 0 returns there.  The call
 *     depth is implied by r10 (stack_top - depth * 512): the depth check is one compare
 *     with st->jit_min_fp.
 *   - No polls: loops, backward jumps and local calls cost nothing for the time limit or
 *     Ctrl-C.  Stops are asynchronous (vm.h "Time and Ctrl-C"): the embedder's tick or
 *     Ctrl-C calls vm_preempt, which rewrites the interrupted rip to the stop stub when it
 *     lies in the body.  That is safe at every instruction of the body because the body
 *     never changes r12 (= st) nor st->jit_saved_sp, and the stub needs nothing else: it
 *     reloads rsp from jit_saved_sp (dropping local-call frames, pushes of a half-done
 *     divide or trampoline, a helper's return address), calls vm_stopped and leaves
 *     through the epilogue, which restores the callee-saved registers pushed before the
 *     save.  Program memory is never left half-written: every store or atomic is one x86
 *     instruction, and an interrupt lands between instructions.  The prologue checks
 *     st->stop once (a request made before the body started), and the code after every
 *     helper call checks it (a stop requested by the helper, or one that arrived while
 *     the helper ran, when rip was outside the body): those stops name the call's pc,
 *     exactly as the interpreter does.
 *   - No absolute address is baked in: bounds, segment bases (relocated lddw), helper
 *     pointers and the slow paths are all read through st at run time, so the same bytes
 *     serve any arena (code cached by SHA-256).
 *   - Errors leave through err_exit, which restores rsp from st->jit_saved_sp and returns
 *     through the normal epilogue (never a longjmp); registers are stored to st->reg.
 *
 * Code layout (emit_prologue): the entry (push, r12 = st, save rsp), the epilogue, padding
 * up to VM_JIT_BODY_OFFSET, then the body: the stop stub, err_exit, the rest of the
 * prologue, the shared trampolines, the main code (one block per instruction, or per
 * fused idiom: vm/jit_peephole.h), the regions' slow copies, then the cold stubs, to the
 * end of the code.  Two passes (vm/jit_compile.c): the first (writes nothing) records
 * each instruction's offset in tables at the end of the caller's buffer (main and
 * slow-copy offsets, and a table of jump targets, loop heads, ways in and fused-group
 * lengths) and the sizes; the second writes the same bytes with every displacement known.
 */
#include <stddef.h>
#include <string.h>
#include "vm/jit_internal.h"
#include "vm/jit_peephole.h"

/* eBPF register -> x86 register. */
static const uint8_t R[11] = {RAX, RDI, RSI, RDX, RCX, R8, RBX, R13, R14, R15, RBP};

enum {
    REG_ST = R12,     /* vm_state *; never written in the body (vm_preempt relies on it) */
    REG_NEGRW = R10,  /* -st->rw_lo; also a trampoline argument in cold paths */
    REG_TMP = R11,    /* scratch; trampoline argument and result */
};

#define ST_OFF(field) ((int32_t)offsetof(vm_state, field))
#define RT_OFF(field) ((int32_t)offsetof(vm_jit_rt, field))

/* Registers a call into C may clobber that hold eBPF or JIT state (r9 holds none, but
 * pushing it too keeps the count odd, which realigns rsp for the call). */
static const uint8_t volatile_regs[7] = {RAX, RDI, RSI, RDX, RCX, R8, R9};

static void jit_fail(jit *j, vm_err e, uint32_t pc)
{
    if (j->err == VM_OK) {
        j->err = e;
        j->err_pc = pc;
    }
}

static size_t insn_ofs(const jit *j, uint32_t pc) { return j->ofs ? tab_get(j->ofs, pc) : 0; }

static size_t slow_ofs(const jit *j, uint32_t pc)
{
    return j->slow_base + (j->sofs ? tab_get(j->sofs, pc) : 0);
}

/* Records where pc's code starts: in the main table, or the slow one inside a slow copy. */
static void set_insn_ofs(jit *j, uint32_t pc, size_t v)
{
    bool slow = j->rg_on && j->rg_slow;
    uint8_t *t = slow ? j->sofs : j->ofs;
    if (!t)
        return;
    if (slow)
        v -= j->slow_base; /* relative: the slow stream moves between the passes */
    if (j->final) { /* the second pass must reproduce the first pass's layout */
        if (tab_get(t, pc) != v)
            jit_fail(j, VM_E_JIT, pc);
        return;
    }
    tab_set(t, pc, (uint32_t)v);
}

/* Where a jump from the code being emitted to pc must go: inside a region, its own copy's
 * instructions (a jump back to the region's start in the fast copy skips the cover checks:
 * the base has not changed since they passed). */
static size_t jump_ofs(const jit *j, uint32_t pc)
{
    if (j->rg_on && pc >= j->rg.s && pc < j->rg.e) {
        if (j->rg_slow)
            return slow_ofs(j, pc);
        if (pc == j->rg.s)
            return j->rg_post;
    }
    return insn_ofs(j, pc);
}

static bool wants_align(const jit *j, uint32_t pc)
{
    return j->marks && (tab_get(j->marks, pc) & ALIGN_MARK);
}

/* Cold stubs: switch streams; main-stream branches to the stub are patched by the caller. */
static size_t cold_enter(jit *j)
{
    j->before_cold = j->b.at;
    j->b.at = &j->b.cold_pos;
    return j->b.cold_pos;
}

static void cold_leave(jit *j) { j->b.at = j->before_cold; }

static int log2_size(unsigned size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

/* ---- prologue, epilogue, trampolines ---- */

static void emit_prologue(jit *j)
{
    jit_buf *b = &j->b;
    static const uint8_t saved[6] = {RBP, RBX, R12, R13, R14, R15};
    for (int i = 0; i < 6; i++)
        x_push(b, saved[i]);
    x_mov_rr(b, true, REG_ST, RDI);
    /* rsp is now 8 mod 16, so inside program code (after the call) it is 0 mod 16.  From
     * here on r12 and the saved rsp are valid: everything after the epilogue is body. */
    x_rm(b, X_W, 0x89, RSP, REG_ST, ST_OFF(jit_saved_sp));
    size_t to_setup = x_jmp32(b, 0);

    /* The epilogue sits before the body: once it starts popping, r12 is no longer st, so
     * vm_preempt must never send it to the stub (it only redirects inside the body). */
    j->exit_path = jb_pos(b);
    for (int r = 0; r <= 10; r++)
        x_rm(b, X_W, 0x89, R[r], REG_ST, ST_OFF(reg) + 8 * r);
    for (int i = 5; i >= 0; i--)
        x_pop(b, saved[i]);
    x_ret(b);
    if (jb_pos(b) > VM_JIT_BODY_OFFSET)
        jit_fail(j, VM_E_JIT, j->p->entry);
    while (jb_pos(b) < VM_JIT_BODY_OFFSET) /* never executed */
        emit1(b, 0xcc);

    /* The stop stub, at VM_JIT_BODY_OFFSET: where vm_preempt sends an interrupted body.
     * Normal context again: unwind to the saved rsp, record the stop (no pc: it is
     * asynchronous), leave through err_exit. */
    j->stop_stub = jb_pos(b);
    x_rm(b, X_W, 0x8b, RSP, REG_ST, ST_OFF(jit_saved_sp));
    x_push(b, RAX); /* 16-byte alignment for the call */
    x_mov_rr(b, true, RDI, REG_ST);
    x_mov_ri(b, false, RSI, (int32_t)VM_PC_NONE);
    x_rm(b, X_W, 0x8b, RAX, REG_ST, ST_OFF(jit_rt));
    x_call_mem(b, RAX, RT_OFF(stopped));
    j->err_exit = jb_pos(b);
    x_rm(b, X_W, 0x8b, RSP, REG_ST, ST_OFF(jit_saved_sp));
    x_jmp32(b, j->exit_path);

    jb_patch32(b, to_setup, jb_pos(b));
    /* Per-run bound values (vm_state comment): lim = mem_hi - lo - size. */
    for (int w = 0; w < 2; w++) {
        x_rm(b, X_W, 0x8b, RAX, REG_ST, ST_OFF(mem_hi));
        x_alu_rmem(b, true, ALU_SUB, RAX, REG_ST, w ? ST_OFF(rw_lo) : ST_OFF(mem_lo));
        for (int k = 0; k < 4; k++) {
            x_lea(b, REG_TMP, RAX, -(1 << k));
            x_rm(b, X_W, 0x89, REG_TMP, REG_ST,
                 (w ? ST_OFF(jit_lim_w) : ST_OFF(jit_lim_r)) + 8 * k);
        }
    }
    x_rm(b, X_W, 0x8b, RAX, REG_ST, ST_OFF(stack_top));
    x_alu_ri(b, true, ALU_SUB, RAX, VM_MAX_CALL_DEPTH * VM_FRAME_SIZE);
    x_rm(b, X_W, 0x89, RAX, REG_ST, ST_OFF(jit_min_fp));
    x_rm(b, X_W, 0x8b, REG_NEGRW, REG_ST, ST_OFF(rw_lo));
    x_rr(b, X_W, 0xf7, 3, REG_NEGRW); /* neg */
    x_rm(b, X_W, 0x89, REG_NEGRW, REG_ST, ST_OFF(jit_neg_rw));
    for (int r = 0; r <= 10; r++)
        x_rm(b, X_W, 0x8b, R[r], REG_ST, ST_OFF(reg) + 8 * r);
    /* The layout constant baked into load checks must hold for this arena. */
    x_rm(b, X_W, 0x8b, REG_TMP, REG_ST, ST_OFF(rw_lo));
    x_alu_rmem(b, true, ALU_SUB, REG_TMP, REG_ST, ST_OFF(mem_lo));
    x_alu_ri(b, true, ALU_CMP, REG_TMP, j->ro);
    size_t bad_layout = x_jcc32(b, CC_NE, 0);
    /* A stop requested before the body could be interrupted (vm_preempt only set it). */
    x_cmp_mem_i8(b, false, REG_ST, ST_OFF(stop), 0);
    x_jcc32(b, CC_NE, j->stop_stub);
    x_call32(b, insn_ofs(j, j->p->entry));
    x_jmp32(b, j->exit_path);

    jb_patch32(b, bad_layout, cold_enter(j));
    x_rm(b, 0, 0xc7, 0, REG_ST, ST_OFF(err));
    emit4(b, VM_E_JIT);
    x_rm(b, 0, 0xc7, 0, REG_ST, ST_OFF(fault.err));
    emit4(b, VM_E_JIT);
    x_jmp32(b, j->err_exit);
    cold_leave(j);
}

static void emit_tramp(jit *j, enum tramp t)
{
    jit_buf *b = &j->b;
    static const int32_t fn[T_COUNT] = {
        [T_MEM] = RT_OFF(mem_slow), [T_STOP] = RT_OFF(stopped), [T_DEPTH] = RT_OFF(fault_depth),
        [T_CALLX] = RT_OFF(callx_fail), [T_HALT] = RT_OFF(halted),
    };
    j->tramp[t] = jb_pos(b);
    /* Entered by `call` from program code (rsp 8 mod 16); 7 pushes realign it. */
    for (int i = 0; i < 7; i++)
        x_push(b, volatile_regs[i]);
    x_mov_rr(b, true, RDI, REG_ST);
    if (t == T_MEM) {
        x_mov_rr(b, true, RSI, REG_TMP);             /* addr */
        x_mov_rr(b, false, RDX, REG_NEGRW);
        x_alu_ri(b, false, ALU_AND, RDX, 0xf);       /* size */
        x_mov_rr(b, false, RCX, REG_NEGRW);
        x_shift_ri(b, false, SH_SHR, RCX, 4);
        x_alu_ri(b, false, ALU_AND, RCX, 0xf);       /* access */
        x_mov_rr(b, false, R8, REG_NEGRW);
        x_shift_ri(b, false, SH_SHR, R8, 8);         /* pc */
    } else {
        x_mov_rr(b, false, RSI, REG_NEGRW);          /* pc */
        x_mov_rr(b, true, RDX, REG_TMP);             /* callx id */
    }
    x_rm(b, X_W, 0x8b, RAX, REG_ST, ST_OFF(jit_rt));
    x_call_mem(b, RAX, fn[t]);
    x_mov_rr(b, false, REG_TMP, RAX);
    for (int i = 6; i >= 0; i--)
        x_pop(b, volatile_regs[i]);
    x_rm(b, X_W, 0x8b, REG_NEGRW, REG_ST, ST_OFF(jit_neg_rw));
    x_ret(b);
}

/* Cold stub tail: r10d = arg; call trampoline t; then either stop (jz err_exit if the
 * trampoline said 0, or always) or return to `back`. */
static void emit_stub_call(jit *j, enum tramp t, uint32_t arg, bool may_continue, size_t back)
{
    jit_buf *b = &j->b;
    x_rr(b, 0, 0xc7, 0, REG_NEGRW); /* mov r10d, imm32 (fixed size) */
    emit4(b, arg);
    x_call32(b, j->tramp[t]);
    if (may_continue) {
        x_test_rr(b, false, REG_TMP, REG_TMP);
        x_jcc32(b, CC_E, j->err_exit);
        x_jmp32(b, back);
    } else {
        x_jmp32(b, j->err_exit);
    }
}

/* ---- run-time checks ---- */

/* Aligns a loop head or function entry; fall-through entry jumps over the padding. */
static void emit_align(jit *j)
{
    jit_buf *b = &j->b;
    if (jb_pos(b) % LOOP_ALIGN == 0)
        return;
    size_t over = x_jmp8(b);
    while (jb_pos(b) % LOOP_ALIGN) /* never executed: jumped over */
        emit1(b, 0xcc);
    jb_patch8(b, over, jb_pos(b));
}

/* Sandbox check for an access of size bytes at [R[base] + off]; the caller then emits the
 * access itself, which the cold path returns to when vm_mem_slow allows it. */
static void emit_mem_check(jit *j, uint32_t pc, uint8_t base, int16_t off, unsigned size,
                           vm_access access)
{
    jit_buf *b = &j->b;
    if (base == 10 && j->elide_stack && off >= -VM_FRAME_SIZE && off + (int)size <= 0)
        return;
    if (j->rg_on && !j->rg_slow && base == j->rg.base) /* covered by the region's checks */
        return;
    int xb = R[base];
    /* lea r11, [base + r10 + off (+ ro)] = addr - rw_lo (stores) or addr - mem_lo (loads) */
    x_rm_idx(b, X_W, 0x8d, REG_TMP, xb, REG_NEGRW, 0, off + (access == VM_READ ? j->ro : 0));
    x_alu_rmem(b, true, ALU_CMP, REG_TMP, REG_ST,
               (access == VM_READ ? ST_OFF(jit_lim_r) : ST_OFF(jit_lim_w)) +
                   8 * log2_size(size));
    size_t f = x_jcc32(b, CC_A, 0);
    size_t back = jb_pos(b);
    size_t stub = cold_enter(j);
    jb_patch32(b, f, stub);
    x_lea(b, REG_TMP, xb, off);
    emit_stub_call(j, T_MEM, pc << 8 | (uint32_t)access << 4 | size, true, back);
    cold_leave(j);
}

/* ---- instructions ---- */

/* dst = dst / src or dst % src by the ISA's rules (x/0 = 0, x%0 = x, INT_MIN/-1 = INT_MIN,
 * INT_MIN%-1 = 0), src an eBPF register (xs >= 0) or the immediate. */
static void emit_divmod(jit *j, bool is64, bool mod, bool sign, int d, int xs, int32_t imm)
{
    jit_buf *b = &j->b;
    size_t f_zero = 0, f_m1 = 0;
    if (xs < 0) { /* constant divisor: the special cases are decided now */
        uint64_t v = is64 ? (uint64_t)(int64_t)imm : (uint32_t)imm;
        if (v == 0) {
            if (!mod)
                x_mov_ri(b, false, d, 0);
            else if (!is64)
                x_mov_rr(b, false, d, d);
            return;
        }
        if (sign && imm == -1) {
            if (mod)
                x_mov_ri(b, false, d, 0);
            else
                x_rr(b, wflag(is64), 0xf7, 3, d); /* neg */
            return;
        }
        x_mov_ri(b, is64, REG_TMP, imm);
    } else {
        x_mov_rr(b, is64, REG_TMP, xs);
        x_test_rr(b, is64, REG_TMP, REG_TMP);
        f_zero = x_jcc8(b, CC_E);
        if (sign) {
            x_alu_ri(b, is64, ALU_CMP, REG_TMP, -1);
            f_m1 = x_jcc8(b, CC_E);
        }
    }
    x_push(b, RAX);
    x_push(b, RDX);
    x_mov_rr(b, true, RAX, d);
    if (sign) {
        if (is64)
            emit1(b, 0x48);
        emit1(b, 0x99); /* cqo / cdq */
    } else {
        x_mov_ri(b, false, RDX, 0);
    }
    x_rr(b, wflag(is64), 0xf7, sign ? 7 : 6, REG_TMP); /* idiv / div r11 */
    x_mov_rr(b, true, REG_TMP, mod ? RDX : RAX);
    x_pop(b, RDX);
    x_pop(b, RAX);
    x_mov_rr(b, true, d, REG_TMP);
    if (xs < 0)
        return;
    size_t f_done = x_jmp8(b);
    jb_patch8(b, f_zero, jb_pos(b)); /* divisor 0 */
    if (!mod)
        x_mov_ri(b, false, d, 0);
    else if (!is64)
        x_mov_rr(b, false, d, d);
    if (sign) {
        size_t f_done2 = x_jmp8(b);
        jb_patch8(b, f_m1, jb_pos(b)); /* divisor -1 */
        if (mod)
            x_mov_ri(b, false, d, 0);
        else
            x_rr(b, wflag(is64), 0xf7, 3, d);
        jb_patch8(b, f_done2, jb_pos(b));
    }
    jb_patch8(b, f_done, jb_pos(b));
}

static void emit_alu(jit *j, vm_insn i)
{
    jit_buf *b = &j->b;
    bool is64 = BPF_CLASS(i.code) == BPF_ALU64, x = BPF_SRC(i.code) == BPF_X;
    int d = R[i.dst], s = R[i.src];
    uint8_t op = BPF_OP(i.code);
    static const enum x86_alu simple[16] = {
        [BPF_ADD >> 4] = ALU_ADD, [BPF_SUB >> 4] = ALU_SUB, [BPF_OR >> 4] = ALU_OR,
        [BPF_AND >> 4] = ALU_AND, [BPF_XOR >> 4] = ALU_XOR,
    };
    switch (op) {
    case BPF_ADD: case BPF_SUB: case BPF_OR: case BPF_AND: case BPF_XOR:
        if (x)
            x_alu_rr(b, is64, simple[op >> 4], d, s);
        else
            x_alu_ri(b, is64, simple[op >> 4], d, i.imm);
        j->flags_reg = i.dst; /* ZF now tells whether dst is zero */
        j->flags_64 = is64;
        break;
    case BPF_MUL:
        if (x) {
            x_rr(b, wflag(is64), 0x0faf, d, s);
        } else if (i.imm == 2 || i.imm == 4 || i.imm == 8) {
            x_shift_ri(b, is64, SH_SHL, d, (uint8_t)(i.imm == 2 ? 1 : i.imm == 4 ? 2 : 3));
        } else if (i.imm == 3 || i.imm == 5 || i.imm == 9) { /* lea d, [d + d*(imm-1)] */
            x_rm_idx(b, wflag(is64), 0x8d, d, d, d, i.imm == 3 ? 1 : i.imm == 5 ? 2 : 3, 0);
        } else if (fits8(i.imm)) {
            x_rr(b, wflag(is64), 0x6b, d, d);
            emit1(b, (uint8_t)i.imm);
        } else {
            x_rr(b, wflag(is64), 0x69, d, d);
            emit4(b, (uint32_t)i.imm);
        }
        break;
    case BPF_DIV: case BPF_MOD:
        emit_divmod(j, is64, op == BPF_MOD, i.off == 1, d, x ? s : -1, i.imm);
        break;
    case BPF_LSH: case BPF_RSH: case BPF_ARSH: {
        enum x86_shift sh = op == BPF_LSH ? SH_SHL : op == BPF_RSH ? SH_SHR : SH_SAR;
        if (!x) {
            uint8_t n = (uint8_t)(i.imm & (is64 ? 63 : 31));
            if (n)
                x_shift_ri(b, is64, sh, d, n);
            else if (!is64)
                x_mov_rr(b, false, d, d);
            break;
        }
        /* The count must be in cl; r4 lives in rcx. */
        if (s == RCX) {
            x_shift_cl(b, is64, sh, d);
        } else {
            x_mov_rr(b, true, REG_TMP, RCX);
            x_mov_rr(b, true, RCX, s);
            x_shift_cl(b, is64, sh, d == RCX ? REG_TMP : d);
            x_mov_rr(b, true, RCX, REG_TMP);
        }
        if (!is64) /* a 32-bit shift by 0 must still zero-extend */
            x_mov_rr(b, false, d, d);
        break;
    }
    case BPF_NEG:
        x_rr(b, wflag(is64), 0xf7, 3, d);
        break;
    case BPF_MOV:
        if (!x)
            x_mov_ri(b, is64, d, i.imm);
        else if (i.off == 8)
            x_rr(b, wflag(is64) | X_BYTE, 0x0fbe, d, s);
        else if (i.off == 16)
            x_rr(b, wflag(is64), 0x0fbf, d, s);
        else if (i.off == 32)
            x_rr(b, X_W, 0x63, d, s);
        else if (!is64 || d != s)
            x_mov_rr(b, is64, d, s);
        break;
    case BPF_END:
        if (!is64 && !x) { /* to little endian: truncate */
            if (i.imm == 16)
                x_rr(b, 0, 0x0fb7, d, d);
            else if (i.imm == 32)
                x_mov_rr(b, false, d, d);
        } else if (i.imm == 16) {
            x_rr(b, X_66, 0xc1, SH_ROL, d);
            emit1(b, 8);
            x_rr(b, 0, 0x0fb7, d, d);
        } else {
            x_bswap(b, i.imm == 64, d);
        }
        break;
    default:
        jit_fail(j, VM_E_JIT, 0);
        break;
    }
}

static void emit_lddw(jit *j, uint32_t pc, vm_insn i)
{
    jit_buf *b = &j->b;
    const vm_program *p = j->p;
    int d = R[i.dst];
    uint8_t seg = p->reloc_seg[pc];
    if (seg == VM_SEG_NONE) {
        x_mov_ri64(b, d, (uint32_t)i.imm | (p->insns[pc + 1] >> 32) << 32);
        return;
    }
    if (seg >= VM_SEG_COUNT) {
        jit_fail(j, VM_E_JIT, pc);
        return;
    }
    /* Relocated: segment base of this run + addend, never this arena's address. */
    x_rm(b, X_W, 0x8b, d, REG_ST, ST_OFF(seg_base) + 8 * seg);
    uint64_t add = vm_reloc_addend(p, pc);
    if (add == 0)
        return;
    if (fits32((int64_t)add)) {
        x_alu_ri(b, true, ALU_ADD, d, (int32_t)add);
    } else {
        x_mov_ri64(b, REG_TMP, add);
        x_alu_rr(b, true, ALU_ADD, d, REG_TMP);
    }
}

static void emit_mem(jit *j, uint32_t pc, vm_insn i)
{
    jit_buf *b = &j->b;
    uint8_t cls = BPF_CLASS(i.code);
    unsigned size = BPF_SIZE(i.code) == BPF_B ? 1 : BPF_SIZE(i.code) == BPF_H ? 2
                  : BPF_SIZE(i.code) == BPF_W ? 4 : 8;
    if (cls == BPF_LDX) {
        emit_mem_check(j, pc, i.src, i.off, size, VM_READ);
        x_load(b, size, BPF_MODE(i.code) == BPF_MEMSX, R[i.dst], R[i.src], i.off);
        return;
    }
    emit_mem_check(j, pc, i.dst, i.off, size, VM_WRITE);
    int base = R[i.dst], s = R[i.src];
    if (cls == BPF_ST) {
        x_store_imm(b, size, base, i.off, i.imm);
        return;
    }
    if (BPF_MODE(i.code) == BPF_MEM) {
        x_store(b, size, base, i.off, s);
        return;
    }
    /* Atomics (size 4 or 8).  The 32-bit forms zero-extend what they write to a register. */
    bool is64 = size == 8;
    unsigned w = wflag(is64);
    switch (i.imm) {
    case BPF_ADD: x_rm(b, X_LOCK | w, 0x01, s, base, i.off); break;
    case BPF_OR: x_rm(b, X_LOCK | w, 0x09, s, base, i.off); break;
    case BPF_AND: x_rm(b, X_LOCK | w, 0x21, s, base, i.off); break;
    case BPF_XOR: x_rm(b, X_LOCK | w, 0x31, s, base, i.off); break;
    case BPF_ADD | BPF_FETCH: x_rm(b, X_LOCK | w, 0x0fc1, s, base, i.off); break; /* xadd */
    case BPF_XCHG: x_rm(b, w, 0x87, s, base, i.off); break;
    case BPF_CMPXCHG:
        x_rm(b, X_LOCK | w, 0x0fb1, s, base, i.off);
        if (!is64)
            x_mov_rr(b, false, RAX, RAX);
        break;
    case BPF_OR | BPF_FETCH: case BPF_AND | BPF_FETCH: case BPF_XOR | BPF_FETCH: {
        /* One thread per program: a plain read-modify-write, as in the interpreter. */
        enum x86_alu op = (i.imm & ~BPF_FETCH) == BPF_OR ? ALU_OR
                        : (i.imm & ~BPF_FETCH) == BPF_AND ? ALU_AND : ALU_XOR;
        x_load(b, size, false, REG_TMP, base, i.off);
        x_mov_rr(b, true, REG_NEGRW, REG_TMP);
        x_alu_rr(b, is64, op, REG_NEGRW, s);
        x_store(b, size, base, i.off, REG_NEGRW);
        x_mov_rr(b, true, s, REG_TMP);
        x_rm(b, X_W, 0x8b, REG_NEGRW, REG_ST, ST_OFF(jit_neg_rw));
        break;
    }
    default:
        jit_fail(j, VM_E_JIT, pc);
        break;
    }
}

static enum x86_cc jmp_cc(uint8_t op)
{
    switch (op) {
    case BPF_JEQ: return CC_E;
    case BPF_JGT: return CC_A;
    case BPF_JGE: return CC_AE;
    case BPF_JSET: return CC_NE;
    case BPF_JNE: return CC_NE;
    case BPF_JSGT: return CC_G;
    case BPF_JSGE: return CC_GE;
    case BPF_JLT: return CC_B;
    case BPF_JLE: return CC_BE;
    case BPF_JSLT: return CC_L;
    default: return CC_LE; /* BPF_JSLE */
    }
}

/* Unconditional jump: no poll even backwards (stops are asynchronous, see the header). */
static void emit_goto(jit *j, uint32_t target) { x_jmp32(&j->b, jump_ofs(j, target)); }

/* Sets the flags for conditional jump i; returns the condition that means "taken". */
static enum x86_cc emit_compare(jit *j, vm_insn i, int flags_reg)
{
    jit_buf *b = &j->b;
    bool is64 = BPF_CLASS(i.code) == BPF_JMP, x = BPF_SRC(i.code) == BPF_X;
    uint8_t op = BPF_OP(i.code);
    int d = R[i.dst];
    if (x)
        op == BPF_JSET ? x_test_rr(b, is64, d, R[i.src]) : x_alu_rr(b, is64, ALU_CMP, d, R[i.src]);
    else if (op == BPF_JSET)
        x_test_ri(b, is64, d, i.imm);
    else if (i.imm == 0 && (op == BPF_JEQ || op == BPF_JNE) && flags_reg == i.dst &&
             (is64 || !j->flags_64))
        ; /* the ALU op just before set ZF for this very value */
    else if (i.imm == 0)
        x_test_rr(b, is64, d, d); /* same flags as cmp d, 0 */
    else
        x_alu_ri(b, is64, ALU_CMP, d, i.imm);
    return jmp_cc(op);
}

static void emit_jcc(jit *j, uint32_t pc, vm_insn i, int flags_reg)
{
    x_jcc32(&j->b, emit_compare(j, i, flags_reg), jump_ofs(j, (uint32_t)((int64_t)pc + i.off + 1)));
}

/* After a call into a helper: reload r10, stop if the helper halted the program, or if a
 * stop was requested meanwhile (by the helper, or asynchronously while rip was outside the
 * body): both name the call's pc, as in the interpreter. */
static void emit_after_helper(jit *j, uint32_t pc)
{
    jit_buf *b = &j->b;
    x_rm(b, X_W, 0x8b, REG_NEGRW, REG_ST, ST_OFF(jit_neg_rw));
    x_cmp_mem_i8(b, false, REG_ST, ST_OFF(halt), 0);
    size_t f = x_jcc32(b, CC_NE, 0);
    x_cmp_mem_i8(b, false, REG_ST, ST_OFF(stop), 0);
    size_t f2 = x_jcc32(b, CC_NE, 0);
    size_t stub = cold_enter(j);
    jb_patch32(b, f, stub);
    emit_stub_call(j, T_HALT, pc, false, 0);
    stub = jb_pos(b);
    jb_patch32(b, f2, stub);
    emit_stub_call(j, T_STOP, pc, false, 0);
    cold_leave(j);
}

static void emit_call(jit *j, uint32_t pc, vm_insn i)
{
    jit_buf *b = &j->b;
    const int32_t helpers = (int32_t)offsetof(vm_program, helper);
    if (i.code == OP_CALL && i.src == BPF_PSEUDO_LOCAL) {
        x_alu_rmem(b, true, ALU_CMP, RBP, REG_ST, ST_OFF(jit_min_fp));
        size_t f = x_jcc32(b, CC_BE, 0);
        size_t stub = cold_enter(j);
        jb_patch32(b, f, stub);
        emit_stub_call(j, T_DEPTH, pc, false, 0);
        cold_leave(j);
        static const uint8_t keep[5] = {RBX, R13, R14, R15, RBP}; /* r6-r10 */
        for (int k = 0; k < 5; k++)
            x_push(b, keep[k]);
        x_alu_ri(b, true, ALU_SUB, RBP, VM_FRAME_SIZE);
        x_call32(b, insn_ofs(j, (uint32_t)((int64_t)pc + i.imm + 1)));
        for (int k = 4; k >= 0; k--)
            x_pop(b, keep[k]);
        return;
    }
    x_rm(b, X_W, 0x8b, REG_TMP, REG_ST, ST_OFF(prog));
    if (i.code == OP_CALLX) { /* helper id in a register: checked at run time */
        int id = R[i.dst];
        x_alu_ri(b, true, ALU_CMP, id, VM_MAX_HELPERS - 1);
        size_t f1 = x_jcc32(b, CC_A, 0);
        x_rm_idx(b, X_W, 0x8b, REG_TMP, REG_TMP, id, 3, helpers);
        x_test_rr(b, true, REG_TMP, REG_TMP);
        size_t f2 = x_jcc32(b, CC_E, 0);
        size_t stub = cold_enter(j);
        jb_patch32(b, f1, stub);
        jb_patch32(b, f2, stub);
        x_mov_rr(b, true, REG_TMP, id);
        emit_stub_call(j, T_CALLX, pc, false, 0);
        cold_leave(j);
    } else {
        x_rm(b, X_W, 0x8b, REG_TMP, REG_TMP, helpers + 8 * i.imm);
    }
    /* r0 = fn(r1..r5, st): r1-r5 are already in place; st goes in r9. */
    x_mov_rr(b, true, R9, REG_ST);
    x_call_mem(b, REG_TMP, (int32_t)offsetof(vm_helper, fn));
    emit_after_helper(j, pc);
}

/* ---- peepholes (matching in vm/jit_peephole.h) ---- */

static bool is_target(const jit *j, uint32_t pc)
{
    return !j->marks || (tab_get(j->marks, pc) & TARGET_MARK);
}

/* The fused instructions after the first must not be entered from elsewhere. */
static bool straight(const jit *j, uint32_t pc, uint32_t n)
{
    return j->marks && marks_straight(j->p, j->marks, pc, n);
}

static void translate_insn(jit *j, uint32_t pc, vm_insn i, int flags_reg);

/* The select idiom (vm/jit_peephole.h) at pc: r10b = "the jump is taken" from the test,
 * r11 = the kept register; the ALU ops; restore it on the jump path (r10 reloaded after);
 * go to the target - both paths end there, so no branch is left. */
static void emit_select(jit *j, uint32_t pc, const peep_select *sel)
{
    jit_buf *b = &j->b;
    uint32_t ja_pc = pc + sel->len - 1;
    x_test_ri(b, sel->t.wide, R[sel->t.src], sel->t.imm);
    if (sel->keep >= 0) {
        x_rr(b, X_BYTE, 0x0f90 | (sel->t.jump_if_zero ? CC_E : CC_NE), 0, REG_NEGRW); /* setcc */
        x_mov_rr(b, true, REG_TMP, R[sel->keep]);
    }
    for (uint32_t k = pc + 1; k < ja_pc; k++) {
        set_insn_ofs(j, k, jb_pos(b));
        if (k >= pc + PEEP_TEST_LEN)
            translate_insn(j, k, vm_insn_decode(j->p->insns[k]), -1);
    }
    set_insn_ofs(j, ja_pc, jb_pos(b));
    if (sel->keep >= 0) {
        x_rr(b, X_BYTE, 0x84, REG_NEGRW, REG_NEGRW);          /* test r10b, r10b */
        x_rr(b, X_W, 0x0f45, R[sel->keep], REG_TMP);          /* cmovne keep, r11 */
        x_rm(b, X_W, 0x8b, REG_NEGRW, REG_ST, ST_OFF(jit_neg_rw));
    }
    emit_goto(j, sel->t.target);
    j->flags_reg = -1;
}

typedef struct fused {
    enum { FU_NONE, FU_LOOP, FU_ROTATE, FU_SELECT, FU_TEST } kind;
    uint32_t len; /* instructions covered (0: none) */
    uint32_t back;
    peep_rotate rot;
    peep_test tst;
    peep_select sel;
} fused;

/* The fused group that starts at pc if translation reaches pc as a group start. */
static void match_fuse(const jit *j, uint32_t pc, fused *f)
{
    f->kind = FU_NONE;
    f->len = 0;
    if (straight(j, pc, PEEP_LOOP_LEN) && peep_match_loop(j->p, pc, &f->back))
        f->kind = FU_LOOP, f->len = PEEP_LOOP_LEN;
    else if (straight(j, pc, PEEP_ROTATE_LEN) && peep_match_rotate(j->p, pc, &f->rot))
        f->kind = FU_ROTATE, f->len = PEEP_ROTATE_LEN;
    else if (straight(j, pc, PEEP_TEST_LEN + 2) && peep_match_select(j->p, pc, &f->sel) &&
             straight(j, pc, f->sel.len))
        f->kind = FU_SELECT, f->len = f->sel.len;
    else if (straight(j, pc, PEEP_TEST_LEN) && peep_match_test(j->p, pc, &f->tst))
        f->kind = FU_TEST, f->len = PEEP_TEST_LEN;
}

/* Emits a fused group at pc; returns the instructions it covers (0: none matched). */
static uint32_t try_fuse(jit *j, uint32_t pc, int flags_reg)
{
    fused f;
    if (j->marks && marks_group_len(j->marks, pc) == 0)
        return 0;
    match_fuse(j, pc, &f);
    switch (f.kind) {
    case FU_LOOP: {
        /* jcc +1; ja back: not taken means the ja runs, so branch back on the inverse. */
        enum x86_cc cc = emit_compare(j, vm_insn_decode(j->p->insns[pc]), flags_reg);
        set_insn_ofs(j, pc + 1, jb_pos(&j->b));
        x_jcc32(&j->b, (enum x86_cc)(cc ^ 1), jump_ofs(j, f.back));
        break;
    }
    case FU_ROTATE:
        x_mov_rr(&j->b, f.rot.is64, R[f.rot.dst], R[f.rot.src]);
        x_shift_ri(&j->b, f.rot.is64, SH_ROR, R[f.rot.dst], f.rot.n);
        for (uint32_t k = 1; k < PEEP_ROTATE_LEN; k++)
            set_insn_ofs(j, pc + k, jb_pos(&j->b));
        break;
    case FU_SELECT:
        emit_select(j, pc, &f.sel);
        break;
    case FU_TEST:
        x_test_ri(&j->b, f.tst.wide, R[f.tst.src], f.tst.imm);
        for (uint32_t k = 1; k < PEEP_TEST_LEN; k++)
            set_insn_ofs(j, pc + k, jb_pos(&j->b));
        x_jcc32(&j->b, f.tst.jump_if_zero ? CC_E : CC_NE, jump_ofs(j, f.tst.target));
        break;
    case FU_NONE:
        break;
    }
    return f.len;
}

static void translate_insn(jit *j, uint32_t pc, vm_insn i, int flags_reg)
{
    switch (BPF_CLASS(i.code)) {
    case BPF_ALU:
    case BPF_ALU64:
        emit_alu(j, i);
        break;
    case BPF_LD:
        emit_lddw(j, pc, i);
        break;
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
        emit_mem(j, pc, i);
        break;
    default: /* JMP, JMP32 */
        if (i.code == OP_EXIT)
            x_ret(&j->b);
        else if (i.code == OP_CALL || i.code == OP_CALLX)
            emit_call(j, pc, i);
        else if (i.code == OP_JA)
            emit_goto(j, (uint32_t)((int64_t)pc + i.off + 1));
        else if (i.code == OP_JA32)
            emit_goto(j, (uint32_t)((int64_t)pc + i.imm + 1));
        else
            emit_jcc(j, pc, i, flags_reg);
        break;
    }
}

/* ---- regions (see "Regions" in the header) ---- */

static void translate_range(jit *j, uint32_t from, uint32_t to, bool started);

/* Cover checks: one compare for a span of at most 8 bytes, else both ends. */
static void emit_cover(jit *j, size_t slow_start)
{
    jit_buf *b = &j->b;
    const jit_region *r = &j->rg;
    for (int w = 0; w < 2; w++) {
        if (r->lo[w] >= r->hi[w])
            continue;
        int32_t span = r->hi[w] - r->lo[w], add = w ? 0 : j->ro;
        int32_t lim = w ? ST_OFF(jit_lim_w) : ST_OFF(jit_lim_r);
        int k = span <= 1 ? 0 : span <= 2 ? 1 : span <= 4 ? 2 : span <= 8 ? 3 : 0;
        for (int end = 0; end < (span <= 8 ? 1 : 2); end++) {
            x_rm_idx(b, X_W, 0x8d, REG_TMP, R[r->base], REG_NEGRW, 0,
                     (end ? r->hi[w] - 1 : r->lo[w]) + add);
            x_alu_rmem(b, true, ALU_CMP, REG_TMP, REG_ST, lim + 8 * k);
            x_jcc32(b, CC_A, slow_start);
        }
    }
}

/* The fast copy in the main stream (cover checks, then the instructions with the base's
 * checks left out, falling through to e), the slow copy in the slow stream (the plain
 * translation, ending with a jump to e). */
static void emit_region(jit *j, const jit_region *r)
{
    jit_buf *b = &j->b;
    if (wants_align(j, r->s))
        emit_align(j);
    set_insn_ofs(j, r->s, jb_pos(b));
    j->rg = *r;
    j->rg_on = true;
    j->rg_slow = false;
    emit_cover(j, slow_ofs(j, r->s));
    if (j->final) {
        j->n_regions++;
        j->region_insns += r->e - r->s;
    }
    j->rg_post = jb_pos(b);
    j->flags_reg = -1;
    translate_range(j, r->s, r->e, true);
    b->at = &b->slow_pos;
    j->rg_slow = true;
    j->flags_reg = -1;
    translate_range(j, r->s, r->e, false);
    x_jmp32(b, insn_ofs(j, r->e));
    b->at = &b->main_pos;
    j->rg_on = false;
    j->flags_reg = -1;
}

enum { REGION_FIXED = 96 }; /* cover checks and the slow copy's last jump, at most */

/* Emits region r if the code it adds (the slow copy and cold stubs, plus REGION_FIXED)
 * fits in the budget; the first pass decides and marks refusals (REGION_NO), the second
 * follows. */
static bool try_region(jit *j, const jit_region *r)
{
    jit_buf *b = &j->b;
    if (!j->final && j->dup_used + REGION_FIXED >= dup_cap(j->p)) { /* spent: don't try */
        tab_set(j->marks, r->s, tab_get(j->marks, r->s) | REGION_NO);
        return false;
    }
    size_t m0 = b->main_pos, s0 = b->slow_pos, c0 = b->cold_pos;
    int flags = j->flags_reg;
    bool flags_64 = j->flags_64;
    emit_region(j, r);
    if (j->final)
        return true;
    size_t cost = (b->slow_pos - s0) + (b->cold_pos - c0) + REGION_FIXED;
    if (j->dup_used + cost <= dup_cap(j->p)) {
        j->dup_used += cost;
        return true;
    }
    /* Undo (nothing is written in this pass; the offsets are set again from s on). */
    b->main_pos = m0, b->slow_pos = s0, b->cold_pos = c0;
    j->flags_reg = flags;
    j->flags_64 = flags_64;
    tab_set(j->marks, r->s, tab_get(j->marks, r->s) | REGION_NO);
    return false;
}

/* Translates [from, to); started: from's offset is already set (a region's fast copy). */
static void translate_range(jit *j, uint32_t from, uint32_t to, bool started)
{
    const vm_program *p = j->p;
    for (uint32_t pc = from; pc < to && j->err == VM_OK; pc++) {
        jit_region r;
        if (!j->rg_on && j->marks && find_region(j->p, j->marks, pc, &r) && try_region(j, &r)) {
            pc = r.e - 1;
            continue;
        }
        /* A copy's first instruction follows the cover checks, which set the flags. */
        bool target = is_target(j, pc) || (j->rg_on && pc == from);
        if (!(started && pc == from)) {
            if (!(j->rg_on && j->rg_slow) && wants_align(j, pc))
                emit_align(j);
            set_insn_ofs(j, pc, jb_pos(&j->b));
        }
        vm_insn i = vm_insn_decode(p->insns[pc]);
        int flags_reg = target ? -1 : j->flags_reg; /* flags are known only on fall-through */
        j->flags_reg = -1;
        uint32_t fused = try_fuse(j, pc, flags_reg);
        if (fused) {
            pc += fused - 1;
            continue;
        }
        translate_insn(j, pc, i, flags_reg);
        if (i.code == OP_LDDW) {
            pc++;
            set_insn_ofs(j, pc, jb_pos(&j->b)); /* never a target (verifier) */
        }
    }
}

/* ---- the driver's calls (vm/jit_internal.h) ---- */

void jit_translate(jit *j, size_t slow_start, size_t cold_start)
{
    j->b.main_pos = 0;
    j->b.slow_pos = slow_start;
    j->slow_base = slow_start;
    j->b.cold_pos = cold_start;
    j->b.at = &j->b.main_pos;
    j->rg_on = false;
    j->dup_used = 0;
    emit_prologue(j);
    for (int t = 0; t < T_COUNT; t++)
        emit_tramp(j, (enum tramp)t);
    translate_range(j, 0, j->p->n_insns, false);
}

/* Caches match_fuse's length at every instruction (find_region asks for it often). */
void jit_cache_groups(jit *j)
{
    for (uint32_t pc = 0; pc < j->p->n_insns; pc++) {
        fused f;
        match_fuse(j, pc, &f);
        tab_set(j->marks, pc, tab_get(j->marks, pc) | (f.len + 1) << GROUP_SHIFT);
    }
}
