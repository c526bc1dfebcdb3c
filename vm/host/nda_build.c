/* vm/host/nda_build.c: converts a BPF ELF relocatable object (clang -target bpf -c) into an
 * .nda image, and writes .nda images.  Host only (uses malloc).
 *
 * Interface: nda_from_elf() and nda_write_image() (vm/host/nda_build.h).
 * What it does with the object:
 *   - code = every executable PROGBITS section, concatenated (8-byte slots);
 *   - rodata = .rodata*, data = .data*, bss = .bss* (each section aligned as it asks);
 *   - R_BPF_64_64 on lddw -> an NDA_RELOC_LDDW entry (the addend stays in the immediate);
 *   - R_BPF_64_ABS64 in rodata/data -> an NDA_RELOC_DATA64 entry;
 *   - R_BPF_64_32 on calls -> resolved here into a pc-relative local call (src=1);
 *   - helper calls (`call N`, src=0) -> imports named from the standard helper table;
 *   - the entry point is the global function `main`.
 * Undefined symbols are refused by name, with advice for the usual suspects (memset...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/sha256.h"
#include "vm/host/nda_build.h"
#include "vm/nda_format.h"
#include "vm/vm_internal.h"

/* ELF64 field offsets (System V gABI), read with the little-endian loaders. */
enum {
    EH_MACHINE = 18, EH_SHOFF = 40, EH_SHENTSIZE = 58, EH_SHNUM = 60, EH_SHSTRNDX = 62,
    SH_NAME = 0, SH_TYPE = 4, SH_FLAGS = 8, SH_OFFSET = 24, SH_SIZE = 32, SH_LINK = 40,
    SH_INFO = 44, SH_ADDRALIGN = 48, SH_ENTSIZE = 56, SH_SIZEOF = 64,
    ST_NAME = 0, ST_INFO = 4, ST_SHNDX = 6, ST_VALUE = 8, ST_SIZEOF = 24,
    R_OFFSET = 0, R_INFO = 8,
};
enum { SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_NOBITS = 8, SHT_REL = 9 };
enum { SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4 };
enum { EM_BPF = 247 };
enum { R_BPF_64_64 = 1, R_BPF_64_ABS64 = 2, R_BPF_64_ABS32 = 3, R_BPF_64_NODYLD32 = 4,
       R_BPF_64_32 = 10 };
#define MAX_SECTIONS 4096

typedef struct sec {
    const char *name;
    uint32_t type;
    uint64_t flags, off, size, align, link, info;
    int seg;          /* VM_SEG_* or -1 for code, 0 = not loaded */
    uint64_t base;    /* offset inside its segment (bytes) */
} sec;

typedef struct build {
    const uint8_t *e;
    size_t len;
    sec s[MAX_SECTIONS];
    uint32_t nsec;
    uint64_t seg_size[VM_SEG_COUNT + 1]; /* index 0 unused; VM_SEG_COUNT = code */
    uint8_t *code, *rodata, *data;
    uint8_t *relocs;
    uint32_t nrelocs, cap_relocs;
    char *err;
    size_t errlen;
} build;

#define SEG_CODE VM_SEG_COUNT

static int bfail(build *b, const char *fmt, const char *a)
{
    snprintf(b->err, b->errlen, fmt, a ? a : "");
    return -1;
}

static int in_file(build *b, uint64_t off, uint64_t size)
{
    return off <= b->len && size <= b->len - off;
}

static const char *str_at(build *b, uint32_t strsec, uint64_t off)
{
    if (strsec >= b->nsec)
        return "?";
    sec *s = &b->s[strsec];
    if (off >= s->size)
        return "?";
    const char *p = (const char *)b->e + s->off + off;
    if (!memchr(p, 0, s->size - off))
        return "?";
    return p;
}

static int add_reloc(build *b, uint32_t where, int kind, int seg, int in_seg)
{
    if (b->nrelocs == b->cap_relocs) {
        b->cap_relocs = b->cap_relocs ? b->cap_relocs * 2 : 64;
        b->relocs = realloc(b->relocs, (size_t)b->cap_relocs * NDA_RELOC_SIZE);
    }
    uint8_t *r = b->relocs + (size_t)b->nrelocs++ * NDA_RELOC_SIZE;
    memset(r, 0, NDA_RELOC_SIZE);
    nda_st32(r + NDA_RELOC_OFF_WHERE, where);
    r[NDA_RELOC_OFF_KIND] = (uint8_t)kind;
    r[NDA_RELOC_OFF_SEG] = (uint8_t)seg;
    r[NDA_RELOC_OFF_IN_SEG] = (uint8_t)in_seg;
    return 0;
}

static const char *advice(const char *name)
{
    if (!strcmp(name, "memset") || !strcmp(name, "memcpy") || !strcmp(name, "memmove") ||
        !strcmp(name, "memcmp"))
        return " (clang turned a loop into a library call; NDA programs have no C library: "
               "compile with -fno-builtin, which `nda build` does, or write the loop by hand)";
    return " (NDA programs can only call functions defined in the same file and the helpers "
           "declared in nda.h)";
}

/* Segment of a section by name: rodata, data, bss or code. */
static int classify(const sec *s)
{
    if (!(s->flags & SHF_ALLOC) || s->size == 0)
        return 0;
    if (s->flags & SHF_EXECINSTR)
        return s->type == SHT_PROGBITS ? SEG_CODE : 0;
    if (s->type == SHT_NOBITS)
        return VM_SEG_BSS;
    if (s->type != SHT_PROGBITS)
        return 0;
    if (!strncmp(s->name, ".rodata", 7))
        return VM_SEG_RODATA;
    if (!strncmp(s->name, ".data", 5))
        return VM_SEG_DATA;
    if (!strncmp(s->name, ".bss", 4))
        return VM_SEG_BSS;
    return (s->flags & SHF_WRITE) ? VM_SEG_DATA : VM_SEG_RODATA;
}

static int sym_info(build *b, const sec *symtab, uint32_t idx, const char **name,
                    uint32_t *shndx, uint64_t *value)
{
    if (idx >= symtab->size / ST_SIZEOF)
        return -1;
    const uint8_t *p = b->e + symtab->off + (uint64_t)idx * ST_SIZEOF;
    *name = str_at(b, (uint32_t)symtab->link, nda_ld32(p + ST_NAME));
    *shndx = nda_ld16(p + ST_SHNDX);
    *value = nda_ld64(p + ST_VALUE);
    if ((p[ST_INFO] & 0xf) == 3 && *shndx < b->nsec) /* STT_SECTION: name the section */
        *name = b->s[*shndx].name;
    return 0;
}

static int apply_rel(build *b, const sec *rel, const sec *symtab)
{
    sec *tgt = &b->s[rel->info];
    int tseg = tgt->seg;
    if (tseg == 0)
        return 0; /* relocations of debug info etc. */
    uint64_t n = rel->size / 16;
    for (uint64_t k = 0; k < n; k++) {
        const uint8_t *r = b->e + rel->off + k * 16;
        uint64_t off = nda_ld64(r + R_OFFSET), info = nda_ld64(r + R_INFO);
        uint32_t type = (uint32_t)info, symi = (uint32_t)(info >> 32);
        const char *name;
        uint32_t shndx;
        uint64_t value;
        char msg[300];
        if (sym_info(b, symtab, symi, &name, &shndx, &value))
            return bfail(b, "bad symbol index in relocation%s", NULL);
        if (shndx == 0 || shndx >= b->nsec || b->s[shndx].seg == 0) {
            snprintf(msg, sizeof msg, "undefined symbol '%s'%s", name, advice(name));
            return bfail(b, "%s", msg);
        }
        const sec *ss = &b->s[shndx];
        uint64_t sym_off = ss->base + value; /* offset inside the symbol's segment */
        if (off > tgt->size || tgt->size - off < 8)
            return bfail(b, "relocation outside its section%s", NULL);
        if (type == R_BPF_64_NODYLD32)
            continue;
        if (tseg == SEG_CODE) {
            uint8_t *w = b->code + tgt->base + off;
            uint32_t pc = (uint32_t)((tgt->base + off) / 8);
            if (type == R_BPF_64_64) {
                if (w[0] != OP_LDDW || tgt->size - off < 16)
                    return bfail(b, "R_BPF_64_64 not on a lddw%s", NULL);
                if (ss->seg == SEG_CODE)
                    return bfail(b, "taking the address of function '%s' is not supported", name);
                uint64_t add = (uint64_t)nda_ld32(w + 4) | (uint64_t)nda_ld32(w + 12) << 32;
                uint64_t v = sym_off + add;
                nda_st32(w + 4, (uint32_t)v);
                nda_st32(w + 12, (uint32_t)(v >> 32));
                add_reloc(b, pc, NDA_RELOC_LDDW, ss->seg, 0);
            } else if (type == R_BPF_64_32) {
                if (w[0] != OP_CALL || ss->seg != SEG_CODE)
                    return bfail(b, "R_BPF_64_32 not on a call to a function ('%s')", name);
                int32_t imm = (int32_t)nda_ld32(w + 4);
                int64_t target = (int64_t)(sym_off / 8) + imm + 1;
                nda_st32(w + 4, (uint32_t)(int32_t)(target - pc - 1));
                w[1] = (uint8_t)(w[1] & 0x0f) | (BPF_PSEUDO_LOCAL << 4);
            } else {
                snprintf(msg, sizeof msg, "unsupported relocation type %u in code", (unsigned)type);
                return bfail(b, "%s", msg);
            }
        } else if (type == R_BPF_64_ABS64) {
            if (tseg != VM_SEG_RODATA && tseg != VM_SEG_DATA)
                return bfail(b, "pointer relocation outside rodata/data%s", NULL);
            if (ss->seg == SEG_CODE)
                return bfail(b, "function pointers ('%s') are not supported", name);
            uint8_t *w = (tseg == VM_SEG_RODATA ? b->rodata : b->data) + tgt->base + off;
            nda_st64(w, nda_ld64(w) + sym_off);
            add_reloc(b, (uint32_t)(tgt->base + off), NDA_RELOC_DATA64, ss->seg, tseg);
        } else {
            snprintf(msg, sizeof msg, "unsupported data relocation type %u", (unsigned)type);
            return bfail(b, "%s", msg);
        }
    }
    return 0;
}

int nda_from_elf(const uint8_t *elf, size_t len, uint8_t **out, size_t *out_len, char *err,
                 size_t errlen)
{
    static build b;
    int rc = -1;
    memset(&b, 0, sizeof b);
    b.e = elf;
    b.len = len;
    b.err = err;
    b.errlen = errlen;
    if (len < 64 || memcmp(elf, "\x7f" "ELF\x02\x01", 6))
        return bfail(&b, "not a 64-bit little-endian ELF file%s", NULL);
    if (nda_ld16(elf + EH_MACHINE) != EM_BPF)
        return bfail(&b, "not a BPF object (compile with clang -target bpf)%s", NULL);
    uint64_t shoff = nda_ld64(elf + EH_SHOFF);
    uint32_t shnum = nda_ld16(elf + EH_SHNUM), shstr = nda_ld16(elf + EH_SHSTRNDX);
    if (nda_ld16(elf + EH_SHENTSIZE) != SH_SIZEOF || shnum > MAX_SECTIONS ||
        !in_file(&b, shoff, (uint64_t)shnum * SH_SIZEOF) || shstr >= shnum)
        return bfail(&b, "bad ELF section table%s", NULL);
    b.nsec = shnum;
    for (uint32_t i = 0; i < shnum; i++) {
        const uint8_t *h = elf + shoff + (uint64_t)i * SH_SIZEOF;
        sec *s = &b.s[i];
        s->type = nda_ld32(h + SH_TYPE);
        s->flags = nda_ld64(h + SH_FLAGS);
        s->off = nda_ld64(h + SH_OFFSET);
        s->size = nda_ld64(h + SH_SIZE);
        s->align = nda_ld64(h + SH_ADDRALIGN);
        s->link = nda_ld32(h + SH_LINK);
        s->info = nda_ld32(h + SH_INFO);
        (void)SH_ENTSIZE;
        if (s->type != SHT_NOBITS && s->type != 0 && !in_file(&b, s->off, s->size))
            return bfail(&b, "ELF section outside the file%s", NULL);
    }
    for (uint32_t i = 0; i < shnum; i++)
        b.s[i].name = str_at(&b, shstr, nda_ld32(elf + shoff + (uint64_t)i * SH_SIZEOF + SH_NAME));

    /* Lay sections out in their segments. */
    int symtab = -1;
    for (uint32_t i = 0; i < shnum; i++) {
        sec *s = &b.s[i];
        if (s->type == SHT_SYMTAB)
            symtab = (int)i;
        s->seg = classify(s);
        if (!s->seg)
            continue;
        uint64_t al = s->seg == SEG_CODE ? 8 : (s->align ? s->align : 1);
        if (al & (al - 1) || al > 4096)
            return bfail(&b, "odd section alignment in %s", s->name);
        if (s->seg == SEG_CODE && s->size % 8)
            return bfail(&b, "code section %s is not a whole number of instructions", s->name);
        s->base = (b.seg_size[s->seg] + al - 1) & ~(al - 1);
        b.seg_size[s->seg] = s->base + s->size;
    }
    if (symtab < 0)
        return bfail(&b, "no symbol table%s", NULL);
    if (b.seg_size[SEG_CODE] == 0)
        return bfail(&b, "no code%s", NULL);
    for (int sg = VM_SEG_RODATA; sg <= VM_SEG_BSS; sg++)
        if (b.seg_size[sg] > VM_MAX_SEG_SIZE)
            return bfail(&b, "a data segment is larger than 256 MiB%s", NULL);
    b.code = calloc(1, b.seg_size[SEG_CODE]);
    b.rodata = calloc(1, b.seg_size[VM_SEG_RODATA] + 1);
    b.data = calloc(1, b.seg_size[VM_SEG_DATA] + 1);
    for (uint32_t i = 0; i < shnum; i++) {
        sec *s = &b.s[i];
        uint8_t *dst = s->seg == SEG_CODE ? b.code : s->seg == VM_SEG_RODATA ? b.rodata
                     : s->seg == VM_SEG_DATA ? b.data : NULL;
        if (dst)
            memcpy(dst + s->base, elf + s->off, s->size);
    }
    for (uint32_t i = 0; i < shnum; i++) {
        sec *s = &b.s[i];
        if (s->type != SHT_REL)
            continue;
        if (s->info >= shnum || s->size % 16)
            goto out_bad_rel;
        if (apply_rel(&b, s, &b.s[symtab]))
            goto out;
    }

    /* Entry point: global function main. */
    const sec *st = &b.s[symtab];
    int64_t entry = -1;
    for (uint64_t k = 0; k < st->size / ST_SIZEOF; k++) {
        const char *name;
        uint32_t shndx;
        uint64_t value;
        sym_info(&b, st, (uint32_t)k, &name, &shndx, &value);
        if (!strcmp(name, "main") && shndx < shnum && b.s[shndx].seg == SEG_CODE)
            entry = (int64_t)((b.s[shndx].base + value) / 8);
    }
    if (entry < 0) {
        bfail(&b, "no function main() in the program%s", NULL);
        goto out;
    }

    /* Imports: every helper id the code calls, named from the standard table. */
    uint32_t ncode = (uint32_t)(b.seg_size[SEG_CODE] / 8);
    uint8_t used[VM_MAX_HELPERS] = {0};
    for (uint32_t pc = 0; pc < ncode; pc++) {
        const uint8_t *w = b.code + 8ull * pc;
        if (w[0] == OP_LDDW) {
            pc++;
            continue;
        }
        if (w[0] == OP_CALL && (w[1] >> 4) == BPF_PSEUDO_HELPER) {
            int32_t id = (int32_t)nda_ld32(w + 4);
            int found = 0;
            for (size_t h = 0; h < vm_std_helper_count; h++)
                found |= id >= 0 && vm_std_helpers[h].id == (uint32_t)id;
            if (!found) {
                char msg[64];
                snprintf(msg, sizeof msg, "call to unknown helper %d", (int)id);
                bfail(&b, "%s", msg);
                goto out;
            }
            used[id] = 1;
        }
    }
    nda_image img = {0};
    img.entry = (uint32_t)entry;
    img.code = b.code;
    img.code_count = ncode;
    img.rodata = b.rodata;
    img.rodata_size = (uint32_t)b.seg_size[VM_SEG_RODATA];
    img.data = b.data;
    img.data_size = (uint32_t)b.seg_size[VM_SEG_DATA];
    img.bss_size = (uint32_t)b.seg_size[VM_SEG_BSS];
    img.relocs = b.relocs;
    img.reloc_count = b.nrelocs;
    img.import_ids = used;
    rc = nda_write_image(&img, out, out_len);
    goto out;
out_bad_rel:
    bfail(&b, "bad relocation section%s", NULL);
out:
    free(b.code);
    free(b.rodata);
    free(b.data);
    free(b.relocs);
    return rc;
}

int nda_write_image(const nda_image *img, uint8_t **out, size_t *out_len)
{
    uint32_t nimp = 0;
    for (int id = 0; id < VM_MAX_HELPERS; id++)
        nimp += img->import_ids && img->import_ids[id];
    uint64_t size = NDA_HDR_SIZE + (uint64_t)img->code_count * 8 + img->rodata_size +
                    img->data_size + (uint64_t)img->reloc_count * NDA_RELOC_SIZE +
                    (uint64_t)nimp * NDA_IMPORT_SIZE;
    if (size > UINT32_MAX)
        return -1;
    uint8_t *f = calloc(1, size), *p = f;
    memcpy(p + NDA_OFF_MAGIC, NDA_MAGIC, 4);
    nda_st16(p + NDA_OFF_VERSION, NDA_VERSION);
    nda_st16(p + NDA_OFF_FLAGS, img->flags);
    nda_st32(p + NDA_OFF_HDR_SIZE, NDA_HDR_SIZE);
    nda_st32(p + NDA_OFF_FILE_SIZE, (uint32_t)size);
    nda_st32(p + NDA_OFF_ENTRY, img->entry);
    nda_st32(p + NDA_OFF_CODE_COUNT, img->code_count);
    nda_st32(p + NDA_OFF_RODATA_SIZE, img->rodata_size);
    nda_st32(p + NDA_OFF_DATA_SIZE, img->data_size);
    nda_st32(p + NDA_OFF_BSS_SIZE, img->bss_size);
    nda_st32(p + NDA_OFF_STACK_SIZE, VM_STACK_SIZE);
    nda_st32(p + NDA_OFF_HEAP_SIZE, img->heap_size);
    nda_st32(p + NDA_OFF_RELOC_COUNT, img->reloc_count);
    nda_st32(p + NDA_OFF_IMPORT_COUNT, nimp);
    p += NDA_HDR_SIZE;
    memcpy(p, img->code, (size_t)img->code_count * 8);
    p += (size_t)img->code_count * 8;
    if (img->rodata_size)
        memcpy(p, img->rodata, img->rodata_size);
    p += img->rodata_size;
    if (img->data_size)
        memcpy(p, img->data, img->data_size);
    p += img->data_size;
    if (img->reloc_count)
        memcpy(p, img->relocs, (size_t)img->reloc_count * NDA_RELOC_SIZE);
    p += (size_t)img->reloc_count * NDA_RELOC_SIZE;
    for (int id = 0; id < VM_MAX_HELPERS; id++) {
        if (!img->import_ids || !img->import_ids[id])
            continue;
        const char *name = NULL;
        for (size_t h = 0; h < vm_std_helper_count; h++)
            if (vm_std_helpers[h].id == (uint32_t)id)
                name = vm_std_helpers[h].name;
        nda_st32(p + NDA_IMPORT_OFF_ID, (uint32_t)id);
        snprintf((char *)p + NDA_IMPORT_OFF_NAME, NDA_IMPORT_NAME_MAX, "%s", name ? name : "?");
        p += NDA_IMPORT_SIZE;
    }
    nda_seal(f, size);
    *out = f;
    *out_len = size;
    return 0;
}

void nda_seal(uint8_t *f, size_t size)
{
    uint8_t d[32];
    memset(f + NDA_OFF_SHA256, 0, 32);
    sha256(f, size, d);
    memcpy(f + NDA_OFF_SHA256, d, 32);
}
