/* tests/vm/test_vm.c: verifier rejections, sandbox/adversarial programs, 5-argument helpers,
 * time limit and stop flag, and .nda corruption - each on every engine (vmtest.h).
 * Programs are written in the assembler's text form so each case reads like the ISA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "lib/clock.h"
#include "tests/check.h"
#include "tests/vm/vmtest.h"
#include "vm/asm.h"
#include "vm/host/nda_build.h"
#include "vm/nda_format.h"
#include "vm/vm_internal.h"

static uint64_t words[4096];

static size_t assemble(const char *text) { return vmt_assemble(text, words, 4096); }

/* ---- verifier ---- */

static void reject_raw(const char *name, const uint64_t *w, size_t n, vm_err want, int64_t pc)
{
    vmt_prog t;
    vm_err e = vmt_load_raw(&t, w, n, VM_ENGINE_INTERP);
    char msg[256];
    vm_format_fault(&t.fault, msg, sizeof msg);
    check(e == want && (pc < -1 || t.fault.pc == pc), "verifier rejects %s (%s)", name, msg);
    vmt_free(&t);
}

static void reject_asm(const char *name, const char *text, vm_err want, int64_t pc)
{
    size_t n = assemble(text);
    reject_raw(name, words, n, want, pc);
}

static void test_verifier(void)
{
    uint64_t w[4];
    reject_raw("empty program", w, 0, VM_E_EMPTY, -1);
    w[0] = vm_insn_encode(0xff, 0, 0, 0, 0);
    w[1] = vm_insn_encode(OP_EXIT, 0, 0, 0, 0);
    reject_raw("unknown opcode", w, 2, VM_E_OPCODE, 0);
    w[0] = vm_insn_encode(BPF_ALU64 | BPF_MOV | BPF_K, 11, 0, 0, 1);
    reject_raw("bad register", w, 2, VM_E_REG, 0);
    reject_asm("write to r10", "mov %r10, 1\nexit\n", VM_E_WRITE_R10, 0);
    reject_asm("load into r10", "ldxdw %r10, [%r1]\nexit\n", VM_E_WRITE_R10, 0);
    reject_asm("jump out of range", "ja +5\nexit\n", VM_E_JUMP_RANGE, 0);
    reject_asm("jump backwards out of range", "mov %r0, 0\nja -3\nexit\n", VM_E_JUMP_RANGE, 1);
    reject_asm("jump into lddw", "ja +1\nlddw %r0, 0x1122334455667788\nexit\n", VM_E_JUMP_LDDW, 0);
    reject_asm("fall-through off the end", "mov %r0, 0\n", VM_E_FALLTHROUGH, 0);
    reject_asm("conditional jump at the end", "mov %r0, 0\njeq %r0, 0, -2\n", VM_E_FALLTHROUGH, 1);
    reject_asm("call to unknown helper", "call 63\nexit\n", VM_E_UNKNOWN_HELPER, 0);
    reject_asm("local call out of range", "call local +7\nexit\n", VM_E_JUMP_RANGE, 0);
    w[0] = vm_insn_encode(OP_LDDW, 0, 0, 0, 1);
    reject_raw("truncated lddw", w, 1, VM_E_LDDW, 0);
    w[0] = vm_insn_encode(OP_LDDW, 0, 0, 0, 1);
    w[1] = vm_insn_encode(BPF_ALU64 | BPF_MOV, 0, 0, 0, 0);
    w[2] = vm_insn_encode(OP_EXIT, 0, 0, 0, 0);
    reject_raw("lddw with a real second instruction", w, 3, VM_E_LDDW, 0);
    w[0] = vm_insn_encode(BPF_ALU64 | BPF_END | BPF_K, 0, 0, 0, 24);
    w[1] = vm_insn_encode(OP_EXIT, 0, 0, 0, 0);
    reject_raw("byte swap of 24 bits", w, 2, VM_E_FIELD, 0);
    w[0] = vm_insn_encode(BPF_LD | 0x20 | BPF_W, 0, 0, 0, 0); /* legacy ABS load */
    reject_raw("legacy packet load", w, 2, VM_E_OPCODE, 0);
}

/* ---- running ---- */

static vm_err run_asm(const char *text, vm_engine e, uint64_t *r0, vm_fault *fault,
                      uint64_t limit_ns, uint8_t *mem, size_t mem_len)
{
    size_t n = assemble(text);
    vmt_prog t;
    vm_err err = vmt_load_raw(&t, words, n, e);
    if (err) {
        *fault = t.fault;
        vmt_free(&t);
        return err;
    }
    vm_run_opts o = {0};
    o.engine = e;
    o.time_limit_ns = limit_ns;
    if (mem) {
        o.args[0] = (uint64_t)(uintptr_t)mem;
        o.args[1] = mem_len;
        o.extra[0] = (vm_region){(uint64_t)(uintptr_t)mem, mem_len, VM_READ | VM_WRITE};
        o.n_extra = 1;
    }
    vm_result r;
    vm_host_run(t.p, &o, &r);
    *r0 = r.r0;
    *fault = r.fault;
    vmt_free(&t);
    return r.err;
}

static const struct adversary {
    const char *name, *text;
    vm_err want;
    int64_t pc;
} adversaries[] = {
    {"read kernel memory by pointer arithmetic",
     "mov %r1, %r10\nlsh %r1, 1\nldxdw %r0, [%r1]\nexit\n", VM_E_MEM, 2},
    {"read below the stack", "mov %r1, %r10\nsub %r1, 1000000\nldxb %r0, [%r1]\nexit\n", VM_E_MEM, 2},
    {"write through a forged pointer", "lddw %r1, 0x400000\nstdw [%r1], 7\nexit\n", VM_E_MEM, 2},
    {"write at the frame pointer (one past the stack)", "stxdw [%r10], %r1\nexit\n", VM_E_MEM, 0},
    {"read straddling the stack top", "ldxdw %r0, [%r10-4]\nexit\n", VM_E_MEM, 0},
    {"null pointer read", "mov %r1, 0\nldxw %r0, [%r1]\nexit\n", VM_E_MEM, 1},
    {"wrap-around address", "lddw %r1, -4\nldxdw %r0, [%r1+8]\nexit\n", VM_E_MEM, 2},
    {"atomic on a forged pointer", "mov %r1, 4096\nlock add [%r1], %r2\nexit\n", VM_E_MEM, 1},
    {"unbounded recursion", "f:\ncall local f\nexit\n", VM_E_CALL_DEPTH, 0},
    {"callx to a missing helper", "mov %r2, 99\ncall %r2\nexit\n", VM_E_BAD_HELPER, 1},
    {"helper given a forged buffer", "lddw %r1, 0x1000\nmov %r2, 16\ncall 2\nexit\n", VM_E_HELPER, 3},
};

static void test_adversarial(vm_engine e)
{
    const char *en = vmt_engine_name(e);
    for (size_t i = 0; i < sizeof adversaries / sizeof adversaries[0]; i++) {
        const struct adversary *a = &adversaries[i];
        uint64_t r0;
        vm_fault f;
        vm_err err = run_asm(a->text, e, &r0, &f, 2000000000ull, NULL, 0);
        char msg[256];
        vm_format_fault(&f, msg, sizeof msg);
        check(err == a->want && f.pc == a->pc, "adversarial [%s] %s stopped: %s", en, a->name, msg);
    }
    /* The fault names address, instruction index and instruction. */
    uint64_t r0;
    vm_fault f;
    run_asm("lddw %r1, 0x400000\nstdw [%r1+8], 7\nexit\n", e, &r0, &f, 0, NULL, 0);
    char msg[256];
    vm_format_fault(&f, msg, sizeof msg);
    check(strstr(msg, "0x400008") && strstr(msg, "instruction 2") && strstr(msg, "stdw [%r1+8], 7"),
          "adversarial [%s] fault message: %s", en, msg);

    /* Infinite loop: stopped by the time limit. */
    uint64_t t0 = clock_mono_ns();
    vm_err err = run_asm("mov %r0, 0\nloop:\nadd %r0, 1\nja loop\n", e, &r0, &f, 200000000ull, NULL, 0);
    uint64_t dt = clock_mono_ns() - t0;
    check(err == VM_E_TIMEOUT && dt < 2000000000ull, "adversarial [%s] infinite loop hits the time "
          "limit (%llu ms)", en, (unsigned long long)(dt / 1000000));
    err = run_asm("loop:\nja loop\n", e, &r0, &f, 100000000ull, NULL, 0);
    check(err == VM_E_TIMEOUT, "adversarial [%s] one-instruction loop hits the time limit", en);

    /* The sandbox allows exactly the regions: memory buffer edges. */
    uint8_t mem[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    err = run_asm("ldxdw %r0, [%r1+8]\nexit\n", e, &r0, &f, 0, mem, sizeof mem);
    check(err == VM_OK && r0 == 0x100f0e0d0c0b0a09ull, "sandbox [%s] last 8 bytes of a region", en);
    err = run_asm("ldxdw %r0, [%r1+9]\nexit\n", e, &r0, &f, 0, mem, sizeof mem);
    check(err == VM_E_MEM && f.addr == (uint64_t)(uintptr_t)mem + 9 && f.size == 8,
          "sandbox [%s] one byte past a region", en);
    err = run_asm("mov %r0, 5\nstxdw [%r10-512], %r0\nldxdw %r0, [%r10-512]\nexit\n", e, &r0, &f, 0,
                  NULL, 0);
    check(err == VM_OK && r0 == 5, "sandbox [%s] whole 512-byte frame usable", en);
    /* Deep but legal recursion: 64 nested calls. */
    err = run_asm("mov %r1, 64\ncall local f\nexit\nf:\njeq %r1, 0, done\nsub %r1, 1\n"
                  "stxdw [%r10-8], %r1\ncall local f\nadd %r0, 1\nexit\ndone:\nmov %r0, 0\nexit\n",
                  e, &r0, &f, 0, NULL, 0);
    check(err == VM_E_CALL_DEPTH, "sandbox [%s] 65 nested calls exceed the depth limit", en);
    err = run_asm("mov %r1, 63\ncall local f\nexit\nf:\njeq %r1, 0, done\nsub %r1, 1\n"
                  "stxdw [%r10-8], %r1\ncall local f\nadd %r0, 1\nexit\ndone:\nmov %r0, 0\nexit\n",
                  e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 63, "sandbox [%s] 64 nested calls allowed (r0=%llu)", en,
          (unsigned long long)r0);
}

/* clang's idioms that engines run fused (rotate, bit test), whole and entered in the middle. */
static void test_idioms(vm_engine e)
{
    const char *en = vmt_engine_name(e);
    uint64_t r0;
    vm_fault f;
    static const char rot[] = "mov32 %%r2, 0x12345678\nmov %%r1, 0\nmov %%r0, %d\n"
                              "jeq %%r0, 1, mid\nmov32 %%r1, %%r2\nrsh32 %%r1, 8\nmid:\n"
                              "mov32 %%r3, %%r2\nlsh32 %%r3, 24\nor32 %%r3, %%r1\n"
                              "mov %%r0, %%r3\nlsh %%r0, 32\nor %%r0, %%r1\nexit\n";
    char prog[400];
    snprintf(prog, sizeof prog, rot, 0);
    vm_err err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 0x7812345600123456ull, "idiom [%s] rotate (r0=%llx)", en,
          (unsigned long long)r0);
    snprintf(prog, sizeof prog, rot, 1);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 0x7800000000000000ull, "idiom [%s] rotate entered in the middle "
          "(r0=%llx)", en, (unsigned long long)r0);
    static const char tst[] = "lddw %%r2, 0x%llx\nmov %%r1, %%r2\nand %%r1, 0x10\n"
                              "jne %%r1, 0, set\nmov %%r0, %%r1\nexit\nset:\nmov %%r0, %%r1\n"
                              "add %%r0, 100\nexit\n";
    snprintf(prog, sizeof prog, tst, 0xff00000010ull);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 116, "idiom [%s] bit test, set (r0=%llu)", en, (unsigned long long)r0);
    snprintf(prog, sizeof prog, tst, 0xff000000efull);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 0, "idiom [%s] bit test, clear (r0=%llu)", en, (unsigned long long)r0);
    /* select (collatz step, r0 kept by cmov in the JIT): the result; a stop a helper
     * requests ends the run right at the call, with the helper's r0, on both engines */
    static const char sel[] = "%s\nmov %%r0, %d\nmov %%r6, 0\nl:\nadd %%r6, 1\nmov %%r5, %%r0\n"
                              "jeq %%r0, 1, done\nrsh %%r0, 1\nmov %%r7, %%r5\nand %%r7, 1\n"
                              "jeq %%r7, 0, l\nmul %%r5, 3\nadd %%r5, 1\nmov %%r0, %%r5\nja l\n"
                              "done:\nmov %%r7, %%r6\nmov %%r0, %%r7\nexit\n";
    char call[32];
    snprintf(call, sizeof call, "call %d", VMT_STOP_ID);
    snprintf(prog, sizeof prog, sel, "mov %r1, 0", 27);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 112, "idiom [%s] select loop (r0=%llu)", en, (unsigned long long)r0);
    snprintf(prog, sizeof prog, sel, call, 6);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_E_INTERRUPTED && f.pc == 0 && r0 == 7, "idiom [%s] select, a helper's stop "
          "ends the run at the call (pc %lld r0=%llu)", en, (long long)f.pc, (unsigned long long)r0);
    /* the inverse test (jne32: the ops run when the bit is clear) */
    err = run_asm("mov %r0, 12345\nmov %r6, 0\nl:\nadd %r6, 1\njgt %r6, 40, done\n"
                  "mov %r5, %r0\nrsh %r0, 1\nmov32 %r7, %r5\nand32 %r7, 1\njne32 %r7, 0, l\n"
                  "mul %r5, 3\nadd %r5, 7\nmov %r0, %r5\nja l\ndone:\nmov %r7, %r6\nmov %r5, 0\nexit\n",
                  e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 5310, "idiom [%s] select, inverse test (r0=%llu)", en,
          (unsigned long long)r0);
}

/* Versioned regions (vm/jit_x86_64.c): several accesses off one base behind one cover
 * check.  Whatever the checks decide, results and faults are the interpreter's. */
static void test_regions(vm_engine e)
{
    const char *en = vmt_engine_name(e);
    uint64_t r0;
    vm_fault f;
    /* three loads off r1 in an extra region: the cover checks fail, the slow copy runs */
    uint8_t mem[16] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0};
    vm_err err = run_asm("mov %r0, 0\nldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nadd %r0, %r2\n"
                         "add %r0, %r3\nldxw %r3, [%r1+12]\nadd %r0, %r3\nexit\n",
                         e, &r0, &f, 0, mem, sizeof mem);
    check(err == VM_OK && r0 == 7, "region [%s] loads from an extra region (r0=%llu)", en,
          (unsigned long long)r0);
    /* the last 16 bytes of the stack through a computed base: in bounds to the last byte */
    static const char top[] = "mov %%r1, %%r10\nadd %%r1, %d\nmov %%r0, 0\nstdw [%%r1], 5\n"
                              "stdw [%%r1+8], 6\nldxdw %%r2, [%%r1]\nadd %%r0, %%r2\n"
                              "ldxdw %%r2, [%%r1+8]\nadd %%r0, %%r2\nldxb %%r2, [%%r1+15]\n"
                              "add %%r0, %%r2\nexit\n";
    char prog[400];
    snprintf(prog, sizeof prog, top, -16);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 11, "region [%s] stores and loads up to the stack's last byte "
          "(r0=%llu)", en, (unsigned long long)r0);
    /* one byte further: the second store faults, after the first ran */
    snprintf(prog, sizeof prog, top, -15);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_E_MEM && f.pc == 4 && f.size == 8 && f.access == VM_WRITE && r0 == 0,
          "region [%s] a store past the stack faults at its own pc (pc %lld)", en, (long long)f.pc);
    /* a load in the middle of a region faults with the registers of that point */
    err = run_asm("mov %r1, %r10\nadd %r1, -8\nmov %r0, 1\nldxdw %r2, [%r1]\nadd %r0, 5\n"
                  "ldxdw %r3, [%r1+8]\nadd %r0, %r3\nldxdw %r4, [%r1-8]\nexit\n",
                  e, &r0, &f, 0, NULL, 0);
    check(err == VM_E_MEM && f.pc == 5 && f.access == VM_READ && r0 == 6,
          "region [%s] a load past the stack faults mid-region (pc %lld r0=%llu)", en,
          (long long)f.pc, (unsigned long long)r0);
    /* span 6 at the stack top: the cover check (8 bytes) fails, the slow copy still runs the
     * accesses, which are all in bounds */
    err = run_asm("mov %r1, %r10\nadd %r1, -6\nstw [%r1], 0x01020304\nstw [%r1+2], 0x05060708\n"
                  "ldxw %r0, [%r1]\nldxw %r2, [%r1+2]\nadd %r0, %r2\nexit\n",
                  e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 0x07080304ull + 0x05060708ull, "region [%s] a cover check "
          "stricter than the accesses (r0=%llx)", en, (unsigned long long)r0);
    /* a loop inside the region, the base fixed: checked once, jumps back past the check;
     * then the same loop over a base that runs off the stack */
    static const char loop[] = "mov %%r1, %%r10\nadd %%r1, %d\nmov %%r0, 0\nmov %%r3, 20\n"
                               "l:\nldxb %%r2, [%%r1+1]\nadd %%r0, %%r2\nstxb [%%r1+1], %%r3\n"
                               "sub %%r3, 1\njne %%r3, 0, l\nexit\n";
    snprintf(prog, sizeof prog, loop, -64);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 209, "region [%s] loop with a fixed base (r0=%llu)", en,
          (unsigned long long)r0);
    snprintf(prog, sizeof prog, loop, -1);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_E_MEM && f.pc == 4 && f.access == VM_READ && r0 == 0,
          "region [%s] loop whose load leaves the stack faults at once (pc %lld)", en,
          (long long)f.pc);
}

static void test_helpers(vm_engine e)
{
    const char *en = vmt_engine_name(e);
    uint64_t r0;
    vm_fault f;
    char prog[256];
    snprintf(prog, sizeof prog,
             "mov %%r1, 11\nmov %%r2, 22\nmov %%r3, 33\nmov %%r4, 44\nmov %%r5, 55\ncall %d\nexit\n",
             VMT_SUM5_ID);
    vm_err err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    uint64_t want = vmt_sum5(11, 22, 33, 44, 55, NULL);
    check(err == VM_OK && r0 == want, "helper [%s] five arguments arrive in order", en);
    snprintf(prog, sizeof prog,
             "mov %%r6, 7\nmov %%r1, 1\nmov %%r2, 2\nmov %%r3, 3\nmov %%r4, 4\nmov %%r5, 5\n"
             "mov %%r9, %d\ncall %%r9\nadd %%r0, %%r6\nexit\n", VMT_SUM5_ID);
    err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == vmt_sum5(1, 2, 3, 4, 5, NULL) + 7,
          "helper [%s] callx with five arguments, r6 preserved", en);
    err = run_asm("mov %r1, 42\ncall 1\nmov %r0, 0\nexit\n", e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 42, "helper [%s] exit helper stops with its value", en);
    err = run_asm("mov %r1, 0\ncall 5\nmov %r0, 9\nexit\n", e, &r0, &f, 0, NULL, 0);
    check(err == VM_OK && r0 == 0, "helper [%s] unwind(0) stops with r0 = 0", en);
    /* A zero-length buffer may be NULL (nda_read_file(path, 0, 0), nda_arg(i, 0, 0) to ask
     * for a length): nothing is touched, so it is no bad argument.  No env here: the
     * helpers return -1 once their arguments pass. */
    static const int zero_len_ids[] = {9, 13};
    for (int k = 0; k < 2; k++) {
        snprintf(prog, sizeof prog,
                 "stb [%%r10-8], 97\nstb [%%r10-7], 0\nmov %%r1, %%r10\nadd %%r1, -8\n"
                 "mov %%r2, 0\nmov %%r3, 0\ncall %d\nexit\n", zero_len_ids[k]);
        err = run_asm(prog, e, &r0, &f, 0, NULL, 0);
        check(err == VM_OK && r0 == (uint64_t)-1,
              "helper [%s] %d with a NULL buffer of length 0 is not rejected (err %d)", en,
              zero_len_ids[k], (int)err);
    }
}

/* ---- .nda files ---- */

static uint8_t *make_nda(size_t *len)
{
    /* A tiny program with rodata and a relocated lddw: returns rodata[1]. */
    size_t n = assemble("lddw %r1, 0\nldxb %r0, [%r1+1]\nmov %r1, %r0\nexit\n");
    uint8_t code[64];
    for (size_t i = 0; i < n; i++)
        nda_st64(code + 8 * i, words[i]);
    static const uint8_t rodata[4] = {10, 20, 30, 40};
    uint8_t reloc[NDA_RELOC_SIZE] = {0};
    nda_st32(reloc + NDA_RELOC_OFF_WHERE, 0);
    reloc[NDA_RELOC_OFF_KIND] = NDA_RELOC_LDDW;
    reloc[NDA_RELOC_OFF_SEG] = NDA_SEG_RODATA;
    uint8_t imports[VM_MAX_HELPERS] = {0};
    imports[3] = 1; /* print_int, unused but imported */
    nda_image img = {0};
    img.code = code;
    img.code_count = (uint32_t)n;
    img.rodata = rodata;
    img.rodata_size = 4;
    img.relocs = reloc;
    img.reloc_count = 1;
    img.import_ids = imports;
    uint8_t *out;
    nda_write_image(&img, &out, len);
    return out;
}

static void test_nda(vm_engine e)
{
    const char *en = vmt_engine_name(e);
    size_t len;
    uint8_t *img = make_nda(&len);
    vmt_prog t;
    vm_err err = vmt_load_nda(&t, img, len, e);
    vm_result r = {0};
    if (!err) {
        vm_run_opts o = {0};
        o.engine = e;
        vm_host_run(t.p, &o, &r);
    }
    check(err == VM_OK && r.err == VM_OK && r.r0 == 20, "nda [%s] relocated rodata load", en);
    vmt_free(&t);

    /* Every truncation is rejected cleanly. */
    int bad = 0;
    for (size_t cut = 0; cut < len; cut++) {
        if (vmt_load_nda(&t, img, cut, e) == VM_OK)
            bad++;
        vmt_free(&t);
    }
    check(bad == 0, "nda [%s] all %zu truncations rejected", en, len);
    /* Every single-bit flip is rejected (the hash covers everything but itself; a flip in
     * the hash makes it mismatch). */
    bad = 0;
    for (size_t bit = 0; bit < len * 8; bit++) {
        img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (vmt_load_nda(&t, img, len, e) == VM_OK)
            bad++;
        vmt_free(&t);
        img[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    check(bad == 0, "nda [%s] all %zu bit flips rejected", en, len * 8);
    /* Field-level errors with a valid hash name the problem. */
    struct { size_t off; uint32_t v; int w32; vm_err want; const char *name; } edits[] = {
        {NDA_OFF_VERSION, 9, 0, VM_E_FILE_VERSION, "version"},
        {NDA_OFF_FLAGS, 0x80, 0, VM_E_FILE_FLAGS, "flags"},
        {NDA_OFF_ENTRY, 99, 1, VM_E_ENTRY, "entry"},
        {NDA_OFF_STACK_SIZE, 4096, 1, VM_E_FILE_FIELD, "stack size"},
        {NDA_OFF_RODATA_SIZE, 5, 1, VM_E_FILE_FIELD, "rodata size"},
        {NDA_HDR_SIZE + 5 * 8 + 4 + NDA_RELOC_SIZE + NDA_IMPORT_OFF_NAME, 'z', 0,
         VM_E_IMPORT, "import name"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        uint8_t *c = malloc(len);
        memcpy(c, img, len);
        if (edits[i].w32)
            nda_st32(c + edits[i].off, edits[i].v);
        else
            nda_st16(c + edits[i].off, edits[i].v);
        nda_seal(c, len);
        err = vmt_load_nda(&t, c, len, e);
        char msg[256];
        vm_format_fault(&t.fault, msg, sizeof msg);
        check(err == edits[i].want, "nda [%s] bad %s rejected: %s", en, edits[i].name, msg);
        vmt_free(&t);
        free(c);
    }
    free(img);
}

/* ---- stops: helper-requested (synchronous), tests/vm/test_preempt.c for asynchronous */

static void test_stop(void)
{
    vm_engine engines[2];
    int ne = vmt_engines(engines);
    int64_t pcs[2] = {-2, -2};
    for (int k = 0; k < ne; k++) {
        const char *en = vmt_engine_name(engines[k]);
        char prog[200];
        snprintf(prog, sizeof prog, "mov %%r0, 5\nmov %%r1, 3\nl:\nadd %%r0, 1\n"
                 "jgt %%r0, 1000, +2\ncall %d\nja l\nexit\n", VMT_STOP_ID);
        uint64_t r0;
        vm_fault f;
        vm_err err = run_asm(prog, engines[k], &r0, &f, 0, NULL, 0);
        pcs[k] = f.pc;
        check(err == VM_E_INTERRUPTED && f.pc == 4 && r0 == 7, "stop [%s] requested by a helper "
              "stops right after the call (pc %lld r0=%llu)", en, (long long)f.pc,
              (unsigned long long)r0);
        char msg[200];
        vm_format_fault(&f, msg, sizeof msg);
        check(!strcmp(msg, "interrupted at instruction 4 (call 41)"), "stop [%s] message: %s",
              en, msg);
    }
    if (ne > 1)
        check(pcs[0] == pcs[1], "stop: interpreter and JIT stop at the same instruction");
}

/* ---- JIT code: position independence, cache reuse, buffer limits ---- */

static void test_jit_code(void)
{
    if (!vm_jit_available())
        return;
    size_t len;
    uint8_t *img = make_nda(&len);
    vmt_prog a, b;
    vm_err ea = vmt_load_nda(&a, img, len, VM_ENGINE_INTERP);
    vm_err eb = vmt_load_nda(&b, img, len, VM_ENGINE_INTERP);
    if (!check(ea == VM_OK && eb == VM_OK && a.p != b.p, "jit: two loads of one .nda")) {
        free(img);
        return;
    }
    size_t bound = vm_jit_size_bound(a.p), la = 0, lb = 0;
    uint8_t *ca = calloc(1, bound), *cb = calloc(1, bound);
    vm_fault f;
    ea = vm_jit_compile(a.p, ca, bound, &la, &f, NULL);
    eb = vm_jit_compile(b.p, cb, bound, &lb, &f, NULL);
    check(ea == VM_OK && eb == VM_OK && la == lb && la > 0 && la <= bound && !memcmp(ca, cb, la),
          "jit: code for two arenas is byte-identical (%zu bytes, bound %zu): cacheable by "
          "SHA-256", la, bound);
    /* Code compiled for load a runs load b (a cache hit after a fresh load). */
    size_t map_len = (la + 4095) & ~(size_t)4095;
    void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(m, ca, la);
    mprotect(m, map_len, PROT_READ | PROT_EXEC);
    vm_jit_attach(b.p, m, la);
    vm_run_opts o = {0};
    o.engine = VM_ENGINE_JIT;
    vm_result r;
    vm_host_run(b.p, &o, &r);
    check(r.err == VM_OK && r.r0 == 20, "jit: cached code runs a later load of the same file");
    munmap(m, map_len);
    /* Too small a buffer is refused, never overrun. */
    memset(cb, 0xa5, bound);
    eb = vm_jit_compile(b.p, cb, la / 2, &lb, &f, NULL);
    int untouched = 1;
    for (size_t i = la / 2; i < bound; i++)
        untouched &= cb[i] == 0xa5;
    check(eb == VM_E_JIT_SPACE && untouched, "jit: a short buffer gives VM_E_JIT_SPACE");
    free(ca);
    free(cb);
    vmt_free(&a);
    vmt_free(&b);
    free(img);
}

int main(void)
{
    test_verifier();
    vm_engine engines[2];
    int ne = vmt_engines(engines);
    for (int k = 0; k < ne; k++) {
        test_adversarial(engines[k]);
        test_helpers(engines[k]);
        test_idioms(engines[k]);
        test_regions(engines[k]);
        test_nda(engines[k]);
    }
    test_stop();
    test_jit_code();
    return check_exit_status();
}
