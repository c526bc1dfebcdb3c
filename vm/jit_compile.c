/* vm/jit_compile.c: the x86-64 JIT's entry points (vm.h) and its two-pass driver; the
 * translation itself is vm/jit_x86_64.c, which describes the generated code.
 *
 * Interface (vm.h): vm_jit_size_bound(p) bytes of buffer; vm_jit_compile(p, buf, cap, ...)
 * writes the code into that plain RW buffer (the embedder maps it RX and vm_jit_attach()es
 * it); vm_jit_available() says this build has a JIT (these strong symbols replace the weak
 * stubs in vm/vm.c).
 *
 * Two passes over the program (jit_translate): the sizing pass writes nothing and records
 * each instruction's offset in tables at the end of the caller's buffer (main and
 * slow-copy offsets, and the mark table: jump targets, loop heads, ways in and fused-group
 * lengths) and the streams' sizes; the final pass writes the same bytes with every
 * displacement known, and must end exactly where the sizing pass said, else VM_E_JIT.
 * Invariants: the code is main + slow + cold bytes from buf, the tables (TABLE_BYTES per
 * instruction) sit at the end of the buffer and are zeroed before returning, and nothing
 * is allocated: the caller owns every byte.
 */
#include <stdint.h>
#include <string.h>
#include "vm/jit_internal.h"

enum { TABLE_BYTES = 12 }; /* per instruction at the end of the caller's buffer */

static void jit_init(jit *j, const vm_program *p)
{
    memset(j, 0, sizeof *j);
    j->p = p;
    j->flags_reg = -1;
    /* The stack is the last RW segment and holds VM_MAX_CALL_DEPTH + 1 frames (loader). */
    uint64_t sb = p->seg_base[VM_SEG_STACK], ss = p->seg_size[VM_SEG_STACK];
    if (p->rw_lo - p->mem_lo > INT32_MAX - 65536) /* the loader's limits make this impossible */
        j->err = VM_E_JIT;
    j->ro = (int32_t)(p->rw_lo - p->mem_lo);
    j->elide_stack = sb >= p->rw_lo && ss >= VM_STACK_SIZE && sb + ss <= p->mem_hi &&
                     sb + ss > sb;
}

/* Sizing pass: writes nothing; returns main length, *slow and *cold the other streams'. */
static size_t size_pass(jit *j, size_t *slow, size_t *cold)
{
    j->b.write_main = false;
    j->b.write_cold = false;
    j->b.limit = SIZE_MAX;
    jit_translate(j, 0, 0);
    *slow = j->b.slow_pos;
    *cold = j->b.cold_pos;
    return j->b.main_pos;
}

static bool valid(const vm_program *p)
{
    return p && p->magic == VM_PROGRAM_MAGIC && p->n_insns > 0 && p->n_insns <= VM_MAX_INSNS;
}

size_t vm_jit_size_bound(const vm_program *p)
{
    if (!valid(p))
        return 0;
    jit j;
    jit_init(&j, p);
    size_t slow, cold, main = size_pass(&j, &slow, &cold);
    if (j.err)
        return 0;
    /* The sizing pass had no mark table, so nothing was aligned: each loop head or function
     * entry may take up to 2 + LOOP_ALIGN bytes more (counted per jump/call: an upper
     * bound). */
    size_t backward = 0;
    for (uint32_t pc = 0; pc < p->n_insns; pc++) {
        vm_insn i = vm_insn_decode(p->insns[pc]);
        int64_t t = jump_target(i, pc);
        backward += (t >= 0 && t <= pc) || (i.code == OP_CALL && i.src == BPF_PSEUDO_LOCAL);
    }
    /* Versioned regions (none in the sizing pass) add at most dup_cap bytes. */
    return main + cold + (2 + LOOP_ALIGN) * backward + dup_cap(p) +
           TABLE_BYTES * (size_t)p->n_insns + 8;
}

vm_err vm_jit_compile(const vm_program *p, uint8_t *buf, size_t cap, size_t *out_len,
                      vm_fault *fault, vm_jit_info *info)
{
    if (out_len)
        *out_len = 0;
    if (!valid(p) || !buf) {
        vm_fault_set(fault, VM_E_ARG, -1, 0, "JIT: no program or buffer");
        return VM_E_ARG;
    }
    jit j;
    jit_init(&j, p);
    size_t table = TABLE_BYTES * (size_t)p->n_insns; /* ofs, mark and slow tables */
    if (cap < table + 64) {
        vm_fault_set(fault, VM_E_JIT_SPACE, -1, 0, NULL);
        return VM_E_JIT_SPACE;
    }
    size_t limit = (cap - table) & ~(size_t)3;
    j.ofs = buf + limit;
    j.marks = j.ofs + 4 * (size_t)p->n_insns;
    j.sofs = j.marks + 4 * (size_t)p->n_insns;
    memset(j.ofs, 0, table);
    marks_find_targets(p, j.marks);
    jit_cache_groups(&j);
    j.b.buf = buf;

    size_t slow, cold, main = size_pass(&j, &slow, &cold);
    if (j.err == VM_OK && main + slow + cold > limit)
        j.err = VM_E_JIT_SPACE;
    if (j.err == VM_OK) {
        j.final = true;
        j.b.write_main = true;
        j.b.write_cold = true;
        j.b.limit = limit;
        jit_translate(&j, main, main + slow);
        if (j.err == VM_OK && (j.b.overflow || j.b.main_pos != main ||
                               j.b.slow_pos != main + slow || j.b.cold_pos != main + slow + cold))
            j.err = VM_E_JIT;
    }
    memset(j.ofs, 0, table); /* the tables are scratch: leave no stale bytes behind the code */
    if (j.err != VM_OK) {
        vm_fault_set(fault, j.err, j.err == VM_E_JIT ? (int64_t)j.err_pc : -1,
                     j.err == VM_E_JIT ? p->insns[j.err_pc] : 0, "JIT");
        return j.err;
    }
    if (out_len)
        *out_len = main + slow + cold;
    if (info)
        *info = (vm_jit_info){j.n_regions, j.region_insns};
    return VM_OK;
}

bool vm_jit_available(void) { return true; }
