/* kernel/kcache.h: the kernel's one content-addressed cache (lib/cas) - the "hot context"
 * that JIT code (CAS_KIND_JIT, keyed by the .nda file's SHA-256) and file blocks
 * (CAS_KIND_BLOCK, keyed by the block's SHA-256) share under one memory budget.
 *
 * Interface: kcache() returns the cache, created on first use from physical pages
 * (KCACHE_CAPACITY bytes; the budget starts at KCACHE_DEFAULT_BUDGET and `cache budget N`
 * changes it).  Use lib/cas.h on it.  JIT code: kcache_code_exec()/kcache_code_writable()
 * flip an entry's pages between read+execute and read+write (never both); the eviction
 * hook makes evicted code pages writable again before the cache reuses them.
 * The `cache` shell command lists entries and statistics. */
#ifndef KERNEL_KCACHE_H
#define KERNEL_KCACHE_H
#include <stddef.h>
#include "lib/cas.h"

#define KCACHE_UNIT 4096u                  /* one page: each value starts on its own page */
#define KCACHE_CAPACITY (4u << 20)         /* memory reserved at first use */
#define KCACHE_DEFAULT_BUDGET (1u << 20)

/* The cache, or NULL if its memory could not be allocated. */
struct cas *kcache(void);
/* Map [code, code+len) read+execute / read+write (page-rounded).  0 or -1. */
int kcache_code_exec(void *code, size_t len);
int kcache_code_writable(void *code, size_t len);

#endif
