/* vm/host/vm_exec_host.c: see vm_exec_host.h.  The only place on the host where memory
 * becomes executable: mmap RW, vm_jit_compile into it, mprotect to RX. */
#include <sys/mman.h>
#include <string.h>
#include "lib/clock.h"
#include "vm/host/vm_exec_host.h"

vm_err vm_host_jit(vm_program *p, vm_host_code *c, vm_fault *f)
{
    memset(c, 0, sizeof *c);
    if (!vm_jit_available())
        return vm_jit_compile(p, NULL, 0, NULL, f, NULL); /* the stub's VM_E_NO_JIT */
    size_t bound = vm_jit_size_bound(p);
    size_t len = (bound + 4095) & ~(size_t)4095;
    if (len == 0)
        len = 4096;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return VM_E_JIT_SPACE;
    uint64_t t0 = clock_mono_ns();
    vm_err e = vm_jit_compile(p, m, len, &c->code_len, f, &c->info);
    c->compile_ns = clock_mono_ns() - t0;
    if (e != VM_OK || mprotect(m, len, PROT_READ | PROT_EXEC) != 0) {
        munmap(m, len);
        return e != VM_OK ? e : VM_E_JIT;
    }
    c->map = m;
    c->map_len = len;
    vm_jit_attach(p, m, c->code_len);
    return VM_OK;
}

void vm_host_jit_release(vm_host_code *c)
{
    if (c->map)
        munmap(c->map, c->map_len);
    c->map = NULL;
}
