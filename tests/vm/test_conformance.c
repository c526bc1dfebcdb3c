/* tests/vm/test_conformance.c: runs every bpf_conformance .data case (directory in argv[1])
 * through vm/asm.c on every engine.  One check per case and engine; the suite missing, a case
 * that fails to assemble, load or run, or fewer than the expected number of files, all fail -
 * nothing is ever skipped.
 * Convention (suite README): r1 = private copy of `mem` (0 if none), r2 = its length,
 * helper 5 = unwind, `call %rN` = helper whose id is in rN. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/check.h"
#include "tests/vm/vmtest.h"
#include "vm/asm.h"

#define EXPECTED_CASES 313
#define MAX_INSNS 4096

typedef struct tcase {
    char asm_text[65536];
    size_t asm_len;
    uint64_t raw[MAX_INSNS];
    size_t n_raw;
    int has_raw;
    uint8_t mem[4096];
    size_t mem_len;
    int has_result;
    uint64_t result;
    char error[256];
} tcase;

static int parse_case(const char *text, tcase *c, char *why, size_t whylen)
{
    memset(c, 0, sizeof *c);
    enum { NONE, ASM, RAW, MEM, RESULT, ERROR, OTHER } sec = NONE;
    const char *s = text;
    char line[1024];
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, s, n);
        line[n] = 0;
        s = e ? e + 1 : s + n;
        if (strncmp(line, "-- ", 3) == 0) {
            const char *name = line + 3;
            sec = !strcmp(name, "asm") ? ASM : !strcmp(name, "raw") ? RAW
                : !strcmp(name, "mem") ? MEM : !strcmp(name, "result") ? RESULT
                : !strcmp(name, "error") ? ERROR : OTHER;
            if (sec == RAW)
                c->has_raw = 1;
            continue;
        }
        if (sec == ASM) {
            if (c->asm_len + n + 2 > sizeof c->asm_text) {
                snprintf(why, whylen, "asm too long");
                return 0;
            }
            memcpy(c->asm_text + c->asm_len, line, n);
            c->asm_len += n;
            c->asm_text[c->asm_len++] = '\n';
            continue;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *tok = strtok(line, " \t\r");
        for (; tok; tok = strtok(NULL, " \t\r")) {
            if (sec == RAW) {
                if (c->n_raw == MAX_INSNS)
                    return snprintf(why, whylen, "raw too long"), 0;
                c->raw[c->n_raw++] = strtoull(tok, NULL, 16);
            } else if (sec == MEM) {
                if (c->mem_len == sizeof c->mem)
                    return snprintf(why, whylen, "mem too long"), 0;
                c->mem[c->mem_len++] = (uint8_t)strtoul(tok, NULL, 16);
            } else if (sec == RESULT) {
                c->has_result = 1;
                c->result = strtoull(tok, NULL, 0);
            } else if (sec == ERROR) {
                snprintf(c->error, sizeof c->error, "%s", tok);
            }
        }
    }
    if (!c->has_result && !c->error[0])
        return snprintf(why, whylen, "no result section"), 0;
    return 1;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    b[n] = 0;
    fclose(f);
    return b;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/conformance/bpf_conformance/tests";
    DIR *d = opendir(dir);
    if (!check(d != NULL, "conformance suite found at %s", dir))
        return 1;
    char *names[1024];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".data") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp);
    check(n >= EXPECTED_CASES, "conformance suite has %d cases (expected %d)", n, EXPECTED_CASES);

    static tcase c;
    static uint64_t insns[MAX_INSNS];
    vm_engine engines[2];
    int ne = vmt_engines(engines);
    int passed[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        char path[1024], why[300] = "";
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *text = read_all(path);
        if (!text || !parse_case(text, &c, why, sizeof why)) {
            check(0, "conformance %s: unreadable: %s", names[i], why);
            free(text);
            continue;
        }
        free(text);
        size_t ni = 0;
        if (c.has_raw) {
            memcpy(insns, c.raw, c.n_raw * 8);
            ni = c.n_raw;
        } else if (vm_asm(c.asm_text, insns, MAX_INSNS, &ni, why, sizeof why) != 0) {
            for (int k = 0; k < ne; k++)
                check(0, "conformance %s [%s]: assembler: %s", names[i],
                      vmt_engine_name(engines[k]), why);
            continue;
        }
        for (int k = 0; k < ne; k++) {
            vmt_prog t;
            const char *en = vmt_engine_name(engines[k]);
            vm_err e = vmt_load_raw(&t, insns, ni, engines[k]);
            if (e) {
                char msg[256];
                check(0, "conformance %s [%s]: load: %s", names[i], en,
                      vm_format_fault(&t.fault, msg, sizeof msg));
                vmt_free(&t);
                continue;
            }
            uint8_t mem[4096];
            memcpy(mem, c.mem, c.mem_len);
            vm_run_opts ro = {0};
            ro.engine = engines[k];
            ro.time_limit_ns = 2000000000ull;
            if (c.mem_len) {
                ro.args[0] = (uint64_t)(uintptr_t)mem;
                ro.args[1] = c.mem_len;
                ro.extra[0] = (vm_region){(uint64_t)(uintptr_t)mem, c.mem_len, VM_READ | VM_WRITE};
                ro.n_extra = 1;
            }
            vm_result r;
            vm_host_run(t.p, &ro, &r);
            if (c.error[0]) {
                if (check(r.err != VM_OK, "conformance %s [%s]: fails as expected", names[i], en))
                    passed[k]++;
            } else if (r.err != VM_OK) {
                char msg[256];
                check(0, "conformance %s [%s]: %s", names[i], en,
                      vm_format_fault(&r.fault, msg, sizeof msg));
            } else if (r.r0 != c.result) {
                check(0, "conformance %s [%s]: r0 = 0x%llx, want 0x%llx", names[i], en,
                      (unsigned long long)r.r0, (unsigned long long)c.result);
            } else {
                check(1, "conformance %s [%s]", names[i], en);
                passed[k]++;
            }
            vmt_free(&t);
        }
    }
    for (int k = 0; k < ne; k++)
        check(passed[k] == n && n >= EXPECTED_CASES, "conformance all %d cases pass on %s (%d passed)",
              n, vmt_engine_name(engines[k]), passed[k]);
    for (int i = 0; i < n; i++)
        free(names[i]);
    return check_exit_status();
}
