/* tests/vm/vmgen.h: what the random-program tests (test_random.c, test_region_diff.c)
 * share - the xorshift generator their programs come from and the disassembly dump of a
 * program that made the engines disagree.
 * Each test sets rng_state (its fixed seed, or VMT_SEED) before generating: the same seed
 * always gives the same programs, so a reported failure can be replayed. */
#ifndef TESTS_VM_VMGEN_H
#define TESTS_VM_VMGEN_H
#include <stdint.h>
#include <stdio.h>
#include "vm/vm.h"

static uint64_t rng_state;

static inline uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* One `# pc: instruction` line per slot: comment lines tools/testrun.sh does not count,
 * kept in the suite's log next to the `not ok` they explain. */
static inline void vmg_dump(const uint64_t *w, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char t[80];
        vm_disasm_insn(w, n, k, t, sizeof t);
        printf("# %4zu: %s\n", k, t);
    }
}

#endif
