/* vm/asm.c: assembler for the text form used by the bpf_conformance suite (its README lists
 * the syntax) and printed by vm/disasm.c.
 *
 * Interface: vm_asm() (vm/asm.h).  Two passes over the text: the first assigns an instruction
 * slot to every line and records labels, the second encodes.  No allocation: labels live in
 * a fixed table (VM_ASM_MAX_LABELS); errors name the line.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "vm/asm.h"
#include "vm/vm_internal.h"

#define VM_ASM_MAX_LABELS 512
#define LABEL_LEN 48
#define LINE_LEN 256

typedef struct label {
    char name[LABEL_LEN];
    uint32_t slot;
} label;

typedef struct asm_ctx {
    label labels[VM_ASM_MAX_LABELS];
    size_t n_labels;
    uint32_t exits[VM_ASM_MAX_LABELS]; /* slots of `exit`, for the implicit label "exit" */
    size_t n_exits;
    char *err;
    size_t errlen;
    int line;
} asm_ctx;

static int fail(asm_ctx *a, const char *why, const char *tok)
{
    snprintf(a->err, a->errlen, "line %d: %s%s%s", a->line, why, tok ? ": " : "",
             tok ? tok : "");
    return 0;
}

static char *skip_ws(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
}

/* Signed or unsigned integer in decimal or 0x hex, with optional sign. */
static int parse_int(const char *s, int64_t *out)
{
    int neg = 0;
    uint64_t v = 0;
    s = (const char *)skip_ws((char *)s);
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!*s)
        return 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (!*s)
            return 0;
        for (; *s; s++) {
            int d = isdigit((unsigned char)*s) ? *s - '0'
                  : isxdigit((unsigned char)*s) ? (tolower((unsigned char)*s) - 'a' + 10) : -1;
            if (d < 0)
                return 0;
            v = v * 16 + (uint64_t)d;
        }
    } else {
        for (; *s; s++) {
            if (!isdigit((unsigned char)*s))
                return 0;
            v = v * 10 + (uint64_t)(*s - '0');
        }
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static int parse_reg(const char *s, uint8_t *r)
{
    int64_t v;
    s = skip_ws((char *)s);
    if (s[0] != '%' || s[1] != 'r' || !parse_int(s + 2, &v) || v < 0 || v > 10)
        return 0;
    *r = (uint8_t)v;
    return 1;
}

static int parse_imm32(asm_ctx *a, const char *s, int32_t *imm)
{
    int64_t v;
    if (!parse_int(s, &v) || v < INT32_MIN || v > (int64_t)UINT32_MAX)
        return fail(a, "bad 32-bit immediate", s);
    *imm = (int32_t)(uint32_t)v;
    return 1;
}

/* "[%rN]", "[%rN+off]", "[%rN-off]" */
static int parse_mem(asm_ctx *a, char *s, uint8_t *reg, int16_t *off)
{
    s = skip_ws(s);
    size_t n = strlen(s);
    if (s[0] != '[' || n < 2 || s[n - 1] != ']')
        return fail(a, "expected [%rN+offset]", s);
    s[n - 1] = 0;
    s++;
    char *sign = strpbrk(s + 1, "+-");
    int64_t v = 0;
    if (sign) {
        if (!parse_int(sign, &v) || v < INT16_MIN || v > INT16_MAX)
            return fail(a, "bad offset", sign);
        *sign = 0;
    }
    rtrim(s);
    if (!parse_reg(s, reg))
        return fail(a, "bad register", s);
    *off = (int16_t)v;
    return 1;
}

static int find_label(asm_ctx *a, const char *name, uint32_t *slot)
{
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->labels[i].name, name) == 0) {
            *slot = a->labels[i].slot;
            return 1;
        }
    return 0;
}

/* Jump target: label or +N/-N relative to the next instruction. */
static int parse_target(asm_ctx *a, const char *s, uint32_t pc, int64_t *rel)
{
    uint32_t slot;
    s = skip_ws((char *)s);
    if (find_label(a, s, &slot)) {
        *rel = (int64_t)slot - (int64_t)pc - 1;
        return 1;
    }
    if (parse_int(s, rel))
        return 1;
    /* The suite's convention: an undefined label "exit" names the next exit instruction. */
    if (strcmp(s, "exit") == 0)
        for (size_t i = 0; i < a->n_exits; i++)
            if (a->exits[i] > pc) {
                *rel = (int64_t)a->exits[i] - (int64_t)pc - 1;
                return 1;
            }
    return fail(a, "unknown label", s);
}

/* Splits "a, b, c" into at most 3 trimmed operands; returns the count. */
static int split_ops(char *s, char *ops[3])
{
    int n = 0;
    s = skip_ws(s);
    if (!*s)
        return 0;
    while (n < 3) {
        ops[n++] = s;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = 0;
        rtrim(ops[n - 1]);
        s = skip_ws(c + 1);
    }
    rtrim(ops[n - 1]);
    return n;
}

static const struct { const char *name; uint8_t op; int16_t off; } alu_ops[] = {
    {"add", BPF_ADD, 0}, {"sub", BPF_SUB, 0}, {"mul", BPF_MUL, 0}, {"div", BPF_DIV, 0},
    {"or", BPF_OR, 0}, {"and", BPF_AND, 0}, {"lsh", BPF_LSH, 0}, {"rsh", BPF_RSH, 0},
    {"mod", BPF_MOD, 0}, {"xor", BPF_XOR, 0}, {"mov", BPF_MOV, 0}, {"arsh", BPF_ARSH, 0},
    {"sdiv", BPF_DIV, 1}, {"smod", BPF_MOD, 1},
};
static const struct { const char *name; uint8_t op; } jmp_ops[] = {
    {"jeq", BPF_JEQ}, {"jgt", BPF_JGT}, {"jge", BPF_JGE}, {"jset", BPF_JSET}, {"jne", BPF_JNE},
    {"jsgt", BPF_JSGT}, {"jsge", BPF_JSGE}, {"jlt", BPF_JLT}, {"jle", BPF_JLE},
    {"jslt", BPF_JSLT}, {"jsle", BPF_JSLE},
};
static const struct { const char *name; uint8_t size; } sizes[] = {
    {"b", BPF_B}, {"h", BPF_H}, {"w", BPF_W}, {"dw", BPF_DW},
};

static int size_suffix(const char *s, uint8_t *size)
{
    for (size_t i = 0; i < 4; i++)
        if (strcmp(s, sizes[i].name) == 0) {
            *size = sizes[i].size;
            return 1;
        }
    return 0;
}

/* Encodes one statement at slot pc into out[0..1]; returns the slot count (0 = error). */
static int encode(asm_ctx *a, char *mn, char *rest, uint32_t pc, uint64_t out[2])
{
    char *ops[3] = {0};
    uint8_t dst = 0, src = 0, size;
    int16_t off = 0;
    int32_t imm = 0;
    int64_t rel;
    size_t ml = strlen(mn);

    if (strcmp(mn, "exit") == 0) {
        out[0] = vm_insn_encode(OP_EXIT, 0, 0, 0, 0);
        return 1;
    }
    if (strcmp(mn, "lock") == 0) {
        /* lock [fetch] op[32] [mem], src */
        char *p = skip_ws(rest);
        int fetch = 0;
        if (strncmp(p, "fetch", 5) == 0 && isspace((unsigned char)p[5])) {
            fetch = 1;
            p = skip_ws(p + 5);
        }
        char word[16];
        size_t k = 0;
        while (p[k] && !isspace((unsigned char)p[k]) && p[k] != '[' && k < sizeof word - 1) {
            word[k] = p[k];
            k++;
        }
        word[k] = 0;
        p += k;
        uint8_t sz = BPF_DW;
        size_t wl = strlen(word);
        if (wl > 2 && strcmp(word + wl - 2, "32") == 0) {
            sz = BPF_W;
            word[wl - 2] = 0;
        }
        int32_t aop;
        if (strcmp(word, "add") == 0) aop = BPF_ADD;
        else if (strcmp(word, "and") == 0) aop = BPF_AND;
        else if (strcmp(word, "or") == 0) aop = BPF_OR;
        else if (strcmp(word, "xor") == 0) aop = BPF_XOR;
        else if (strcmp(word, "xchg") == 0 && !fetch) aop = BPF_XCHG;
        else if (strcmp(word, "cmpxchg") == 0 && !fetch) aop = BPF_CMPXCHG;
        else return fail(a, "unknown atomic operation", word);
        if (fetch)
            aop |= BPF_FETCH;
        if (split_ops(p, ops) != 2 || !parse_mem(a, ops[0], &dst, &off) ||
            !parse_reg(ops[1], &src))
            return fail(a, "expected lock op [%rN+off], %rM", NULL);
        out[0] = vm_insn_encode(BPF_STX | BPF_ATOMIC | sz, dst, src, off, aop);
        return 1;
    }

    int n = split_ops(rest, ops);

    if (strcmp(mn, "call") == 0) {
        if (n != 1)
            return fail(a, "call takes one operand", NULL);
        if (parse_reg(ops[0], &dst)) {
            out[0] = vm_insn_encode(OP_CALLX, dst, 0, 0, 0);
            return 1;
        }
        if (strncmp(ops[0], "local", 5) == 0 && isspace((unsigned char)ops[0][5])) {
            if (!parse_target(a, ops[0] + 6, pc, &rel))
                return 0;
            out[0] = vm_insn_encode(OP_CALL, 0, BPF_PSEUDO_LOCAL, 0, (int32_t)rel);
            return 1;
        }
        if (!parse_imm32(a, ops[0], &imm))
            return 0;
        out[0] = vm_insn_encode(OP_CALL, 0, BPF_PSEUDO_HELPER, 0, imm);
        return 1;
    }
    if (strcmp(mn, "ja") == 0 || strcmp(mn, "ja32") == 0) {
        if (n != 1 || !parse_target(a, ops[0], pc, &rel))
            return fail(a, "ja takes a target", NULL);
        if (mn[2]) {
            out[0] = vm_insn_encode(OP_JA32, 0, 0, 0, (int32_t)rel);
        } else {
            if (rel < INT16_MIN || rel > INT16_MAX)
                return fail(a, "jump too far for ja (use ja32)", NULL);
            out[0] = vm_insn_encode(OP_JA, 0, 0, (int16_t)rel, 0);
        }
        return 1;
    }
    for (size_t i = 0; i < sizeof jmp_ops / sizeof jmp_ops[0]; i++) {
        size_t jl = strlen(jmp_ops[i].name);
        if (strncmp(mn, jmp_ops[i].name, jl) || (mn[jl] && strcmp(mn + jl, "32")))
            continue;
        uint8_t cls = mn[jl] ? BPF_JMP32 : BPF_JMP;
        if (n != 3 || !parse_reg(ops[0], &dst))
            return fail(a, "expected jCC %rN, %rM|imm, target", NULL);
        if (!parse_target(a, ops[2], pc, &rel))
            return 0;
        if (rel < INT16_MIN || rel > INT16_MAX)
            return fail(a, "jump too far", NULL);
        if (parse_reg(ops[1], &src)) {
            out[0] = vm_insn_encode(cls | jmp_ops[i].op | BPF_X, dst, src, (int16_t)rel, 0);
        } else {
            if (!parse_imm32(a, ops[1], &imm))
                return 0;
            out[0] = vm_insn_encode(cls | jmp_ops[i].op | BPF_K, dst, 0, (int16_t)rel, imm);
        }
        return 1;
    }
    if (strcmp(mn, "lddw") == 0) {
        int64_t v;
        if (n != 2 || !parse_reg(ops[0], &dst) || !parse_int(ops[1], &v))
            return fail(a, "expected lddw %rN, imm64", NULL);
        out[0] = vm_insn_encode(OP_LDDW, dst, 0, 0, (int32_t)(uint32_t)(uint64_t)v);
        out[1] = vm_insn_encode(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)v >> 32));
        return 2;
    }
    if (strncmp(mn, "ldx", 3) == 0) {
        int sx = mn[3] == 's' && size_suffix(mn + 4, &size) && size != BPF_DW;
        if (!sx && !size_suffix(mn + 3, &size))
            return fail(a, "unknown instruction", mn);
        if (n != 2 || !parse_reg(ops[0], &dst) || !parse_mem(a, ops[1], &src, &off))
            return fail(a, "expected ldx %rN, [%rM+off]", NULL);
        out[0] = vm_insn_encode(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | size, dst, src, off, 0);
        return 1;
    }
    if (strncmp(mn, "stx", 3) == 0 && size_suffix(mn + 3, &size)) {
        if (n != 2 || !parse_mem(a, ops[0], &dst, &off) || !parse_reg(ops[1], &src))
            return fail(a, "expected stx [%rN+off], %rM", NULL);
        out[0] = vm_insn_encode(BPF_STX | BPF_MEM | size, dst, src, off, 0);
        return 1;
    }
    if (mn[0] == 's' && mn[1] == 't' && size_suffix(mn + 2, &size)) {
        if (n != 2 || !parse_mem(a, ops[0], &dst, &off) || !parse_imm32(a, ops[1], &imm))
            return fail(a, "expected st [%rN+off], imm", NULL);
        out[0] = vm_insn_encode(BPF_ST | BPF_MEM | size, dst, 0, off, imm);
        return 1;
    }
    /* Byte order: le/be/bswap/swap + width. */
    {
        const char *p = NULL;
        uint8_t code = 0;
        if (strncmp(mn, "le", 2) == 0) { p = mn + 2; code = BPF_ALU | BPF_END | BPF_K; }
        else if (strncmp(mn, "be", 2) == 0) { p = mn + 2; code = BPF_ALU | BPF_END | BPF_X; }
        else if (strncmp(mn, "bswap", 5) == 0) { p = mn + 5; code = BPF_ALU64 | BPF_END; }
        else if (strncmp(mn, "swap", 4) == 0) { p = mn + 4; code = BPF_ALU64 | BPF_END; }
        if (p && (strcmp(p, "16") == 0 || strcmp(p, "32") == 0 || strcmp(p, "64") == 0)) {
            if (n != 1 || !parse_reg(ops[0], &dst))
                return fail(a, "expected one register", NULL);
            int64_t w;
            parse_int(p, &w);
            out[0] = vm_insn_encode(code, dst, 0, 0, (int32_t)w);
            return 1;
        }
    }
    /* ALU: name, name32, neg, movsxSD. */
    int is32 = ml > 2 && strcmp(mn + ml - 2, "32") == 0;
    char base[16];
    snprintf(base, sizeof base, "%.*s", (int)(is32 ? ml - 2 : ml), mn);
    if (strncmp(mn, "movsx", 5) == 0) {
        /* movsx832 movsx1632 movsx864 movsx1664 movsx3264 */
        static const struct { const char *s; int16_t off; uint8_t cls; } mv[] = {
            {"832", 8, BPF_ALU}, {"1632", 16, BPF_ALU}, {"864", 8, BPF_ALU64},
            {"1664", 16, BPF_ALU64}, {"3264", 32, BPF_ALU64},
        };
        for (size_t i = 0; i < 5; i++)
            if (strcmp(mn + 5, mv[i].s) == 0) {
                if (n != 2 || !parse_reg(ops[0], &dst) || !parse_reg(ops[1], &src))
                    return fail(a, "expected movsx %rN, %rM", NULL);
                out[0] = vm_insn_encode(mv[i].cls | BPF_MOV | BPF_X, dst, src, mv[i].off, 0);
                return 1;
            }
        return fail(a, "unknown instruction", mn);
    }
    uint8_t cls = is32 ? BPF_ALU : BPF_ALU64;
    if (strcmp(base, "neg") == 0) {
        if (n != 1 || !parse_reg(ops[0], &dst))
            return fail(a, "expected neg %rN", NULL);
        out[0] = vm_insn_encode(cls | BPF_NEG, dst, 0, 0, 0);
        return 1;
    }
    if (!is32 && ml > 2 && strcmp(mn + ml - 2, "64") == 0)
        snprintf(base, sizeof base, "%.*s", (int)(ml - 2), mn); /* add64 = add */
    for (size_t i = 0; i < sizeof alu_ops / sizeof alu_ops[0]; i++) {
        if (strcmp(base, alu_ops[i].name))
            continue;
        if (n != 2 || !parse_reg(ops[0], &dst))
            return fail(a, "expected op %rN, %rM|imm", NULL);
        if (parse_reg(ops[1], &src)) {
            out[0] = vm_insn_encode(cls | alu_ops[i].op | BPF_X, dst, src, alu_ops[i].off, 0);
        } else {
            if (!parse_imm32(a, ops[1], &imm))
                return 0;
            out[0] = vm_insn_encode(cls | alu_ops[i].op | BPF_K, dst, 0, alu_ops[i].off, imm);
        }
        return 1;
    }
    return fail(a, "unknown instruction", mn);
}

/* Reads the next line into buf (comment stripped, trimmed); returns 0 at end. */
static int next_line(const char **text, char *buf, size_t len)
{
    const char *s = *text;
    if (!*s)
        return 0;
    const char *e = strchr(s, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    *text = e ? e + 1 : s + n;
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *c = strchr(buf, '#');
    if (c)
        *c = 0;
    rtrim(buf);
    return 1;
}

/* Splits a trimmed statement into mnemonic (lower-cased) and the rest. */
static char *split_mnemonic(char *s, char **rest)
{
    s = skip_ws(s);
    char *e = s;
    while (*e && !isspace((unsigned char)*e))
        e++;
    if (*e)
        *e++ = 0;
    *rest = skip_ws(e);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

int vm_asm(const char *text, uint64_t *out, size_t cap, size_t *n_out, char *err, size_t errlen)
{
    static asm_ctx a; /* large; the assembler is single-threaded host tooling */
    char line[LINE_LEN];
    memset(&a, 0, sizeof a);
    a.err = err;
    a.errlen = errlen;
    if (errlen)
        err[0] = 0;

    /* Pass 1: labels and slot counts. */
    uint32_t slot = 0;
    const char *t = text;
    for (a.line = 1; next_line(&t, line, sizeof line); a.line++) {
        char *s = skip_ws(line);
        if (!*s)
            continue;
        size_t l = strlen(s);
        if (s[l - 1] == ':') {
            s[l - 1] = 0;
            if (a.n_labels == VM_ASM_MAX_LABELS || l - 1 >= LABEL_LEN)
                return fail(&a, "too many labels or label too long", s), -1;
            uint32_t dummy;
            if (find_label(&a, s, &dummy))
                return fail(&a, "duplicate label", s), -1;
            snprintf(a.labels[a.n_labels].name, LABEL_LEN, "%s", s);
            a.labels[a.n_labels++].slot = slot;
            continue;
        }
        char *rest;
        char *mn = split_mnemonic(s, &rest);
        if (strcmp(mn, "exit") == 0 && a.n_exits < VM_ASM_MAX_LABELS)
            a.exits[a.n_exits++] = slot;
        slot += strcmp(mn, "lddw") == 0 ? 2 : 1;
    }

    /* Pass 2: encode. */
    size_t pc = 0;
    t = text;
    for (a.line = 1; next_line(&t, line, sizeof line); a.line++) {
        char *s = skip_ws(line);
        if (!*s || s[strlen(s) - 1] == ':')
            continue;
        char *rest;
        char *mn = split_mnemonic(s, &rest);
        uint64_t w[2];
        int k = encode(&a, mn, rest, (uint32_t)pc, w);
        if (k == 0)
            return -1;
        if (pc + (size_t)k > cap)
            return fail(&a, "program too long", NULL), -1;
        for (int j = 0; j < k; j++)
            out[pc++] = w[j];
    }
    *n_out = pc;
    return 0;
}
