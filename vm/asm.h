/* vm/asm.h: text assembler for the conformance-suite syntax (see vm/asm.c).
 * Host tooling only (not in the kernel).  Caller owns the output array. */
#ifndef VM_ASM_H
#define VM_ASM_H
#include <stddef.h>
#include <stdint.h>

/* Assembles text into at most cap instruction words.  Returns 0 and *n_out, or -1 with a
 * message naming the line in err. */
int vm_asm(const char *text, uint64_t *out, size_t cap, size_t *n_out, char *err, size_t errlen);

#endif
