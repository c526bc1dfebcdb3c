/* Symbol lookup over the generated table (see ksyms.h): binary search. */
#include <stddef.h>
#include "kernel/ksyms.h"

extern char ImageBase[], __text_start[], __text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    uint64_t base = (uint64_t)(uintptr_t)ImageBase;
    if (addr < (uint64_t)(uintptr_t)__text_start || addr >= (uint64_t)(uintptr_t)__text_end)
        return NULL;
    uint64_t rel = addr - base;
    uint32_t lo = 0, hi = ksym_count;
    if (!hi)
        return NULL;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ksym_table[mid].addr <= rel)
            lo = mid;
        else
            hi = mid;
    }
    if (ksym_table[lo].addr > rel)
        return NULL;
    *offset = rel - ksym_table[lo].addr;
    return ksym_names + ksym_table[lo].name;
}
