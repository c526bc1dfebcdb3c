/* kernel/ksyms.h: kernel symbol table for backtraces, generated at build time from the
 * first link of kernel.elf by tools/mksyms (addresses are link-time; the image base is
 * added at run time). */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H
#include <stdint.h>

struct ksym {
    uint32_t addr;      /* link-time address (image offset) */
    uint32_t name;      /* offset into ksym_names */
};
extern const struct ksym ksym_table[];
extern const uint32_t ksym_count;
extern const char ksym_names[];

/* Name of the function containing ADDR (run-time address) and the offset into it. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#endif
