/* vm/host/preempt_host.c: see preempt_host.h.  Signals and a per-thread POSIX timer turn
 * into vm_tick / vm_preempt calls carrying the interrupted instruction pointer. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "vm/host/preempt_host.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid /* older glibc headers lack the name */
#endif

/* The run in progress, read by the handlers.  Written only with SIGALRM and SIGINT
 * blocked or while the handlers cannot see it (st == NULL). */
static struct {
    vm_state *volatile st;
    volatile pid_t tid;             /* the thread running the program */
    timer_t timer;
    volatile sig_atomic_t ticking;  /* the timer is armed */
    volatile sig_atomic_t interrupted; /* SIGINT seen during this vm_host_run: sticky, as
                                        * the kernel's cons_interrupt, so every tick
                                        * re-delivers it (even one vm_run's reset lost) */
} hp;

static void arm(void)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_interval.tv_nsec = (long)VM_HOST_TICK_NS;
    its.it_value.tv_nsec = (long)VM_HOST_TICK_NS;
    timer_settime(hp.timer, 0, &its, NULL); /* async-signal-safe (POSIX) */
    hp.ticking = 1;
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    int saved_errno = errno;
    vm_state *st = hp.st;
    if (st) {
        ucontext_t *uc = ucv;
        /* The context is the running program's only if the signal landed on its thread
         * (SIGINT is process-directed); otherwise only the flag can be set. */
        int own = gettid() == hp.tid;
        uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        if (sig == SIGINT) {
            hp.interrupted = 1;
            vm_preempt(st, VM_E_INTERRUPTED, own ? &rip : NULL);
            if (!hp.ticking)
                arm(); /* re-deliver until the stop lands */
        } else {
            if (hp.interrupted)
                vm_preempt(st, VM_E_INTERRUPTED, own ? &rip : NULL);
            vm_tick(st, own ? &rip : NULL);
        }
        if (own)
            uc->uc_mcontext.gregs[REG_RIP] = (greg_t)rip;
    }
    errno = saved_errno;
}

vm_err vm_host_run(vm_program *p, const vm_run_opts *opts, vm_result *res)
{
    vm_run_opts o = *opts;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID; /* the running thread, not any thread */
    sev.sigev_signo = SIGALRM;
    sev.sigev_notify_thread_id = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, &hp.timer) != 0) {
        o.async_ticks = false;
        return vm_run(p, &o, res);
    }
    o.async_ticks = true;

    sigset_t both, saved_mask;
    sigemptyset(&both);
    sigaddset(&both, SIGALRM);
    sigaddset(&both, SIGINT);
    struct sigaction sa, old_alrm, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART; /* helpers' file I/O is not cut short */
    sa.sa_mask = both;                     /* the two handlers never nest */
    pthread_sigmask(SIG_BLOCK, &both, &saved_mask);
    hp.tid = gettid();
    hp.ticking = 0;
    hp.interrupted = 0;
    hp.st = vm_program_state(p);
    sigaction(SIGALRM, &sa, &old_alrm);
    sigaction(SIGINT, &sa, &old_int);
    uint64_t limit = o.time_limit_ns ? o.time_limit_ns : VM_DEFAULT_TIME_LIMIT_NS;
    if (limit != UINT64_MAX)
        arm();
    /* The caller's mask, except that the ticks must get through (a blocked SIGALRM would
     * leave a JIT run without its time limit). */
    sigset_t run_mask = saved_mask;
    sigdelset(&run_mask, SIGALRM);
    pthread_sigmask(SIG_SETMASK, &run_mask, NULL);

    vm_err e = vm_run(p, &o, res);

    /* Teardown with both signals blocked: no handler runs half-way through it, and a
     * SIGALRM the timer generated meanwhile is consumed, never delivered to the old
     * disposition (the default one terminates the process). */
    pthread_sigmask(SIG_BLOCK, &both, NULL);
    timer_delete(hp.timer);
    hp.ticking = 0;
    hp.st = NULL;
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&alrm, NULL, &zero) > 0)
        ;
    sigaction(SIGALRM, &old_alrm, NULL);
    sigaction(SIGINT, &old_int, NULL);
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    return e;
}
