/* vm/host/preempt_host.h: the host (Linux x86-64) side of the VM's asynchronous stops
 * (vm.h design notes, "Time and Ctrl-C") - what `nda run` and the host tests use to run JIT
 * code with a time limit and Ctrl-C.
 *
 * Interface: vm_host_run(p, opts, res) is vm_run() with, for the duration of the run only:
 *   - a CLOCK_MONOTONIC POSIX timer sending SIGALRM to the calling thread every
 *     VM_HOST_TICK_NS while the run has a finite time limit; its handler calls
 *     vm_tick(st, &rip) with the interrupted rip from the signal's ucontext;
 *   - a SIGINT handler calling vm_preempt(st, VM_E_INTERRUPTED, &rip) (rip only when the
 *     signal landed on the running thread) that also starts the timer, so a stop that could
 *     not be delivered at once (rip in a helper, or the signal went to another thread) is
 *     re-delivered by the next tick;
 *   - opts->async_ticks = true.
 * Afterwards the timer is deleted, a SIGALRM it left pending is consumed, and the previous
 * SIGALRM/SIGINT dispositions are restored.  Both handlers are async-signal-safe (they
 * call only vm_tick/vm_preempt, timer_settime and gettid).
 * Invariant: one vm_host_run at a time per process (the handlers' target is one global).
 * If the timer cannot be created the run goes ahead without ticks (vm_run then refuses a
 * JIT run with a time limit, or runs the interpreter under VM_ENGINE_AUTO).
 */
#ifndef VM_HOST_PREEMPT_HOST_H
#define VM_HOST_PREEMPT_HOST_H
#include "vm/vm.h"

#define VM_HOST_TICK_NS 10000000ull /* 100 Hz, as the kernel's timer */
_Static_assert(VM_HOST_TICK_NS <= VM_TICK_MAX_NS, "host ticks too far apart for vm.h");

vm_err vm_host_run(vm_program *p, const vm_run_opts *opts, vm_result *res);

#endif
