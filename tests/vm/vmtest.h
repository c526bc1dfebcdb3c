/* tests/vm/vmtest.h: shared scaffolding for the VM tests - the list of engines to run
 * (the interpreter always; the JIT when vm/jit_x86_64.c is linked in and registers itself
 * via vm_jit_available()), loading a raw program into a heap arena, and one-call runs.
 * Tests run programs with vm_host_run (vm/host/preempt_host.h), which delivers the ticks a
 * JIT run with a time limit needs.
 * Tests are parametric over vmt_engines so the JIT joins automatically. */
#ifndef TESTS_VM_VMTEST_H
#define TESTS_VM_VMTEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vm/host/preempt_host.h"
#include "vm/host/vm_exec_host.h"
#include "vm/asm.h"
#include "vm/vm.h"

#define VMT_SUM5_ID 40

/* A helper using all five arguments: a weighted sum, so any swapped argument shows. */
static uint64_t vmt_sum5(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                         vm_state *st)
{
    (void)st;
    return a + 2 * b + 3 * c + 4 * d + 5 * e + (a ^ e) * 1000003;
}

#define VMT_STOP_ID 41

/* Requests a stop as a Ctrl-C would, synchronously: both engines must stop right after
 * this call, naming its pc (vm.h "Time and Ctrl-C"). */
static uint64_t vmt_stop(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                         vm_state *st)
{
    (void)a; (void)b; (void)c; (void)d; (void)e;
    vm_request_stop(st);
    return 7;
}

/* Standard helpers plus the test ones. */
static vm_helper vmt_helpers[64];
static size_t vmt_n_helpers;

/* Assembles TEXT (vm/asm.h) into OUT (CAP words); 0 words, with a '#' line, on an error. */
static inline size_t vmt_assemble(const char *text, uint64_t *out, size_t cap)
{
    size_t n = 0;
    char err[200];
    if (vm_asm(text, out, cap, &n, err, sizeof err)) {
        printf("# assembler: %s\n", err);
        return 0;
    }
    return n;
}

static inline void vmt_init(void)
{
    if (vmt_n_helpers)
        return;
    for (size_t i = 0; i < vm_std_helper_count; i++)
        vmt_helpers[vmt_n_helpers++] = vm_std_helpers[i];
    vmt_helpers[vmt_n_helpers++] = (vm_helper){VMT_SUM5_ID, "test_sum5", vmt_sum5};
    vmt_helpers[vmt_n_helpers++] = (vm_helper){VMT_STOP_ID, "test_stop", vmt_stop};
}

static inline int vmt_engines(vm_engine out[2])
{
    int n = 0;
    out[n++] = VM_ENGINE_INTERP;
    if (vm_jit_available())
        out[n++] = VM_ENGINE_JIT;
    return n;
}

static inline const char *vmt_engine_name(vm_engine e)
{
    return e == VM_ENGINE_JIT ? "jit" : "interp";
}

/* A loaded program with its arena and (for the JIT) code mapping. */
typedef struct vmt_prog {
    void *arena;
    vm_program *p;
    vm_host_code code;
    vm_fault fault;
} vmt_prog;

static inline void vmt_free(vmt_prog *t)
{
    vm_host_jit_release(&t->code);
    free(t->arena);
    t->arena = NULL;
    t->p = NULL;
}

/* Loads raw words and prepares engine e.  Returns VM_OK or the load/JIT error. */
static inline vm_err vmt_load_raw(vmt_prog *t, const uint64_t *insns, size_t n, vm_engine e)
{
    vmt_init();
    memset(t, 0, sizeof *t);
    vm_load_opts lo = {vmt_helpers, vmt_n_helpers, 64 * 1024, false};
    size_t sz = vm_arena_size_raw(n ? n : 1, &lo);
    t->arena = calloc(1, sz);
    t->p = vm_load_raw(insns, n, &lo, t->arena, sz, &t->fault);
    if (!t->p)
        return t->fault.err;
    if (e == VM_ENGINE_JIT) {
        vm_err r = vm_host_jit(t->p, &t->code, &t->fault);
        if (r)
            return r;
    }
    return VM_OK;
}

static inline vm_err vmt_load_nda(vmt_prog *t, const void *img, size_t len, vm_engine e)
{
    vmt_init();
    memset(t, 0, sizeof *t);
    vm_load_opts lo = {vmt_helpers, vmt_n_helpers, 0, false};
    size_t sz = vm_arena_size_nda(img, len, &lo);
    t->arena = calloc(1, sz ? sz : 64);
    t->p = vm_load_nda(img, len, &lo, t->arena, sz, &t->fault);
    if (!t->p)
        return t->fault.err;
    if (e == VM_ENGINE_JIT) {
        vm_err r = vm_host_jit(t->p, &t->code, &t->fault);
        if (r)
            return r;
    }
    return VM_OK;
}

#endif
