/* tests/vm/test_preempt.c: asynchronous stops on the host (vm/host/preempt_host.c and
 * vm.h "Time and Ctrl-C"): runaway programs of every kind - a bare loop, a loop of deep
 * BPF-to-BPF recursion, a loop whose accesses all take vm_mem_slow, a loop calling a
 * helper - each stopped by the time limit (the tick timer) and by SIGINT (sent to the
 * running thread, and sent to the process while the running thread blocks SIGINT, so
 * another thread takes it and the next tick must deliver the stop), on every engine.
 * Checked: the error, the same error on both engines, a prompt stop, the process's own
 * state afterwards (callee-saved locals, a legal deep recursion, repeated runs) and that
 * each run leaves no timer and the caller's signal dispositions behind. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lib/clock.h"
#include "tests/check.h"
#include "tests/vm/vmtest.h"
#include "vm/asm.h"
#include "vm/vm_internal.h"

static uint64_t words[256];

static size_t assemble(const char *text) { return vmt_assemble(text, words, 256); }

enum { HELPER_CALL_PC = 5 }; /* the `call 40` of the helper loop below */

static const struct runaway {
    const char *name, *text;
} runaways[] = {
    {"bare loop", "mov %r0, 0\nl:\nadd %r0, 1\nja l\n"},
    {"deep recursion loop", "l:\nmov %r1, 60\ncall local f\nja l\nf:\njeq %r1, 0, done\n"
                            "sub %r1, 1\nstxdw [%r10-8], %r1\ncall local f\nexit\ndone:\nexit\n"},
    {"slow-path memory loop", "l:\nldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nja l\n"},
    {"helper loop", "l:\nmov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n"
                    "call 40\nja l\n"},
};

/* ---- the caller's own dispositions, which every run must leave in place ---- */

static volatile sig_atomic_t own_int, own_alrm;
static void own_int_handler(int sig) { (void)sig; own_int++; }
static void own_alrm_handler(int sig) { (void)sig; own_alrm++; }

static int dispositions_kept(void)
{
    struct sigaction a, b;
    sigaction(SIGINT, NULL, &a);
    sigaction(SIGALRM, NULL, &b);
    return a.sa_handler == own_int_handler && b.sa_handler == own_alrm_handler;
}

/* POSIX timers of this process (/proc/self/timers; -1 when the kernel does not say). */
static int count_timers(void)
{
    FILE *f = fopen("/proc/self/timers", "r");
    if (!f)
        return -1;
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += !strncmp(line, "ID:", 3);
    fclose(f);
    return n;
}

/* ---- SIGINT from another thread ---- */

typedef struct sender {
    pthread_t target;
    vm_state *st;
    int directed;           /* 1: pthread_kill(target), 0: kill(process) */
    volatile int done;
    int extra;              /* signals needed beyond the first (must stay 0) */
} sender;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void *send_sigint(void *arg)
{
    sender *s = arg;
    while (!s->st->running && !s->done) /* the run has started (vm_run) */
        sleep_ms(1);
    sleep_ms(30);
    s->directed ? pthread_kill(s->target, SIGINT) : kill(getpid(), SIGINT);
    /* Backstop so a broken stop fails the check instead of hanging the suite. */
    for (int i = 0; i < 300 && !s->done; i++)
        sleep_ms(10);
    while (!s->done) {
        s->extra++;
        s->directed ? pthread_kill(s->target, SIGINT) : kill(getpid(), SIGINT);
        sleep_ms(100);
    }
    return NULL;
}

/* ---- one runaway, one engine, one way of stopping ---- */

enum how { BY_TIME_LIMIT, BY_SIGINT_TO_THREAD, BY_SIGINT_TO_PROCESS };
static const char *const how_name[] = {"time limit", "SIGINT to the running thread",
                                       "SIGINT to the process, taken by another thread"};

static uint8_t mem[64];

/* Runs a program that must finish normally; returns its r0 (or ~0 on any error). */
static uint64_t run_ok(const char *text, vm_engine e)
{
    vmt_prog t;
    if (vmt_load_raw(&t, words, assemble(text), e) != VM_OK) {
        vmt_free(&t);
        return ~0ull;
    }
    vm_run_opts o = {0};
    o.engine = e;
    vm_result r;
    vm_host_run(t.p, &o, &r);
    vmt_free(&t);
    return r.err == VM_OK ? r.r0 : ~0ull;
}

static vm_err stop_one(const struct runaway *ra, vm_engine e, enum how how)
{
    const char *en = vmt_engine_name(e);
    vmt_prog t;
    if (!check(vmt_load_raw(&t, words, assemble(ra->text), e) == VM_OK, "preempt [%s] %s: load",
               en, ra->name)) {
        vmt_free(&t);
        return VM_E_ARG;
    }
    /* Locals the compiler keeps in callee-saved registers across the call. */
    volatile uint64_t canary = 0x5eed5eed12345678ull;
    uint64_t a = (uint64_t)(uintptr_t)&t ^ 0xabcdef, b = a * 3 + 1;

    vm_run_opts o = {0};
    o.engine = e;
    o.args[0] = (uint64_t)(uintptr_t)mem;
    o.extra[0] = (vm_region){(uint64_t)(uintptr_t)mem, sizeof mem, VM_READ | VM_WRITE};
    o.n_extra = 1;
    o.time_limit_ns = how == BY_TIME_LIMIT ? 150000000ull : UINT64_MAX;
    sender s = {pthread_self(), vm_program_state(t.p), how == BY_SIGINT_TO_THREAD, 0, 0};
    pthread_t th;
    sigset_t block, saved;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    if (how != BY_TIME_LIMIT) /* before blocking: a new thread inherits the mask */
        pthread_create(&th, NULL, send_sigint, &s);
    if (how == BY_SIGINT_TO_PROCESS) /* so the kernel hands it to the sender thread */
        pthread_sigmask(SIG_BLOCK, &block, &saved);
    vm_result r;
    uint64_t t0 = clock_mono_ns();
    vm_host_run(t.p, &o, &r);
    uint64_t dt = clock_mono_ns() - t0;
    s.done = 1;
    if (how != BY_TIME_LIMIT)
        pthread_join(th, NULL);
    if (how == BY_SIGINT_TO_PROCESS)
        pthread_sigmask(SIG_SETMASK, &saved, NULL);

    vm_err want = how == BY_TIME_LIMIT ? VM_E_TIMEOUT : VM_E_INTERRUPTED;
    char msg[200];
    vm_format_fault(&r.fault, msg, sizeof msg);
    int helper = strstr(ra->text, "call 40") != NULL;
    check(r.err == want && s.extra == 0 && dt < 2000000000ull,
          "preempt [%s] %s stopped by %s: %s after %llu ms", en, ra->name, how_name[how], msg,
          (unsigned long long)(dt / 1000000));
    check(r.fault.pc == -1 || (helper && r.fault.pc == HELPER_CALL_PC),
          "preempt [%s] %s (%s): no pc unless at the helper call (pc %lld)", en, ra->name,
          how_name[how], (long long)r.fault.pc);
    check(canary == 0x5eed5eed12345678ull && b == a * 3 + 1,
          "preempt [%s] %s (%s): caller's locals intact", en, ra->name, how_name[how]);
    check(dispositions_kept(), "preempt [%s] %s (%s): SIGINT/SIGALRM dispositions restored", en,
          ra->name, how_name[how]);
    vmt_free(&t);
    /* The native stack works afterwards: 64 nested calls, in this same process. */
    uint64_t r0 = run_ok("mov %r1, 63\ncall local f\nexit\nf:\njeq %r1, 0, done\nsub %r1, 1\n"
                         "stxdw [%r10-8], %r1\ncall local f\nadd %r0, 1\nexit\ndone:\n"
                         "mov %r0, 0\nexit\n", e);
    check(r0 == 63, "preempt [%s] %s (%s): a later program runs normally (r0=%llu)", en,
          ra->name, how_name[how], (unsigned long long)r0);
    return r.err;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = own_int_handler;
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = own_alrm_handler;
    sigaction(SIGALRM, &sa, NULL);
    int timers0 = count_timers();

    vm_engine engines[2];
    int ne = vmt_engines(engines);
    for (size_t i = 0; i < sizeof runaways / sizeof runaways[0]; i++)
        for (int h = BY_TIME_LIMIT; h <= BY_SIGINT_TO_PROCESS; h++) {
            vm_err got[2] = {VM_OK, VM_OK};
            for (int k = 0; k < ne; k++)
                got[k] = stop_one(&runaways[i], engines[k], (enum how)h);
            if (ne > 1)
                check(got[0] == got[1], "preempt: %s by %s: same error on both engines",
                      runaways[i].name, how_name[h]);
        }

    int timers1 = count_timers();
    check(timers0 == timers1, "preempt: no timer left behind (%d before, %d after)", timers0,
          timers1);
    check(own_int == 0 && own_alrm == 0, "preempt: no signal reached the caller's handlers "
          "during runs");
    raise(SIGINT);
    check(own_int == 1, "preempt: the caller's SIGINT handler works again after the runs");
    /* A caller that blocks SIGALRM still gets its time limit, and its mask back. */
    {
        vm_engine e = engines[ne - 1];
        vmt_prog t;
        vmt_load_raw(&t, words, assemble(runaways[0].text), e);
        sigset_t alrm, cur;
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        pthread_sigmask(SIG_BLOCK, &alrm, NULL);
        vm_run_opts o = {0};
        o.engine = e;
        o.time_limit_ns = 100000000ull;
        vm_result r;
        vm_host_run(t.p, &o, &r);
        pthread_sigmask(SIG_UNBLOCK, &alrm, &cur);
        check(r.err == VM_E_TIMEOUT && sigismember(&cur, SIGALRM) == 1,
              "preempt [%s] time limit holds while the caller blocks SIGALRM; mask restored",
              vmt_engine_name(e));
        vmt_free(&t);
    }
    /* A JIT run with a time limit but no ticks is refused, never left unbounded. */
    if (vm_jit_available()) {
        vmt_prog t;
        vmt_load_raw(&t, words, assemble(runaways[0].text), VM_ENGINE_JIT);
        vm_run_opts o = {0};
        o.engine = VM_ENGINE_JIT;
        vm_result r;
        vm_run(t.p, &o, &r);
        check(r.err == VM_E_ARG, "preempt: JIT with a time limit and no async ticks refused");
        o.engine = VM_ENGINE_AUTO;
        o.time_limit_ns = 100000000ull;
        vm_run(t.p, &o, &r);
        check(r.err == VM_E_TIMEOUT && r.engine == VM_ENGINE_INTERP,
              "preempt: ... and under AUTO it runs on the interpreter, which keeps the limit");
        vmt_free(&t);
    }
    return check_exit_status();
}
