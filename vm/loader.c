/* vm/loader.c: .nda parsing, relocation and the verifier.
 *
 * Interface: vm_arena_size_nda/raw, vm_load_nda/raw (vm.h) and vm_verify (vm_internal.h).
 * The loader checks every header field and the SHA-256 before looking at the code, copies
 * the code into the caller's arena, lays out the program memory there, applies relocations
 * and then runs the verifier, so engines only ever see programs that satisfy the invariants
 * listed in vm_internal.h.  Every rejection names the reason and, for code, the instruction.
 *
 * Arena layout (offsets from the 64-byte aligned arena start):
 *   vm_program | insns[n] | reloc_seg[n] | idec[n] | rodata | data | bss | heap | stack
 * idec[] is the interpreter's pre-decoded form (vm_islot, filled by vm/interp.c on its first
 * run of the program).
 * Program memory (rodata..stack) is contiguous so the common sandbox check is one compare.
 */
#include <string.h>
#include <stdio.h>
#include "lib/sha256.h"
#include "vm/nda_format.h"
#include "vm/vm_internal.h"

/* Verifier marks, kept in reloc_seg[] until the loader rewrites it. */
enum { VM_MARK_START = 1, VM_MARK_RELOC = 0x10 };

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~(uint64_t)((a) - 1))

typedef struct layout {
    uint64_t insns, reloc_seg, idec, seg_off[VM_SEG_COUNT], seg_size[VM_SEG_COUNT], total;
} layout;

static int make_layout(layout *l, uint64_t n, uint64_t rodata, uint64_t data, uint64_t bss,
                       uint64_t heap)
{
    if (n > VM_MAX_INSNS || rodata > VM_MAX_SEG_SIZE || data > VM_MAX_SEG_SIZE ||
        bss > VM_MAX_SEG_SIZE || heap > VM_MAX_SEG_SIZE)
        return 0;
    memset(l, 0, sizeof *l);
    uint64_t off = ALIGN_UP(sizeof(vm_program), 64);
    l->insns = off;
    off += n * 8;
    l->reloc_seg = off;
    off = ALIGN_UP(off + n, 64);
    l->idec = off;
    off = ALIGN_UP(off + n * sizeof(vm_islot), 64);
    l->seg_size[VM_SEG_RODATA] = rodata;
    l->seg_size[VM_SEG_DATA] = data;
    l->seg_size[VM_SEG_BSS] = bss;
    l->seg_size[VM_SEG_HEAP] = heap;
    l->seg_size[VM_SEG_STACK] = VM_STACK_SIZE;
    for (int s = VM_SEG_RODATA; s < VM_SEG_COUNT; s++) {
        l->seg_off[s] = off;
        off = ALIGN_UP(off + l->seg_size[s], 16);
    }
    l->total = off + 64; /* slack to align an unaligned arena */
    return 1;
}

static uint32_t heap_size(const vm_load_opts *o, uint32_t file_heap)
{
    if (o && o->heap_size)
        return o->heap_size;
    return file_heap ? file_heap : VM_DEFAULT_HEAP_SIZE;
}

/* ---- verifier ---- */

static vm_err vfail(vm_fault *f, vm_err e, int64_t pc, uint64_t w, const char *detail)
{
    vm_fault_set(f, e, pc, w, detail);
    return e;
}

static int alu_op_ok(uint8_t op)
{
    return op <= BPF_END; /* 0x00..0xd0 are all defined */
}

static int jmp_target(uint32_t pc, int64_t rel, uint32_t n, uint32_t *t)
{
    int64_t x = (int64_t)pc + 1 + rel;
    if (x < 0 || x >= (int64_t)n)
        return 0;
    *t = (uint32_t)x;
    return 1;
}

/* Checks one instruction; *target set (and *has_target) for jumps and local calls. */
static vm_err check_insn(const uint64_t *insns, uint32_t n, uint32_t pc,
                         const vm_helper *const helper[VM_MAX_HELPERS], uint32_t *target,
                         int *has_target, vm_fault *f)
{
    uint64_t w = insns[pc];
    vm_insn i = vm_insn_decode(w);
    uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
    *has_target = 0;
    if (i.dst > 10)
        return vfail(f, VM_E_REG, pc, w, "destination register");
    if (i.src > 10)
        return vfail(f, VM_E_REG, pc, w, "source register");

    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
        if (!alu_op_ok(op))
            return vfail(f, VM_E_OPCODE, pc, w, NULL);
        if (i.dst == 10)
            return vfail(f, VM_E_WRITE_R10, pc, w, NULL);
        if (op == BPF_END) {
            if (cls == BPF_ALU64 && BPF_SRC(i.code))
                return vfail(f, VM_E_OPCODE, pc, w, NULL);
            if (i.src || i.off || (i.imm != 16 && i.imm != 32 && i.imm != 64))
                return vfail(f, VM_E_FIELD, pc, w, "byte swap width must be 16, 32 or 64");
            return VM_OK;
        }
        if (op == BPF_NEG) {
            if (BPF_SRC(i.code) || i.src || i.off || i.imm)
                return vfail(f, VM_E_FIELD, pc, w, NULL);
            return VM_OK;
        }
        if (BPF_SRC(i.code) == BPF_K && i.src)
            return vfail(f, VM_E_FIELD, pc, w, "src must be 0 with an immediate");
        if (BPF_SRC(i.code) == BPF_X && i.imm)
            return vfail(f, VM_E_FIELD, pc, w, "imm must be 0 with a register source");
        int off_ok = i.off == 0;
        if ((op == BPF_DIV || op == BPF_MOD) && i.off == 1)
            off_ok = 1;
        if (op == BPF_MOV && BPF_SRC(i.code) == BPF_X &&
            (i.off == 8 || i.off == 16 || (i.off == 32 && cls == BPF_ALU64)))
            off_ok = 1;
        if (!off_ok)
            return vfail(f, VM_E_FIELD, pc, w, "bad offset");
        return VM_OK;
    }
    case BPF_LD:
        if (i.code != OP_LDDW)
            return vfail(f, VM_E_OPCODE, pc, w, "legacy packet loads are not supported");
        if (pc + 1 >= n)
            return vfail(f, VM_E_LDDW, pc, w, "missing second slot");
        if ((uint32_t)insns[pc + 1] != 0)
            return vfail(f, VM_E_LDDW, pc, w, "second slot must have opcode, regs, offset 0");
        if (i.src || i.off)
            return vfail(f, VM_E_FIELD, pc, w, "only plain 64-bit immediates");
        if (i.dst == 10)
            return vfail(f, VM_E_WRITE_R10, pc, w, NULL);
        return VM_OK;
    case BPF_LDX:
        if (BPF_MODE(i.code) != BPF_MEM &&
            !(BPF_MODE(i.code) == BPF_MEMSX && BPF_SIZE(i.code) != BPF_DW))
            return vfail(f, VM_E_OPCODE, pc, w, NULL);
        if (i.imm)
            return vfail(f, VM_E_FIELD, pc, w, NULL);
        if (i.dst == 10)
            return vfail(f, VM_E_WRITE_R10, pc, w, NULL);
        return VM_OK;
    case BPF_ST:
        if (BPF_MODE(i.code) != BPF_MEM)
            return vfail(f, VM_E_OPCODE, pc, w, NULL);
        if (i.src)
            return vfail(f, VM_E_FIELD, pc, w, NULL);
        return VM_OK;
    case BPF_STX:
        if (BPF_MODE(i.code) == BPF_MEM) {
            if (i.imm)
                return vfail(f, VM_E_FIELD, pc, w, NULL);
            return VM_OK;
        }
        if (BPF_MODE(i.code) != BPF_ATOMIC ||
            (BPF_SIZE(i.code) != BPF_W && BPF_SIZE(i.code) != BPF_DW))
            return vfail(f, VM_E_OPCODE, pc, w, NULL);
        switch (i.imm) {
        case BPF_ADD: case BPF_OR: case BPF_AND: case BPF_XOR:
            return VM_OK;
        case BPF_ADD | BPF_FETCH: case BPF_OR | BPF_FETCH: case BPF_AND | BPF_FETCH:
        case BPF_XOR | BPF_FETCH: case BPF_XCHG:
            if (i.src == 10)
                return vfail(f, VM_E_WRITE_R10, pc, w, NULL);
            return VM_OK;
        case BPF_CMPXCHG:
            return VM_OK;
        default:
            return vfail(f, VM_E_OPCODE, pc, w, "unknown atomic operation");
        }
    case BPF_JMP:
    case BPF_JMP32:
        if (op == BPF_EXIT || op == BPF_CALL) {
            if (cls == BPF_JMP32)
                return vfail(f, VM_E_OPCODE, pc, w, NULL);
            if (i.code == OP_CALLX) {
                if (i.src || i.off || i.imm)
                    return vfail(f, VM_E_FIELD, pc, w, NULL);
                return VM_OK;
            }
            if (BPF_SRC(i.code))
                return vfail(f, VM_E_OPCODE, pc, w, NULL);
            if (op == BPF_EXIT) {
                if (i.src || i.dst || i.off || i.imm)
                    return vfail(f, VM_E_FIELD, pc, w, NULL);
                return VM_OK;
            }
            if (i.dst || i.off)
                return vfail(f, VM_E_FIELD, pc, w, NULL);
            if (i.src == BPF_PSEUDO_HELPER) {
                if (i.imm < 0 || i.imm >= VM_MAX_HELPERS || !helper[i.imm]) {
                    char why[32];
                    snprintf(why, sizeof why, "helper id %d", (int)i.imm);
                    return vfail(f, VM_E_UNKNOWN_HELPER, pc, w, why);
                }
                return VM_OK;
            }
            if (i.src != BPF_PSEUDO_LOCAL)
                return vfail(f, VM_E_FIELD, pc, w, "unsupported call kind");
            if (!jmp_target(pc, i.imm, n, target))
                return vfail(f, VM_E_JUMP_RANGE, pc, w, NULL);
            *has_target = 1;
            return VM_OK;
        }
        if (op > BPF_JSLE)
            return vfail(f, VM_E_OPCODE, pc, w, NULL);
        if (op == BPF_JA) {
            if (BPF_SRC(i.code) || i.src || i.dst)
                return vfail(f, VM_E_FIELD, pc, w, NULL);
            if (cls == BPF_JMP ? i.imm != 0 : i.off != 0)
                return vfail(f, VM_E_FIELD, pc, w, NULL);
            if (!jmp_target(pc, cls == BPF_JMP ? i.off : i.imm, n, target))
                return vfail(f, VM_E_JUMP_RANGE, pc, w, NULL);
            *has_target = 1;
            return VM_OK;
        }
        if (BPF_SRC(i.code) == BPF_K && i.src)
            return vfail(f, VM_E_FIELD, pc, w, NULL);
        if (BPF_SRC(i.code) == BPF_X && i.imm)
            return vfail(f, VM_E_FIELD, pc, w, NULL);
        if (!jmp_target(pc, i.off, n, target))
            return vfail(f, VM_E_JUMP_RANGE, pc, w, NULL);
        *has_target = 1;
        return VM_OK;
    }
    return vfail(f, VM_E_OPCODE, pc, w, NULL);
}

vm_err vm_verify(const uint64_t *insns, uint32_t n, uint32_t entry,
                 const vm_helper *const helper[VM_MAX_HELPERS], uint8_t *marks, vm_fault *f)
{
    if (n == 0)
        return vfail(f, VM_E_EMPTY, -1, 0, NULL);
    if (n > VM_MAX_INSNS)
        return vfail(f, VM_E_TOO_BIG, -1, 0, NULL);
    /* Pass 1: each instruction on its own, marking where instructions start (lddw second
     * slots are not starts).  Pass 2: every jump/call target must be a start. */
    memset(marks, 0, n);
    uint32_t last = 0;
    for (uint32_t pc = 0; pc < n; pc++) {
        uint32_t t;
        int has_t;
        vm_err e = check_insn(insns, n, pc, helper, &t, &has_t, f);
        if (e)
            return e;
        marks[pc] = VM_MARK_START;
        last = pc;
        if ((uint8_t)insns[pc] == OP_LDDW)
            pc++;
    }
    for (uint32_t pc = 0; pc < n; pc++) {
        uint32_t t;
        int has_t;
        if (marks[pc] != VM_MARK_START)
            continue;
        check_insn(insns, n, pc, helper, &t, &has_t, f);
        if (has_t && marks[t] != VM_MARK_START)
            return vfail(f, VM_E_JUMP_LDDW, pc, insns[pc], NULL);
    }
    /* The last instruction must not let execution continue past the end. */
    uint8_t lc = (uint8_t)insns[last];
    if (lc != OP_EXIT && lc != OP_JA && lc != OP_JA32)
        return vfail(f, VM_E_FALLTHROUGH, last, insns[last], "last instruction must be exit or ja");
    if (entry >= n || marks[entry] != VM_MARK_START)
        return vfail(f, VM_E_ENTRY, -1, 0, NULL);
    return VM_OK;
}

/* ---- loading ---- */

static vm_program *place(void *arena, size_t arena_size, const layout *l, bool zeroed,
                         vm_fault *f)
{
    uintptr_t a = ALIGN_UP((uintptr_t)arena, 64);
    if (!arena || arena_size < l->total) {
        vm_fault_set(f, VM_E_ARENA_SMALL, -1, 0, NULL);
        return NULL;
    }
    if (!zeroed)
        memset(arena, 0, l->total);
    vm_program *p = (vm_program *)a;
    p->insns = (uint64_t *)(a + l->insns);
    p->reloc_seg = (uint8_t *)(a + l->reloc_seg);
    p->idec = (vm_islot *)(a + l->idec);
    for (int s = VM_SEG_RODATA; s < VM_SEG_COUNT; s++) {
        p->seg_base[s] = a + l->seg_off[s];
        p->seg_size[s] = l->seg_size[s];
    }
    p->mem_lo = p->seg_base[VM_SEG_RODATA];
    p->rw_lo = p->seg_base[VM_SEG_DATA];
    p->mem_hi = p->seg_base[VM_SEG_STACK] + VM_STACK_SIZE;
    return p;
}

static const vm_helper *host_helpers(const vm_load_opts *o, size_t *n)
{
    if (o && o->helpers) {
        *n = o->n_helpers;
        return o->helpers;
    }
    *n = vm_std_helper_count;
    return vm_std_helpers;
}

size_t vm_arena_size_raw(size_t n_insns, const vm_load_opts *opts)
{
    layout l;
    if (!make_layout(&l, n_insns, 0, 0, 0, heap_size(opts, 0)))
        return 0;
    return (size_t)l.total;
}

vm_program *vm_load_raw(const uint64_t *insns, size_t n_insns, const vm_load_opts *opts,
                        void *arena, size_t arena_size, vm_fault *f)
{
    layout l;
    vm_fault_set(f, VM_OK, -1, 0, NULL);
    if (n_insns == 0) {
        vm_fault_set(f, VM_E_EMPTY, -1, 0, NULL);
        return NULL;
    }
    if (!make_layout(&l, n_insns, 0, 0, 0, heap_size(opts, 0))) {
        vm_fault_set(f, VM_E_TOO_BIG, -1, 0, NULL);
        return NULL;
    }
    vm_program *p = place(arena, arena_size, &l, opts && opts->arena_zeroed, f);
    if (!p)
        return NULL;
    size_t nh;
    const vm_helper *h = host_helpers(opts, &nh);
    for (size_t k = 0; k < nh; k++)
        if (h[k].id < VM_MAX_HELPERS && h[k].fn)
            p->helper[h[k].id] = &h[k];
    memcpy(p->insns, insns, n_insns * 8);
    p->n_insns = (uint32_t)n_insns;
    if (vm_verify(p->insns, p->n_insns, 0, p->helper, p->reloc_seg, f))
        return NULL;
    memset(p->reloc_seg, VM_SEG_NONE, n_insns);
    p->magic = VM_PROGRAM_MAGIC;
    return p;
}

/* Header fields, read once and checked. */
typedef struct nda_hdr {
    uint32_t flags, entry, code, rodata, data, bss, stack, heap, nreloc, nimport;
    uint64_t off_code, off_rodata, off_data, off_reloc, off_import, end;
} nda_hdr;

static int hfail(vm_fault *f, vm_err e, const char *why)
{
    vm_fault_set(f, e, -1, 0, why);
    return 0;
}

static int parse_header(const uint8_t *b, size_t len, nda_hdr *h, vm_fault *f)
{
    char why[96];
    if (!b || len < NDA_HDR_SIZE) {
        snprintf(why, sizeof why, "%zu bytes, the header alone needs %d", b ? len : 0,
                 (int)NDA_HDR_SIZE);
        return hfail(f, len >= 4 && b && memcmp(b, NDA_MAGIC, 4) ? VM_E_FILE_MAGIC
                                                                 : VM_E_FILE_TRUNC, why);
    }
    if (memcmp(b + NDA_OFF_MAGIC, NDA_MAGIC, 4))
        return hfail(f, VM_E_FILE_MAGIC, NULL);
    uint32_t ver = nda_ld16(b + NDA_OFF_VERSION);
    if (ver != NDA_VERSION) {
        snprintf(why, sizeof why, "version %u, this loader reads %d", (unsigned)ver, NDA_VERSION);
        return hfail(f, VM_E_FILE_VERSION, why);
    }
    h->flags = nda_ld16(b + NDA_OFF_FLAGS);
    if (h->flags & ~(uint32_t)NDA_FLAG_ALL) {
        snprintf(why, sizeof why, "flags 0x%x", (unsigned)h->flags);
        return hfail(f, VM_E_FILE_FLAGS, why);
    }
    if (nda_ld32(b + NDA_OFF_HDR_SIZE) != NDA_HDR_SIZE)
        return hfail(f, VM_E_FILE_FIELD, "header size");
    uint32_t fsize = nda_ld32(b + NDA_OFF_FILE_SIZE);
    if (fsize > len) {
        snprintf(why, sizeof why, "file is %zu bytes, header says %u", len, (unsigned)fsize);
        return hfail(f, VM_E_FILE_TRUNC, why);
    }
    if (fsize < len) {
        snprintf(why, sizeof why, "%zu bytes after the declared end", len - fsize);
        return hfail(f, VM_E_FILE_FIELD, why);
    }
    for (int i = 0; i < 12; i++)
        if (b[NDA_OFF_RESERVED + i])
            return hfail(f, VM_E_FILE_FIELD, "reserved header bytes not zero");
    h->entry = nda_ld32(b + NDA_OFF_ENTRY);
    h->code = nda_ld32(b + NDA_OFF_CODE_COUNT);
    h->rodata = nda_ld32(b + NDA_OFF_RODATA_SIZE);
    h->data = nda_ld32(b + NDA_OFF_DATA_SIZE);
    h->bss = nda_ld32(b + NDA_OFF_BSS_SIZE);
    h->stack = nda_ld32(b + NDA_OFF_STACK_SIZE);
    h->heap = nda_ld32(b + NDA_OFF_HEAP_SIZE);
    h->nreloc = nda_ld32(b + NDA_OFF_RELOC_COUNT);
    h->nimport = nda_ld32(b + NDA_OFF_IMPORT_COUNT);
    if (h->code == 0)
        return hfail(f, VM_E_EMPTY, NULL);
    if (h->code > VM_MAX_INSNS)
        return hfail(f, VM_E_TOO_BIG, "code count");
    if (h->rodata > VM_MAX_SEG_SIZE || h->data > VM_MAX_SEG_SIZE || h->bss > VM_MAX_SEG_SIZE ||
        h->heap > VM_MAX_SEG_SIZE)
        return hfail(f, VM_E_TOO_BIG, "a segment is larger than 256 MiB");
    if (h->stack != 0 && h->stack != VM_STACK_SIZE) {
        snprintf(why, sizeof why, "stack size %u, must be %u", (unsigned)h->stack,
                 (unsigned)VM_STACK_SIZE);
        return hfail(f, VM_E_FILE_FIELD, why);
    }
    if (h->entry >= h->code)
        return hfail(f, VM_E_ENTRY, NULL);
    h->off_code = NDA_HDR_SIZE;
    h->off_rodata = h->off_code + (uint64_t)h->code * 8;
    h->off_data = h->off_rodata + h->rodata;
    h->off_reloc = h->off_data + h->data;
    h->off_import = h->off_reloc + (uint64_t)h->nreloc * NDA_RELOC_SIZE;
    h->end = h->off_import + (uint64_t)h->nimport * NDA_IMPORT_SIZE;
    if (h->end != fsize) {
        snprintf(why, sizeof why, "sections add up to %llu bytes, file is %u",
                 (unsigned long long)h->end, (unsigned)fsize);
        return hfail(f, VM_E_FILE_FIELD, why);
    }
    /* The hash covers the file with its own field zeroed. */
    static const uint8_t zero[32];
    uint8_t d[32];
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, b, NDA_OFF_SHA256);
    sha256_update(&c, zero, 32);
    sha256_update(&c, b + NDA_OFF_SHA256 + 32, len - NDA_OFF_SHA256 - 32);
    sha256_final(&c, d);
    if (memcmp(d, b + NDA_OFF_SHA256, 32))
        return hfail(f, VM_E_FILE_HASH, NULL);
    return 1;
}

size_t vm_arena_size_nda(const void *image, size_t len, const vm_load_opts *opts)
{
    nda_hdr h;
    vm_fault f;
    layout l;
    if (!parse_header(image, len, &h, &f))
        return 0;
    if (!make_layout(&l, h.code, h.rodata, h.data, h.bss, heap_size(opts, h.heap)))
        return 0;
    return (size_t)l.total;
}

vm_program *vm_load_nda(const void *image, size_t len, const vm_load_opts *opts, void *arena,
                        size_t arena_size, vm_fault *f)
{
    const uint8_t *b = image;
    nda_hdr h;
    layout l;
    char why[96];
    vm_fault_set(f, VM_OK, -1, 0, NULL);
    if (!parse_header(b, len, &h, f))
        return NULL;
    if (!make_layout(&l, h.code, h.rodata, h.data, h.bss, heap_size(opts, h.heap))) {
        vm_fault_set(f, VM_E_TOO_BIG, -1, 0, NULL);
        return NULL;
    }
    vm_program *p = place(arena, arena_size, &l, opts && opts->arena_zeroed, f);
    if (!p)
        return NULL;
    p->n_insns = h.code;
    p->entry = h.entry;
    for (uint32_t k = 0; k < h.code; k++)
        p->insns[k] = nda_ld64(b + h.off_code + 8ull * k);
    memcpy((void *)(uintptr_t)p->seg_base[VM_SEG_RODATA], b + h.off_rodata, h.rodata);
    memcpy((void *)(uintptr_t)p->seg_base[VM_SEG_DATA], b + h.off_data, h.data);
    memcpy(p->sha256, b + NDA_OFF_SHA256, 32);

    /* Imports: bind each name to the host's helper, under the id the code uses. */
    size_t nh;
    const vm_helper *hh = host_helpers(opts, &nh);
    for (uint32_t k = 0; k < h.nimport; k++) {
        const uint8_t *e = b + h.off_import + (uint64_t)k * NDA_IMPORT_SIZE;
        uint32_t id = nda_ld32(e + NDA_IMPORT_OFF_ID);
        const char *name = (const char *)e + NDA_IMPORT_OFF_NAME;
        size_t nl = strnlen(name, NDA_IMPORT_NAME_MAX);
        if (nl == 0 || nl == NDA_IMPORT_NAME_MAX) {
            snprintf(why, sizeof why, "import %u: name empty or not terminated", (unsigned)k);
            vm_fault_set(f, VM_E_IMPORT, -1, 0, why);
            return NULL;
        }
        for (size_t j = nl; j < NDA_IMPORT_NAME_MAX; j++)
            if (name[j]) {
                snprintf(why, sizeof why, "import %u: junk after the name", (unsigned)k);
                vm_fault_set(f, VM_E_IMPORT, -1, 0, why);
                return NULL;
            }
        if (id >= VM_MAX_HELPERS || p->helper[id]) {
            snprintf(why, sizeof why, "import %.28s: id %u out of range or duplicate", name,
                     (unsigned)id);
            vm_fault_set(f, VM_E_IMPORT, -1, 0, why);
            return NULL;
        }
        for (size_t j = 0; j < nh; j++)
            if (hh[j].fn && strcmp(hh[j].name, name) == 0)
                p->helper[id] = &hh[j];
        if (!p->helper[id]) {
            snprintf(why, sizeof why, "no helper named \"%.28s\"", name);
            vm_fault_set(f, VM_E_IMPORT, -1, 0, why);
            return NULL;
        }
    }

    if (vm_verify(p->insns, p->n_insns, p->entry, p->helper, p->reloc_seg, f))
        return NULL;

    /* Relocations: the verifier's marks say which slots start instructions. */
    for (uint32_t k = 0; k < h.nreloc; k++) {
        const uint8_t *e = b + h.off_reloc + (uint64_t)k * NDA_RELOC_SIZE;
        uint32_t at = nda_ld32(e + NDA_RELOC_OFF_WHERE);
        uint32_t kind = e[NDA_RELOC_OFF_KIND], seg = e[NDA_RELOC_OFF_SEG];
        uint32_t in = e[NDA_RELOC_OFF_IN_SEG];
        if (e[NDA_RELOC_OFF_PAD] || seg < NDA_SEG_RODATA || seg > NDA_SEG_BSS ||
            (kind != NDA_RELOC_LDDW && kind != NDA_RELOC_DATA64)) {
            snprintf(why, sizeof why, "relocation %u: bad kind %u or segment %u", (unsigned)k,
                     (unsigned)kind, (unsigned)seg);
            vm_fault_set(f, VM_E_RELOC, -1, 0, why);
            return NULL;
        }
        uint64_t v;
        if (kind == NDA_RELOC_DATA64) {
            if ((in != NDA_SEG_RODATA && in != NDA_SEG_DATA) || at > p->seg_size[in] ||
                p->seg_size[in] - at < 8) {
                snprintf(why, sizeof why, "relocation %u: offset %u outside its segment",
                         (unsigned)k, (unsigned)at);
                vm_fault_set(f, VM_E_RELOC, -1, 0, why);
                return NULL;
            }
            uint8_t *w = (uint8_t *)(uintptr_t)(p->seg_base[in] + at);
            v = nda_ld64(w);
            if (v > p->seg_size[seg]) {
                snprintf(why, sizeof why, "relocation %u: value %llu beyond the segment",
                         (unsigned)k, (unsigned long long)v);
                vm_fault_set(f, VM_E_RELOC, -1, 0, why);
                return NULL;
            }
            nda_st64(w, v + p->seg_base[seg]);
            continue;
        }
        if (in || at >= h.code || p->reloc_seg[at] != VM_MARK_START ||
            (uint8_t)p->insns[at] != OP_LDDW) {
            snprintf(why, sizeof why, "relocation %u: instruction %u is not a lddw",
                     (unsigned)k, (unsigned)at);
            vm_fault_set(f, VM_E_RELOC, -1, 0, why);
            return NULL;
        }
        v = (uint32_t)(p->insns[at] >> 32) | (p->insns[at + 1] >> 32) << 32;
        if (v > p->seg_size[seg]) {
            snprintf(why, sizeof why, "relocation %u: offset %llu beyond the segment",
                     (unsigned)k, (unsigned long long)v);
            vm_fault_set(f, VM_E_RELOC, at, p->insns[at], why);
            return NULL;
        }
        v += p->seg_base[seg];
        p->insns[at] = (uint32_t)p->insns[at] | (uint64_t)(uint32_t)v << 32;
        p->insns[at + 1] = (uint32_t)p->insns[at + 1] | (v >> 32) << 32;
        p->reloc_seg[at] = VM_MARK_RELOC + (uint8_t)seg; /* marks a relocated start */
    }
    for (uint32_t k = 0; k < h.code; k++)
        p->reloc_seg[k] = p->reloc_seg[k] >= VM_MARK_RELOC ? p->reloc_seg[k] - VM_MARK_RELOC
                                                           : VM_SEG_NONE;
    p->magic = VM_PROGRAM_MAGIC;
    return p;
}
