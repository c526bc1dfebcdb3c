/* vm/jit_analysis.h: what the x86-64 JIT (vm/jit_x86_64.c) knows about a verified program
 * before emitting code - pure functions of the program and the JIT's mark table, no code.
 *
 *   The mark table: 4 little-endian bytes per instruction (tab_get/tab_set), at the end of
 *   the caller's buffer.  TARGET_MARK: a jump, call or the entry reaches it; ALIGN_MARK: a
 *   loop head or function entry; the number of those ways in (COUNT_MASK); the length of
 *   the fused group (vm/jit_peephole.h) that would start there, + 1 (GROUP_SHIFT; the JIT
 *   fills it in); REGION_NO: the JIT declined the region starting there (its code-size
 *   budget).  marks_find_targets() fills in the rest.
 *   Regions: find_region(p, marks, s, &r) - a stretch [s, e) where one base register takes
 *   enough loads/stores to be worth checking once ("Regions" in vm/jit_x86_64.c).  It is
 *   entered only at s (every way into (s, e) starts inside it), the base is not written
 *   before its last access (a load into the base may be that last access), and no call,
 *   exit or atomic lies inside.  A fused group is never split: it is inside or after e.
 * Used by both JIT files (vm/jit_x86_64.c, vm/jit_compile.c), hence `static inline`: a
 * file that uses only some of these functions compiles without unused-function warnings.
 */
#ifndef VM_JIT_ANALYSIS_H
#define VM_JIT_ANALYSIS_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "vm/jit_peephole.h"
#include "vm/vm_internal.h"

enum {
    TARGET_MARK = 1u << 31,
    ALIGN_MARK = 1u << 30,
    REGION_NO = 1u << 28,
    GROUP_SHIFT = 24,              /* 4 bits: fused group length + 1 (0: not yet known) */
    COUNT_MASK = (1u << 24) - 1,   /* jumps, calls and entries reaching the instruction */
};
_Static_assert(PEEP_TEST_LEN + PEEP_SELECT_MAX + 2 < 16 && PEEP_ROTATE_LEN + 1 < 16,
               "fused group lengths fit GROUP_SHIFT's 4 bits");

enum { REGION_MAX = 64 }; /* instructions a region may span */

typedef struct jit_region {
    uint8_t base;         /* eBPF register whose accesses get cover checks */
    uint32_t s, e;        /* instructions [s, e) */
    int32_t lo[2], hi[2]; /* byte span [lo, hi) off base touched by reads [0] / writes [1];
                           * lo >= hi: none */
} jit_region;

static inline uint32_t tab_get(const uint8_t *t, uint32_t i)
{
    const uint8_t *q = t + 4 * (size_t)i;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

static inline void tab_set(uint8_t *t, uint32_t i, uint32_t v)
{
    uint8_t *q = t + 4 * (size_t)i;
    for (int k = 0; k < 4; k++)
        q[k] = (uint8_t)(v >> (8 * k));
}

/* No instruction in (pc, pc + n) is a jump target: a group there runs from its start. */
static inline bool marks_straight(const vm_program *p, const uint8_t *marks, uint32_t pc, uint32_t n)
{
    if (pc + n > p->n_insns)
        return false;
    for (uint32_t k = 1; k < n; k++)
        if (tab_get(marks, pc + k) & TARGET_MARK)
            return false;
    return true;
}

/* Length of the fused group at pc, 0 for none. */
static inline uint32_t marks_group_len(const uint8_t *marks, uint32_t pc)
{
    uint32_t c = tab_get(marks, pc) >> GROUP_SHIFT & 0xf;
    return c ? c - 1 : 0;
}

/* Target of jump instruction i at pc, or -1 if i is no jump (calls and exit are none). */
static inline int64_t jump_target(vm_insn i, uint32_t pc)
{
    uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
    if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT)
        return -1;
    return (int64_t)pc + 1 + (i.code == OP_JA32 ? i.imm : i.off);
}

static inline void marks_add_entry(uint8_t *marks, uint32_t t, uint32_t flags)
{
    uint32_t v = tab_get(marks, t);
    if ((v & COUNT_MASK) < COUNT_MASK)
        v++;
    tab_set(marks, t, v | TARGET_MARK | flags);
}

/* Marks every jump/call target, and those that get aligned (ALIGN_MARK): loop heads -
 * targets of a conditional backward jump (or of `jcc +1; ja`, fused into one; a plain
 * backward ja usually closes an outer loop or a rarely-taken path) - and function entries
 * (local-call targets: recursion pays for a badly placed entry on every call).  Counts the
 * ways in (the program entry is one). */
static inline void marks_find_targets(const vm_program *p, uint8_t *marks)
{
    for (uint32_t pc = 0; pc < p->n_insns; pc++) {
        vm_insn i = vm_insn_decode(p->insns[pc]);
        int64_t t = i.code == OP_CALL && i.src == BPF_PSEUDO_LOCAL ? (int64_t)pc + 1 + i.imm
                                                                   : jump_target(i, pc);
        if (t >= 0 && t < p->n_insns) {
            bool plain_ja = (i.code == OP_JA || i.code == OP_JA32) &&
                            !(pc > 0 && peep_match_loop(p, pc - 1, &(uint32_t){0}));
            marks_add_entry(marks, (uint32_t)t,
                            i.code == OP_CALL || (t <= pc && !plain_ja) ? ALIGN_MARK : 0);
        }
        if (i.code == OP_LDDW)
            pc++;
    }
    marks_add_entry(marks, p->entry, 0);
}

/* Shrinks r->e until no instruction in (s, e) is reached by a jump, call or entry from
 * outside [s, e); sets *loops if a loop lies inside (a jump back to an instruction >= s). */
static inline void region_close(const vm_program *p, const uint8_t *marks, jit_region *r, bool *loops)
{
    uint32_t inner[REGION_MAX];
    for (bool again = true; again;) {
        again = false;
        *loops = false;
        memset(inner, 0, sizeof inner);
        for (uint32_t k = r->s; k < r->e; k++) {
            vm_insn i = vm_insn_decode(p->insns[k]);
            int64_t t = jump_target(i, k);
            if (t >= r->s && t <= k)
                *loops = true;
            if (t > r->s && t < r->e)
                inner[t - r->s]++;
            if (i.code == OP_LDDW)
                k++;
        }
        for (uint32_t t = r->s + 1; t < r->e; t++)
            if ((tab_get(marks, t) & COUNT_MASK) != inner[t - r->s]) {
                r->e = t;
                again = true;
                break;
            }
    }
}

/* Accesses with base r->base in [s, e) -> r->lo/hi; returns how many. */
static inline uint32_t region_span(const vm_program *p, jit_region *r)
{
    uint32_t n = 0;
    r->lo[0] = r->lo[1] = INT32_MAX;
    r->hi[0] = r->hi[1] = INT32_MIN;
    for (uint32_t k = r->s; k < r->e; k++) {
        vm_insn i = vm_insn_decode(p->insns[k]);
        uint8_t cls = BPF_CLASS(i.code), sz = BPF_SIZE(i.code);
        if (i.code == OP_LDDW)
            k++;
        if ((cls != BPF_LDX && cls != BPF_ST && cls != BPF_STX) ||
            (cls == BPF_LDX ? i.src : i.dst) != r->base)
            continue;
        int w = cls != BPF_LDX;
        int size = sz == BPF_B ? 1 : sz == BPF_H ? 2 : sz == BPF_W ? 4 : 8;
        if (i.off < r->lo[w])
            r->lo[w] = i.off;
        if (i.off + size > r->hi[w])
            r->hi[w] = i.off + size;
        n++;
    }
    return n;
}

/* Cover checks a region of this span needs (0, 1 or 2 per access kind). */
static inline uint32_t cover_checks(const jit_region *r)
{
    uint32_t c = 0;
    for (int w = 0; w < 2; w++)
        if (r->lo[w] < r->hi[w])
            c += r->hi[w] - r->lo[w] <= 8 ? 1 : 2;
    return c;
}

/* A region starting at s worth versioning: the base register with the most accesses in
 * the instructions from s on before it is written, when they outnumber the cover checks
 * (or sit in a loop inside the region).  Needs the group lengths in marks. */
static inline bool find_region(const vm_program *p, const uint8_t *marks, uint32_t s, jit_region *out)
{
    if (tab_get(marks, s) & REGION_NO)
        return false;
    uint32_t end[10], cnt[10] = {0};
    for (int r = 0; r < 10; r++)
        end[r] = UINT32_MAX;
    uint32_t k = s;
    while (k < p->n_insns - 1 && k - s < REGION_MAX) {
        vm_insn i = vm_insn_decode(p->insns[k]);
        uint8_t cls = BPF_CLASS(i.code), op = BPF_OP(i.code);
        if (((cls == BPF_JMP || cls == BPF_JMP32) && (op == BPF_CALL || op == BPF_EXIT)) ||
            (cls == BPF_STX && BPF_MODE(i.code) == BPF_ATOMIC))
            break;
        uint32_t len = marks_group_len(marks, k);
        if (!len)
            len = i.code == OP_LDDW ? 2 : 1;
        if (k + len > p->n_insns - 1 || k + len - s > REGION_MAX)
            break;
        if (cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX) {
            uint8_t b = cls == BPF_LDX ? i.src : i.dst;
            if (b < 10 && end[b] == UINT32_MAX)
                cnt[b]++;
            if (cls == BPF_LDX && i.dst < 10 && end[i.dst] == UINT32_MAX)
                end[i.dst] = k + 1; /* written after its own access */
        } else {
            for (uint32_t q = k; q < k + len; q++) { /* a group: any register it may write */
                vm_insn g = vm_insn_decode(p->insns[q]);
                uint8_t gc = BPF_CLASS(g.code);
                if ((gc == BPF_ALU || gc == BPF_ALU64 || gc == BPF_LD) && g.dst < 10 &&
                    end[g.dst] == UINT32_MAX)
                    end[g.dst] = k;
            }
        }
        k += len;
    }
    int best = -1;
    for (int r = 0; r < 10; r++)
        if (cnt[r] && (best < 0 || cnt[r] > cnt[best]))
            best = r;
    if (best < 0)
        return false;
    jit_region r = {.base = (uint8_t)best, .s = s, .e = end[best] < k ? end[best] : k};
    bool loops;
    region_close(p, marks, &r, &loops);
    uint32_t n = region_span(p, &r);
    if (n == 0 || (n <= cover_checks(&r) && !loops))
        return false;
    *out = r;
    return true;
}

#endif
