/* vm/vm.h: the NDA virtual machine, public interface.  An eBPF-ISA (RFC 9669) VM with a
 * loader/verifier, an interpreter and an optional JIT, running each program in a sandbox.
 *
 * Interface (all memory is the caller's; the VM never allocates):
 *   1. vm_arena_size(image, len, ...)     how many bytes the program needs
 *   2. vm_load_nda(...) / vm_load_raw(...) copy, relocate and verify into the caller's arena;
 *                                          returns the program handle (it lives in the arena)
 *   3. optional: vm_jit_compile() into a caller buffer, map it RX, vm_jit_attach()
 *   4. vm_run(prog, &opts, &result)        interpreter or JIT, same result and same errors
 * Errors: vm_err codes (vm_strerror) plus a vm_fault with the instruction index, the address
 * and the disassembled instruction, formatted by vm_format_fault().
 *
 * ========================= DESIGN NOTES: the contract every engine honours ==================
 * Engines are the interpreter (vm/interp.c) and the x86-64 JIT (vm/jit_x86_64.c).  Both run
 * the same verified program (struct vm_program in vm/vm_internal.h) and must be
 * indistinguishable to the program and to the embedder: same r0, same memory, same vm_err,
 * same vm_fault (pc, addr, size, access) for every violation.
 *
 * Addresses.  Program pointers are real host addresses (r10, lddw relocations, the r1 buffer).
 *   All program memory (rodata | data | bss | heap | stack) lies contiguously in the arena:
 *     [mem_lo, rw_lo) rodata (read-only)   [rw_lo, mem_hi) data, bss, heap, stack (RW)
 *   Rule for an access of SIZE bytes at ADDR (addr = reg + off, 64-bit wrap-around):
 *     load  ok iff mem_lo <= addr && addr + size <= mem_hi   (fast path)
 *     store ok iff rw_lo  <= addr && addr + size <= mem_hi   (fast path; atomics are stores)
 *     otherwise call vm_mem_slow(st, addr, size, access, pc): it checks the extra regions
 *     (helper-granted / embedder buffers, e.g. the conformance `mem`) and returns 1 if the
 *     access is allowed, else records the fault (VM_E_MEM) in st and returns 0: the engine
 *     must then stop at once, without performing the access.  Bounds are read from the
 *     vm_state at run time (never baked into code) so JIT code can be cached by SHA-256 and
 *     reused with a fresh arena.  Relocated lddw: see vm_program.reloc_seg/addend.  (The JIT
 *     may bake layout distances fixed by the file's sizes, e.g. rw_lo - mem_lo, provided
 *     its prologue checks them against the state; slow paths are reached through
 *     st->jit_rt, so compiled code contains no host address at all.)
 * Calls.  Helper call (src=0, imm=id): r0 = fn(r1, r2, r3, r4, r5, st) by the host's normal
 *   (SysV x86-64) ABI, fn = prog->helper[id] (the verifier guarantees non-NULL).  r1-r5 are
 *   undefined after the call (the interpreter keeps them, a JIT may not; differential tests
 *   never read them before writing).  After every helper call the engine checks st->halt != 0 and, if set, stores r0 (the
 *   helper's return value) in st->reg[0], calls vm_halted(st, pc) and stops; st->err is
 *   already recorded (VM_OK for the exit and unwind helpers, an error for helper faults).
 *   Then, if st->stop != 0, it stores r0 likewise, calls vm_stopped(st, pc) and stops.
 *   callx (0x8d, `call %rN`, N in dst): the register value is a helper id; an id without a
 *   helper stops with VM_E_BAD_HELPER via vm_callx_fail().
 *   Local call (src=1): target = pc + imm + 1.  Before the call: if st->depth + 1 >
 *   VM_MAX_CALL_DEPTH -> vm_fault_depth(st, pc) and stop (VM_E_CALL_DEPTH).  Otherwise r6-r9
 *   and r10 are saved, r10 -= VM_FRAME_SIZE, depth++; `exit` in a callee restores them.
 *   The stack region holds VM_MAX_CALL_DEPTH+1 frames, so r10 never leaves it.  (The JIT
 *   saves frames on the native stack, out of the program's reach, and derives the depth
 *   from r10 = stack_top - depth * VM_FRAME_SIZE; st->depth is the interpreter's.)
 * Time and Ctrl-C.  Stops are requested asynchronously and never polled for in JIT code.
 *   st->stop (volatile) is 0 or the reason, VM_E_TIMEOUT or VM_E_INTERRUPTED; vm_preempt()
 *   sets it (first reason wins).  Who does what:
 *   - Embedder: while vm_run runs a program with JIT code it delivers vm_tick(st, &rip) at
 *     least every VM_TICK_MAX_NS, on the running thread/CPU (host: a SIGALRM timer,
 *     vm/host/preempt_host.c; kernel: the timer interrupt, shell/cmds_run.c), with rip =
 *     the interrupted context's instruction pointer, and forwards Ctrl-C as
 *     vm_preempt(st, VM_E_INTERRUPTED, &rip).  It says so with vm_run_opts.async_ticks.
 *     vm_tick compares the clock with the run's deadline and re-delivers a pending stop.
 *   - vm_preempt: sets st->stop; if rip lies in the JIT code's body (vm_jit_attach records
 *     the range; the body is everything after the prologue has set r12 = st and saved the
 *     native rsp, up to the end of the code, with the epilogue placed before it) it rewrites
 *     rip to the code's stop stub.  Nothing else runs in signal/interrupt context.  When the
 *     thread resumes at the stub (normal context), the stub restores the saved rsp (which
 *     drops any BPF-to-BPF frames and half-built calls), calls vm_stopped() through
 *     st->jit_rt and leaves through the error epilogue.  Elsewhere (a helper or C slow path,
 *     the prologue/epilogue) only the flag is set; the next tick redirects again.
 *   - JIT code checks st->stop once on entry and after every helper call (with st->halt).
 *   - The interpreter polls as before - at every taken backward jump and local call
 *     `if (st->stop | --st->ticks == 0) vm_poll()`, reading the clock every VM_TICKS polls -
 *     so it keeps its time limit without ticks; it checks st->stop after every helper call.
 *   Errors: the same vm_err in both engines.  A stop seen right after a helper call names
 *   that call's pc in both engines (so a stop a helper requests synchronously stops both at
 *   the same instruction).  Any other stop is asynchronous - where it lands depends on
 *   timing - and names no pc in either engine (fault.pc = -1): "time limit exceeded" /
 *   "interrupted".
 *   Fallback: a JIT run with a finite time limit and async_ticks unset is refused
 *   (VM_E_ARG) when the JIT was asked for, and runs on the interpreter under
 *   VM_ENGINE_AUTO.  With no time limit and no ticks a JIT program stops only at helper
 *   calls.  JIT code is the same whatever the embedder (no compile mode), so code cached by
 *   SHA-256 never depends on it.
 * Division.  x/0 = 0, x%0 = x (32-bit forms on the low halves), INT_MIN/-1 = INT_MIN,
 *   INT_MIN%-1 = 0, never a fault.  Shift counts are masked (& 63 or & 31).
 * Results.  The engine ends with st->reg[0] = r0 and returns; the error is in st->err
 *   (VM_OK on a normal outermost exit).  A JIT returns through its own epilogue even on error
 *   (restoring its native stack), never longjmps.
 * Executable memory.  vm_jit_compile() writes machine code into a caller buffer that is
 *   plain RW data.  The embedder then makes those pages read+execute (never W and X at once)
 *   and passes the executable address to vm_jit_attach().  Host: mmap RW -> mprotect RX
 *   (vm/host/vm_exec_host.c); kernel: its page-table call.  Code is position independent
 *   w.r.t. the arena, so one compiled image may serve any later load of the same file.
 * ============================================================================================
 */
#ifndef VM_VM_H
#define VM_VM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed limits (one place). */
#define VM_MAX_CALL_DEPTH 64         /* nested BPF-to-BPF calls below the entry frame */
#define VM_FRAME_SIZE 512            /* bytes of stack per frame, as clang assumes */
#define VM_STACK_SIZE ((VM_MAX_CALL_DEPTH + 1) * VM_FRAME_SIZE)
#define VM_MAX_HELPERS 64            /* helper ids are 0..VM_MAX_HELPERS-1 */
#define VM_MAX_INSNS (1u << 20)      /* instructions per program */
#define VM_MAX_EXTRA_REGIONS 4       /* embedder buffers besides the arena */
#define VM_DEFAULT_TIME_LIMIT_NS 10000000000ull /* 10 s */
#define VM_DEFAULT_HEAP_SIZE (1u << 20)
#define VM_MAX_SEG_SIZE (256u << 20) /* any one of rodata/data/bss/heap */

typedef enum vm_err {
    VM_OK = 0,
    /* loader / verifier */
    VM_E_ARG,           /* bad argument from the embedder */
    VM_E_ARENA_SMALL,   /* arena smaller than vm_arena_size() */
    VM_E_FILE_TRUNC,    /* .nda file shorter than its header says */
    VM_E_FILE_MAGIC,    /* not an .nda file */
    VM_E_FILE_VERSION,  /* unsupported .nda version */
    VM_E_FILE_FLAGS,    /* unknown flag bits */
    VM_E_FILE_FIELD,    /* a header field out of range / inconsistent */
    VM_E_FILE_HASH,     /* SHA-256 mismatch */
    VM_E_RELOC,         /* bad relocation entry */
    VM_E_IMPORT,        /* import of a helper the host does not have, or a bad import */
    VM_E_EMPTY,         /* no instructions */
    VM_E_TOO_BIG,       /* more than VM_MAX_INSNS or segment too large */
    VM_E_OPCODE,        /* unknown or unsupported opcode */
    VM_E_REG,           /* register number > 10 */
    VM_E_WRITE_R10,     /* instruction writes the frame pointer */
    VM_E_JUMP_RANGE,    /* jump or call target outside the program */
    VM_E_JUMP_LDDW,     /* jump or call target in the middle of a lddw */
    VM_E_LDDW,          /* lddw truncated or malformed second slot */
    VM_E_FALLTHROUGH,   /* execution can run off the end */
    VM_E_UNKNOWN_HELPER,/* call to a helper id with no helper */
    VM_E_FIELD,         /* reserved field (offset/imm/src) not zero, bad byte-swap width */
    VM_E_ENTRY,         /* entry point out of range */
    /* run time */
    VM_E_MEM,           /* memory access outside the sandbox */
    VM_E_CALL_DEPTH,    /* too many nested calls */
    VM_E_TIMEOUT,       /* time limit reached */
    VM_E_INTERRUPTED,   /* stopped by vm_preempt / vm_request_stop (Ctrl-C) */
    VM_E_BAD_HELPER,    /* callx to an id with no helper */
    VM_E_HELPER,        /* a helper rejected its arguments (e.g. a bad buffer) */
    VM_E_NO_JIT,        /* JIT not built in / not attached */
    VM_E_JIT_SPACE,     /* JIT buffer too small */
    VM_E_JIT,           /* JIT failed to translate (internal) */
    VM_E_COUNT
} vm_err;

const char *vm_strerror(vm_err e);

typedef enum vm_access { VM_READ = 1, VM_WRITE = 2 } vm_access;

/* Where and why a load or run failed.  pc = instruction index (or -1 when not applicable). */
typedef struct vm_fault {
    vm_err err;
    int64_t pc;
    uint64_t addr;      /* VM_E_MEM: first byte of the access */
    uint32_t size;      /* VM_E_MEM: bytes accessed */
    uint32_t access;    /* VM_E_MEM: VM_READ or VM_WRITE */
    uint64_t insn;      /* raw instruction word at pc (when pc >= 0) */
    char detail[96];    /* free text from the loader / helper, e.g. the missing helper name */
} vm_fault;

/* Writes "error text at pc N (disassembly): detail" into buf; returns buf. */
char *vm_format_fault(const vm_fault *f, char *buf, size_t len);

typedef struct vm_program vm_program; /* verified program, lives in the caller's arena */
typedef struct vm_state vm_state;     /* per-run state, inside vm_program */

/* A helper: r0 = fn(r1..r5, st).  Pointers from the program must be checked with
 * vm_check_range() before use. */
typedef uint64_t (*vm_helper_fn)(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                 uint64_t a5, vm_state *st);
typedef struct vm_helper {
    uint32_t id;        /* id used by `call imm` */
    const char *name;   /* name used by .nda import tables */
    vm_helper_fn fn;
} vm_helper;

/* Services the embedding provides to the standard helpers (vm/helpers.c).  Any callback may
 * be NULL: the helper then fails cleanly (returns a negative value). */
typedef struct vm_env {
    void *ctx;
    void (*print)(void *ctx, const char *s, size_t n);
    /* Reads up to len bytes at offset off of the file at path; returns bytes read or <0. */
    int64_t (*read_file)(void *ctx, const char *path, uint64_t off, void *buf, uint64_t len);
    /* Writes (append=0: replaces) the file; returns bytes written or <0. */
    int64_t (*write_file)(void *ctx, const char *path, const void *buf, uint64_t len, int append);
    /* Writes the names in directory path as "name\n" lines (dirs end in '/'); returns bytes
     * written, or <0. */
    int64_t (*list_dir)(void *ctx, const char *path, char *buf, uint64_t len);
    uint64_t (*now_ns)(void *ctx); /* NULL: clock_mono_ns() */
    int argc;                      /* program arguments (argv[0] = program name) */
    const char *const *argv;
} vm_env;

/* The standard helper table (ids in programs/nda.h) and the conformance test helpers. */
extern const vm_helper vm_std_helpers[];
extern const size_t vm_std_helper_count;

/* Helper services. */
/* NULL if [addr, addr + len) is not the program's; len 0 is always valid (non-NULL). */
void *vm_check_range(vm_state *st, uint64_t addr, uint64_t len, vm_access access);
/* Checks a NUL-terminated string of at most max bytes (incl. NUL); NULL if invalid. */
const char *vm_check_string(vm_state *st, uint64_t addr, uint64_t max);
void vm_halt_exit(vm_state *st, uint64_t value);             /* stop, result = value */
void vm_halt_error(vm_state *st, vm_err e, const char *why);  /* stop with an error */
const vm_env *vm_state_env(vm_state *st);
vm_program *vm_state_program(vm_state *st);
vm_state *vm_program_state(vm_program *p);
/* Asynchronous stops (design notes "Time and Ctrl-C").  All three are async-signal and
 * interrupt safe; call them on the thread/CPU that runs the program, with st =
 * vm_program_state(p).  rip: the interrupted context's instruction pointer (signal
 * ucontext / trap frame), rewritten when it is in p's JIT code body; NULL = flag only.
 * why: VM_E_TIMEOUT or VM_E_INTERRUPTED. */
void vm_preempt(vm_state *st, vm_err why, uintptr_t *rip);
/* The embedder's periodic tick: stops the run once its deadline has passed, and
 * re-delivers a pending stop; does nothing unless vm_run is running st. */
void vm_tick(vm_state *st, uintptr_t *rip);
#define VM_TICK_MAX_NS 20000000ull /* longest gap between ticks an embedder may leave */
/* vm_preempt(st, VM_E_INTERRUPTED, NULL): a Ctrl-C without a context (flag only). */
void vm_request_stop(vm_state *st);

/* ---- loading ---- */
typedef struct vm_load_opts {
    const vm_helper *helpers;  /* host helper table (NULL = vm_std_helpers) */
    size_t n_helpers;
    uint32_t heap_size;        /* heap window; 0 = the file's value or VM_DEFAULT_HEAP_SIZE */
    bool arena_zeroed;         /* the arena is all zero already (fresh pages, calloc): the
                                  loader then skips clearing it, so untouched bss and heap
                                  pages are never touched at all */
} vm_load_opts;

/* Bytes of arena needed for this .nda image (0 if the header is unusable). */
size_t vm_arena_size_nda(const void *image, size_t len, const vm_load_opts *opts);
/* Bytes of arena for a raw instruction array of n_insns (no data, heap_size heap). */
size_t vm_arena_size_raw(size_t n_insns, const vm_load_opts *opts);

/* Parses, checks (every field and the SHA-256), relocates and verifies.  On error returns
 * NULL and fills *fault. */
vm_program *vm_load_nda(const void *image, size_t len, const vm_load_opts *opts, void *arena,
                        size_t arena_size, vm_fault *fault);
/* Raw little-endian instruction words (the conformance suite); every helper in
 * opts->helpers is importable by id. */
vm_program *vm_load_raw(const uint64_t *insns, size_t n_insns, const vm_load_opts *opts,
                        void *arena, size_t arena_size, vm_fault *fault);

uint32_t vm_program_insn_count(const vm_program *p);
const uint8_t *vm_program_sha256(const vm_program *p); /* of the .nda file; zeros for raw */

/* ---- running ---- */
typedef enum vm_engine { VM_ENGINE_AUTO = 0, VM_ENGINE_INTERP, VM_ENGINE_JIT } vm_engine;

typedef struct vm_region {
    uint64_t base, len;
    uint32_t access; /* VM_READ | VM_WRITE */
} vm_region;

typedef struct vm_run_opts {
    vm_engine engine;            /* AUTO: JIT if attached, else interpreter */
    uint64_t time_limit_ns;      /* 0 = VM_DEFAULT_TIME_LIMIT_NS; ~0 = none */
    uint64_t args[5];            /* initial r1..r5 */
    vm_region extra[VM_MAX_EXTRA_REGIONS]; /* embedder buffers the program may touch */
    size_t n_extra;
    const vm_env *env;
    bool async_ticks;            /* the embedder delivers vm_tick() (design notes); required
                                  * for JIT code with a finite time limit */
} vm_run_opts;

typedef struct vm_result {
    vm_err err;          /* VM_OK: r0 is the exit value */
    uint64_t r0;
    vm_fault fault;      /* when err != VM_OK */
    uint64_t ns;         /* wall time of the run */
    vm_engine engine;    /* which engine ran */
} vm_result;

vm_err vm_run(vm_program *p, const vm_run_opts *opts, vm_result *res);

/* The program's memory (for tests): heap window start/size. */
uint64_t vm_program_heap(const vm_program *p, uint64_t *size);

/* ---- JIT (vm/jit_x86_64.c; weak stubs return VM_E_NO_JIT when it is not linked) ---- */
/* What the JIT made of a program (for tests, benchmarks and `nda`). */
typedef struct vm_jit_info {
    uint32_t regions;        /* versioned regions: runs of accesses covered by one check */
    uint32_t region_insns;   /* instructions inside them */
} vm_jit_info;
/* Translates into buf (plain RW memory).  *out_len = bytes of code; only those need to be
 * kept and mapped (the rest of buf is scratch during compilation, zeroed afterwards).  The
 * code contains no address of p's arena: it may run any later load of the same file.
 * info may be NULL. */
vm_err vm_jit_compile(const vm_program *p, uint8_t *buf, size_t cap, size_t *out_len,
                      vm_fault *fault, vm_jit_info *info);
/* Bytes of buf vm_jit_compile needs for p (code plus scratch); 0 if p is unusable. */
size_t vm_jit_size_bound(const vm_program *p);
/* exec = the same bytes (len = the code length vm_jit_compile gave, or more when what
 * follows is never executed), now mapped read+execute by the embedder.  len bounds the
 * range vm_preempt may redirect; len 0 disables redirection (stops at helper calls only). */
void vm_jit_attach(vm_program *p, const void *exec, size_t len);
bool vm_jit_available(void);

/* ---- text forms (vm/disasm.c, vm/asm.c) ---- */
/* Disassembles the instruction at pc (lddw uses two slots); returns the slot count. */
int vm_disasm_insn(const uint64_t *insns, size_t n, size_t pc, char *buf, size_t len);

#endif
