/* tests/fuzz/nda_load_fuzz.c: libFuzzer target for the .nda loader and verifier.
 * Input byte 0 selects the mode: even = the rest is an .nda file as is (exercises header
 * and hash checks); odd = the hash is recomputed first, so mutations reach the field,
 * relocation, import and verifier checks.  A program that loads is then run on the
 * interpreter for at most 20 ms, which must end in a clean result under ASan/UBSan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/sha256.h"
#include "vm/nda_format.h"
#include "vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int seal = data[0] & 1;
    data++;
    size--;
    uint8_t *img = malloc(size ? size : 1);
    memcpy(img, data, size);
    if (seal && size >= NDA_HDR_SIZE) {
        uint8_t d[32];
        memset(img + NDA_OFF_SHA256, 0, 32);
        sha256(img, size, d);
        memcpy(img + NDA_OFF_SHA256, d, 32);
    }
    vm_load_opts lo = {0};
    lo.heap_size = 4096;
    size_t need = vm_arena_size_nda(img, size, &lo);
    if (need > (64u << 20))
        need = 0; /* absurd but legal sizes: exercise the arena-too-small path instead */
    void *arena = malloc(need ? need : 64);
    vm_fault f;
    vm_program *p = vm_load_nda(img, size, &lo, arena, need, &f);
    if (p) {
        vm_run_opts o = {0};
        o.engine = VM_ENGINE_INTERP;
        o.time_limit_ns = 20000000;
        vm_result r;
        vm_run(p, &o, &r);
    } else {
        char msg[256];
        vm_format_fault(&f, msg, sizeof msg);
    }
    free(arena);
    free(img);
    return 0;
}
