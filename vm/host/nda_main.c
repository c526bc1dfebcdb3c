/* vm/host/nda_main.c: the host tool `nda`.
 *
 *   nda build prog.c -o prog.nda [CFLAGS...]   clang -target bpf -O2, then ELF -> .nda
 *   nda link prog.o -o prog.nda                 ELF object -> .nda
 *   nda run prog.nda [ARGS] [--interp|--jit] [--time-limit S|none] [--stats]
 *   nda dis prog.nda | words.bin                disassembler
 *   nda as prog.s -o prog.bin                   assembler (raw little-endian words)
 *   nda info prog.nda                           header, segments, imports, hash
 * Exit status of `run` is the program's exit value (low 8 bits), 1xx for VM errors.
 * NDA_JIT_DUMP=FILE with `run`: the JIT's machine code is also written to FILE, to read with
 * objdump -D -b binary -mi386:x86-64 FILE (the body starts at VM_JIT_BODY_OFFSET).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "lib/sha256.h"
#include "vm/asm.h"
#include "vm/host/host_env.h"
#include "vm/host/nda_build.h"
#include "vm/host/preempt_host.h"
#include "vm/host/vm_exec_host.h"
#include "vm/nda_format.h"
#include "vm/vm_internal.h"

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "nda: cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (n < 0 || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "nda: cannot read %s\n", path);
        fclose(f);
        free(b);
        return NULL;
    }
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int write_file(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "nda: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: nda build prog.c -o prog.nda [clang flags]\n"
            "       nda link prog.o -o prog.nda\n"
            "       nda run prog.nda [ARGS] [--interp|--jit] [--time-limit SECONDS|none] [--stats]\n"
            "       nda dis prog.nda|prog.bin\n"
            "       nda as prog.s -o prog.bin\n"
            "       nda info prog.nda\n");
    return 2;
}

static int link_obj(const char *obj, const char *out)
{
    size_t n, on;
    uint8_t *e = read_file(obj, &n), *img;
    char err[512];
    if (!e)
        return 1;
    if (nda_from_elf(e, n, &img, &on, err, sizeof err)) {
        fprintf(stderr, "nda: %s: %s\n", obj, err);
        free(e);
        return 1;
    }
    free(e);
    int rc = write_file(out, img, on);
    free(img);
    return rc;
}

/* Compiler messages the BPF target gives, explained. */
static void explain(const char *log)
{
    if (strstr(log, "stack limit") || strstr(log, "stack size"))
        fprintf(stderr, "nda: a function needs more than 512 bytes of local variables; NDA "
                        "(like eBPF) gives each function a 512-byte frame. Move big arrays to "
                        "global (static) variables or allocate them with nda_alloc().\n");
    if (strstr(log, "too many arg") || strstr(log, "stack arguments"))
        fprintf(stderr, "nda: a function takes more than 5 arguments; NDA passes at most 5 in "
                        "registers. Pass a pointer to a struct instead.\n");
    if (strstr(log, "built-in function"))
        fprintf(stderr, "nda: clang wanted a C library function (memset/memcpy) that NDA "
                        "programs do not have; keep -fno-builtin and avoid large struct "
                        "copies/initialisers.\n");
    if (strstr(log, "unsupported signed division"))
        fprintf(stderr, "nda: signed division needs -mcpu=v4 (clang-19).\n");
}

static int build(int argc, char **argv)
{
    const char *src = NULL, *out = NULL;
    const char *extra[32];
    int nextra = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!src && argv[i][0] != '-')
            src = argv[i];
        else if (nextra < 32)
            extra[nextra++] = argv[i];
    }
    if (!src || !out)
        return usage();
    const char *cc = getenv("NDA_CLANG") ? getenv("NDA_CLANG") : "clang-19";
    char obj[] = "/tmp/nda-XXXXXX.o", logp[] = "/tmp/nda-XXXXXX.log";
    int fd = mkstemps(obj, 2), lfd = mkstemps(logp, 4);
    if (fd < 0 || lfd < 0)
        return 1;
    close(fd);
    const char *args[64];
    int k = 0;
    args[k++] = cc;
    args[k++] = "-target";
    args[k++] = "bpf";
    args[k++] = "-mcpu=v4";
    args[k++] = "-O2";
    args[k++] = "-fno-builtin";
    args[k++] = "-ffreestanding";
    args[k++] = "-D__NDA__";
    args[k++] = "-Iprograms";
    for (int i = 0; i < nextra; i++)
        args[k++] = extra[i];
    args[k++] = "-c";
    args[k++] = src;
    args[k++] = "-o";
    args[k++] = obj;
    args[k] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(lfd, 2);
        execvp(cc, (char *const *)args);
        fprintf(stderr, "cannot run %s\n", cc);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    close(lfd);
    size_t ln;
    uint8_t *log = read_file(logp, &ln);
    if (log && ln)
        fputs((char *)log, stderr);
    int rc;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (log)
            explain((char *)log);
        fprintf(stderr, "nda: compiling %s failed\n", src);
        rc = 1;
    } else {
        rc = link_obj(obj, out);
    }
    free(log);
    unlink(obj);
    unlink(logp);
    return rc;
}

static vm_program *load(const char *path, void **arena, vm_fault *f)
{
    size_t n;
    uint8_t *img = read_file(path, &n);
    if (!img)
        return NULL;
    size_t sz = vm_arena_size_nda(img, n, NULL);
    /* calloc'd memory is zero (and, for large sizes, untouched fresh pages): the loader
     * need not clear it, so bss and heap pages the program never uses cost nothing. */
    vm_load_opts opts = { .arena_zeroed = true };
    *arena = calloc(1, sz ? sz : 64);
    vm_program *p = vm_load_nda(img, n, &opts, *arena, sz, f);
    free(img);
    return p;
}

static int run(int argc, char **argv)
{
    vm_engine eng = VM_ENGINE_AUTO;
    uint64_t limit = 0;
    int stats = 0;
    const char *pargv[64];
    int pargc = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--interp"))
            eng = VM_ENGINE_INTERP;
        else if (!strcmp(argv[i], "--jit"))
            eng = VM_ENGINE_JIT;
        else if (!strcmp(argv[i], "--stats"))
            stats = 1;
        else if (!strcmp(argv[i], "--time-limit") && i + 1 < argc && !strcmp(argv[i + 1], "none"))
            limit = UINT64_MAX, i++;
        else if (!strcmp(argv[i], "--time-limit") && i + 1 < argc)
            limit = (uint64_t)(strtod(argv[++i], NULL) * 1e9);
        else if (pargc < 63)
            pargv[pargc++] = argv[i];
    }
    if (pargc == 0)
        return usage();
    pargv[pargc] = NULL;
    void *arena = NULL;
    vm_fault f;
    char msg[256];
    vm_program *p = load(pargv[0], &arena, &f);
    if (!p) {
        fprintf(stderr, "nda: %s: %s\n", pargv[0], vm_format_fault(&f, msg, sizeof msg));
        free(arena);
        return 100;
    }
    vm_host_code code = {0};
    if (eng == VM_ENGINE_JIT || (eng == VM_ENGINE_AUTO && vm_jit_available())) {
        vm_err e = vm_host_jit(p, &code, &f);
        if (e) {
            fprintf(stderr, "nda: JIT: %s\n", vm_format_fault(&f, msg, sizeof msg));
            free(arena);
            return 100;
        }
        const char *dump = getenv("NDA_JIT_DUMP");
        if (dump && code.map && write_file(dump, code.map, code.code_len)) {
            vm_host_jit_release(&code);
            free(arena);
            return 100;
        }
    }
    vm_env env;
    host_env_init(&env, pargc, pargv);
    vm_run_opts o = {0};
    o.engine = eng;
    o.time_limit_ns = limit;
    o.env = &env;
    vm_result r;
    vm_host_run(p, &o, &r); /* time limit and Ctrl-C: timer and SIGINT during the run */
    fflush(stdout);
    if (stats)
        fprintf(stderr, "nda: %s, %.3f ms%s\n", r.engine == VM_ENGINE_JIT ? "jit" : "interp",
                (double)r.ns / 1e6, "");
    vm_host_jit_release(&code);
    free(arena);
    if (r.err) {
        fprintf(stderr, "nda: %s: %s\n", pargv[0], vm_format_fault(&r.fault, msg, sizeof msg));
        return 100 + (int)r.err % 100;
    }
    return (int)(r.r0 & 0xff);
}

static int dis(const char *path)
{
    size_t n;
    uint8_t *b = read_file(path, &n);
    if (!b)
        return 1;
    const uint8_t *code = b;
    size_t count = n / 8;
    if (n >= 4 && !memcmp(b, NDA_MAGIC, 4)) {
        if (n < NDA_HDR_SIZE) {
            fprintf(stderr, "nda: %s: truncated\n", path);
            free(b);
            return 1;
        }
        count = nda_ld32(b + NDA_OFF_CODE_COUNT);
        code = b + NDA_HDR_SIZE;
        if ((n - NDA_HDR_SIZE) / 8 < count) {
            fprintf(stderr, "nda: %s: truncated\n", path);
            free(b);
            return 1;
        }
    }
    uint64_t *w = malloc((count + 1) * 8);
    for (size_t i = 0; i < count; i++)
        w[i] = nda_ld64(code + 8 * i);
    for (size_t pc = 0; pc < count;) {
        char line[96];
        int k = vm_disasm_insn(w, count, pc, line, sizeof line);
        printf("%5zu: %s\n", pc, line);
        pc += (size_t)k;
    }
    free(w);
    free(b);
    return 0;
}

static int assemble(int argc, char **argv)
{
    const char *src = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else
            src = argv[i];
    }
    if (!src || !out)
        return usage();
    size_t n;
    uint8_t *t = read_file(src, &n);
    if (!t)
        return 1;
    static uint64_t w[VM_MAX_INSNS];
    size_t count;
    char err[256];
    if (vm_asm((char *)t, w, VM_MAX_INSNS, &count, err, sizeof err)) {
        fprintf(stderr, "nda: %s: %s\n", src, err);
        free(t);
        return 1;
    }
    free(t);
    uint8_t *b = malloc(count * 8 + 1);
    for (size_t i = 0; i < count; i++)
        nda_st64(b + 8 * i, w[i]);
    int rc = write_file(out, b, count * 8);
    free(b);
    return rc;
}

static int info(const char *path)
{
    size_t n;
    uint8_t *b = read_file(path, &n);
    if (!b)
        return 1;
    void *arena = NULL;
    vm_fault f;
    char msg[256];
    size_t sz = vm_arena_size_nda(b, n, NULL);
    arena = calloc(1, sz ? sz : 64);
    vm_program *p = vm_load_nda(b, n, NULL, arena, sz, &f);
    if (!p) {
        fprintf(stderr, "nda: %s: %s\n", path, vm_format_fault(&f, msg, sizeof msg));
        free(arena);
        free(b);
        return 1;
    }
    char hex[65];
    sha256_hex(b + NDA_OFF_SHA256, hex);
    printf("file        %s (%zu bytes), version %u, flags 0x%x\n", path, n,
           (unsigned)nda_ld16(b + NDA_OFF_VERSION), (unsigned)nda_ld16(b + NDA_OFF_FLAGS));
    printf("sha256      %s\n", hex);
    printf("code        %u instructions, entry %u\n", (unsigned)nda_ld32(b + NDA_OFF_CODE_COUNT),
           (unsigned)nda_ld32(b + NDA_OFF_ENTRY));
    printf("rodata      %u bytes\ndata        %u bytes\nbss         %u bytes\n",
           (unsigned)nda_ld32(b + NDA_OFF_RODATA_SIZE), (unsigned)nda_ld32(b + NDA_OFF_DATA_SIZE),
           (unsigned)nda_ld32(b + NDA_OFF_BSS_SIZE));
    printf("stack       %u bytes\nheap        %u bytes\nrelocations %u\n",
           (unsigned)nda_ld32(b + NDA_OFF_STACK_SIZE), (unsigned)nda_ld32(b + NDA_OFF_HEAP_SIZE),
           (unsigned)nda_ld32(b + NDA_OFF_RELOC_COUNT));
    uint32_t ni = nda_ld32(b + NDA_OFF_IMPORT_COUNT);
    const uint8_t *imp = b + n - (size_t)ni * NDA_IMPORT_SIZE;
    printf("imports    ");
    for (uint32_t i = 0; i < ni; i++)
        printf(" %s(%u)", (const char *)imp + i * NDA_IMPORT_SIZE + NDA_IMPORT_OFF_NAME,
               (unsigned)nda_ld32(imp + i * NDA_IMPORT_SIZE));
    printf("\n");
    free(arena);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "build"))
        return build(argc - 2, argv + 2);
    if (!strcmp(cmd, "link") && argc >= 5 && !strcmp(argv[3], "-o"))
        return link_obj(argv[2], argv[4]);
    if (!strcmp(cmd, "run"))
        return run(argc - 2, argv + 2);
    if (!strcmp(cmd, "dis"))
        return dis(argv[2]);
    if (!strcmp(cmd, "as"))
        return assemble(argc - 2, argv + 2);
    if (!strcmp(cmd, "info"))
        return info(argv[2]);
    return usage();
}
