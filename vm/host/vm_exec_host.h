/* vm/host/vm_exec_host.h: the host's executable-memory hook for the JIT (Linux mmap).
 * vm_host_jit() compiles p into fresh RW pages, flips them to RX (never W+X) and attaches
 * them; vm_host_jit_release() unmaps.  Kernel builds supply their own equivalent. */
#ifndef VM_HOST_VM_EXEC_HOST_H
#define VM_HOST_VM_EXEC_HOST_H
#include <stddef.h>
#include "vm/vm.h"

typedef struct vm_host_code {
    void *map;
    size_t map_len;
    size_t code_len;
    uint64_t compile_ns;
    vm_jit_info info;
} vm_host_code;

vm_err vm_host_jit(vm_program *p, vm_host_code *code, vm_fault *fault);
void vm_host_jit_release(vm_host_code *code);

#endif
