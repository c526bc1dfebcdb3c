/* vm/disasm.c: instruction words to the text form of the conformance suite (the syntax
 * vm/asm.c reads back), e.g. "add32 %r1, 5", "ldxdw %r0, [%r10-8]", "lock fetch add [%r1+8], %r2".
 *
 * Interface: vm_disasm_insn() (vm.h).  Pure function of the words; never fails - unknown
 * encodings print as ".word 0x...".  Jump targets print as relative offsets ("+3", "-2").
 */
#include <stdio.h>
#include <string.h>
#include "vm/vm_internal.h"

static const char *const alu_name[16] = {
    "add", "sub", "mul", "div", "or", "and", "lsh", "rsh",
    "neg", "mod", "xor", "mov", "arsh", NULL, NULL, NULL,
};
static const char *const jmp_name[16] = {
    "ja", "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge",
    "call", "exit", "jlt", "jle", "jslt", "jsle", NULL, NULL,
};
static const char *const size_name[4] = {"w", "h", "b", "dw"};

static void mem_operand(char *b, size_t n, int reg, int off)
{
    if (off == 0)
        snprintf(b, n, "[%%r%d]", reg);
    else
        snprintf(b, n, "[%%r%d%+d]", reg, off);
}

int vm_disasm_insn(const uint64_t *insns, size_t n, size_t pc, char *buf, size_t len)
{
    if (pc >= n) {
        snprintf(buf, len, "<out of range>");
        return 1;
    }
    uint64_t w = insns[pc];
    vm_insn i = vm_insn_decode(w);
    uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
    const char *sz = size_name[BPF_SIZE(i.code) >> 3];
    char m[32];

    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
        const char *sfx = cls == BPF_ALU ? "32" : "";
        if (op == BPF_END) {
            const char *k = cls == BPF_ALU64 ? "bswap" : BPF_SRC(i.code) ? "be" : "le";
            snprintf(buf, len, "%s%d %%r%d", k, (int)i.imm, i.dst);
            return 1;
        }
        if (op == BPF_NEG) {
            snprintf(buf, len, "neg%s %%r%d", sfx, i.dst);
            return 1;
        }
        const char *name = alu_name[op >> 4];
        if (!name)
            break;
        char nm[16];
        if ((op == BPF_DIV || op == BPF_MOD) && i.off == 1)
            snprintf(nm, sizeof nm, "s%s%s", name, sfx);
        else if (op == BPF_MOV && i.off)
            snprintf(nm, sizeof nm, "movsx%d%s", (int)i.off, cls == BPF_ALU ? "32" : "64");
        else
            snprintf(nm, sizeof nm, "%s%s", name, sfx);
        if (BPF_SRC(i.code))
            snprintf(buf, len, "%s %%r%d, %%r%d", nm, i.dst, i.src);
        else
            snprintf(buf, len, "%s %%r%d, %d", nm, i.dst, (int)i.imm);
        return 1;
    }
    case BPF_LD:
        if (i.code != OP_LDDW)
            break;
        if (pc + 1 < n) {
            uint64_t v = (uint32_t)(w >> 32) | (insns[pc + 1] >> 32) << 32;
            snprintf(buf, len, "lddw %%r%d, 0x%llx", i.dst, (unsigned long long)v);
            return 2;
        }
        snprintf(buf, len, "lddw %%r%d, <truncated>", i.dst);
        return 1;
    case BPF_LDX:
        mem_operand(m, sizeof m, i.src, i.off);
        snprintf(buf, len, "ldx%s%s %%r%d, %s", BPF_MODE(i.code) == BPF_MEMSX ? "s" : "", sz,
                 i.dst, m);
        return 1;
    case BPF_ST:
        mem_operand(m, sizeof m, i.dst, i.off);
        snprintf(buf, len, "st%s %s, %d", sz, m, (int)i.imm);
        return 1;
    case BPF_STX:
        mem_operand(m, sizeof m, i.dst, i.off);
        if (BPF_MODE(i.code) == BPF_ATOMIC) {
            const char *s32 = BPF_SIZE(i.code) == BPF_W ? "32" : "";
            const char *a;
            switch (i.imm) {
            case BPF_ADD: a = "add"; break;
            case BPF_OR: a = "or"; break;
            case BPF_AND: a = "and"; break;
            case BPF_XOR: a = "xor"; break;
            case BPF_ADD | BPF_FETCH: a = "fetch add"; break;
            case BPF_OR | BPF_FETCH: a = "fetch or"; break;
            case BPF_AND | BPF_FETCH: a = "fetch and"; break;
            case BPF_XOR | BPF_FETCH: a = "fetch xor"; break;
            case BPF_XCHG: a = "xchg"; break;
            case BPF_CMPXCHG: a = "cmpxchg"; break;
            default: a = NULL; break;
            }
            if (!a)
                break;
            snprintf(buf, len, "lock %s%s %s, %%r%d", a, s32, m, i.src);
            return 1;
        }
        snprintf(buf, len, "stx%s %s, %%r%d", sz, m, i.src);
        return 1;
    case BPF_JMP:
    case BPF_JMP32: {
        const char *name = jmp_name[op >> 4];
        const char *sfx = cls == BPF_JMP32 ? "32" : "";
        if (!name)
            break;
        if (op == BPF_EXIT) {
            snprintf(buf, len, "exit");
            return 1;
        }
        if (op == BPF_CALL) {
            if (BPF_SRC(i.code))
                snprintf(buf, len, "call %%r%d", i.dst);
            else if (i.src == BPF_PSEUDO_LOCAL)
                snprintf(buf, len, "call local %+d", (int)i.imm);
            else
                snprintf(buf, len, "call %d", (int)i.imm);
            return 1;
        }
        if (op == BPF_JA) {
            snprintf(buf, len, "ja%s %+d", sfx, cls == BPF_JMP32 ? (int)i.imm : (int)i.off);
            return 1;
        }
        if (BPF_SRC(i.code))
            snprintf(buf, len, "%s%s %%r%d, %%r%d, %+d", name, sfx, i.dst, i.src, (int)i.off);
        else
            snprintf(buf, len, "%s%s %%r%d, %d, %+d", name, sfx, i.dst, (int)i.imm, (int)i.off);
        return 1;
    }
    }
    snprintf(buf, len, ".word 0x%016llx", (unsigned long long)w);
    return 1;
}
